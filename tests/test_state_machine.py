"""A hypothesis state machine of random add, edit, delete, forget and index steps: after every
index run, the vector store, the lexical index and the manifest hold exactly the chunks that the
plain files give. Uses the FAKE embedder (fine for a property test of bookkeeping; no quality
figure comes from it); Chroma, bm25s and the files are real."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule

from tacit.admin import pending
from tacit.core import workspace
from tacit.index import chunker, indexer, lexical, manifest, store
from tacit.index.embedder import FakeEmbedder
from tacit.privacy import forget
from tacit.records import consent, experts, sessions
from tacit.records import transcript as tr
from tacit.records.sessions import Answer

WORDS = st.sampled_from(
    [
        "pump",
        "valve",
        "strainer",
        "alarm",
        "chlorine",
        "night",
        "shift",
        "reset",
        "vendor",
        "filter",
        "bearing",
        "seal",
        "gravel",
        "level",
        "drift",
        "analyser",
        "permit",
        "isolate",
        "handover",
    ]
)
SENTENCE = st.lists(WORDS, min_size=3, max_size=12).map(lambda w: " ".join(w).capitalize() + ".")


def indexed_ids(ws) -> dict[str, set[str]]:
    vectors = store.ChromaStore(ws)
    try:
        in_store = vectors.ids()
    finally:
        vectors.close()
    found = manifest.load(ws)
    return {
        "store": in_store,
        "lexical": {c.id for c in lexical.stored_chunks(ws)},
        "manifest": set(found.chunks) if found else set(),
    }


class KnowledgeBase(RuleBasedStateMachine):
    sessions_made = Bundle("sessions")

    def __init__(self):
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="tacit-sm-"))
        self.ws = workspace.init(self.tmp / "kb", "state machine")
        for name in ("Ana Ruiz", "Bo Chen"):
            experts.add(self.ws, name)
        self.embedder = FakeEmbedder()
        self.forgotten: set[str] = set()
        self.forgotten_chunks: set[str] = set()

    def teardown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    @rule(
        target=sessions_made,
        expert=st.sampled_from(["ana-ruiz", "bo-chen"]),
        turns=st.lists(SENTENCE, min_size=1, max_size=6),
        note=SENTENCE,
    )
    def add_session(self, expert, turns, note):
        made = sessions.create(
            self.ws,
            expert,
            "interview",
            "talk",
            answers=(Answer("q1", "Role", "What matters?", note, "answered"),),
        )
        segments = tuple(
            tr.Segment(i * 5.0, i * 5.0 + 4.0, f"S{i % 2}", text) for i, text in enumerate(turns)
        )
        tr.save(self.ws.session_dir(made.id) / "transcript.json", tr.Transcript(segments))
        return made.id

    @rule(session_id=sessions_made, text=SENTENCE)
    def edit_session(self, session_id, text):
        path = self.ws.session_dir(session_id) / "transcript.json"
        if path.is_file():
            old = tr.load(path)
            tr.save(path, tr.Transcript(old.segments[:-1] + (tr.Segment(90.0, 94.0, "S1", text),)))

    @rule(session_id=consumes(sessions_made))
    def delete_by_hand(self, session_id):
        shutil.rmtree(self.ws.session_dir(session_id), ignore_errors=True)

    @rule(session_id=consumes(sessions_made))
    def forget(self, session_id):
        if not self.ws.session_dir(session_id).exists():
            return
        found = manifest.load(self.ws)
        if found:
            self.forgotten_chunks |= {
                cid for cid, e in found.chunks.items() if e["session"] == session_id
            }
        with pending.writer_lock(self.ws):
            forget.forget(self.ws, forget.Targets((session_id,)))
        self.forgotten.add(session_id)

    @rule(session_id=sessions_made)
    def withdraw_consent(self, session_id):
        if self.ws.session_dir(session_id).exists():
            consent.set_consent(self.ws, session_id, "withdrawn")

    @rule()
    def index(self):
        indexer.run(self.ws, embedder=self.embedder)
        wanted = {c.id for c in chunker.chunk_kb(self.ws)}
        for where, ids in indexed_ids(self.ws).items():
            assert ids == wanted, where

    @invariant()
    def forgotten_sessions_are_in_no_index(self):
        # forget must not wait for the next index run: its chunks leave every index at once
        if not self.forgotten:
            return
        for where, ids in indexed_ids(self.ws).items():
            assert not ids & self.forgotten_chunks, where


@pytest.fixture(autouse=True)
def fake_embedder_everywhere(monkeypatch):
    # forget rebuilds the embedded store in a child process: it must use the same fake
    monkeypatch.setenv("TACIT_TEST_EMBEDDER", "fake")


KnowledgeBase.TestCase.settings = settings(
    max_examples=12,
    stateful_step_count=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_index_always_matches_the_plain_files = KnowledgeBase.TestCase
