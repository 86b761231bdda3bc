"""A German recording with the multilingual base model (installed by the test extras): the
language detected and recorded, the German kept as the record, an English rendering beside each
segment, and an English question answered from it with the German shown, cited to the second."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tacit.records import transcript as transcript_model

AUDIO = Path(__file__).parent / "fixtures" / "audio"
# where each sentence of german.ogg starts: espeak-ng's lengths (4.555, 2.627, 3.532 s) and
# the 0.8 s gaps of tests/fixtures/make_audio.sh
SENTENCE_STARTS = (0.0, 5.355, 8.782)


@pytest.fixture
def german_session(run, kb):
    assert run("expert", "add", "Jonas Weber").exit_code == 0
    result = run("transcribe", AUDIO / "german.ogg", "--expert", "jonas-weber", "--model",
                 "base", "--diarize", "off", "--json")  # fmt: skip
    assert result.exit_code == 0, result
    return json.loads(result.stdout)["id"]


def test_base_detects_german_and_keeps_it_with_english_beside_it(kb, german_session):
    transcript = transcript_model.of_session(kb, german_session)
    assert transcript.language == "de"
    assert transcript.settings["language_probability"] > 0.6  # measured 0.89
    assert transcript.model.startswith("base")
    segments = transcript.segments
    assert len(segments) == 3
    for segment, start in zip(segments, SENTENCE_STARTS, strict=True):
        assert abs(segment.start - start) < 0.5
        assert segment.english and segment.english != segment.text
    original = " ".join(s.text for s in segments)
    assert "Pumpe" in original and "Filter" in original and "Wenn der Alarm kommt" in original
    assert "alarm comes" in segments[2].english.lower()


def test_an_english_question_is_answered_from_the_rendering_with_the_german(run, german_session):
    assert run("index").exit_code == 0
    result = run("ask", "What do you do when the alarm comes?", "--json")
    assert result.exit_code == 0, result
    answer = json.loads(result.stdout)
    assert not answer["not_captured"]
    source = answer["answer_source"]
    assert abs(source["start"] - SENTENCE_STARTS[2]) < 0.5
    assert source["language"] == "de" and "Wenn der Alarm kommt" in source["original"]
    assert "Pumpe" not in source["original"]  # the moment's own words, not the whole passage
    assert "alarm comes" in answer["answer"].lower()
    top = answer["results"][0]
    assert top["english"] == top["text"] and "alarm" in top["english"].lower()
    assert "Alarm" in top["original"] and top["session"] == german_session

    shown = run("ask", "What do you do when the alarm comes?")
    assert shown.exit_code == 0, shown
    assert "said in de: SPEAKER_1: Wenn der Alarm kommt" in shown.stdout
