"""`tacit pack build`: a pack definition plus the knowledge base -> the learning plan's content.

Topics are answered through the `ask` core (index/answers.py), so a pack and `tacit ask` agree on
what is captured and what is a gap; excerpts come from the retriever, never from Chroma directly.
Restricted sessions never appear. Media is linked, never copied: a link is computed from the
build folder to sessions/<id>/media/<file>#t=SECONDS and kept only when it stays inside the KB
(a bundle, packs/bundle.py, holds clips cut from the recordings instead, inside the KB too).
Each topic keeps the answer `ask` gives and its source (Answer.answer, Answer.source).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol
from urllib.parse import quote

from tacit.ask.answers import Answer
from tacit.core import timefmt
from tacit.core.errors import TacitError
from tacit.core.workspace import Workspace, safe_name
from tacit.packs import practice
from tacit.packs.definition import Item, Pack
from tacit.records import experts as experts_module
from tacit.records import redaction
from tacit.records import sessions as sessions_module

EXCERPTS_PER_TOPIC = 3


class Answerer(Protocol):
    """What a build asks of the knowledge base (the real one: KBAnswerer; tests may fake it)."""

    def answer(self, question: str) -> Answer: ...

    def who_knows(self, topic: str) -> list[Any] | None: ...


@dataclass(frozen=True)
class Quote:
    session: str
    speaker: str
    expert_name: str
    start: float | None
    text: str  # redacted chunk text, "Speaker: words" lines
    href: str  # relative to the build folder, with #t=SECONDS; "" when there is no recording
    end: float | None = None

    @property
    def time(self) -> str:
        return timefmt.clock(self.start) if self.start is not None else ""

    @property
    def length(self) -> float | None:
        """Seconds from the cited moment to the excerpt's end, when both are known."""
        if self.start is None or self.end is None or self.end <= self.start:
            return None
        return self.end - self.start


@dataclass(frozen=True)
class TopicResult:
    item: Item
    captured: bool
    answer: str  # the extractive answer with its citations ("" for a gap)
    quotes: tuple[Quote, ...]
    ask: tuple[str, ...] = ()  # for a gap: who is most likely to know, with why
    source: Quote | None = None  # where the answer's first sentence was said (as `ask` cites)
    left_out: bool = False  # a bundle: captured, but only in sessions not shared


@dataclass(frozen=True)
class Contact:
    name: str
    detail: str  # plain text: role, what they know, whom they send people to


@dataclass(frozen=True)
class Built:
    pack: Pack
    kb_name: str
    built_on: dt.date
    experts: tuple[experts_module.Expert, ...]
    topics: tuple[TopicResult, ...]
    observations: tuple[practice.Scheduled, ...]
    practice: tuple[practice.Scheduled, ...]
    contacts: tuple[Contact, ...]
    warnings: tuple[str, ...] = ()

    @property
    def gaps(self) -> tuple[TopicResult, ...]:
        return tuple(t for t in self.topics if not t.captured)

    @property
    def sessions_quoted(self) -> tuple[str, ...]:
        found = [q.session for t in self.topics for q in t.quotes]
        found += [t.source.session for t in self.topics if t.source is not None]
        found += [s.observed.session for s in (*self.observations, *self.practice) if s.observed]
        return tuple(sorted(set(found)))


class KBAnswerer:
    """The real knowledge base: one warm retriever, `ask` per topic, `who_knows` for contacts.

    Topics search the whole KB (restricted sessions excepted), as `tacit ask` does: a topic that
    any captured session answers is not a gap. The pack's experts choose its observations,
    practice tasks and reviewers, not which answers count."""

    def __init__(self, ws: Workspace):
        from tacit.ask.retriever import Retriever

        self.ws = ws
        self.retriever = Retriever(ws)

    def answer(self, question: str) -> Answer:
        from tacit.ask import answers
        from tacit.ask.retriever import Filters

        return answers.ask(self.ws, self.retriever, question, Filters(), EXCERPTS_PER_TOPIC)

    def who_knows(self, topic: str) -> list[Any] | None:
        try:
            from tacit.ask import expertise
        except ImportError:  # who-knows not installed: contacts come from the experts' records
            return None
        return expertise.who_knows(self.ws, self.retriever, topic)

    def close(self) -> None:
        self.retriever.close()


def build(
    ws: Workspace,
    pack: Pack,
    answerer: Answerer,
    today: dt.date | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> Built:
    """Answer every topic, gather observations, practice tasks and contacts."""
    people = {e.slug: e for e in experts_module.list_all(ws)}
    missing = [slug for slug in pack.experts if slug not in people]
    if missing:
        raise TacitError(f"{pack.path}: experts not in the knowledge base: {', '.join(missing)}")
    redact = redaction.redactor(ws.config)
    pack = _masked(pack, redact)
    links = _Links(ws, pack)
    warnings: list[str] = []
    sessions = {s.id: s for s in sessions_module.list_all(ws)}
    hidden = {s.id for s in sessions.values() if s.restricted or s.withheld}
    topics = []
    items = pack.items("topics")
    for n, item in enumerate(items, 1):
        if progress:
            progress(n, len(items), item.text)
        answer = _without(answerer.answer(item.text), hidden)
        topics.append(_topic(item, answer, links, redact))
    observed = practice.ObservedSessions(sessions, people, links, redact, warnings)
    observations = tuple(
        observed.scheduled(item)
        for item in pack.items("observations")
        if not observed.withheld(item)
    )
    tasks = practice.practice_tasks(pack, observed, sessions)
    contacts = _contacts(pack, answerer, people, redact)
    return Built(
        pack=pack,
        kb_name=ws.config.name,
        built_on=today or dt.date.today(),
        experts=tuple(people[slug] for slug in pack.experts),
        topics=tuple(topics),
        observations=observations,
        practice=tasks,
        contacts=contacts,
        warnings=tuple(warnings),
    )


class _Links:
    """Links from the build folder to recordings, computed by tacit and checked against the KB."""

    def __init__(self, ws: Workspace, pack: Pack):
        self.ws = ws
        self.build_dir = pack.build_dir

    def media(self, kb_relative: str, seconds: float | None) -> str:
        if not kb_relative:
            return ""
        path = kb_relative.split("#", 1)[0]
        target = self.ws.root / path
        if ".." in path.split("/") or not self.ws.inside(target) or not target.is_file():
            return ""  # forgotten, moved, or a path that would leave the KB
        href = quote(os.path.relpath(target, self.build_dir))
        if seconds is None:
            return href
        return f"{href}#t={timefmt.media_seconds(seconds)}"

    def session_media(self, session: sessions_module.Session, at: float | None):
        """(media seconds, href) for a session time, as the chunker maps it."""
        if not session.media:
            return None, ""
        media = session.media[0]
        path = f"sessions/{safe_name(session.id, 'session id')}/{media.file}"
        if at is None:
            return None, self.media(path, None)
        if at - media.offset < 0:
            return None, ""
        seconds = round(at - media.offset, 3)
        return seconds, self.media(path, seconds)


def _masked(pack: Pack, redact) -> Pack:
    """A built pack is derived text: the coach's items (which `pack new` may have filled with
    expert topics), its title and role are masked like the quotes."""
    if not redact.patterns:
        return pack

    def items(found: dict) -> dict:
        return {
            key: tuple(replace(i, text=redact(i.text), markdown=redact(i.markdown)) for i in value)
            for key, value in found.items()
        }

    return replace(
        pack,
        title=redact(pack.title),
        role=redact(pack.role),
        sections=items(pack.sections),
        notes=items(pack.notes),
    )


def _without(answer: Answer, hidden: set[str]) -> Answer:
    """Restricted sessions never appear in a pack, whatever the answerer let through
    (`ask` filters them already; this rule must not hang on one place)."""

    kept = tuple(r for r in answer.results if r.session not in hidden)
    if len(kept) == len(answer.results):
        return answer
    # the extractive answer may quote a dropped excerpt: keep it only if nothing was dropped
    return replace(
        answer, results=kept, answer="", source=None, not_captured=answer.not_captured or not kept
    )


def _relevant(answer: Answer) -> list[Any]:
    """The excerpts that answer the topic: the best one, the one the answer quotes, then only
    those that are relevant on their own (the `ask` threshold, or a part number or code from
    the topic word for word). A topic is not padded with the nearest unrelated passages."""
    from tacit.index.terms import content_terms, is_code

    codes = [t for t in content_terms(answer.query) if is_code(t)]
    kept = []
    for rank, result in enumerate(answer.results[:EXCERPTS_PER_TOPIC]):
        dense = result.dense_score
        coded = any(code.lower() in result.text.lower() for code in codes)
        relevant = dense is not None and dense >= answer.threshold
        if rank == 0 or coded or relevant or _quoted_by(answer, result):
            kept.append(result)
    return kept


def _quoted_by(answer: Answer, result: Any) -> bool:
    """Whether the answer's cited sentence was said in this excerpt."""
    source = answer.source
    if source is None or source.session != result.session:
        return False
    if source.start is None or result.start is None:
        return source.start is None and result.start is None
    end = result.end if result.end is not None else result.start
    return result.start - 0.5 <= source.start <= end + 0.5


def _topic(item: Item, answer: Answer, links: _Links, redact) -> TopicResult:
    if answer.not_captured:
        ask = tuple(f"{s.name}" + (f" ({s.why})" if s.why else "") for s in answer.experts)
        return TopicResult(item=item, captured=False, answer="", quotes=(), ask=ask)
    quotes = []
    for result in _relevant(answer):
        href = links.media(result.media, result.start) if result.media else ""
        quotes.append(
            Quote(
                session=result.session,
                speaker=redact(result.speaker),
                expert_name=result.expert_name,
                start=result.start,
                text=redact(result.text),
                href=href,
                end=result.end,
            )
        )
    return TopicResult(
        item=item,
        captured=True,
        answer=redact(answer.answer),
        quotes=tuple(quotes),
        source=_source(answer, links, redact),
    )


def _source(answer: Answer, links: _Links, redact) -> Quote | None:
    """The answer's citation as `ask` gives it (Answer.source), with its recording link."""
    source = answer.source
    if source is None:
        return None
    said = next((r for r in answer.results if _quoted_by(answer, r)), None)
    return Quote(
        session=source.session,
        speaker=redact(source.speaker),
        expert_name=said.expert_name if said else "",
        start=source.start,
        text="",
        href=links.media(source.media, source.start) if source.media else "",
        end=source.end,
    )


def _contacts(pack: Pack, answerer: Answerer, people, redact) -> tuple[Contact, ...]:
    """Who knows what this pack teaches (who-knows per topic), then the pack's own experts."""
    knows: dict[str, list[str]] = {}
    for item in pack.items("topics"):
        for row in (answerer.who_knows(item.text) or [])[:2]:
            if getattr(row, "evidence", 0) > 0:
                knows.setdefault(row.slug, []).append(item.text)
    order = list(knows) + [slug for slug in pack.experts if slug not in knows]
    contacts = []
    for slug in order:
        expert = people.get(slug)
        if expert is None:
            continue
        # redaction covers what a pack derives from the record, contacts included; the
        # leaving date is tacit's own field (and a phone pattern would take it for a number)
        parts = [redact(expert.role)] if expert.role else []
        if expert.leaving_on:
            parts.append(f"leaving {expert.leaving_on.isoformat()}")
        if slug in knows:
            parts.append("knows about: " + "; ".join(knows[slug]))
        elif expert.topics:
            parts.append("topics: " + redact(", ".join(expert.topics)))
        parts += [f"sends people to {redact(c)}" for c in expert.contacts]
        contacts.append(Contact(name=expert.name, detail=" · ".join(parts)))
    return tuple(contacts)
