"""A whole-model save of torch's own layers is reported for what it is (WS-PICKLE-005, low:
loading it needs weights_only=False), not blocked as unknown code; anything else in such a
file is judged as before. Files are built from bytes torch wrote, or by hand: never loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.checks.models.check import default_policy, judge_model, load_policy
from scanner.checks.models.model_files import scan_model_file
from scanner.errors import RuleError
from scanner.models import Finding, Severity
from tests.models import picklekit as pk
from tests.models.picklekit import call, glob, torch_whole_model, torch_zip, ustr

ROOT = Path(__file__).resolve().parents[2]


def _judge(tmp_path: Path, data_pkl: bytes) -> dict[str, Finding]:
    path = torch_zip(tmp_path / "model.pt", data_pkl, storages=0)
    return {f.rule_id: f for f in judge_model(scan_model_file(path), default_policy())}


def test_torch_save_of_a_sequential_is_low_not_blocking(tmp_path: Path) -> None:
    found = _judge(tmp_path, pk.TORCH_SEQUENTIAL_DATA_PKL)
    assert set(found) == {"WS-PICKLE-005"}
    finding = found["WS-PICKLE-005"]
    assert finding.severity is Severity.LOW
    assert "whole-model save" in finding.message
    assert "weights_only=False" in finding.message
    for name in ("Sequential", "Linear", "BatchNorm1d"):
        assert name in finding.message


def test_hand_built_whole_model_is_the_same_judgement(tmp_path: Path) -> None:
    assert set(_judge(tmp_path, torch_whole_model())) == {"WS-PICKLE-005"}


@pytest.mark.parametrize(
    ("extra", "rule", "severity"),
    [
        # a payload beside the layers: the file still blocks, at critical
        (call("os", "system", ustr("id")), "WS-PICKLE-001", Severity.CRITICAL),
        (call("builtins", "eval", ustr("1")), "WS-PICKLE-001", Severity.CRITICAL),
        (call("torch.hub", "load", ustr("a/b"), ustr("m")), "WS-PICKLE-001", Severity.CRITICAL),
        (call("torch", "load", ustr("other.pt")), "WS-PICKLE-001", Severity.CRITICAL),
        # reached through a torch.nn module's namespace: an attribute walk to a dangerous name
        (glob("torch.nn.modules.module", "functools.partial"), "WS-PICKLE-001", Severity.CRITICAL),
        (glob("torch.nn.modules.linear", "Linear.__init__"), "WS-PICKLE-001", Severity.CRITICAL),
        # a name a torch.nn module only imports (a re-export), and a function defined there:
        # neither is a class torch defines in torch.nn.modules
        (glob("torch.nn.modules.module", "Popen"), "WS-PICKLE-002", Severity.HIGH),
        (
            call("torch.nn.modules.module", "register_module_forward_hook", b"N"),
            "WS-PICKLE-002",
            Severity.HIGH,
        ),
        # the model's own class, as torch.save writes a user's nn.Module subclass
        (glob("__main__", "MyNet"), "WS-PICKLE-002", Severity.HIGH),
    ],
)
def test_whatever_else_a_whole_model_save_imports_still_blocks(
    tmp_path: Path, extra: bytes, rule: str, severity: Severity
) -> None:
    found = _judge(tmp_path, torch_whole_model(extra))
    assert rule in found, found
    assert found[rule].severity is severity
    assert "WS-PICKLE-005" in found  # the layers are still said for what they are


def test_catalogue_lists_only_classes_torch_defines() -> None:
    policy = default_policy()
    assert "torch.nn.modules.linear.Linear" in policy.torch_nn
    assert "torch.nn.modules.container.Sequential" in policy.torch_nn
    # re-exports and functions of those modules are not classes defined there
    assert "torch.nn.modules.module.OrderedDict" not in policy.torch_nn
    assert "torch.nn.modules.module.register_module_forward_hook" not in policy.torch_nn
    assert all(q.startswith("torch.nn.modules.") for q in policy.torch_nn)
    assert all(policy.danger(q) is None for q in policy.torch_nn)


def test_generator_keeps_class_statements_only() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "gen_torch_nn_classes", ROOT / "scripts" / "gen_torch_nn_classes.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = (
        "from subprocess import Popen\nimport os\nclass Linear(Module):\n    pass\n"
        "Alias = Linear\ndef helper():\n    class Inner: pass\n"
    )
    assert module.defined_classes(text) == ["Linear"]


def test_without_the_catalogue_a_whole_model_save_is_unknown(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    for name in ("pickle-allowlist.toml", "pickle-dangerous.toml"):
        (rules / name).write_bytes((ROOT / "rules" / "models" / name).read_bytes())
    policy = load_policy(rules)
    path = torch_zip(tmp_path / "model.pt", pk.TORCH_SEQUENTIAL_DATA_PKL, storages=0)
    found = {f.rule_id for f in judge_model(scan_model_file(path), policy)}
    assert found == {"WS-PICKLE-002"}
    (rules / "torch-nn-classes.toml").write_text("[modules]\nx = 1\n", encoding="utf-8")
    with pytest.raises(RuleError):
        load_policy(rules)
