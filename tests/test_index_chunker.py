"""The chunker: passages follow speaker turns, never cut a sentence, and carry media times."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tacit.index import chunker, passages
from tacit.records import sessions
from tacit.records import transcript as tr
from tacit.records.sessions import Answer, Media, Step
from tacit.records.transcript import Segment, Transcript, Word


def _turn(speaker: str, start: float, sentences: list[str], seconds_per_word=0.5) -> Segment:
    text = " ".join(sentences)
    return Segment(start, start + seconds_per_word * len(text.split()), speaker, text)


def _transcript(*segments: Segment, media_file: str = "media/talk.m4a") -> Transcript:
    return Transcript(segments=segments, media_file=media_file)


def _session(kb, **fields):
    fields.setdefault("media", (Media(file="media/talk.m4a", sha256="0" * 64, offset=0.0),))
    return sessions.create(kb, "maria-lopez", fields.pop("kind", "interview"), "exit", **fields)


def test_chunks_follow_speaker_turns_and_carry_their_times(kb):
    # three exchanges of a 4-word question and an 8-word answer: one passage each
    segments, clock = [], 0.0
    for n in range(3):
        question = _turn("Ana", clock, [f"What about pump {n}?"])
        answer = _turn("Maria", question.end + 1, [f"Pump {n} runs hot in summer.", "Cap it."])
        segments += [question, answer]
        clock = answer.end + 2
    session = _session(kb)
    chunks = chunker.chunk_session(kb, session, _transcript(*segments), chunk_words=12)
    assert len(chunks) == 3
    for n, chunk in enumerate(chunks):
        question, answer = segments[2 * n], segments[2 * n + 1]
        assert chunk.text == f"Ana: {question.text}\nMaria: {answer.text}"
        assert (chunk.start, chunk.end) == (question.start, answer.end)
        assert chunk.speakers == ("Ana", "Maria")
        assert chunk.source == "transcript" and chunk.kind == "interview"
        assert chunk.session == session.id and chunk.expert == "maria-lopez"
        assert chunk.media == f"sessions/{session.id}/media/talk.m4a"
        assert chunk.id.startswith(f"{session.id}:")
        assert chunk.content_hash == chunker.content_hash(chunk.text)


def test_long_turn_is_cut_between_sentences_at_word_times(kb):
    sentences = [f"Sentence number {n} has exactly seven words." for n in range(6)]
    text = " ".join(sentences)
    words = tuple(
        Word(start=10.0 + i, end=10.5 + i, word=f" {token}") for i, token in enumerate(text.split())
    )
    segment = Segment(10.0, 10.5 + len(words) - 1, "Maria", text, words)
    chunks = chunker.chunk_session(kb, _session(kb), _transcript(segment), chunk_words=15)
    assert [c.text.count("Sentence number") for c in chunks] == [2, 2, 2]
    for n, chunk in enumerate(chunks):
        assert chunk.text.startswith("Maria: Sentence number")
        assert chunk.text.endswith("words.")
        # the first word of sentence 2n starts 14n seconds in; the chunk ends with its last word
        assert chunk.start == 10.0 + 14 * n
        assert chunk.end == 10.5 + 14 * n + 13


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    turns=st.lists(
        st.tuples(
            st.sampled_from(["Ana", "Maria", "Tom"]),
            st.lists(st.integers(min_value=1, max_value=18), min_size=1, max_size=6),
        ),
        min_size=1,
        max_size=25,
    ),
    chunk_words=st.integers(min_value=10, max_value=120),
)
def test_no_sentence_is_ever_cut_and_nothing_is_lost(kb, turns, chunk_words):
    segments, clock, spoken = [], 0.0, []
    for speaker, lengths in turns:
        sentences = [" ".join(["word"] * (n - 1) + [f"end{n}."]) for n in lengths]
        segment = _turn(speaker, clock, sentences)
        segments.append(segment)
        spoken.append((speaker, segment.text))
        clock = segment.end + 0.5
    session = _session(kb)
    chunks = chunker.chunk_session(kb, session, _transcript(*segments), chunk_words)
    # every chunk ends at the end of a sentence, and the chunks in order give back every word
    assert all(re.search(r"end\d+\.$", c.text) for c in chunks)
    rebuilt = " ".join(re.sub(r"^\w+: ", "", line) for c in chunks for line in c.text.split("\n"))
    assert rebuilt.split() == " ".join(text for _, text in spoken).split()
    assert all(a.end <= b.start for a, b in zip(chunks, chunks[1:], strict=False))
    assert len({c.id for c in chunks}) == len(chunks)


def test_transcript_chunks_carry_the_question_they_answer_in_media_time(kb):
    # the recording starts 30 s into the session; questions were stamped in session time
    answers = (
        Answer("q1", "Pumps", "What about the pumps?", "Pump 1 shakes.", "answered", at=40.0),
        Answer("q2", "Alarms", "Which alarms matter?", "", "pending", at=100.0),
        Answer("q3", "People", "Who do you call?", "Maureen.", "answered", at=None),
    )
    media = (Media(file="media/talk.m4a", sha256="0" * 64, offset=30.0),)
    session = _session(kb, media=media, answers=answers)
    segments = (
        _turn("Ana", 0.0, ["Is it recording?", "Good, the light is on now."]),  # no question yet
        _turn("Ana", 10.0, ["So, what about the pumps?"]),  # q1 asked at media 10 s
        _turn("Maria", 14.0, ["Pump one shakes above forty eight hertz.", "We cap it."]),
        _turn("Ana", 70.0, ["And which alarms matter?"]),  # q2 asked at media 70 s
        _turn("Maria", 74.0, ["The high level alarm in well A matters most."]),
    )
    chunks = chunker.chunk_session(kb, session, _transcript(*segments), chunk_words=10)
    spoken = [c for c in chunks if c.source == "transcript"]
    by_start = {c.start: c for c in spoken}
    assert by_start[0.0].question == "" and by_start[0.0].section == ""
    assert by_start[10.0].question == "What about the pumps?"
    assert by_start[10.0].section == "Pumps"
    assert by_start[70.0].question == "Which alarms matter?"
    assert by_start[70.0].section == "Alarms"

    typed = [c for c in chunks if c.source == "answer"]
    assert [c.text for c in typed] == [
        "Q: What about the pumps?\nA: Pump 1 shakes.",
        "Q: Who do you call?\nA: Maureen.",
    ]
    # session 40 s is media 10 s; it lasts until the next stamped question (session 100 s)
    assert (typed[0].start, typed[0].end) == (10.0, 70.0)
    assert typed[0].media == f"sessions/{session.id}/media/talk.m4a"
    assert (typed[1].start, typed[1].end, typed[1].media) == (None, None, "")
    assert typed[0].section == "Pumps" and typed[0].question == "What about the pumps?"


def test_observation_steps_become_step_chunks_with_their_time(kb):
    steps = (
        Step(1, 65.0, "Close valve V-12", key_point="quarter turn at a time", reason="hammer"),
        Step(2, 20.0, "Check the gauge"),  # before the recording started (offset 30)
    )
    media = (Media(file="media/walk.mp4", sha256="0" * 64, offset=30.0),)
    session = _session(kb, kind="observation", steps=steps, media=media, task="Pump changeover")
    chunks = chunker.chunk_session(kb, session, None, chunk_words=90)
    first, second = sorted(chunks, key=lambda c: c.text)
    assert (
        first.text == "Step 1: Close valve V-12\nKey point: quarter turn at a time\nReason: hammer"
    )
    assert (first.source, first.kind, first.section) == ("step", "observation", "Pump changeover")
    assert (first.start, first.media) == (35.0, f"sessions/{session.id}/media/walk.mp4")
    # no recording at session 20 s: the step keeps its session time and cites no media
    assert (second.start, second.media) == (20.0, "")


def test_text_is_redacted_and_withdrawn_sessions_are_left_out(kb):
    toml = kb.root / "tacit.toml"
    toml.write_text(toml.read_text().replace("terms = []", 'terms = ["Maureen Fisk"]'))
    from tacit.core import workspace

    ws = workspace.current()
    kept = _session(ws, answers=(Answer("q", "S", "Who?", "Call Maureen Fisk.", "answered"),))
    tr.save(
        ws.session_dir(kept.id) / "transcript.json",
        _transcript(_turn("Maureen Fisk", 0.0, ["Ring maureen fisk on 07700 900123."])),
    )
    gone = _session(ws, consent={"status": "withdrawn"})
    tr.save(ws.session_dir(gone.id) / "transcript.json", _transcript(_turn("X", 0, ["Secret."])))
    chunks = chunker.chunk_kb(ws)
    assert {c.session for c in chunks} == {kept.id}
    texts = " ".join(c.text + " ".join(c.speakers) for c in chunks)
    assert "Maureen" not in texts and "maureen" not in texts and "900123" not in texts
    assert "[redacted]" in texts


def test_ids_are_deterministic_and_change_only_with_their_chunk(kb):
    segments = tuple(_turn(s, 10.0 * i, [f"Turn {i} says a thing."]) for i, s in enumerate("ABAB"))
    session = _session(kb)
    first = chunker.chunk_session(kb, session, _transcript(*segments), chunk_words=10)
    again = chunker.chunk_session(kb, session, _transcript(*segments), chunk_words=10)
    assert [c.id for c in first] == [c.id for c in again]
    edited = segments[:3] + (_turn("B", 30.0, ["Turn 3 says another thing."]),)
    changed = chunker.chunk_session(kb, session, _transcript(*edited), chunk_words=10)
    assert [c.id for c in changed][:-1] == [c.id for c in first][:-1]
    assert changed[-1].id != first[-1].id


def test_a_title_or_e_g_does_not_end_a_sentence(kb):
    said = "Ask Mrs. Harrington about the cake, e.g. the lemon one. Then go home."
    found = passages.sentences([Segment(0.0, 10.0, "Maria", said)], chunk_words=90)
    assert [s.text for s in found] == [
        "Ask Mrs. Harrington about the cake, e.g. the lemon one.",
        "Then go home.",
    ]
