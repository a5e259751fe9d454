"""A Lightning callback that refuses to let a Trainer start on a failing environment.

    from scanner.integrations.lightning import WormsignCallback
    trainer = Trainer(callbacks=[WormsignCallback(targets=["uv.lock", "checkpoints/"])])

`setup` runs the gate (`scanner.gate.require_clean`) once per process before fit,
validate, test or predict, and raises `GateBlocked` with the findings if the job
must not start. By default it scans the running interpreter's environment.

It subclasses `lightning.pytorch.callbacks.Callback` (or pytorch_lightning's) when
one is importable, and is a plain class with the same `setup` signature otherwise:
wormsign has no dependency on Lightning. By the time a callback runs, Lightning
and torch are already imported; to vet them too, start the job with `wormsign run`.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scanner.gate import require_clean
from scanner.models import Report
from scanner.options import ScanOptions

_CALLBACK_MODULES = ("lightning.pytorch.callbacks", "pytorch_lightning.callbacks")


def _lightning_callback_base() -> type:
    """Lightning's Callback class if Lightning is installed, else `object`."""
    for name in _CALLBACK_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        base = getattr(module, "Callback", None)
        if isinstance(base, type):
            return base
    return object


if TYPE_CHECKING:
    _Base = object
else:
    _Base = _lightning_callback_base()


class WormsignCallback(_Base):
    """Run the wormsign gate in `setup`; raise GateBlocked so the Trainer never starts."""

    def __init__(
        self,
        targets: Sequence[str | Path] = (),
        *,
        env_paths: Sequence[str | Path] = (),
        pythons: Sequence[str | Path] | None = None,
        options: ScanOptions | None = None,
    ) -> None:
        """`pythons=None` scans the running interpreter's environment; `()` scans none."""
        super().__init__()
        self.targets = tuple(targets)
        self.env_paths = tuple(env_paths)
        self.pythons = (Path(sys.executable),) if pythons is None else tuple(pythons)
        self.options = options
        self.report: Report | None = None

    def setup(self, trainer: Any, pl_module: Any, stage: str) -> None:
        """Lightning calls this before any stage starts; the scan runs once per process."""
        del trainer, pl_module, stage
        if self.report is not None:
            return
        self.report = require_clean(
            self.targets, env_paths=self.env_paths, pythons=self.pythons, options=self.options
        )
