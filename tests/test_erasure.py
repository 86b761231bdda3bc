"""forget: after it, no byte of a forgotten session remains anywhere under the KB."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tacit.core.fileio import append_line
from tacit.records import sessions
from tacit.records import transcript as tr
from tacit.records.sessions import Answer, Media

CANARY = "The purple heron valve opens only after the seventh bell rings twice"
CANARY_FRAGMENTS = ("purple heron", "seventh bell", "heron valve", "rings twice")


def _make(kb, run, expert, label, transcript_text, answer_text):
    if not (kb.experts_dir / f"{expert}.md").exists():
        assert run("expert", "add", expert.replace("-", " ").title()).exit_code == 0
    session = sessions.create(
        kb,
        expert,
        "interview",
        label,
        answers=(Answer("q1", "Role", "What matters most?", answer_text, "answered"),),
    )
    media = kb.session_dir(session.id) / "media" / "rec.wav"
    media.parent.mkdir(mode=0o700)
    media.write_bytes(b"RIFF" + os.urandom(512))
    sessions.update(kb, session, media=(Media("media/rec.wav", sessions.sha256_of(media)),))
    segments = (
        tr.Segment(0.0, 4.0, "Interviewer", "Tell me about the valves on the intake."),
        tr.Segment(4.5, 12.0, expert, transcript_text),
    )
    tr.save(kb.session_dir(session.id) / "transcript.json", tr.Transcript(segments))
    return session


def _every_byte(root: Path) -> bytes:
    blobs = []
    for folder, _, files in os.walk(root):
        for name in files:
            blobs.append((Path(folder) / name).read_bytes())
    return b"\n".join(blobs).lower()


def test_forget_session_leaves_no_fragment_of_the_canary(kb, run):
    keep = _make(
        kb,
        run,
        "ana-ruiz",
        "keep",
        "The intake screen is raked every Monday at dawn.",
        "Rake the screen before the storm season.",
    )
    gone = _make(kb, run, "ana-ruiz", "gone", CANARY + ".", CANARY + " in winter.")
    assert run("index").exit_code == 0
    asked = run("ask", "when does the heron valve open?", "--json")
    assert asked.exit_code == 0, asked
    assert any(gone.id == r["session"] for r in json.loads(asked.stdout)["results"])
    append_line(kb.questions_log, json.dumps({"question": "other", "cited": [], "experts": []}))
    assert b"purple heron" in _every_byte(kb.root)

    result = run("forget", "--session", gone.id, "--yes")
    assert result.exit_code == 0, result
    assert "backups made before now" in result.stderr
    everything = _every_byte(kb.root)
    for fragment in CANARY_FRAGMENTS:
        assert fragment.encode() not in everything, fragment
    assert not kb.session_dir(gone.id).exists()
    assert kb.session_dir(keep.id).exists()
    lines = kb.questions_log.read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["question"] == "other"
    again = json.loads(run("ask", "when is the intake screen raked?", "--json").stdout)
    assert again["results"] and all(r["session"] == keep.id for r in again["results"])
    assert run("index").exit_code == 0  # the index agrees with the plain files afterwards


def test_forget_expert_removes_their_file_sessions_and_chunks(kb, run):
    _make(kb, run, "ana-ruiz", "keep", "The intake screen is raked every Monday.", "Rake it.")
    _make(kb, run, "bo-chen", "one", CANARY + ".", "Bells and valves.")
    _make(kb, run, "bo-chen", "two", "Bo Chen keeps the heron logbook.", CANARY)
    assert run("index").exit_code == 0
    assert run("forget", "--expert", "bo-chen", "--yes").exit_code == 0
    assert not (kb.experts_dir / "bo-chen.md").exists()
    assert [s.expert for s in sessions.list_all(kb)] == ["ana-ruiz"]
    everything = _every_byte(kb.root)
    for fragment in (*CANARY_FRAGMENTS, "heron logbook"):
        assert fragment.encode() not in everything, fragment
    status = json.loads(run("index", "status", "--json").stdout)
    assert status["sessions"] == 1


def test_forget_asks_for_confirmation_and_refuses_unknown(kb, run):
    session = _make(kb, run, "ana-ruiz", "keep", "Screens.", "Rake.")
    declined = run("forget", "--session", session.id, input="n\n")
    assert declined.exit_code == 1 and kb.session_dir(session.id).exists()
    assert run("forget", "--session", "no-such-session", "--yes").exit_code == 1
    assert run("forget").exit_code == 2
