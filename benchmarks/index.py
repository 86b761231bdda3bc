"""Index benchmarks: embedding throughput, time to index N chunks, vector query latency.

    .venv/bin/python benchmarks/index.py            # full: 10,000 chunks indexed, 100,000 stored
    .venv/bin/python benchmarks/index.py --quick    # 1,000 indexed, 20,000 stored (minutes)
    .venv/bin/python benchmarks/index.py --json     # figures as JSON on stdout

Goals (issue 6, on 2 CPU cores): embedding >= 50 chunks/s of ~200 tokens; query p50 <= 10 ms
and p99 <= 30 ms at 100,000 stored chunks, warm. The large store is filled with SYNTHETIC unit
vectors and synthetic text (embedding 100,000 real chunks takes over half an hour here); the
query vectors are always real embeddings of real questions. Other processes on the machine
skew every figure: the load average is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

QUESTIONS = [
    "Why does pump one shake when it runs fast?",
    "What should I check before changing the level setpoints?",
    "Who do I call when a drive faults at night?",
    "How many times can I reset the fault before I swap pumps?",
    "What does the crunching noise from the pump mean?",
    "When does the boiler lock out and how do I restart it?",
    "How do I clear a blocked strainer safely?",
    "What happens after a power dip?",
]


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f} on {os.cpu_count()} cores"


def _passage(rng: random.Random, words: int = 150) -> str:
    """About 200 tokens of plant talk (all-MiniLM-L6-v2 counts ~1.3 tokens a word here)."""
    from tacit.index import synthetic

    text = ""
    while len(text.split()) < words:
        text += " " + synthetic.sentence(rng)
    return " ".join(text.split()[:words])


def embedding_throughput(count: int) -> dict:
    """Chunks a second at batch sizes 16/32/64 as tacit runs it (bfloat16 autocast where the
    CPU has it), then float32 at the best batch, and how close the two sets of vectors are."""
    import numpy as np

    from tacit.core import config, model_paths
    from tacit.index.embedder import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder(model_paths.embedding_model(config.default_config()))
    rng = random.Random(1)
    texts = [_passage(rng) for _ in range(count)]
    tokens = [len(embedder._model().tokenizer(t)["input_ids"]) for t in texts[:50]]
    embedder.embed(texts[:16])  # warm up
    results = {}
    for batch in (16, 32, 64):
        embedder.batch_size = batch
        started = time.perf_counter()
        vectors = embedder.embed(texts)
        results[batch] = count / (time.perf_counter() - started)
    best = max(results, key=results.get)
    embedder.batch_size, precision = best, "bfloat16 autocast" if embedder.bf16 else "float32"
    embedder._bf16 = False
    embedder.embed(texts[:16])
    started = time.perf_counter()
    exact = embedder.embed(texts)
    fp32 = count / (time.perf_counter() - started)
    return {
        "chunks": count,
        "tokens_per_chunk": round(statistics.mean(tokens)),
        "precision": precision,
        "chunks_per_s_by_batch": {b: round(r, 1) for b, r in results.items()},
        "chunks_per_s": round(results[best], 1),
        "best_batch": best,
        "float32_chunks_per_s": round(fp32, 1),
        "cosine_to_float32_min": round(float(np.min(np.sum(vectors * exact, axis=1))), 6),
    }


def _build_kb(root: Path, chunks: int):
    """Sessions of synthetic talk whose chunking gives about `chunks` chunks."""
    from tacit.core import workspace
    from tacit.index import chunker, synthetic

    ws = workspace.init(root, "benchmark")
    rng = random.Random(2)
    made = 0
    n = 0
    while made < chunks:
        turns = synthetic.turns(rng, 120, speakers=("Ana", f"Expert {n % 7}"))
        session = synthetic.write_session(ws, f"expert-{n % 7}", f"talk-{n}", turns)
        made += len(chunker.chunk_session(ws, session, chunker.load_transcript(ws, session.id), 90))
        n += 1
    return ws


def time_to_index(root: Path, chunks: int) -> tuple[dict, object]:
    from tacit.index import indexer

    ws = _build_kb(root, chunks)
    started = time.perf_counter()
    report = indexer.run(ws)
    seconds = time.perf_counter() - started
    again = time.perf_counter()
    noop = indexer.run(ws)
    return {
        "chunks": report.chunks,
        "sessions": report.sessions,
        "seconds": round(seconds, 1),
        "chunks_per_s": round(report.chunks / seconds, 1),
        "reindex_nothing_changed_s": round(time.perf_counter() - again, 2),
        "reindex_embedded": noop.embedded,
    }, ws


def _query_vectors():
    from tacit.core import config, model_paths
    from tacit.index.embedder import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder(model_paths.embedding_model(config.default_config()))
    return embedder.embed(QUESTIONS)


def _latency(search, queries, rounds: int) -> dict:
    for vector in queries:  # warm
        search(vector)
    timings = []
    for _ in range(rounds):
        for vector in queries:
            started = time.perf_counter()
            search(vector)
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {
        "queries": len(timings),
        "p50_ms": round(timings[len(timings) // 2], 2),
        "p99_ms": round(timings[min(len(timings) - 1, int(len(timings) * 0.99))], 2),
    }


def query_latency(ws, queries, rounds: int) -> dict:
    """The dense stage as the retriever runs it (40 candidates, text and metadata included):
    with its default filter (restricted chunks left out) and with an expert filter; and a bare
    Chroma query of 40 ids for comparison."""
    from tacit.ask.retriever import Filters, Retriever

    retriever = Retriever(ws)
    vectors = retriever._vectors()
    col = vectors._collection()
    figures = {
        "stored": vectors.count(),
        "default_filter": _latency(
            lambda v: retriever.dense_vector(v, 40, Filters()), queries, rounds
        ),
        "expert_filter": _latency(
            lambda v: retriever.dense_vector(v, 40, Filters(expert="expert-3")), queries, rounds
        ),
        "bare_ids": _latency(
            lambda v: col.query(query_embeddings=[v], n_results=40, include=[]), queries, rounds
        ),
    }
    retriever.close()
    return figures


def fill_synthetic(root: Path, total: int) -> object:
    """A store of `total` SYNTHETIC chunks: random unit vectors, made-up text and metadata."""
    import numpy as np

    from tacit.core import workspace
    from tacit.index import lexical, store
    from tacit.index.chunker import Chunk

    ws = workspace.init(root, "synthetic")
    vectors = store.ChromaStore(ws)
    vectors.ensure("synthetic-unit-vectors")
    rng = np.random.default_rng(3)
    words = random.Random(4)
    step = 5000
    everything = []
    for start in range(0, total, step):
        matrix = rng.standard_normal((step, 384)).astype(np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        chunks = [
            Chunk(
                id=f"synthetic-{n % 500}:{n:08d}",
                session=f"synthetic-{n % 500}",
                expert=f"expert-{n % 7}",
                kind="interview",
                source="transcript",
                text=_passage(words, 60),
                start=float(n),
                end=float(n + 20),
                speakers=("Ana", f"Expert {n % 7}"),
                restricted=n % 50 == 0,
            )
            for n in range(start, start + step)
        ]
        vectors.upsert(chunks, matrix)
        everything += chunks
    vectors.close()
    lexical.build(ws, everything)  # as `tacit index` leaves it: the retriever reads chunks here
    return ws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, minutes not hours")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--skip-index", action="store_true", help="leave out the N-chunk index")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    indexed_n, stored_n = (1_000, 20_000) if args.quick else (10_000, 100_000)
    figures: dict = {"load_before": _load(), "mode": "quick" if args.quick else "full"}
    with tempfile.TemporaryDirectory(prefix="tacit-bench-") as tmp:
        figures["embedding"] = embedding_throughput(128 if args.quick else 256)
        _say(f"embedding: {figures['embedding']}")
        queries = _query_vectors()
        if not args.skip_index:
            figures["index"], ws = time_to_index(Path(tmp) / "real", indexed_n)
            _say(f"index {indexed_n}: {figures['index']}")
            figures["query_real"] = query_latency(ws, queries, 25)
            _say(f"query at {indexed_n} real chunks: {figures['query_real']}")
        started = time.perf_counter()
        big = fill_synthetic(Path(tmp) / "synthetic", stored_n)
        figures["synthetic_fill_s"] = round(time.perf_counter() - started, 1)
        figures["query_synthetic"] = query_latency(big, queries, 25)
        figures["query_synthetic"]["label"] = "SYNTHETIC unit vectors and text; real queries"
        _say(f"query at {stored_n} synthetic chunks: {figures['query_synthetic']}")
    figures["load_after"] = _load()
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        _print(figures)


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _print(f: dict) -> None:
    e = f["embedding"]
    print(f"load average (1/5/15 min): before {f['load_before']}, after {f['load_after']}")
    print(
        f"embedding throughput: {e['chunks_per_s']} chunks/s of ~{e['tokens_per_chunk']} tokens "
        f"({e['precision']}, batch {e['best_batch']}; by batch {e['chunks_per_s_by_batch']}; "
        f"goal >= 50); float32: {e['float32_chunks_per_s']} chunks/s; vectors agree with "
        f"float32 at cosine >= {e['cosine_to_float32_min']}"
    )
    if "index" in f:
        i = f["index"]
        print(
            f"index {i['chunks']} chunks ({i['sessions']} sessions): {i['seconds']} s "
            f"({i['chunks_per_s']} chunks/s); again with nothing changed: "
            f"{i['reindex_nothing_changed_s']} s, {i['reindex_embedded']} embedded"
        )
        _print_latency("real chunks", f["query_real"])
    print(f"synthetic store filled in {f['synthetic_fill_s']} s")
    _print_latency("SYNTHETIC chunks (real query vectors)", f["query_synthetic"])


def _print_latency(label: str, q: dict) -> None:
    for name in ("default_filter", "expert_filter", "bare_ids"):
        d = q[name]
        print(
            f"query latency at {q['stored']} {label}, {name.replace('_', ' ')}: "
            f"p50 {d['p50_ms']} ms, p99 {d['p99_ms']} ms over {d['queries']} queries "
            "(goal at 100,000: p50 <= 10, p99 <= 30)"
        )


if __name__ == "__main__":
    main()
