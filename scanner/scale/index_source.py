"""SOURCE arguments of scan-index -> artifacts: a directory tree of wheels, sdists and
model files; a PEP 691 JSON simple index URL; a manifest of `sha256 size url-or-path`
lines. Sources only list: nothing here reads an artifact's contents but to hash it."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

from scanner.errors import ScannerError, SourceError
from scanner.infra.hash_cache import HashCache
from scanner.scale.artifacts import Artifact

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class Listed:
    """What the sources listed, and what could not be listed (one line each)."""

    artifacts: tuple[Artifact, ...]
    errors: tuple[str, ...]


def classify(filename: str, local: bool = False) -> tuple[str, str | None, str | None] | None:
    """(wheel|sdist|model, name, version) for a file scan-index judges, else None: by name
    and, for a `local` file, by content as `scan` decides (a `.bin` that is a pickle)."""
    from scanner.infra.model_formats import NOT_WALKED, model_suffix
    from scanner.sources.discover import distribution_kind, is_model_candidate

    found = distribution_kind(Path(filename))
    if found is not None:
        return found
    if local:
        return ("model", None, None) if is_model_candidate(Path(filename)) else None
    suffix = model_suffix(Path(filename).name)
    return ("model", None, None) if suffix is not None and suffix not in NOT_WALKED else None


def public_url(url: str) -> str:
    """`url` without its user name and password (and fragment): what workers are sent and
    reports show. Workers fetch with their own credentials (`~/.netrc`), never ours."""
    parts = urlsplit(url)
    if not parts.scheme.startswith("http"):
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port is not None else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


_USERINFO = re.compile(r"(?i)\b(https?://)[^/@\s]+@")


def redact(text: str) -> str:
    """`text` with the user name and password of every http(s) URL in it removed."""
    return _USERINFO.sub(r"\1", text)


def list_sources(sources: tuple[str, ...], cache: HashCache | None) -> Listed:
    """Every artifact of every source; a source that cannot be read is an error line."""
    artifacts: list[Artifact] = []
    errors: list[str] = []
    for source in sources:
        found, bad = _one_source(source, cache)
        artifacts.extend(found)
        errors.extend(bad)
    return Listed(tuple(artifacts), tuple(errors))


def _one_source(source: str, cache: HashCache | None) -> tuple[list[Artifact], list[str]]:
    try:
        if source.startswith(("http://", "https://")):
            return list(from_simple_index(source)), []
        if Path(source).is_dir():
            return from_directory(Path(source), cache)
        return from_manifest(Path(source)), []
    except ScannerError as err:  # unreadable manifest, unreachable index
        return [], [redact(err.diagnostics())]


def from_directory(root: Path, cache: HashCache | None) -> tuple[list[Artifact], list[str]]:
    """The wheels, sdists and model files under `root` (symbolic links not followed),
    hashed through the hash cache."""
    from scanner.infra.hashing import hash_files

    candidates: list[tuple[str, tuple[str, str | None, str | None]]] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=_raise(root)):
        dirnames.sort()
        for filename in sorted(filenames):
            path = os.path.join(dirpath, filename)
            found = classify(path, local=True)
            if found is not None:
                candidates.append((path, found))
    hashed = hash_files([path for path, _ in candidates], cache)
    out: list[Artifact] = []
    errors: list[str] = []
    for path, (kind, name, version) in candidates:
        result = hashed[path]
        if isinstance(result, OSError):
            errors.append(f"{path}: cannot read: {result.strerror or result}")
            continue
        digest, size = result
        out.append(
            Artifact(
                location=path,
                filename=os.path.basename(path),
                kind=kind,
                sha256=digest,
                size=size,
                name=name,
                version=version,
                source=str(root),
            )
        )
    return out, errors


def _raise(root: Path) -> Callable[[OSError], None]:
    def onerror(err: OSError) -> None:
        raise SourceError(f"cannot list: {err.strerror or err}", path=err.filename or str(root))

    return onerror


def from_manifest(path: Path) -> list[Artifact]:
    """`sha256 size url-or-path` per line (blank lines and `#` comments skipped); a
    relative path is relative to the manifest's directory."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) else "not UTF-8 text"
        raise SourceError(f"cannot read manifest: {reason or err}", path=str(path)) from err
    out: list[Artifact] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 2)
        if len(parts) != 3 or not _SHA256.match(parts[0].lower()) or not parts[1].isdigit():
            raise SourceError(f"line {number}: expected `sha256 size url-or-path`", path=str(path))
        digest, size, where = parts[0].lower(), int(parts[1]), parts[2]
        if where.startswith(("http://", "https://")):
            where = public_url(where)
        elif not os.path.isabs(where):
            where = str(path.parent / where)
        filename = where.rstrip("/").rsplit("/", 1)[-1]
        found = classify(filename)
        if found is None:
            raise SourceError(
                f"line {number}: {filename} is no wheel, sdist or model file", path=str(path)
            )
        kind, name, version = found
        out.append(
            Artifact(
                location=where,
                filename=filename,
                kind=kind,
                sha256=digest,
                size=size,
                name=name,
                version=version,
                source=str(path),
            )
        )
    return out


def from_simple_index(url: str) -> Iterator[Artifact]:
    """Every file of every project of a PEP 691 JSON simple index (root page, then one
    page per project); files without a sha256 are refused (nothing to address them by)."""
    from scanner.infra.http import HttpClient

    client = HttpClient("index")
    try:
        root = url if url.endswith("/") else url + "/"
        page = client.get_json(root, accept=SIMPLE_JSON)
        projects = _list(page, "projects", root)
        for project in projects:
            name = project.get("name")
            if not isinstance(name, str):
                raise SourceError("a project without a name", path=public_url(root))
            from scanner.models import canonical

            project_url = urljoin(root, f"{canonical(name)}/")
            detail = client.get_json(project_url, accept=SIMPLE_JSON)
            for entry in _list(detail, "files", project_url):
                if classify(str(entry.get("filename", ""))) is not None:
                    yield _file_artifact(entry, project_url, public_url(root))
    finally:
        client.close()


def _list(page: object, field: str, url: str) -> list[dict[str, object]]:
    if not isinstance(page, dict) or not isinstance(page.get(field), list):
        raise SourceError(f"not a PEP 691 JSON page (no {field!r} list)", path=url)
    items = page[field]
    return [item for item in items if isinstance(item, dict)]


def _file_artifact(entry: dict[str, object], page_url: str, source: str) -> Artifact:
    filename, href = entry.get("filename"), entry.get("url")
    hashes = entry.get("hashes")
    if not isinstance(filename, str) or not isinstance(href, str):
        raise SourceError("a file entry without filename or url", path=page_url)
    digest = hashes.get("sha256") if isinstance(hashes, dict) else None
    if not isinstance(digest, str) or not _SHA256.match(digest.lower()):
        raise SourceError(f"{filename} has no sha256 in the index", path=page_url)
    size = entry.get("size")
    kind, name, version = classify(filename) or ("sdist", None, None)
    return Artifact(
        location=public_url(urljoin(page_url, href)),
        filename=filename,
        kind=kind,
        sha256=digest.lower(),
        size=size if isinstance(size, int) and size >= 0 else 0,
        name=name,
        version=version,
        source=source,
    )
