"""The small KB with fixed ids and the fake answerer that the pack tests share (golden output
must not depend on today's date; topic answers are fixed excerpts, named a fake)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from tacit.ask.answers import Answer
from tacit.ask.excerpts import Excerpt, Suggestion, citation
from tacit.packs import build, definition, render
from tacit.records import sessions
from tacit.records.sessions import Answer as GuideAnswer
from tacit.records.sessions import Media, Session, Step

GOLDEN = Path(__file__).parent / "golden" / "packs"
REGEN = os.environ.get("TACIT_REGEN_GOLDEN") == "1"
START = dt.date(2026, 3, 2)
BUILT_ON = dt.date(2026, 3, 20)
EXIT = "2026-03-02-maria-lopez-exit"
BLEED = "2026-03-03-maria-lopez-bleed"
PRIVATE = "2026-03-04-maria-lopez-private"


# --- a small KB with fixed ids (golden output must not depend on today's date) ----------------


def _kb(kb, run, step_text: str = "Open the bleed screw until the water runs clear") -> None:
    for args in (
        ["Maria Lopez", "--role", "Shift lead", "--topic", "cooling loop", "--topic", "alarms"],
        ["Sam Okafor", "--role", "Instrument tech", "--contact", "Dave Kim: chiller vendor"],
    ):
        result = run("expert", "add", *args)
        assert result.exit_code == 0, result
    media = kb.session_dir(EXIT) / "media" / "interview.wav"
    media.parent.mkdir(parents=True, mode=0o700)
    media.write_bytes(b"RIFF fake wav for link checks")
    sessions.save(
        kb,
        Session(
            id=EXIT,
            expert="maria-lopez",
            title="Exit interview",
            media=(Media("media/interview.wav", sessions.sha256_of(media)),),
            answers=(GuideAnswer("q1", "Role", "What fails?", "The pump seal.", "answered", 30.0),),
        ),
    )
    steps = (
        Step(1, 10.0, "Close the return valve", "Quarter turn only", "It sticks"),
        Step(2, 20.0, step_text, "Watch for air", "Air locks the pump", practise=True),
        Step(3, 30.0, "Restart the pump", "", "", practise=False),
    )
    bleed_media = kb.session_dir(BLEED) / "media" / "bleed.wav"
    bleed_media.parent.mkdir(parents=True, mode=0o700)
    bleed_media.write_bytes(b"RIFF fake")
    sessions.save(
        kb,
        Session(
            id=BLEED,
            expert="maria-lopez",
            kind="observation",
            task="Bleeding the cooling loop",
            media=(Media("media/bleed.wav", "x", offset=5.0),),
            steps=steps,
        ),
    )
    sessions.save(
        kb,
        Session(
            id=PRIVATE,
            expert="maria-lopez",
            kind="observation",
            task="Private matter",
            restricted=True,
            steps=(Step(1, 1.0, "Secret glycol bypass", practise=True),),
        ),
    )


def _new(run, name="handover", template="role-handover", weeks=6, start=START) -> None:
    result = run(
        "pack",
        "new",
        name,
        "--role",
        "Shift lead",
        "--protege",
        "Ana Ruiz",
        "--mentor",
        "Joe Bloggs",
        "--start",
        start.isoformat(),
        "--weeks",
        str(weeks),
        "--template",
        template,
        "--expert",
        "maria-lopez",
    )
    assert result.exit_code == 0, result


def _excerpt(
    session: str, speaker: str, start: float, text: str, media: str = "", dense: float = 0.8
) -> Excerpt:
    return Excerpt(
        chunk_id=f"{session}:{start}",
        session=session,
        expert="maria-lopez",
        expert_name="Maria Lopez",
        role="Shift lead",
        speaker=speaker,
        start=start,
        end=start + 10,
        text=text,
        score=0.9,
        citation=citation(session, speaker, start),
        media=f"{media}#t={start:g}" if media else None,
        dense_score=dense,
    )


class FakeAnswerer:
    """A fake answerer: fixed answers per question; any other question is not captured."""

    def __init__(self, answers: dict[str, tuple[str, list[Excerpt]]]):
        self.answers = answers

    def answer(self, question: str) -> Answer:
        if question not in self.answers:
            who = (Suggestion("maria-lopez", "Maria Lopez", "Shift lead", "topics: alarms"),)
            return Answer(question, "", True, (), experts=who)
        text, excerpts = self.answers[question]
        return Answer(question, text, False, tuple(excerpts))

    def who_knows(self, topic: str) -> list:
        return []


MEDIA = f"sessions/{EXIT}/media/interview.wav"
COOLING = "Cooling loop: how is it done here, and what goes wrong?"
DUTIES = "What are the recurring duties of this role: daily, weekly, monthly and yearly?"


def _fake() -> FakeAnswerer:
    return FakeAnswerer(
        {
            COOLING: (
                f"Bleed it before restarting. {citation(EXIT, 'Maria Lopez', 83.4)}",
                [
                    _excerpt(
                        EXIT,
                        "Maria Lopez",
                        83.4,
                        "Interviewer: How do you restart it?\nMaria Lopez: Bleed it first.",
                        MEDIA,
                    ),
                    _excerpt(BLEED, "Maria Lopez", 15.0, "Step 2: Open the bleed screw"),
                    # the nearest passage, but not relevant on its own: a topic is not padded
                    _excerpt(
                        EXIT, "Maria Lopez", 200.0, "Maria Lopez: Lunch is at noon.", MEDIA, 0.2
                    ),
                ],
            ),
            DUTIES: ("", [_excerpt(EXIT, "Maria Lopez", 3725.0, "Maria Lopez: Monday.", MEDIA)]),
        }
    )


def _build(kb, name="handover", answerer=None) -> build.Built:
    pack = definition.load(kb, name)
    built = build.build(kb, pack, answerer or _fake(), today=BUILT_ON)
    render.write(kb, built)
    return built


# --- pack new -------------------------------------------------------------------------------


CHECKPOINTED = """---
role: Shift lead
protege: Ana Ruiz
mentor: Joe Bloggs
start: 2026-03-02
weeks: 4
experts: [maria-lopez]
---

# Plan

## Checkpoints

- [week 1] safety: Walks the isolation points (reviewer: maria-lopez)
- [week 2] checks: Does the start-of-shift checks alone (reviewer: maria-lopez)
- [week 3] faults: Diagnoses two faults (reviewer: Joe Bloggs)
- [week 4] solo: Runs a shift alone (reviewer: maria-lopez)
"""
