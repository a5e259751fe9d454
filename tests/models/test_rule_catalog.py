"""The model rules' catalogue entries (rules/models/WS-*.toml): complete and true.

Every `match` example must make its rule fire and every `no-match` must not, when the file
is scanned the way `check_model_files` scans a real one.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from scanner.catalog import CatalogRule, load_catalog
from scanner.checks.models import check
from scanner.checks.models.check import default_policy, judge_model, load_policy
from scanner.checks.models.model_files import scan_model_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

RULES_DIR = Path(__file__).resolve().parents[2] / "rules" / "models"
CATALOG = [r for r in load_catalog() if r.engine == "models"]
DOCUMENTED = set(re.findall(r"(WS-(?:PICKLE|MODEL)-\d{3})", check.__doc__ or ""))
EXAMPLES = [(rule.id, i, t) for rule in CATALOG for i, t in enumerate(rule.examples)]


def test_catalog_covers_every_rule_the_check_emits() -> None:
    ids = {r.id for r in CATALOG}
    assert ids == DOCUMENTED
    assert {rid for rid, _ in check.ISSUE_RULES.values()} <= ids


@pytest.mark.parametrize("rule", CATALOG, ids=lambda r: r.id)
def test_every_model_rule_has_examples_and_references(rule: CatalogRule) -> None:
    assert rule.references
    assert {t["expect"] for t in rule.examples} == {"match", "no-match"}


@pytest.mark.parametrize(
    ("rule_id", "index", "example"), EXAMPLES, ids=[f"{r}-{i}" for r, i, _ in EXAMPLES]
)
def test_examples_are_true(
    rule_id: str, index: int, example: Mapping[str, Any], tmp_path: Path
) -> None:
    files = example["files"]
    assert isinstance(files, Mapping)
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
                "torch.jit._pickle.",  # identity functions (TorchScript list tags)
            )
        )
        for g in inside
    ), inside
