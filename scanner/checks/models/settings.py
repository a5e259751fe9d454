"""The models check's settings: the user's allowlist of pickle globals.

From the config (`[tool.wormsign.models]`, or `[models]` in wormsign.toml)::

    [[tool.wormsign.models.allow]]
    sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    path = "models/*.pt"                  # optional with sha256: a glob over the path's end
    globals = ["mypkg.config.TrainConfig", "mypkg.layers.*"]
    reason = "our own training config classes, reviewed 2026-11"

An entry applies to a model file when every selector it gives (the file's sha256, its
path) matches; it allows the named globals in that file's pickles. It never allows a
global that `rules/models/pickle-dangerous.toml` lists.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ModelAllow:
    """One allowlist entry: extra pickle globals allowed in the files it selects."""

    globals: tuple[str, ...]
    """Qualified names; a trailing `.*` allows a whole module."""
    sha256: str | None = None
    """The model file's sha256 (lower-case hex); None = any bytes at `path`."""
    path: str | None = None
    """A glob matched against the end of the model file's path; None = any path."""
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ModelSettings:
    """Settings of the models check."""

    allow: tuple[ModelAllow, ...] = ()

    @property
    def needs_digest(self) -> bool:
        """Whether an entry selects files by sha256 (so model files must be hashed)."""
        return any(entry.sha256 is not None for entry in self.allow)
