"""The `[models]` allowlist from a config file takes effect, end to end through the CLI."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from click.testing import CliRunner

from scanner.cli import main
from tests.models import picklekit as kit

# A checkpoint whose pickle imports the user's own config class: not on the shipped
# allowlist, so WS-PICKLE-002 unless the project vets it.
OWN_CLASS = kit.program(kit.glob("mypkg.config", "TrainConfig") + kit.EMPTY_TUPLE + kit.REDUCE)


def _scan(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["scan", "--check", "models", *args])
    return result.exit_code, result.stdout, result.stderr


def test_a_models_allowlist_by_sha256_removes_only_the_vetted_file(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / "vetted.pt").write_bytes(OWN_CLASS)
    (models / "changed.pt").write_bytes(OWN_CLASS + b"\x00")  # same global, other bytes
    digest = hashlib.sha256(OWN_CLASS).hexdigest()
    config = tmp_path / "wormsign.toml"
    config.write_text(
        "[[models.allow]]\n"
        f'sha256 = "{digest}"\n'
        'globals = ["mypkg.config.TrainConfig"]\n'
        'reason = "our own training config class"\n'
    )

    code, out, err = _scan(str(models), "--config", str(config), "--format", "json")
    assert code == 1, err
    findings = json.loads(out)["findings"]
    assert [(f["rule_id"], Path(f["path"]).name) for f in findings] == [
        ("WS-PICKLE-002", "changed.pt")
    ]
    assert "[[tool.wormsign.models.allow]]" in findings[0]["remediation"]

    # Without the config both files are findings: the allowlist is what removed one.
    config.write_text("")
    code, out, _ = _scan(str(models), "--config", str(config), "--format", "json")
    assert code == 1
    assert sorted(Path(f["path"]).name for f in json.loads(out)["findings"]) == [
        "changed.pt",
        "vetted.pt",
    ]


def test_the_same_allowlist_under_tool_wormsign_in_pyproject(tmp_path: Path) -> None:
    (tmp_path / "vetted.pt").write_bytes(OWN_CLASS)
    digest = hashlib.sha256(OWN_CLASS).hexdigest()
    (tmp_path / "pyproject.toml").write_text(
        "[tool.wormsign]\n"
        "[[tool.wormsign.models.allow]]\n"
        f'sha256 = "sha256:{digest.upper()}"\n'
        'globals = ["mypkg.config.*"]\n'
        'reason = "vetted"\n'
    )
    code, out, err = _scan(str(tmp_path / "vetted.pt"), "--format", "json")
    assert code == 0, (out, err)
    assert json.loads(out)["findings"] == []


def test_an_unknown_models_key_is_a_usage_error_naming_the_known_ones(tmp_path: Path) -> None:
    (tmp_path / "run.pt").write_bytes(OWN_CLASS)
    config = tmp_path / "wormsign.toml"
    config.write_text('[models]\nmodel_allowlist = ["mypkg.config.TrainConfig"]\n')
    code, out, err = _scan(str(tmp_path / "run.pt"), "--config", str(config))
    assert code == 2, (out, err)
    assert "`models.model-allowlist` is not a known key" in err
    assert "known keys: allow" in err
    assert str(config) in err
    assert "Traceback" not in err
