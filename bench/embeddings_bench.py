"""Dense embedding throughput and agreement: our ONNX MiniLM (int8 / fp32) vs plain PyTorch.

    python -m bench.embeddings_bench [CORPUS] [-n 96] [--rounds 3] [--baseline-python PY]

Cuts ~40-line chunks from real code (CORPUS, default: this venv's site-packages), embeds
them with every variant, interleaving the variants round by round so a shared machine's
changing load hits all of them alike, and prints per-batch chunks/s (median, p95 = the
slowest 5% of batches) plus chunks per CPU-second x cores (less sensitive to other load).
Agreement: cosine of each variant against the fp32, max-256-token reference (what
sentence-transformers computes), and overlap of each chunk's 10 nearest neighbours.
With --baseline-python naming a python that has torch + sentence-transformers, the same
chunks also go through SentenceTransformer on torch fp32, in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bench.machine import describe, quiet_engine_logs

Vectors = npt.NDArray[np.float32]

_TORCH_WORKER = r"""
import json, os, sys, time
os.environ["HF_HUB_OFFLINE"] = "1"
import numpy as np, torch
from sentence_transformers import SentenceTransformer
model_dir, chunks_file = sys.argv[1], sys.argv[2]
threads, batch = int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
model = SentenceTransformer(model_dir, device="cpu")
chunks = json.load(open(chunks_file))
model.encode(chunks[:batch], batch_size=batch)
info = {"ready": True, "torch": torch.__version__, "max_seq_length": model.max_seq_length}
print(json.dumps(info), flush=True)
for line in sys.stdin:
    cmd = json.loads(line)
    if cmd["op"] == "quit":
        break
    texts = chunks[cmd["start"]:cmd["stop"]]
    wall, cpu = time.perf_counter(), time.process_time()
    vecs = model.encode(texts, batch_size=batch, normalize_embeddings=True)
    reply = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}
    if cmd.get("save"):
        np.save(cmd["save"], np.asarray(vecs, dtype=np.float32))
    print(json.dumps(reply), flush=True)
"""


def cut_chunks(corpus: Path, count: int, lines: int = 40, seed: int = 0) -> list[str]:
    """`count` non-blank `lines`-line chunks from the .py files under `corpus` (seeded sample)."""
    files = sorted(corpus.rglob("*.py"))
    rng = random.Random(seed)
    rng.shuffle(files)
    chunks: list[str] = []
    for path in files:
        try:
            text_lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        for start in range(0, len(text_lines), lines):
            chunk = "\n".join(text_lines[start : start + lines])
            if chunk.strip():
                chunks.append(chunk)
        if len(chunks) >= count * 4:
            break
    rng.shuffle(chunks)
    if len(chunks) < count:
        raise SystemExit(f"only {len(chunks)} chunks under {corpus}; need {count}")
    return chunks[:count]


@dataclass
class Timings:
    """Per-batch wall and CPU seconds of one variant."""

    batch_sizes: list[int] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def add(self, n: int, wall: float, cpu: float) -> None:
        self.batch_sizes.append(n)
        self.wall.append(wall)
        self.cpu.append(cpu)

    def summary(self, cores: int) -> dict[str, float]:
        rate = np.array(self.batch_sizes) / np.array(self.wall)
        per_cpu = sum(self.batch_sizes) / max(sum(self.cpu), 1e-9)
        return {
            "median": float(np.median(rate)),
            "p95": float(np.percentile(rate, 5)),  # the slowest 5% of batches
            "per_cpu_x_cores": per_cpu * cores,
        }


class TorchBaseline:
    """sentence-transformers on torch fp32 in another python, driven batch by batch."""

    def __init__(self, python: str, model_dir: Path, chunks_file: Path, threads: int, batch: int):
        self._proc = subprocess.Popen(
            [
                python,
                "-c",
                _TORCH_WORKER,
                str(model_dir),
                str(chunks_file),
                str(threads),
                str(batch),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.info = self._read()

    def _read(self) -> dict[str, object]:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError("baseline worker exited (torch / sentence-transformers missing?)")
        reply: dict[str, object] = json.loads(line)
        return reply

    def run(self, start: int, stop: int, save: Path | None = None) -> tuple[float, float]:
        assert self._proc.stdin is not None
        cmd = {"op": "run", "start": start, "stop": stop, "save": str(save) if save else None}
        self._proc.stdin.write(json.dumps(cmd) + "\n")
        self._proc.stdin.flush()
        reply = self._read()
        return float(str(reply["wall"])), float(str(reply["cpu"]))

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
            self._proc.stdin.close()
        self._proc.wait(timeout=60)


def knn_overlap(a: Vectors, b: Vectors, k: int = 10) -> float:
    """Mean share of each row's k nearest neighbours (by cosine) that a and b agree on."""
    k = min(k, len(a) - 1)
    sa, sb = a @ a.T, b @ b.T
    np.fill_diagonal(sa, -2.0)
    np.fill_diagonal(sb, -2.0)
    na, nb = np.argsort(-sa, axis=1)[:, :k], np.argsort(-sb, axis=1)[:, :k]
    return float(np.mean([len(set(x) & set(y)) / k for x, y in zip(na, nb, strict=True)]))


def agreement(vectors: Vectors, reference: Vectors) -> dict[str, float]:
    cos = np.sum(vectors * reference, axis=1)
    return {
        "cos_mean": float(cos.mean()),
        "cos_min": float(cos.min()),
        "knn10": knn_overlap(vectors, reference),
    }


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "corpus", nargs="?", type=Path, default=Path(sysconfig.get_paths()["purelib"])
    )
    parser.add_argument("-n", "--chunks", type=int, default=96)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=32, help="texts per embed() call")
    parser.add_argument(
        "--baseline-python", default=None, help="python with torch + sentence-transformers"
    )
    parser.add_argument(
        "--short-tokens", type=int, default=128, help="the shorter max length to compare"
    )
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks_embeddings.md"))
    args = parser.parse_args(args_list)
    quiet_engine_logs()

    from llmgenie.index.embeddings.local_onnx import LocalMiniLMProvider, usable_cores
    from llmgenie.index.embeddings.model_package import locate_model

    meta = describe("bench.embeddings_bench", args_list)
    cores = usable_cores()
    if args.baseline_python:  # keep machine-specific paths out of the published command
        meta["command"] = str(meta["command"]).replace(args.baseline_python, "$TORCH_PY")
    meta["load_average_start"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(json.dumps(meta, indent=2), flush=True)

    chunks = cut_chunks(args.corpus, args.chunks)
    cache = Path(tempfile.gettempdir()) / "llmgenie-bench-models"
    variants: dict[str, LocalMiniLMProvider] = {
        "ours int8, max 256": LocalMiniLMProvider(cache, precision="int8", max_tokens=256),
        "ours fp32, max 256": LocalMiniLMProvider(cache, precision="fp32", max_tokens=256),
        f"ours int8, max {args.short_tokens}": LocalMiniLMProvider(
            cache, precision="int8", max_tokens=args.short_tokens
        ),
        f"ours fp32, max {args.short_tokens}": LocalMiniLMProvider(
            cache, precision="fp32", max_tokens=args.short_tokens
        ),
        "ours fp32, max 512 (whole chunk)": LocalMiniLMProvider(
            cache, precision="fp32", max_tokens=512
        ),
    }
    timed = [name for name in variants if "512" not in name]
    for provider in variants.values():
        provider.load()  # builds the cached models once (not timed)
    token_counts = [
        len(e.ids)
        for e in variants["ours fp32, max 512 (whole chunk)"]._tokenizer.encode_batch(chunks)
    ]

    tmp = Path(tempfile.mkdtemp(prefix="llmgenie-emb-bench-"))
    chunks_file = tmp / "chunks.json"
    chunks_file.write_text(json.dumps(chunks))
    baseline: TorchBaseline | None = None
    baseline_note = "not measured: no --baseline-python given"
    if args.baseline_python:
        try:
            baseline = TorchBaseline(
                args.baseline_python, locate_model().root, chunks_file, cores, args.batch
            )
            baseline_note = (
                f"torch {baseline.info['torch']}, sentence-transformers"
                f" max_seq_length {baseline.info['max_seq_length']}"
            )
        except (OSError, RuntimeError) as exc:
            baseline_note = f"not measured: {exc}"
    print(f"baseline: {baseline_note}", flush=True)

    timings: dict[str, Timings] = {name: Timings() for name in timed}
    torch_name = "torch fp32 sentence-transformers, max 256"
    if baseline is not None:
        timings[torch_name] = Timings()
    outputs: dict[str, Vectors] = {}
    for name, provider in variants.items():  # warm-up and the vectors for agreement
        outputs[name] = provider.embed(chunks)
    if baseline is not None:
        baseline.run(0, len(chunks), save=tmp / "torch.npy")
        outputs[torch_name] = np.load(tmp / "torch.npy")

    def ours(provider: LocalMiniLMProvider) -> Callable[[int, int], tuple[float, float]]:
        def run(start: int, stop: int) -> tuple[float, float]:
            wall, cpu = time.perf_counter(), time.process_time()
            provider.embed(chunks[start:stop])
            return time.perf_counter() - wall, time.process_time() - cpu

        return run

    runners = {name: ours(variants[name]) for name in timed}
    if baseline is not None:
        runners[torch_name] = baseline.run
    for round_no in range(args.rounds):
        for start in range(0, len(chunks), args.batch):
            stop = min(start + args.batch, len(chunks))
            for name, run in runners.items():  # interleaved: same load for every variant
                wall, cpu = run(start, stop)
                timings[name].add(stop - start, wall, cpu)
        print(f"round {round_no + 1}/{args.rounds} done", flush=True)
    if baseline is not None:
        baseline.close()
    meta["load_average_end"] = " ".join(f"{x:.1f}" for x in os.getloadavg())

    reference = outputs["ours fp32, max 256"]
    rows = []
    for name in [*timings, "ours fp32, max 512 (whole chunk)"]:
        speed = timings[name].summary(cores) if name in timings else None
        rows.append((name, speed, agreement(outputs[name], reference)))
    report = render(meta, args, rows, baseline_note, token_counts, cores)
    print(report)
    write_section(args.out, report)
    print(f"written to {args.out}")
    return 0


START, END = "<!-- embeddings-bench:start -->", "<!-- embeddings-bench:end -->"


def write_section(path: Path, report: str) -> None:
    """Replace the measured section between the markers, keeping the prose around it."""
    block = f"{START}\n{report}{END}\n"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + block + rest.split(END, 1)[1].lstrip("\n")
    else:
        text = block + text
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def render(
    meta: dict[str, object],
    args: argparse.Namespace,
    rows: list[tuple[str, dict[str, float] | None, dict[str, float]]],
    baseline_note: str,
    token_counts: list[int],
    cores: int,
) -> str:
    tokens = np.array(token_counts)
    lines = [
        "## Dense embeddings (CPU)",
        "",
        f"Command: `{meta['command']}`  ",
        f"Machine: {meta['cpu']}, {meta['nproc']} cores usable;"
        f" load average {meta['load_average_start']}"
        f" at start, {meta['load_average_end']} at end (shared machine)  ",
        f"Date: {meta['date_utc']}, llmgenie {meta['llmgenie_commit']}, Python {meta['python']}  ",
        f"Baseline: {baseline_note}"
        + (
            " ($TORCH_PY: a separate venv with torch + sentence-transformers)"
            if args.baseline_python
            else ""
        ),
        "",
        f"{len(token_counts)} chunks of 40 lines from `{args.corpus.name}`; whole-chunk length in"
        f" tokens: median {int(np.median(tokens))}, p90 {int(np.percentile(tokens, 90))};"
        f" {np.mean(tokens > 256):.0%} exceed 256, {np.mean(tokens > args.short_tokens):.0%}"
        f" exceed {args.short_tokens}. {args.rounds} rounds, {args.batch} texts per call.",
        "",
        "| variant | chunks/s median | chunks/s p95 | chunks per CPU-s x cores |"
        " cos vs fp32@256 mean / min | 10-NN overlap |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, speed, agree in rows:
        if speed is None:
            timing = "| – | – | – "
        else:
            timing = (
                f"| {speed['median']:.1f} | {speed['p95']:.1f} | {speed['per_cpu_x_cores']:.1f} "
            )
        lines.append(
            f"| {name} {timing}| {agree['cos_mean']:.4f} / {agree['cos_min']:.4f}"
            f" | {agree['knn10']:.2f} |"
        )
    lines += [
        "",
        "chunks/s: per call of the batch size above; p95 is the slowest 5% of calls. CPU-s x"
        f" cores = chunks per CPU-second times {cores}: what the variant would do with the cores"
        " to itself, less distorted by other processes on a shared machine.",
        "Reference for agreement: our fp32 graph at 256 tokens (checked against the torch"
        " baseline in the torch row when measured).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
