"""Progress on stderr for long scans, without threading a callback through every stage.

Stages report with `advance(stage, done, total)`; it does nothing unless a caller
installed a callback with `reporting(...)`. The CLI installs `StderrProgress`, a
rich bar that appears only once the scan has taken longer than a second and only
when stderr is a terminal, so short scans, pipes and CI logs stay clean.

    with stderr_progress(options.progress):
        report = check(targets, options=options)

The callback lives in a ContextVar: call `advance` from the thread that runs the
scan (for a thread pool, as futures complete), not from worker threads.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

ProgressCallback = Callable[[str, int, int | None], None]
"""(stage, done, total): `total` is None while unknown."""

_current: ContextVar[ProgressCallback | None] = ContextVar("wormsign_progress", default=None)

SHOW_AFTER_SECONDS = 1.0


def advance(stage: str, done: int, total: int | None = None) -> None:
    """Report progress of one stage ("hashing", "checks" ...) to whoever listens."""
    callback = _current.get()
    if callback is not None:
        callback(stage, done, total)


def counter(stage: str, total: int, every: int = 64) -> Callable[[], None]:
    """A thread-safe `tick()` that reports `stage` every `every` items and at the end; the
    listener is taken now, from this thread (worker threads do not see the ContextVar)."""
    callback = _current.get()
    lock = threading.Lock()
    done = 0

    def tick() -> None:
        nonlocal done
        if callback is None:
            return
        with lock:
            done += 1
            if done % every == 0 or done == total:
                callback(stage, done, total)

    return tick


@contextmanager
def reporting(callback: ProgressCallback) -> Iterator[None]:
    """Send progress of the scans run inside this block to `callback`."""
    token = _current.set(callback)
    try:
        yield
    finally:
        _current.reset(token)


class StderrProgress:
    """A transient rich progress bar, one line per stage, shown after `delay` seconds."""

    def __init__(
        self,
        *,
        delay: float = SHOW_AFTER_SECONDS,
        console: Console | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._start = clock()
        self._delay = delay
        self._progress = Progress(
            TextColumn("wormsign: {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console or Console(file=sys.stderr),
            transient=True,
        )
        self._tasks: dict[str, TaskID] = {}
        self._state: dict[str, tuple[int, int | None]] = {}
        self._shown = False
        self._closed = False
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def arm(self) -> None:
        """Draw the bar once `delay` has passed even if no stage reports by then (a long
        first stage must not leave the terminal silent); `close` disarms it."""
        self._timer = threading.Timer(self._delay, self._show_now)
        self._timer.daemon = True
        self._timer.start()

    def _show_now(self) -> None:
        with self._lock:
            if self._shown or self._closed:
                return
            self._progress.start()
            self._shown = True
            if not self._state:
                self._state["scanning"] = (0, None)
            for name, (d, t) in self._state.items():
                self._tasks[name] = self._progress.add_task(name, completed=d, total=t)

    @property
    def shown(self) -> bool:
        """Whether the bar has been drawn (the scan ran past the delay)."""
        return self._shown

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        with self._lock:
            self._state[stage] = (done, total)
            if not self._shown:
                if self._clock() - self._start < self._delay:
                    return
                self._progress.start()
                self._shown = True
                for name, (d, t) in self._state.items():
                    self._tasks[name] = self._progress.add_task(name, completed=d, total=t)
                return
            if stage not in self._tasks:
                self._tasks[stage] = self._progress.add_task(stage, completed=done, total=total)
            else:
                self._progress.update(self._tasks[stage], completed=done, total=total)

    def close(self) -> None:
        """Remove the bar (it is transient) and restore the terminal."""
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            self._closed = True
            if self._shown:
                self._progress.stop()
                self._shown = False


def wants_progress(enabled: bool, stream: TextIO | None = None) -> bool:
    """Progress only when asked and the stream is a terminal."""
    stream = stream if stream is not None else sys.stderr
    return enabled and stream.isatty()


@contextmanager
def stderr_progress(enabled: bool) -> Iterator[None]:
    """Show a progress bar on stderr during the block, if enabled and stderr is a TTY."""
    if not wants_progress(enabled):
        yield
        return
    bar = StderrProgress()
    bar.arm()
    try:
        with reporting(bar):
            yield
    finally:
        bar.close()
