"""An installed platform wheel that says Root-Is-Purelib: true (the nvidia-* CUDA wheels:
`Tag: py3-none-manylinux_2_27_x86_64`) is not a pure-Python wheel: its shared libraries
are where they belong. The same library in a `none-any` wheel still is WS-BIN-001."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.checks.heuristics.check import match_binary, view_of_installed
from scanner.checks.heuristics.rules import BinaryMatcher, load_rules
from scanner.sources.environment import collect_environment
from tests.helpers.wheels import install_wheel, make_site_packages, make_wheel

ELF = b"\x7fELF\x02\x01\x01" + b"\0" * 200


@pytest.mark.parametrize(
    ("tag", "flagged"),
    [("py3-none-manylinux_2_27_x86_64", False), ("py3-none-any", True)],
)
def test_platform_tag_decides_purity(tmp_path: Path, tag: str, flagged: bool) -> None:
    site = make_site_packages(tmp_path / "venv")
    files = {"nvidia/cu13/lib/libcublas.so.13": ELF, "nvidia/cu13/__init__.py": ""}
    install_wheel(make_wheel(tmp_path, "nvidia-cublas", "13.0", files, tag=tag), site)
    (dist,) = collect_environment(site).distributions
    view = view_of_installed(dist)
    assert view is not None and view.pure is flagged
    bin001 = next(r for r in load_rules() if r.id == "WS-BIN-001")
    assert isinstance(bin001.matcher, BinaryMatcher)
    assert bool(list(match_binary(bin001.matcher, view))) is flagged
