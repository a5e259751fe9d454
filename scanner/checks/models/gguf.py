"""GGUF (llama.cpp) files: the header and metadata, never the tensors; chat templates judged.

GGUF holds no pickle, but its metadata carries `tokenizer.chat_template` (and named
`tokenizer.chat_template.<name>` variants): a Jinja program that front-ends render for every
request. llama-cpp-python rendered it in an unsandboxed Jinja environment
(CVE-2024-34359, "Llama Drama"), so a template that climbs from a string to
`__class__.__mro__[1].__subclasses__()` or `cycler.__init__.__globals__.os` runs code on
the server. Real chat templates loop over messages, test roles, trim strings, call
`raise_exception` and `tojson`: they never touch dunder attributes, the `attr` filter or
Jinja's global helpers (`cycler`, `joiner`, `lipsum`), and never reach os / subprocess /
builtins. Those are what is flagged.

Layout (github.com/ggml-org/ggml docs/gguf.md): `GGUF`, uint32 version (1-3), tensor count
and metadata count (uint32 in version 1, uint64 after), then key/value pairs: a string key,
a uint32 type, the value. Strings are a length (uint32 in v1, uint64 after) and UTF-8 bytes.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import BinaryIO

from scanner.infra.model_formats import GGUF_MAGIC

MAX_KV = 1 << 20
MAX_STRING = 64 << 20
MAX_ARRAY = 1 << 28
CHAT_TEMPLATE_KEY = "tokenizer.chat_template"
# value type -> struct format of a scalar (8 = string, 9 = array)
SCALARS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
STRING, ARRAY = 8, 9

# Inside `{{ }}` / `{% %}`: what chat templates never need and SSTI payloads always do.
TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
DUNDER = re.compile(r"__\w*__|__")
SUSPICIOUS_NAMES = frozenset(
    {
        "mro",
        "subclasses",
        "globals",
        "builtins",
        "import",
        "import_module",
        "popen",
        "system",
        "subprocess",
        "os",
        "eval",
        "exec",
        "compile",
        "getattr",
        "setattr",
        "open",
        "cycler",
        "joiner",
        "lipsum",
        "self",
        "config",
        "request",
        "application",
        "func_globals",
        "gi_frame",
        "f_globals",
        "f_back",
    }
)
STRING_LITERAL = re.compile(r"""(['"])(.*?)\1""", re.S)
WHOLE_DUNDER = re.compile(r"_{2}\w*_{2}|_+")
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
ATTR_FILTER = re.compile(r"\|\s*attr\b|\battr\s*\(")
ESCAPES = re.compile(r"\\x([0-9a-fA-F]{2})|\\u([0-9a-fA-F]{4})|\\([0-7]{1,3})")


@dataclass(frozen=True, slots=True)
class GgufInfo:
    version: int
    tensors: int
    metadata: int
    templates: tuple[tuple[str, str], ...]
    """(key, template) for every chat template in the metadata."""
    architecture: str | None = None


class GgufError(ValueError):
    """The header or metadata is malformed."""


class _Reader:
    def __init__(self, fh: BinaryIO, size: int) -> None:
        self.fh = fh
        self.size = size

    def exact(self, n: int) -> bytes:
        if n < 0 or self.fh.tell() + n > self.size:
            raise GgufError(f"a {n}-byte field runs past the end of the file")
        data = self.fh.read(n)
        if len(data) != n:
            raise GgufError("the file ends inside the metadata")
        return data

    def unpack(self, fmt: str) -> int | float | bool:
        value: int | float | bool = struct.unpack(fmt, self.exact(struct.calcsize(fmt)))[0]
        return value

    def skip(self, n: int) -> None:
        if n < 0 or self.fh.tell() + n > self.size:
            raise GgufError(f"a {n}-byte field runs past the end of the file")
        self.fh.seek(n, 1)


def _length(r: _Reader, version: int) -> int:
    return int(r.unpack("<I" if version == 1 else "<Q"))


def _string(r: _Reader, version: int, keep: bool) -> str | None:
    n = _length(r, version)
    if n > MAX_STRING:
        raise GgufError(f"a {n}-byte string is over the limit")
    if not keep:
        r.skip(n)
        return None
    return r.exact(n).decode("utf-8", errors="replace")


def _skip_value(r: _Reader, version: int, kind: int, depth: int = 0) -> None:
    if kind in SCALARS:
        r.skip(struct.calcsize(SCALARS[kind]))
    elif kind == STRING:
        _string(r, version, keep=False)
    elif kind == ARRAY:
        if depth > 4:
            raise GgufError("arrays nested too deep")
        inner = int(r.unpack("<I"))
        count = _length(r, version)
        if count > MAX_ARRAY:
            raise GgufError(f"an array of {count} items is over the limit")
        if inner in SCALARS:
            r.skip(count * struct.calcsize(SCALARS[inner]))
        else:
            for _ in range(count):
                _skip_value(r, version, inner, depth + 1)
    else:
        raise GgufError(f"unknown metadata value type {kind}")


def read_gguf(fh: BinaryIO, size: int) -> GgufInfo:
    """The header and metadata of a GGUF file; raises GgufError when malformed."""
    r = _Reader(fh, size)
    if r.exact(4) != GGUF_MAGIC:
        raise GgufError("not a GGUF file")
    version = int(r.unpack("<I"))
    if version not in (1, 2, 3):
        raise GgufError(f"unknown GGUF version {version}")
    tensors = _length(r, version)
    count = _length(r, version)
    if count > MAX_KV:
        raise GgufError(f"{count} metadata entries is over the limit")
    templates: list[tuple[str, str]] = []
    architecture: str | None = None
    for _ in range(count):
        key = _string(r, version, keep=True) or ""
        kind = int(r.unpack("<I"))
        wanted = key == CHAT_TEMPLATE_KEY or key.startswith(CHAT_TEMPLATE_KEY + ".")
        if kind == STRING and (wanted or key == "general.architecture"):
            value = _string(r, version, keep=True) or ""
            if wanted:
                templates.append((key, value))
            else:
                architecture = value
        else:
            _skip_value(r, version, kind)
    return GgufInfo(version, tensors, count, tuple(templates), architecture)


def _unescape(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        code = m.group(1) or m.group(2)
        return chr(int(code, 16)) if code else chr(int(m.group(3), 8))

    return ESCAPES.sub(one, text)


def template_problems(template: str) -> list[str]:
    """What a chat template reaches that chat templates do not: dunders, the attr filter,
    Jinja's global helpers, os / builtins. [] for an ordinary template."""
    problems: list[str] = []
    for tag in TAG.findall(template):
        code = _unescape(tag)
        # '__cla' ~ 'ss__' builds a dunder at run time: join adjacent string pieces
        joined = re.sub(r"""['"]\s*(?:~|\+)\s*['"]""", "", code)
        literals = [m.group(2) for m in STRING_LITERAL.finditer(joined)]
        bare = STRING_LITERAL.sub(" ", joined)  # `'system'` as a role name is data
        if (
            DUNDER.search(bare)
            or any(WHOLE_DUNDER.fullmatch(s) for s in literals)
            or re.search(r"""['"]_['"]\s*\*\s*\d""", code)
        ):
            problems.append(f"reaches a dunder attribute: {tag[:120]}")
        elif ATTR_FILTER.search(bare):
            problems.append(f"uses the attr filter: {tag[:120]}")
        else:
            names = {n.lower() for n in IDENT.findall(bare)} & SUSPICIOUS_NAMES
            if names:
                problems.append(f"reaches {', '.join(sorted(names))}: {tag[:120]}")
        if len(problems) >= 5:
            break
    return problems
