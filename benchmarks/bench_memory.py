"""Peak memory of a scan: a 5 GB torch checkpoint, an ML environment, hostile inputs.

    python benchmarks/bench_memory.py [--size-gb 5] [--tensors 4] [--env /work/bench-env]
                                      [--data-dir /work/bench-data] [--db OSV.zip|dir]
    python benchmarks/bench_memory.py --hostile      # only issue 17's bounded-read cases

The hostile cases (tests/hostile/cases.py: /dev/zero as a lock file, FIFOs, a --python
that prints forever, a 1 GiB db update source, a 2 GiB .pth, a 200,000-row RECORD ...)
are what tests/hostile/test_hostile_property.py holds under 500 MB.

Each scan runs as `python -m scanner scan ...` in a child process; its peak resident
set size is read from `os.wait4` (ru_maxrss of that child alone). The bare interpreter
running `wormsign --version` is measured too, so the scan's own share shows. Prints
figures; asserts nothing.

The checkpoint is a torch zip (`archive/data.pkl` written with the opcodes torch.save
uses, `archive/data/<i>` stored tensor members) whose tensor bytes are holes in a sparse
file: 5 GB on paper, almost nothing on disk, built in about the time its CRCs take.
"""

from __future__ import annotations

import argparse
import os
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_models import state_dict_pickle  # noqa: E402  -- the benchmarks' own helper


def _zeros_crc(size: int) -> int:
    crc, chunk = 0, bytes(1 << 24)
    while size:
        n = min(size, len(chunk))
        crc = zlib.crc32(chunk[:n] if n < len(chunk) else chunk, crc)
        size -= n
    return crc


def build_sparse_checkpoint(path: Path, size_bytes: int, tensors: int) -> None:
    """A stored zip64 written by hand: tensor members are seeked over, never written."""
    per = (size_bytes // tensors) // 4 * 4
    crc = _zeros_crc(per)
    members: list[tuple[str, int, int, bytes | None]] = [
        ("archive/data.pkl", 0, 0, state_dict_pickle([per // 4] * tensors)),
        ("archive/byteorder", 0, 0, b"little"),
        *((f"archive/data/{i}", per, crc, None) for i in range(tensors)),
        ("archive/version", 0, 0, b"3\n"),
    ]
    central = bytearray()
    tmp = path.with_suffix(".partial")
    with tmp.open("wb") as fh:
        for name, size, member_crc, data in members:
            raw = name.encode()
            if data is not None:
                size, member_crc = len(data), zlib.crc32(data)
            offset = fh.tell()
            extra = struct.pack("<HHQQ", 1, 16, size, size)
            fh.write(
                struct.pack(
                    "<4s5HI2I2H",
                    b"PK\x03\x04",
                    45,
                    0,
                    0,
                    0,
                    0x21,
                    member_crc,
                    0xFFFFFFFF,
                    0xFFFFFFFF,
                    len(raw),
                    len(extra),
                )
                + raw
                + extra
            )
            if data is not None:
                fh.write(data)
            else:
                fh.seek(size, os.SEEK_CUR)  # a hole: reads back as zeros
            cextra = struct.pack("<HHQQQ", 1, 24, size, size, offset)
            central += (
                struct.pack(
                    "<4s6HI2I5H2I",
                    b"PK\x01\x02",
                    45,
                    45,
                    0,
                    0,
                    0,
                    0x21,
                    member_crc,
                    0xFFFFFFFF,
                    0xFFFFFFFF,
                    len(raw),
                    len(cextra),
                    0,
                    0,
                    0,
                    0,
                    0xFFFFFFFF,
                )
                + raw
                + cextra
            )
        cd_offset = fh.tell()
        fh.write(central)
        end64 = fh.tell()
        count = len(members)
        fh.write(
            struct.pack(
                "<4sQ2H2I4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, len(central), cd_offset
            )
        )
        fh.write(struct.pack("<4sIQI", b"PK\x06\x07", 0, end64, 1))
        fh.write(
            struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
        )
    tmp.rename(path)


def peak_rss(args: list[str], env: dict[str, str], timeout: float) -> tuple[float, float, int]:
    """(peak RSS in MiB, wall seconds, exit code) of `python -m scanner ARGS`."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "scanner", *args],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = start + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.stderr is not None:
        err = proc.stderr.read().decode(errors="replace").strip()
        if proc.returncode not in (0, 1) and err:
            print(f"    ({err.splitlines()[-1][:150]})")
        proc.stderr.close()
    return usage.ru_maxrss / 1024, time.perf_counter() - start, proc.returncode


def report(label: str, figures: tuple[float, float, int], baseline: float) -> None:
    rss, seconds, code = figures
    print(
        f"{label:<46} peak RSS {rss:8.1f} MiB  (+{rss - baseline:7.1f} over the bare CLI)"
        f"  {seconds:7.1f} s  exit {code}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-gb", type=float, default=5.0)
    parser.add_argument("--tensors", type=int, default=4)
    parser.add_argument("--data-dir", type=Path, default=Path("/work/bench-data"))
    parser.add_argument("--env", type=Path, default=Path("/work/bench-env"))
    parser.add_argument(
        "--db", type=Path, default=REPO.parent / "shared" / "data" / "advisories" / "osv-pypi.zip"
    )
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument(
        "--hostile", action="store_true", help="only the hostile bounded-read cases"
    )
    args = parser.parse_args()
    if args.hostile:
        hostile_cases(args.timeout)
        return

    cache = args.data_dir / "bench-memory-cache"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "XDG_CACHE_HOME": str(cache),
        "NO_COLOR": "1",
        "PYTHONPATH": str(REPO),
    }
    args.data_dir.mkdir(parents=True, exist_ok=True)
    size = int(args.size_gb * (1 << 30))
    ckpt = args.data_dir / f"sparse-{args.size_gb:g}g-{args.tensors}t.pt"
    if not ckpt.is_file():
        start = time.perf_counter()
        build_sparse_checkpoint(ckpt, size, args.tensors)
        print(f"built {ckpt} in {time.perf_counter() - start:.1f} s")
    on_disk = ckpt.stat().st_blocks * 512
    print(
        f"checkpoint: {ckpt.stat().st_size / (1 << 30):.2f} GiB, {on_disk / (1 << 20):.1f} MiB "
        f"on disk, {args.tensors} tensors"
    )
    print(f"python {sys.version.split()[0]}, ru_maxrss of each child process\n")

    baseline = peak_rss(["--version"], env, 60)[0]
    print(f"{'bare CLI (wormsign --version)':<46} peak RSS {baseline:8.1f} MiB")
    report(
        f"checkpoint {args.size_gb:g} GB, models check",
        peak_rss(
            ["scan", "--no-cache", "--check", "models", "--format", "json", str(ckpt)],
            env,
            args.timeout,
        ),
        baseline,
    )
    report(
        f"checkpoint {args.size_gb:g} GB, all checks",
        peak_rss(
            ["scan", "--no-cache", "--db", str(args.db), "--format", "json", str(ckpt)],
            env,
            args.timeout,
        ),
        baseline,
    )
    if not args.env.is_dir():
        print(
            f"\n{args.env} does not exist: environment figures skipped "
            "(pass --env PATH to a virtualenv)"
        )
        return
    site = next(args.env.glob("lib/python*/site-packages"), None)
    files = sum(1 for _ in site.rglob("*")) if site else 0
    print(f"\nenvironment {args.env}: {files} entries in site-packages")
    report(
        "environment, integrity (cold: no hash cache)",
        peak_rss(
            ["scan", "--no-cache", "--check", "integrity", "--format", "json", str(args.env)],
            env,
            args.timeout,
        ),
        baseline,
    )
    report(
        "environment, integrity (warm hash cache)",
        peak_rss(
            ["scan", "--check", "integrity", "--format", "json", str(args.env)], env, args.timeout
        ),
        baseline,
    )
    report(
        "environment, heuristics",
        peak_rss(
            ["scan", "--check", "heuristics", "--format", "json", str(args.env)], env, args.timeout
        ),
        baseline,
    )
    report(
        "environment, all checks (offline, OSV export)",
        peak_rss(
            ["scan", "--db", str(args.db), "--format", "json", str(args.env)], env, args.timeout
        ),
        baseline,
    )
    print()
    hostile_cases(args.timeout)


def hostile_cases(timeout: float) -> None:
    """Peak RSS of every bounded-read case of tests/hostile/cases.py (issue 17)."""
    import tempfile

    sys.path.insert(0, str(REPO))
    from tests.hostile.cases import BUILDERS, build

    with tempfile.TemporaryDirectory(prefix="wormsign-hostile-") as tmp:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "XDG_CACHE_HOME": str(Path(tmp) / "cache"),
            "NO_COLOR": "1",
            "PYTHONPATH": str(REPO),
            "HOME": str(Path(tmp) / "home"),
        }
        baseline = peak_rss(["--version"], env, 60)[0]
        print(f"hostile inputs (issue 17), bound 500 MB; bare CLI {baseline:.1f} MiB")
        for i, builder in enumerate(BUILDERS):
            case = build(builder, Path(tmp) / f"case-{i}")
            if case.bounded_read:
                report(case.name, peak_rss(list(case.args), env, timeout), baseline)


if __name__ == "__main__":
    main()
