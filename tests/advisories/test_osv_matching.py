"""OSV matching semantics on small hand-written records (scanner.checks.advisories.osv)."""

from __future__ import annotations

from typing import Any

import pytest

from scanner.checks.advisories.osv import (
    collapse_aliases,
    is_malicious,
    match_version,
    parse_record,
    parse_version,
    severity_of,
    smallest_clearing_upgrade,
)
from scanner.models import Severity


def record(
    rid: str = "PYSEC-0000-1",
    name: str = "demo",
    *,
    ranges: Any = None,
    versions: Any = None,
    **extra: Any,
) -> dict[str, Any]:
    affected: dict[str, Any] = {"package": {"ecosystem": "PyPI", "name": name}}
    if ranges is not None:
        affected["ranges"] = ranges
    if versions is not None:
        affected["versions"] = versions
    return {"id": rid, "modified": "2025-01-01T00:00:00Z", "affected": [affected], **extra}


def eco(*events: dict[str, str]) -> dict[str, Any]:
    return {"type": "ECOSYSTEM", "events": list(events)}


def matched(rec: dict[str, Any], version: str, name: str = "demo") -> bool:
    return bool(match_version([parse_record(rec)], name, version).matches)


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("0.9", False),
        ("1.0", True),
        ("1.5.post1", True),
        ("2.0rc1", True),
        ("2.0", False),
        ("2.0.post1", False),
    ],
)
def test_introduced_fixed(version: str, expected: bool) -> None:
    rec = record(ranges=[eco({"introduced": "1.0"}, {"fixed": "2.0"})])
    assert matched(rec, version) is expected


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1.4", True),
        ("1.4.0", True),
        ("1.4.0.post1", False),
        ("1.4.1", False),
        ("1.5a1", False),
    ],
)
def test_last_affected_is_inclusive(version: str, expected: bool) -> None:
    rec = record(ranges=[eco({"introduced": "0"}, {"last_affected": "1.4"})])
    assert matched(rec, version) is expected


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("0.5", True),
        ("1.0", False),
        ("1.5", False),
        ("2.0", True),
        ("2.9", True),
        ("3.0", False),
    ],
)
def test_several_introduced_fixed_pairs_in_one_range(version: str, expected: bool) -> None:
    rec = record(
        ranges=[eco({"introduced": "0"}, {"fixed": "1.0"}, {"introduced": "2.0"}, {"fixed": "3.0"})]
    )
    assert matched(rec, version) is expected


def test_events_out_of_order_are_sorted() -> None:
    rec = record(
        ranges=[eco({"fixed": "3.0"}, {"introduced": "2.0"}, {"fixed": "1.0"}, {"introduced": "0"})]
    )
    assert matched(rec, "2.5") and not matched(rec, "1.5") and not matched(rec, "3.0")


def test_limit_caps_the_range() -> None:
    rec = record(ranges=[eco({"introduced": "1.0"}, {"limit": "1.5"})])
    assert matched(rec, "1.2") and not matched(rec, "1.5") and not matched(rec, "9")


def test_several_ranges_and_several_affected_entries() -> None:
    rec = record(
        ranges=[
            eco({"introduced": "1.0"}, {"fixed": "1.1"}),
            eco({"introduced": "2.0"}, {"fixed": "2.1"}),
        ]
    )
    rec["affected"].append({"package": {"ecosystem": "PyPI", "name": "demo"}, "versions": ["5.0"]})
    rec["affected"].append({"package": {"ecosystem": "npm", "name": "demo"}, "versions": ["7.0"]})
    assert [matched(rec, v) for v in ("1.0", "1.1", "2.0", "2.1", "5.0", "7.0")] == [
        True,
        False,
        True,
        False,
        True,
        False,
    ]


def test_versions_list_only() -> None:
    rec = record(versions=["0.0.1", "0.0.3"])
    assert matched(rec, "0.0.1") and matched(rec, "0.0.3") and not matched(rec, "0.0.2")


def test_git_ranges_are_ignored() -> None:
    rec = record(
        ranges=[
            {
                "type": "GIT",
                "repo": "https://example.invalid/r",
                "events": [{"introduced": "0"}, {"fixed": "abc123"}],
            }
        ]
    )
    assert not matched(rec, "1.0")


def test_withdrawn_records_are_ignored() -> None:
    rec = record(versions=["1.0"], withdrawn="2025-02-01T00:00:00Z")
    assert not matched(rec, "1.0")


def test_names_are_pep503_normalised() -> None:
    rec = record(name="PyTorch_Lightning", ranges=[eco({"introduced": "0"}, {"fixed": "2"})])
    assert matched(rec, "1.0", name="pytorch-lightning")
    assert matched(rec, "1.0", name="PYTORCH_LIGHTNING")


def test_local_versions_match_as_their_public_version() -> None:
    rec = record(ranges=[eco({"introduced": "0"}, {"fixed": "2.5.0"})], versions=["2.4.0"])
    assert matched(rec, "2.4.0+cu121")
    assert not matched(rec, "2.5.0+cu121")
    assert parse_version("2.4.0+cu121") == (parse_version("2.4.0")[0], False)


def test_dirty_last_affected_is_read_as_its_release_with_a_note() -> None:
    rec = record(
        "PYSEC-2025-196", "torch", ranges=[eco({"introduced": "0"}, {"last_affected": "2.6.0-NA"})]
    )
    result = match_version([parse_record(rec)], "torch", "2.6.0")
    assert result.matches
    assert any("2.6.0-NA" in n and "read as 2.6.0" in n for n in result.notes)
    assert not match_version([parse_record(rec)], "torch", "2.6.1").matches


def test_unreadable_event_is_a_note_not_a_crash_and_versions_still_match() -> None:
    rec = record(
        ranges=[eco({"introduced": "0"}, {"last_affected": "2024-12-04"})], versions=["20240101"]
    )
    result = match_version([parse_record(rec)], "demo", "20240101")
    assert result.matches and result.matches[0].how == "versions"
    assert any("2024-12-04" in n and "not evaluated" in n for n in result.notes)
    assert not match_version([parse_record(rec)], "demo", "20250101").matches


def test_dirty_pinned_version_matches_by_exact_string() -> None:
    rec = record(versions=["0.1-bulbasaur", "v_05"])
    assert matched(rec, "0.1-bulbasaur") and matched(rec, "v_05")
    assert not matched(rec, "0.1-charmander")


def test_aliases_collapse_to_one_group_with_the_richest_primary() -> None:
    pysec = record("PYSEC-2025-1", versions=["1.0"], aliases=["CVE-2025-1", "GHSA-aaaa"])
    ghsa = record(
        "GHSA-aaaa",
        versions=["1.0"],
        aliases=["CVE-2025-1"],
        severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
    )
    other = record("PYSEC-2025-2", versions=["1.0"], aliases=["CVE-2025-2"])
    result = match_version([parse_record(r) for r in (pysec, ghsa, other)], "demo", "1.0")
    groups = collapse_aliases(result.matches)
    assert len(groups) == 2
    first = next(g for g in groups if "CVE-2025-1" in g.ids)
    assert first.primary.advisory.id == "GHSA-aaaa"  # the one with a score
    assert set(first.ids) == {"GHSA-aaaa", "PYSEC-2025-1", "CVE-2025-1"}


@pytest.mark.parametrize(
    ("vector", "expected"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Severity.CRITICAL),  # 9.8
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", Severity.HIGH),  # 7.5
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H", Severity.MEDIUM),  # 5.5
        ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", Severity.LOW),  # 1.6
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", Severity.CRITICAL),
    ],
)
def test_severity_from_cvss(vector: str, expected: Severity) -> None:
    kind = "CVSS_V4" if vector.startswith("CVSS:4") else "CVSS_V3"
    adv = parse_record(record(versions=["1"], severity=[{"type": kind, "score": vector}]))
    assert severity_of(adv)[0] is expected


def test_unscored_and_unreadable_vectors_fail_closed_as_high() -> None:
    assert severity_of(parse_record(record(versions=["1"])))[0] is Severity.HIGH
    bad = record(versions=["1"], severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/garbage"}])
    assert severity_of(parse_record(bad))[0] is Severity.HIGH


@pytest.mark.parametrize(
    "rec",
    [
        record("MAL-2025-1", versions=["1"]),
        record("PYSEC-1", versions=["1"], summary="Malicious code in demo (PyPI)"),
        record("PYSEC-2", versions=["1"], summary="demo 1 contains credential harvesting code"),
        record("GHSA-x", versions=["1"], database_specific={"malicious-packages-origins": [{}]}),
    ],
)
def test_malware_markers_are_critical(rec: dict[str, Any]) -> None:
    adv = parse_record(rec)
    assert is_malicious(adv) and severity_of(adv)[0] is Severity.CRITICAL


def test_affected_database_specific_marks_malware() -> None:
    rec = record("GHSA-y", versions=["1"])
    rec["affected"][0]["database_specific"] = {"type": "MALWARE"}
    assert is_malicious(parse_record(rec))


def test_vulnerability_talk_of_malicious_input_is_not_malware() -> None:
    rec = record(versions=["1"], summary="Jinja has a sandbox breakout through malicious filenames")
    assert not is_malicious(parse_record(rec))


def test_smallest_upgrade_clears_every_advisory() -> None:
    recs = [
        parse_record(r)
        for r in (
            record("A", ranges=[eco({"introduced": "0"}, {"fixed": "1.1"})]),
            record("B", ranges=[eco({"introduced": "0"}, {"fixed": "1.3"})]),
            record("C", ranges=[eco({"introduced": "1.3"}, {"fixed": "1.4"})]),
        )
    ]
    assert smallest_clearing_upgrade(recs, "demo", "1.0") == "1.4"
    recs.append(parse_record(record("D", ranges=[eco({"introduced": "1.4"})])))
    assert smallest_clearing_upgrade(recs, "demo", "1.0") is None


def test_malformed_records_raise_valueerror() -> None:
    with pytest.raises(ValueError, match="id"):
        parse_record({"modified": "x"})
    with pytest.raises(ValueError, match="affected"):
        parse_record({"id": "X", "modified": "x", "affected": "nope"})
