"""Hypothesis strategies for malformed input: mutated seeds, random JSON, random TOML."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

from hypothesis import strategies as st

# Scalars a parser may not expect where it wants something else.
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(
        [
            "",
            "sha256:zz",
            "1.0",
            "==1.0",
            "../../etc/passwd",
            "\x00",
            "a" * 300,
            "https://evil.example/simple",
            "0" * 64,
        ]
    )
)

JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def perturbed(draw: st.DrawFn, seed: Any, rate: float = 0.15) -> Any:
    """`seed` with some of its values (at any depth) replaced by random JSON."""
    if draw(st.floats(0, 1)) < rate:
        return draw(JSON)
    if isinstance(seed, dict):
        out = {}
        for key, value in seed.items():
            if draw(st.floats(0, 1)) < rate / 3:
                continue  # a key goes missing
            out[key] = draw(perturbed(value, rate))
        if draw(st.floats(0, 1)) < rate / 3:
            out[draw(st.text(max_size=8))] = draw(JSON)
        return out
    if isinstance(seed, list):
        items = [draw(perturbed(v, rate)) for v in seed]
        if items and draw(st.floats(0, 1)) < rate / 3:
            items = items * draw(st.integers(2, 3))  # duplicated entries
        return items
    return seed


@st.composite
def byte_mutations(draw: st.DrawFn, seed: bytes) -> bytes:
    """`seed` with a few byte-level edits: cut, flip, insert, duplicate a slice."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["cut", "flip", "insert", "dup", "delete"]))
        pos = draw(st.integers(0, len(data))) if data else 0
        if op == "cut":
            del data[pos:]
        elif op == "flip" and pos < len(data):
            data[pos] = draw(st.integers(0, 255))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(max_size=16))
        elif op == "dup" and data:
            end = draw(st.integers(pos, min(len(data), pos + 64)))
            data[pos:pos] = data[pos:end]
        elif op == "delete" and pos < len(data):
            del data[pos : pos + draw(st.integers(1, 32))]
    return bytes(data)


def _toml_key(key: str) -> str:
    return json.dumps(key)


def toml_value(value: Any) -> str:
    """TOML text for a JSON-like value (None has no TOML form: an empty string instead)."""
    if value is None:
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON escapes are TOML basic-string escapes
    if isinstance(value, (dt.date, dt.time)):  # dt.datetime is a dt.date
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{_toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
        )
    raise TypeError(type(value))


def toml_document(data: dict[str, Any]) -> str:
    """A TOML document: every top-level key as `key = <inline value>`."""
    return "".join(f"{_toml_key(k)} = {toml_value(v)}\n" for k, v in data.items())
