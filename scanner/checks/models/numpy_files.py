"""numpy `.npy` headers: whether the array holds Python objects (a pickle follows the header).

numpy reads the header as a Python dict literal (`ast.literal_eval` here, never eval), and
for format versions 1 and 2 retries it with Python 2 longs (`2L`) removed; an object dtype
can be spelled many ways. Both are read as numpy reads them.
"""

from __future__ import annotations

import ast
import contextlib
import io
import struct
import tokenize
from typing import IO, BinaryIO

from scanner.checks.models.pickle_scan import scan_pickle
from scanner.checks.models.results import ContainerIssue, PickleMember
from scanner.infra.model_formats import NPY_MAGIC

NPY_MAX_HEADER = 1 << 20


def descr_has_object(descr: object) -> bool:
    """Whether numpy would build a dtype holding Python objects from this description.

    numpy spells the object type many ways (`O`, `|O`, `O8`, `object`, `object_`, a
    comma-separated `i4,O`, a field of a structured dtype, a `(base, shape)` subarray):
    any `O` or `object` in a type string counts; no plain numpy type name has either.
    """
    todo: list[object] = [descr]
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            if "O" in item or "object" in item.lower():
                return True
        elif isinstance(item, bytes):
            todo.append(item.decode("latin-1"))
        elif isinstance(item, list | tuple):
            todo.extend(item)
        elif isinstance(item, dict):
            todo.extend(item.keys())
            todo.extend(item.values())
    return False


def _strip_python2_longs(text: str) -> str:
    """numpy's _filter_header for version 1 / 2 headers: `2L` (Python 2) is read as `2`."""
    out: list[str] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.NAME and tok.string == "L" and out and out[-1][-1:].isdigit():
                continue
            out.append(tok.string)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return text
    return " ".join(out)


def npy_header(head: bytes) -> tuple[bool, int] | str:
    """(has object dtype, offset of the data) or a message saying what is wrong."""
    if not head.startswith(NPY_MAGIC) or len(head) < 10:
        return "not an .npy file (bad magic)"
    major = head[6]
    if major == 1:
        length, start = struct.unpack("<H", head[8:10])[0], 10
    elif major in (2, 3):
        if len(head) < 12:
            return "truncated .npy header"
        length, start = struct.unpack("<I", head[8:12])[0], 12
    else:
        return f"unknown .npy format version {major}"
    if length > NPY_MAX_HEADER or start + length > len(head):
        return "the .npy header is longer than the file or the limit"
    text = head[start : start + length].decode(
        "utf-8" if major == 3 else "latin-1", errors="replace"
    )
    try:
        # The header is a Python dict literal: literal_eval never calls or imports anything.
        header = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as err:
        header = None
        if major in (1, 2):  # numpy retries these with Python 2 longs removed
            with contextlib.suppress(
                ValueError, SyntaxError, TypeError, MemoryError, RecursionError
            ):
                header = ast.literal_eval(_strip_python2_longs(text.strip()))
        if header is None:
            return f"the .npy header is not a dict literal: {type(err).__name__}"
    if not isinstance(header, dict) or not {"descr", "fortran_order", "shape"} <= set(header):
        return "the .npy header lacks descr / fortran_order / shape"
    return descr_has_object(header["descr"]), start + length


def scan_npy(
    fh: BinaryIO | IO[bytes], member: str | None
) -> tuple[PickleMember | None, list[ContainerIssue]]:
    head = fh.read(NPY_MAX_HEADER + 16)
    info = npy_header(head)
    if isinstance(info, str):
        return None, [ContainerIssue("corrupt", info, member=member)]
    has_object, offset = info
    if not has_object:
        return None, []
    fh.seek(offset)
    return PickleMember(member, (scan_pickle(fh),)), []  # type: ignore[arg-type]
