"""Corrections kept over `tacit transcribe --force`: re-applied to the new words where they
still match, listed where they do not, or dropped with --discard-edits. The end-to-end test runs
the bundled tiny.en on a 15-second fixture (a few seconds)."""

from __future__ import annotations

import json
from pathlib import Path

from tacit.capture import history, reapply
from tacit.records.transcript import Segment, Transcript
from tests import test_corrections as base
from tests.test_corrections import _saved, _session, _words

editor, expert = base.editor, base.expert  # the fixtures, shared

AUDIO = Path(__file__).parent / "fixtures" / "audio"


def test_corrections_are_reapplied_to_new_words_where_they_still_match(kb, run, expert, editor):
    session_id = _session(kb)
    fixed = run("transcript", "fix", "tube next hand", "tubes expand", "--session", session_id,
                "--yes")  # fmt: skip
    assert fixed.exit_code == 0, fixed
    put_in = run("transcript", "fix", "the first shift", "the very first shift", "--session",
                 session_id, "--yes")  # fmt: skip
    assert put_in.exit_code == 0, put_in
    editor(
        "text = text.replace('SPEAKER_2: Ken Ito does', 'Maria Lopez: Ken Ito does')\n"
        "text = text.replace('every Monday', 'every Monday,\\n[00:00:17.000] SPEAKER_2: and')"
    )
    assert run("transcript", "edit", session_id).exit_code == 0
    old = _saved(kb, session_id)
    # the model again: other segment times, the same mistake once, the panel heard right now
    heard = [
        (0.4, 10.6, "SPEAKER_1", "What keeps the pipes from freezing in winter? The tray-skating "
                                 "on the north line, and the tube next hand."),
        (11.0, 14.1, "SPEAKER_1", "Who checks the trace heating panel?"),
        (14.4, 18.5, "SPEAKER_2", "Ken Ito does, every Monday before the first shift."),
    ]  # fmt: skip
    segments = [Segment(s, e, who, text, _words(text, s, e)) for s, e, who, text in heard]
    carried = reapply.carry(old, segments)
    texts = [s.text for s in carried.segments]
    assert texts[0].endswith("the tubes expand.") and "trace heating panel" in texts[1]
    assert carried.segments[2].speaker == "Maria Lopez"  # the speaker edit, on the new segment
    assert "before the very first shift." in texts[2]  # a word put in: found by its neighbours
    assert [(s.start, s.end) for s in carried.segments] == [(s, e) for s, e, _w, _t in heard]
    assert any("split or dropped" in w for w in carried.warnings), carried.warnings
    *kept, added = carried.history
    assert [e["change"] for e in kept] == ["fix", "fix", "edit"]
    assert not any(e["undoable"] for e in kept)
    assert added["change"] == "retranscribe" and added["not_reapplied"] == list(carried.warnings)
    # the re-applied corrections are one change that can be undone
    back = history.undo(Transcript(segments=carried.segments, history=carried.history), "s")
    assert [s.text for s in back.segments] == [t for _s, _e, _w, t in heard]
    discarded = reapply.carry(old, segments, discard=True)
    assert [s.text for s in discarded.segments] == [t for _s, _e, _w, t in heard]
    assert discarded.warnings == ()  # names still go with the voices they named (carry_names)
    assert "discarded" in discarded.history[-1]["what"]


def test_transcribe_force_keeps_the_edits_or_discards_them(kb, run, expert, editor):
    made = run("transcribe", AUDIO / "vocabulary.ogg", "--expert", expert, "--diarize", "off",
               "--json")  # fmt: skip
    assert made.exit_code == 0, made
    session_id = json.loads(made.stdout)["id"]
    heard = [s.text for s in _saved(kb, session_id).segments]
    assert "non-quist" in heard[2], heard  # what tiny.en hears in "the Nordquist test"
    fixed = run("transcript", "fix", "non-quist", "Nordquist", "--session", session_id, "--yes")
    assert fixed.exit_code == 0, fixed
    # an edit the new words cannot take: a split (segment times are the model's again)
    split_at = _saved(kb, session_id).segments[0].start + 1.0
    stamp = f"00:00:{split_at:06.3f}"
    editor(f"lines = text.splitlines(True); lines.insert(9, '[{stamp}] SPEAKER_1: more\\n')\n"
           "text = ''.join(lines)")  # fmt: skip
    assert run("transcript", "edit", session_id).exit_code == 0

    again = run("transcribe", session_id, "--force", "--json")
    assert again.exit_code == 0, again
    warnings = json.loads(again.stdout)["warnings"]
    assert len(warnings) == 1 and "split or dropped" in warnings[0], warnings
    kept = _saved(kb, session_id)
    assert "the Nordquist test" in kept.segments[2].text
    assert [s.text for s in kept.segments] != heard and len(kept.segments) == len(heard)
    changes = [(e["change"], e["undoable"]) for e in kept.history]
    assert changes == [("fix", False), ("edit", False), ("retranscribe", True)]

    assert run("transcribe", session_id, "--discard-edits").exit_code == 1
    dropped = run("transcribe", session_id, "--force", "--discard-edits", "--json")
    assert dropped.exit_code == 0, dropped
    assert [s.text for s in _saved(kb, session_id).segments] == heard
