"""Model-file scanning: time on a multi-GB torch zip checkpoint against reading it, and the
malicious / benign sample sets. Prints figures; asserts nothing.

    python benchmarks/bench_models.py [--size-gb 3] [--tensors 400] [--data-dir /work/bench-data]

The checkpoint is built once without torch (a stored zip: `archive/data.pkl` written with
the opcodes torch.save uses, then `archive/data/<i>` members of tensor bytes) and reused.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scanner.checks.models.check import default_policy, judge_model
from scanner.checks.models.model_files import scan_model_file
from scanner.infra.archive import SafeArchive


def _ustr(text: str) -> bytes:
    raw = text.encode()
    return b"\x8c" + bytes([len(raw)]) + raw


def _int(n: int) -> bytes:
    return b"J" + struct.pack("<i", n)


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
    per = (size_bytes // tensors) // 4 * 4
    sizes = [per // 4] * tensors
    chunk = os.urandom(1 << 20)
    tmp = path.with_suffix(".partial")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        zf.writestr("archive/data.pkl", state_dict_pickle(sizes))
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


def timed(fn: object, repeat: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best, result


def read_whole(path: Path) -> int:
    total = 0
    with path.open("rb") as fh:
        while chunk := fh.read(8 << 20):
            total += len(chunk)
    return total


def sample_sets(workdir: Path) -> tuple[dict[str, Path], dict[str, Path]]:
    from tests.models import picklekit as kit

    workdir.mkdir(parents=True, exist_ok=True)
    malicious: dict[str, Path] = {}
    for name, data in kit.malicious_samples().items():
        p = workdir / f"{name}.pkl"
        p.write_bytes(data)
        malicious[name] = p
    bin7z = workdir / "pytorch_model_7z.bin"
    bin7z.write_bytes(bytes.fromhex("377ABCAF271C0004") + b"\x00" * 64)
    malicious["7z_as_bin"] = bin7z
    malicious["torch_zip_os_system"] = kit.torch_zip(workdir / "evil.pt", kit.os_system())
    npy = workdir / "evil.npy"
    npy.write_bytes(kit.npy_object(kit.os_system()))
    malicious["npy_object_os_system"] = npy
    benign: dict[str, Path] = {
        "torch_like_zip": kit.torch_zip(workdir / "good.pt", kit.torch_like_state_dict())
    }
    plain = workdir / "plain.npy"
    plain.write_bytes(kit.npy_plain())
    benign["npy_plain"] = plain
    st = workdir / "model.safetensors"
    st.write_bytes(kit.safetensors({"w": ("F32", [256], 1024)}))
    benign["safetensors"] = st
    try:
        import torch

        model = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.LayerNorm(8))
        opt = torch.optim.Adam(model.parameters())
        model(torch.randn(2, 8)).sum().backward()
        opt.step()
        for name, obj in {
            "torch_state_dict.pt": model.state_dict(),
            "torch_optimizer.pt": opt.state_dict(),
            "lightning.ckpt": {
                "state_dict": model.state_dict(),
                "epoch": 1,
                "optimizer_states": [opt.state_dict()],
            },
        }.items():
            torch.save(obj, workdir / name)
            benign[name] = workdir / name
    except ImportError:
        pass
    try:
        import joblib  # type: ignore[import-untyped]
        import numpy as np

        joblib.dump(
            {"w": np.arange(1000.0), "o": np.array([1, "x"], dtype=object)},
            workdir / "model.joblib",
        )
        benign["joblib"] = workdir / "model.joblib"
        np.save(workdir / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
        benign["npy_objects"] = workdir / "objects.npy"
    except ImportError:
        pass
    return malicious, benign


# Each peer runs in its own virtualenv, in-process over the files (no interpreter start-up
# per file), and reports per file: "caught" (it would fail the job), "clean", or "error".
PEER_DRIVERS = {
    "picklescan": """
import json, sys, time
from picklescan.scanner import scan_file_path
for path in json.loads(sys.argv[1]):
    start = time.perf_counter()
    try:
        r = scan_file_path(path)
        verdict = "error" if r.scan_err else ("caught" if r.infected_files else "clean")
    except Exception as err:
        verdict = "error"
    print(json.dumps([path, verdict, time.perf_counter() - start]))
""",
    "modelscan": """
import json, sys, time
from modelscan.modelscan import ModelScan
for path in json.loads(sys.argv[1]):
    start = time.perf_counter()
    try:
        r = ModelScan().scan(path)
        if r["summary"]["total_issues"]:
            verdict = "caught"
        elif r.get("errors"):
            verdict = "error"
        elif not r["summary"]["scanned"]["total_scanned"]:
            verdict = "skipped"
        else:
            verdict = "clean"
    except Exception as err:
        verdict = "error"
    print(json.dumps([path, verdict, time.perf_counter() - start]))
""",
}


def run_peer(python: Path, tool: str, paths: list[Path]) -> dict[str, tuple[str, float]]:
    proc = subprocess.run(
        [str(python), "-c", PEER_DRIVERS[tool], json.dumps([str(p) for p in paths])],
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    out: dict[str, tuple[str, float]] = {}
    for line in proc.stdout.splitlines():
        if line.startswith("["):
            path, verdict, seconds = json.loads(line)
            out[path] = (verdict, seconds)
    return out


def blocking(path: Path) -> bool:
    return any(int(f.severity) >= 3 for f in judge_model(scan_model_file(path), default_policy()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-gb", type=float, default=3.0)
    parser.add_argument("--tensors", type=int, default=400)
    parser.add_argument("--data-dir", type=Path, default=Path("/work/bench-data"))
    args = parser.parse_args()

    args.data_dir.mkdir(parents=True, exist_ok=True)
    size = int(args.size_gb * (1 << 30))
    ckpt = args.data_dir / f"checkpoint-{args.size_gb:g}g-{args.tensors}t.pt"
    if not ckpt.exists():
        start = time.perf_counter()
        build_checkpoint(ckpt, size, args.tensors)
        print(f"built {ckpt} in {time.perf_counter() - start:.1f}s")
    file_size = ckpt.stat().st_size

    def read_pickle() -> int:
        with SafeArchive(ckpt) as archive:
            return len(archive.read("archive/data.pkl"))

    def scan() -> int:
        return len(list(judge_model(scan_model_file(ckpt), default_policy())))

    t_read_all, _ = timed(lambda: read_whole(ckpt), repeat=2)
    t_pickle, pkl_size = timed(read_pickle)
    t_scan, findings = timed(scan)
    print(
        f"checkpoint: {file_size / (1 << 30):.2f} GiB, {args.tensors} tensors, "
        f"data.pkl {pkl_size} bytes"
    )
    print(
        f"read whole file once (page cache warm): {t_read_all:8.3f} s "
        f"({file_size / t_read_all / (1 << 20):.0f} MiB/s)"
    )
    print(f"open zip + read data.pkl:               {t_pickle * 1000:8.1f} ms")
    print(
        f"wormsign scan + judge:                  {t_scan * 1000:8.1f} ms "
        f"(findings: {findings}; {t_scan / t_pickle:.2f}x reading the pickle, "
        f"{t_scan / t_read_all:.4f}x reading the file)"
    )

    peak_scan = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"peak RSS after the checkpoint runs: {peak_scan / 1024:.0f} MiB "
        "(the interpreter and wormsign included)"
    )

    malicious, benign = sample_sets(args.data_dir / "samples")
    results: dict[str, dict[str, tuple[str, float]]] = {"wormsign": {}}
    for path in [*malicious.values(), *benign.values(), ckpt]:
        start = time.perf_counter()
        verdict = "caught" if blocking(path) else "clean"
        results["wormsign"][str(path)] = (verdict, time.perf_counter() - start)
    for tool in PEER_DRIVERS:
        python = args.data_dir / f"{tool}-venv" / "bin" / "python"
        if python.exists():
            results[tool] = run_peer(python, tool, [*malicious.values(), *benign.values(), ckpt])
    print(
        f"\n{len(malicious)} malicious and {len(benign)} benign samples "
        "(blocking = the tool would fail the job)"
    )
    print(
        f"{'tool':12} {'caught':>7} {'missed':>7} {'errors':>7} {'false+':>7} "
        f"{'samples s':>10} {'3GB ckpt s':>11}"
    )
    for tool, res in results.items():

        def verdict_of(p: Path, res: dict[str, tuple[str, float]] = res) -> str:
            return res.get(str(p), ("error", 0.0))[0]

        caught = [n for n, p in malicious.items() if verdict_of(p) == "caught"]
        errors = [n for n, p in malicious.items() if verdict_of(p) == "error"]
        missed = sorted(set(malicious) - set(caught) - set(errors))
        false_pos = [n for n, p in benign.items() if verdict_of(p) == "caught"]
        benign_errors = [
            f"{n} ({verdict_of(p)})"
            for n, p in benign.items()
            if verdict_of(p) not in ("caught", "clean")
        ]
        seconds = sum(
            res.get(str(p), ("", 0.0))[1] for p in [*malicious.values(), *benign.values()]
        )
        print(
            f"{tool:12} {len(caught):7} {len(missed):7} {len(errors):7} {len(false_pos):7} "
            f"{seconds:10.3f} {res.get(str(ckpt), ('', float('nan')))[1]:11.3f}"
        )
        if missed:
            print(f"  {tool} missed: {', '.join(missed)}")
        if errors:
            print(f"  {tool} errors on malicious: {', '.join(errors)}")
        if false_pos:
            print(f"  {tool} blocked benign: {', '.join(false_pos)}")
        if benign_errors:
            print(f"  {tool} did not scan benign: {', '.join(benign_errors)}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak RSS at the end (torch imported for the benign set): {peak / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
