"""The ask core: retriever hits -> a short extractive answer with cited excerpts, or an honest gap.

No terminal here: the command layer renders an Answer; tests and scripts use it directly.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tacit.errors import UsageError
from tacit.fileio import append_line
from tacit.index.terms import content_terms, is_code, stem, word_stems
from tacit.interviews import experts as experts_module
from tacit.workspace import Workspace

# Best dense cosine below which a question counts as not captured. Calibrated with
# benchmarks/retrieval_eval.py on the evaluation set (answerable vs out-of-scope questions);
# `[index] relevance_threshold` in tacit.toml overrides it.
RELEVANCE_THRESHOLD = 0.45
CANDIDATES = 10  # hits fetched per question: the answer and the expert suggestions read them all
ANSWER_SENTENCES = 2

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"'(A-Z0-9])")
# the fields of one result in `ask --json`, in this order
_RESULT_KEYS = (
    "chunk_id", "session", "expert", "speaker", "start", "end", "text", "score", "citation",
    "media",
)  # fmt: skip


@dataclass(frozen=True)
class Excerpt:
    chunk_id: str
    session: str
    expert: str
    expert_name: str
    role: str
    speaker: str
    start: float | None
    end: float | None
    text: str
    score: float
    citation: str
    media: str | None  # recording path relative to the KB root plus "#t=SECONDS"
    source: str = "transcript"
    dense_score: float | None = None
    lexical_score: float | None = None

    def to_json(self) -> dict[str, Any]:
        data = {key: getattr(self, key) for key in _RESULT_KEYS}
        data["score"] = round(self.score, 6)
        return data


@dataclass(frozen=True)
class Suggestion:
    """An expert named as likely to know the answer to a question the KB cannot answer yet."""

    slug: str
    name: str
    role: str
    why: str


@dataclass(frozen=True)
class Answer:
    query: str
    answer: str
    not_captured: bool
    results: tuple[Excerpt, ...]
    experts: tuple[Suggestion, ...] = ()
    relevance: float | None = None  # best dense cosine among the hits
    threshold: float = RELEVANCE_THRESHOLD
    terms: tuple[str, ...] = field(default=())  # the query's content words, for highlighting

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "answer": self.answer,
            "not_captured": self.not_captured,
            "results": [r.to_json() for r in self.results],
            "experts": [s.__dict__ for s in self.experts],
        }


# --- citations ------------------------------------------------------------------------------


def hms(seconds: float) -> str:
    whole = int(round(seconds))
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def seconds_text(seconds: float) -> str:
    """754.5 -> '754.5', 7200.0 -> '7200': a second as people and media fragments write it."""
    return f"{seconds:.2f}".rstrip("0").rstrip(".")


def citation(session: str, speaker: str, start: float | None) -> str:
    parts = [session, speaker] + ([hms(start)] if start is not None else [])
    return "[" + " · ".join(p for p in parts if p) + "]"


# --- turning hits into an answer -------------------------------------------------------------


def _speaker_lines(chunk: Any) -> list[tuple[str, str]]:
    """(speaker, text) pieces of a chunk: 'Name: words' lines when the chunker wrote them."""
    speakers = tuple(chunk.speakers) or ("",)
    pieces: list[tuple[str, str]] = []
    for line in chunk.text.splitlines():
        if not line.strip():
            continue
        if chunk.source == "answer" and line[:3] in ("Q: ", "A: "):
            # a typed answer: the guide's question (nobody's words), then the expert's answer
            pieces.append(("" if line[0] == "Q" else speakers[0], line[3:].strip()))
            continue
        said_by = next((s for s in speakers if s and line.startswith(f"{s}:")), None)
        if said_by is not None:
            pieces.append((said_by, line[len(said_by) + 1 :].strip()))
        elif pieces:
            pieces[-1] = (pieces[-1][0], f"{pieces[-1][1]} {line.strip()}")
        else:
            pieces.append((speakers[0] if len(speakers) == 1 else "", line.strip()))
    return pieces


def _main_speaker(chunk: Any, expert_name: str) -> str:
    """Whose words a citation names: the expert when they speak in it, else who says most."""
    speakers = [s for s in chunk.speakers if s]
    if expert_name in speakers:
        return expert_name
    if len(speakers) <= 1:
        return speakers[0] if speakers else expert_name
    said: dict[str, int] = {}
    for speaker, text in _speaker_lines(chunk):
        said[speaker] = said.get(speaker, 0) + len(text.split())
    return max(speakers, key=lambda s: said.get(s, 0))


def excerpt(hit: Any, people: dict[str, experts_module.Expert]) -> Excerpt:
    chunk = hit.chunk
    expert = people.get(chunk.expert)
    name = expert.name if expert else chunk.expert
    speaker = _main_speaker(chunk, name)
    media = None
    if chunk.media:
        media = f"{chunk.media}#t={seconds_text(chunk.start or 0.0)}"
    return Excerpt(
        chunk_id=chunk.id,
        session=chunk.session,
        expert=chunk.expert,
        expert_name=name,
        role=expert.role if expert else "",
        speaker=speaker,
        start=chunk.start,
        end=chunk.end,
        text=chunk.text,
        score=float(hit.score),
        citation=citation(chunk.session, speaker, chunk.start),
        media=media,
        source=chunk.source,
        dense_score=hit.dense_score,
        lexical_score=hit.lexical_score,
    )


@dataclass(frozen=True)
class _Sentence:
    rank: int  # of the hit it comes from
    turn: int  # which speaker piece of that hit
    position: int  # within the piece
    speaker: str
    text: str
    prompt: str  # what the other speaker said just before this piece (the question it answers)


def _sentences(hits: list[Any]) -> list[_Sentence]:
    """Every sentence of the hits, in reading order, with the question its turn answers."""
    found = []
    for rank, hit in enumerate(hits):
        pieces = _speaker_lines(hit.chunk)
        for turn, (speaker, text) in enumerate(pieces):
            before = pieces[turn - 1] if turn else None
            prompt = before[1] if before and before[0] != speaker else ""
            parts = [p.strip() for p in _SENTENCE.split(text) if len(p.split()) >= 4]
            for position, sentence in enumerate(parts):
                found.append(_Sentence(rank, turn, position, speaker, sentence, prompt))
    return found


def extract_answer(
    terms: tuple[str, ...], results: tuple[Excerpt, ...], hits: list[Any], top: int = 3
) -> str:
    """The best sentence of the top hits and the one after it, each with its citation.

    A sentence scores the query words it holds (rarer ones more), and, when it opens a reply,
    the query words of the question it replies to: a protégé's question is often the
    interviewer's in other words, and the expert's answer need not repeat them. Hit rank and the
    expert's own voice add a little; questions count for less.
    """
    candidates = _sentences(hits[:top])
    if not candidates:
        return ""
    stems = {stem(t) for t in terms}
    seen = {s: sum(1 for c in candidates if s in word_stems(c.text)) or 1 for s in stems}

    def overlap(text: str) -> float:
        return sum(1.0 / seen[s] for s in stems & word_stems(text))

    def score(c: _Sentence) -> float:
        weight = overlap(c.text) + 0.8 * overlap(c.prompt) / (1 + c.position)
        weight += 0.6 / (c.rank + 1) + (0.2 if c.speaker == results[c.rank].expert_name else 0.0)
        return weight * (0.3 if c.text.endswith("?") else 1.0)

    order = sorted(range(len(candidates)), key=lambda i: (-score(candidates[i]), i))
    chosen = [order[0]]
    best = candidates[order[0]]
    after = candidates[order[0] + 1] if order[0] + 1 < len(candidates) else None
    if after is not None and (after.rank, after.turn) == (best.rank, best.turn):
        chosen.append(order[0] + 1)  # the next sentence of the same reply reads on naturally
    elif len(order) > 1:
        chosen.append(order[1])
    pieces = [candidates[i] for i in sorted(chosen[:ANSWER_SENTENCES])]
    text = []
    for n, piece in enumerate(pieces):
        text.append(piece.text)
        if n + 1 == len(pieces) or pieces[n + 1].rank != piece.rank:
            text.append(results[piece.rank].citation)  # one citation per run from one passage
    return " ".join(text)


def exact_code_match(terms: tuple[str, ...], hits: list[Any]) -> bool:
    """A part number or code from the question that a hit contains word for word: BM25's
    evidence, which a low cosine must not overrule."""
    codes = [t for t in terms if is_code(t)]
    return any(
        re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", hit.chunk.text, re.IGNORECASE)
        for code in codes
        for hit in hits[:3]
    )


_EXPERTS: dict[Path, tuple[int, experts_module.Expert]] = {}


def known_experts(ws: Workspace) -> dict[str, experts_module.Expert]:
    """Every expert by slug; a file is parsed again only when it changed (chat, --file)."""
    found = {}
    for path in sorted(ws.experts_dir.glob("*.md")) if ws.experts_dir.is_dir() else ():
        stamp = path.stat().st_mtime_ns
        cached = _EXPERTS.get(path)
        if cached is None or cached[0] != stamp:
            cached = (stamp, experts_module.load_file(path))
            _EXPERTS[path] = cached
        found[cached[1].slug] = cached[1]
    return found


def threshold_for(ws: Workspace) -> float:
    given = float(ws.config.index.get("relevance_threshold") or 0.0)
    return given if given > 0 else RELEVANCE_THRESHOLD


def build_answer(
    ws: Workspace,
    question: str,
    hits: list[Any],
    k: int,
    threshold: float,
    people: dict[str, experts_module.Expert] | None = None,
    embedder: Any = None,
) -> Answer:
    """Hits (best first) -> an Answer: extractive text and excerpts, or a not-captured gap."""
    people = people if people is not None else known_experts(ws)
    terms = content_terms(question)
    dense = [h.dense_score for h in hits if h.dense_score is not None]
    relevance = max(dense) if dense else None
    captured = bool(hits) and (
        (relevance is not None and relevance >= threshold) or exact_code_match(terms, hits)
    )
    results = tuple(excerpt(hit, people) for hit in hits[:k])
    suggestions: tuple[Suggestion, ...] = ()
    if not captured:
        from tacit.index import expertise

        found = expertise.likely_experts(question, hits, list(people.values()), embedder)
        suggestions = tuple(found)
    return Answer(
        query=question,
        answer=extract_answer(terms, results, hits[:k]) if captured else "",
        not_captured=not captured,
        results=results,
        experts=suggestions,
        relevance=relevance,
        threshold=threshold,
        terms=terms,
    )


def ask(ws: Workspace, retriever: Any, question: str, filters: Any = None, k: int = 5) -> Answer:
    """One question through the warm retriever. Never takes the writer lock (reads only)."""
    from tacit.index.retriever import Filters

    question = question.strip()
    if not question:
        raise UsageError("the question is empty")
    if k < 1:
        raise UsageError("-k must be at least 1")
    filters = filters or Filters()
    hits = retriever.search(question, k=max(k, CANDIDATES), filters=filters)
    if not filters.include_restricted:  # the retriever filters too; this rule must never slip
        hits = [h for h in hits if not h.chunk.restricted]
    embedder = getattr(retriever, "embedder", None)  # warm: names experts by topic meaning
    return build_answer(ws, question, hits, k, threshold_for(ws), embedder=embedder)


def log_question(ws: Workspace, answer: Answer, filters: Any = None) -> dict[str, Any]:
    """Append the question to questions.jsonl as one line: the protégé demand, the chat history,
    and how a not-captured question reaches its experts' agendas (`tacit expert agenda`)."""
    entry = {
        "time": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "question": answer.query,
        "filters": _filters_json(filters),
        "not_captured": answer.not_captured,
        "experts": [s.slug for s in answer.experts],
        "cited": [] if answer.not_captured else [r.chunk_id for r in answer.results],
    }
    append_line(ws.questions_log, json.dumps(entry, ensure_ascii=False))
    return entry


def _filters_json(filters: Any) -> dict[str, Any]:
    if filters is None:
        return {}
    names = ("expert", "kind", "session", "include_restricted")
    return {n: getattr(filters, n) for n in names if getattr(filters, n, None)}
