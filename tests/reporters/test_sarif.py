"""SARIF 2.1.0: valid against the OASIS schema, and shaped the way GitHub code scanning reads it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from scanner.catalog import load_catalog
from scanner.cli import main
from scanner.models import Finding, Severity, Skipped
from scanner.reporters.sarif import SECURITY_SEVERITY, render_sarif, sarif_level, sarif_log
from tests.reporters.conftest import HOSTILE, every_severity, make_report


def sarif(report: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(render_sarif(report))
    return data


def assert_valid(validator: Any, data: dict[str, Any]) -> None:
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def test_every_severity_is_valid_and_mapped(sarif_validator: Any) -> None:
    data = sarif(make_report(every_severity()))
    assert_valid(sarif_validator, data)
    run = data["runs"][0]
    assert data["version"] == "2.1.0"
    driver = run["tool"]["driver"]
    assert driver["name"] == "wormsign" and driver["version"] and driver["informationUri"]
    rules = {r["id"]: r for r in driver["rules"]}
    assert set(rules) == {f.rule_id for f in every_severity()}
    expected = {
        "WS-TEST-CRIT": ("9.5", "error"),
        "WS-TEST-HIGH": ("8.0", "error"),
        "WS-LOCK-001": ("5.5", "warning"),
        "WS-TEST-LOW": ("3.0", "note"),
        "WS-TEST-INFO": ("0.0", "note"),
    }
    for rule_id, (score, level) in expected.items():
        rule = rules[rule_id]
        assert rule["properties"]["security-severity"] == score
        assert float(rule["properties"]["security-severity"]) == float(score)
        assert rule["defaultConfiguration"]["level"] == level
        assert rule["shortDescription"]["text"] and rule["help"]["text"]
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels == {k: v[1] for k, v in expected.items()}
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_every_severity_has_a_score_and_a_level() -> None:
    for sev in Severity:
        assert 0.0 <= SECURITY_SEVERITY[sev] <= 10.0
        assert sarif_level(sev) in ("error", "warning", "note")


def test_empty_report_is_valid(sarif_validator: Any) -> None:
    data = sarif(make_report([]))
    assert_valid(sarif_validator, data)
    assert data["runs"][0]["results"] == []
    assert data["runs"][0]["tool"]["driver"]["rules"] == []


def test_locations(tmp_path: Path, sarif_validator: Any) -> None:
    inside = tmp_path / "env" / "lib" / "x.py"
    venv_site = tmp_path / ".venv" / "lib" / "python3.11" / "site-packages"
    findings = [
        Finding("R1", Severity.HIGH, "relative with line", path="requirements.txt", line=4),
        Finding("R2", Severity.HIGH, "needs escaping", path="sub dir/req #1.txt", line=2),
        Finding("R3", Severity.HIGH, "an environment outside", path="/opt/site-packages/a b.py"),
        Finding("R4", Severity.HIGH, "absolute inside the working dir", path=str(inside)),
        Finding("R5", Severity.HIGH, "no path: anchored at the target"),
        Finding("R6", Severity.HIGH, "parent dir", path="../elsewhere/uv.lock", line=9),
        Finding("R7", Severity.HIGH, "an environment inside", path=str(venv_site / "t/m.py")),
        Finding("R8", Severity.HIGH, "the first again", path="/opt/site-packages/b/c.py"),
        Finding(
            "R9", Severity.HIGH, "a relative env path", path=".venv/lib/python3.11/site-packages/x"
        ),
    ]
    data = sarif(make_report(findings, targets=("proj/uv.lock",)))
    assert_valid(sarif_validator, data)
    run = data["runs"][0]
    bases = run["originalUriBaseIds"]
    assert bases["%SRCROOT%"]["uri"] == tmp_path.as_uri() + "/"
    # an environment is its own base: its files are not the repository's, wherever it lies
    assert bases["%SITEPACKAGES%"]["uri"] == "file:///opt/site-packages/"
    assert bases["%SITEPACKAGES_2%"]["uri"] == venv_site.as_uri() + "/"
    assert set(bases) == {"%SRCROOT%", "%SITEPACKAGES%", "%SITEPACKAGES_2%"}
    phys = {r["ruleId"]: r["locations"][0]["physicalLocation"] for r in run["results"]}
    assert phys["R1"] == {
        "artifactLocation": {"uri": "requirements.txt", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 4},
    }
    assert phys["R2"]["artifactLocation"]["uri"] == "sub%20dir/req%20%231.txt"
    assert phys["R3"] == {"artifactLocation": {"uri": "a%20b.py", "uriBaseId": "%SITEPACKAGES%"}}
    assert phys["R4"]["artifactLocation"] == {"uri": "env/lib/x.py", "uriBaseId": "%SRCROOT%"}
    assert "region" not in phys["R4"]
    assert phys["R5"]["artifactLocation"] == {"uri": "proj/uv.lock", "uriBaseId": "%SRCROOT%"}
    assert (
        phys["R6"]["artifactLocation"]["uri"]
        == (tmp_path.parent / "elsewhere" / "uv.lock").as_uri()
    )
    assert phys["R7"]["artifactLocation"] == {"uri": "t/m.py", "uriBaseId": "%SITEPACKAGES_2%"}
    assert phys["R8"]["artifactLocation"] == {"uri": "b/c.py", "uriBaseId": "%SITEPACKAGES%"}
    assert phys["R9"]["artifactLocation"] == {"uri": "x", "uriBaseId": "%SITEPACKAGES_2%"}
    assert all(len(r["locations"]) == 1 for r in run["results"])  # GitHub needs one
    # every relative URI names a base the run declares
    for result in run["results"]:
        location = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert location.get("uriBaseId", "") in bases or location["uri"].startswith("file:")


def test_fingerprints_are_stable_and_distinct() -> None:
    report = make_report(every_severity())
    first = [r["partialFingerprints"] for r in sarif(report)["runs"][0]["results"]]
    second = [r["partialFingerprints"] for r in sarif(report)["runs"][0]["results"]]
    assert first == second
    values = [fp["wormsign/v1"] for fp in first]
    assert len(set(values)) == len(values)
    moved = Finding(
        "WS-LOCK-001",
        Severity.MEDIUM,
        "rich is not pinned",
        package="rich",
        path="other/requirements.txt",
        line=2,
    )
    fp_moved = sarif(make_report([moved]))["runs"][0]["results"][0]["partialFingerprints"]
    assert fp_moved["wormsign/v1"] not in values
    # The line is not part of it: adding a line above a pin must not make a new alert.
    shifted = Finding(
        "WS-LOCK-001",
        Severity.MEDIUM,
        "rich is not pinned",
        package="rich",
        path="sub dir/requirements #1.txt",
        line=3,
        evidence="rich>=13",
    )
    fp_shifted = sarif(make_report([shifted]))["runs"][0]["results"][0]["partialFingerprints"]
    assert fp_shifted == first[2]


def test_properties_carry_package_evidence_fix_references() -> None:
    result = sarif(make_report(every_severity()))["runs"][0]["results"]
    crit = next(r for r in result if r["ruleId"] == "WS-TEST-CRIT")
    assert crit["properties"]["package"] == "torch"
    assert crit["properties"]["version"] == "2.4.0+cu121"
    assert crit["properties"]["evidence"] == "sha256 aaaa != bbbb"
    assert crit["properties"]["references"] == ["MAL-2024-1", "https://osv.dev/MAL-2024-1"]
    high = next(r for r in result if r["ruleId"] == "WS-TEST-HIGH")
    assert high["properties"]["fix"] == "upgrade to 2.6.4"
    assert "fix" not in crit["properties"]
    rules = sarif(make_report(every_severity()))["runs"][0]["tool"]["driver"]["rules"]
    assert next(r for r in rules if r["id"] == "WS-TEST-CRIT")["helpUri"] == (
        "https://osv.dev/MAL-2024-1"
    )


def test_hostile_strings_stay_inert(sarif_validator: Any) -> None:
    hostile = Finding(
        "WS-TEST-HIGH",
        Severity.HIGH,
        HOSTILE,
        package=HOSTILE,
        version=HOSTILE,
        path=f"dir/{HOSTILE}.txt",
        line=1,
        evidence=HOSTILE,
        fix=HOSTILE,
        references=(HOSTILE,),
    )
    report = make_report([hostile], skipped=(Skipped(HOSTILE, HOSTILE),), notes=(HOSTILE,))
    text = render_sarif(report)
    data = json.loads(text)
    assert_valid(sarif_validator, data)

    def strings(node: Any) -> list[str]:
        if isinstance(node, str):
            return [node]
        if isinstance(node, dict):
            return [s for v in node.values() for s in strings(v)]
        if isinstance(node, list):
            return [s for v in node for s in strings(v)]
        return []

    for s in strings(data):
        assert "\n::" not in s and "\r" not in s and "\x1b" not in s and "\x00" not in s, s
    uri = data["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert all(c not in uri["uri"] for c in " \r\n\x1b|<>`")


def test_skipped_and_notes_become_notifications(sarif_validator: Any) -> None:
    report = make_report(
        [], skipped=(Skipped("req.txt:3", "unpinned entry"),), notes=("database is 40 days old",)
    )
    data = sarif(report)
    assert_valid(sarif_validator, data)
    notes = data["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert [n["message"]["text"] for n in notes] == [
        "skipped req.txt:3: unpinned entry",
        "database is 40 days old",
    ]


# -- rules from the catalogue, one rule per advisory -------------------------------------------


def test_every_catalogued_rule_gets_its_catalogue_help(sarif_validator: Any) -> None:
    catalog = load_catalog()
    findings = [
        Finding(r.id, r.severity, f"a finding of {r.id}", path="requirements.txt", line=1)
        for r in catalog
    ]
    data = sarif(make_report(findings))
    assert_valid(sarif_validator, data)
    rules = {r["id"]: r for r in data["runs"][0]["tool"]["driver"]["rules"]}
    assert set(rules) == {r.id for r in catalog}
    for entry in catalog:
        rule = rules[entry.id]
        assert rule["shortDescription"]["text"] == entry.title
        assert rule["fullDescription"]["text"] == " ".join(entry.description.split())
        assert " ".join(entry.description.split()) in rule["help"]["text"]
        assert all(ref in rule["help"]["text"] for ref in entry.references)
        assert entry.file in rule["help"]["markdown"]
        assert rule.get("helpUri") == entry.help_uri
        assert rule["properties"]["precision"] == entry.precision
        assert entry.identifies in rule["properties"]["tags"]
        # the finding's own text is in the result, never in the rule
        assert "a finding of" not in json.dumps(rule)


def test_fields_github_reads(sarif_validator: Any) -> None:
    data = sarif(make_report(every_severity()))
    run = data["runs"][0]
    for rule in run["tool"]["driver"]["rules"]:
        score = float(rule["properties"]["security-severity"])
        assert 0.0 <= score <= 10.0
        assert rule["properties"]["precision"] in ("very-high", "high", "medium", "low")
        assert rule["help"]["text"] and rule["shortDescription"]["text"]
    for result in run["results"]:
        assert len(result["partialFingerprints"]["wormsign/v1"]) == 64
    lock = next(r for r in run["tool"]["driver"]["rules"] if r["id"] == "WS-LOCK-001")
    assert lock["helpUri"].startswith("https://")


def _osv(adv: str, package: str, summary: str, *, fixed: str | None, **extra: Any) -> str:
    events: list[dict[str, str]] = [{"introduced": "0"}]
    if fixed:
        events.append({"fixed": fixed})
    record = {
        "id": adv,
        "modified": "2026-01-01T00:00:00Z",
        "summary": summary,
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": package},
                "ranges": [{"type": "ECOSYSTEM", "events": events}],
            }
        ],
        "references": [{"type": "WEB", "url": f"https://example.org/{adv}"}],
        **extra,
    }
    return json.dumps(record)


def test_one_rule_per_advisory_through_the_cli(tmp_path: Path, sarif_validator: Any) -> None:
    osv = tmp_path / "osv"
    osv.mkdir()
    records = {
        "GHSA-aaaa-aaaa-aaaa": _osv(
            "GHSA-aaaa-aaaa-aaaa",
            "torch",
            "torch.load runs code with weights_only",
            fixed="2.6.0",
            aliases=["CVE-2025-32434"],
        ),
        "PYSEC-2099-2": _osv("PYSEC-2099-2", "torch", "A crash in the RPC server", fixed="2.5.0"),
        "GHSA-bbbb-bbbb-bbbb": _osv(
            "GHSA-bbbb-bbbb-bbbb", "requests", "Proxy credentials leak", fixed="2.32.0"
        ),
        "MAL-2099-1": _osv("MAL-2099-1", "evilpkg", "Malicious code in evilpkg", fixed=None),
    }
    for name, text in records.items():
        (osv / f"{name}.json").write_text(text, encoding="utf-8")
    h = "c" * 64
    (tmp_path / "requirements.txt").write_text(
        f"torch==2.4.0 --hash=sha256:{h}\nrequests==2.31.0 --hash=sha256:{h}\n"
        f"evilpkg==1.0 --hash=sha256:{h}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        main, ["scan", "--db", str(osv), "--format", "sarif", "requirements.txt"]
    )
    assert result.exit_code == 1, result.stderr
    data = json.loads(result.stdout)
    assert_valid(sarif_validator, data)
    run = data["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert set(records) <= set(rules)
    assert not {"WS-ADV-VULN", "WS-ADV-MAL"} & set(rules)
    by_rule = {r["ruleId"]: r for r in run["results"] if r["ruleId"] in records}
    assert set(by_rule) == set(records)
    for adv, result_ in by_rule.items():
        assert run["tool"]["driver"]["rules"][result_["ruleIndex"]]["id"] == adv
        expected = "WS-ADV-MAL" if adv.startswith("MAL-") else "WS-ADV-VULN"
        assert result_["properties"]["wormsign_rule"] == expected
        rule = rules[adv]
        summary = json.loads(records[adv])["summary"]
        assert rule["shortDescription"]["text"] == f"{adv}: {summary}"
        assert rule["fullDescription"]["text"] == summary
        assert rule["helpUri"] == f"https://osv.dev/vulnerability/{adv}"
        assert f"https://example.org/{adv}" in rule["help"]["text"]
        # the help is this advisory's alone: no other advisory's summary or package
        for other, text in records.items():
            if other != adv:
                assert json.loads(text)["summary"] not in rule["help"]["text"]
        assert expected in rule["help"]["text"] and expected in rule["properties"]["tags"]
    assert "Also known as: CVE-2025-32434" in rules["GHSA-aaaa-aaaa-aaaa"]["help"]["text"]
    assert "requests" not in rules["GHSA-aaaa-aaaa-aaaa"]["help"]["text"]
    assert "Affected: requests 2.31.0" in rules["GHSA-bbbb-bbbb-bbbb"]["help"]["text"]
    assert rules["MAL-2099-1"]["properties"]["security-severity"] == "9.5"
    assert "malware" in rules["MAL-2099-1"]["properties"]["tags"]


def test_an_uncatalogued_rule_is_described_by_its_findings(sarif_validator: Any) -> None:
    finding = Finding("WS-MINE-001", Severity.HIGH, "a local rule fired", fix="remove it")
    data = sarif_log(make_report([finding]), catalog={})
    assert_valid(sarif_validator, data)
    rule = data["runs"][0]["tool"]["driver"]["rules"][0]
    assert rule["id"] == "WS-MINE-001" and "a local rule fired" in rule["help"]["text"]
