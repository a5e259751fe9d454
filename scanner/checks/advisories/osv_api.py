"""The OSV API, online: which records affect each pinned version, in batches.

`/v1/querybatch` answers only ids; the full records come from `/v1/vulns/{id}`
(cached by id and `modified`, so a record is fetched again only when it
changes). The records then go through the same matcher as the offline
database (`scanner.checks.advisories.osv`): the API is a source of records, not a judge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from scanner.checks.advisories.osv import Advisory, parse_record, parse_version
from scanner.errors import ServiceError
from scanner.infra.http import HttpClient

DEFAULT_OSV_API_URL = "https://api.osv.dev"
BATCH_SIZE = 1000
"""OSV's documented maximum number of queries per querybatch request."""
_MAX_PAGES = 50


@dataclass(frozen=True, slots=True)
class PackageQuery:
    """One (name, version) to ask about; the version as pinned (local label kept)."""

    name: str
    version: str


class OsvApi:
    """A client for api.osv.dev (or a compatible server at `base_url`)."""

    def __init__(
        self,
        http: HttpClient,
        base_url: str = DEFAULT_OSV_API_URL,
        *,
        record_http: HttpClient | None = None,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.http = http
        self.record_http = record_http or http
        self.base_url = base_url.rstrip("/")
        self.batch_size = batch_size

    def affecting_ids(self, queries: Sequence[PackageQuery]) -> dict[PackageQuery, set[str]]:
        """Ids of records OSV says affect each query (all pages, in batches)."""
        out: dict[PackageQuery, set[str]] = {q: set() for q in queries}
        pending: list[tuple[PackageQuery, str | None]] = [(q, None) for q in dict.fromkeys(queries)]
        pages = 0
        while pending:
            pages += 1
            if pages > _MAX_PAGES * max(1, len(queries) // self.batch_size + 1):
                raise ServiceError("OSV API kept paging; giving up", path=self.base_url)
            batch, pending = pending[: self.batch_size], pending[self.batch_size :]
            answer = self.http.post_json(
                f"{self.base_url}/v1/querybatch", {"queries": [_query_body(q, t) for q, t in batch]}
            )
            results = answer.get("results") if isinstance(answer, Mapping) else None
            if not isinstance(results, list) or len(results) != len(batch):
                raise ServiceError(
                    "OSV API answered a batch with the wrong shape",
                    path=f"{self.base_url}/v1/querybatch",
                )
            for (query, _), result in zip(batch, results, strict=True):
                if not isinstance(result, Mapping):
                    continue
                for vuln in result.get("vulns") or []:
                    if isinstance(vuln, Mapping) and isinstance(vuln.get("id"), str):
                        out[query].add(f"{vuln['id']}\0{vuln.get('modified', '')}")
                token = result.get("next_page_token")
                if isinstance(token, str) and token:
                    pending.append((query, token))
        return out

    def record(self, ident: str, modified: str = "") -> Advisory:
        """One full record by id; `modified` keys the cache so changed records are refetched."""
        url = f"{self.base_url}/v1/vulns/{quote(ident, safe='')}"
        data = self.record_http.get_json(url, cache_tag=modified)
        if not isinstance(data, Mapping):
            raise ServiceError(f"OSV API sent no record for {ident}", path=url)
        try:
            return parse_record(data)
        except ValueError as err:
            raise ServiceError(f"OSV API sent a malformed record: {err}", path=url) from err

    def advisories(self, queries: Sequence[PackageQuery]) -> dict[str, tuple[Advisory, ...]]:
        """Records OSV knows for the queried packages, by canonical package name."""
        ids = self.affecting_ids(queries)
        records: dict[str, Advisory] = {}
        for keys in ids.values():
            for key in sorted(keys):
                ident, modified = key.split("\0", 1)
                if ident not in records:
                    records[ident] = self.record(ident, modified)
        by_name: dict[str, dict[str, Advisory]] = {}
        for adv in records.values():
            for entry in adv.affected:
                by_name.setdefault(entry.name, {})[adv.id] = adv
        return {name: tuple(advs.values()) for name, advs in by_name.items()}


def _query_body(query: PackageQuery, page_token: str | None) -> dict[str, object]:
    parsed, approximated = parse_version(query.version)
    # OSV compares PyPI versions itself; it is given the public version, as matching is.
    version = str(parsed) if parsed is not None and not approximated else query.version
    body: dict[str, object] = {
        "package": {"name": query.name, "ecosystem": "PyPI"},
        "version": version,
    }
    if page_token:
        body["page_token"] = page_token
    return body
