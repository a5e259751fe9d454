from __future__ import annotations

import json
from pathlib import Path

from scanner.models import Hash, PinKind
from scanner.sources.lockfiles import format_by_content, parse_lockfile
from scanner.sources.pipfile import json_key_lines, parse_pipfile_lock
from tests.sources.lockhelpers import garbage_refused, refused, sweep_json, write

H = [f"{i:064x}" for i in range(1, 8)]

LOCK = {
    "_meta": {
        "hash": {"sha256": H[0]},
        "pipfile-spec": 6,
        "requires": {"python_version": "3.11"},
        "sources": [
            {"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": True},
            {
                "name": "pytorch",
                "url": "https://download.pytorch.org/whl/cu121",
                "verify_ssl": True,
            },
        ],
    },
    "default": {
        "Requests": {
            "extras": ["socks"],
            "hashes": [f"sha256:{H[1]}", f"sha256:{H[2]}"],
            "index": "pypi",
            "markers": "python_version >= '3.8'",
            "version": "==2.31.0",
        },
        "torch": {"hashes": [f"sha256:{H[3]}"], "index": "pytorch", "version": "==2.4.0+cu121"},
        "loose": {"version": "*"},
        "noindex": {"hashes": [f"sha256:{H[4]}"], "version": "==1.0"},
    },
    "develop": {
        "myproj": {"editable": True, "path": "."},
        "towncrier": {
            "editable": True,
            "git": "https://github.com/hawkowl/towncrier.git",
            "ref": "491eec5e07e971894aa41b7c6f7892023d81bb81",
        },
        "gitdep": {"git": "https://github.com/org/gitdep.git", "ref": "v1", "subdirectory": "src"},
        "localwheel": {"path": "./dist/localwheel-1.0-py3-none-any.whl"},
        "remote": {"file": "https://example.org/remote-2.0.tar.gz", "hashes": [f"sha256:{H[5]}"]},
        "requests": {"hashes": [f"sha256:{H[6]}"], "version": "==2.31.0"},
    },
}
TEXT = json.dumps(LOCK, indent=4, sort_keys=False) + "\n"


def test_categories_sources_and_every_entry_kind(tmp_path: Path) -> None:
    path = write(tmp_path, "Pipfile.lock", TEXT)
    lf = parse_pipfile_lock(path)
    assert lf.format == "pipfile"
    assert lf.indexes == ("https://pypi.org/simple", "https://download.pytorch.org/whl/cu121")
    assert ("pipfile-spec", "6") in lf.options
    pkgs = {(p.groups[0], p.name): p for p in lf.packages}
    assert len(lf.packages) == 10
    lines = TEXT.splitlines()
    for pkg in pkgs.values():
        assert pkg.line is not None
        assert lines[pkg.line - 1].strip().endswith(": {")

    req = pkgs[("default", "requests")]
    assert req.line is not None and '"Requests": {' in lines[req.line - 1]
    assert (req.version, req.kind, req.index, req.extras) == (
        "2.31.0",
        PinKind.PINNED,
        "https://pypi.org/simple",
        ("socks",),
    )
    assert req.markers == "python_version >= '3.8'"
    assert req.hashes == (Hash("sha256", H[1]), Hash("sha256", H[2]))
    # The per-package index name maps to that source's URL.
    torch = pkgs[("default", "torch")]
    assert (torch.version, torch.index) == ("2.4.0+cu121", "https://download.pytorch.org/whl/cu121")
    loose = pkgs[("default", "loose")]
    assert (loose.version, loose.kind, loose.requirement) == (None, PinKind.UNPINNED, "loose*")
    # Two sources and no `index`: pipenv may take it from either, so none is claimed.
    assert pkgs[("default", "noindex")].index is None

    dev_requests = pkgs[("develop", "requests")]
    assert dev_requests.groups == ("develop",) and dev_requests.line != req.line
    proj = pkgs[("develop", "myproj")]
    assert (proj.kind, proj.source_url, proj.version) == (PinKind.EDITABLE, ".", None)
    town = pkgs[("develop", "towncrier")]
    assert town.kind is PinKind.EDITABLE
    assert town.source_url == (
        "git+https://github.com/hawkowl/towncrier.git@491eec5e07e971894aa41b7c6f7892023d81bb81"
    )
    gitdep = pkgs[("develop", "gitdep")]
    assert (gitdep.kind, gitdep.source_url) == (
        PinKind.GIT,
        "git+https://github.com/org/gitdep.git@v1#subdirectory=src",
    )
    assert pkgs[("develop", "localwheel")].kind is PinKind.PATH
    remote = pkgs[("develop", "remote")]
    assert remote.kind is PinKind.URL
    assert remote.artifacts[0].filename == "remote-2.0.tar.gz"
    assert remote.artifacts[0].url == "https://example.org/remote-2.0.tar.gz"


def test_single_source_is_every_pin_s_index(tmp_path: Path) -> None:
    lock = json.loads(TEXT)
    lock["_meta"]["sources"] = lock["_meta"]["sources"][:1]
    del lock["default"]["torch"]
    lf = parse_pipfile_lock(write(tmp_path, "Pipfile.lock", json.dumps(lock)))
    assert {p.index for p in lf.packages if p.kind is PinKind.PINNED} == {"https://pypi.org/simple"}


def test_json_key_lines_handles_escapes_and_compact_json() -> None:
    text = '{"_meta": {"a": "x\\"}{"}, "default": {"b\\"c": {"v": [1, {"d": 2}]},\n"e": {}}}'
    assert json_key_lines(text) == {("_meta", "a"): 1, ("default", 'b"c'): 1, ("default", "e"): 2}


def test_detected_by_content(tmp_path: Path) -> None:
    path = write(tmp_path, "locked.json", TEXT)
    assert format_by_content(path) == "pipfile"
    assert parse_lockfile(path).format == "pipfile"


def test_malformed_input_is_refused(tmp_path: Path) -> None:
    def variant(name: str, mutate: object) -> Path:
        lock = json.loads(TEXT)
        assert callable(mutate)
        mutate(lock)
        return write(tmp_path, name, json.dumps(lock, indent=4))

    refused(parse_pipfile_lock, write(tmp_path, "a.lock", TEXT[:-40]), "invalid JSON")
    refused(parse_pipfile_lock, write(tmp_path, "b.lock", "[1, 2]"), "must be a JSON object")
    refused(parse_pipfile_lock, variant("c.lock", lambda d: d.pop("_meta")), "missing '_meta'")
    refused(
        parse_pipfile_lock,
        variant("d.lock", lambda d: d["default"]["torch"].update(index="nowhere")),
        "default package 'torch'",
        "index 'nowhere' is not among",
    )
    refused(
        parse_pipfile_lock,
        variant("e.lock", lambda d: d["default"]["torch"].update(hashes="sha256:00")),
        "'hashes' must be an array",
    )
    refused(
        parse_pipfile_lock,
        variant("f.lock", lambda d: d["default"]["torch"].update(hashes=["md5"])),
        "is not of the form algorithm:hexdigest",
    )
    refused(
        parse_pipfile_lock,
        variant("g.lock", lambda d: d.update(develop=[1])),
        "'develop' must be a table",
    )
    refused(
        parse_pipfile_lock,
        variant("h.lock", lambda d: d["develop"].update(x="==1")),
        "'x' must be a table, not a string",
    )
    refused(
        parse_pipfile_lock,
        variant("i.lock", lambda d: d["_meta"].update(sources=[{"name": "pypi"}])),
        "missing required key 'url'",
    )
    refused(
        parse_pipfile_lock,
        variant("j.lock", lambda d: d["default"]["loose"].update(version=6)),
        "'version' must be a string, not an integer",
    )


def test_garbage_truncation_and_wrong_types_never_crash(tmp_path: Path) -> None:
    garbage_refused(parse_pipfile_lock, tmp_path, "Pipfile.lock")
    assert sweep_json(parse_pipfile_lock, tmp_path, "Pipfile.lock", TEXT) > 500
