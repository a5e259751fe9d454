"""The errors wormsign raises. `cli.py` alone maps them to exit codes.

ConfigError is a usage problem (exit 2); every other ScannerError means the scan
could not be completed (exit 3, fail closed).
"""

from __future__ import annotations


class ScannerError(Exception):
    """Base of every error wormsign raises on purpose."""

    def __init__(self, message: str, *, path: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.hint = hint

    def diagnostics(self) -> str:
        """One line for humans: the file, the problem and, where known, what to do."""
        text = f"{self.path}: {self.message}" if self.path else self.message
        text = " ".join(text.split())  # one line, whatever the input contained
        if self.hint:
            text += f" ({self.hint})"
        return text


class SourceError(ScannerError):
    """A target (lock file, environment, archive, model file) could not be read or parsed."""


class ArchiveError(SourceError):
    """An archive is truncated, corrupt, or breaks the safe reader's limits."""


class RuleError(ScannerError):
    """A rule in rules/ is invalid."""


class ConfigError(ScannerError):
    """The configuration or the command line is wrong (exit 2)."""


class ServiceError(ScannerError):
    """A database or network source that was demanded is unavailable."""
