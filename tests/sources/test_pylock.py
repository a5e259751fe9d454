from __future__ import annotations

from pathlib import Path

from scanner.models import Hash, PinKind
from scanner.sources.lockfiles import format_by_content, format_by_name, parse_lockfile
from scanner.sources.pylock import parse_pylock
from tests.sources.lockhelpers import garbage_refused, refused, sweep_toml, write

H = [f"{i:064x}" for i in range(1, 10)]
FILES = "https://files.example/packages"

PYLOCK = f"""\
lock-version = "1.0"
environments = ["sys_platform == 'linux'", "sys_platform == 'darwin'"]
requires-python = ">=3.10"
extras = ["gpu"]
dependency-groups = ["dev"]
default-groups = ["default"]
created-by = "hand"

[[packages]]
name = "Attrs"
version = "25.1.0"
marker = "python_version >= '3.8'"
index = "https://pypi.org/simple"
sdist = {{ name = "attrs-25.1.0.tar.gz", url = "{FILES}/attrs-25.1.0.tar.gz", size = 810, upload-time = 2025-01-25T11:30:10Z, hashes = {{ sha256 = "{H[0]}" }} }}
wheels = [
    {{ url = "{FILES}/attrs-25.1.0-py3-none-any.whl", size = 63152, hashes = {{ sha256 = "{H[1]}", sha512 = "{H[2]}{H[2]}" }} }},
]

[[packages.attestation-identities]]
kind = "GitHub"
repository = "python-attrs/attrs"

[packages.tool.sometool]
anything = [1, 2]

[[packages]]
name = "torch"
version = "2.4.0+cu121"
index = "https://download.pytorch.org/whl/cu121"

[[packages.wheels]]
name = "torch-2.4.0+cu121-cp311-cp311-linux_x86_64.whl"
url = "https://download.pytorch.org/whl/cu121/torch-2.4.0%2Bcu121-cp311-cp311-linux_x86_64.whl"
hashes = {{ sha256 = "{H[3]}" }}

[[packages]]
name = "gitdep"
vcs = {{ type = "git", url = "https://github.com/org/gitdep", requested-revision = "main", commit-id = "0123456789abcdef0123456789abcdef01234567", subdirectory = "src" }}

[[packages]]
name = "myproj"
directory = {{ path = ".", editable = true }}

[[packages]]
name = "plain"
directory = {{ path = "libs/plain" }}

[[packages]]
name = "remote"
version = "2.0"
archive = {{ url = "https://example.org/remote-2.0.tar.gz", size = 10, hashes = {{ sha256 = "{H[4]}" }} }}

[[packages]]
name = "localarchive"
archive = {{ path = "dist/localarchive-1.0-py3-none-any.whl", hashes = {{ sha256 = "{H[5]}" }} }}

[tool.hand]
note = "ignored"
"""  # noqa: E501


def test_every_source_kind(tmp_path: Path) -> None:
    path = write(tmp_path, "pylock.toml", PYLOCK)
    lf = parse_pylock(path)
    assert lf.format == "pylock"
    assert lf.indexes == ("https://pypi.org/simple", "https://download.pytorch.org/whl/cu121")
    assert lf.options[:2] == (("lock-version", "1.0"), ("created-by", "hand"))
    assert ("environment", "sys_platform == 'darwin'") in lf.options
    lines = PYLOCK.splitlines()
    assert all(p.line and lines[p.line - 1] == "[[packages]]" for p in lf.packages)
    attrs, torch, gitdep, proj, plain, remote, local = lf.packages

    assert (attrs.name, attrs.version, attrs.kind) == ("attrs", "25.1.0", PinKind.PINNED)
    assert attrs.markers == "python_version >= '3.8'"
    sdist, wheel = attrs.artifacts
    assert (sdist.filename, sdist.size) == ("attrs-25.1.0.tar.gz", 810)
    assert wheel.filename == "attrs-25.1.0-py3-none-any.whl"
    assert wheel.hashes == (Hash("sha256", H[1]), Hash("sha512", H[2] * 2))

    assert torch.artifacts[0].filename == "torch-2.4.0+cu121-cp311-cp311-linux_x86_64.whl"
    assert torch.index == "https://download.pytorch.org/whl/cu121"

    assert (gitdep.kind, gitdep.version, gitdep.artifacts) == (PinKind.GIT, None, ())
    assert gitdep.source_url == (
        "git+https://github.com/org/gitdep"
        "@0123456789abcdef0123456789abcdef01234567#subdirectory=src"
    )
    assert (proj.kind, proj.source_url) == (PinKind.EDITABLE, ".")
    assert (plain.kind, plain.source_url) == (PinKind.DIRECTORY, "libs/plain")
    assert (remote.kind, remote.source_url) == (
        PinKind.URL,
        "https://example.org/remote-2.0.tar.gz",
    )
    assert remote.artifacts[0].filename == "remote-2.0.tar.gz"
    assert remote.hashes == (Hash("sha256", H[4]),)
    assert (local.kind, local.artifacts[0].filename) == (
        PinKind.PATH,
        "localarchive-1.0-py3-none-any.whl",
    )


def test_named_lock_files_are_found_and_sniffed(tmp_path: Path) -> None:
    assert format_by_name(Path("pylock.gpu.toml")) == "pylock"
    path = write(tmp_path, "deps.toml", PYLOCK)
    assert format_by_content(path) == "pylock"
    assert len(parse_lockfile(path).packages) == 7


DUPLICATE_WHEEL = f"""\
lock-version = "1.0"
created-by = "pipenv"

[[packages]]
name = "pytz"
version = "2026.1"
index = "https://pypi.org/simple/"
wheels = [
    {{name = "pytz-2026.1-py3-none-any.whl", url = "https://pypi.org/simple/pytz/pytz-2026.1-py3-none-any.whl", hashes = {{sha256 = "{H[6]}"}}}},
    {{name = "pytz-2026.1-py3-none-any.whl", url = "https://pypi.org/simple/pytz/pytz-2026.1-py3-none-any.whl", hashes = {{sha256 = "{H[7]}"}}}},
]
"""  # noqa: E501


def test_spec_breaking_files_are_refused_with_the_reason(tmp_path: Path) -> None:
    refused(
        parse_pylock,
        write(tmp_path, "dup.toml", DUPLICATE_WHEEL),
        "line 4",
        "package 'pytz'",
        "wheel 'pytz-2026.1-py3-none-any.whl' is listed more than once with different hashes",
    )
    same_hash = DUPLICATE_WHEEL.replace(H[7], H[6])
    line = refused(parse_pylock, write(tmp_path, "dup2.toml", same_hash), "more than once")
    assert "different hashes" not in line
    both = PYLOCK.replace(
        'directory = { path = "libs/plain" }',
        'directory = { path = "libs/plain" }\n'
        f'archive = {{ url = "https://e.org/p.zip", '
        f'hashes = {{ sha256 = "{H[8]}" }} }}',
    )
    refused(
        parse_pylock,
        write(tmp_path, "both.toml", both),
        "package 'plain'",
        "has directory and archive",
        "mutually exclusive",
    )
    vcs_wheels = PYLOCK.replace('subdirectory = "src" }', 'subdirectory = "src" }\nwheels = []')
    refused(parse_pylock, write(tmp_path, "vcsw.toml", vcs_wheels), "has vcs and wheels")
    no_version = PYLOCK.replace('lock-version = "1.0"\n', "")
    refused(
        parse_pylock,
        write(tmp_path, "nolv.toml", no_version),
        "missing required key 'lock-version'",
    )
    refused(
        parse_pylock,
        write(tmp_path, "lv2.toml", PYLOCK.replace('lock-version = "1.0"', 'lock-version = "2.0"')),
        "unsupported lock-version '2.0'",
    )
    refused(
        parse_pylock,
        write(tmp_path, "nocb.toml", PYLOCK.replace('created-by = "hand"\n', "")),
        "missing required key 'created-by'",
    )
    refused(
        parse_pylock,
        write(
            tmp_path,
            "nohash.toml",
            PYLOCK.replace(f'size = 10, hashes = {{ sha256 = "{H[4]}" }}', "size = 10"),
        ),
        "package 'remote'",
        "archive",
        "has no 'hashes'",
    )
    refused(
        parse_pylock,
        write(tmp_path, "nosrc.toml", PYLOCK.replace('directory = { path = "libs/plain" }', "")),
        "package 'plain'",
        "names no source",
    )
    refused(
        parse_pylock,
        write(
            tmp_path,
            "nocommit.toml",
            PYLOCK.replace('commit-id = "0123456789abcdef0123456789abcdef01234567", ', ""),
        ),
        "missing required key 'commit-id'",
    )
    no_packages = 'lock-version = "1.0"\ncreated-by = "x"\n'
    refused(
        parse_pylock,
        write(tmp_path, "nopkgs.toml", no_packages),
        "missing required array 'packages'",
    )


def test_wrong_types_are_refused(tmp_path: Path) -> None:
    refused(
        parse_pylock,
        write(tmp_path, "a.toml", PYLOCK.replace('lock-version = "1.0"', "lock-version = 1.0")),
        "'lock-version' must be a string, not a float",
    )
    refused(
        parse_pylock,
        write(
            tmp_path,
            "b.toml",
            PYLOCK.replace('directory = { path = ".", editable = true }', 'directory = "."'),
        ),
        "'directory' must be a table, not a string",
    )
    refused(
        parse_pylock,
        write(tmp_path, "c.toml", PYLOCK.replace("size = 63152", 'size = "big"')),
        "'size' must be an integer",
    )
    refused(
        parse_pylock,
        write(tmp_path, "d.toml", PYLOCK.replace("editable = true", 'editable = "yes"')),
        "'editable' must be a boolean",
    )
    refused(
        parse_pylock,
        write(tmp_path, "e.toml", PYLOCK.replace(f'sha256 = "{H[3]}"', "sha256 = 5")),
        "hash 'sha256' must be a string",
    )


def test_garbage_truncation_and_wrong_types_never_crash(tmp_path: Path) -> None:
    garbage_refused(parse_pylock, tmp_path, "pylock.toml")
    assert sweep_toml(parse_pylock, tmp_path, "pylock.toml", PYLOCK) > 400
