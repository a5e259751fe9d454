"""The capability pre-filter: which sources are parsed at all.

A file the filter rejects is never analysed, so every way of reaching a process, the
network or exec must pass it; prose that merely mentions such words need not.
"""

from __future__ import annotations

import itertools
import re

import pytest

from scanner.checks.heuristics import pyast
from scanner.checks.heuristics.pyast import may_have_capability


@pytest.mark.parametrize(
    "source",
    [
        b"import os\nos.system('id')\n",
        b"from os import system\nsystem('id')\n",
        b"import os\nrun = os.system\nrun('id')\n",
        b"import os\ngetattr(os, 'system')('id')\n",
        b"import os\nf = getattr(os, 'sys' + 'tem')\n",
        b"_ = ''.join\nb = globals()[_(['_', '_'])]\n",
        b"import subprocess\nsubprocess.run(['id'])\n",
        b"import requests\nrequests.post('https://x', data={})\n",
        b"exec(payload)\n",
    ],
)
def test_ways_to_reach_a_capability_pass(source: bytes) -> None:
    assert may_have_capability(source)


@pytest.mark.parametrize(
    "source",
    [
        b'"""Works on any operating system."""\ndef f():\n    return 1\n',
        b"# read the system clock\nimport time\nNOW = time.time()\n",
        b"VALUE = globals()['__name__']\n",
        b"import re\nPATTERN = re.compile('x')\n",
    ],
)
def test_prose_and_plain_code_are_skipped(source: bytes) -> None:
    assert not may_have_capability(source)


def _fragments(token: bytes) -> list[bytes]:
    """Pieces that sit at the edges of each test: word characters, dots, quotes,
    whitespace, brackets, `import` lines, `=` and `os.`."""
    return [token, b"x", b"_", b".", b"'", b'"', b" ", b"\n", b"(", b"=", b"os.", b"import "]


@pytest.mark.parametrize("token", sorted(pyast._AMBIGUOUS))
def test_fast_spelling_of_each_ambiguous_test_agrees_with_its_reference(token: bytes) -> None:
    """The pre-filter runs each ambiguous test spelled to begin with a literal; on every
    arrangement of up to three edge pieces around the token both spellings must agree."""
    reference = re.compile(pyast._AMBIGUOUS[token])
    fast = pyast._AMBIGUOUS_RE[token]
    pieces = _fragments(token)
    seen = 0
    for n in range(1, 4):
        for combo in itertools.product(pieces, repeat=n):
            source = b"".join(combo)
            if token not in source:
                continue
            seen += 1
            expected = reference.search(source) is not None
            assert any(rx.search(source) for rx in fast) is expected, source
    assert seen > 30


def _reference(source: bytes) -> bool:
    """One substring search per token, confirmed for the ambiguous ones."""
    for token in pyast.CAPABILITY_TOKENS:
        if token in source:
            tests = pyast._AMBIGUOUS_RE.get(token)
            if tests is None or any(rx.search(source) for rx in tests):
                return True
    return False


def test_one_pass_over_the_plain_tokens_agrees_with_a_search_per_token() -> None:
    """Each token alone, inside a word, at the edges, and each with its last byte cut."""
    for token in pyast.CAPABILITY_TOKENS:
        for source in (
            token,
            b"x" + token + b"y",
            b"# " + token + b"\n",
            token[:-1],
            b"a = 1\n" + token[:-1] + b"\n",
            b"import os\n" + token + b"(x)\n",
        ):
            assert may_have_capability(source) is _reference(source), source
