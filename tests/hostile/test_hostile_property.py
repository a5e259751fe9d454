"""The property issue 17 asks for: every hostile case ends in exit 1 or 3, never 0, with
no traceback, and its process's peak memory stays under 500 MB."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.hostile.cases import BUILDERS, Case, build
from tests.hostile.test_hangs import MEMORY_BOUND, wormsign


@pytest.mark.parametrize("builder", BUILDERS, ids=lambda b: b.__name__.strip("_"))
def test_every_hostile_case_blocks_or_is_incomplete(
    builder: Callable[[Path, Path], Case], tmp_path: Path
) -> None:
    case = build(builder, tmp_path)
    code, out, err, peak = wormsign(*case.args)
    assert code in (1, 3), (case.name, code, err[-500:])
    assert "Traceback" not in out + err, case.name
    if code == 3:
        assert len(err.strip().splitlines()) == 1, (case.name, err)
    assert peak < MEMORY_BOUND, (case.name, peak >> 20)
