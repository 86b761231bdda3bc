"""The ask core: retriever hits -> a short extractive answer with cited excerpts, or an honest gap.

No terminal here: the command layer renders an Answer; tests and scripts use it directly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from tacit.ask import quoting
from tacit.ask.excerpts import (
    LEXICAL_THRESHOLD,
    RELEVANCE_THRESHOLD,
    AnswerSource,
    Excerpt,
    Suggestion,
    exact_code_match,
    excerpt,
    extract_answer,
    known_experts,
    lexical_threshold_for,
    threshold_for,
)
from tacit.core.errors import UsageError
from tacit.core.workspace import Workspace
from tacit.index.terms import content_terms, worth_an_agenda
from tacit.records import experts as experts_module
from tacit.records import questions, redaction

CANDIDATES = 10  # hits fetched per question: the answer and the expert suggestions read them all


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
    questions.append(ws, entry)
    return entry


def _filters_json(filters: Any) -> dict[str, Any]:
    if filters is None:
        return {}
    names = ("expert", "kind", "session", "include_restricted")
    return {n: getattr(filters, n) for n in names if getattr(filters, n, None)}
