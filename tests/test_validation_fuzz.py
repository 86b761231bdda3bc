"""Every reader fuzzed with random records (a TacitError with one line, or a record; never
anything else), and writers of records that never wait for the index nor lose a change."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tacit.admin import pending
from tacit.capture import formats
from tacit.core import validation, workspace
from tacit.core.errors import TacitError
from tacit.records import experts, sessions

from .conftest import FIXTURES, _refused

# ---------------------------------------------------------------- locks


HOLD_INDEX = textwrap.dedent(
    """
    import sys, time, click
    from tacit.core import workspace
    ws = workspace.current()
    with click.Context(click.Command("index"), info_name="tacit index"):
        with workspace.index_lock(ws):
            print("held", flush=True)
            time.sleep(60)
    """
)


def test_writers_of_records_do_not_wait_for_index(maria, run, tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_INDEX], stdout=subprocess.PIPE, text=True, env=os.environ
    )
    try:
        assert proc.stdout.readline().strip() == "held"
        assert run("expert", "add", "Sam Okafor").exit_code == 0
        vtt = tmp_path / "t.vtt"
        vtt.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nCheck the strainer.\n")
        imported = run("import", vtt, "--expert", "sam-okafor")
        assert imported.exit_code == 0, imported
        answers = tmp_path / "a.yaml"
        answers.write_text("pumps/q1: fine\n")
        started = run(
            "interview", "start", "--expert", "maria-lopez", "--guide", "small",
            "--answers", answers,
        )  # fmt: skip
        assert started.exit_code == 0, started
        # what changes the index too waits, and says for what
        result = run("forget", "--session", imported.stdout.strip(), "--yes")
        _refused(result, "`tacit index`", "the index of")
        assert (maria.session_dir(imported.stdout.strip())).is_dir()
    finally:
        proc.kill()
        proc.wait()
    with pending.writer_lock(maria, timeout=1):
        pass  # both locks free again


# ---------------------------------------------------------------- fuzz over every reader

FUZZ = settings(max_examples=80, deadline=3000, suppress_health_check=[HealthCheck.too_slow])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.dates(),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
SESSION_KEYS = ["id", "expert", "kind", "status", "answers", "media", "steps", "consent", "at"]


def _only_tacit_errors(call) -> None:
    try:
        call()
    except TacitError as exc:
        assert exc.message and "\n" not in exc.message.strip()


@FUZZ
@given(st.dictionaries(st.sampled_from(SESSION_KEYS + ["title", "offset"]), VALUES, max_size=8))
def test_session_reader_on_random_records(tmp_path_factory, meta):
    path = tmp_path_factory.mktemp("s") / "session.md"
    path.write_text("---\n" + yaml.safe_dump(meta, allow_unicode=True) + "---\n\nbody\n")
    _only_tacit_errors(lambda: sessions.load_file(path))


@FUZZ
@given(st.dictionaries(st.sampled_from(["name", "leaving_on", "attrition", "topics", "role"]),
                       VALUES, max_size=5))  # fmt: skip
def test_expert_reader_on_random_records(tmp_path_factory, meta):
    path = tmp_path_factory.mktemp("e") / "sam.md"
    path.write_text("---\n" + yaml.safe_dump(meta, allow_unicode=True) + "---\n\nbody\n")
    _only_tacit_errors(lambda: experts.load_file(path))


@FUZZ
@given(VALUES)
def test_transcript_readers_on_random_json(tmp_path_factory, value):
    from tacit.records import transcript

    text = json.dumps({"segments": value if isinstance(value, list) else [value]}, default=str)
    _only_tacit_errors(lambda: formats.read_json(text, "fuzz.json"))
    _only_tacit_errors(lambda: transcript.from_json(json.loads(text), "transcript.json"))
    path = tmp_path_factory.mktemp("t") / "transcript.json"
    path.write_text(json.dumps(value, default=str))
    _only_tacit_errors(lambda: transcript.load(path))


@FUZZ
@given(
    st.dictionaries(
        st.text(max_size=12) | st.sampled_from(["consent", "steps", "pumps/q1"]), VALUES, max_size=5
    ),
    st.booleans(),
)
def test_answers_reader_on_random_files(tmp_path_factory, data, steps):
    from tacit.interviews import question_loop
    from tacit.records import guides

    small = FIXTURES / "guides" / "small.md"
    guide, _problems = guides.parse(small.read_text(), small)
    path = tmp_path_factory.mktemp("a") / "answers.yaml"
    if steps:
        data = {"steps": list(data.values())}
    path.write_text(yaml.safe_dump(data, allow_unicode=True))

    def read() -> None:
        from tacit.interviews import observe
        from tacit.records import consent

        doc = question_loop.read_answers_file(path, guide, steps_allowed=True)
        observe.steps_from_file(doc, lambda: 0.0, 1)
        if doc.consent is not None:
            consent.from_mapping(doc.consent, "Maria Lopez", path)

    _only_tacit_errors(read)


@FUZZ
@given(
    st.sampled_from(["[", "{a: ", "- ", "&a ", "*a ", "!!python/object "]),
    st.integers(validation.MAX_DEPTH + 1, 3000),
)
def test_yaml_nesting_anchors_and_tags_are_refused(opener, depth):
    text = opener * depth + "x" if opener == "- " else "key: " + opener * depth
    with pytest.raises(yaml.YAMLError):
        validation.load_yaml(text)


@FUZZ
@given(st.dictionaries(st.sampled_from(["role", "protege", "mentor", "start", "weeks", "experts"]),
                       VALUES, max_size=6))  # fmt: skip
def test_pack_definition_reader_on_random_front_matter(tmp_path_factory, meta):
    from tacit.packs import definition

    root = tmp_path_factory.mktemp("kb")
    fields = {"name": "p", "role": "r", "protege": "a", "mentor": "b", "start": "2027-01-04",
              "weeks": 4, **meta}  # fmt: skip
    text = "---\n" + yaml.safe_dump(fields, allow_unicode=True) + "---\n# Week 1\n\n- a point\n"
    _only_tacit_errors(lambda: definition.parse(text, root / "packs" / "p" / "pack.md", root))


def test_an_interview_answer_waits_for_a_records_writer_and_says_for_what(maria, monkeypatch):
    import threading

    from tacit.interviews import question_loop

    monkeypatch.setattr(workspace, "LOCK_TIMEOUT_S", 0.2)
    session = sessions.create(maria, "maria-lopez", "interview", "walk")
    held, release = threading.Event(), threading.Event()

    def holder():
        with workspace.records_lock(maria):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(5)
    said: list[str] = []

    def say(text: str) -> None:
        said.append(text)
        release.set()  # the other writer ends; the answer is then saved, never dropped

    try:
        saved = question_loop.save(maria, session, say, title="after the wait")
    finally:
        release.set()
        thread.join()
    assert said and said[0].endswith(f"is changing the records of {maria.root}; waiting to save...")
    assert sessions.get(maria, session.id).title == saved.title == "after the wait"


@pytest.mark.parametrize("name", ["two\nlines", "back\\slash", 'say "hi"', "tab\there", "\x08bell"])
def test_any_kb_name_makes_a_tacit_toml_that_reads_back(tmp_path, name):
    made = workspace.init(tmp_path / "new", name)
    assert made.config.name == " ".join(name.split())
