"""The data scan-index moves around: artifacts, shards of them, and what a worker says."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Artifact:
    """One thing to judge: a wheel, an sdist or a model file (local path or URL), or an
    installed distribution of a fleet node (its files by path and sha256)."""

    location: str
    """Local path or http(s) URL of the bytes; for `installed`, the site-packages dir."""
    filename: str
    """The file name (`torch-2.5.1-...whl`); for `installed`, the distribution's name."""
    kind: str
    """wheel | sdist | model | installed"""
    sha256: str | None
    """Content address: sha256 of the bytes, or the manifest digest of an installed
    distribution; None until hashed (a manifest line always has it)."""
    size: int
    name: str | None = None
    version: str | None = None
    source: str = ""
    """The SOURCE argument it came from (for error lines)."""
    node: str | None = None
    """Fleet mode: the node whose inventory listed it."""

    @property
    def display(self) -> str:
        """Where it is, for reports."""
        return self.location if self.kind != "installed" else f"{self.location}/{self.filename}"


@dataclass(frozen=True, slots=True)
class Job:
    """One unique content to judge, under the key its verdict is stored by."""

    key: str
    artifact: Artifact


@dataclass(frozen=True, slots=True)
class Shard:
    """What one engine task carries: several jobs, about equal in bytes."""

    index: int
    jobs: tuple[Job, ...]

    @property
    def size(self) -> int:
        """Total bytes of the shard."""
        return sum(job.artifact.size for job in self.jobs)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a worker decided about one job: a verdict (JSON) or an error, never both
    stored: an error or a partial judgement is `complete = False` in the verdict."""

    key: str
    sha256: str
    verdict_json: str | None
    error: str | None
    seconds: float
    cpu_seconds: float
    """CPU time (user+sys) the worker spent on it."""
    worker: str
    """pid (and host) of the worker, for per-worker figures."""
    peak_rss_kib: int
