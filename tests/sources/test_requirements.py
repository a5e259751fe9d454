from __future__ import annotations

from pathlib import Path

import pytest

from scanner.errors import SourceError
from scanner.models import Hash, PinKind
from scanner.sources.lockfiles import format_by_content, parse_lockfile
from scanner.sources.requirements import logical_lines, parse_requirements

H1 = "a" * 64
H2 = "b" * 64


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_pins_hashes_continuations_markers_extras(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "requirements.txt",
        (
            "# top comment\n"
            "--index-url https://example.org/simple\n"
            "--extra-index-url https://download.pytorch.org/whl/cu121\n"
            "--find-links ./wheels\n"
            "torch==2.4.0+cu121 ; sys_platform == 'linux' \\\n"
            f"    --hash=sha256:{H1} \\\n"
            f"    --hash=sha256:{H2}\n"
            "    # via something\n"
            f"requests[socks,security]==2.31.0 --hash sha256:{H1.upper()}  # trailing comment\n"
        ),
    )
    lf = parse_requirements(path)
    assert lf.indexes == ("https://example.org/simple", "https://download.pytorch.org/whl/cu121")
    assert lf.find_links == ("./wheels",)
    torch, requests = lf.packages
    assert (torch.name, torch.version, torch.kind, torch.line) == (
        "torch",
        "2.4.0+cu121",
        PinKind.PINNED,
        5,
    )
    assert torch.markers == 'sys_platform == "linux"'
    assert torch.hashes == (Hash("sha256", H1), Hash("sha256", H2))
    assert requests.extras == ("security", "socks")
    assert requests.hashes == (Hash("sha256", H1),)
    assert requests.line == 9


def test_unverifiable_entries_are_kept(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "requirements.txt",
        (
            "numpy>=1.26\n"
            "setuptools\n"
            "-e ./local-pkg\n"
            "-e git+https://github.com/org/repo.git@abc#egg=repo\n"
            "mypkg @ https://files.example.org/mypkg-1.0-py3-none-any.whl\n"
            "https://files.example.org/other-2.0.tar.gz\n"
            "./vendored/thing-1.0-py3-none-any.whl\n"
            "pandas==2.*\n"
        ),
    )
    kinds = [(p.name, p.kind) for p in parse_requirements(path).packages]
    assert kinds == [
        ("numpy", PinKind.UNPINNED),
        ("setuptools", PinKind.UNPINNED),
        ("local-pkg", PinKind.EDITABLE),
        ("repo", PinKind.EDITABLE),
        ("mypkg", PinKind.URL),
        ("other", PinKind.URL),
        ("thing", PinKind.PATH),
        ("pandas", PinKind.UNPINNED),
    ]


def test_includes_and_constraints(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    write(tmp_path, "sub/common.txt", "click==8.1.7\n-c ../constraints.txt\n")
    write(tmp_path, "constraints.txt", "urllib3==2.2.1\n")
    main = write(tmp_path, "requirements.txt", "-r sub/common.txt\nrich==13.7.1\n")
    lf = parse_requirements(main)
    assert [(p.name, p.groups) for p in lf.packages] == [
        ("click", ()),
        ("urllib3", ("constraint",)),
        ("rich", ()),
    ]
    assert [p.lockfile.name for p in lf.packages] == [
        "common.txt",
        "constraints.txt",
        "requirements.txt",
    ]
    assert len(lf.includes) == 2


def test_include_cycle_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", "-r b.txt\n")
    write(tmp_path, "b.txt", "--requirement=a.txt\n")
    with pytest.raises(SourceError, match="include cycle"):
        parse_requirements(tmp_path / "a.txt")


def test_missing_include_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "requirements.txt", "click==8.1.7\n-r nope.txt\n")
    with pytest.raises(SourceError, match=r"line 2: included file 'nope\.txt' not found"):
        parse_requirements(path)


@pytest.mark.parametrize(
    "text",
    [
        "==1.0\n",
        "foo==1.0 --hash=sha256\n",
        "foo==1.0 --hash=sha256:xyz\n",
        "foo[bar==1\n",
        "x == 1 'unterminated\n",
    ],
)
def test_malformed_lines_raise_source_error(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, "requirements.txt", text)
    with pytest.raises(SourceError) as exc:
        parse_requirements(path)
    assert str(path) in exc.value.diagnostics()
    assert "\n" not in exc.value.diagnostics()


def test_extra_index_without_index_url_keeps_pypi_first(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "reqs.txt",
        "--extra-index-url https://download.pytorch.org/whl/nightly/cu118\ntorchtriton==2.0.0\n",
    )
    assert parse_requirements(path).indexes == (
        "https://pypi.org/simple",
        "https://download.pytorch.org/whl/nightly/cu118",
    )


def test_logical_lines_comment_inside_continuation() -> None:
    assert logical_lines("a==1 \\\n  # via x\nb==2\n") == [(1, "a==1"), (3, "b==2")]


def test_real_pip_compile_file(lock_corpus: Path) -> None:
    path = lock_corpus / "requirements" / "pypi_warehouse__requirements-main.txt"
    assert format_by_content(path) == "requirements"
    lf = parse_lockfile(path)
    assert len(lf.packages) == 184
    assert all(p.kind is PinKind.PINNED and p.hashes for p in lf.packages)


def test_real_pytorch_include_chain(lock_corpus: Path, tmp_path: Path) -> None:
    # The corpus prefixes file names with the project; restore the names the -r lines use.
    src = lock_corpus / "requirements"
    for name in ("torch_cu121_linux.txt", "torch_common.txt"):
        (tmp_path / name).write_bytes((src / f"pytorch_serve__requirements-{name}").read_bytes())
    lf = parse_requirements(tmp_path / "torch_cu121_linux.txt")
    assert lf.indexes[1] == "https://download.pytorch.org/whl/cu121"
    torch = next(p for p in lf.packages if p.name == "torch")
    assert torch.version == "2.4.0+cu121"
    assert len(lf.packages) == 3 + 5  # MANIFEST.md: 3 pins in the file, 5 in the include


def test_index_url_that_does_not_parse_is_refused(tmp_path: Path) -> None:
    # every check that reads the index host would stop on it (urllib: "Invalid IPv6 URL")
    path = tmp_path / "requirements.txt"
    path.write_text("--extra-index-url https://[::1/simple\nrequests==2.31.0\n")
    with pytest.raises(SourceError) as info:
        parse_lockfile(path)
    line = info.value.diagnostics()
    assert "\n" not in line and str(path) in line
    assert "https://[::1/simple" in line
    # the same file with a well-formed index parses
    path.write_text("--extra-index-url https://[::1]/simple\nrequests==2.31.0\n")
    assert parse_lockfile(path).indexes[-1] == "https://[::1]/simple"
