"""The pickle walker: every bypass family resolved, broken streams kept, nothing loaded."""

from __future__ import annotations

import io
import pickle
import pickletools

import pytest

from scanner.checks.models.check import default_policy, judge_model
from scanner.checks.models.model_files import ModelScan, PickleMember
from scanner.checks.models.pickle_scan import scan_pickle, scan_pickle_bytes, scan_pickles
from scanner.models import Severity
from tests.models import picklekit as kit

MALICIOUS = kit.malicious_samples()


def _judge(data: bytes) -> list[tuple[str, Severity]]:
    from pathlib import Path

    scan = ModelScan(Path("m.pkl"), "pickle", (PickleMember(None, scan_pickles(io.BytesIO(data))),))
    return [(f.rule_id, f.severity) for f in judge_model(scan, default_policy())]


@pytest.mark.parametrize("name", sorted(MALICIOUS))
def test_every_bypass_family_is_blocked_as_critical(name: str) -> None:
    findings = _judge(MALICIOUS[name])
    assert any(sev == Severity.CRITICAL for _, sev in findings), (name, findings)


def test_os_system_resolves_with_its_call_offset() -> None:
    scan = scan_pickle_bytes(kit.os_system())
    (g,) = scan.globals
    assert (g.module, g.name, g.opcode, g.called) == ("posix", "system", "STACK_GLOBAL", True)
    assert g.call_offset is not None and g.call_offset > g.offset
    assert [c.opcode for c in scan.calls] == ["REDUCE"]
    assert not scan.broken and scan.end == len(kit.os_system())


@pytest.mark.parametrize("protocol", range(0, 6))
def test_every_protocol(protocol: int) -> None:
    scan = scan_pickle_bytes(kit.os_system(protocol=protocol))
    assert [g.qualname for g in scan.globals] == ["posix.system"]
    assert scan.globals[0].called
    assert scan.protocol == (protocol if protocol >= 2 else 0)


def test_memo_built_names_resolve_through_get() -> None:
    scan = scan_pickle_bytes(MALICIOUS["memo_stack_global"])
    assert [g.qualname for g in scan.globals] == ["os.system"]
    assert scan.globals[0].called


def test_a_name_built_at_run_time_is_unresolved() -> None:
    scan = scan_pickle_bytes(MALICIOUS["computed_stack_global"])
    unresolved = [g for g in scan.globals if not g.resolved]
    assert unresolved and unresolved[0].name == "system"
    assert ("WS-PICKLE-001", Severity.CRITICAL) in _judge(MALICIOUS["computed_stack_global"])


def test_python2_names_are_mapped_and_remembered() -> None:
    (g,) = scan_pickle_bytes(MALICIOUS["python2_builtin_names"]).globals
    assert g.qualname == "builtins.eval" and g.written_as == "__builtin__.eval"


def test_inst_imports_and_calls() -> None:
    (g,) = scan_pickle_bytes(MALICIOUS["inst_protocol0"]).globals
    assert (g.qualname, g.opcode, g.called) == ("os.system", "INST", True)


def test_nested_pickle_is_walked_and_named() -> None:
    scan = scan_pickle_bytes(MALICIOUS["nested_pickle"])
    (inner,) = scan.nested
    assert inner.passed_to == "pickle.loads"
    assert [g.qualname for g in inner.scan.globals] == ["posix.system"]
    assert {g.qualname for g in scan.all_globals()} == {"pickle.loads", "posix.system"}


def test_build_on_a_global_is_an_anomaly() -> None:
    findings = _judge(MALICIOUS["build_on_global"])
    assert ("WS-PICKLE-004", Severity.CRITICAL) in findings
    assert ("WS-PICKLE-001", Severity.CRITICAL) in findings  # os.system in the state


def test_attribute_walk_through_an_allowed_module_is_dangerous() -> None:
    assert ("WS-PICKLE-001", Severity.CRITICAL) in _judge(MALICIOUS["attribute_walk"])


def test_nullifai_payload_before_the_break_is_kept() -> None:
    scan = scan_pickle_bytes(MALICIOUS["nullifai_broken"])
    assert scan.broken and scan.calls_before_break
    assert [g.qualname for g in scan.globals] == ["posix.system"]
    assert ("WS-PICKLE-003", Severity.CRITICAL) in _judge(MALICIOUS["nullifai_broken"])


@pytest.mark.parametrize("cut", [1, 2, 5, 10, 20])
def test_truncated_streams_never_crash(cut: int) -> None:
    data = kit.torch_like_state_dict()[:-cut]
    scan = scan_pickle_bytes(data)
    assert scan.broken and scan.error_offset is not None
    rules = _judge(data)
    assert ("WS-PICKLE-003", Severity.CRITICAL if scan.calls else Severity.HIGH) in rules


def test_truncated_without_calls_is_high() -> None:
    data = pickle.dumps({"a": [1, 2, 3]}, protocol=2)[:-3]
    assert _judge(data) == [("WS-PICKLE-003", Severity.HIGH)]


def test_garbage_is_broken_not_an_exception() -> None:
    for junk in (b"", b"\x80", b"\x80\x09", b"\xff\xfe", b"c" + b"a" * 100, b"(((((((."):
        scan = scan_pickle_bytes(junk)
        assert scan.broken


def test_vm_errors_keep_reading_globals_after_the_break() -> None:
    # REDUCE on an empty stack is fatal to the real unpickler; the GLOBAL after it is still
    # reported, so a payload cannot hide behind a deliberate stack error.
    data = kit.proto(2) + kit.REDUCE + kit.glob("os", "system") + kit.STOP
    scan = scan_pickle_bytes(data)
    assert scan.broken and [g.qualname for g in scan.globals] == ["os.system"]


def test_benign_torch_shaped_pickle_has_no_finding() -> None:
    data = kit.torch_like_state_dict()
    pickletools.dis(data, out=io.StringIO())  # well-formed for the standard disassembler too
    assert _judge(data) == []


def test_plain_data_pickles_have_no_finding() -> None:
    value = {
        "a": [1, 2.5, None, True],
        "b": (b"x", "y"),
        "c": {1, 2},
        "d": frozenset({3}),
        "e": bytearray(b"z"),
        "f": complex(1, 2),
        "g": slice(1, 2),
    }
    for protocol in range(0, 6):
        assert _judge(pickle.dumps(value, protocol=protocol)) == [], protocol


def test_large_literals_are_skipped_unread() -> None:
    blob = b"\x01" * (40 << 20)
    data = pickle.dumps({"w": blob, "after": kit._Reduce(print, ())}, protocol=4)
    scan = scan_pickle_bytes(data)
    assert scan.skipped_literals == 1 and not scan.broken
    assert [g.qualname for g in scan.globals] == ["builtins.print"]


def test_consecutive_pickles_are_all_walked() -> None:
    stream = io.BytesIO(pickle.dumps(1, protocol=2) + kit.os_system() + b"\x00raw tensor bytes")
    scans = scan_pickles(stream)
    assert len(scans) == 2 and scans[1].globals[0].qualname == "posix.system"


def test_scan_leaves_the_stream_after_stop() -> None:
    first = pickle.dumps([1, 2], protocol=2)
    stream = io.BytesIO(first + b"tail")
    scan = scan_pickle(stream)
    assert scan.end == len(first) and stream.read() == b"tail"


def test_protocol2_bytes_through_codecs_encode_are_walked() -> None:
    inner = kit.os_system(protocol=2).decode("latin-1")
    encoded = kit.call(
        "_codecs",
        "encode",
        b"X" + len(inner.encode()).to_bytes(4, "little") + inner.encode(),
        kit.ustr("latin1"),
    )
    data = kit.program(kit.glob("pickle", "loads") + kit.MARK + encoded + kit.TUPLE + kit.REDUCE, 2)
    scan = scan_pickle_bytes(data)
    (nested,) = scan.nested
    assert nested.passed_to == "pickle.loads"
    assert [g.qualname for g in nested.scan.globals] == ["posix.system"]


def test_containers_are_not_kept_whole() -> None:
    data = pickle.dumps([list(range(1000)) for _ in range(200)], protocol=4)
    scan = scan_pickle_bytes(data)
    assert not scan.broken and scan.globals == ()
