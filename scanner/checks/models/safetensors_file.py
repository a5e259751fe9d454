"""safetensors headers, validated against the buffer they index (nothing else is read)."""

from __future__ import annotations

import json
import struct
from typing import IO, BinaryIO

SAFETENSORS_MAX_HEADER = 100_000_000  # the limit the safetensors library itself enforces
SAFETENSORS_DTYPE_BITS = {
    "BOOL": 8,
    "U8": 8,
    "I8": 8,
    "F8_E5M2": 8,
    "F8_E4M3": 8,
    "F8_E8M0": 8,
    "I16": 16,
    "U16": 16,
    "F16": 16,
    "BF16": 16,
    "I32": 32,
    "U32": 32,
    "F32": 32,
    "F64": 64,
    "I64": 64,
    "U64": 64,
    "C64": 64,
    "F4": 4,
    "F6_E2M3": 6,
    "F6_E3M2": 6,
}


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key in the header")
    return dict(pairs)


def validate_safetensors(fh: BinaryIO | IO[bytes], size: int) -> list[str]:
    """Problems with a safetensors header, [] when it is valid. Reads only the header.

    Checks: the 8-byte little-endian header size is bounded and inside the file; the header
    is a UTF-8 JSON object without duplicate keys; each tensor has a known dtype, a shape of
    non-negative ints and offsets whose span is shape x dtype size; spans neither overlap
    nor leave holes, and together cover the whole data buffer.
    """
    prefix = fh.read(8)
    if len(prefix) < 8:
        return ["shorter than the 8-byte header size"]
    n = struct.unpack("<Q", prefix)[0]
    if n > SAFETENSORS_MAX_HEADER:
        return [f"header size {n} is over the {SAFETENSORS_MAX_HEADER}-byte limit"]
    if 8 + n > size:
        return [f"header size {n} runs past the end of the file ({size} bytes)"]
    raw = fh.read(n)
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        return [f"header is not valid UTF-8 JSON: {err}"]
    if not isinstance(header, dict):
        return ["header is not a JSON object"]
    buffer = size - 8 - n
    problems: list[str] = []
    spans: list[tuple[int, int, str]] = []
    for name, entry in header.items():
        if name == "__metadata__":
            if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
                problems.append("__metadata__ must map strings to strings")
            continue
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            problems.append(f"tensor {name!r} must have exactly dtype, shape and data_offsets")
            continue
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        bits = SAFETENSORS_DTYPE_BITS.get(dtype) if isinstance(dtype, str) else None
        if bits is None:
            problems.append(f"tensor {name!r} has an unknown dtype {dtype!r}")
            continue
        if not isinstance(shape, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
        ):
            problems.append(f"tensor {name!r} has a bad shape {shape!r}")
            continue
        if not (
            isinstance(offsets, list)
            and len(offsets) == 2
            and all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
        ):
            problems.append(f"tensor {name!r} has bad data_offsets {offsets!r}")
            continue
        begin, end = offsets
        if not 0 <= begin <= end <= buffer:
            problems.append(
                f"tensor {name!r} offsets {begin}..{end} are outside the {buffer}-byte buffer"
            )
            continue
        numel = 0 if 0 in shape else 1
        for d in shape:
            numel *= d
            if numel * bits > 8 * buffer:  # cannot fit: stop before the product explodes
                break
        if numel * bits % 8 or numel * bits // 8 != end - begin:
            # A hostile shape ([10**18] * 20) overflows a float: say so without one.
            need = (
                f"{numel * bits / 8:g}" if numel * bits <= 8 * buffer else f"more than the {buffer}"
            )
            problems.append(
                f"tensor {name!r}: {dtype} {str(shape)[:80]} needs {need} "
                f"bytes but its offsets span {end - begin}"
            )
            continue
        spans.append((begin, end, name))
    if problems:
        return problems
    spans.sort()
    cursor = 0
    for begin, end, name in spans:
        if begin < cursor:
            problems.append(f"tensor {name!r} overlaps the tensor before it")
        elif begin > cursor:
            problems.append(
                f"{begin - cursor} bytes before tensor {name!r} belong to no tensor (hidden data?)"
            )
        cursor = max(cursor, end)
    if cursor != buffer:
        problems.append(
            f"{buffer - cursor} bytes after the last tensor belong to no tensor (hidden data?)"
        )
    return problems
