"""Policy config: discovery, validation (exit-2 errors that name file and key), ignores with
reason and expiry, hash-bound allowlists, and the notes humans must see."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest

from scanner.checks.metadata.settings import MetadataSettings
from scanner.checks.models.settings import ModelAllow, ModelSettings
from scanner.checks.provenance.settings import ProvenancePolicy, Requirement
from scanner.errors import ConfigError
from scanner.models import Finding, Severity
from scanner.options import ScanOptions
from scanner.policy import Config, apply_config, apply_policy, find_config, load_config

TODAY = date(2026, 11, 24)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def finding(
    rule: str = "WS-TYPO-001",
    *,
    package: str | None = "torchvison",
    path: str | None = None,
    references: tuple[str, ...] = (),
    aliases: tuple[str, ...] = (),
) -> Finding:
    return Finding(
        rule_id=rule,
        severity=Severity.HIGH,
        message="m",
        package=package,
        path=path,
        references=references,
        aliases=aliases,
    )


def config_from(tmp_path: Path, text: str, name: str = "wormsign.toml") -> Config:
    return load_config(tmp_path, write(tmp_path / name, text))


# --- discovery --------------------------------------------------------------------------


def test_nearest_config_above_the_project_is_found(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.wormsign]\nfail-on = "critical"\n')
    project = tmp_path / "a" / "b"
    project.mkdir(parents=True)
    config = load_config(project)
    assert config.source == tmp_path / "pyproject.toml"
    assert config.fail_on is Severity.CRITICAL


def test_wormsign_toml_wins_over_pyproject_in_the_same_directory(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.wormsign]\nfail-on = "critical"\n')
    write(tmp_path / "wormsign.toml", 'fail-on = "low"\n')
    assert load_config(tmp_path).fail_on is Severity.LOW


def test_pyproject_without_our_table_is_passed_over(tmp_path: Path) -> None:
    write(tmp_path / "wormsign.toml", 'fail-on = "medium"\n')
    inner = tmp_path / "pkg"
    write(inner / "pyproject.toml", '[project]\nname = "x"\n[tool.ruff]\nline-length = 1\n')
    assert find_config(inner) == tmp_path / "wormsign.toml"


def test_a_broken_pyproject_that_is_not_ours_is_not_a_config_error(tmp_path: Path) -> None:
    project = tmp_path / "p"
    write(project / "pyproject.toml", "[project\nname = ")
    assert find_config(project / "pyproject.toml") != project / "pyproject.toml"


def test_no_config_is_an_empty_config(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config.source is None and config.fail_on is None and config.ignores == ()


def test_explicit_config_is_used_and_must_exist(tmp_path: Path) -> None:
    other = write(tmp_path / "elsewhere" / "policy.toml", 'fail-on = "info"\n')
    assert load_config(tmp_path, other).fail_on is Severity.INFO
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path, tmp_path / "nope.toml")


def test_explicit_pyproject_needs_the_table(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n')
    with pytest.raises(ConfigError, match=r"no \[tool.wormsign\] table"):
        load_config(tmp_path, path)


# --- validation -----------------------------------------------------------------------------

FULL = """
fail-on = "medium"
checks = ["lock", "metadata"]
offline = true
db = "cache/osv.sqlite"

[[ignore]]
rule = "WS-TYPO-001"
package = "Torchvison"
reason = "internal fork"
expires = 2027-01-01

[[allow]]
path = "models/*.pt"
sha256 = "SHA256:{sha}"
reason = "vetted checkpoint"

[provenance]
default = "warn"
require = ["torch"]

[[models.allow]]
sha256 = "{sha}"
globals = ["mypkg.config.TrainConfig"]
reason = "our own config class"
"""


def test_a_full_config_is_read(tmp_path: Path) -> None:
    config = config_from(tmp_path, FULL.format(sha="AB" * 32))
    assert config.fail_on is Severity.MEDIUM
    assert config.checks == frozenset({"lock", "metadata"})
    assert config.online is False
    assert config.db_path == tmp_path / "cache" / "osv.sqlite"
    (ignore,) = config.ignores
    assert (ignore.rule, ignore.package, ignore.expires) == (
        "WS-TYPO-001",
        "Torchvison",
        date(2027, 1, 1),
    )
    (allow,) = config.allows
    assert allow.sha256 == "ab" * 32
    assert config.provenance == ProvenancePolicy(
        default=Requirement.WARN, required=frozenset({"torch"})
    )
    assert config.models == ModelSettings(
        allow=(
            ModelAllow(
                globals=("mypkg.config.TrainConfig",),
                sha256="ab" * 32,
                reason="our own config class",
            ),
        )
    )


def test_the_same_config_under_tool_wormsign(tmp_path: Path) -> None:
    text = FULL.format(sha="ab" * 32).replace("[[ignore]]", "[[tool.wormsign.ignore]]")
    text = text.replace("[[allow]]", "[[tool.wormsign.allow]]")
    text = text.replace("[provenance]", "[tool.wormsign.provenance]")
    text = text.replace("[[models.allow]]", "[[tool.wormsign.models.allow]]")
    text = "[tool.wormsign]\n" + text
    config = config_from(tmp_path, text, name="pyproject.toml")
    assert config.fail_on is Severity.MEDIUM and len(config.ignores) == 1
    assert config.provenance is not None and config.provenance.required == {"torch"}
    assert config.models is not None and len(config.models.allow) == 1


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ('[[ignore]]\nrule = "X"\nexpires = 2027-01-01\n', "ignore[1].reason", "is missing"),
        ('[[ignore]]\nrule = "X"\nreason = "r"\n', "ignore[1].expires", "is missing"),
        (
            '[[ignore]]\nrule = "X"\nreason = "r"\nexpires = "2027-01-01"\n',
            "ignore[1].expires",
            "must be a TOML date",
        ),
        (
            '[[ignore]]\nreason = "r"\nexpires = 2027-01-01\n',
            "ignore[1].rule",
            "must name what it ignores",
        ),
        (
            '[[ignore]]\nrule = "X"\nreason = "  "\nexpires = 2027-01-01\n',
            "ignore[1].reason",
            "non-empty",
        ),
        (
            '[[ignore]]\nrule = "X"\nreason = "r"\nexpires = 2027-01-01\nuntil = 1\n',
            "ignore[1].until",
            "not a known key",
        ),
        ('colour = "red"\n', "colour", "not a known key"),
        ('fail-on = "severe"\n', "fail-on", "not a severity"),
        ('checks = "lock"\n', "checks", "list of check names"),
        ("offline = 1\n", "offline", "true or false"),
        ("offline = true\nonline = true\n", "online", "contradicts"),
        ('fail-on = "high"\nfail_on = "low"\n', "fail-on", "given twice"),
        ('ignore = "all"\n', "ignore", "array of tables"),
        ('provenance = "strict"\n', "provenance", "must be a table"),
        ('[[allow]]\npath = "x.pth"\nreason = "r"\n', "allow[1].sha256", "is missing"),
        (
            '[[allow]]\npath = "x.pth"\nsha256 = "abc"\nreason = "r"\n',
            "allow[1].sha256",
            "64 hexadecimal",
        ),
        ('[[allow]]\nsha256 = "' + "a" * 64 + '"\nreason = "r"\n', "allow[1].path", "is missing"),
        ('[models]\nallow-globals = ["a.B"]\n', "models.allow-globals", "known keys: allow"),
        ('models = ["a.B"]\n', "models", "must be a table"),
        ('[models]\nallow = "a.B"\n', "models.allow", "array of tables"),
        (
            '[[models.allow]]\nglobals = ["a.B"]\nreason = "r"\n',
            "models.allow[1].sha256",
            "by sha256 or path",
        ),
        (
            '[[models.allow]]\nsha256 = "abc"\nglobals = ["a.B"]\nreason = "r"\n',
            "models.allow[1].sha256",
            "64 hexadecimal",
        ),
        (
            '[[models.allow]]\npath = "*.pt"\nreason = "r"\n',
            "models.allow[1].globals",
            "non-empty list",
        ),
        (
            '[[models.allow]]\npath = "*.pt"\nglobals = []\nreason = "r"\n',
            "models.allow[1].globals",
            "non-empty list",
        ),
        (
            '[[models.allow]]\npath = "*.pt"\nglobals = ["a.B"]\n',
            "models.allow[1].reason",
            "is missing",
        ),
        (
            '[[models.allow]]\npath = "*.pt"\nglobals = ["a.B"]\nreason = "r"\nfile = "x"\n',
            "models.allow[1].file",
            "known keys: globals, path, reason, sha256",
        ),
    ],
)
def test_config_errors_name_the_file_the_key_and_the_problem(
    tmp_path: Path, text: str, key: str, problem: str
) -> None:
    path = write(tmp_path / "wormsign.toml", text)
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path, path)
    assert err.value.path == str(path)
    assert f"`{key}`" in err.value.message
    assert problem in err.value.diagnostics()


def test_a_bad_provenance_table_is_refused_when_the_config_loads(tmp_path: Path) -> None:
    path = write(tmp_path / "wormsign.toml", '[provenance]\ndefault = "warn"\nstrict = true\n')
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path, path)
    assert err.value.path == str(path)
    line = err.value.diagnostics()
    assert "strict" in line and "default" in line and "publishers" in line


def test_settings_the_caller_gave_win_over_the_config(tmp_path: Path) -> None:
    config = config_from(tmp_path, FULL.format(sha="ab" * 32))
    own = ModelSettings(allow=(ModelAllow(globals=("x.Y",), path="*.pt"),))
    policy = ProvenancePolicy(default=Requirement.REQUIRE)
    options = apply_config(ScanOptions(models=own, provenance=policy), config)
    assert options.models is own and options.provenance is policy


def test_errors_in_pyproject_carry_the_tool_prefix(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        '[tool.wormsign]\n[[tool.wormsign.ignore]]\nrule = "X"\nreason = "r"\n',
    )
    with pytest.raises(ConfigError, match=r"`tool\.wormsign\.ignore\[1\]\.expires` is missing"):
        load_config(tmp_path)


def test_invalid_toml_is_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path / "wormsign.toml", "fail-on = \n")
    with pytest.raises(ConfigError, match="not valid TOML") as err:
        load_config(tmp_path)
    assert err.value.path == str(path)


def test_a_toml_datetime_counts_by_its_day(tmp_path: Path) -> None:
    config = config_from(
        tmp_path, '[[ignore]]\nrule = "X"\nreason = "r"\nexpires = 2027-01-01T12:00:00Z\n'
    )
    assert config.ignores[0].expires == date(2027, 1, 1)


# --- options ------------------------------------------------------------------------------


def test_config_fills_options_except_what_the_command_line_set(tmp_path: Path) -> None:
    config = config_from(tmp_path, FULL.format(sha="ab" * 32))
    metadata = MetadataSettings(pypi_url="http://x")
    options = apply_config(ScanOptions(metadata=metadata), config)
    assert options.fail_on is Severity.MEDIUM
    assert options.checks == frozenset({"lock", "metadata"})
    assert options.online is False
    assert options.db_path == tmp_path / "cache" / "osv.sqlite"
    assert options.provenance is config.provenance
    assert options.models is config.models
    assert options.metadata is metadata
    cli = apply_config(
        ScanOptions(fail_on=Severity.CRITICAL, online=True),
        config,
        overridden={"fail_on", "online"},
    )
    assert cli.fail_on is Severity.CRITICAL and cli.online is True


def test_online_key_and_empty_config(tmp_path: Path) -> None:
    assert config_from(tmp_path, "online = true\n").online is True
    assert apply_config(ScanOptions(), Config()) == ScanOptions()


# --- ignores ----------------------------------------------------------------------------------


def ignores(tmp_path: Path, *entries: str) -> Config:
    return config_from(tmp_path, "".join(f"[[ignore]]\n{e}\n" for e in entries))


VALID = 'reason = "vetted"\nexpires = 2027-03-01'


def test_an_ignore_by_rule_and_package_suppresses_only_its_finding(tmp_path: Path) -> None:
    config = ignores(tmp_path, f'rule = "WS-TYPO-001"\npackage = "TorchVison"\n{VALID}')
    ours, other = finding(), finding(package="transfomers")
    result = apply_policy([ours, other], config, TODAY)
    assert result.suppressed == (ours,)
    assert result.kept == (other,)
    assert result.notes == ()


def test_a_rule_glob_matches_a_family(tmp_path: Path) -> None:
    config = ignores(tmp_path, f'rule = "ws-confusion-*"\n{VALID}')
    result = apply_policy([finding("WS-CONFUSION-002"), finding("WS-TYPO-001")], config, TODAY)
    assert [f.rule_id for f in result.suppressed] == ["WS-CONFUSION-002"]


def test_an_advisory_id_matches_references_and_aliases(tmp_path: Path) -> None:
    config = ignores(tmp_path, f'id = "CVE-2025-32434"\n{VALID}', f'id = "pysec-2022-181"\n{VALID}')
    by_alias = finding("WS-ADV-VULN", aliases=("GHSA-53q9-r3pm-6pq6", "CVE-2025-32434"))
    by_ref = finding("WS-ADV-VULN", references=("PYSEC-2022-181",))
    other = finding("WS-ADV-VULN", references=("PYSEC-2021-874",))
    result = apply_policy([by_alias, by_ref, other], config, TODAY)
    assert result.suppressed == (by_alias, by_ref)
    assert result.kept == (other,)


def test_a_path_glob_is_relative_to_the_config(tmp_path: Path) -> None:
    config = ignores(tmp_path, f'path = "models/*.pt"\n{VALID}', f'path = "*.pth"\n{VALID}')
    inside = finding("WS-PICKLE-001", path=str(tmp_path / "models" / "a.pt"))
    by_name = finding("WS-PTH-002", path="/venv/site-packages/x.pth")
    outside = finding("WS-PICKLE-001", path=str(tmp_path / "other" / "a.pt"))
    result = apply_policy([inside, by_name, outside], config, TODAY)
    assert result.suppressed == (inside, by_name)
    assert result.kept == (outside,)


def test_an_expired_ignore_stops_applying_and_says_so(tmp_path: Path) -> None:
    config = ignores(tmp_path, 'rule = "WS-TYPO-001"\nreason = "old"\nexpires = 2026-11-23')
    result = apply_policy([finding()], config, TODAY)
    assert result.kept == (finding(),)
    assert len(result.notes) == 1
    assert "expired on 2026-11-23" in result.notes[0] and "no longer applies" in result.notes[0]
    assert "wormsign.toml" in result.notes[0]


def test_an_ignore_applies_through_its_expiry_day(tmp_path: Path) -> None:
    config = ignores(tmp_path, 'rule = "WS-TYPO-001"\nreason = "r"\nexpires = 2026-11-24')
    assert apply_policy([finding()], config, TODAY).suppressed == (finding(),)


def test_an_ignore_that_matched_nothing_is_stale(tmp_path: Path) -> None:
    config = ignores(tmp_path, f'package = "gone"\n{VALID}')
    result = apply_policy([finding()], config, TODAY)
    assert result.kept == (finding(),)
    assert len(result.notes) == 1 and result.notes[0].startswith("stale ignore")
    assert "package=gone" in result.notes[0]


def test_every_selector_must_match(tmp_path: Path) -> None:
    config = ignores(tmp_path, f'rule = "WS-TYPO-001"\npackage = "other"\n{VALID}')
    assert apply_policy([finding()], config, TODAY).kept == (finding(),)


# --- allowlisted files --------------------------------------------------------------------


def allow_config(tmp_path: Path, pattern: str, digest: str, rule: str | None = None) -> Config:
    rule_line = f'rule = "{rule}"\n' if rule else ""
    return config_from(
        tmp_path,
        f'[[allow]]\npath = "{pattern}"\nsha256 = "{digest}"\nreason = "vetted"\n{rule_line}',
    )


def test_an_allowlisted_file_with_the_vetted_hash_is_suppressed(tmp_path: Path) -> None:
    pth = write(tmp_path / "site" / "vetted.pth", "import _vetted_hook\n")
    digest = hashlib.sha256(pth.read_bytes()).hexdigest()
    config = allow_config(tmp_path, "site/*.pth", digest)
    on_file = finding("WS-PTH-002", path=str(pth))
    elsewhere = finding("WS-PTH-002", path=str(tmp_path / "site" / "other.pth"))
    result = apply_policy([on_file, elsewhere], config, TODAY)
    assert result.suppressed == (on_file,)
    assert result.kept == (elsewhere,)


def test_a_changed_file_is_no_longer_allowed(tmp_path: Path) -> None:
    pth = write(tmp_path / "site" / "vetted.pth", "import _vetted_hook\n")
    digest = hashlib.sha256(pth.read_bytes()).hexdigest()
    pth.write_text("import base64; exec(base64.b64decode('...'))\n")
    config = allow_config(tmp_path, "site/vetted.pth", digest)
    result = apply_policy([finding("WS-PTH-001", path=str(pth))], config, TODAY)
    assert len(result.kept) == 1 and result.suppressed == ()
    assert any("no longer allowed" in n and digest in n for n in result.notes)
    assert not any(n.startswith("stale allow") for n in result.notes)


def test_a_relative_finding_path_is_resolved_against_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ckpt = tmp_path / "models" / "a.pt"
    ckpt.parent.mkdir()
    ckpt.write_bytes(b"PK\x03\x04 vetted")
    config = allow_config(tmp_path, "models/a.pt", hashlib.sha256(ckpt.read_bytes()).hexdigest())
    monkeypatch.chdir(tmp_path)
    result = apply_policy([finding("WS-PICKLE-001", path="models/a.pt")], config, TODAY)
    assert len(result.suppressed) == 1


def test_an_allow_limited_to_a_rule_leaves_other_rules(tmp_path: Path) -> None:
    pth = write(tmp_path / "x.pth", "import y\n")
    digest = hashlib.sha256(pth.read_bytes()).hexdigest()
    config = allow_config(tmp_path, "x.pth", digest, rule="WS-PTH-002")
    allowed = finding("WS-PTH-002", path=str(pth))
    other = finding("WS-PTH-001", path=str(pth))
    result = apply_policy([allowed, other], config, TODAY)
    assert result.suppressed == (allowed,) and result.kept == (other,)


def test_a_missing_file_is_not_allowed(tmp_path: Path) -> None:
    config = allow_config(tmp_path, "*.pt", "a" * 64)
    result = apply_policy([finding("WS-PICKLE-001", path=str(tmp_path / "gone.pt"))], config, TODAY)
    assert len(result.kept) == 1
    assert any("cannot be read" in n for n in result.notes)


def test_an_unused_allow_is_stale(tmp_path: Path) -> None:
    config = allow_config(tmp_path, "*.pt", "a" * 64)
    assert apply_policy([], config, TODAY).notes[0].startswith("stale allow")
