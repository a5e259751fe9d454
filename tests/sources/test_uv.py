from __future__ import annotations

from pathlib import Path

from scanner.models import Hash, PinKind
from scanner.sources.lockfiles import format_by_content, parse_lockfile
from scanner.sources.uv import parse_uv_lock
from tests.sources.lockhelpers import garbage_refused, refused, sweep_toml, write

H = [f"{i:064x}" for i in range(1, 12)]
PT = "https://download.pytorch.org/whl"

UV = f"""\
version = 1
revision = 3
requires-python = ">=3.10"
resolution-markers = [
    "sys_platform == 'linux'",
    "sys_platform != 'linux'",
]

[options]
index-strategy = "unsafe-best-match"
exclude-newer = "2025-01-01T00:00:00Z"

[options.exclude-newer-package]
torch = "2025-02-01T00:00:00Z"

[manifest]
members = ["app", "lib"]
overrides = [{{ name = "numpy", specifier = "<2" }}]
constraints = [{{ name = "urllib3", specifier = ">=2", marker = "python_full_version >= '3.10'" }}]

[[package]]
name = "app"
version = "0.1.0"
source = {{ virtual = "." }}
dependencies = [
    {{ name = "torch", version = "2.4.0", source = {{ registry = "https://pypi.org/simple" }}, marker = "sys_platform != 'linux'" }},
    {{ name = "torch", version = "2.4.0+cu121", source = {{ registry = "{PT}/cu121" }}, marker = "sys_platform == 'linux'" }},
    {{ name = "requests", extra = ["socks"] }},
]

[package.dev-dependencies]
dev = [
    {{ name = "requests", extra = ["security"] }},
]

[[package]]
name = "torch"
version = "2.4.0"
source = {{ registry = "https://pypi.org/simple" }}
resolution-markers = [
    "sys_platform != 'linux'",
]
sdist = {{ url = "https://files.example/torch-2.4.0.tar.gz", hash = "sha256:{H[0]}", size = 1234, upload-time = "2024-07-24T00:00:00Z" }}
wheels = [
    {{ url = "https://files.example/torch-2.4.0-cp311-none-macosx_11_0_arm64.whl", hash = "sha256:{H[1]}", size = 99 }},
]

[[package]]
name = "torch"
version = "2.4.0+cu121"
source = {{ registry = "{PT}/cu121" }}
resolution-markers = [
    "sys_platform == 'linux' and platform_machine == 'x86_64'",
    "sys_platform == 'linux' and platform_machine == 'aarch64'",
]
wheels = [
    {{ url = "{PT}/cu121/torch-2.4.0%2Bcu121-cp311-cp311-linux_x86_64.whl", hash = "sha256:{H[2]}" }},
]

[[package]]
name = "Requests"
version = "2.32.3"
source = {{ registry = "https://pypi.org/simple" }}
wheels = [
    {{ url = "https://files.example/requests-2.32.3-py3-none-any.whl" }},
]

[[package]]
name = "lib"
version = "0.2.0"
source = {{ editable = "packages/lib" }}

[[package]]
name = "plain"
version = "1.0"
source = {{ directory = "packages/plain" }}

[[package]]
name = "gitdep"
version = "0.3.0"
source = {{ git = "https://github.com/org/gitdep?rev=main#0123456789abcdef0123456789abcdef01234567" }}

[[package]]
name = "urldep"
version = "1.0"
source = {{ url = "https://example.org/urldep-1.0.tar.gz", subdirectory = "pkg" }}
sdist = {{ hash = "sha256:{H[3]}" }}

[[package]]
name = "pathdep"
version = "2.0"
source = {{ path = "dist/pathdep-2.0-py3-none-any.whl" }}
wheels = [
    {{ filename = "pathdep-2.0-py3-none-any.whl", hash = "sha256:{H[4]}" }},
]

[[package]]
name = "localindex"
version = "1.0"
source = {{ registry = "../wheelhouse" }}
wheels = [
    {{ path = "localindex-1.0-py3-none-any.whl", hash = "sha256:{H[5]}" }},
]
"""  # noqa: E501


def test_every_source_kind_and_several_versions(tmp_path: Path) -> None:
    path = write(tmp_path, "uv.lock", UV)
    lf = parse_uv_lock(path)
    assert lf.format == "uv"
    assert lf.indexes == ("https://pypi.org/simple", f"{PT}/cu121", "../wheelhouse")
    names = [(p.name, p.version) for p in lf.packages]
    assert names == [
        ("app", "0.1.0"),
        ("torch", "2.4.0"),
        ("torch", "2.4.0+cu121"),
        ("requests", "2.32.3"),
        ("lib", "0.2.0"),
        ("plain", "1.0"),
        ("gitdep", "0.3.0"),
        ("urldep", "1.0"),
        ("pathdep", "2.0"),
        ("localindex", "1.0"),
    ]
    lines = UV.splitlines()
    assert all(p.line and lines[p.line - 1] == "[[package]]" for p in lf.packages)
    app, torch, torch_cu, requests, lib, plain, gitdep, urldep, pathdep, local = lf.packages

    assert (app.kind, app.source_url, app.index) == (PinKind.VIRTUAL, ".", None)
    assert (torch.kind, torch.index, torch.markers) == (
        PinKind.PINNED,
        "https://pypi.org/simple",
        "sys_platform != 'linux'",
    )
    sdist, wheel = torch.artifacts
    assert (sdist.filename, sdist.size, sdist.hashes) == (
        "torch-2.4.0.tar.gz",
        1234,
        (Hash("sha256", H[0]),),
    )
    assert (wheel.filename, wheel.size) == ("torch-2.4.0-cp311-none-macosx_11_0_arm64.whl", 99)
    assert torch_cu.index == f"{PT}/cu121"
    assert torch_cu.markers == (
        "(sys_platform == 'linux' and platform_machine == 'x86_64') or "
        "(sys_platform == 'linux' and platform_machine == 'aarch64')"
    )
    # The URL is percent-encoded; the file name is not.
    assert torch_cu.artifacts[0].filename == "torch-2.4.0+cu121-cp311-cp311-linux_x86_64.whl"
    assert requests.extras == ("security", "socks")
    assert requests.artifacts[0].hashes == ()
    assert (lib.kind, lib.source_url) == (PinKind.EDITABLE, "packages/lib")
    assert (plain.kind, plain.source_url) == (PinKind.DIRECTORY, "packages/plain")
    assert gitdep.kind is PinKind.GIT
    assert gitdep.source_url == (
        "git+https://github.com/org/gitdep?rev=main#0123456789abcdef0123456789abcdef01234567"
    )
    assert (urldep.kind, urldep.source_url) == (
        PinKind.URL,
        "https://example.org/urldep-1.0.tar.gz#subdirectory=pkg",
    )
    assert urldep.artifacts[0].filename == "urldep-1.0.tar.gz"
    assert urldep.hashes == (Hash("sha256", H[3]),)
    assert pathdep.kind is PinKind.PATH
    assert pathdep.artifacts[0].filename == "pathdep-2.0-py3-none-any.whl"
    assert local.artifacts[0].filename == "localindex-1.0-py3-none-any.whl"


def test_options_and_manifest_recorded(tmp_path: Path) -> None:
    lf = parse_uv_lock(write(tmp_path, "uv.lock", UV))
    assert lf.options == (
        ("revision", "3"),
        ("index-strategy", "unsafe-best-match"),
        ("exclude-newer", "2025-01-01T00:00:00Z"),
        ("exclude-newer-package.torch", "2025-02-01T00:00:00Z"),
        ("manifest-members", "app"),
        ("manifest-members", "lib"),
        ("manifest-constraints", "urllib3>=2 ; python_full_version >= '3.10'"),
        ("manifest-overrides", "numpy<2"),
    )


def test_revision_1_without_upload_times(tmp_path: Path) -> None:
    text = UV.replace("revision = 3", "revision = 1").replace(
        ', upload-time = "2024-07-24T00:00:00Z"', ""
    )
    lf = parse_uv_lock(write(tmp_path, "uv.lock", text))
    assert lf.options[0] == ("revision", "1")
    assert len(lf.packages) == 10


def test_detected_by_content(tmp_path: Path) -> None:
    path = write(tmp_path, "whatever.txt", UV)
    assert format_by_content(path) == "uv"
    assert parse_lockfile(path).format == "uv"


def test_malformed_input_is_refused(tmp_path: Path) -> None:
    refused(
        parse_uv_lock,
        write(tmp_path, "a.lock", UV.replace("version = 1\n", "version = 2\n", 1)),
        "unsupported uv.lock version 2",
    )
    refused(
        parse_uv_lock,
        write(tmp_path, "b.lock", UV.replace("version = 1\n", "", 1)),
        "missing required key 'version'",
    )
    refused(
        parse_uv_lock,
        write(
            tmp_path,
            "c.lock",
            UV.replace('source = { virtual = "." }', 'source = { virtual = ".", editable = "." }'),
        ),
        "line 21",
        "'source' must name exactly one of",
    )
    refused(
        parse_uv_lock,
        write(tmp_path, "d.lock", UV.replace('source = { directory = "packages/plain" }', "")),
        "package 'plain'",
        "missing required table 'source'",
    )
    refused(
        parse_uv_lock,
        write(tmp_path, "e.lock", UV.replace("size = 99", "size = -1")),
        "'size' must not be negative",
    )
    refused(
        parse_uv_lock,
        write(tmp_path, "f.lock", UV.replace(f"sha256:{H[2]}", "sha256:xyz")),
        "is not a hex digest",
    )
    refused(
        parse_uv_lock,
        write(tmp_path, "g.lock", UV.replace('version = "2.32.3"\n', "")),
        "a package from a registry must have a 'version'",
    )
    refused(
        parse_uv_lock,
        write(tmp_path, "h.lock", UV.replace("wheels = [", 'wheels = "x"\nw = [', 1)),
        "'wheels' must be an array, not a string",
    )
    refused(
        parse_uv_lock, write(tmp_path, "i.lock", UV[: UV.index("[[package]]") + 30]), "invalid TOML"
    )


def test_garbage_truncation_and_wrong_types_never_crash(tmp_path: Path) -> None:
    garbage_refused(parse_uv_lock, tmp_path, "uv.lock")
    assert sweep_toml(parse_uv_lock, tmp_path, "uv.lock", UV) > 500
