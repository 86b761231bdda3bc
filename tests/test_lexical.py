"""The lexical index's tokenizer: codes and part numbers survive, stems match, and an index made
by another tokenizer is refused with a hint rather than searched wrongly (real bm25s)."""

from __future__ import annotations

import json

import pytest

from tacit.core import workspace
from tacit.core.errors import IndexMismatch
from tacit.index import lexical
from tacit.index.chunker import Chunk


def _chunk(n: int, text: str, speakers=("Maria Lopez",)) -> Chunk:
    return Chunk(
        id=f"s{n}:{n}",
        session=f"s{n}",
        expert="maria-lopez",
        kind="interview",
        source="transcript",
        text=text,
        start=float(n),
        end=float(n + 1),
        speakers=tuple(speakers),
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("AHU-3 tripped", ["ahu-3", "ahu", "3", "trip"]),
        ("Fault E-414 again", ["fault", "e-414", "e", "414", "again"]),
        ("3000 ppm of sulphite", ["3000", "ppm", "sulphit"]),
        ("gasket kit 7741-KX-22", ["gasket", "kit", "7741-kx-22", "7741", "kx", "22"]),
        ("The pumps were running", ["pump", "run"]),
    ],
)
def test_tokens_keep_codes_whole_and_stem_words(text, expected):
    got = lexical.tokens(text)
    assert [t for t in got if t not in ("were",)] == expected


def test_a_code_is_not_confused_with_its_sibling(tmp_path):
    ws = workspace.init(tmp_path / "lex", "lexical")
    chunks = [
        _chunk(1, "Maria Lopez: AHU-4 runs on the roof and its filter is changed in May."),
        _chunk(2, "Maria Lopez: AHU-3 trips when the frost stat sees cold air; reset it twice."),
        _chunk(3, "Maria Lopez: The chiller vendor has the AHU manuals in the blue binder."),
    ]
    lexical.build(ws, chunks)
    index = lexical.LexicalIndex.load(ws)
    found = index.search("What do I do when AHU-3 trips?", 3, lambda c: True)
    assert found[0][0].id == chunks[1].id
    assert found[0][1] > 1.5 * found[1][1]  # the whole code counts, not just "ahu" and "3"
    # stems: "tripping" finds "trips"
    assert index.search("tripping", 3, lambda c: True)[0][0].id == chunks[1].id
    # a question's rare words held word for word
    cover = index.coverage_of("AHU-3 frost stat")
    assert cover(chunks[1]) == pytest.approx(1.0)
    assert cover(chunks[0]) < 0.3


def test_speakers_named_in_a_question(tmp_path):
    ws = workspace.init(tmp_path / "lex", "lexical")
    chunks = [
        _chunk(
            1,
            "Marketing: The remote must look fancy.\nProject Manager: Agreed.",
            speakers=("Marketing", "Project Manager"),
        ),  # fmt: skip
        _chunk(
            2, "Industrial Designer: Rubber buttons cost more.", speakers=("Industrial Designer",)
        ),
    ]
    lexical.build(ws, chunks)
    index = lexical.LexicalIndex.load(ws)
    assert index.speakers_named("What did marketing think of the buttons?") == ("Marketing",)
    assert index.speakers_named("What did the designer think?") == ()
    # by the first word of a name, when no whole name is in the question
    assert index.speakers_named("What did the industrial team want?") == ("Industrial Designer",)
    assert index.speakers_named("Did Marketing and the project lead agree?") == ("Marketing",)
    assert index.sessions_with_speakers(["Industrial Designer"]) == {"s2"}
    assert index.speaker_share(chunks[0], "Marketing") == pytest.approx(5 / 6)


def test_an_index_made_by_another_tokenizer_asks_for_a_rebuild(tmp_path):
    ws = workspace.init(tmp_path / "lex", "lexical")
    lexical.build(ws, [_chunk(1, "Maria Lopez: AHU-3 trips.")])
    meta = lexical.lexical_dir(ws) / lexical.META_NAME
    data = json.loads(meta.read_text())
    data["tokenizer"] = lexical.TOKENIZER_VERSION - 1
    meta.write_text(json.dumps(data))
    with pytest.raises(IndexMismatch) as refused:
        lexical.LexicalIndex.load(ws)
    assert "--rebuild" in refused.value.hint
    # the stored digest names the tokenizer too, so `tacit index` rebuilds it by itself
    assert lexical.digest(["a"]) != lexical.stored_digest(ws)
