"""The model rules' metadata (rules/models/model-rules.toml): valid, complete, and true.

Every `match` example must make its rule fire and every `no-match` must not, when the file
is scanned the way `check_model_files` scans a real one.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from scanner.checks.models import check
from scanner.checks.models.check import default_policy, judge_model, load_policy
from scanner.checks.models.model_files import scan_model_file
from scanner.models import Severity

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

RULES_DIR = Path(__file__).resolve().parents[2] / "rules" / "models"
CATALOG = tomllib.loads((RULES_DIR / "model-rules.toml").read_text(encoding="utf-8"))["rule"]
DOCUMENTED = set(re.findall(r"(WS-(?:PICKLE|MODEL)-\d{3})", check.__doc__ or ""))
EXAMPLES = [(rule["id"], i, t) for rule in CATALOG for i, t in enumerate(rule["tests"])]


def test_catalog_covers_every_rule_the_check_emits() -> None:
    ids = [r["id"] for r in CATALOG]
    assert len(ids) == len(set(ids))
    assert set(ids) == DOCUMENTED
    assert {rid for rid, _ in check.ISSUE_RULES.values()} <= set(ids)


@pytest.mark.parametrize("rule", CATALOG, ids=lambda r: r["id"])
def test_rule_fields(rule: dict[str, object]) -> None:
    assert re.fullmatch(r"WS-[A-Z0-9]+-\d{3}", str(rule["id"]))
    Severity.parse(str(rule["severity"]))
    assert re.fullmatch(r"[a-z0-9-]+(?:\.[a-z0-9-]+){2,}", str(rule["identifies"]))
    assert rule["title"] and rule["description"] and rule["references"]
    tests = rule["tests"]
    assert isinstance(tests, list)
    assert {t["expect"] for t in tests} == {"match", "no-match"}


@pytest.mark.parametrize(
    ("rule_id", "index", "example"), EXAMPLES, ids=[f"{r}-{i}" for r, i, _ in EXAMPLES]
)
def test_examples_are_true(
    rule_id: str, index: int, example: dict[str, object], tmp_path: Path
) -> None:
    files = example["files"]
    assert isinstance(files, dict)
    fired: set[str] = set()
    for name, spec in files.items():
        path = tmp_path / name
        path.write_bytes(bytes.fromhex(spec["hex"]))
        fired |= {f.rule_id for f in judge_model(scan_model_file(path), default_policy())}
    assert (rule_id in fired) == (example["expect"] == "match"), (example["note"], fired)


def test_allowlist_and_dangerous_lists_do_not_contradict() -> None:
    policy = load_policy(RULES_DIR)
    for qualname in policy.dangerous_globals:
        assert not policy.allowed(qualname), qualname
    raw = tomllib.loads((RULES_DIR / "pickle-allowlist.toml").read_text(encoding="utf-8"))
    allowed = [g for table in raw["allow"] for g in table["globals"]]
    # The only vetted exceptions inside dangerous modules are plain data constructors.
    inside = sorted(g for g in allowed if "*" not in g and policy.danger(g) is not None)
    assert all(
        g.startswith(
            (
                "builtins.",
                "copyreg._reconstructor",
                "joblib.numpy_pickle.",
                "sklearn.externals.joblib.",
            )
        )
        for g in inside
    ), inside
