"""Retrieval quality on the labelled evaluation set: hit@1/5/10 and MRR per method.

Builds a temporary knowledge base from every transcript in benchmarks/eval/ (one expert and one
interview session each), indexes it with the real embedding model, then asks every labelled
question across all sessions at once. A hit is a retrieved chunk from the labelled session whose
time span overlaps one of the labelled turns.

Also calibrates the "not captured" threshold of `tacit ask` (answerable questions against the
out-of-scope ones in benchmarks/eval/out_of_scope.txt) and compares fusion variants of the same
dense and lexical candidates.

    python benchmarks/retrieval_eval.py [--chunk-words 60,90,150] [--json FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
EVAL_DIR = HERE / "eval"
METHODS = ("lexical", "dense", "hybrid")
KS = (1, 5, 10)
POOL = 40  # candidates per method fed to the fusion variants (what the retriever fetches for k=10)


def _load_builder():
    spec = importlib.util.spec_from_file_location("eval_build", EVAL_DIR / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["eval_build"] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Scores:
    hit: dict[int, float]
    mrr: float
    n: int


def make_kb(root: Path, transcripts: dict[str, dict], chunk_words: int):
    """A fresh KB holding every eval transcript as an interview session; {source id: session}."""
    from tacit import config, workspace
    from tacit.capture import transcript as transcript_model
    from tacit.errors import TacitError
    from tacit.interviews import experts, sessions

    ws = workspace.init(root, "retrieval eval")
    toml = ws.root / "tacit.toml"
    text = toml.read_text().replace("chunk_words = 90", f"chunk_words = {chunk_words}")
    toml.write_text(text)
    ws = workspace.Workspace(root=ws.root, config=config.load(toml))
    session_of: dict[str, str] = {}
    for source_id, data in transcripts.items():
        with contextlib.suppress(TacitError):  # the same expert in several transcripts
            experts.add(ws, data["expert_name"], role=data["role"])
        slug = workspace.slugify(data["expert_name"])
        session = sessions.create(
            ws, slug, "interview", source_id, title=data["title"], consent={"status": "given"}
        )
        segments = tuple(
            transcript_model.Segment(s["start"], s["end"], s["speaker"], s["text"])
            for s in data["segments"]
        )
        transcript = transcript_model.Transcript(
            segments=segments,
            source="imported:eval",
            duration=segments[-1].end if segments else 0.0,
        )
        path = ws.session_dir(session.id) / transcript_model.TRANSCRIPT_NAME
        transcript_model.save(path, transcript)
        session_of[source_id] = session.id
    return ws, session_of


def build_index(ws) -> float:
    """Index the KB with tacit's own indexer (the real embedding model); returns seconds."""
    from tacit.index import indexer

    started = time.perf_counter()
    indexer.run(ws, rebuild=True)
    return time.perf_counter() - started


def first_hit_rank(hits, session_id: str, spans) -> int | None:
    """1-based rank of the first chunk from the session overlapping a labelled span."""
    for rank, hit in enumerate(hits, start=1):
        chunk = hit.chunk
        if chunk.session != session_id or chunk.start is None or chunk.end is None:
            continue
        if any(chunk.start < end and start < chunk.end for start, end in spans):
            return rank
    return None


def score(ranks: list[int | None]) -> Scores:
    n = len(ranks) or 1
    hit = {k: sum(1 for r in ranks if r is not None and r <= k) / n for k in KS}
    mrr = sum(1.0 / r for r in ranks if r is not None) / n
    return Scores(hit, mrr, len(ranks))


# --- fusion variants, applied to the same dense and lexical candidate lists ------------------


def rrf(dense, lexical, k: int = 60, w_dense: float = 1.0, w_lex: float = 1.0) -> list[str]:
    fused: dict[str, float] = {}
    for weight, hits in ((w_dense, dense), (w_lex, lexical)):
        for rank, hit in enumerate(hits, start=1):
            fused[hit.chunk.id] = fused.get(hit.chunk.id, 0.0) + weight / (k + rank)
    return sorted(fused, key=lambda c: -fused[c])


def _normalised(hits, key) -> dict[str, float]:
    values = [key(h) for h in hits]
    low, high = min(values, default=0.0), max(values, default=1.0)
    span = (high - low) or 1.0
    return {h.chunk.id: (key(h) - low) / span for h in hits}


def minmax(dense, lexical, w_dense: float = 0.5) -> list[str]:
    d = _normalised(dense, lambda h: h.dense_score or 0.0)
    lx = _normalised(lexical, lambda h: h.lexical_score or 0.0)
    ids = set(d) | set(lx)
    fused = {c: w_dense * d.get(c, 0.0) + (1 - w_dense) * lx.get(c, 0.0) for c in ids}
    return sorted(fused, key=lambda c: -fused[c])


VARIANTS: dict[str, Callable] = {
    "rrf k=60": lambda d, lx: rrf(d, lx),
    "rrf k=10": lambda d, lx: rrf(d, lx, k=10),
    "rrf k=20": lambda d, lx: rrf(d, lx, k=20),
    "rrf dense x1.5": lambda d, lx: rrf(d, lx, w_dense=1.5),
    "rrf lexical x1.5": lambda d, lx: rrf(d, lx, w_lex=1.5),
    "minmax 0.5": lambda d, lx: minmax(d, lx, 0.5),
    "minmax dense 0.6": lambda d, lx: minmax(d, lx, 0.6),
    "minmax dense 0.4": lambda d, lx: minmax(d, lx, 0.4),
}


# --- threshold calibration ---------------------------------------------------------------------


def calibrate(answerable: list[tuple[float, bool]], unanswerable: list[tuple[float, bool]]):
    """The cosine threshold that best separates answerable from out-of-scope questions.

    Each item is (best dense cosine, exact code match). Balanced accuracy, so the 150 answerable
    questions do not drown the 30 out-of-scope ones; ties go to the lower threshold (an answer
    shown with its citations costs less than a question wrongly sent to an expert's agenda).
    """
    candidates = sorted({round(c, 3) for c, _ in answerable + unanswerable})
    best = (0.0, 0.0, 0.0, 0.0)
    for t in candidates:
        tpr = sum(1 for c, code in answerable if c >= t or code) / max(len(answerable), 1)
        tnr = sum(1 for c, code in unanswerable if not (c >= t or code)) / max(len(unanswerable), 1)
        balanced = (tpr + tnr) / 2
        if balanced > best[0]:
            best = (balanced, t, tpr, tnr)
    return {"balanced_accuracy": best[0], "threshold": best[1], "tpr": best[2], "tnr": best[3]}


def relevance_of(hits, question: str) -> tuple[float, bool]:
    from tacit.index import answers
    from tacit.index import terms as words

    dense = [h.dense_score for h in hits if h.dense_score is not None]
    terms = words.content_terms(question)
    return (max(dense) if dense else 0.0), answers.exact_code_match(terms, hits)


# --- one run at one chunk size -------------------------------------------------------------------


def evaluate(transcripts, questions, out_of_scope, chunk_words: int) -> dict:
    from tacit.index import answers
    from tacit.index.retriever import Retriever

    with tempfile.TemporaryDirectory(prefix="tacit-eval-") as tmp:
        ws, session_of = make_kb(Path(tmp) / "kb", transcripts, chunk_words)
        index_s = build_index(ws)
        retriever = Retriever(ws)
        ranks: dict[str, list[int | None]] = {m: [] for m in (*METHODS, *VARIANTS)}
        answerable, timings = [], {m: [] for m in METHODS}
        for q in questions:
            session_id = session_of[q.transcript]
            pools = {}
            for method in METHODS:
                started = time.perf_counter()
                # hybrid as `ask` calls it; the single methods deeper, to feed the variants
                depth = answers.CANDIDATES if method == "hybrid" else POOL
                hits = retriever.search(q.question, k=depth, method=method)
                timings[method].append(time.perf_counter() - started)
                pools[method] = hits
                ranks[method].append(first_hit_rank(hits[:10], session_id, q.spans))
            by_id = {h.chunk.id: h for m in METHODS for h in pools[m]}
            for name, fuse in VARIANTS.items():
                fused = [by_id[c] for c in fuse(pools["dense"], pools["lexical"])[:10]]
                ranks[name].append(first_hit_rank(fused, session_id, q.spans))
            answerable.append(relevance_of(pools["hybrid"][:10], q.question))
        unanswerable = [
            relevance_of(retriever.search(text, k=10, method="hybrid"), text)
            for text in out_of_scope
        ]
        chunks = _chunk_count(retriever)
    return {
        "chunk_words": chunk_words,
        "chunks": chunks,
        "index_seconds": round(index_s, 1),
        "questions": len(questions),
        "scores": {m: score(r).__dict__ for m, r in ranks.items()},
        "search_ms_p50": {m: round(_median(t) * 1000, 1) for m, t in timings.items()},
        "calibration": calibrate(answerable, unanswerable),
        "answerable_cosines": [round(c, 3) for c, _ in answerable],
        "out_of_scope_cosines": [round(c, 3) for c, _ in unanswerable],
    }


def _chunk_count(retriever) -> int:
    return retriever._vectors().count()


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else 0.0


def print_table(result: dict) -> None:
    print(
        f"\nchunk_words={result['chunk_words']}  chunks={result['chunks']}  "
        f"questions={result['questions']}  index {result['index_seconds']} s"
    )
    print(f"{'method':<18} {'hit@1':>6} {'hit@5':>6} {'hit@10':>6} {'MRR':>6}")
    for name, s in result["scores"].items():
        label = name if name in METHODS else f"  ({name})"
        hit = {int(k): v for k, v in s["hit"].items()}
        print(f"{label:<18} {hit[1]:>6.3f} {hit[5]:>6.3f} {hit[10]:>6.3f} {s['mrr']:>6.3f}")
    cal = result["calibration"]
    print(
        f"not-captured threshold (best dense cosine): {cal['threshold']:.3f}  "
        f"balanced accuracy {cal['balanced_accuracy']:.3f} "
        f"(answerable kept {cal['tpr']:.3f}, out-of-scope caught {cal['tnr']:.3f})"
    )
    print(f"search p50 ms: {result['search_ms_p50']}")
    for method in ("lexical", "dense"):
        if result["scores"][method]["hit"][5] > 0.8:
            print(
                f"WARNING: {method} alone scores hit@5 > 0.8: the questions copy the text's "
                "wording; rewrite them the way a newcomer would ask (DECISIONS.md)"
            )
    hybrid5 = result["scores"]["hybrid"]["hit"][5]
    best_single = max(result["scores"][m]["hit"][5] for m in ("lexical", "dense"))
    verdict = "beats" if hybrid5 > best_single else "DOES NOT beat"
    print(f"hybrid hit@5 {hybrid5:.3f} {verdict} the best single method ({best_single:.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunk-words", default="90", help="one size or a list: 60,90,150")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    os.umask(0o077)
    from tacit import models

    models.offline()
    builder = _load_builder()
    transcripts, questions = builder.build(EVAL_DIR, write=True)
    out_of_scope = [
        line.strip()
        for line in (EVAL_DIR / "out_of_scope.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    print(
        f"{len(transcripts)} transcripts, {len(questions)} labelled questions, "
        f"{len(out_of_scope)} out-of-scope questions"
    )
    results = []
    for size in (int(s) for s in args.chunk_words.split(",")):
        results.append(evaluate(transcripts, questions, out_of_scope, size))
        print_table(results[-1])
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
