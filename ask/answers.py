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

from tacit.ask import quoting
from tacit.core.errors import UsageError
from tacit.core.fileio import append_line
from tacit.core.workspace import Workspace
from tacit.index.terms import content_terms, is_code, worth_an_agenda
from tacit.records import experts as experts_module
from tacit.records import redaction

# Not captured: the best dense cosine is below RELEVANCE_THRESHOLD and no passage among the top
# three holds LEXICAL_THRESHOLD of the question's rare-word (IDF) weight word for word ("sulphite
# residual", "3000 ppm" are answers whatever their cosine) and none holds a code from it.
# Calibrated with benchmarks/retrieval_eval.py on QMSum train (40 meetings; out of scope: the
# questions of 8 more) and on benchmarks/eval (32 out-of-scope questions), best mean balanced
# accuracy of the two: 0.834 (was 0.806 at a cosine of 0.45 alone). `[index]
# relevance_threshold` and `lexical_threshold` in tacit.toml override them.
RELEVANCE_THRESHOLD = 0.46
LEXICAL_THRESHOLD = 0.45
CANDIDATES = 10  # hits fetched per question: the answer and the expert suggestions read them all
# the headline's sentence may come from the top three passages; a better-ranked passage adds
# this much (over its rank) to its sentences' scores
RANK_WEIGHT = 0.15
EXCERPT_WORDS = 30  # an excerpt shorter than this from its cited moment reads on
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
class AnswerSource:
    """Who said the headline's first sentence, and when: the cited moment of the answer."""

    session: str
    speaker: str
    start: float | None
    end: float | None
    citation: str
    media: str | None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


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
    coverage: float | None = None  # best share of the question's rare words held word for word
    lexical_threshold: float = LEXICAL_THRESHOLD
    source: AnswerSource | None = None  # where the headline's first sentence was said

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "answer": self.answer,
            "answer_source": self.source.to_json() if self.source else None,
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


def media_link(chunk: Any, start: float | None) -> str | None:
    """The chunk's recording, relative to the KB root, at a second: 'sessions/x/a.ogg#t=12.5'."""
    return f"{chunk.media}#t={seconds_text(start or 0.0)}" if chunk.media else None


def citation(session: str, speaker: str, start: float | None) -> str:
    parts = [session, speaker] + ([hms(start)] if start is not None else [])
    return "[" + " · ".join(p for p in parts if p) + "]"


# --- turning hits into an answer -------------------------------------------------------------


def _plain_score(said: quoting.Said, expert_name: str, expert_speaks: bool = True) -> float:
    """Without a question (who-knows evidence): the expert's first sentence of the passage."""
    return float(said.speaker == expert_name or not expert_speaks) - said.index * 1e-3


def excerpt(
    hit: Any, people: dict[str, experts_module.Expert], score: Any = None, lexicon: Any = None
) -> Excerpt:
    """A hit as it is shown: from its best sentence (the cited moment) to the passage's end,
    cited by who said that sentence, when; one that would be shorter than EXCERPT_WORDS reads
    on into the next passage of the recording. A typed answer keeps its question for context."""
    chunk = hit.chunk
    expert = people.get(chunk.expert)
    name = expert.name if expert else chunk.expert
    best = quoting.best_sentence(chunk, name, score or _plain_score)
    speaker = best.speaker if best is not None and best.speaker else _fallback_speaker(chunk, name)
    start, end, text = chunk.start, chunk.end, chunk.text
    if best is not None and chunk.source == "transcript":
        start = best.start if best.start is not None else chunk.start
        text = (f"{best.speaker}: " if best.speaker else "") + chunk.text[best.offset :]
        after = lexicon.following(chunk) if lexicon is not None else None
        if after is not None and len(text.split()) < EXCERPT_WORDS:
            text, end = _joined(text, after.text), after.end
    media = media_link(chunk, start)
    return Excerpt(
        chunk_id=chunk.id,
        session=chunk.session,
        expert=chunk.expert,
        expert_name=name,
        role=expert.role if expert else "",
        speaker=speaker,
        start=start,
        end=end,
        text=text,
        score=float(hit.score),
        citation=citation(chunk.session, speaker, start),
        media=media,
        source=chunk.source,
        dense_score=hit.dense_score,
        lexical_score=hit.lexical_score,
    )


def _joined(text: str, after: str) -> str:
    """Two passages as one excerpt: a turn that goes on across them stays one line."""
    last = text.rsplit("\n", 1)[-1]
    speaker, colon, _ = last.partition(": ")
    if colon and after.startswith(f"{speaker}: "):
        return f"{text} {after[len(speaker) + 2 :]}"
    return f"{text}\n{after}"


def _fallback_speaker(chunk: Any, expert_name: str) -> str:
    speakers = [s for s in chunk.speakers if s]
    return expert_name if expert_name in speakers or not speakers else speakers[0]


def extract_answer(
    results: tuple[Excerpt, ...], hits: list[Any], score: Any, top: int = 3
) -> tuple[str, AnswerSource | None]:
    """The sentences of the top passages that best answer the question, cited where the first
    of them was said, by who said it.

    Only someone's words are quoted: never a guide's prompt, and never the interviewer's when
    the expert speaks in the passage. The best sentence is followed by the next one of the
    same reply, which usually completes it ("Never ignore that one. Shut the burner and call
    me."); the passage's rank adds a little.
    """
    candidates: list[tuple[float, int, quoting.Said, list[quoting.Said]]] = []
    for rank, hit in enumerate(hits[:top]):
        name = results[rank].expert_name
        found = quoting.sentences_of(hit.chunk, name)
        speaks = name in {s.speaker for s in found}
        for said in found:
            if not quoting.quotable(said) or (speaks and said.speaker != name):
                continue
            value = score(said, name, speaks) + RANK_WEIGHT / (rank + 1)
            candidates.append((value, rank, said, found))
    if not candidates:
        return "", None
    value, rank, best, found = max(candidates, key=lambda c: (c[0], -c[1], -c[2].index))
    quoted = [best]
    after = found[best.index + 1] if best.index + 1 < len(found) else None
    if after is not None and after.turn == best.turn and quoting.quotable(after):
        quoted.append(after)
    result, chunk = results[rank], hits[rank].chunk
    start = best.start if chunk.source == "transcript" else result.start
    end = quoted[-1].end if chunk.source == "transcript" else result.end
    cited = citation(chunk.session, best.speaker, start)
    media = media_link(chunk, start)
    source = AnswerSource(chunk.session, best.speaker, start, end, cited, media)
    return " ".join([*(q.text for q in quoted), cited]), source


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
    lexicon: Any = None,
) -> Answer:
    """Hits (best first) -> an Answer: extractive text and excerpts, or a not-captured gap.

    Captured when the best cosine reaches the threshold, or a top passage holds the question's
    rare words (LEXICAL_THRESHOLD of their weight), or a code from it word for word."""
    people = people if people is not None else known_experts(ws)
    hits = [h for h in hits if not quoting.interviewer_only(h.chunk)]  # the asking, not answers
    terms = content_terms(question)
    dense = [h.dense_score for h in hits if h.dense_score is not None]
    relevance = max(dense) if dense else None
    covered = [h.coverage for h in hits[:3] if getattr(h, "coverage", None) is not None]
    coverage = max(covered) if covered else None
    limit = lexical_threshold_for(ws)
    captured = bool(hits) and (
        (relevance is not None and relevance >= threshold)
        or (coverage is not None and coverage >= limit)
        or exact_code_match(terms, hits)
    )
    score = _question_scorer(question, lexicon)
    results = tuple(excerpt(hit, people, score, lexicon) for hit in hits[:k])
    suggestions: tuple[Suggestion, ...] = ()
    text, source = "", None
    if captured:
        text, source = extract_answer(results, hits[:k], score)
    else:
        from tacit.ask import expertise

        found = expertise.likely_experts(question, hits, list(people.values()), embedder)
        suggestions = tuple(found)
    shown = Answer(
        query=question,
        answer=text,
        not_captured=not captured,
        results=results,
        experts=suggestions,
        relevance=relevance,
        threshold=threshold,
        terms=terms,
        coverage=coverage,
        lexical_threshold=limit,
        source=source,
    )
    return redaction.mask_answer(ws, shown)  # the redaction settings of now, not of the index


def _question_scorer(question: str, lexicon: Any) -> Any:
    """Sentence scoring against the question: IDF weights from the lexical index when there is
    one, else every word alike."""
    from tacit.index import lexical

    weight = lexicon.idf if lexicon is not None and lexicon.bm25 is not None else (lambda t: 1.0)
    return quoting.scorer(lexical.share_held(question, weight))


def lexical_threshold_for(ws: Workspace) -> float:
    given = float(ws.config.index.get("lexical_threshold") or 0.0)
    return given if given > 0 else LEXICAL_THRESHOLD


def ask(ws: Workspace, retriever: Any, question: str, filters: Any = None, k: int = 5) -> Answer:
    """One question through the warm retriever. Never takes the writer lock (reads only)."""
    from tacit.ask.retriever import Filters

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
    lexicon = retriever.lexicon() if hasattr(retriever, "lexicon") else None
    return build_answer(
        ws, question, hits, k, threshold_for(ws), embedder=embedder, lexicon=lexicon
    )


def log_question(ws: Workspace, answer: Answer, filters: Any = None) -> dict[str, Any]:
    """Append the question to questions.jsonl as one line: the protégé demand, the chat history,
    and how a not-captured question reaches its experts' agendas (`tacit expert agenda`)."""
    entry = {
        "time": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "question": redaction.mask(ws, answer.query),  # the log is shown in reports
        "filters": _filters_json(filters),
        "not_captured": answer.not_captured,
        "experts": [s.slug for s in answer.experts],
        "cited": [] if answer.not_captured else [r.chunk_id for r in answer.results],
        # not captured and worth an expert's time: reaches their agenda (junk and typos do not)
        "open_question": answer.not_captured and worth_an_agenda(answer.query),
    }
    append_line(ws.questions_log, json.dumps(entry, ensure_ascii=False))
    return entry


def _filters_json(filters: Any) -> dict[str, Any]:
    if filters is None:
        return {}
    names = ("expert", "kind", "session", "include_restricted")
    return {n: getattr(filters, n) for n in names if getattr(filters, n, None)}
