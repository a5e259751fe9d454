"""The stderr progress bar: silent for short scans and non-terminals, drawn for long ones."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from scanner.infra.progress import StderrProgress, advance, reporting, wants_progress


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_advance_without_listener_is_a_no_op() -> None:
    advance("hashing", 1, 10)  # must not raise


def test_reporting_routes_and_restores() -> None:
    seen: list[tuple[str, int, int | None]] = []
    with reporting(lambda s, d, t: seen.append((s, d, t))):
        advance("hashing", 3, 10)
        advance("checks", 1, None)
    advance("hashing", 4, 10)  # after the block: nobody listens
    assert seen == [("hashing", 3, 10), ("checks", 1, None)]


def test_bar_appears_only_after_the_delay() -> None:
    clock = FakeClock()
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=80)
    bar = StderrProgress(delay=1.0, console=console, clock=clock)
    with reporting(bar):
        advance("hashing", 10, 1000)
        clock.now += 0.5
        advance("hashing", 500, 1000)
        assert not bar.shown and out.getvalue() == ""
        clock.now += 0.6
        advance("hashing", 600, 1000)
        advance("checks", 1, 3)
        assert bar.shown
    bar.close()
    assert not bar.shown
    assert "hashing" in out.getvalue()


def test_progress_only_on_a_terminal() -> None:
    assert wants_progress(True, Tty())
    assert not wants_progress(True, io.StringIO())
    assert not wants_progress(False, Tty())


def test_bar_appears_within_the_delay_even_if_no_stage_reports() -> None:
    import threading

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=80)
    bar = StderrProgress(delay=0.05, console=console)
    bar.arm()
    done = threading.Event()
    # wait for the timer thread to draw, without asserting on elapsed time
    for _ in range(200):
        if bar.shown:
            break
        done.wait(0.05)
    assert bar.shown
    with reporting(bar):
        advance("hashing files", 5, 10)
    bar.close()
    assert not bar.shown
    assert "scanning" in out.getvalue()


def test_closing_before_the_delay_never_draws() -> None:
    out = io.StringIO()
    bar = StderrProgress(delay=60.0, console=Console(file=out, force_terminal=True, width=80))
    bar.arm()
    bar.close()
    assert not bar.shown and out.getvalue() == ""


def test_counter_reports_from_worker_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from scanner.infra.progress import counter

    seen: list[tuple[str, int, int | None]] = []
    with reporting(lambda s, d, t: seen.append((s, d, t))):
        tick = counter("hashing files", 130, every=64)
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(130):
            pool.submit(tick)
    assert seen == [
        ("hashing files", 64, 130),
        ("hashing files", 128, 130),
        ("hashing files", 130, 130),
    ]


def test_hashing_reports_files_done_of_total(tmp_path: Path) -> None:
    from scanner.infra.hashing import hash_files

    for i in range(5):
        (tmp_path / f"f{i}").write_bytes(b"x" * i)
    seen: list[tuple[str, int, int | None]] = []
    with reporting(lambda s, d, t: seen.append((s, d, t))):
        hash_files([tmp_path / f"f{i}" for i in range(5)])
    assert seen[-1] == ("hashing files", 5, 5)
