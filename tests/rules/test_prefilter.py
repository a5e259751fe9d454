"""The capability pre-filter: which sources are parsed at all.

A file the filter rejects is never analysed, so every way of reaching a process, the
network or exec must pass it; prose that merely mentions such words need not.
"""

from __future__ import annotations

import pytest

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
