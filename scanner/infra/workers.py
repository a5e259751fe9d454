"""A small pool of worker processes for CPU-bound judging (`--jobs`).

Why not `multiprocessing`: its `spawn` and `forkserver` start methods re-import the
caller's `__main__` in every worker (under the launcher API that is the user's training
script), and `fork` copies a process that may run threads (the progress bar, hashing).
So each worker is a fresh interpreter of our own (`python -m scanner.infra.worker`,
never a scanned environment's interpreter) fed length-prefixed pickles through its
standard input and answering on its standard output. It imports only wormsign.

`run_tasks(func, shared, tasks, workers)` calls `func(shared, task)` for every task and
returns the results in the order of `tasks`, whatever order they finished in, so the
outcome is the same for one worker or many. Tasks are handed out one at a time, in the
order given (give the largest first: the last long task bounds the wall time). A task
whose worker died, or that raised something other than a `ScannerError`, is run again
in this process, where it behaves exactly as without a pool; a `ScannerError` raised in a
worker is raised here, rebuilt with its message, path and hint.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import pickle
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from queue import SimpleQueue
from typing import IO, Generic, TypeVar

from scanner.errors import ScannerError

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")

_HEADER = struct.Struct("!Q")
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]
"""The folder that holds the `scanner` package: workers import the same code."""


def write_message(stream: IO[bytes], value: object) -> None:
    """One length-prefixed pickle."""
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def read_message(stream: IO[bytes]) -> object:
    """The next length-prefixed pickle; EOFError when the peer is gone."""
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        raise EOFError("worker closed its pipe")
    size = _HEADER.unpack(head)[0]
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("worker closed its pipe mid-message")
    return pickle.loads(data)  # our own worker process, never scanned data


def qualified_name(func: Callable[..., object]) -> str:
    """`module:name` of a module-level function (what a worker imports)."""
    return f"{func.__module__}:{func.__qualname__}"


def resolve(name: str) -> Callable[[object, object], object]:
    """The function a `module:name` designates."""
    module, _, attr = name.partition(":")
    func: Callable[[object, object], object] = getattr(importlib.import_module(module), attr)
    return func


_BOOT = (
    "import sys, json; sys.path[:0] = json.loads(sys.argv[1]); "
    "from scanner.infra.worker import main; sys.exit(main())"
)


def worker_command() -> list[str]:
    """How a worker starts: this interpreter, isolated (`-I`: no PYTHON* variables, no
    user site, no current directory on the path) and without `site` (`-S`: no `.pth`
    file or `sitecustomize` runs, which matters when wormsign runs inside the very
    environment it checks), given this process's module path (the package's own folder
    first, never the current directory) so that it imports the same wormsign."""
    here = os.path.abspath(os.curdir)
    path = [str(_PACKAGE_ROOT)]
    path += [p for p in sys.path if p and os.path.abspath(p) != here and p not in path]
    return [sys.executable, "-I", "-S", "-c", _BOOT, json.dumps(path)]


class _Rerun:
    """A task to run again in this process (its worker died or raised a bug)."""


_RERUN = _Rerun()


class _Pool(Generic[S, T, R]):
    def __init__(
        self,
        func: Callable[[S, T], R],
        shared: S,
        tasks: Sequence[T],
        workers: int,
        on_done: Callable[[int], None] | None,
    ) -> None:
        self.func = func
        self.shared = shared
        self.tasks = tasks
        self.workers = workers
        self.on_done = on_done
        self.next = 0
        self.lock = threading.Lock()
        self.done: SimpleQueue[tuple[int, object]] = SimpleQueue()
        self.procs: list[subprocess.Popen[bytes]] = []
        self.stop = False

    def take(self) -> int | None:
        with self.lock:
            if self.stop or self.next >= len(self.tasks):
                return None
            i = self.next
            self.next += 1
            return i

    def start(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(worker_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def drive(self, proc: subprocess.Popen[bytes]) -> None:
        """One thread per worker: hand it tasks one by one until none is left."""
        assert proc.stdin is not None and proc.stdout is not None
        alive = True
        try:
            write_message(proc.stdin, (qualified_name(self.func), self.shared))
        except OSError:
            alive = False
        while (i := self.take()) is not None:
            if not alive:
                self.done.put((i, _RERUN))
                continue
            try:
                write_message(proc.stdin, self.tasks[i])
                answer = read_message(proc.stdout)
            except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError):
                alive = False
                self.done.put((i, _RERUN))
                continue
            status, value = answer if isinstance(answer, tuple) else ("error", answer)
            self.done.put((i, value if status == "ok" else _Failure(str(status), value)))

    def run(self) -> list[R]:
        results: list[object] = [_RERUN] * len(self.tasks)
        threads: list[threading.Thread] = []
        try:
            for _ in range(self.workers):
                proc = self.start()
                self.procs.append(proc)
                t = threading.Thread(target=self.drive, args=(proc,), daemon=True)
                t.start()
                threads.append(t)
            for _ in range(len(self.tasks)):
                i, value = self.done.get()
                results[i] = value
                if self.on_done is not None:
                    self.on_done(i)
        finally:
            with self.lock:
                self.stop = True
            self._close()
            for t in threads:
                t.join(timeout=5)
        out: list[R] = []
        for i, value in enumerate(results):
            if isinstance(value, _Failure):
                value.raise_if_scanner_error()
                value = _RERUN
            out.append(self.func(self.shared, self.tasks[i]) if value is _RERUN else value)  # type: ignore[arg-type]
        return out

    def _close(self) -> None:
        for proc in self.procs:
            if proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
        for proc in self.procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


class _Failure:
    """What a worker reported instead of a result."""

    def __init__(self, status: str, value: object) -> None:
        self.status = status
        self.value = value

    def raise_if_scanner_error(self) -> None:
        if self.status != "scanner-error" or not isinstance(self.value, tuple):
            return
        kind, message, path, hint = self.value
        cls = resolve(kind) if isinstance(kind, str) else None
        if isinstance(cls, type) and issubclass(cls, ScannerError):
            raise cls(message, path=path, hint=hint)
        raise ScannerError(message, path=path, hint=hint)


def run_tasks(
    func: Callable[[S, T], R],
    shared: S,
    tasks: Sequence[T],
    workers: int,
    on_done: Callable[[int], None] | None = None,
) -> list[R]:
    """`[func(shared, t) for t in tasks]`, on up to `workers` worker processes.

    `func` must be a module-level function, `shared` and every task and result
    picklable. `on_done(i)` is called in this thread as each task finishes. With one
    worker, or one task, everything runs here and no process is started.
    """
    count = min(workers, len(tasks))
    if count <= 1:
        out = []
        for i, task in enumerate(tasks):
            out.append(func(shared, task))
            if on_done is not None:
                on_done(i)
        return out
    return _Pool(func, shared, tasks, count, on_done).run()
