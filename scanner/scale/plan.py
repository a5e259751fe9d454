"""Planning: one job per unique content, minus every content whose verdict is stored for
the current rules fingerprint. The plan is a pure function of the listing and the store,
so a rerun after an interruption plans exactly what is still missing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scanner.scale.artifacts import Artifact, Job
from scanner.scale.judge import VERDICT_KIND
from scanner.scale.store import SharedStore
from scanner.verdicts import Verdict, verdict_key


def job_key(artifact: Artifact, fingerprint: str) -> str:
    """The verdict key of an artifact: its content, the fingerprint, and the facts beside
    the bytes the judgement reads (the file name; an installed distribution's name)."""
    params: dict[str, object] = {"kind": artifact.kind}
    if artifact.kind == "installed":
        params["name"] = artifact.name
    else:
        params["filename"] = artifact.filename
    return verdict_key(VERDICT_KIND, artifact.sha256 or "", fingerprint, params)


@dataclass(frozen=True, slots=True)
class Plan:
    """What scan-index will do."""

    artifacts: tuple[Artifact, ...]
    keys: tuple[str, ...]
    """The verdict key of each artifact, in the same order."""
    jobs: tuple[Job, ...]
    """Unique contents without a stored verdict: what the engine judges."""
    stored: dict[str, Verdict]
    """Verdicts reused from the store, by key."""

    @property
    def unique(self) -> int:
        """Distinct contents (sha256) listed."""
        return len({a.sha256 for a in self.artifacts})

    @property
    def duplicate_ratio(self) -> float:
        """Unique sha256 / artifacts listed (1.0: no duplicates)."""
        return self.unique / len(self.artifacts) if self.artifacts else 1.0


def make_plan(artifacts: Sequence[Artifact], store: SharedStore) -> Plan:
    """Dedupe by key, look every key up once, keep the rest as jobs (first listing wins)."""
    keys = tuple(job_key(a, store.fingerprint) for a in artifacts)
    first: dict[str, Artifact] = {}
    for key, artifact in zip(keys, artifacts, strict=True):
        first.setdefault(key, artifact)
    stored = store.get_many([(key, a.sha256 or "") for key, a in first.items()])
    jobs = tuple(Job(key, a) for key, a in first.items() if key not in stored)
    return Plan(artifacts=tuple(artifacts), keys=keys, jobs=jobs, stored=stored)
