"""Who said it, with the real parts: Silero VAD, resemblyzer's speaker encoder, Whisper tiny.en
and ffmpeg, on the espeak-ng fixtures (tests/fixtures/make_audio.sh)."""

from __future__ import annotations

import json
from pathlib import Path

from tacit.capture import decode, diarize
from tacit.records import transcript as transcript_model

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
    saved = transcript_model.load(transcript_model.path(kb, summary["id"]))
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
    samples = decode.decode(AUDIO / "vocabulary.ogg", 1)[:, 0]  # four sentences, one voice
    result = diarize.diarize(samples)
    assert result.count == 1
    assert {turn.speaker for turn in result.turns} == {0}


def test_the_speaker_count_given_wins():
    samples = decode.decode(AUDIO / "vocabulary.ogg", 1)[:, 0]
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


GLYCOL = (
    "So the glycol chiller defrost cycle runs every six hours on the roof units, I read. "
    "The heater strips on the glycol chiller coil come on and the fans stop until it thaws. "
    "Thanks, now tell me about the feed pumps."
)
PUMPS = (
    "The feed pumps cavitate when the deaerator level runs low, you hear gravel in the "
    "casing. Raise the level setpoint before you touch the pump, and check the strainer."
)


def _import(run, tmp_path, expert: str, turns, *args: str) -> str:
    segments, clock = [], 0.0
    for speaker, text in turns:
        length = len(text.split()) / 2.5
        segments.append({"start": clock, "end": clock + length, "speaker": speaker, "text": text})
        clock += length + 1.0
    path = tmp_path / f"{expert}.json"
    path.write_text(json.dumps({"segments": segments}))
    result = run("import", path, "--expert", expert, *args, "--json")
    assert result.exit_code == 0, result
    return json.loads(result.stdout)["id"]


def test_ask_expert_and_who_knows_leave_the_interviewers_words_out(run, kb, tmp_path):
    toml = kb.root / "tacit.toml"
    toml.write_text(toml.read_text().replace("chunk_words = 90", "chunk_words = 30"))
    for name in ("Maria Lopez", "Tom Reyes"):
        assert run("expert", "add", name).exit_code == 0
    turns = [("Priya Shah", GLYCOL), ("Maria Lopez", PUMPS)]
    maria = _import(run, tmp_path, "maria-lopez", turns, "--interviewer", "Priya Shah")
    # the same talk in a session that names no interviewer: every speaker's words count
    tom = _import(run, tmp_path, "tom-reyes", [("Priya Shah", GLYCOL), ("Tom Reyes", PUMPS)])
    assert "interviewer: Priya Shah" in (kb.session_dir(maria) / "session.md").read_text()
    assert run("index").exit_code == 0
    topic = "glycol chiller defrost cycle"
    ranked = json.loads(run("who-knows", topic, "--json").stdout)["experts"]
    assert [r["slug"] for r in ranked if r["passages"]] == ["tom-reyes"]
    for expert, session, counted in (("maria-lopez", maria, False), ("tom-reyes", tom, True)):
        asked = run("ask", "how does the glycol chiller defrost?", "--expert", expert,
                    "--json", "--no-log")  # fmt: skip
        assert asked.exit_code == 0, asked
        answer = json.loads(asked.stdout)
        quoted = [r for r in answer["results"] if "glycol" in r["text"]]
        assert all(r["session"] == session for r in answer["results"]), answer
        assert bool(quoted) is counted, answer
        assert ("glycol" in answer["answer"]) is counted, answer
        if not counted:
            assert all(r["speaker"] != "Priya Shah" for r in answer["results"]), answer
    # the expert's own words are still evidence
    ranked = json.loads(run("who-knows", "feed pump cavitation", "--json").stdout)["experts"]
    assert {"maria-lopez", "tom-reyes"} <= {r["slug"] for r in ranked if r["passages"]}


def test_a_bad_interviewer_name_is_refused_before_anything_is_made(run, kb, tmp_path):
    assert run("expert", "add", "Maria Lopez").exit_code == 0
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"segments": [{"start": 0, "end": 1, "text": "Hi."}]}))
    result = run("import", path, "--expert", "maria-lopez", "--interviewer", "<script>")
    assert result.exit_code == 1 and "speaker name" in result.stderr
    assert not list(kb.sessions_dir.glob("*"))


def _transcribe(run, path: Path, *args: str) -> dict:
    result = run("transcribe", path, *args, "--json")
    assert result.exit_code == 0, result
    return json.loads(result.stdout)


def test_a_named_voice_is_known_in_a_later_recording_and_a_stranger_is_not(run, kb, tmp_path):
    from tacit.capture import voices

    assert run("expert", "add", "Maria Lopez").exit_code == 0
    first = _transcribe(run, AUDIO / "two_voices.flac", "--expert", "maria-lopez")["id"]
    # SPEAKER_2 is the second voice heard (en-gb+f2, make_audio.sh): Maria here
    renamed = run("speakers", first, "--rename", "SPEAKER_2=Maria Lopez")
    assert renamed.exit_code == 0, renamed
    # no profile without consent: refused in one line, nothing written
    refused = run("voices", "add", "maria-lopez", "--session", first, "--speaker", "Maria Lopez")
    assert refused.exit_code == 1 and "without consent" in refused.stderr, refused
    assert not voices.folder(kb).exists()
    given = run("expert", "edit", "maria-lopez", "--voice-consent", "given",
                "--voice-consent-by", "Priya Shah")  # fmt: skip
    assert given.exit_code == 0, given
    record = (kb.experts_dir / "maria-lopez.md").read_text()
    assert "status: given" in record and "by: Priya Shah" in record and "when:" in record
    made = run("voices", "add", "maria-lopez", "--session", first, "--speaker", "Maria Lopez")
    assert made.exit_code == 0, made
    listed = json.loads(run("voices", "list", "--json").stdout)
    assert [(p["slug"], p["name"]) for p in listed] == [("maria-lopez", "Maria Lopez")]
    assert listed[0]["sources"] == [f"{first}:Maria Lopez"]
    profile = json.loads(voices.profile_path(kb, "maria-lopez").read_text())
    assert len(profile["embedding"]) == 256 and "resemblyzer" in profile["model"]
    # the same voice in another recording (vocabulary.ogg): named, with its similarity
    later = _transcribe(run, AUDIO / "vocabulary.ogg", "--expert", "maria-lopez")
    assert later["speakers"] == ["Maria Lopez"], later
    found = transcript_model.load(transcript_model.path(kb, later["id"])).settings["speakers"]
    assert found["voices"][0]["similarity"] >= voices.MATCH_FROM
    # a voice heard nowhere before stays anonymous, its best similarity shown
    stranger = _transcribe(run, AUDIO / "stranger.ogg", "--expert", "maria-lopez")
    assert stranger["speakers"] == ["SPEAKER_1"], stranger
    found = transcript_model.load(transcript_model.path(kb, stranger["id"])).settings
    match = found["speakers"]["voices"][0]
    assert match["similarity"] < voices.MATCH_FROM and match["named"] is False
    # a rename survives transcribe --force (the voice it named keeps the name)
    run("expert", "edit", "maria-lopez", "--voice-consent", "refused")
    assert not voices.profile_path(kb, "maria-lopez").exists(), "refusal deletes the profile"
    redo = run("transcribe", first, "--force", "--json")
    assert redo.exit_code == 0, redo
    assert json.loads(redo.stdout)["speakers"] == ["SPEAKER_1", "Maria Lopez"]


def test_backup_carries_a_voice_profile_and_forget_removes_it(run, kb, tmp_path):
    import tarfile

    from tacit.capture import voices

    assert run("expert", "add", "Maria Lopez").exit_code == 0
    session = _transcribe(run, AUDIO / "vocabulary.ogg", "--expert", "maria-lopez")["id"]
    assert run("expert", "edit", "maria-lopez", "--voice-consent", "given").exit_code == 0
    made = run("voices", "add", "maria-lopez", "--session", session, "--speaker", "SPEAKER_1")
    assert made.exit_code == 0, made
    archive = tmp_path / "kb.tar.gz"
    assert run("backup", archive).exit_code == 0
    with tarfile.open(archive) as tar:
        assert any(n.endswith("voices/maria-lopez.json") for n in tar.getnames())
    forgot = run("forget", "--expert", "maria-lopez", "--yes")
    assert forgot.exit_code == 0, forgot
    assert not voices.profile_path(kb, "maria-lopez").exists()
    assert json.loads(run("voices", "list", "--json").stdout) == []
    # nothing of hers is left anywhere in the KB, the profile's bytes included
    for path in kb.root.rglob("*"):
        if path.is_file():
            assert b"maria-lopez" not in path.read_bytes(), path
    missing = run("voices", "add", "maria-lopez", "--session", session, "--speaker", "SPEAKER_1")
    assert missing.exit_code == 1 and "Traceback" not in missing.stderr


def test_interview_start_and_the_team_default_record_the_interviewer(run, kb, tmp_path):
    from tacit.records import sessions

    assert run("expert", "add", "Maria Lopez").exit_code == 0
    answers = Path(__file__).resolve().parent.parent / "examples/sample/interview-answers.yaml"
    started = run("interview", "start", "--expert", "maria-lopez", "--answers", answers,
                  "--interviewer", "Priya Shah")  # fmt: skip
    assert started.exit_code == 0, started
    (only,) = sessions.list_all(kb)
    assert only.interviewer == "Priya Shah"
    toml = kb.root / "tacit.toml"
    toml.write_text(toml.read_text().replace('interviewer = ""', 'interviewer = "Sam Hale"'))
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"segments": [{"start": 0, "end": 1, "text": "Hi there."}]}))
    imported = run("import", path, "--expert", "maria-lopez", "--json")
    assert imported.exit_code == 0, imported
    session = sessions.get(kb, json.loads(imported.stdout)["id"])
    assert session.interviewer == "Sam Hale"


def test_an_unreadable_voice_profile_is_reported_and_names_nobody(run, kb):
    from tacit.capture import voices

    assert run("expert", "add", "Maria Lopez").exit_code == 0
    assert run("expert", "edit", "maria-lopez", "--voice-consent", "given").exit_code == 0
    voices.folder(kb).mkdir()
    voices.profile_path(kb, "maria-lopez").write_text("{not json")
    listed = run("voices", "list")
    assert listed.exit_code == 1 and "not a voice profile" in listed.stderr
    assert "Traceback" not in listed.stderr
    heard = _transcribe(run, AUDIO / "stranger.ogg", "--expert", "maria-lopez")
    assert heard["speakers"] == ["SPEAKER_1"]
    assert voices.profile_path(kb, "maria-lopez").read_text() == "{not json", "kept as it was"
    gone = run("voices", "remove", "nobody")
    assert gone.exit_code == 1 and "no voice profile" in gone.stderr
