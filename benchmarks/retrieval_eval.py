"""Retrieval and answers: tacit's defaults beside naive baselines, on real and on written data.

Data sets, each measured in the same run:
- QMSum (../shared/eval/qmsum/<split>: real meetings, questions written by annotators, MIT);
  skipped with a message when ../shared is absent. Turn i is the cue [i s, i+1 s).
- tacit's own set (benchmarks/eval/): interviews written for the project. The pipeline was
  tuned on it once, so it is a second measure, never the main one.

Methods on the same sessions: tacit (the KB built with tacit's modules, indexed by its indexer
and asked the way `tacit ask --file` asks), naive BM25 over windows of 8 turns every 4 (bm25s,
English stop words), and naive reciprocal rank fusion (k=60) of that BM25 with exact cosine of
the same embedding model on the same windows.

Measures, as ../shared/eval/qmsum_eval.py defines them: hit@k, a top-k result in the right
session overlaps the labelled turns (a result over more than 20 turns never counts); moment@k,
a top-k result *starts* inside them (one turn of slack); MRR@10; headline, the answer's own
source (`answer_source.start`) lies inside them; and the gap test: out-of-scope questions
(QMSum: the questions of meetings that are not in the KB; own set: out_of_scope.txt) that
tacit calls "not captured" (recall) against answerable ones it wrongly calls so (precision).
Each run also prints the gap thresholds that would separate the two best on its own evidence
(how excerpts.RELEVANCE_THRESHOLD and LEXICAL_THRESHOLD were chosen: on QMSum train,
`--qmsum train --meetings 40 --outside 8`, and the own set, the best mean of the two).

    python benchmarks/retrieval_eval.py [--qmsum val|train|none] [--meetings N]
        [--outside N] [--no-own] [--json FILE]
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import glob
import importlib.util
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
EVAL_DIR = HERE / "eval"
QMSUM = HERE.parent.parent / "shared" / "eval" / "qmsum"
KS = (1, 5, 10)
MAX_SPAN = 20  # turns
WINDOW, STRIDE = 8, 4


@dataclass
class Doc:
    name: str
    expert: str
    role: str
    turns: list[tuple[float, float, str, str]]  # (start, end, speaker, text)

    def turn_at(self, t: float) -> int:
        starts = [turn[0] for turn in self.turns]
        return max(bisect.bisect_right(starts, t + 1e-6) - 1, 0)


@dataclass
class Question:
    doc: str
    text: str
    spans: list[tuple[int, int]]  # labelled turns, 0-based, inclusive


@dataclass
class DataSet:
    label: str
    docs: list[Doc]
    questions: list[Question]
    outside: list[str] = field(default_factory=list)  # out-of-scope questions


# --- data ----------------------------------------------------------------------------------------


def qmsum(split: str, meetings: int, outside: int) -> DataSet | None:
    every = sorted(glob.glob(str(QMSUM / split / "*.json")))
    if not every:
        print(f"QMSum skipped: no meetings under {QMSUM / split} (../shared/eval is not here)")
        return None
    files = every[:meetings] if meetings else every
    # out of scope: questions of meetings that are not in this KB: the next ones of the same
    # split when there are enough, else the last ones of the other split
    other = split
    away = every[len(files) : len(files) + outside]
    if len(away) < outside:
        other = "train" if split == "val" else "val"
        away = sorted(glob.glob(str(QMSUM / other / "*.json")))[-outside:]
    docs, questions = [], []
    for path in files:
        data = json.loads(Path(path).read_text())
        name = Path(path).stem
        turns = [
            (float(i), float(i + 1), t["speaker"], t["content"].replace("\n", " "))
            for i, t in enumerate(data["meeting_transcripts"])
        ]
        docs.append(Doc(name, "Archive", "meeting archive", turns))
        for q in data["specific_query_list"]:
            spans = [(int(s), int(e)) for s, e in q["relevant_text_span"]]
            questions.append(Question(name, q["query"], spans))
    away = away if outside else []
    held = [
        q["query"] for p in away for q in json.loads(Path(p).read_text())["specific_query_list"]
    ]
    label = f"QMSum {split} ({len(docs)} meetings; out of scope: {len(away)} {other} meetings)"
    return DataSet(label, docs, questions, held)


def own_set() -> DataSet:
    spec = importlib.util.spec_from_file_location("eval_build", EVAL_DIR / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["eval_build"] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    transcripts, labelled = module.build(EVAL_DIR, write=True)
    docs = [
        Doc(
            source,
            data["expert_name"],
            data["role"],
            [(s["start"], s["end"], s["speaker"], s["text"]) for s in data["segments"]],
        )
        for source, data in transcripts.items()
    ]
    questions = [
        Question(q.transcript, q.question, [(t - 1, t - 1) for t in q.turns]) for q in labelled
    ]
    outside = [
        line.strip()
        for line in (EVAL_DIR / "out_of_scope.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return DataSet(f"own set ({len(docs)} interviews, written for tacit)", docs, questions, outside)


# --- measures ------------------------------------------------------------------------------------


def measure(data: DataSet, ranked: list[list[tuple[str, float, float]]], heads=None) -> dict:
    """ranked: per question, results as (doc, start, end); heads: per question, the headline's
    (doc, start) or None."""
    docs = {d.name: d for d in data.docs}
    hits = dict.fromkeys(KS, 0)
    moments = dict.fromkeys(KS, 0)
    rr = headline = 0.0
    for n, (q, results) in enumerate(zip(data.questions, ranked, strict=True)):
        doc = docs[q.doc]
        first = moment = None
        for rank, (name, start, end) in enumerate(results[:10], 1):
            if name != q.doc or start is None or end is None:
                continue
            a, b = doc.turn_at(start), doc.turn_at(max(end - 1e-3, start))
            if b - a + 1 > MAX_SPAN:
                continue
            if first is None and any(a <= e and s <= b for s, e in q.spans):
                first = rank
            if moment is None and any(s - 1 <= a <= e + 1 for s, e in q.spans):
                moment = rank
        for k in KS:
            hits[k] += first is not None and first <= k
            moments[k] += moment is not None and moment <= k
        rr += 1 / first if first else 0.0
        if heads is not None and heads[n] is not None and heads[n][0] == q.doc:
            at = doc.turn_at(heads[n][1])
            headline += any(s - 1 <= at <= e + 1 for s, e in q.spans)
    count = len(data.questions) or 1
    out = {f"hit@{k}": hits[k] / count for k in KS}
    out.update({f"moment@{k}": moments[k] / count for k in (1, 5)})
    out["MRR"] = rr / count
    out["headline"] = headline / count if heads is not None else None
    return out


# --- tacit ---------------------------------------------------------------------------------------


def tacit_run(data: DataSet, root: Path) -> tuple[dict, dict, list]:
    """tacit's defaults end to end; returns (measures, gap test, per-question evidence)."""
    from tacit.ask import warm
    from tacit.core import config, workspace
    from tacit.core.errors import TacitError
    from tacit.index import indexer
    from tacit.records import experts, sessions
    from tacit.records import transcript as transcript_model

    ws = workspace.init(root, data.label[:40])
    ws = workspace.Workspace(root=ws.root, config=config.load(ws.root / "tacit.toml"))
    session_doc: dict[str, str] = {}
    for doc in data.docs:
        with contextlib.suppress(TacitError):  # the same expert in several sessions
            experts.add(ws, doc.expert, role=doc.role)
        session = sessions.create(
            ws,
            workspace.slugify(doc.expert),
            "interview",
            doc.name,
            title=doc.name,
            consent={"status": "given"},
        )
        segments = tuple(transcript_model.Segment(s, e, who, text) for s, e, who, text in doc.turns)
        transcript_model.save(
            transcript_model.path(ws, session.id),
            transcript_model.Transcript(segments=segments, duration=segments[-1].end),
        )
        session_doc[session.id] = doc.name
    started = time.perf_counter()
    indexer.run(ws)
    index_s = time.perf_counter() - started
    asked = [q.text for q in data.questions] + data.outside
    started = time.perf_counter()
    answers = list(warm.ask_each(ws, asked, k=10, log=False))
    ask_s = time.perf_counter() - started
    inside, away = answers[: len(data.questions)], answers[len(data.questions) :]
    ranked = [[(session_doc[r.session], r.start, r.end) for r in a.results] for a in inside]
    heads = [
        (session_doc[a.source.session], a.source.start)
        if a.source is not None and a.source.start is not None
        else None
        for a in inside
    ]
    scores = measure(data, ranked, heads)
    flagged_in = sum(a.not_captured for a in inside)
    flagged_out = sum(a.not_captured for a in away)
    gap = {
        "outside": len(away),
        "recall": flagged_out / len(away) if away else None,
        "precision": flagged_out / (flagged_out + flagged_in) if flagged_out + flagged_in else None,
        "answerable flagged": flagged_in / (len(inside) or 1),
        "index s": round(index_s, 1),
        "ask ms/question": round(1000 * ask_s / (len(asked) or 1), 1),
    }
    evidence = [(a.relevance, a.coverage, n < len(inside)) for n, a in enumerate(answers)]
    return scores, gap, evidence


# --- naive baselines -----------------------------------------------------------------------------


def naive_runs(data: DataSet, embedder) -> dict[str, dict]:
    import bm25s
    import numpy as np

    windows = []  # (doc, start, end, text)
    for doc in data.docs:
        for s in range(0, len(doc.turns), STRIDE):
            part = doc.turns[s : s + WINDOW]
            text = " ".join(f"{who}: {said}" for _, _, who, said in part)
            windows.append((doc.name, part[0][0], part[-1][1], text))
    texts = [w[3] for w in windows]
    queries = [q.text for q in data.questions]
    bm25 = bm25s.BM25()
    bm25.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
    found, _ = bm25.retrieve(
        bm25s.tokenize(queries, stopwords="en", show_progress=False), k=10, show_progress=False
    )
    lexical = [list(row) for row in found]
    vectors = embedder.embed(texts)
    asked = embedder.embed(queries)
    dense = [list(np.argsort(-(vectors @ q))[:10]) for q in asked]
    fused = []
    for a, b in zip(lexical, dense, strict=True):
        score: dict[int, float] = {}
        for ranking in (a, b):
            for rank, i in enumerate(ranking):
                score[int(i)] = score.get(int(i), 0.0) + 1 / (60 + rank)
        fused.append(sorted(score, key=lambda i: -score[i]))

    def as_results(rankings):
        return [[windows[int(i)][:3] for i in row] for row in rankings]

    return {
        "naive BM25, 8-turn windows": measure(data, as_results(lexical)),
        "naive RRF, BM25 + dense": measure(data, as_results(fused)),
    }


# --- report --------------------------------------------------------------------------------------


def report(label: str, rows: dict[str, dict], gap: dict) -> None:
    print(f"\n{label}: {sum(1 for _ in rows)} methods")
    keys = ["hit@1", "hit@5", "hit@10", "moment@1", "moment@5", "MRR", "headline"]
    print(f"{'method':<30}" + "".join(f"{k:>10}" for k in keys))
    for name, scores in rows.items():
        cells = [f"{scores[k]:>10.3f}" if scores.get(k) is not None else f"{'-':>10}" for k in keys]
        print(f"{name:<30}" + "".join(cells))
    rec, prec = gap["recall"], gap["precision"]
    print(
        f"gap test: {gap['outside']} out-of-scope questions, recall "
        f"{rec if rec is None else round(rec, 3)}, precision "
        f"{prec if prec is None else round(prec, 3)}, answerable flagged "
        f"{gap['answerable flagged']:.3f}; index {gap['index s']} s, "
        f"ask {gap['ask ms/question']} ms a question"
    )


def calibrate(evidence: list, top: int = 5) -> list[tuple[float, float, float, float, float]]:
    """The gap test's thresholds that best tell answerable from out-of-scope questions on this
    run's evidence: (balanced accuracy, cosine, coverage, answerable kept, outside caught)."""
    inside = [(r or 0.0, c or 0.0) for r, c, answerable in evidence if answerable]
    away = [(r or 0.0, c or 0.0) for r, c, answerable in evidence if not answerable]
    if not inside or not away:
        return []
    rows = []
    for cosine in [x / 100 for x in range(30, 70)]:
        for share in [x / 100 for x in range(30, 101, 5)] + [1.01]:
            kept = sum(r >= cosine or c >= share for r, c in inside) / len(inside)
            caught = sum(not (r >= cosine or c >= share) for r, c in away) / len(away)
            rows.append(((kept + caught) / 2, cosine, share, kept, caught))
    return sorted(rows, reverse=True)[:top]


def run(data: DataSet) -> dict:
    from tacit.core import config, workspace
    from tacit.index import embedder as embedder_module

    print(f"\n== {data.label}: {len(data.questions)} questions", flush=True)
    with tempfile.TemporaryDirectory(prefix="tacit-eval-") as tmp:
        root = Path(tmp) / "kb"
        scores, gap, evidence = tacit_run(data, root)
        # the naive baselines embed with the model tacit's defaults configure
        ws = workspace.Workspace(root=root, config=config.load(root / "tacit.toml"))
        rows = {"tacit (defaults)": scores, **naive_runs(data, embedder_module.for_workspace(ws))}
    report(data.label, rows, gap)
    best = calibrate(evidence)
    if best:
        print("best gap thresholds on this run (balanced accuracy, cosine, question words held):")
        for accuracy, cosine, share, kept, caught in best:
            print(
                f"  {accuracy:.3f}  cosine {cosine:.2f}  words {share:.2f}  "
                f"(answerable kept {kept:.3f}, out of scope caught {caught:.3f})"
            )
    return {"label": data.label, "rows": rows, "gap": gap, "evidence": evidence}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--qmsum", default="val", help="val, train or none")
    parser.add_argument("--meetings", type=int, default=0, help="only the first N meetings")
    parser.add_argument("--outside", type=int, default=8, help="meetings asked as out of scope")
    parser.add_argument("--no-own", action="store_true", help="skip the set written for tacit")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    os.umask(0o077)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sets = []
    if args.qmsum != "none":
        found = qmsum(args.qmsum, args.meetings, args.outside)
        sets += [found] if found else []
    if not args.no_own:
        sets.append(own_set())
    results = [run(data) for data in sets]
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
