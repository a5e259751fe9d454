"""Model-file scanning, side by side with ModelAudit, picklescan, modelscan and fickling:
recall on a malicious corpus, false positives on files the real libraries write, and time
and memory on a 1 GB torch checkpoint. Prints figures; asserts nothing.

    python benchmarks/bench_models.py [--size-gb 1] [--tensors 400]
        [--data-dir ~/.cache/wormsign-bench/models] [--peers-dir ~/.cache/wormsign-bench]
        [--install-peers]

The corpus comes from benchmarks/model_corpus.py: malicious files are bytes built here (no
file is ever loaded or unpickled, by wormsign or by this script); benign files are written
by torch, numpy, joblib, scikit-learn, safetensors, keras, onnx, gguf and dill, those that
are installed. "Blocked" means the tool would fail the job: wormsign reports a finding of
high or critical severity; a peer reports an issue (its own exit-code rule). A peer that
errors on a file neither catches it nor passes it.

Each peer runs in its own virtualenv (`<peers-dir>/<tool>-venv`; --install-peers creates
the missing ones with pip), in one process over all files. The checkpoint is timed in a
fresh process per tool: the figure is the scan call alone, the memory is the process's
peak RSS (interpreter and imports included).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.model_corpus import build_corpus

PEERS = ("modelaudit", "picklescan", "modelscan", "fickling")
# fickling 0.1.12 imports typing_extensions without declaring it
PIP_NAMES = {"fickling": ["fickling", "typing_extensions"]}
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "wormsign-bench"

# Each driver reads a JSON list of paths, prints one [path, verdict, seconds] line per file
# ("caught", "clean" or "error"), then ["maxrss", kib].
DRIVER_HEAD = """
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
"""
DRIVER_TAIL = """
for path in json.loads(sys.argv[1]):
    start = time.perf_counter()
    try:
        verdict = judge(path)
    except Exception:
        verdict = "error"
    print(json.dumps([path, verdict, time.perf_counter() - start]), flush=True)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child started by a big
# parent would report the parent's peak.
with open("/proc/self/status") as status:
    hwm = [line.split()[1] for line in status if line.startswith("VmHWM:")]
peak = int(hwm[0]) if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(["maxrss", peak]))
"""
DRIVERS = {
    "wormsign": """
sys.path.insert(0, sys.argv[2])
from scanner.checks.models.check import default_policy, judge_model
from scanner.checks.models.model_files import scan_model_file
def judge(path):
    from pathlib import Path
    findings = judge_model(scan_model_file(Path(path)), default_policy())
    return "caught" if any(int(f.severity) >= 3 for f in findings) else "clean"
""",
    "picklescan": """
from picklescan.scanner import scan_file_path
def judge(path):
    r = scan_file_path(path)
    if r.infected_files:
        return "caught"
    return "error" if r.scan_err else "clean"
""",
    "modelscan": """
import logging
logging.disable(logging.CRITICAL)
from modelscan.modelscan import ModelScan
def judge(path):
    r = ModelScan().scan(path)
    if r["summary"]["total_issues"]:
        return "caught"
    if r.get("errors") or not r["summary"]["scanned"]["total_scanned"]:
        return "error"
    return "clean"
""",
    "fickling": """
from fickling.analysis import Severity
from fickling.loader import scan_file
def judge(path):
    r = scan_file(path, graceful=True)
    if r.severity > Severity.LIKELY_SAFE:
        return "caught"
    return "error" if r.errors else "clean"
""",
    "modelaudit": """
import logging
logging.disable(logging.CRITICAL)
from modelaudit.core import scan_model_directory_or_file
from modelaudit.core_results import determine_exit_code
def judge(path):
    code = determine_exit_code(scan_model_directory_or_file(path))
    return {0: "clean", 1: "caught"}.get(code, "error")
""",
}


# -- the 1 GB checkpoint ---------------------------------------------------------------------


def _ustr(text: str) -> bytes:
    raw = text.encode()
    return b"\x8c" + bytes([len(raw)]) + raw


def _int(n: int) -> bytes:
    return b"J" + n.to_bytes(4, "little", signed=True)


def state_dict_pickle(sizes: list[int]) -> bytes:
    """data.pkl for an OrderedDict of float32 tensors, as torch.save (protocol 2) writes it."""
    out = b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01("
    for i, numel in enumerate(sizes):
        out += _ustr(f"layers.{i}.weight")
        out += b"ctorch._utils\n_rebuild_tensor_v2\nq\x02(" if i == 0 else b"h\x02("
        out += b"(" + _ustr("storage") + (b"ctorch\nFloatStorage\nq\x03" if i == 0 else b"h\x03")
        out += _ustr(str(i)) + _ustr("cpu") + _int(numel) + b"tQ"
        out += _int(0) + _int(numel) + b"\x85" + _int(1) + b"\x85" + b"\x89"
        out += b"h\x00)R" + b"tR"
    return out + b"u."


def build_checkpoint(path: Path, size_bytes: int, tensors: int) -> None:
    """A stored zip as torch.save writes it (data.pkl, then one member per storage)."""
    per = (size_bytes // tensors) // 4 * 4
    chunk = os.urandom(1 << 20)
    tmp = path.with_suffix(".partial")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        zf.writestr("archive/data.pkl", state_dict_pickle([per // 4] * tensors))
        zf.writestr("archive/byteorder", "little")
        for i in range(tensors):
            with zf.open(zipfile.ZipInfo(f"archive/data/{i}"), "w", force_zip64=True) as fh:
                left = per
                while left:
                    piece = chunk[: min(left, len(chunk))]
                    fh.write(piece)
                    left -= len(piece)
        zf.writestr("archive/version", "3\n")
    tmp.rename(path)


# -- running the tools -----------------------------------------------------------------------


def python_of(tool: str, peers_dir: Path) -> Path | None:
    if tool == "wormsign":
        return Path(sys.executable)
    python = peers_dir / f"{tool}-venv" / "bin" / "python"
    return python if python.exists() else None


def install_peer(tool: str, peers_dir: Path) -> str:
    venv = peers_dir / f"{tool}-venv"
    peers_dir.mkdir(parents=True, exist_ok=True)
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [str(venv / "bin" / "pip"), "install", "-q", *PIP_NAMES.get(tool, [tool])],
    ]
    for step in steps:
        proc = subprocess.run(step, capture_output=True, text=True, check=False, timeout=1800)
        if proc.returncode != 0:
            return (proc.stderr.strip().splitlines() or ["failed"])[-1][:120]
    return "installed"


def run_tool(
    tool: str, python: Path, paths: list[Path]
) -> tuple[dict[str, tuple[str, float]], int | None, str | None]:
    """{path: (verdict, seconds)}, the process's peak RSS in KiB, and a failure if any."""
    code = DRIVER_HEAD + DRIVERS[tool] + DRIVER_TAIL
    root = str(Path(__file__).resolve().parents[1])
    proc = subprocess.run(
        [str(python), "-c", code, json.dumps([str(p) for p in paths]), root],
        capture_output=True,
        text=True,
        check=False,
        timeout=3600,
        cwd="/",
    )
    out: dict[str, tuple[str, float]] = {}
    maxrss = None
    for line in proc.stdout.splitlines():
        if not line.startswith("["):
            continue
        first, second, *rest = json.loads(line)
        if first == "maxrss":
            maxrss = int(second)
        else:
            out[first] = (second, rest[0])
    failure = None
    if proc.returncode != 0 and not out:
        failure = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1][:120]
    return out, maxrss, failure


def checkpoint_figures(
    tool: str, python: Path, ckpt: Path, repeat: int = 3
) -> tuple[str, float, float] | None:
    """(verdict, best seconds, peak MiB) over `repeat` fresh processes."""
    best: tuple[str, float, float] | None = None
    for _ in range(repeat):
        res, maxrss, _failure = run_tool(tool, python, [ckpt])
        if str(ckpt) not in res or maxrss is None:
            return best
        verdict, seconds = res[str(ckpt)]
        if best is None or seconds < best[1]:
            best = (verdict, seconds, maxrss / 1024)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-gb", type=float, default=1.0)
    parser.add_argument("--tensors", type=int, default=400)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_CACHE / "models")
    parser.add_argument("--peers-dir", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--install-peers", action="store_true")
    parser.add_argument("--skip-checkpoint-peers", action="store_true")
    args = parser.parse_args()

    args.data_dir.mkdir(parents=True, exist_ok=True)
    ckpt = args.data_dir / f"checkpoint-{args.size_gb:g}g-{args.tensors}t.pt"
    if not ckpt.exists():
        start = time.perf_counter()
        build_checkpoint(ckpt, int(args.size_gb * (1 << 30)), args.tensors)
        print(f"built {ckpt} in {time.perf_counter() - start:.1f}s")

    malicious, benign = build_corpus(args.data_dir / "corpus")
    print(
        f"corpus: {len(malicious)} malicious files, {len(benign)} benign files made by "
        f"the real libraries; checkpoint {ckpt.stat().st_size / (1 << 30):.2f} GiB"
    )

    notes: dict[str, str] = {}
    results: dict[str, dict[str, tuple[str, float]]] = {}
    ckpt_figures: dict[str, tuple[str, float, float] | None] = {}
    files = [*malicious.values(), *benign.values()]
    for tool in ("wormsign", *PEERS):
        python = python_of(tool, args.peers_dir)
        if python is None and args.install_peers:
            notes[tool] = install_peer(tool, args.peers_dir)
            python = python_of(tool, args.peers_dir)
        if python is None:
            notes.setdefault(tool, f"not installed (no {args.peers_dir}/{tool}-venv)")
            continue
        res, _maxrss, failure = run_tool(tool, python, files)
        if failure:
            notes[tool] = f"driver failed: {failure}"
        results[tool] = res
        if tool == "wormsign" or not args.skip_checkpoint_peers:
            ckpt_figures[tool] = checkpoint_figures(tool, python, ckpt)

    print(
        "\nblocked = the tool would fail the job; errors = it could not say; "
        "false+ = a benign file blocked\n"
    )
    header = (
        f"{'tool':11} {'recall':>14} {'missed':>6} {'errors':>6} {'false+':>6} "
        f"{'benign ok':>9} {'corpus s':>8} {'1GB s':>7} {'1GB MiB':>8}"
    )
    print(header)
    print("-" * len(header))
    details: list[str] = []
    for tool in ("wormsign", *PEERS):
        if tool not in results:
            print(f"{tool:11} {notes.get(tool, 'not run')}")
            continue
        res = results[tool]

        def verdict(p: Path, res: dict[str, tuple[str, float]] = res) -> str:
            return res.get(str(p), ("error", 0.0))[0]

        caught = [n for n, p in malicious.items() if verdict(p) == "caught"]
        errors = [n for n, p in malicious.items() if verdict(p) == "error"]
        missed = sorted(set(malicious) - set(caught) - set(errors))
        false_pos = sorted(n for n, p in benign.items() if verdict(p) == "caught")
        benign_ok = [n for n, p in benign.items() if verdict(p) == "clean"]
        benign_err = sorted(n for n, p in benign.items() if verdict(p) == "error")
        seconds = sum(res.get(str(p), ("", 0.0))[1] for p in files)
        fig = ckpt_figures.get(tool)
        ck = f"{fig[1]:7.3f} {fig[2]:8.0f}" if fig else f"{'-':>7} {'-':>8}"
        recall = f"{len(caught)}/{len(malicious)} {100 * len(caught) / len(malicious):4.0f}%"
        print(
            f"{tool:11} {recall:>14} {len(missed):6} {len(errors):6} {len(false_pos):6} "
            f"{len(benign_ok):4}/{len(benign):<4} {seconds:8.2f} {ck}"
        )
        if fig and fig[0] != "clean":
            details.append(f"{tool}: the benign 1 GB checkpoint was {fig[0]}")
        if missed:
            details.append(f"{tool} missed: {', '.join(missed)}")
        if errors:
            details.append(f"{tool} errors on malicious: {', '.join(sorted(errors))}")
        if false_pos:
            details.append(f"{tool} blocked benign: {', '.join(false_pos)}")
        if benign_err:
            details.append(f"{tool} could not scan benign: {', '.join(benign_err)}")
        if tool in notes:
            details.append(f"{tool}: {notes[tool]}")
    print()
    for line in details:
        print(line)
    print("\nbenign files: " + ", ".join(sorted(benign)))


if __name__ == "__main__":
    main()
