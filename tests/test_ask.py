"""tacit ask / play / chat on a small real KB: real embedding model, real Chroma, real BM25.

The KB is built once for the module (indexing with the real model is the slow part) and copied
for each test, so a test that logs a question never changes what another one sees.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tacit.admin import pending
from tacit.ask import answers, excerpts, playback, warm
from tacit.core import config, timefmt, workspace
from tacit.index import terms
from tacit.records import experts, sessions
from tacit.records import transcript as transcript_model
from tacit.records.sessions import Answer, Media, Step

INTERVIEWER = "Priya Shah"
BOILER_TURNS = [
    (INTERVIEWER, "Thanks for sitting down with me, Maria. Let's start with the boiler house."),
    ("Maria Lopez", "Sure. I have run the two steam boilers here for eleven years now."),
    (INTERVIEWER, "What usually trips boiler two on a cold morning?"),
    (
        "Maria Lopez",
        "Nine times out of ten it is the low water cutout. The feed pump strainer clogs with "
        "scale, the level drops, and the cutout kills the burner. Clean the strainer first, then "
        "reset at the burner panel. Never bypass the low water cutout, whatever anyone says.",
    ),
    (INTERVIEWER, "Good. What about the canteen, anything odd there?"),
    (
        "Maria Lopez",
        "The canteen dishwasher shares a drain with the condensate line. If the drain backs up, "
        "the gasket kit 7741-KX-22 on the drain valve is usually split; two spares sit in the "
        "stores cage, top shelf on the left.",
    ),
    (INTERVIEWER, "And the water treatment for the boilers?"),
    (
        "Maria Lopez",
        "We dose the feedwater with an oxygen scavenger every shift. Ken Ito at the lab checks "
        "the sample on Mondays and tells you if the dosing rate must change.",
    ),
]
KNOWN_TURN = 4  # 1-based: the low water cutout answer
CODE_TURN = 6
RESTRICTED_TURNS = [
    ("Lena Ward", "Tell me about the chlorine analyser in the lab."),
    (
        "Ana Silva",
        "The chlorine analyser drifts after a week. Calibrate it with the pH 7 buffer from the "
        "fridge, lot ZX-9, and write the reading in the blue book before you trust it again.",
    ),
]


def _timed(turns: list[tuple[str, str]], gap: float = 1.0) -> tuple[transcript_model.Segment, ...]:
    segments, clock = [], 2.0
    for speaker, text in turns:
        length = len(text.split()) / 2.5
        segments.append(transcript_model.Segment(clock, round(clock + length, 2), speaker, text))
        clock = round(clock + length + gap, 2)
    return tuple(segments)


def _with_transcript(ws, session, turns, media: bool = False):
    folder = ws.session_dir(session.id)
    media_file = ""
    if media:
        media_file = "media/interview.wav"
        (folder / "media").mkdir(mode=0o700)
        subprocess.run(
            ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=3"]
            + [str(folder / media_file)],
            check=True,
        )
        sha = sessions.sha256_of(folder / media_file)
        session = sessions.update(ws, session, media=(Media(file=media_file, sha256=sha),))
    segments = _timed(turns)
    transcript = transcript_model.Transcript(
        segments=segments, media_file=media_file, duration=segments[-1].end
    )
    transcript_model.save(folder / transcript_model.TRANSCRIPT_NAME, transcript)
    return session, segments


def build_kb(root: Path) -> dict:
    """Four sessions, four experts; returns what the tests check against."""
    from tacit.index import indexer

    ws = workspace.init(root, "ask tests")
    toml = ws.root / "tacit.toml"
    toml.write_text(toml.read_text().replace("chunk_words = 90", "chunk_words = 40"))
    ws = workspace.Workspace(ws.root, config.load(toml))
    experts.add(ws, "Maria Lopez", role="Boiler Operator", topics=("steam boilers",))
    experts.add(ws, "Tom Reyes", role="Electrician", topics=("standby generator",))
    experts.add(ws, "Ana Silva", role="Lab Chemist")
    experts.add(ws, "Dev Patel", role="Warehouse Lead", topics=("forklift trucks",))
    boiler = sessions.create(ws, "maria-lopez", "interview", "boilers")
    boiler, segments = _with_transcript(ws, boiler, BOILER_TURNS, media=True)
    steps = (
        Step(1, 10.0, "Open the generator control panel", "Day tank gauge above half"),
        Step(2, 40.0, "Start the monthly load test from the panel", reason="Proves the ATS"),
    )
    observed = sessions.create(ws, "tom-reyes", "observation", "generator", steps=steps)
    typed = (
        Answer(
            "q1",
            "Lighting",
            "How are the emergency lights tested?",
            "Every month we pull the test key on each floor and walk the stairwells for an hour.",
            status="answered",
        ),
    )
    sessions.create(ws, "tom-reyes", "interview", "lighting", answers=typed)
    lab = sessions.create(ws, "ana-silva", "interview", "lab", restricted=True)
    _with_transcript(ws, lab, RESTRICTED_TURNS)
    indexer.run(ws)
    return {"boiler": boiler.id, "segments": segments, "observed": observed.id, "lab": lab.id}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("ask") / "kb"
    facts = build_kb(root)
    return root, facts


@pytest.fixture
def qa(built, tmp_path, monkeypatch):
    """A private copy of the built KB, found through $TACIT_KB."""
    source, facts = built
    root = tmp_path / "qa"
    shutil.copytree(source, root)
    monkeypatch.setenv("TACIT_KB", str(root))
    ws = workspace.current()
    return ws, facts


def _ask_json(run, *args: str) -> dict:
    result = run("ask", *args, "--json")
    assert result.exit_code == 0, result
    return json.loads(result.stdout)


def _log(ws) -> list[dict]:
    if not ws.questions_log.is_file():
        return []
    return [json.loads(line) for line in ws.questions_log.read_text().splitlines()]


def test_known_passage_comes_back_with_session_speaker_and_times(qa, run):
    ws, facts = qa
    data = _ask_json(run, "Why does boiler two keep shutting off on cold mornings?", "--no-log")
    assert data["not_captured"] is False
    known = facts["segments"][KNOWN_TURN - 1]
    top = data["results"][:3]
    match = [
        r
        for r in top
        if r["session"] == facts["boiler"] and r["start"] < known.end and known.start < r["end"]
    ]
    assert match, top
    result = match[0]
    assert result["speaker"] == "Maria Lopez" and result["expert"] == "maria-lopez"
    session, start = facts["boiler"], result["start"]
    assert result["citation"] == f"[{session} · Maria Lopez · {timefmt.clock(start)}]"
    path, _, second = result["media"].partition("#t=")
    assert path == f"sessions/{session}/media/interview.wav" and float(second) == start
    assert "strainer" in data["answer"] and result["citation"] in data["answer"]
    assert set(data) >= {"query", "answer", "not_captured", "results"}
    assert set(result) == {
        "chunk_id", "session", "expert", "speaker", "start", "end", "text", "score",
        "citation", "media",
    }  # fmt: skip
    assert not ws.questions_log.exists()  # --no-log


def test_reading_output_cites_expert_role_and_highlights_query_words(qa, run):
    ws, facts = qa
    result = run("ask", "What trips boiler two?")
    assert result.exit_code == 0, result
    assert f"[{facts['boiler']} · Maria Lopez · " in result.stdout
    assert "Maria Lopez, Boiler Operator" in result.stdout
    from tacit.ask.commands import _highlighted

    shown = _highlighted("Boiler two trips when the strainer clogs.", ("trips", "boiler"))
    marked = {shown.plain[span.start : span.end] for span in shown.spans}
    assert marked == {"Boiler", "trips"}
    (entry,) = _log(ws)
    assert entry["question"] == "What trips boiler two?" and entry["not_captured"] is False
    assert entry["cited"] and all(c.startswith(facts["boiler"]) for c in entry["cited"][:1])
    keys = {"time", "question", "filters", "not_captured", "experts", "cited", "open_question"}
    assert set(entry) == keys and entry["open_question"] is False  # answered: not open


def test_part_number_that_embeddings_miss_is_found_through_bm25(qa):
    from tacit.ask.retriever import Retriever

    ws, facts = qa
    retriever = Retriever(ws)
    question = "Where do I find 7741-KX-22?"

    def rank(method: str) -> int | None:
        hits = retriever.search(question, k=10, method=method)
        found = [i for i, h in enumerate(hits, 1) if "7741-KX-22" in h.chunk.text]
        return found[0] if found else None

    assert rank("lexical") == 1
    assert rank("dense") != 1  # the embedding alone does not put it first
    assert rank("hybrid") == 1
    answer = answers.ask(ws, retriever, question)
    assert not answer.not_captured  # the exact code counts as evidence whatever the cosine
    assert "7741-KX-22" in answer.results[0].text


def test_out_of_scope_question_is_not_captured_and_goes_to_the_right_expert(qa, run):
    ws, _ = qa
    question = "How often does the forklift need its load chart re-certified?"
    result = run("ask", question)
    assert result.exit_code == 0, result
    assert "does not hold an answer" in result.stdout
    assert "Dev Patel" in result.stdout
    (entry,) = _log(ws)
    assert entry["question"] == question
    assert entry["not_captured"] is True and entry["experts"][0] == "dev-patel"
    assert entry["cited"] == []
    data = _ask_json(run, question, "--no-log")
    assert data["not_captured"] is True and data["answer"] == ""
    agenda = run("expert", "agenda", "dev-patel", "--json")
    assert agenda.exit_code == 0, agenda
    asked = [q for q in json.loads(agenda.stdout)["open_questions"] if q["source"] == "asked"]
    assert [q["question"] for q in asked] == [question]
    maria = run("expert", "agenda", "maria-lopez", "--json")
    assert question not in maria.stdout


def test_filters_limit_expert_kind_and_session(qa, run):
    ws, facts = qa
    question = "How do we test the generator and the emergency lights?"
    by_expert = _ask_json(run, question, "--expert", "tom-reyes", "--no-log", "-k", "10")
    assert by_expert["results"] and {r["expert"] for r in by_expert["results"]} == {"tom-reyes"}
    observed = _ask_json(run, question, "--kind", "observation", "--no-log")
    assert {r["session"] for r in observed["results"]} == {facts["observed"]}
    one = _ask_json(run, question, "--session", facts["boiler"], "--no-log")
    assert {r["session"] for r in one["results"]} == {facts["boiler"]}
    assert len(_ask_json(run, question, "-k", "2", "--no-log")["results"]) == 2
    bad = run("ask", question, "--expert", "nobody")
    assert bad.exit_code == 1 and "no expert 'nobody'" in bad.stderr
    bad_kind = run("ask", question, "--kind", "podcast")
    assert bad_kind.exit_code == 2 and "interview or observation" in bad_kind.stderr
    assert "Traceback" not in bad.output + bad_kind.output
    filtered = _ask_json(run, question, "--expert", "tom-reyes")
    assert filtered["results"]
    assert _log(ws)[-1]["filters"] == {"expert": "tom-reyes"}


def test_restricted_sessions_only_with_include_restricted(qa, run):
    ws, facts = qa
    question = "How do I calibrate the chlorine analyser?"
    hidden = _ask_json(run, question, "-k", "10", "--no-log")
    assert facts["lab"] not in {r["session"] for r in hidden["results"]}
    assert "ZX-9" not in json.dumps(hidden)
    shown = _ask_json(run, question, "--include-restricted", "--no-log")
    assert shown["results"][0]["session"] == facts["lab"]
    coded = _ask_json(run, "What is lot ZX-9?", "-k", "10", "--no-log")
    assert "ZX-9" not in json.dumps(coded["results"])


def test_file_mode_prints_one_json_object_per_question_in_order(qa, run, tmp_path):
    ws, _ = qa
    questions = [
        "What trips boiler two?",
        "How often does the forklift need its load chart re-certified?",
        "Who checks the feedwater sample?",
    ]
    path = tmp_path / "questions.txt"
    path.write_text("\n".join(questions[:2]) + "\n\n" + questions[2] + "\n")
    with pending.writer_lock(ws):  # ask never takes the lock: it runs beside `tacit index`
        result = run("ask", "--file", path)
    assert result.exit_code == 0, result
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    parsed = [json.loads(line) for line in lines]
    assert [p["query"] for p in parsed] == questions
    assert [p["not_captured"] for p in parsed] == [False, True, False]
    assert [e["question"] for e in _log(ws)] == questions
    both = run("ask", "a question", "--file", path)
    assert both.exit_code == 2 and "one of them" in both.stderr
    blank = run("ask", "   ")
    assert blank.exit_code == 2 and "the question is empty" in blank.stderr
    missing = run("ask", "--file", tmp_path / "nope.txt")
    assert missing.exit_code == 2 and "cannot read" in missing.stderr


def test_play_without_a_player_prints_the_file_and_offset(qa, run, tmp_path, monkeypatch):
    ws, facts = qa
    empty = tmp_path / "no-players"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    expected = f"sessions/{facts['boiler']}/media/interview.wav at 00:00:24 (24 s)"
    for cited in (
        f"[{facts['boiler']} · Maria Lopez · 00:00:24]",
        f"{facts['boiler']}@00:00:24",
        f"{facts['boiler']}@24",
    ):
        result = run("play", cited)
        assert result.exit_code == 0, result
        assert result.stdout.strip() == expected
        assert "no player found" in result.stderr
    printed = run("play", f"{facts['boiler']}@1:05.5", "--json")
    assert json.loads(printed.stdout)["seconds"] == 65.5
    bad = run("play", "not a citation")
    assert bad.exit_code == 2 and "not a citation" in bad.stderr
    no_media = run("play", f"{facts['observed']}@10")
    assert no_media.exit_code == 1 and "no recording" in no_media.stderr


def test_play_uses_a_player_found_on_the_path(qa, run, tmp_path, monkeypatch):
    ws, facts = qa
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls.txt"
    fake = bin_dir / "mpv"  # FAKE player: records its arguments instead of playing
    fake.write_text(f'#!/bin/sh\necho "$@" > {calls}\n')
    fake.chmod(0o700)
    monkeypatch.setenv("PATH", str(bin_dir))
    result = run("play", f"{facts['boiler']}@00:01:02")
    assert result.exit_code == 0, result
    args = calls.read_text().split()
    assert args[0] == "--start=62" and args[1].endswith("media/interview.wav")
    assert result.stdout == ""  # it played: nothing to print
    broken = bin_dir / "ffplay"  # FAKE player that fails, as ffplay does with no audio device
    broken.write_text("#!/bin/sh\nexit 1\n")
    broken.chmod(0o700)
    failed = run("play", f"{facts['boiler']}@62")
    assert failed.exit_code == 0, failed
    assert failed.stdout.strip().endswith("at 00:01:02 (62 s)")
    assert "ffplay stopped with exit status 1" in failed.stderr


def test_chat_keeps_filters_plays_and_logs_each_question(qa, run, tmp_path, monkeypatch):
    ws, facts = qa
    monkeypatch.setenv("PATH", str(tmp_path))  # no player: :play prints the moment
    script = "\n".join(
        [
            ":expert maria-lopez",
            "What trips boiler two?",
            ":play 1",
            ":kind podcast",
            ":expert",
            "How are the emergency lights tested?",
            ":play 9",
            ":quit",
            "never asked",
        ]
    )
    result = run("chat", input=script + "\n")
    assert result.exit_code == 0, result
    assert f"sessions/{facts['boiler']}/media/interview.wav at " in result.stdout
    assert "kind must be interview or observation" in result.stderr
    assert "results 1 to" in result.stderr
    log = _log(ws)
    assert [e["question"] for e in log] == [
        "What trips boiler two?",
        "How are the emergency lights tested?",
    ]
    assert log[0]["filters"] == {"expert": "maria-lopez"} and log[1]["filters"] == {}


def test_ask_before_any_index_says_how_to_build_one(run):
    for args in (("ask", "What trips boiler two?"), ("who-knows", "boilers"), ("chat",)):
        result = run(*args, input=":quit\n")
        assert result.exit_code == 1, result
        assert "no index yet" in result.stderr and "tacit index" in result.stderr
        assert "Traceback" not in result.output


# --- pure logic (no model) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[2026-01-02-maria-lopez-boilers · Maria Lopez · 01:02:03]", 3723.0),
        ("2026-01-02-maria-lopez-boilers@01:02:03", 3723.0),
        ("2026-01-02-maria-lopez-boilers@3723", 3723.0),
        ("2026-01-02-maria-lopez-boilers@3723.5", 3723.5),
        ("[2026-01-02-maria-lopez-boilers · 00:00:07]", 7.0),
    ],
)
def test_citations_parse_back_to_session_and_second(text, expected):
    assert playback.parse_citation(text) == ("2026-01-02-maria-lopez-boilers", expected)


def test_citation_format_and_bad_times():
    from tacit.core.errors import UsageError

    assert excerpts.citation("s1", "Maria Lopez", 3723.4) == "[s1 · Maria Lopez · 01:02:03]"
    assert excerpts.citation("s1", "Maria Lopez", None) == "[s1 · Maria Lopez]"
    assert [timefmt.media_seconds(s) for s in (7200.0, 754.5, 1234567.891)] == [
        "7200", "754.5", "1234567.89",
    ]  # fmt: skip
    for bad in ("s1@", "s1@-3", "s1@1:2:3:4", "[s1 · Maria]", ""):
        with pytest.raises(UsageError):
            playback.parse_citation(bad)


def test_codes_and_terms():
    found = terms.content_terms("Where is the 7741-KX-22 gasket for pump 2 kept, and AHU-3?")
    assert found == ("7741-kx-22", "gasket", "pump", "kept", "ahu-3")
    assert [t for t in found if terms.is_code(t)] == ["7741-kx-22", "ahu-3"]
    assert terms.stem("resetting") == terms.stem("resets") == "reset"


def test_remembering_embedder_embeds_each_text_once():
    from tacit.index.embedder import FakeEmbedder

    class Counting(FakeEmbedder):  # FAKE model: counts the texts it is asked to embed
        seen: list[str] = []

        def embed(self, texts):
            self.seen.extend(texts)
            return super().embed(texts)

    inner = Counting()
    memo = warm.RememberingEmbedder(inner, keep=2)
    first = memo.embed(["a question"])
    both = memo.embed(["a question", *[f"topic {n}" for n in range(5)]])
    assert inner.seen == ["a question", *[f"topic {n}" for n in range(5)]]
    assert (both[0] == first[0]).all() and both.shape == (6, inner.dimension)
    assert memo.embed([]).shape[0] == 0 and memo.model_id == inner.model_id
