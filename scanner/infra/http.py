"""HTTP for the online sources: one session, bounded redirects, a disk cache with a TTL.

The shape follows pip-audit's `_service` code (a requests session with at most
five redirects, connection problems mapped to one service error, cache entries
written to a temporary file and swapped in with `os.replace` so concurrent runs
never read half an entry). pip-audit's modules are not imported: they are
private API, and importing `pip_audit._cache` runs `pip` in a subprocess to find
pip's version.

requests is imported when a client is made (~0.3 s): offline scans never make one.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from scanner import __version__
from scanner.errors import ServiceError

if TYPE_CHECKING:
    import requests

USER_AGENT = f"wormsign/{__version__}"
DEFAULT_TIMEOUT = 30.0
DEFAULT_TTL = 3600.0
MAX_REDIRECTS = 5
"""Like pip-audit: the services we talk to never redirect more than once or twice."""


def new_session() -> requests.Session:
    """A requests session as wormsign makes every one: its User-Agent, at most
    MAX_REDIRECTS redirects. requests is imported here, so offline scans never load it."""
    import requests

    session = requests.Session()
    session.max_redirects = MAX_REDIRECTS
    session.headers["User-Agent"] = USER_AGENT
    return session


def response_cache_dir(cache_dir: Path | None) -> Path:
    """Where the online answers are cached: `http` under the cache directory (`--cache-dir`,
    else the user cache directory)."""
    import platformdirs

    return (cache_dir or Path(platformdirs.user_cache_dir("wormsign"))) / "http"


@dataclass(frozen=True, slots=True)
class ResponseCache:
    """JSON responses on disk, keyed by request, fresh for `ttl` seconds."""

    directory: Path
    ttl: float = DEFAULT_TTL

    def _file(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode()).hexdigest()
        return self.directory / digest[:2] / f"{digest}.json"

    def get(self, key: str) -> object | None:
        """The cached JSON for `key`, or None if absent, stale or unreadable."""
        file = self._file(key)
        try:
            if time.time() - file.stat().st_mtime > self.ttl:
                return None
            data: object = json.loads(file.read_bytes())
            return data
        except (OSError, ValueError):
            return None

    def put(self, key: str, value: object) -> None:
        """Store `value`; failures to write only cost a later refetch."""
        file = self._file(key)
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=".", suffix=".tmp")
        except OSError:
            return
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(value, fh)
            os.replace(tmp, file)
        except OSError:
            Path(tmp).unlink(missing_ok=True)


class HttpClient:
    """A JSON-over-HTTP client for one service; every failure becomes ServiceError."""

    def __init__(
        self,
        service: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        cache: ResponseCache | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.service = service
        self.timeout = timeout
        self.cache = cache
        self.session = new_session() if session is None else session

    def get_json(
        self, url: str, *, not_found_ok: bool = False, cache_tag: str = "", accept: str = ""
    ) -> object | None:
        """GET a JSON document; None for 404 when `not_found_ok`.

        `cache_tag` joins the cache key (a record's `modified`: a changed record is
        fetched again whatever the TTL). `accept` asks for a media type (the JSON simple
        API's `application/vnd.pypi.simple.v1+json`).
        """
        return self._request(
            "GET", url, None, not_found_ok=not_found_ok, cache_tag=cache_tag, accept=accept
        )

    def post_json(self, url: str, body: object) -> object | None:
        """POST a JSON body and return the JSON answer."""
        return self._request("POST", url, body, not_found_ok=False, cache_tag="")

    def _request(
        self,
        method: str,
        url: str,
        body: object,
        *,
        not_found_ok: bool,
        cache_tag: str,
        accept: str = "",
    ) -> object | None:
        payload = json.dumps(body, sort_keys=True) if body is not None else ""
        key = f"{method} {url} {payload} {cache_tag}" + (f" {accept}" if accept else "")
        if self.cache is not None:
            cached = self.cache.get(key)
            if cached is not None:
                return None if cached == {"__not_found__": True} else cached
        import requests

        try:
            headers = {"Accept": accept} if accept else None
            resp = self.session.request(
                method, url, json=body, timeout=self.timeout, headers=headers
            )
        except requests.RequestException as err:
            raise ServiceError(
                f"{self.service} unreachable: {_one_line(err)}",
                path=url,
                hint="check the network, or scan without --online",
            ) from err
        if resp.status_code == 404 and not_found_ok:
            if self.cache is not None:
                self.cache.put(key, {"__not_found__": True})
            return None
        if resp.status_code >= 400:
            raise ServiceError(
                f"{self.service} answered HTTP {resp.status_code}",
                path=url,
                hint="retry later, or scan without --online",
            )
        try:
            data: object = resp.json()
        except ValueError as err:
            raise ServiceError(
                f"{self.service} sent a response that is not JSON", path=url
            ) from err
        if self.cache is not None:
            self.cache.put(key, data)
        return data

    def download(self, url: str, dest: Path, *, max_bytes: int) -> int:
        """Stream the body of `url` into the new file `dest` (at most `max_bytes`); returns
        its size. Never cached; every failure is a ServiceError naming the URL."""
        import requests

        size = 0
        try:
            with self.session.get(url, timeout=self.timeout, stream=True) as resp:
                if resp.status_code >= 400:
                    raise ServiceError(f"{self.service} answered HTTP {resp.status_code}", path=url)
                with open(dest, "xb") as fh:
                    for chunk in resp.iter_content(chunk_size=1 << 20):
                        size += len(chunk)
                        if size > max_bytes:
                            raise ServiceError(
                                f"{self.service} sent more than {max_bytes} bytes", path=url
                            )
                        fh.write(chunk)
        except requests.RequestException as err:
            raise ServiceError(f"{self.service} unreachable: {_one_line(err)}", path=url) from err
        except OSError as err:
            raise ServiceError(f"cannot write {dest}: {err.strerror or err}", path=url) from err
        return size

    def close(self) -> None:
        """Close the underlying session."""
        self.session.close()


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__
