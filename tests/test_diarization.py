"""Who said it, with the real parts: Silero VAD, resemblyzer's speaker encoder, Whisper tiny.en
and ffmpeg, on the espeak-ng fixtures (tests/fixtures/make_audio.sh)."""

from __future__ import annotations

import json
from pathlib import Path

from tacit.capture import diarize, library, media
from tacit.capture import transcript as transcript_model

AUDIO = Path(__file__).parent / "fixtures" / "audio"
# two_voices.flac: four sentences, voices A B A B. Measured (benchmarks/diarization.py): 46 of
# 46 words right, two speakers found. The bound leaves room for 7 words on the wrong side of a
# change; a diarization that hears one voice, or labels at chance, scores 0.5-0.6.
WORDS_RIGHT_BOUND = 0.85


def _sentences(transcript) -> list[list[tuple[str, float]]]:
    """The transcript's words, split into sentences at the fixture's 0.8 s pauses."""
    words = sorted((w.start, w.end, s.speaker) for s in transcript.segments for w in s.words)
    groups: list[list[tuple[str, float]]] = [[]]
    for i, (start, _end, speaker) in enumerate(words):
        if i and start - words[i - 1][1] >= 0.5:
            groups.append([])
        groups[-1].append((speaker, start))
    return groups


def _words_right(groups) -> float:
    """Share of words whose speaker is their voice's, after the best of the two mappings."""
    voice = [i % 2 for i, group in enumerate(groups) for _ in group]
    said = [speaker for group in groups for speaker, _ in group]
    names = sorted(set(said))
    best = 0.0
    for first in names:
        hits = sum((s == first) == (v == 0) for s, v in zip(said, voice, strict=True))
        best = max(best, hits / len(said))
    return best


def test_a_mono_mix_of_two_voices_gets_two_speakers_with_most_words_right(run, kb):
    assert run("expert", "add", "Maria Lopez").exit_code == 0
    result = run(
        "transcribe", AUDIO / "two_voices.flac", "--expert", "maria-lopez", "--json"
    )  # fmt: skip
    assert result.exit_code == 0, result
    summary = json.loads(result.stdout)
    assert summary["speakers"] == ["SPEAKER_1", "SPEAKER_2"]
    assert summary["speakers_found_by"] == "diarization"
    saved = transcript_model.load(library.transcript_path(kb, summary["id"]))
    groups = _sentences(saved)
    assert len(groups) == 4, groups
    assert _words_right(groups) >= WORDS_RIGHT_BOUND, groups
    # every word has a speaker, and a segment holds one speaker's words only
    assert all(seg.speaker in ("SPEAKER_1", "SPEAKER_2") for seg in saved.segments)
    # the transcript says how its speakers were found
    found = saved.settings["speakers"]
    assert found["found_by"] == "diarization" and found["found"] == 2
    assert "resemblyzer" in found["method"] and found["requested"] is None


def test_one_voice_gets_one_speaker():
    samples = media.decode(AUDIO / "vocabulary.ogg", 1)[:, 0]  # four sentences, one voice
    result = diarize.diarize(samples)
    assert result.count == 1
    assert {turn.speaker for turn in result.turns} == {0}


def test_the_speaker_count_given_wins():
    samples = media.decode(AUDIO / "vocabulary.ogg", 1)[:, 0]
    assert diarize.diarize(samples, num_speakers=2).count == 2


def test_two_channels_are_still_split_by_channel(run, kb):
    assert run("expert", "add", "Maria Lopez").exit_code == 0
    result = run(
        "transcribe", AUDIO / "interview_stereo.m4a", "--expert", "maria-lopez", "--json"
    )  # fmt: skip
    assert result.exit_code == 0, result
    summary = json.loads(result.stdout)
    assert summary["channels"] == "split" and summary["speakers_found_by"] == "channels"


def test_a_wrong_speaker_count_is_a_one_line_error(run, kb):
    assert run("expert", "add", "Maria Lopez").exit_code == 0
    flac = AUDIO / "two_voices.flac"
    for args, words in [
        (("--num-speakers", "9"), "from 1 to 6"),
        (("--num-speakers", "0"), "from 1 to 6"),
        (("--num-speakers", "2", "--diarize", "off"), "needs diarization"),
        (("--diarize", "maybe"), "auto, on or off"),
    ]:
        result = run("transcribe", flac, "--expert", "maria-lopez", *args)
        assert result.exit_code == 1, (args, result.stderr)
        assert words in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    stereo = run(
        "transcribe", AUDIO / "interview_stereo.m4a", "--expert", "maria-lopez",
        "--num-speakers", "2",
    )  # fmt: skip
    assert stereo.exit_code == 1 and "--channels mix" in stereo.stderr
    assert not list(kb.sessions_dir.glob("*")), "nothing was made for a refused request"


def test_an_old_transcript_without_speaker_settings_still_loads(tmp_path):
    old = {"segments": [{"start": 0.0, "end": 1.0, "speaker": "SPEAKER_1", "text": "Hello."}]}
    path = tmp_path / "transcript.json"
    path.write_text(json.dumps(old))
    loaded = transcript_model.load(path)
    assert loaded.speakers == ["SPEAKER_1"] and "speakers" not in loaded.settings
