"""Cold start and embedding throughput: the ONNX Runtime path against the PyTorch path, side by
side in one run (TACIT_EMBED_RUNTIME=torch is today's path before the ONNX export).

Cold: each figure is the median wall time of fresh `tacit` processes, the two runtimes taking
turns so that the machine's load falls on both alike:
  - `tacit ask` on the demo KB (`make demo`'s, rebuilt here) and on a KB of 100,000 SYNTHETIC
    chunks (random unit vectors and text sampled from the evaluation transcripts' words, built
    as benchmarks/ask_latency.py does; the question's embedding and the whole ask stay real);
  - `tacit who-knows`, `tacit chat` to its first prompt and to its first answer, and
    `tacit pack build` of the demo pack, on the demo KB.
Throughput: chunks a second on REAL ~200-token chunks (150-word windows of the evaluation
transcripts, benchmarks/eval/transcripts), ONNX Runtime by batch size and thread count against
PyTorch with bfloat16 autocast (today's indexing path) on all cores; and the vectors' agreement
with PyTorch float32.

    .venv/bin/python benchmarks/cold_start.py [--runs 5] [--chunks 100000] [--json]
        [--demo-kb DIR] [--big-kb DIR]     # keep (and reuse) the KBs there

Goals (issue 17, 2 cores): cold ask <= 1.5 s idle and <= 0.3 x the PyTorch path; pack build
<= 5 s; throughput >= 2 x the bfloat16 path. Other processes skew every figure: the load
average is printed at the start and the end.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TACIT = str(Path(sys.executable).with_name("tacit"))
RUNTIMES = ("onnx", "torch")
QUESTION = "Which alarms can I ignore?"
TOPIC = "chlorine dosing"
PACK = "new-shift-lead"


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} (1/5/15 min) on {os.cpu_count()} cores"


def _env(kb: Path, runtime: str) -> dict:
    return {**os.environ, "TACIT_KB": str(kb), "TACIT_EMBED_RUNTIME": runtime}


def _wall(command: list[str], env: dict) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(command[1:])} failed (exit {done.returncode}): {done.stderr[-500:]}")
    return seconds


def _chat(kb: Path, runtime: str) -> tuple[float, float]:
    """Seconds from start to the first `ask> ` prompt, and to the first answer after it."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [TACIT, "chat", "--no-log"],
        env=_env(kb, runtime),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    seen = b""

    def until_prompt(count: int) -> float:
        nonlocal seen
        while seen.count(b"ask> ") < count:
            ready, _, _ = select.select([proc.stdout], [], [], 120)
            chunk = os.read(proc.stdout.fileno(), 65536) if ready else b""
            if not chunk:
                proc.kill()
                raise RuntimeError(f"chat ended before prompt {count}: {seen[-300:]!r}")
            seen += chunk
        return time.perf_counter() - started

    prompt = until_prompt(1)
    proc.stdin.write(QUESTION.encode() + b"\n")
    proc.stdin.flush()
    answered = until_prompt(2)
    proc.stdin.close()
    proc.wait(timeout=60)
    return prompt, answered


def cold(demo: Path, big: Path | None, runs: int) -> dict:
    """Median seconds per (measure, runtime), runtimes taking turns run by run."""
    measures = {
        "ask (demo KB)": lambda rt: _wall(
            [TACIT, "ask", QUESTION, "--no-log", "--json"], _env(demo, rt)
        ),
        "who-knows (demo KB)": lambda rt: _wall([TACIT, "who-knows", TOPIC], _env(demo, rt)),
        "pack build (demo pack)": lambda rt: _wall([TACIT, "pack", "build", PACK], _env(demo, rt)),
    }
    if big is not None:
        measures["ask (100,000 SYNTHETIC chunks)"] = lambda rt: _wall(
            [TACIT, "ask", QUESTION, "--no-log", "--json"], _env(big, rt)
        )
    times: dict[str, dict[str, list[float]]] = {}
    for name, measure in measures.items():
        for rt in RUNTIMES:
            measure(rt)  # once untimed: the file cache, and an ONNX export if none yet
        for _ in range(runs):
            for rt in RUNTIMES:
                times.setdefault(name, {}).setdefault(rt, []).append(measure(rt))
    for _ in range(runs):
        for rt in RUNTIMES:
            prompt, answered = _chat(demo, rt)
            times.setdefault("chat: to first prompt", {}).setdefault(rt, []).append(prompt)
            times.setdefault("chat: to first answer", {}).setdefault(rt, []).append(answered)
    return {
        name: {rt: round(statistics.median(values), 2) for rt, values in by_rt.items()}
        for name, by_rt in times.items()
    }


def warm_at_scale(big: Path, count: int) -> dict:
    """p50/p99 of `ask --file`'s warm path on the large KB (benchmarks/ask_latency.py)."""
    sys.path.insert(0, str(HERE))
    import ask_latency

    questions = (ask_latency._eval_questions() * 3)[:count]
    found = ask_latency.warm(big, questions)
    keys = ("questions", "p50_ms", "p99_ms", "query_embedding_p50_ms", "chunks")
    return {k: found[k] for k in keys}


def real_chunks(count: int, words: int = 150) -> list[str]:
    """Consecutive 150-word windows of the evaluation transcripts' speech (real text)."""
    spoken: list[str] = []
    for path in sorted((HERE / "eval" / "transcripts").glob("*.json")):
        spoken += " ".join(s["text"] for s in json.loads(path.read_text())["segments"]).split()
        if len(spoken) >= count * words:
            break
    return [" ".join(spoken[i : i + words]) for i in range(0, count * words, words)]


def throughput(count: int, rounds: int) -> dict:
    """Chunks a second; ONNX settings first tried on a sample, then the best of them and the
    bfloat16 PyTorch path take turns `rounds` times on all `count` chunks."""
    import numpy as np

    from tacit.core import config, model_paths
    from tacit.index import embedder, onnx_embed
    from tacit.index import torch_model as torch_loader

    path = model_paths.embedding_model(config.default_config())
    texts = real_chunks(count)
    cores = os.cpu_count() or 1
    found = onnx_embed.load(embedder.model_identity(path))
    if found is None:
        embedder.prepare_onnx(path)
        found = onnx_embed.load(embedder.model_identity(path))
    export, graph = found
    sample = texts[: min(count, 64)]
    sessions = {
        t: onnx_embed.OnnxEmbedder(export, graph, export.meta["source"], t)
        for t in sorted({1, cores})
    }
    tried: dict[tuple[int, int], list[float]] = {}
    for _ in range(rounds):  # settings take turns, so the machine's load falls on all alike
        for (threads, model), batch in itertools.product(sessions.items(), (8, 16, 32)):
            model.batch_size = batch
            started = time.perf_counter()
            model.embed(sample)
            rate = len(sample) / (time.perf_counter() - started)
            tried.setdefault((threads, batch), []).append(rate)
    by_setting = {key: statistics.median(rates) for key, rates in tried.items()}
    threads, batch = max(by_setting, key=by_setting.get)
    onnx_model = onnx_embed.OnnxEmbedder(export, graph, embedder.model_identity(path), threads)
    onnx_model.batch_size = batch
    torch_model = embedder.SentenceTransformerEmbedder(path, threads=cores)
    torch_model.embed(texts[:8])
    rates: dict[str, list[float]] = {"onnx": [], "torch": []}
    for _ in range(rounds):
        for name, model in (("onnx", onnx_model), ("torch", torch_model)):
            started = time.perf_counter()
            vectors = model.embed(texts)
            rates[name].append(count / (time.perf_counter() - started))
            if name == "onnx":
                onnx_vectors = vectors
    float32 = torch_loader.load(path).encode(
        texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )
    tokens = [len(e.ids) for e in onnx_model.tokenizer.encode_batch(texts)]
    return {
        "chunks": count,
        "tokens_per_chunk_mean": round(statistics.mean(tokens)),
        "onnx_by_threads_and_batch": {
            f"{t} threads, batch {b}": round(r, 1) for (t, b), r in by_setting.items()
        },
        "onnx_setting": f"{threads} threads, batch {batch}",
        "onnx_chunks_per_s": round(statistics.median(rates["onnx"]), 1),
        "torch_bf16_chunks_per_s": round(statistics.median(rates["torch"]), 1),
        "torch_precision": "bfloat16 autocast" if torch_model.bf16 else "float32 (no bf16 CPU)",
        "torch_batch": torch_model.batch_size,
        "onnx_cosine_to_torch_float32_min": round(
            float(np.min(np.sum(onnx_vectors * float32, axis=1))), 7
        ),
    }


def demo_kb(where: Path | None, holder: list) -> Path:
    if where is not None and (where / "tacit.toml").exists():
        return where
    if where is None:
        holder.append(tempfile.TemporaryDirectory(prefix="tacit-cold-demo-"))
        where = Path(holder[-1].name) / "kb"
    print(f"building the demo KB in {where} (make demo's steps)", file=sys.stderr)
    subprocess.run(
        [sys.executable, str(HERE.parent / "examples" / "demo.py")],
        env={**os.environ, "TACIT_DEMO_KB": str(where)},
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return where


def big_kb(where: Path | None, chunks: int, holder: list) -> Path | None:
    if not chunks:
        return None
    if where is not None and (where / "tacit.toml").exists():
        return where
    if where is None:
        holder.append(tempfile.TemporaryDirectory(prefix="tacit-cold-big-"))
        where = Path(holder[-1].name) / "kb"
    sys.path.insert(0, str(HERE))
    import ask_latency

    print(f"filling {where} with {chunks} SYNTHETIC chunks", file=sys.stderr)
    ask_latency.fill(where, chunks)
    return where


def _print(result: dict) -> None:
    print(f"load average at start: {result['load_at_start']}")
    if result["cold_s"]:
        print(f"{'cold, median s':38s} {'ONNX':>7s} {'PyTorch':>8s} {'ratio':>6s}")
    for name, by_rt in result["cold_s"].items():
        onnx, torch = by_rt["onnx"], by_rt["torch"]
        print(f"{name:38s} {onnx:7.2f} {torch:8.2f} {onnx / torch:6.2f}")
    t = result["throughput"]
    print(
        f"\nembedding throughput, {t['chunks']} real chunks of ~{t['tokens_per_chunk_mean']} "
        f"tokens: ONNX {t['onnx_chunks_per_s']} chunks/s ({t['onnx_setting']}) vs PyTorch "
        f"{t['torch_bf16_chunks_per_s']} chunks/s ({t['torch_precision']}, batch "
        f"{t['torch_batch']}): {t['onnx_chunks_per_s'] / t['torch_bf16_chunks_per_s']:.2f}x; "
        f"ONNX vs PyTorch float32 cosine >= {t['onnx_cosine_to_torch_float32_min']}"
    )
    print(f"ONNX settings tried: {t['onnx_by_threads_and_batch']}")
    if "warm_ask_at_scale" in result:
        w = result["warm_ask_at_scale"]
        print(
            f"warm ask (ONNX, {w['chunks']} SYNTHETIC chunks, {w['questions']} questions): "
            f"p50 {w['p50_ms']} ms, p99 {w['p99_ms']} ms, query embedding p50 "
            f"{w['query_embedding_p50_ms']} ms"
        )
    print(f"load average at end: {result['load_at_end']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="cold runs per runtime and measure")
    parser.add_argument("--chunks", type=int, default=100_000, help="0: no large KB")
    parser.add_argument("--embed-chunks", type=int, default=192)
    parser.add_argument("--rounds", type=int, default=3, help="throughput rounds per runtime")
    parser.add_argument("--warm-questions", type=int, default=200)
    parser.add_argument("--demo-kb", type=Path)
    parser.add_argument("--big-kb", type=Path)
    parser.add_argument("--throughput-only", action="store_true", help="no cold or warm runs")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.umask(0o077)
    from tacit.core import model_paths

    model_paths.offline()
    holder: list = []
    demo = demo_kb(args.demo_kb, holder) if not args.throughput_only else Path()
    big = big_kb(args.big_kb, args.chunks, holder) if not args.throughput_only else None
    result = {"load_at_start": _load(), "cpus": os.cpu_count()}
    result["cold_s"] = cold(demo, big, args.runs) if not args.throughput_only else {}
    result["throughput"] = throughput(args.embed_chunks, args.rounds)
    if big is not None:
        result["warm_ask_at_scale"] = warm_at_scale(big, args.warm_questions)
    result["load_at_end"] = _load()
    print(json.dumps(result, indent=1)) if args.json else _print(result)
    for folder in holder:
        folder.cleanup()


if __name__ == "__main__":
    main()
