"""One history for every change to a transcript: renames and merges in it with the edits and
fixes, an older tacit's rename log read into it, entries tacit did not write refused, and what
redaction masks masked there too."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from tacit.capture import history
from tacit.core.errors import TacitError
from tacit.records import transcript as transcript_model
from tacit.records import transcript_exports
from tacit.records.transcript import Transcript
from tests import test_corrections as base
from tests.test_corrections import _one_line_error, _raw, _saved, _session

editor, expert = base.editor, base.expert  # the fixtures, shared


def test_renames_and_merges_join_the_history_and_undo_in_order(kb, run, expert, editor):
    session_id = _session(kb)
    before = _saved(kb, session_id)
    assert run("speakers", session_id, "--rename", "SPEAKER_2=Maria Lopez").exit_code == 0
    editor("text = text.replace('tube next hand', 'tubes expand')")
    assert run("transcript", "edit", session_id).exit_code == 0
    merged = run("speakers", session_id, "--rename", "SPEAKER_1=Maria Lopez", "--merge")
    assert merged.exit_code == 0, merged
    changes = [e["change"] for e in json.loads(run("transcript", "history", session_id,
                                                   "--json").stdout)]  # fmt: skip
    assert changes == ["rename", "edit", "rename"]
    assert run("speakers", session_id, "--undo").exit_code == 0  # the merge
    # the last change is now an edit: `speakers --undo` says where to take it back
    _one_line_error(run("speakers", session_id, "--undo"), "transcript edit", "--undo")
    assert run("transcript", "edit", session_id, "--undo").exit_code == 0
    assert run("transcript", "edit", session_id, "--undo").exit_code == 0  # the first rename
    assert _saved(kb, session_id).segments == before.segments


def test_a_rename_log_of_an_older_tacit_moves_into_the_history(kb, run, expert):
    session_id = _session(kb)
    found = _saved(kb, session_id)
    renamed = found.rename_speakers({"SPEAKER_2": "Maria Lopez"})
    transcript_exports.save_with_exports(kb, session_id, replace(renamed, history=()))
    log = kb.session_dir(session_id) / "speaker-renames.jsonl"
    log.write_text(json.dumps({"at": "2026-01-01T10:00:00+00:00", "renames": [
        {"from": "SPEAKER_2", "to": "Maria Lopez", "segments": [1, 3]}]}) + "\n")  # fmt: skip
    listed = json.loads(run("transcript", "history", session_id, "--json").stdout)
    assert [(e["change"], e["at"]) for e in listed] == [("rename", "2026-01-01T10:00:00+00:00")]
    assert run("speakers", session_id, "--undo").exit_code == 0
    assert _saved(kb, session_id).segments == found.segments and not log.exists()


# ------------------------------------------------------------------ hand-made and redacted


def test_history_entries_not_written_by_tacit_are_refused_not_crashed(kb, run, expert):
    broken = Transcript(segments=(), history=({"change": "edit", "hunks": [{"at": "x"}]},))
    with pytest.raises(TacitError, match="not one tacit wrote"):
        history.undo(broken, "s")
    session_id = _session(kb)
    path = transcript_model.path(kb, session_id)
    data = json.loads(path.read_text())
    data["history"] = [
        {"change": "edit", "hunks": [7, {"before": "x", "after": []}]},
        {"change": "rename", "renames": [{"from": "A", "to": "B", "segments": 3}, "x"]},
        {"change": "fix", "hunks": "none", "right": ["not", "text"]},
    ]
    path.write_text(json.dumps(data))
    listed = run("transcript", "history", session_id, "--json")
    assert listed.exit_code == 0, listed
    assert [e["changes"] for e in json.loads(listed.stdout)] == [[], ["A -> B (0 segments)"], []]
    assert run("transcript", "terms", "--json").exit_code == 0
    before = _raw(kb, session_id)
    _one_line_error(run("transcript", "edit", session_id, "--undo"), "not one tacit wrote")
    assert _raw(kb, session_id) == before


def test_a_redacted_term_leaves_the_history_too(kb, run, expert, editor):
    session_id = _session(kb)
    editor("text = text.replace('Ken Ito does', 'Ken Ito of the lab does')")
    assert run("transcript", "edit", session_id).exit_code == 0
    toml = kb.root / "tacit.toml"
    toml.write_text(toml.read_text().replace("terms = []", 'terms = ["Ken Ito"]'))
    exported = run("export", session_id, "--format", "json")
    assert "Ken Ito" not in exported.stdout and "[redacted] of the lab" in exported.stdout
    toml.write_text(toml.read_text().replace("redact_originals = false", "redact_originals = true"))
    assert run("redact", session_id).exit_code == 0, "the originals rewritten"
    assert "Ken Ito" not in _raw(kb, session_id).decode()
    # what the edit changed can still be undone: back to the masked text heard before it
    assert run("transcript", "edit", session_id, "--undo").exit_code == 0
    assert _saved(kb, session_id).segments[3].text.startswith("[redacted] does, every Monday")
