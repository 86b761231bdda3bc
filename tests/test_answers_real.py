"""The answer a protégé reads, on a small real KB (real embedding model, Chroma, BM25): the
headline is the expert's sentence that answers, cited where and by whom it was said; jargon is
answered from its exact words; an out-of-scope question is a gap naming the right expert; an
interviewer's follow-up note is never an answer.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tacit.ask import warm
from tacit.core import config, workspace
from tacit.records import experts, sessions
from tacit.records import transcript as transcript_model
from tacit.records.sessions import Answer

INTERVIEWER = "Priya Shah"
EXPERT = "Maria Lopez"
BURNER = [  # the expert's long turn, one segment a sentence, as Whisper writes them
    "Burner three is the oldest one we have, it came over from the Leeds site years ago.",
    "It runs a little rich in winter and the sight glass soots up, which is normal.",
    "When its flame goes out, shut the gas valve at once and phone me before any relight.",
    "Never ignore that one.",
    "The other burners relight on their own and you can leave them be.",
]
TURNS = [
    (INTERVIEWER, ["Thanks for your time, Maria. Tell me about the burners in the boiler house."]),
    (EXPERT, BURNER),
    (INTERVIEWER, ["And the water chemistry, what do the lab numbers mean?"]),
    (
        EXPERT,
        [
            "Keep the sulphite residual between twenty and forty parts per million.",
            "If the conductivity climbs past 3000 ppm, blow the boiler down for a minute.",
        ],
    ),
    (INTERVIEWER, ["Who fixes the forklift when it breaks?"]),
    (EXPERT, ["Dev in the warehouse has the keys and the service book for the forklift."]),
]
NOTE = "Ask her again how the chlorine dosing pump seals are swapped"
THIRD = BURNER[2]


def _segments() -> tuple[tuple[transcript_model.Segment, ...], dict[str, float]]:
    segments, clock, started = [], 30.0, {}
    for speaker, said in TURNS:
        for sentence in said:
            length = round(len(sentence.split()) / 2.5, 2)
            segments.append(
                transcript_model.Segment(clock, round(clock + length, 2), speaker, sentence)
            )
            started[sentence] = clock
            clock = round(clock + length + 0.4, 2)
        clock += 1.0
    return tuple(segments), started


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    from tacit.index import indexer

    root = tmp_path_factory.mktemp("answers") / "kb"
    ws = workspace.init(root, "answers")
    experts.add(ws, EXPERT, role="Boiler Operator", topics=("steam boilers", "water chemistry"))
    experts.add(ws, "Tom Reyes", role="Electrician", topics=("standby generator", "switchgear"))
    session = sessions.create(ws, "maria-lopez", "interview", "boilers")
    segments, started = _segments()
    transcript_model.save(
        transcript_model.path(ws, session.id),
        transcript_model.Transcript(segments=segments, duration=segments[-1].end),
    )
    followed = Answer("q1", "Chemistry", "How is the chlorine dosed?", NOTE, status="follow-up")
    sessions.create(ws, "maria-lopez", "interview", "chemistry", answers=(followed,))
    indexer.run(ws)
    return {"root": root, "session": session.id, "started": started}


@pytest.fixture
def kb(built, tmp_path) -> Path:
    root = tmp_path / "kb"
    shutil.copytree(built["root"], root)
    return root


def _ask(root: Path, question: str):
    ws = workspace.Workspace(root, config.load(root / "tacit.toml"))
    (answer,) = warm.ask_each(ws, [question], log=False)
    return answer


def test_headline_is_the_sentence_that_answers_cited_at_its_own_time_and_speaker(built, kb):
    answer = _ask(kb, "What should I do if the flame on burner three goes out?")
    assert not answer.not_captured
    assert answer.answer.startswith(THIRD), answer.answer
    # the sentence after it in the same reply completes it
    assert "Never ignore that one." in answer.answer
    assert INTERVIEWER not in answer.answer
    source = answer.source
    assert source is not None
    assert (source.session, source.speaker) == (built["session"], EXPERT)
    assert source.start == pytest.approx(built["started"][THIRD])
    assert source.citation in answer.answer
    # the top excerpt begins at its cited moment, by its speaker
    top = answer.results[0]
    assert top.text.startswith(f"{EXPERT}: ")
    first_words = top.text.removeprefix(f"{EXPERT}: ")
    assert first_words.startswith(THIRD)
    assert top.start == pytest.approx(built["started"][THIRD])
    assert top.speaker == EXPERT


def test_a_jargon_only_question_is_answered_from_its_exact_words(kb):
    for question in ("sulphite residual", "3000 ppm"):
        answer = _ask(kb, question)
        assert not answer.not_captured, (question, answer.relevance, answer.coverage)
        assert question.split()[0] in answer.answer, answer.answer


def test_an_out_of_scope_question_is_a_gap_that_names_the_right_expert(kb):
    answer = _ask(kb, "How often is the standby generator load tested?")
    assert answer.not_captured
    assert answer.answer == "" and answer.source is None
    assert [s.slug for s in answer.experts][:1] == ["tom-reyes"]


def test_a_follow_up_note_is_an_open_question_never_an_answer(kb):
    answer = _ask(kb, "How are the chlorine dosing pump seals swapped?")
    shown = [answer.answer] + [r.text for r in answer.results]
    assert not any("dosing pump seals" in text for text in shown)
    runner = CliRunner()
    from tacit.cli import app

    agenda = runner.invoke(app, ["--kb", str(kb), "expert", "agenda", "maria-lopez"])
    assert agenda.exit_code == 0, agenda.output
    assert "chlorine" in agenda.output


def test_answer_source_is_in_json_and_file_output(built, kb, tmp_path):
    from tacit.cli import app

    runner = CliRunner()
    question = "What should I do if the flame on burner three goes out?"
    one = runner.invoke(app, ["--kb", str(kb), "ask", question, "--json", "--no-log"])
    assert one.exit_code == 0, one.output
    data = json.loads(one.stdout)
    assert set(data["answer_source"]) == {"session", "speaker", "start", "end", "citation", "media"}
    assert data["answer_source"]["speaker"] == EXPERT
    assert data["answer_source"]["start"] == pytest.approx(built["started"][THIRD])
    assert data["results"][0]["start"] == pytest.approx(built["started"][THIRD])
    questions = tmp_path / "q.txt"
    questions.write_text(f"{question}\nHow often is the standby generator load tested?\n")
    many = runner.invoke(app, ["--kb", str(kb), "ask", "--file", str(questions), "--no-log"])
    assert many.exit_code == 0, many.output
    lines = [json.loads(line) for line in many.stdout.splitlines()]
    assert lines[0]["answer_source"] == data["answer_source"]
    assert lines[1]["not_captured"] and lines[1]["answer_source"] is None


def test_an_excerpt_that_starts_late_in_its_passage_reads_on_into_the_next(built, kb):
    answer = _ask(kb, "Do the other burners relight by themselves?")
    top = answer.results[0]
    last = BURNER[-1]
    assert top.text.removeprefix(f"{EXPERT}: ").startswith(last), top.text
    # one sentence alone would not stand: the passage after it follows, and the span with it
    assert "water chemistry" in top.text
    assert top.start == pytest.approx(built["started"][last])
    assert top.end > built["started"]["And the water chemistry, what do the lab numbers mean?"]
