"""Vocabulary that learns: the terms people corrected in transcripts, offered for the vocabulary
Whisper is given, and the vocabulary a session is transcribed with (the KB's and its expert's).

A term people typed in place of what the model heard ("trace heating" for "tray-skating") is
what the model will miss again; given as hotwords it is spelled right next time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tacit.capture import history
from tacit.core.workspace import Workspace
from tacit.records import experts, sessions
from tacit.records import transcript as transcript_model

MAX_TERM_WORDS = 4  # a corrected sentence is a rewrite, not a term
_EDGES = ".,;:!?\"'()[]"


@dataclass(frozen=True)
class Term:
    term: str
    heard: tuple[str, ...]  # what the model had written instead
    sessions: tuple[str, ...]
    experts: tuple[str, ...]


def _known(words: list[str]) -> set[str]:
    return {w.casefold() for w in words}


def vocabulary_for(ws: Workspace, expert_slug: str | None) -> list[str]:
    """The KB's [models] vocabulary, then the expert's own terms (once each, any case)."""
    merged: dict[str, str] = {}
    own: tuple[str, ...] = ()
    if expert_slug and experts.expert_path(ws, expert_slug).is_file():
        own = experts.get(ws, expert_slug).vocabulary
    for term in (*ws.config.models["vocabulary"], *own):
        merged.setdefault(term.casefold(), term)
    return list(merged.values())


def is_term(phrase: str) -> bool:
    """Worth offering: a few words, one of them a name, a number or a long word (a corrected
    'the' or 'a' is grammar, not vocabulary)."""
    words = phrase.split()
    if not words or len(words) > MAX_TERM_WORDS:
        return False
    return any(re.search(r"\d", w) or w[:1].isupper() or len(w) >= 5 for w in words)


def offered(ws: Workspace, session_id: str, phrases) -> list[str]:
    """The corrected terms of one change that its session's vocabulary does not hold yet."""
    known = _known(vocabulary_for(ws, sessions.get(ws, session_id).expert))
    terms = [right.strip(_EDGES) for _heard, right in phrases]
    return list(dict.fromkeys(t for t in terms if is_term(t) and t.casefold() not in known))


def corrected(ws: Workspace, session_ids: list[str] | None = None) -> list[Term]:
    """Terms corrected in the transcripts' history, not yet in the vocabulary their session's
    transcription would use; in the order they were first corrected."""
    found: dict[str, dict] = {}
    for session in sessions.list_all(ws):
        if session_ids is not None and session.id not in session_ids:
            continue
        path = transcript_model.path(ws, session.id)
        if not path.is_file():
            continue
        known = _known(vocabulary_for(ws, session.expert))
        for item in transcript_model.load(path).history:
            if item.get("change") not in ("edit", "fix"):
                continue
            for heard, right in history.replaced_phrases(item):
                term = right.strip(_EDGES)
                if not is_term(term) or term.casefold() in known:
                    continue
                entry = found.setdefault(
                    term.casefold(), {"term": term, "heard": {}, "sessions": {}, "experts": {}}
                )
                entry["heard"][heard.strip(_EDGES)] = None
                entry["sessions"][session.id] = None
                entry["experts"][session.expert] = None
    return [
        Term(e["term"], tuple(filter(None, e["heard"])), tuple(e["sessions"]), tuple(e["experts"]))
        for e in found.values()
    ]


def learn(ws: Workspace, terms: list[Term]) -> dict[str, list[str]]:
    """Add each term to the own vocabulary of the experts whose sessions it was corrected in;
    returns the terms added per expert slug."""
    added: dict[str, list[str]] = {}
    for slug in dict.fromkeys(s for t in terms for s in t.experts):
        expert = experts.get(ws, slug)
        known = _known(list(expert.vocabulary))
        new = [t.term for t in terms if slug in t.experts and t.term.casefold() not in known]
        if new:
            experts.edit(ws, slug, vocabulary=(*expert.vocabulary, *new))
            added[slug] = new
    return added
