"""Hostile bytes never escape the walker as an exception, and never take long."""

from __future__ import annotations

import io
import pickle
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.checks.models.model_files import validate_safetensors
from scanner.checks.models.pickle_scan import scan_pickle_bytes, scan_pickles
from tests.models import picklekit as kit

SEEDS = [
    kit.torch_like_state_dict(),
    kit.os_system(),
    kit.malicious_samples()["nested_pickle"],
    pickle.dumps({"a": [1, 2.5, "x", b"y", (None, True)]}, protocol=0),
    kit.malicious_samples()["memo_stack_global"],
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(SEEDS),
    cuts=st.lists(st.tuples(st.integers(0, 400), st.binary(max_size=8)), max_size=4),
)
def test_mutated_pickles_never_raise(seed: bytes, cuts: list[tuple[int, bytes]]) -> None:
    data = bytearray(seed)
    for at, junk in cuts:
        at %= len(data) + 1
        data[at : at + len(junk)] = junk
    start = time.perf_counter()
    scans = scan_pickles(io.BytesIO(bytes(data)))
    assert scans and time.perf_counter() - start < 2


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise(data: bytes) -> None:
    scan_pickle_bytes(data)
    validate_safetensors(io.BytesIO(data), len(data))


def test_hostile_joblib_dtype_digits() -> None:
    # A dtype string of 5000 digits: int() refuses it; the walk must report, not raise.
    state = (
        kit.EMPTY_DICT
        + kit.MARK
        + kit.ustr("shape")
        + kit.binint(1)
        + kit.TUPLE1[0:0]
        + b"\x85"
        + kit.ustr("dtype")
        + kit.call("numpy", "dtype", kit.ustr("f" + "9" * 5000))
        + kit.SETITEMS
    )
    data = kit.program(
        kit.glob("joblib.numpy_pickle", "NumpyArrayWrapper")
        + kit.EMPTY_TUPLE
        + kit.NEWOBJ
        + state
        + kit.BUILD,
        4,
    )
    scan = scan_pickle_bytes(data)
    assert scan.broken


def test_bad_escapes_in_protocol0_strings_do_not_warn() -> None:
    # escape_decode warns on '\c'; pytest turns warnings into errors here, so this fails loudly
    # if the walker ever lets one through.
    scan = scan_pickle_bytes(b"(S'a\\c'\np0\n.")
    assert scan.opcodes >= 2


def test_corrupt_compressed_stream_keeps_what_came_before(tmp_path) -> None:
    import zlib

    from scanner.checks.models.model_files import scan_model_file

    raw = kit.os_system(protocol=2)[:-1] + b"\x00" * 4096  # payload, then more stream
    packed = bytearray(zlib.compress(raw))
    packed[len(packed) // 2 :] = b"\xff" * (len(packed) - len(packed) // 2)  # corrupt the tail
    path = tmp_path / "model.joblib"
    path.write_bytes(bytes(packed))
    scan = scan_model_file(path)  # never raises: broken, or corrupt, but reported
    assert scan.pickles or scan.issues
