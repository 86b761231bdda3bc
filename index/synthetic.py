"""Knowledge bases made up for tests and benchmarks: sessions and transcripts written through the
real session and transcript code, with deterministic times (speech at 2.5 words a second)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tacit.core.workspace import Workspace
    from tacit.records.sessions import Session

WORDS_PER_SECOND = 2.5
TURN_GAP_S = 0.6

_SUBJECTS = (
    "pump", "valve", "drive", "sensor", "boiler", "compressor", "conveyor", "chiller", "breaker",
    "filter", "gauge", "relay", "motor", "alarm", "hatch", "screen", "tank", "fan", "gearbox",
)  # fmt: skip
_VERBS = (
    "trips", "drifts", "sticks", "leaks", "shakes", "overheats", "reads high", "reads low",
    "hunts", "chatters", "stalls", "clogs", "rattles", "surges", "freezes",
)  # fmt: skip
_WHEN = (
    "on hot afternoons", "after a power dip", "during the night shift", "when the tank is full",
    "after a storm", "on Monday mornings", "when it is cold", "after maintenance",
    "when two pumps run together", "during the weekly test", "after a firmware update",
)  # fmt: skip
_FIXES = (
    "reset it once and log it", "check the painted gauge first", "cap the speed at 47 hertz",
    "call the contractor and ask for the duty engineer", "open the bypass a quarter turn",
    "clean the strainer before anything else", "leave the setpoints alone",
    "swap to the standby unit", "wait ten minutes before restarting it",
)  # fmt: skip


def transcript_from_turns(turns: Sequence[tuple[str, str]], media_file: str = "") -> Any:
    """(speaker, text) turns -> a Transcript with one segment a turn and deterministic times."""
    from tacit.records.transcript import Segment, Transcript

    segments, clock = [], 0.0
    for speaker, text in turns:
        duration = max(len(text.split()), 1) / WORDS_PER_SECOND
        segments.append(Segment(round(clock, 2), round(clock + duration, 2), speaker, text))
        clock += duration + TURN_GAP_S
    return Transcript(segments=tuple(segments), media_file=media_file, duration=clock)


def write_session(
    ws: Workspace,
    expert: str,
    label: str,
    turns: Sequence[tuple[str, str]],
    kind: str = "interview",
    **fields: Any,
) -> Session:
    """A session with a recording entry and its transcript, as capture would leave them."""
    from tacit.records import sessions
    from tacit.records import transcript as transcript_module
    from tacit.records.sessions import Media

    fields.setdefault("media", (Media(file="media/recording.m4a", sha256="0" * 64),))
    session = sessions.create(ws, expert, kind, label, **fields)
    if turns:
        media_file = session.media[0].file if session.media else ""
        path = transcript_module.path(ws, session.id)
        transcript_module.save(path, transcript_from_turns(turns, media_file))
    return session


def sentence(rng: random.Random) -> str:
    subject, verb, when, fix = (rng.choice(x) for x in (_SUBJECTS, _VERBS, _WHEN, _FIXES))
    number = rng.randint(1, 40)
    return f"When {subject} {number} {verb} {when}, {fix}."


def turns(rng: random.Random, count: int, speakers: Sequence[str] = ("Ana", "Expert")) -> list:
    """Alternating question and answer turns of made-up plant talk (about 40 words a turn)."""
    made = []
    for n in range(count):
        speaker = speakers[n % len(speakers)]
        if n % 2 == 0:
            made.append((speaker, f"What happens with the {rng.choice(_SUBJECTS)} then?"))
        else:
            made.append((speaker, " ".join(sentence(rng) for _ in range(rng.randint(2, 5)))))
    return made
