"""Recordings with real ffmpeg: bad media, probing, channel similarity, silence, pieces, the guard
against hallucinated text, and --device cuda without a GPU. No speech model runs here."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest

from tacit.capture import audio, cleanup, decode, engine, pipeline
from tacit.capture.engine import Recognized
from tacit.core.errors import MediaError
from tacit.records import media
from tacit.records.sessions import Session
from tacit.records.transcript import Word

AUDIO = Path(__file__).parent / "fixtures" / "audio"
BAD = AUDIO / "bad"


@pytest.fixture
def expert(run):
    assert run("expert", "add", "Maria Lopez").exit_code == 0
    return "maria-lopez"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (AUDIO / "missing.wav", "missing.wav: no such file"),
        (BAD / "empty.wav", "empty.wav: the file is empty (0 bytes)"),
        (BAD / "not_audio.wav", "not_audio.wav: not a recording ffmpeg can read"),
        (BAD / "no_audio.mp4", "no_audio.mp4: no audio stream (it has only video)"),
        (BAD / "truncated.m4a", "decoded only 8.4 s of the 18.7 s its container declares"),
        (BAD / "corrupt.m4a", "the file is truncated or corrupt after 16.1 s"),
    ],
)
def test_bad_media_gets_its_own_message_exit_1_and_no_session(run, expert, kb, path, message):
    result = run("transcribe", path, "--expert", expert)
    assert result.exit_code == 1, result
    assert message in result.stderr
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.output
    assert list(kb.sessions_dir.iterdir()) == []  # refused before any session was made


def test_truncation_hint_and_ffmpeg_detail(run, expert):
    result = run("transcribe", BAD / "truncated.m4a", "--expert", expert)
    assert "hint: re-copy the recording from the recorder; --partial" in result.stderr
    assert "ffmpeg says:" in result.stderr


def test_bad_media_attached_to_an_existing_session(run, expert, kb):
    from tacit.records import sessions

    session = sessions.create(kb, expert, "interview", "exit")
    result = run("transcribe", session.id, "--media", BAD / "no_audio.mp4")
    assert result.exit_code == 1 and "no audio stream" in result.stderr
    assert sessions.get(kb, session.id).media == ()


def test_session_without_recording_and_unknown_target(run, expert, kb):
    from tacit.records import sessions

    session = sessions.create(kb, expert, "interview", "exit")
    result = run("transcribe", session.id)
    assert result.exit_code == 1 and "has no recording" in result.stderr
    assert run("transcribe", "no-such-session").exit_code == 1
    new = run("transcribe", AUDIO / "two_voices.flac")
    assert new.exit_code == 1 and "needs --expert" in new.stderr


@pytest.mark.skipif(engine.cuda_devices() > 0, reason="this machine has a GPU")
def test_device_cuda_without_gpu_is_a_clear_error(run, expert, kb):
    result = run("transcribe", AUDIO / "two_voices.flac", "--expert", expert, "--device", "cuda")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: --device cuda: CTranslate2 sees no CUDA GPU on this machine; use --device cpu"
    )
    assert list(kb.sessions_dir.iterdir()) == []
    assert engine.resolve_device("auto") == "cpu"


def test_probe_reads_channels_duration_and_creation_time():
    found = media.probe(AUDIO / "interview_stereo.m4a")
    assert found.channels == 2 and found.codec == "aac"
    assert abs(found.duration - 14.16) < 0.05
    assert found.creation_time == dt.datetime(2026, 11, 23, 9, 0, 30, tzinfo=dt.UTC)
    assert media.probe(AUDIO / "two_voices.flac").creation_time is None


def test_offset_sources():
    found = media.probe(AUDIO / "interview_stereo.m4a")
    session = Session(id="s", expert="e", started="2026-11-23T10:00:00+01:00")
    started = media.session_start(session)
    assert media.offset(started, found.creation_time, None) == (30.0, "creation_time")
    assert media.offset(started, found.creation_time, 4.5) == (4.5, "given")
    far = media.session_start(Session(id="s", expert="e", started="2025-01-01T00:00:00+00:00"))
    assert media.offset(far, found.creation_time, None) == (0.0, "default")  # a wrong clock
    plain = media.probe(AUDIO / "two_voices.flac")
    assert media.offset(started, plain.creation_time, None) == (0.0, "default")


def test_one_media_path_names_hashes_and_guards_the_clock_alike(tmp_path):
    """`interview --recording` and `transcribe --media` copy through records.media.copy_in."""
    from tacit.core.fileio import sha256_of

    source = AUDIO / "interview_stereo.m4a"
    near = dt.datetime(2026, 11, 23, 10, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    first = media.copy_in(tmp_path, source, started=near)
    assert (first.file, first.offset, first.offset_source) == (
        "media/interview-stereo.m4a",
        30.0,
        "creation_time",
    )
    assert first.sha256 == sha256_of(source)
    wrong_clock = media.copy_in(tmp_path, source, started=near + dt.timedelta(days=2))
    assert wrong_clock.file == "media/interview-stereo-2.m4a"  # never overwritten
    assert (wrong_clock.offset, wrong_clock.offset_source) == (0.0, "default")
    given = media.copy_in(tmp_path, source, (4.5, "given"), started=near)
    assert (given.offset, given.offset_source) == (4.5, "given")
    with pytest.raises(MediaError, match="no audio stream"):
        media.copy_in(tmp_path, BAD / "no_audio.mp4", started=near)
    assert sorted(p.name for p in (tmp_path / "media").iterdir()) == [
        "interview-stereo-2.m4a", "interview-stereo-3.m4a", "interview-stereo.m4a",
    ]  # fmt: skip


def _variant(tmp_path: Path, source: Path, graph: str) -> Path:
    out = tmp_path / "variant.wav"
    flag = "-filter_complex" if "[" in graph else "-af"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", source, flag, graph, out], check=True
    )
    return out


def test_channel_similarity_threshold_splits_speakers_and_mixes_copies(tmp_path):
    stereo = audio.scan(media.probe(AUDIO / "interview_stereo.m4a"))
    assert stereo.similarity < audio.SPLIT_BELOW  # measured -0.27
    assert pipeline.layout_for("auto", stereo) == "split"
    assert pipeline.layout_for("mix", stereo) == "mix"
    crosstalk = _variant(
        tmp_path, AUDIO / "interview_stereo.m4a", "pan=stereo|c0=c0+0.25*c1|c1=c1+0.25*c0"
    )
    assert audio.scan(media.probe(crosstalk)).similarity < audio.SPLIT_BELOW  # measured 0.25
    copies = _variant(tmp_path, AUDIO / "two_voices.flac", "pan=stereo|c0=c0|c1=c0")
    same = audio.scan(media.probe(copies))
    assert same.similarity > 0.99 and pipeline.layout_for("auto", same) == "mix"
    mono = audio.scan(media.probe(AUDIO / "two_voices.flac"))
    assert len(mono.channels) == 1 and pipeline.layout_for("split", mono) == "mix"


def test_split_activity_ignores_the_other_speaker_leaking_in(tmp_path):
    leaky = _variant(
        tmp_path, AUDIO / "interview_stereo.m4a", "pan=stereo|c0=c0+0.1*c1|c1=c1+0.1*c0"
    )
    found = audio.scan(media.probe(leaky))
    left, right = audio.split_activity(found.channels)
    # the interviewer speaks 0-2.9 s on the left; the expert's answer (3.5-7.6 s) leaks in
    # at -20 dB: it must not count as the interviewer speaking
    frame = int(5.0 / decode.FRAME_S)
    assert found.channels[0].active()[frame] and not left[frame] and right[frame]
    assert left[int(1.0 / decode.FRAME_S)] and not right[int(1.0 / decode.FRAME_S)]


def test_scan_finds_the_long_silence_and_regions_skip_it():
    found = audio.scan(media.probe(AUDIO / "long_silence.ogg"))
    assert abs(found.decoded_s - 33.44) < 0.05
    regions = audio.regions(found.mix.active(), 0.0, found.decoded_s)
    assert len(regions) == 2
    (a_start, a_end), (b_start, b_end) = regions
    assert a_start == 0.0 and 4.4 < a_end < 5.2 and 24.2 < b_start < 24.9 and b_end < 29.0
    # 20 s apart: never merged into one model window
    assert audio.clips(regions) == regions
    # a window starting inside the silence holds only the second sentence
    assert audio.regions(found.mix.active(), 10.0, 30.0) == [regions[1]]
    assert audio.regions(found.mix.active(), 8.0, 20.0) == []


def test_clips_merge_short_pauses_up_to_a_window():
    assert audio.clips([(0.0, 4.0), (9.0, 12.0), (30.0, 31.0)]) == [(0.0, 12.0), (30.0, 31.0)]
    assert audio.clips([(0.0, 25.0), (28.5, 33.0)]) == [(0.0, 25.0), (28.5, 33.0)]


def test_pieces_cover_the_recording_and_cut_in_pauses():
    found = audio.scan(media.probe(AUDIO / "long_silence.ogg"))
    pieces = audio.plan_pieces(found.mix.db, found.decoded_s, 12.0)
    assert pieces[0][0] == 0.0 and pieces[-1][1] == round(found.decoded_s, 3)
    assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:], strict=False))
    active = found.mix.active()
    for _start, cut in pieces[:-1]:
        assert not active[int(cut / decode.FRAME_S)], f"cut at {cut} s is in speech"
    assert audio.plan_pieces(found.mix.db, 30.0, 60.0) == [(0.0, 30.0)]


def _levels():
    return audio.scan(media.probe(AUDIO / "long_silence.ogg")).mix.active()


def _said(start: float, end: float, text: str, runs_on_to: float = 0.0, **stats) -> Recognized:
    """Words spread evenly over [start, end]; the last one may run on (as Whisper's do)."""
    words = text.split()
    step = (end - start) / len(words)
    timed = [Word(start + i * step, start + (i + 1) * step, w, 0.9) for i, w in enumerate(words)]
    if runs_on_to:
        timed[-1] = Word(timed[-1].start, runs_on_to, timed[-1].word, 0.9)
    return Recognized(start, max(end, runs_on_to), text, tuple(timed), **stats)


def test_guard_drops_text_heard_in_silence_and_loops_fake_segments_real_levels():
    """Fake engine output (named so) over the real levels of long_silence.ogg."""
    active = _levels()
    heard = [
        _said(0.0, 4.3, "before you start the pump check that the valve is open", runs_on_to=6.4),
        _said(12.0, 13.5, "Thank you."),  # in the 20 s room tone: hallucinated
        _said(24.4, 28.4, "the the the the the", compression_ratio=3.1),
        _said(24.4, 28.4, "because the old seals leak", no_speech_prob=0.9, avg_logprob=-1.4),
    ]
    kept, dropped = cleanup.clean(
        heard, offset=0.0, bounds=(0.0, 33.44), active=active, speaker="SPEAKER_1"
    )
    assert [d.reason for d in dropped] == ["silence", "repetition", "no speech"]
    assert len(kept) == 1
    # the last word ran on to 6.4 s; it ends where its sound ends (speech stops at 4.3 s)
    assert 4.0 < kept[0].end < 4.6 and kept[0].words[-1].end == kept[0].end


def test_words_placed_in_silence_at_a_segment_edge_are_pinned_to_the_sound():
    active = _levels()
    words = (Word(3.0, 3.9, "fully", 0.9), Word(3.9, 4.4, "open.", 0.9), Word(5.5, 6.5, "Ok", 0.4))
    kept, _ = cleanup.clean(
        [Recognized(3.0, 6.5, "fully open. Ok", words)],
        offset=0.0, bounds=(0.0, 33.44), active=active, speaker="SPEAKER_1",
    )  # fmt: skip
    assert kept[0].end < 5.0 and kept[0].words[-1].start == kept[0].words[-1].end == kept[0].end


def test_segment_spanning_a_long_pause_is_split_in_two():
    active = _levels()
    words = (
        Word(3.2, 3.9, "fully", 0.9),
        Word(3.9, 4.4, "open.", 0.9),
        Word(24.7, 25.2, "Because", 0.9),
        Word(25.2, 25.6, "the", 0.9),
    )
    merged = Recognized(3.2, 25.6, "fully open. Because the", words)
    kept, dropped = cleanup.clean(
        [merged], offset=0.0, bounds=(0.0, 33.44), active=active, speaker="SPEAKER_1"
    )
    assert dropped == []
    assert [(s.text, s.end < 5.0, s.start > 24.0) for s in kept] == [
        ("fully open.", True, False),
        ("Because the", False, True),
    ]


def test_clean_shifts_piece_times_into_the_recording_and_keeps_them_in_the_piece():
    active = _levels()
    heard = [_said(0.2, 3.0, "because the old seals leak")]  # relative to a piece at 24.0 s
    kept, _ = cleanup.clean(
        heard, offset=24.0, bounds=(24.0, 26.5), active=active, speaker="Maria Lopez"
    )
    assert kept[0].speaker == "Maria Lopez"
    assert kept[0].start >= 24.2 and kept[0].end <= 26.5


def test_decode_gives_16k_float_samples():
    samples = decode.decode(AUDIO / "interview_stereo.m4a", channels=2)
    assert samples.shape[1] == 2 and samples.dtype.name == "float32"
    assert abs(len(samples) / decode.SAMPLE_RATE - 14.2) < 0.1


def test_check_complete_tolerates_small_differences():
    found = media.probe(AUDIO / "two_voices.flac")
    decode.check_complete(found, found.duration - 0.3, [])
    with pytest.raises(MediaError, match="decoded only"):
        decode.check_complete(found, found.duration - 5.0, [])


def test_progress_bar_counts_audio_seconds_on_a_terminal(monkeypatch):
    """The command's bar over a fake event stream (named so): the core only yields events."""
    import io

    from rich.console import Console

    from tacit.capture import commands, transcribe
    from tacit.core import output

    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    monkeypatch.setattr(output, "err", console)
    done = object.__new__(pipeline.Done)
    events = [
        transcribe.Started("s1", True, "media/a.flac"),
        pipeline.Progress("decoding", 0.0, 0.0),
        pipeline.Progress("transcribing", 60.0, 150.0),
        pipeline.Progress("transcribing", 150.0, 150.0),
        done,
    ]
    assert commands._drive(iter(events)) is done
    assert "150/150 s of audio" in screen.getvalue()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--model", "/nowhere/whisper"], "speech model folder /nowhere/whisper not found"),
        (["--model", "large-v9"], "is not on this machine (tacit never downloads models)"),
        (["--speaker", "Dr: Who"], "speaker name 'Dr: Who'"),
        (["--channels", "both"], "--channels must be auto, split or mix"),
        (["--kind", "meeting"], "--kind must be interview or observation"),
    ],
)
def test_bad_options_are_refused_before_anything_is_written(run, expert, kb, extra, message):
    result = run("transcribe", AUDIO / "two_voices.flac", "--expert", expert, *extra)
    assert result.exit_code == 1, result
    assert message in result.stderr
    assert list(kb.sessions_dir.iterdir()) == []
