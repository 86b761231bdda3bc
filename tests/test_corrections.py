"""Correcting transcripts: `tacit transcript edit` through a scripted $EDITOR, `fix` with its
preview, the history and its undo, renames in the same history, the terms offered for the
vocabulary, and an edited word found by `ask` after `index`. No model but the embedder."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tacit.capture import readable, retime, terms
from tacit.records import sessions, transcript_exports
from tacit.records import transcript as transcript_model
from tacit.records.transcript import Segment, Transcript, Word

TACIT = str(Path(sys.executable).parent / "tacit")

TURNS = [
    (0.5, 4.0, "SPEAKER_1", "What keeps the pipes from freezing in winter?"),
    (4.5, 10.5, "SPEAKER_2", "The tray-skating on the north line, and the tube next hand."),
    (11.0, 14.0, "SPEAKER_1", "Who checks the tray-skating panel?"),
    (14.5, 18.5, "SPEAKER_2", "Ken Ito does, every Monday before the first shift."),
]


def _words(text: str, start: float, end: float) -> tuple[Word, ...]:
    tokens = text.split()
    step = (end - start) / len(tokens)
    return tuple(
        Word(round(start + i * step, 3), round(start + (i + 1) * step, 3), t, 0.9)
        for i, t in enumerate(tokens)
    )


def _session(kb, label: str = "heating", turns=TURNS, expert: str = "maria-lopez") -> str:
    """A session with a transcript that has word times, as `tacit transcribe` writes it."""
    session = sessions.create(kb, expert, "interview", label)
    segments = tuple(Segment(s, e, who, text, _words(text, s, e)) for s, e, who, text in turns)
    found = Transcript(segments=segments, duration=turns[-1][1], media_file="media/a.wav")
    transcript_exports.save_with_exports(kb, session.id, found)
    return session.id


@pytest.fixture
def expert(run):
    assert run("expert", "add", "Maria Lopez").exit_code == 0
    return "maria-lopez"


def _saved(kb, session_id: str) -> Transcript:
    return transcript_model.of_session(kb, session_id)


def _raw(kb, session_id: str) -> bytes:
    return transcript_model.path(kb, session_id).read_bytes()


@pytest.fixture
def editor(tmp_path, monkeypatch):
    """editor(code): $EDITOR becomes a Python script that runs `code` with `text` the file's
    text (and writes back what `text` is after)."""
    count = iter(range(100))

    def make(code: str) -> None:
        script = tmp_path / f"editor{next(count)}.py"
        script.write_text(
            "import pathlib, sys\n"
            "path = pathlib.Path(sys.argv[1])\n"
            "text = path.read_text(encoding='utf-8')\n"
            f"{code}\n"
            "path.write_text(text, encoding='utf-8')\n"
        )
        monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
        monkeypatch.delenv("VISUAL", raising=False)

    return make


def _one_line_error(result, *fragments: str) -> None:
    assert result.exit_code == 1, result
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


# ------------------------------------------------------------------ edit


def test_edit_changes_text_and_speaker_keeps_times_and_can_be_undone(kb, run, expert, editor):
    session_id = _session(kb)
    before = _saved(kb, session_id)
    editor(
        "text = text.replace('The tray-skating on', 'The trace heating on')\n"
        "text = text.replace('SPEAKER_2: Ken Ito', 'Maria Lopez: Ken Ito')"
    )
    result = run("transcript", "edit", session_id)
    assert result.exit_code == 0, result
    after = _saved(kb, session_id)
    assert [(s.start, s.end) for s in after.segments] == [(s.start, s.end) for s in before.segments]
    edited, renamed = after.segments[1], after.segments[3]
    assert edited.text == "The trace heating on the north line, and the tube next hand."
    assert renamed.speaker == "Maria Lopez" and renamed.words == before.segments[3].words
    # words kept keep the times heard; the new ones share the span of the one they replace
    old = before.segments[1].words
    assert edited.words[0] == old[0] and edited.words[3:] == old[2:]
    new = edited.words[1:3]
    assert [w.word for w in new] == ["trace", "heating"] and all(w.approximate for w in new)
    assert new[0].start == old[1].start and new[1].end == old[1].end
    vtt = (kb.session_dir(session_id) / "transcript.vtt").read_text()
    assert "<v Maria Lopez>Ken Ito does" in vtt and "trace heating" in vtt
    assert "tacit transcript edit" in result.stderr and "--undo" in result.stderr
    assert "'trace heating'" in result.stderr  # offered for the vocabulary

    listed = run("transcript", "history", session_id, "--json")
    (entry,) = json.loads(listed.stdout)
    assert entry["change"] == "edit" and entry["undoable"] and len(entry["changes"]) == 2
    assert entry["changes"] == [
        "[00:00:04.500] 'tray-skating' -> 'trace heating'",
        "[00:00:14.500] speaker SPEAKER_2 -> Maria Lopez",
    ]

    undone = run("transcript", "edit", session_id, "--undo")
    assert undone.exit_code == 0, undone
    restored = _saved(kb, session_id)
    assert restored.segments == before.segments and restored.history == ()
    _one_line_error(run("transcript", "edit", session_id, "--undo"), "no recorded change")


def test_a_line_split_at_a_time_inside_its_segment(kb, run, expert, editor):
    session_id = _session(kb)
    before = _saved(kb, session_id).segments[1]
    editor(
        "text = text.replace('north line, and the tube next hand.', "
        "'north line,\\n[00:00:08.000] SPEAKER_2: and the tubes expand.')"
    )
    result = run("transcript", "edit", session_id)
    assert result.exit_code == 0, result
    segments = _saved(kb, session_id).segments
    assert len(segments) == 5
    first, second = segments[1], segments[2]
    assert (first.start, first.end, second.start, second.end) == (4.5, 8.0, 8.0, 10.5)
    assert first.text == "The tray-skating on the north line,"
    assert second.text == "and the tubes expand."
    assert first.words == tuple(w for w in before.words if w.end <= 8.0)
    assert all(w.start >= 8.0 and w.end <= 10.5 for w in second.words)
    cut = second.words[0]  # 'and' was heard from 7.773 s: the cut holds it in its piece
    assert (cut.word, cut.start, cut.approximate) == ("and", 8.0, True)
    assert run("transcript", "edit", session_id, "--undo").exit_code == 0
    assert _saved(kb, session_id).segments[1] == before


BROKEN = {
    "arrow": (
        "text = text.replace('[00:00:04.500 --> 00:00:10.500]', '[00:00:04.500 -> 00:00:10.500]')",
        "line 10: not a segment line",
    ),
    "times": (
        "text = text.replace('[00:00:11.000 --> 00:00:14.000]', '[00:00:11.000 --> 00:00:15.000]')",
        "line 11: times [00:00:11.000 --> 00:00:15.000] changed",
    ),
    "lost line": (
        "lines = text.splitlines(True); del lines[9]; text = ''.join(lines)",
        "line 10: segment 2 [00:00:04.500 --> 00:00:10.500] is missing",
    ),
    "split outside": (
        "text = text.replace('north line,', 'north line,\\n[00:00:12.000] SPEAKER_2: more')",
        "line 11: split time [00:00:12.000] is not inside",
    ),
    "bad speaker": (
        "text = text.replace('SPEAKER_2: Ken Ito', '<b>x</b>: Ken Ito')",
        "line 12: speaker name",
    ),
    "emptied": ("text = ''", "holds no segment line"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_edit_is_refused_with_its_line_number_and_changes_nothing(
    kb, run, expert, editor, case
):
    session_id = _session(kb)
    before = _raw(kb, session_id)
    code, message = BROKEN[case]
    editor(code)
    result = run("transcript", "edit", session_id)
    _one_line_error(result, message, "nothing changed")
    assert _raw(kb, session_id) == before


def test_an_editor_that_fails_or_writes_no_text_changes_nothing(
    kb, run, expert, editor, monkeypatch
):
    session_id = _session(kb)
    before = _raw(kb, session_id)
    monkeypatch.setenv("EDITOR", "false")
    _one_line_error(run("transcript", "edit", session_id), "Editing failed", "nothing changed")
    editor("path.write_bytes(b'\\xff\\xfe half'); sys.exit(0)")
    _one_line_error(run("transcript", "edit", session_id), "not UTF-8")
    editor("pass")  # saved as it was: no change, nothing written
    result = run("transcript", "edit", session_id)
    assert result.exit_code == 0 and "no changes" in result.stderr
    assert _raw(kb, session_id) == before
    _one_line_error(run("transcript", "edit", "no-such-session"), "no-such-session")


def test_an_edit_is_refused_when_the_transcript_changed_meanwhile(kb, run, expert, editor):
    session_id = _session(kb)
    # the editor is open while another command renames a speaker
    editor(
        "import subprocess\n"
        f"subprocess.run([{TACIT!r}, 'speakers', {session_id!r}, "
        "'--rename', 'SPEAKER_1=Dev Patel'], check=True, capture_output=True)\n"
        "text = text.replace('tray-skating on', 'trace heating on')"
    )
    result = run("transcript", "edit", session_id)
    _one_line_error(result, "changed while you edited it")
    saved = _saved(kb, session_id)
    assert saved.speakers == ["Dev Patel", "SPEAKER_2"] and "tray-skating" in saved.segments[1].text


def test_readable_form_round_trips_and_keeps_odd_imported_names():
    odd = Transcript(segments=(Segment(1.0, 2.0, "Dr: Who", "Hi: there."),))
    plan = readable.parse(readable.render(odd, "s"), odd)
    assert plan == [readable.Planned(0, (readable.Part(1.0, "Dr: Who", "Hi: there."),))]
    assert readable.seconds("01:02:03.5") == 3723.5 and readable.seconds("1:2:3") is None


def test_new_words_get_times_inside_the_span_they_replace():
    heard = _words("the tube next hand today", 10.0, 15.0)
    made = retime.words_for("the tubes expand today", heard, 10.0, 15.0)
    assert [w.word for w in made] == ["the", "tubes", "expand", "today"]
    assert made[0] == heard[0] and made[3] == heard[4]
    assert (made[1].start, made[2].end) == (heard[1].start, heard[3].end)
    assert made[1].approximate and made[2].approximate and not made[0].approximate
    assert retime.words_for("anything", (), 0.0, 1.0) == ()  # no word times: none made up


# ------------------------------------------------------------------ fix


def test_fix_all_previews_then_replaces_in_every_session(kb, run, expert):
    first = _session(kb, "one")
    other_turns = [(1.0, 5.0, "SPEAKER_1", "Tray-skating keeps the tank warm.")]
    second = _session(kb, "two", other_turns)
    untouched = _session(kb, "three", [(1.0, 3.0, "SPEAKER_1", "Nothing to fix here.")])
    kept = {s: _raw(kb, s) for s in (first, second, untouched)}

    preview = run("transcript", "fix", "tray-skating", "trace heating", "--all", "--dry-run")
    assert preview.exit_code == 0, preview
    assert preview.stdout.count("  - ") == 3 and preview.stdout.count("  + ") == 3
    assert "  + Trace heating keeps the tank warm." in preview.stdout  # a sentence's start
    declined = run("transcript", "fix", "tray-skating", "trace heating", "--all", input="n\n")
    assert declined.exit_code == 1 and "  - Who checks the tray-skating panel?" in declined.stdout
    assert {s: _raw(kb, s) for s in kept} == kept

    done = run("transcript", "fix", "tray-skating", "trace heating", "--all", input="y\n")
    assert done.exit_code == 0, done
    assert "fixed 3 segment(s) in 2 session(s)" in done.stderr
    assert _saved(kb, second).segments[0].text == "Trace heating keeps the tank warm."
    assert "trace heating panel" in _saved(kb, first).segments[2].text
    assert _raw(kb, untouched) == kept[untouched]
    (entry,) = _saved(kb, first).history
    assert entry["change"] == "fix" and entry["wrong"] == "tray-skating"
    assert len(entry["hunks"]) == 2
    again = run("transcript", "fix", "tray-skating", "trace heating", "--all", "--json")
    assert json.loads(again.stdout)["matches"] == []
    assert run("transcript", "edit", second, "--undo").exit_code == 0
    assert _raw(kb, second) == kept[second]


def test_fix_needs_one_target_and_whole_words(kb, run, expert):
    session_id = _session(kb)
    for both_or_neither in ([], ["--all", "--session", session_id]):
        refused = run("transcript", "fix", "a", "b", *both_or_neither)
        assert refused.exit_code == 2 and "give --session ID or --all" in refused.stderr
    _one_line_error(run("transcript", "fix", "a", "b", "--session", "nope"), "nope")
    # 'tube' inside 'tubes' is not the word 'tube'; runs of spaces match
    shown = run("transcript", "fix", "tube  next hand", "tubes expand", "--session", session_id,
                "--json", "--yes")  # fmt: skip
    (match,) = json.loads(shown.stdout)["matches"]
    assert match["after"] == "The tray-skating on the north line, and the tubes expand."
    none = run("transcript", "fix", "tube", "pipe", "--session", session_id, "--dry-run")
    assert "  - " not in none.stdout


# ------------------------------------------------------------------ vocabulary that learns


def test_corrected_terms_are_offered_and_learned_into_the_experts_vocabulary(kb, run, expert):
    session_id = _session(kb)
    kb.config.models["vocabulary"] = ["Ken Ito"]
    fixed = run("transcript", "fix", "tray-skating", "trace heating", "--all", "--yes")
    assert fixed.exit_code == 0 and "'trace heating'" in fixed.stderr
    assert "transcript terms --learn" in fixed.stderr
    found = json.loads(run("transcript", "terms", "--json").stdout)["terms"]
    assert found == [
        {"term": "trace heating", "heard": ["tray-skating"], "sessions": [session_id],
         "experts": ["maria-lopez"]}
    ]  # fmt: skip
    learned = json.loads(run("transcript", "terms", "--learn", "--json").stdout)
    assert learned["learned"] == {"maria-lopez": ["trace heating"]}
    assert json.loads(run("expert", "show", "maria-lopez", "--json").stdout)["vocabulary"] == [
        "trace heating"
    ]
    assert json.loads(run("transcript", "terms", "--json").stdout)["terms"] == []
    # what that expert's next transcription is given: the KB's terms, then the expert's own
    assert terms.vocabulary_for(kb, "maria-lopez") == ["Ken Ito", "trace heating"]
    assert terms.vocabulary_for(kb, None) == ["Ken Ito"]
    assert not terms.is_term("the") and terms.is_term("7741-KX") and terms.is_term("Ito")


# ------------------------------------------------------------------ the index follows


def test_an_edited_word_is_found_by_ask_after_index(kb, run, expert, editor):
    session_id = _session(kb)
    assert run("index").exit_code == 0
    editor("text = text.replace('the tube next hand.', 'the tubes expand in the sun.')")
    assert run("transcript", "edit", session_id).exit_code == 0
    assert run("index").exit_code == 0
    asked = run("ask", "When do the tubes expand?", "--json", "--no-log")
    assert asked.exit_code == 0, asked
    top = json.loads(asked.stdout)["results"][0]
    assert top["session"] == session_id and "tubes expand" in top["text"]
    assert "tube next hand" not in json.dumps(json.loads(asked.stdout))
