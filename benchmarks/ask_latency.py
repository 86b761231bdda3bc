"""Latency of `tacit ask`: warm (the --file / chat path) at 100,000 chunks, and cold.

The store holds SYNTHETIC chunks: random unit vectors and text sampled from the evaluation
transcripts' words (embedding 100,000 real chunks takes over half an hour on 2 cores).
Everything on the query side is real: the query embedding with the real model, Chroma's HNSW
search, BM25 over all chunks, fusion, the extractive answer and the citations.

    python benchmarks/ask_latency.py [--chunks 100000] [--questions 200] [--kb DIR]

--kb keeps the filled KB in DIR and reuses it on the next run (filling takes minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
EVAL_DIR = HERE / "eval"
SESSIONS = 200
EXPERTS = 20
WORDS_PER_CHUNK = (40, 110)


def _eval_questions() -> list[str]:
    found = []
    for path in sorted((EVAL_DIR / "questions").glob("*.jsonl")):
        found += [json.loads(line)["question"] for line in path.read_text().splitlines() if line]
    return found


def _vocabulary() -> list[str]:
    words: list[str] = []
    for path in sorted((EVAL_DIR / "source").glob("*.txt")):
        for line in path.read_text().splitlines():
            if not line.startswith("#"):
                words += re.findall(r"[A-Za-z0-9'-]+", line.partition(":")[2])
    return words


def fill(root: Path, n: int) -> None:
    """A KB whose index holds n SYNTHETIC chunks (vectors and text), built as tacit would."""
    import numpy as np

    from tacit.core import workspace
    from tacit.index import chunker, embedder, lexical, manifest, store
    from tacit.records import experts

    ws = workspace.init(root, "latency (synthetic chunks)")
    for e in range(EXPERTS):
        experts.add(ws, f"Synthetic Expert {e}", role="synthetic role", topics=(f"topic {e}",))
    words, rng = _vocabulary(), random.Random(7)
    model_id = embedder.for_workspace(ws).model_id
    vectors_store = store.ChromaStore(ws)
    vectors_store.ensure(model_id)
    generator = np.random.default_rng(7)
    chunks: list = []
    started = time.perf_counter()
    for start in range(0, n, 5000):
        part = [_synthetic_chunk(i, words, rng) for i in range(start, min(start + 5000, n))]
        matrix = generator.standard_normal((len(part), 384)).astype(np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        vectors_store.upsert(part, matrix)
        chunks += part
        print(f"  stored {len(chunks)} synthetic chunks", file=sys.stderr)
    vectors_store.close()
    lexical.build(ws, chunks)
    manifest.save(
        ws,
        manifest.Manifest(
            model=model_id,
            model_path=model_id,
            dimension=384,
            chunker_version=chunker.CHUNKER_VERSION,
            redaction="synthetic",
            chunk_words=90,
            store="embedded",
            indexed_at=manifest.now(),
            lexical_digest=lexical.digest(c.id for c in chunks),
            chunks=manifest.entries(chunks),
        ),
    )
    print(f"  filled in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def _synthetic_chunk(i: int, words: list[str], rng: random.Random):
    from tacit.index.chunker import Chunk, content_hash

    expert = f"synthetic-expert-{i % EXPERTS}"
    text = " ".join(rng.choice(words) for _ in range(rng.randint(*WORDS_PER_CHUNK)))
    text = f"Synthetic Expert {i % EXPERTS}: {text}."
    return Chunk(
        id=f"synthetic-{i}",
        session=f"synthetic-session-{i % SESSIONS}",
        expert=expert,
        kind="interview",
        source="transcript",
        text=text,
        start=float(i % 3600),
        end=float(i % 3600 + 30),
        speakers=(f"Synthetic Expert {i % EXPERTS}",),
        content_hash=content_hash(text),
    )


def warm(root: Path, questions: list[str]) -> dict:
    """p50/p99 of `ask --file`'s path (one warm retriever, --no-log), and where the time goes."""
    from tacit.ask import warm as warm_module
    from tacit.ask.retriever import Filters
    from tacit.core import workspace

    os.environ["TACIT_KB"] = str(root)
    ws = workspace.current()
    retriever = warm_module.warm_retriever(ws)
    list(warm_module.ask_each(ws, questions[:5], log=False, retriever=retriever))
    total, embed, dense, lexical, captured = [], [], [], [], 0
    stream = warm_module.ask_each(ws, questions, log=False, retriever=retriever)
    while True:
        started = time.perf_counter()
        answer = next(stream, None)
        if answer is None:
            break
        total.append(time.perf_counter() - started)
        captured += not answer.not_captured
    model = retriever.embedder.inner  # the bare model: no remembered vectors
    for question in questions[:50]:  # stage by stage, on the same warm objects
        t0 = time.perf_counter()
        model.embed([question])
        t1 = time.perf_counter()
        retriever.embedder._last.clear()  # so dense() embeds again, as a new question would
        retriever.dense(question, 40, Filters())
        t2 = time.perf_counter()
        retriever.lexical(question, 40, Filters())
        t3 = time.perf_counter()
        embed.append(t1 - t0)
        dense.append(t2 - t1 - (t1 - t0))  # the search alone: dense() embeds too
        lexical.append(t3 - t2)
    return {
        "questions": len(total),
        "answered_as_captured": captured,
        "p50_ms": _ms(_pct(total, 50)),
        "p99_ms": _ms(_pct(total, 99)),
        "max_ms": _ms(max(total)),
        "mean_ms": _ms(statistics.mean(total)),
        "query_embedding_p50_ms": _ms(_pct(embed, 50)),
        "chroma_search_p50_ms": _ms(_pct(dense, 50)),
        "bm25_search_p50_ms": _ms(_pct(lexical, 50)),
        "chunks": retriever._vectors().count(),
    }


def cold(root: Path, question: str, runs: int = 3) -> dict:
    """Wall time of `tacit ask` in a fresh process, and a breakdown of one cold run."""
    env = {**os.environ, "TACIT_KB": str(root)}
    command = [sys.executable, "-c", "from tacit.cli import main; main()", "ask", question]
    walls = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command + ["--no-log", "--json"], env=env, check=True, capture_output=True)
        walls.append(time.perf_counter() - started)
    phases = subprocess.run(
        [sys.executable, "-c", _PHASES, question], env=env, check=True, capture_output=True
    )
    imports = subprocess.run(
        [sys.executable, "-X", "importtime", *command[1:], "--no-log", "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return {
        "wall_s": [round(w, 2) for w in walls],
        "median_wall_s": round(statistics.median(walls), 2),
        "phases_s": json.loads(phases.stdout),
        "slowest_imports_s": _slowest_imports(imports.stderr),
    }


_PHASES = """
import json, sys, time
t = time.perf_counter(); marks = {}
def mark(name):
    global t
    now = time.perf_counter(); marks[name] = round(now - t, 3); t = now
import tacit.cli
mark("python + import tacit.cli")
from tacit.core import workspace
from tacit.ask import answers, warm
ws = workspace.current(); retriever = warm._retriever(ws)
retriever._model().embed(["warm up"])
mark("load the embedding model (ONNX Runtime; PyTorch with TACIT_EMBED_RUNTIME=torch)")
retriever._vectors().count()
mark("import chromadb, open the store")
retriever._lexical_index()
mark("import bm25s, load the lexical index and its chunks")
retriever.search(sys.argv[1], k=10)
mark("first search (Chroma reads its HNSW index from disk)")
answers.ask(ws, retriever, sys.argv[1])
mark("ask: embed, search, answer")
print(json.dumps(marks))
"""


def _slowest_imports(report: str, top: int = 8) -> list[tuple[str, float]]:
    """Top-level packages by cumulative import time, from python -X importtime."""
    found: dict[str, float] = {}
    for line in report.splitlines():
        parts = line.split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        name = parts[2].rstrip()
        if len(name) - len(name.lstrip()) == 1:  # one space: imported by the program itself
            package = name.strip().split(".")[0]
            found[package] = found.get(package, 0.0) + int(parts[1]) / 1e6
    return sorted(((k, round(v, 2)) for k, v in found.items()), key=lambda kv: -kv[1])[:top]


def _pct(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--kb", type=Path, help="keep (and reuse) the filled KB here")
    parser.add_argument("--small", type=int, default=2000, help="chunks for the small cold run")
    args = parser.parse_args()
    os.umask(0o077)
    from tacit.core import model_paths

    model_paths.offline()
    holder = None
    if args.kb is None:
        holder = tempfile.TemporaryDirectory(prefix="tacit-latency-")
        args.kb = Path(holder.name) / "kb"
    if not (args.kb / "tacit.toml").exists():
        print(f"filling {args.kb} with {args.chunks} SYNTHETIC chunks", file=sys.stderr)
        fill(args.kb, args.chunks)
    questions = (_eval_questions() * 3)[: args.questions]
    load = os.getloadavg()[0]
    result = {
        "store": "SYNTHETIC chunks (random unit vectors, text sampled from the eval words); "
        "real query embedding, real Chroma, real BM25, real answer building",
        "load_average_1min_at_start": round(load, 2),
        "cpus": os.cpu_count(),
        "warm": warm(args.kb, questions),
        "cold": cold(args.kb, questions[0]),
    }
    with tempfile.TemporaryDirectory(prefix="tacit-latency-small-") as small:
        print(f"filling a small KB with {args.small} SYNTHETIC chunks", file=sys.stderr)
        fill(Path(small) / "kb", args.small)
        result[f"cold_at_{args.small}_chunks"] = cold(Path(small) / "kb", questions[0])
    print(json.dumps(result, indent=1))
    if holder is not None:
        holder.cleanup()


if __name__ == "__main__":
    main()
