"""Fuzzing: importers, the guide parser, the front-matter reader and tacit.toml on random and
mutated inputs raise only tacit's own errors: never a crash, never a hang."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tacit.capture import formats
from tacit.core import config, fileio
from tacit.core.errors import TacitError
from tacit.records import guides

FIXTURES = Path(__file__).parent / "fixtures"
FUZZ = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])

SEEDS = {
    "vtt": "WEBVTT\n\n1\n00:00:01.000 --> 00:00:04.000\n<v Maria Lopez>Check the strainer.\n\n"
    "00:00:05.000 --> 00:00:07.500\nPriya: And then?\n",
    "srt": "1\n00:00:01,000 --> 00:00:04,000\nMaria: Check the strainer.\n\n"
    "2\n00:00:05,000 --> 00:00:07,500\nPriya: And then?\n",
    "txt": "[00:00:01] Maria: Check the strainer.\n[00:00:05] Priya: And then?\n",
    "json": '{"segments": [{"start": 1.0, "end": 4.0, "text": "Check it.", "speaker": "M",'
    ' "words": [{"start": 1.0, "end": 1.5, "word": "Check"}]}]}',
}
GUIDE_SEED = (FIXTURES.parent.parent / "templates" / "guides" / "exit-interview.md").read_text()
FRONT_SEED = "---\nname: Maria Lopez\nrole: Shift lead\ntopics: [pumps, alarms]\n---\n# Notes\n"
TOML_SEED = config.template("fuzz")


@st.composite
def mutated(draw, seed: str) -> str:
    """The seed with random slices deleted, duplicated or replaced by random text."""
    text = seed
    for _ in range(draw(st.integers(1, 6))):
        if not text:
            break
        start = draw(st.integers(0, len(text) - 1))
        end = draw(st.integers(start, min(len(text), start + 40)))
        action = draw(st.sampled_from(["delete", "duplicate", "replace", "insert"]))
        noise = draw(st.text(alphabet=st.characters(codec="utf-8"), max_size=20))
        if action == "delete":
            text = text[:start] + text[end:]
        elif action == "duplicate":
            text = text[:end] + text[start:end] + text[end:]
        elif action == "replace":
            text = text[:start] + noise + text[end:]
        else:
            text = (
                text[:start]
                + draw(
                    st.sampled_from(
                        ["-->", ":", "\n\n", "<v ", "---\n", "{", "]", "## ", "- ", "> "]
                    )
                )
                + noise
                + text[start:]
            )
    return text


def _only_tacit_errors(call) -> None:
    try:
        call()
    except TacitError as exc:
        assert exc.message and "\n" not in exc.message.strip()


@FUZZ
@given(st.sampled_from(sorted(SEEDS)), st.data())
def test_importers_on_mutated_transcripts(fmt, data):
    text = data.draw(mutated(SEEDS[fmt]))
    reader = {
        "vtt": formats.read_vtt,
        "srt": formats.read_srt,
        "txt": formats.read_txt,
        "json": formats.read_json,
    }[fmt]
    _only_tacit_errors(lambda: reader(text, f"fuzz.{fmt}"))


@FUZZ
@given(st.sampled_from(sorted(SEEDS)), st.binary(max_size=300))
def test_importers_on_random_bytes(tmp_path_factory, fmt, blob):
    path = tmp_path_factory.mktemp("fuzz") / f"random.{fmt}"
    path.write_bytes(blob)
    _only_tacit_errors(lambda: formats.read(path, fmt))


@FUZZ
@given(st.data())
def test_guide_parser_on_mutated_guides(data):
    text = data.draw(mutated(GUIDE_SEED))
    guide, problems = guides.parse(text, Path("fuzz.md"))
    assert guide is not None or problems
    assert all(p.line >= 1 for p in problems)


@FUZZ
@given(st.text(max_size=400))
def test_guide_parser_on_random_text(text):
    guide, problems = guides.parse(text, Path("fuzz.md"))
    assert guide is not None or problems


@FUZZ
@given(st.data())
def test_front_matter_reader_on_mutated_files(data):
    text = data.draw(mutated(FRONT_SEED))
    _only_tacit_errors(lambda: fileio.split_front_matter(text, "fuzz.md"))


@FUZZ
@given(st.data())
def test_config_on_mutated_toml(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("cfg") / "tacit.toml"
    path.write_text(data.draw(mutated(TOML_SEED)), encoding="utf-8")
    _only_tacit_errors(lambda: config.load(path))
