"""Who knows what: experts ranked by the evidence captured from them on a topic.

Also names the experts most likely to know the answer to a question the KB cannot answer yet,
from their `topics` (experts/*.md) and from the nearest passages they gave.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tacit.ask import quoting
from tacit.ask.excerpts import Suggestion, exact_code_match, excerpt, known_experts, threshold_for
from tacit.core.errors import UsageError
from tacit.core.workspace import Workspace
from tacit.index.terms import content_terms, stem
from tacit.records.experts import Expert

WIDE = 50  # hits read per topic: wide enough that a quieter expert's passages still count
PER_EXPERT = 5  # an expert's best passages that make their evidence (more says little more)
SUGGESTED = 3
# Cosine (all-MiniLM-L6-v2) between a question and a declared topic from which the topic counts
# as matched without sharing a word ('fork-lift load chart' ~ 'forklift trucks': 0.53, while
# unrelated topics stay under 0.3 on the checks in tests/test_who_knows.py).
TOPIC_COSINE = 0.4
_TOPIC_VECTORS: dict[tuple[str, str], Any] = {}


@dataclass(frozen=True)
class ExpertEvidence:
    slug: str
    name: str
    role: str
    leaving_on: dt.date | None
    evidence: float  # sum of the cosines of their best relevant passages (how much, how relevant)
    passages: int  # relevant passages among the wide retrieval
    best_session: str
    best_citation: str
    topics_matched: tuple[str, ...]
    contacts: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["leaving_on"] = self.leaving_on.isoformat() if self.leaving_on else None
        data["evidence"] = round(self.evidence, 4)
        data["topics_matched"] = list(self.topics_matched)
        data["contacts"] = list(self.contacts)
        return data


def topic_similarity(embedder: Any, text: str, people: Iterable[Expert]) -> dict[str, float]:
    """Cosine between the text and every declared topic, or {} without a model.

    Topic vectors are kept for the process (chat, --file): a question then costs one embedding.
    """
    topics = sorted({t for e in people for t in e.topics})
    if embedder is None or not topics:
        return {}
    model = getattr(embedder, "model_id", "")
    missing = [t for t in topics if (model, t) not in _TOPIC_VECTORS]
    vectors = embedder.embed([text, *missing])
    _TOPIC_VECTORS.update({(model, t): v for t, v in zip(missing, vectors[1:], strict=True)})
    return {t: float(_TOPIC_VECTORS[(model, t)] @ vectors[0]) for t in topics}


def topic_matches(
    text: str, expert: Expert, similar: dict[str, float] | None = None
) -> tuple[float, tuple[str, ...]]:
    """How well an expert's declared topics cover a question or topic; the best topic counts.

    A topic scores the share of its own content words found in the text ('pump vibration' half
    matched by 'why does the pump shake'), or its cosine with the text when that reaches
    TOPIC_COSINE (the same thing in other words).
    """
    words = {stem(t) for t in content_terms(text)}
    best, matched = 0.0, []
    for topic in expert.topics:
        topic_words = {stem(t) for t in content_terms(topic)}
        share = len(topic_words & words) / len(topic_words) if topic_words else 0.0
        cosine = (similar or {}).get(topic, 0.0)
        score = max(share, cosine if cosine >= TOPIC_COSINE else 0.0)
        if score > 0:
            matched.append(topic)
        best = max(best, score)
    return best, tuple(matched)


def likely_experts(
    question: str, hits: list[Any], people: Iterable[Expert], embedder: Any = None
) -> list[Suggestion]:
    """Experts most likely to know: declared topics first, then who gave the nearest passages."""
    people = list(people)
    similar = topic_similarity(embedder, question, people)
    near: dict[str, float] = {}
    for hit in hits:
        near[hit.chunk.expert] = near.get(hit.chunk.expert, 0.0) + max(hit.dense_score or 0, 0)
    top_near = max(near.values(), default=0.0) or 1.0
    ranked = []
    for expert in people:
        share, matched = topic_matches(question, expert, similar)
        closeness = near.get(expert.slug, 0.0) / top_near
        if share <= 0 and closeness <= 0:
            continue
        why = f"topics: {', '.join(matched)}" if matched else "gave the nearest passages"
        ranked.append((share + 0.25 * closeness, share, expert, why))
    ranked.sort(key=lambda r: (-r[0], r[2].slug))
    # with a topic match, the nearest-passage guesses are noise: keep only topic matches
    if any(share > 0 for _, share, _, _ in ranked):
        ranked = [r for r in ranked if r[1] > 0]
    return [
        Suggestion(slug=e.slug, name=e.name, role=e.role, why=why)
        for _, _, e, why in ranked[:SUGGESTED]
    ]


def who_knows(
    ws: Workspace, retriever: Any, topic: str, filters: Any = None, wide: int = WIDE
) -> list[ExpertEvidence]:
    """Experts ranked by captured evidence on a topic, then those who only declared it."""
    from tacit.ask.retriever import Filters

    topic = topic.strip()
    if not topic:
        raise UsageError("the topic is empty")
    filters = filters or Filters()
    hits = retriever.search(topic, k=wide, filters=filters)
    if not filters.include_restricted:
        hits = [h for h in hits if not h.chunk.restricted]
    hits = [h for h in hits if not quoting.interviewer_only(h.chunk)]  # nobody's evidence
    scored = relevant_hits(topic, hits, threshold_for(ws))
    people = known_experts(ws)
    similar = topic_similarity(getattr(retriever, "embedder", None), topic, people.values())
    rows = []
    for slug in dict.fromkeys(h.chunk.expert for h, _ in scored):
        expert = people.get(slug) or Expert(slug=slug, name=slug)
        rows.append(_evidence(expert, scored, people, topic_matches(topic, expert, similar)[1]))
    for expert in people.values():
        matched = topic_matches(topic, expert, similar)[1]
        if expert.slug not in {r.slug for r in rows} and matched:
            rows.append(_declared_only(expert, matched))
    rows.sort(key=lambda r: (-r.evidence, -len(r.topics_matched), r.slug))
    return [_masked(ws, row) for row in rows]


def _masked(ws: Workspace, row: ExpertEvidence) -> ExpertEvidence:
    """Topics, role and contacts as shown: masked by the redaction settings of now."""
    from dataclasses import replace

    from tacit.records.redaction import redactor

    redact = redactor(ws.config)
    if not redact.patterns:
        return row
    return replace(
        row,
        role=redact(row.role),
        topics_matched=tuple(redact(t) for t in row.topics_matched),
        contacts=tuple(redact(c) for c in row.contacts),
    )


def relevant_hits(topic: str, hits: list[Any], threshold: float) -> list[tuple[Any, float]]:
    """(hit, relevance) for hits that pass the not-captured threshold or hold an exact code.

    Relevance is the cosine; a passage found by its exact words only (no cosine) counts as
    just relevant.
    """
    terms = content_terms(topic)
    found = []
    for hit in hits:
        if hit.dense_score is not None and hit.dense_score >= threshold:
            found.append((hit, hit.dense_score))
        elif exact_code_match(terms, [hit]):
            found.append((hit, max(hit.dense_score or 0.0, threshold)))
    return found


def _evidence(
    expert: Expert,
    scored: list[tuple[Any, float]],
    people: dict[str, Expert],
    matched: tuple[str, ...],
) -> ExpertEvidence:
    mine = [(h, r) for h, r in scored if h.chunk.expert == expert.slug]
    by_session: dict[str, float] = {}
    for hit, relevance in mine:
        by_session[hit.chunk.session] = by_session.get(hit.chunk.session, 0.0) + relevance
    best_session = max(by_session, key=lambda s: by_session[s])
    best_hit = max(mine, key=lambda pair: pair[1])[0]
    return ExpertEvidence(
        slug=expert.slug,
        name=expert.name,
        role=expert.role,
        leaving_on=expert.leaving_on,
        evidence=sum(sorted((r for _, r in mine), reverse=True)[:PER_EXPERT]),
        passages=len(mine),
        best_session=best_session,
        best_citation=excerpt(best_hit, people).citation,
        topics_matched=matched,
        contacts=expert.contacts,
    )


def _declared_only(expert: Expert, matched: tuple[str, ...]) -> ExpertEvidence:
    return ExpertEvidence(
        slug=expert.slug,
        name=expert.name,
        role=expert.role,
        leaving_on=expert.leaving_on,
        evidence=0.0,
        passages=0,
        best_session="",
        best_citation="",
        topics_matched=matched,
        contacts=expert.contacts,
    )
