"""Every input refused cleanly: each trigger of the validation issue gets a one-line message
that names the file (and the line where there is one), exit 1, no traceback, and nothing left
behind. Real ffmpeg and the real `tacit transcribe` for the silence guard (whose point is that
the Whisper model is never run on silence; benchmarks/silence.py shows what it would write)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tacit.capture import audio, formats
from tacit.core import fileio, timefmt, validation
from tacit.core.errors import TacitError
from tacit.records import media, sessions, transcript_exports
from tacit.records.transcript import Segment, Transcript

from .conftest import FIXTURES, _refused, need

GUIDE = FIXTURES / "guides" / "small.md"
# ~300 bytes that expand to 9^9 items if anything walks them (the alias bomb)
BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
    f"*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
    f"*{chr(97 + i)}]\n"
    for i in range(8)
)


def _no_sessions(kb) -> None:
    assert not any(kb.sessions_dir.iterdir()), list(kb.sessions_dir.iterdir())


# ---------------------------------------------------------------- transcripts


def _segments(*values: str) -> str:
    return '{"segments": [' + ", ".join(values) + "]}"


JSON_TRIGGERS = {
    "nan": (_segments('{"start": NaN, "end": 2, "text": "a"}'), "segment 1: start"),
    "infinity": (_segments('{"start": 0, "end": Infinity, "text": "a"}'), "segment 1: end"),
    "1e308": (_segments('{"start": 0, "end": 1e308, "text": "a"}'), "segment 1: end"),
    "1e400": (_segments('{"start": 0, "end": 1e400, "text": "a"}'), "segment 1: end"),
    "negative": (_segments('{"start": -5, "end": 2, "text": "a"}'), "segment 1: start"),
    "nested 100k deep": ("[" * 100_000 + "]" * 100_000, "nested"),
    "5000-digit integer": (
        _segments('{"start": ' + "9" * 5000 + ', "end": 1, "text": "a"}'),
        "digits",
    ),  # fmt: skip
    "words with nan": (
        _segments('{"start": 0, "end": 2, "text": "a", "words": [{"start": 0, "end": NaN}]}'),
        "segment 1: word 1: end",
    ),
    "text a list": (_segments('{"start": 0, "end": 2, "text": [1, 2]}'), "segment 1"),
}
TEXT_TRIGGERS = {
    "vtt seconds of 75": (
        "t.vtt",
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nfine\n\n00:01:75.000 --> 00:01:80.000\nno\n",
        "line 6: cue 2: impossible time",
    ),
    "vtt cues out of order": (
        "t.vtt",
        "WEBVTT\n\n00:00:05.000 --> 00:00:06.000\nlater\n\n00:00:01.000 --> 00:00:02.000\nfirst\n",
        "line 6: cue 2: starts (1.000 s) before cue 1",
    ),
    "srt minutes of 61": (
        "t.srt",
        "1\n00:61:00,000 --> 00:61:01,000\nno\n",
        "line 2: cue 1: impossible time",
    ),
    "txt stamp 99:99:99": ("t.txt", "[00:00:01] A: fine\n[99:99:99] B: no\n", "line 2: impossible"),
}


@pytest.mark.parametrize("name", sorted(JSON_TRIGGERS))
def test_json_transcripts_with_bad_numbers_are_refused_before_a_session(maria, run, tmp_path, name):
    text, part = JSON_TRIGGERS[name]
    path = tmp_path / "t.json"
    path.write_text(text)
    _refused(run("import", path, "--expert", "maria-lopez"), str(path), part)
    _no_sessions(maria)


@pytest.mark.parametrize("name", sorted(TEXT_TRIGGERS))
def test_impossible_clock_times_are_refused_at_their_line(maria, run, tmp_path, name):
    file_name, text, part = TEXT_TRIGGERS[name]
    path = tmp_path / file_name
    path.write_text(text)
    _refused(run("import", path, "--expert", "maria-lopez"), str(path), part)
    _no_sessions(maria)


def test_a_transcript_json_edited_to_nan_is_a_message_for_every_reader(maria, run, tmp_path):
    good = tmp_path / "t.vtt"
    good.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Maria>Check the strainer.\n")
    session_id = run("import", good, "--expert", "maria-lopez").stdout.strip()
    path = maria.session_dir(session_id) / "transcript.json"
    data = json.loads(path.read_text())
    for bad in ("NaN", "-1", "1e308", '"abc"'):
        data["segments"][0]["end"] = "__BAD__"
        path.write_text(json.dumps(data).replace('"__BAD__"', bad))
        _refused(run("export", session_id), str(path), "segment 1: end")
        _refused(run("speakers", session_id), str(path))


def test_speaker_names_with_line_breaks_cannot_break_tacit_s_own_exports(maria, run, tmp_path):
    path = tmp_path / "t.json"
    path.write_text(_segments('{"start": 1, "end": 2, "text": "one\\ntwo", "speaker": "Ma\\nria"}'))
    session_id = run("import", path, "--expert", "maria-lopez").stdout.strip()
    for fmt in ("vtt", "srt", "json"):
        out = tmp_path / f"out.{fmt}"
        assert run("export", session_id, "--format", fmt, "-o", out).exit_code == 0
        back = formats.read(out)
        assert [(s.speaker, s.text) for s in back.segments] == [("Ma ria", "one two")]


NAMES = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=30)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.floats(0, validation.MAX_SECONDS - 10, allow_nan=False),
            st.floats(0, 10, allow_nan=False),
            NAMES.filter(lambda s: any(c.isalpha() for c in s)),
            NAMES.filter(lambda s: any(c.isalnum() for c in s)),
        ),
        min_size=1,
        max_size=5,
    ),
    st.sampled_from(["vtt", "srt", "json"]),
)
def test_every_transcript_tacit_writes_it_reads_back(rows, fmt):
    segments = tuple(
        Segment(round(s, 3), round(s + d, 3), speaker, text) for s, d, speaker, text in rows
    )
    written = transcript_exports.WRITERS[fmt](Transcript(segments=segments))
    try:
        back = formats.READERS[fmt](written, f"export.{fmt}")
    except TacitError as exc:
        # text of markup-only characters can come back empty: that is the one refusal allowed
        assert "no text" in exc.message or "no subtitles" in exc.message, exc.message
        return
    for seg in back.segments:
        assert 0 <= seg.start <= seg.end <= validation.MAX_SECONDS
        assert "\n" not in seg.speaker and "\n" not in seg.text


def test_writers_refuse_times_they_could_not_read_back():
    for bad in (-1.0, float("nan"), float("inf"), 1e308):
        with pytest.raises(TacitError, match="cannot write the time"):
            timefmt.cue(bad)


# ---------------------------------------------------------------- records


EXPERT_TRIGGERS = {
    "leaving_on 2027-13-45": ("leaving_on: 2027-13-45\n", "line 3", "month must be in 1..12"),
    "leaving_on 9999-12-31": ("leaving_on: 9999-12-31\n", "line 3", "leaving_on: must be a date"),
    "an alias bomb": (BOMB, "line 3", "are not allowed"),
    "a 5000-digit number": ("attrition: " + "9" * 5000 + "\n", "line 3", "digits"),
    "a name that is a list": ("", "line 2", "name: "),
}


@pytest.mark.parametrize("name", sorted(EXPERT_TRIGGERS))
def test_broken_expert_files_are_one_line_errors(maria, run, name):
    extra, line, part = EXPERT_TRIGGERS[name]
    path = maria.experts_dir / "sam.md"
    head = "name: [Sam, Okafor]\n" if name == "a name that is a list" else "name: Sam\n"
    path.write_text(f"---\n{head}{extra}---\n# Sam\n")
    message = _refused(run("expert", "list"), str(path), part)  # a bomb is refused, not walked
    assert line in message


SESSION_TRIGGERS = {
    "answer at 'abc'": (("answers", 0, "at"), "abc", "answers[0].at"),
    "answer at .nan": (("answers", 0, "at"), float("nan"), "answers[0].at"),
    "media offset 'x'": (("media", 0, "offset"), "x", "media[0].offset"),
    "media offset 1e300": (("media", 0, "offset"), 1e300, "media[0].offset"),
    "step at -1": (("steps", 0, "at"), -1, "steps[0].at"),
    "media file ../../x": (("media", 0, "file"), "../../etc/passwd", "media[0].file"),
    "media file absolute": (("media", 0, "file"), "/etc/passwd", "media[0].file"),
    "status maybe": (("status",), "maybe", "status"),
    "answers a mapping": (("answers",), {"a": 1}, "answers"),
}


@pytest.mark.parametrize("name", sorted(SESSION_TRIGGERS))
def test_broken_session_files_name_the_file_line_and_field(maria, run, name):
    loc, value, field = SESSION_TRIGGERS[name]
    session = sessions.create(
        maria,
        "maria-lopez",
        "interview",
        "walk",
        answers=(sessions.Answer("pumps/q1", "Pumps", "Which pump?", at=3.0),),
        media=(sessions.Media("media/a.ogg", "0" * 64, 1.0, "given"),),
        steps=(sessions.Step(1, 2.0, "open the valve"),),
    )
    path = sessions.session_path(maria, session.id)
    meta, _body = fileio.read_front_matter(path)
    target = meta
    for part in loc[:-1]:
        target = target[part]
    target[loc[-1]] = value
    path.write_text("---\n" + yaml.safe_dump(meta, sort_keys=False) + "---\n\nbody\n")
    lines = path.read_text().splitlines()
    message = _refused(run("session", "list"), str(path), field)
    line = int(message.split(": line ")[1].split(":")[0])
    key = str(loc[-1]) if isinstance(loc[-1], str) else str(loc[-2])
    assert lines[line - 1].lstrip(" -").startswith(f"{key}:"), (message, lines[line - 1])
    _refused(run("export", session.id), str(path), field)


ANSWERS_TRIGGERS = {
    "text a list": ("pumps/q1:\n  text: [1, 2]\n", "line 1: text must be text"),
    "status a mapping": ("pumps/q1:\n  text: x\n  status: {a: 1}\n", "status must be text"),
    "an alias bomb": (BOMB, "are not allowed"),
    "not YAML": ("pumps/q1: [\n", "line 2"),
}


@pytest.mark.parametrize("name", sorted(ANSWERS_TRIGGERS))
def test_broken_answers_files_leave_no_session(maria, run, tmp_path, name):
    text, part = ANSWERS_TRIGGERS[name]
    path = tmp_path / "answers.yaml"
    path.write_text(text)
    result = run(
        "interview", "start", "--expert", "maria-lopez", "--guide", "small", "--answers", path
    )
    _refused(result, str(path), part)
    _no_sessions(maria)


STEPS_TRIGGERS = {
    "at .nan": ("steps:\n  - action: open it\n    at: .nan\n", "step 1: at must be"),
    "at 1e300": ("steps:\n  - action: open it\n    at: 1.0e+300\n", "step 1: at must be"),
    "action a list": ("steps:\n  - action: [a, b]\n", "step 1"),
    "an alias bomb in steps": (BOMB.replace("a: &a", "steps: &a"), "are not allowed"),
}


@pytest.mark.parametrize("name", sorted(STEPS_TRIGGERS))
def test_broken_observation_steps_leave_no_session(maria, run, tmp_path, name):
    text, part = STEPS_TRIGGERS[name]
    path = tmp_path / "steps.yaml"
    path.write_text(text)
    result = run(
        "observe", "start", "--expert", "maria-lopez", "--guide", "job-breakdown",
        "--task", "reagent", "--answers", path,
    )  # fmt: skip
    _refused(result, str(path), part)
    _no_sessions(maria)


CONFIG_TRIGGERS = {
    "attrition_days [1,2,'x']": ("attrition_days", '[1, 2, "x"]', "risk.attrition_days[2]"),
    "attrition_days [3,2,1]": ("attrition_days", "[3, 2, 1]", "increasing"),
    "redaction.terms [1,2]": ("terms", "[1, 2]", "redaction.terms[0]"),
    "redaction pattern ''": ("patterns", '[""]', "redaction.patterns[0]"),
    "redaction pattern 'x*'": ("patterns", '["x*"]', "matches empty text"),
    "threads -1": ("threads", "-1", "models.threads"),
    "threads 100000": ("threads", "100000", "models.threads"),
    "chunk_words 0": ("chunk_words", "0", "index.chunk_words"),
    "chunk_words -5": ("chunk_words", "-5", "index.chunk_words"),
    "relevance_threshold nan": ("relevance_threshold", "nan", "index.relevance_threshold"),
    "lexical_threshold 2": ("lexical_threshold", "2", "index.lexical_threshold"),
    "vocabulary [[1]]": ("vocabulary", "[[1]]", "models.vocabulary[0]"),
    "high 1000": ("high", "1000", "risk.high"),
}


@pytest.mark.parametrize("name", sorted(CONFIG_TRIGGERS))
def test_bad_config_values_name_the_line_and_key_for_every_command(kb, run, name):
    key, value, part = CONFIG_TRIGGERS[name]
    path = kb.root / "tacit.toml"
    lines = path.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(f"{key} ="))
    lines[at] = f"{key} = {value}"
    path.write_text("\n".join(lines) + "\n")
    for command in (("expert", "list"), ("session", "list"), ("risk",)):
        message = _refused(run(*command), str(path), part)
        assert "line " in message or "relevance" in part


# ---------------------------------------------------------------- command-line values


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e300"])
def test_offset_must_be_a_finite_time(maria, run, tmp_path, value):
    need("ffmpeg")
    recording = tmp_path / "tone.ogg"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=f=440:d=1", str(recording)],
        check=True,
    )
    result = run("transcribe", recording, "--expert", "maria-lopez", "--offset", value)
    _refused(result, "--offset")
    answers = tmp_path / "a.yaml"
    answers.write_text("pumps/q1: fine\n")
    result = run(
        "interview", "start", "--expert", "maria-lopez", "--guide", "small", "--answers", answers,
        "--consent", "yes", "--recording", recording, "--offset", value,
    )  # fmt: skip
    _refused(result, "--offset")
    _no_sessions(maria)


def test_plan_weeks_and_pack_start_are_bounded(maria, run):
    _refused(run("plan", "--weeks", "1000000"), "--weeks")
    result = run(
        "pack", "new", "p", "--role", "r", "--protege", "a", "--mentor", "b",
        "--start", "9999-12-20", "--weeks", "4",
    )  # fmt: skip
    _refused(result, "--start")
    assert not (maria.packs_dir / "p").exists()
    _refused(run("expert", "add", "Sam", "--leaving-on", "9999-12-31"), "--leaving-on")
    assert not (maria.experts_dir / "sam.md").exists()


def test_a_pack_edited_to_start_in_year_9999_is_refused_at_its_line(maria, run):
    result = run(
        "pack", "new", "p", "--role", "r", "--protege", "a", "--mentor", "b",
        "--start", "2027-01-04", "--weeks", "4",
    )  # fmt: skip
    assert result.exit_code == 0, result
    path = maria.packs_dir / "p" / "pack.md"
    path.write_text(path.read_text().replace("2027-01-04", "9999-12-20"))
    for command in (("pack", "build", "p"), ("pack", "status", "p"), ("report",)):
        _refused(run(*command), str(path), "start must be from")


def test_export_to_a_folder_is_refused(maria, run, tmp_path):
    good = tmp_path / "t.vtt"
    good.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nCheck the strainer.\n")
    session_id = run("import", good, "--expert", "maria-lopez").stdout.strip()
    _refused(run("export", session_id, "-o", tmp_path), "is a folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kb", "t.vtt"]


def test_interview_with_a_bad_recording_leaves_no_session_on_any_try(maria, run, tmp_path):
    answers = tmp_path / "a.yaml"
    answers.write_text("pumps/q1: fine\n")
    bad = tmp_path / "bad.ogg"
    bad.write_text("not audio at all\n" * 20)
    for _try in range(3):
        result = run(
            "interview", "start", "--expert", "maria-lopez", "--guide", "small",
            "--answers", answers, "--consent", "yes", "--recording", bad,
        )  # fmt: skip
        _refused(result, str(bad))
    _no_sessions(maria)


# ---------------------------------------------------------------- silence


def _noise(tmp_path: Path, name: str, source: str, seconds: int) -> Path:
    need("ffmpeg")
    path = tmp_path / f"{name}.flac"  # lossless: the noise keeps its level
    command = ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", source, "-t", str(seconds)]
    subprocess.run([*command, "-ac", "1", "-sample_fmt", "s16", str(path)], check=True)
    return path


# pink noise of amplitude 0.01 measures -54 dBFS RMS (ffmpeg astats)
QUIET = {
    "digital silence": "anullsrc=r=16000:cl=mono",
    "pink noise at -54 dBFS": "anoisesrc=color=pink:amplitude=0.01:sample_rate=16000:seed=7",
}


@pytest.mark.parametrize("name", sorted(QUIET))
def test_three_minutes_of_silence_or_low_noise_yield_no_text(maria, run, tmp_path, name):
    path = _noise(tmp_path, name.split()[0], QUIET[name], 180)
    scan = audio.scan(media.probe(path))
    assert not scan.mix.active().any()  # the energy says: no speech, so the model is skipped
    result = run("transcribe", path, "--expert", "maria-lopez", "--json")
    assert result.exit_code == 0, result
    report = json.loads(result.stdout)
    assert report["segments"] == 0 and report["duration"] == pytest.approx(180, abs=0.1)
    transcript = json.loads((maria.session_dir(report["id"]) / "transcript.json").read_text())
    assert transcript["segments"] == []


def test_speech_after_silence_is_still_heard(tmp_path):
    """The floor does not cut quiet rooms: the speech fixtures stay far above it."""
    for name in ("long_silence.ogg", "two_voices.flac", "vocabulary.ogg"):
        scan = audio.scan(media.probe(FIXTURES / "audio" / name))
        assert scan.mix.active().mean() > 0.2, name
