"""Constant values as the folder sees them (`UNKNOWN` when it cannot compute one), the
bounded in-memory decoders it applies to literals, and the record of a local decoder
wrapper. Nothing here runs the code it reads."""

from __future__ import annotations

import ast
import base64
import binascii
import bz2
import codecs
import lzma
import zlib
from dataclasses import dataclass

MAX_FOLD = 4 << 20
"""Largest constant (bytes or characters) the folder builds or decodes."""


class _Unknown:
    """Marker for a value the folder could not compute."""


UNKNOWN = _Unknown()
Value = str | bytes | int | list[object] | _Unknown


def _decode_bytes(name: str, data: bytes | str, extra: list[object]) -> str | bytes | _Unknown:
    """Run one decoder on a literal, in memory, bounded. Never runs code."""
    raw = data.encode("latin-1", "ignore") if isinstance(data, str) else data
    if len(raw) > MAX_FOLD:
        return UNKNOWN
    try:
        if name in (
            "base64.b64decode",
            "base64.decodebytes",
            "base64.decodestring",
            "base64.standard_b64decode",
            "binascii.a2b_base64",
        ):
            return base64.b64decode(raw + b"=" * (-len(raw.strip()) % 4))
        if name == "base64.urlsafe_b64decode":
            return base64.urlsafe_b64decode(raw + b"=" * (-len(raw.strip()) % 4))
        if name == "base64.b32decode":
            return base64.b32decode(raw)
        if name == "base64.b16decode":
            return base64.b16decode(raw, casefold=True)
        if name == "base64.b85decode":
            return base64.b85decode(raw)
        if name == "base64.a85decode":
            return base64.a85decode(raw)
        if name in ("binascii.unhexlify", "binascii.a2b_hex", "bytes.fromhex"):
            return bytes.fromhex(raw.decode("ascii", "ignore").replace(" ", ""))
        if name in ("zlib.decompress", "gzip.decompress"):
            d = zlib.decompressobj(47)  # 47: accept zlib and gzip headers
            return d.decompress(raw, MAX_FOLD)
        if name == "lzma.decompress":
            return lzma.LZMADecompressor().decompress(raw, MAX_FOLD)
        if name == "bz2.decompress":
            return bz2.BZ2Decompressor().decompress(raw, MAX_FOLD)
        if name == "codecs.decode":
            enc = extra[0] if extra and isinstance(extra[0], str) else "utf-8"
            enc = enc.lower().replace("-", "_")
            if enc in ("rot13", "rot_13"):
                text = data if isinstance(data, str) else data.decode("latin-1")
                return codecs.decode(text, "rot13")
            if enc in ("base64", "hex", "zlib", "bz2", "base_64", "hex_codec", "zlib_codec"):
                return codecs.decode(raw, enc)
            return raw.decode(enc, "replace")
    except (
        ValueError,
        TypeError,
        binascii.Error,
        lzma.LZMAError,
        OSError,
        zlib.error,
        LookupError,
        EOFError,
    ):
        return UNKNOWN
    return UNKNOWN


def _as_text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return None


@dataclass(frozen=True, slots=True)
class _DecoderWrapper:
    """A local function that decodes its argument: enough to fold a call on a literal."""

    decoder: str
    """The library decoder it applies (the fallback when its body cannot be folded)."""
    param: str
    returns: ast.expr
    local: dict[str, ast.AST]
    """Its own assignments, for the names the returned expression reads."""


def _first_param(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """The first parameter that is not `self` / `cls`."""
    names = [a.arg for a in (*node.args.posonlyargs, *node.args.args)]
    if names and names[0] in ("self", "cls"):
        names = names[1:]
    return names[0] if names else None


def _int_op(op: ast.operator, a: int, b: int) -> int:
    if isinstance(op, ast.Sub):
        return a - b
    if isinstance(op, ast.Mult):
        return a * b
    if isinstance(op, ast.LShift) and b < 64:
        return a << b
    if isinstance(op, ast.RShift):
        return a >> b
    if isinstance(op, ast.BitOr):
        return a | b
    if isinstance(op, ast.BitAnd):
        return a & b
    if isinstance(op, ast.BitXor):
        return a ^ b
    if isinstance(op, ast.FloorDiv):
        return a // b
    if isinstance(op, ast.Mod):
        return a % b
    if isinstance(op, ast.Add):
        return a + b
    raise ValueError("unsupported")
