"""The text report fits the terminal: no line longer than the width, paths whole and
relative, one row per package, a summary line that never wraps (issue 20)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from scanner.models import Finding, Severity
from scanner.reporters.text import render_text, summary_line, terminal_width
from tests.reporters.conftest import make_report

SITE = "/opt/conda/envs/train-gpu-cluster/lib/python3.11/site-packages"


def _advisory(package: str, version: str, adv_id: str, fixed: str | None, line: int) -> Finding:
    return Finding(
        "WS-ADV-VULN",
        Severity.HIGH,
        f"{package} {version} is affected by {adv_id}: a long advisory summary that goes on",
        package=package,
        version=version,
        path="/srv/project/requirements/server-requirements_cuda.txt",
        line=line,
        references=(adv_id, f"https://osv.dev/vulnerability/{adv_id}"),
        fix_version=fixed,
    )


def _findings() -> list[Finding]:
    out = [_advisory("transformers", "4.51.3", f"PYSEC-2025-{n}", "4.53.0", 354) for n in range(7)]
    out += [_advisory("aiohttp", "3.11.18", "GHSA-9548-qrrj-x5pj", "3.12.14", 9)]
    out += [
        Finding(
            "WS-ADV-MAL",
            Severity.CRITICAL,
            "evilpkg 1.0 is malicious (MAL-2099-1)",
            package="evilpkg",
            version="1.0",
            path="/srv/project/requirements/server-requirements_cuda.txt",
            line=12,
            references=("MAL-2099-1",),
        ),
        Finding(
            "WS-HEUR-EXEC-001",
            Severity.HIGH,
            "a .pth file runs code at interpreter start-up: exec(base64.b64decode(...))",
            package="flash-attn-helpers",
            version="2.8.3",
            path=f"{SITE}/flash_attn_helpers_distributed_init_hooks.pth",
            line=1,
            fix="remove the package and rotate any credential the environment held",
        ),
        Finding(
            "WS-REC-002",
            Severity.MEDIUM,
            "a file is not listed in RECORD",
            package="flash-attn-helpers",
            version="2.8.3",
            path=f"{SITE}/flash_attn_helpers/kernels/triton_autotune_cache_loader.py",
        ),
    ]
    return out


@pytest.fixture
def report_text(tmp_path: Path) -> dict[int, str]:
    project = tmp_path / "srv" / "project"
    project.mkdir(parents=True)
    findings = [
        dataclasses.replace(f, path=f.path.replace("/srv/project", str(project)))
        if f.path and f.path.startswith("/srv/project")
        else f
        for f in _findings()
    ]
    report = make_report(findings, targets=(str(project),))
    return {w: render_text(report, width=w, verbose=True, elapsed=1.5) for w in (80, 120, 200)}


@pytest.mark.parametrize("width", [80, 120, 200])
def test_no_line_is_longer_than_the_width(report_text: dict[int, str], width: int) -> None:
    lines = report_text[width].splitlines()
    assert max(len(line) for line in lines[:-1]) <= width
    assert lines[-1].startswith("wormsign: BLOCKED")


@pytest.mark.parametrize("width", [80, 120, 200])
def test_paths_are_whole_and_relative(report_text: dict[int, str], width: int) -> None:
    words = [w.rstrip(":") for w in report_text[width].split()]
    # Relative to site-packages, whole (one word each, never cut across lines).
    pth = "flash_attn_helpers_distributed_init_hooks.pth:1"
    assert pth in words
    assert "flash_attn_helpers/kernels/triton_autotune_cache_loader.py" in words
    assert SITE not in report_text[width]
    # Relative to the scanned directory.
    assert "requirements/server-requirements_cuda.txt" in words
    assert "srv/project" not in report_text[width]


def test_wider_terminals_use_fewer_lines(report_text: dict[int, str]) -> None:
    counts = [len(report_text[w].splitlines()) for w in (80, 120, 200)]
    assert counts[0] > counts[1] >= counts[2]
    assert any(len(line) > 80 for line in report_text[200].splitlines()[:-1])


def test_one_row_per_package_with_its_ids_and_one_upgrade(report_text: dict[int, str]) -> None:
    text = report_text[200]
    rows = [line for line in text.splitlines() if line.startswith(("critical", "high"))]
    heads = [line.split()[1] for line in rows]
    assert heads.count("transformers") == 1 and heads.count("aiohttp") == 1
    assert heads.count("flash-attn-helpers") == 1  # its two findings share one row
    (tf,) = [line for line in rows if "transformers" in line]
    assert "upgrade to 4.53.0" in tf
    assert text.count("upgrade to 4.53.0") == 1
    assert "7 advisories (WS-ADV-VULN): PYSEC-2025-0 PYSEC-2025-1" in text
    assert "1 malicious (WS-ADV-MAL): MAL-2099-1" in text
    assert "evilpkg 1.0 (line 12)  malicious: remove it" in text
    # Most severe first: the malicious pin heads the report.
    assert heads[0] == "evilpkg" and rows[0].startswith("critical")
    # The advisory's long message is not repeated per advisory.
    assert "a long advisory summary" not in text


def test_many_ids_are_capped_unless_verbose() -> None:
    findings = [_advisory("pillow", "11.2.1", f"PYSEC-2026-{n}", "12.3.0", 5) for n in range(20)]
    report = make_report(findings)
    short = render_text(report, width=80, verbose=False)
    assert "PYSEC-2026-7" in short.split() and "PYSEC-2026-8" not in short.split()
    assert "and 12 more" in " ".join(short.split())
    full = render_text(report, width=80, verbose=True)
    assert all(f"PYSEC-2026-{n}" in full.split() for n in range(20))


def test_the_summary_line_is_one_line_at_any_width() -> None:
    report = make_report(_findings(), notes=("a note " * 30,))
    text = render_text(report, width=40, verbose=True, elapsed=3.0)
    assert text.splitlines()[-1] == summary_line(report, 3.0, True)
    assert len(text.splitlines()[-1]) > 40


def test_quiet_prints_only_the_summary_even_when_blocked() -> None:
    report = make_report(_findings())
    text = render_text(report, width=80, verbose=True, quiet=True)
    assert text == summary_line(report, None, True) + "\n"
    assert "BLOCKED" in text


def test_the_width_follows_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    assert terminal_width() == 80
    report = make_report(_findings(), targets=("/srv/project",))
    at_80 = render_text(report, verbose=True)
    assert at_80 == render_text(report, width=80, verbose=True)
    monkeypatch.setenv("COLUMNS", "200")
    assert render_text(report, verbose=True) == render_text(report, width=200, verbose=True)


def test_a_word_longer_than_the_width_is_never_cut(tmp_path: Path) -> None:
    long_name = "x" * 90 + ".py"
    finding = Finding("WS-T-1", Severity.HIGH, "bad", path=f"{SITE}/{long_name}", line=2)
    text = render_text(make_report([finding]), width=80, verbose=True)
    assert long_name in text.split()


def test_a_finding_about_a_whole_file_sits_under_its_heading(tmp_path: Path) -> None:
    lock = tmp_path / "serve" / "requirements.txt"
    lock.parent.mkdir()
    findings = [
        _advisory("requests", "2.32.0", "PYSEC-2026-1872", "2.33.0", 2),
        Finding("WS-LOCK-003", Severity.LOW, "no entry carries a hash", path=str(lock)),
    ]
    findings[0] = dataclasses.replace(findings[0], path=str(lock))
    text = render_text(make_report(findings, targets=(str(tmp_path),)), width=80, verbose=True)
    lines = text.splitlines()
    assert lines[0] == "serve/requirements.txt"
    assert text.count("serve/requirements.txt") == 1
    assert lines[1].startswith("high      requests 2.32.0 (line 2)")
    assert lines[3].split() == ["low", "WS-LOCK-003"]
    assert lines[4].strip() == "no entry carries a hash"


def test_an_installed_packages_file_is_shown_inline_not_as_a_heading() -> None:
    finding = Finding(
        "WS-INT-001",
        Severity.CRITICAL,
        "Installed file differs from the hash in its distribution's RECORD.",
        package="pyyaml",
        version="6.0",
        path=f"{SITE}/yaml/_yaml.cpython-311-x86_64-linux-gnu.so",
    )
    lines = render_text(make_report([finding]), width=80, verbose=True).splitlines()
    assert lines[0].split() == ["critical", "pyyaml", "6.0"]
    assert lines[1].split()[:2] == ["WS-INT-001", "yaml/_yaml.cpython-311-x86_64-linux-gnu.so:"]


def test_a_path_is_never_shown_relative_to_the_filesystem_root() -> None:
    from scanner.reporters.text import Places

    report = make_report([], targets=("/",))
    places = Places(report, cwd=Path("/"))
    assert places.show("/etc/pip.conf", 3) == "/etc/pip.conf:3"
    assert Places(report, cwd=Path("/etc")).show("/etc/pip.conf") == "pip.conf"
