"""Release age offline: real lock files whose `upload-time` values a test rewrites to be
recent (in a copy), judged at a fixed reference time."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.checks.freshness.check import assess_inventory
from scanner.checks.freshness.duration import (
    describe_age,
    format_duration,
    parse_duration,
    parse_reference_time,
)
from scanner.checks.freshness.settings import FreshnessSettings
from scanner.cli import main
from scanner.errors import ConfigError
from scanner.gate import check
from scanner.models import Inventory, Severity
from scanner.options import ScanOptions
from scanner.policy import load_config
from scanner.sources.lockfiles import parse_lockfile

AS_OF = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
AS_OF_TEXT = "2026-12-02T12:00:00Z"
UV_LOCK = "uv/karpathy_nanochat__uv.lock"
PYLOCK = "pylock/Comfy-Org_comfy-cli__pylock.toml"


def stamp(moment: datetime, quoted: bool) -> str:
    text = moment.strftime("%Y-%m-%dT%H:%M:%S") + "Z"
    return f'"{text}"' if quoted else text


def rewrite_uploads(text: str, package: str, moment: datetime, *, header: str) -> str:
    """Set every `upload-time` inside the `[[header]]` block of `package` to `moment`."""
    blocks = re.split(rf"(?m)^(?=\[\[{re.escape(header)}\]\]\s*$)", text)
    hits = 0
    for i, block in enumerate(blocks):
        if re.search(rf'(?m)^name = ["\']{re.escape(package)}["\']\s*$', block):
            hits += 1
            blocks[i] = re.sub(
                r'upload-time = ("[^"]*"|[0-9T:.\-+Z]+)',
                lambda m: "upload-time = " + stamp(moment, m.group(1).startswith('"')),
                block,
            )
    assert hits == 1, f"{package} found {hits} times"
    return "".join(blocks)


def copy_lock(lock_corpus: Path, relative: str, dest: Path) -> Path:
    target = dest / Path(relative).name.split("__", 1)[1]
    shutil.copyfile(lock_corpus / relative, target)
    return target


def options(min_age: str | None = "P3D", **kw: object) -> ScanOptions:
    age = parse_duration(min_age) if min_age else None
    return ScanOptions(freshness=FreshnessSettings(min_age=age), as_of=AS_OF, **kw)  # type: ignore[arg-type]


def judge(path: Path, opts: ScanOptions) -> tuple[list[str], list[str]]:
    result = assess_inventory(Inventory(lockfiles=(parse_lockfile(path),)), opts)
    return [f"{f.package} {f.version}" for f in result.findings], list(result.notes)


# --------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P3D", timedelta(days=3)),
        ("p1w", timedelta(days=7)),
        ("PT12H", timedelta(hours=12)),
        ("P1DT6H30M", timedelta(days=1, hours=6, minutes=30)),
        ("PT90S", timedelta(seconds=90)),
    ],
)
def test_iso_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected
    assert parse_duration(format_duration(expected)) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("3d", "not an ISO 8601 duration"),
        ("P", "not an ISO 8601 duration"),
        ("P1DT", "not an ISO 8601 duration"),
        ("P1M", "no fixed length"),
        ("P1Y2D", "no fixed length"),
        ("P99999D", "longer than"),
    ],
)
def test_bad_durations_say_why(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_duration(text)


def test_ages_in_words_and_reference_times() -> None:
    assert describe_age(timedelta(minutes=42)) == "42 minutes"
    assert describe_age(timedelta(days=2, hours=4, minutes=3)) == "2 days 4 hours"
    assert describe_age(timedelta(hours=1, minutes=30)) == "1 hour 30 minutes"
    assert describe_age(timedelta(seconds=-5)) == "less than a minute"
    assert parse_reference_time("2026-12-02") == datetime(2026, 12, 2, tzinfo=UTC)
    assert parse_reference_time("2026-12-02T14:00:00+02:00") == AS_OF
    with pytest.raises(ValueError, match="RFC 3339"):
        parse_reference_time("yesterday")


# --------------------------------------------------------------------------- offline


def test_recent_upload_in_a_real_uv_lock_is_a_finding_with_its_age(
    lock_corpus: Path, tmp_path: Path
) -> None:
    lock = copy_lock(lock_corpus, UV_LOCK, tmp_path)
    text = lock.read_text(encoding="utf-8")
    lock.write_text(
        rewrite_uploads(text, "numpy", AS_OF - timedelta(hours=5, minutes=10), header="package"),
        encoding="utf-8",
    )
    result = assess_inventory(Inventory(lockfiles=(parse_lockfile(lock),)), options())
    [finding] = result.findings
    assert (finding.rule_id, finding.severity) == ("WS-AGE-001", Severity.HIGH)
    assert (finding.package, finding.version) == ("numpy", "1.26.4")
    assert "uploaded 5 hours 10 minutes ago (2026-12-02 06:50 UTC)" in finding.message
    assert "minimum release age of 3 days" in finding.message
    assert finding.path == str(lock) and finding.line is not None
    assert lock.read_text(encoding="utf-8").splitlines()[finding.line - 1] == "[[package]]"
    assert "upload-time 2026-12-02T06:50:00Z from the lock file" in (finding.evidence or "")
    assert "reference time 2026-12-02T12:00:00Z" in (finding.evidence or "")
    assert result.notes == ()
    # Every other file of the real lock is older than 3 days at the reference time.
    assert result.releases == result.dated > 100


def test_the_minimum_age_decides(lock_corpus: Path, tmp_path: Path) -> None:
    lock = copy_lock(lock_corpus, UV_LOCK, tmp_path)
    text = rewrite_uploads(
        lock.read_text(encoding="utf-8"), "numpy", AS_OF - timedelta(days=2), header="package"
    )
    lock.write_text(text, encoding="utf-8")
    assert judge(lock, options("P3D"))[0] == ["numpy 1.26.4"]
    assert judge(lock, options("P1D"))[0] == []
    assert judge(lock, options("P2D"))[0] == []  # exactly two days old is old enough


def test_a_native_toml_datetime_in_a_real_pylock(lock_corpus: Path, tmp_path: Path) -> None:
    lock = copy_lock(lock_corpus, PYLOCK, tmp_path)
    text = lock.read_text(encoding="utf-8")
    assert "upload-time = 2025-" in text  # pylock writes TOML datetimes, not strings
    lock.write_text(
        rewrite_uploads(text, "anyio", AS_OF - timedelta(minutes=42), header="packages"),
        encoding="utf-8",
    )
    result = assess_inventory(Inventory(lockfiles=(parse_lockfile(lock),)), options("P7D"))
    [finding] = result.findings
    assert finding.package == "anyio"
    assert "uploaded 42 minutes ago" in finding.message
    assert "and 1 more file(s)" in finding.message  # the sdist and the wheel


def test_upload_after_the_reference_time_is_a_finding(lock_corpus: Path, tmp_path: Path) -> None:
    lock = copy_lock(lock_corpus, UV_LOCK, tmp_path)
    text = rewrite_uploads(
        lock.read_text(encoding="utf-8"), "numpy", AS_OF + timedelta(days=1), header="package"
    )
    lock.write_text(text, encoding="utf-8")
    result = assess_inventory(Inventory(lockfiles=(parse_lockfile(lock),)), options())
    [finding] = result.findings
    assert "after the reference time 2026-12-02 12:00 UTC" in finding.message


def test_severity_is_configurable(lock_corpus: Path, tmp_path: Path) -> None:
    lock = copy_lock(lock_corpus, UV_LOCK, tmp_path)
    lock.write_text(
        rewrite_uploads(
            lock.read_text(encoding="utf-8"), "numpy", AS_OF - timedelta(hours=1), header="package"
        ),
        encoding="utf-8",
    )
    (tmp_path / "wormsign.toml").write_text(
        'min-release-age = "P3D"\nmin-release-age-severity = "medium"\nchecks = ["freshness"]\n',
        encoding="utf-8",
    )
    report = check([lock], options=ScanOptions(as_of=AS_OF))
    [finding] = report.findings
    assert (finding.rule_id, finding.severity) == ("WS-AGE-001", Severity.MEDIUM)
    assert not report.blocked


def test_without_the_policy_nothing_changes(lock_corpus: Path, tmp_path: Path) -> None:
    lock = copy_lock(lock_corpus, UV_LOCK, tmp_path)
    lock.write_text(
        rewrite_uploads(
            lock.read_text(encoding="utf-8"), "numpy", AS_OF - timedelta(hours=1), header="package"
        ),
        encoding="utf-8",
    )
    plain = check([lock], options=ScanOptions(checks=frozenset({"freshness", "lock"})))
    assert not any(f.rule_id.startswith("WS-AGE") for f in plain.findings)
    assert not any("age unknown" in n for n in plain.notes)
    assert judge(lock, options(None)) == ([], [])


def test_a_lock_without_upload_times_is_age_unknown_offline(
    lock_corpus: Path, tmp_path: Path
) -> None:
    lock = copy_lock(lock_corpus, "poetry/python-poetry_poetry__poetry.lock", tmp_path)
    findings, notes = judge(lock, options())
    assert findings == []
    [note] = notes
    assert note.startswith("age unknown offline: ")
    assert str(lock) in note and "--online" in note
    # The report carries it: the gate does not pass the lock silently.
    report = check([lock], options=options(checks=frozenset({"freshness"})))
    assert note in report.notes and report.findings == ()


def test_config_and_command_line(lock_corpus: Path, tmp_path: Path) -> None:
    lock = copy_lock(lock_corpus, UV_LOCK, tmp_path)
    lock.write_text(
        rewrite_uploads(
            lock.read_text(encoding="utf-8"), "numpy", AS_OF - timedelta(hours=3), header="package"
        ),
        encoding="utf-8",
    )
    runner = CliRunner()
    base = ["scan", "--check", "freshness", "--format", "json", "--as-of", AS_OF_TEXT]
    blocked = runner.invoke(main, [*base, "--min-release-age", "P1D", str(lock)])
    assert blocked.exit_code == 1, blocked.output
    assert '"WS-AGE-001"' in blocked.output and "3 hours ago" in blocked.output
    # A week later the same lock passes: the reference time is the only clock.
    week_later = ["--as-of", "2026-12-09", "--min-release-age", "P3D", str(lock)]
    later = runner.invoke(main, ["scan", "--check", "freshness", *week_later])
    assert later.exit_code == 0, later.output
    # From the config file when the command line does not say.
    (tmp_path / "wormsign.toml").write_text('min-release-age = "PT2H"\n', encoding="utf-8")
    assert runner.invoke(main, [*base, str(lock)]).exit_code == 0
    assert runner.invoke(main, [*base, "--min-release-age", "PT4H", str(lock)]).exit_code == 1
    bad = runner.invoke(main, [*base, "--min-release-age", "3 days", str(lock)])
    assert bad.exit_code == 2 and "ISO 8601" in bad.output


def test_a_bad_policy_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "wormsign.toml").write_text('min-release-age = "P1M"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"min-release-age.*no fixed length"):
        load_config(tmp_path)
    (tmp_path / "wormsign.toml").write_text(
        'min-release-age-severity = "urgent"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="min-release-age-severity"):
        load_config(tmp_path)


def test_a_malformed_upload_time_names_the_file(tmp_path: Path) -> None:
    lock = tmp_path / "uv.lock"
    lock.write_text(
        "version = 1\n[[package]]\nname = 'a'\nversion = '1.0'\n"
        "source = { registry = 'https://pypi.org/simple' }\n"
        "sdist = { url = 'https://x/a-1.0.tar.gz', hash = 'sha256:"
        + "0" * 64
        + "', upload-time = 'last tuesday' }\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    result = runner.invoke(main, ["scan", "--check", "lock", str(lock)])
    assert result.exit_code == 3
    assert "uv.lock" in result.output and "upload-time" in result.output
