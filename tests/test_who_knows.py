"""tacit who-knows on a small real KB (real embedding model, Chroma and BM25)."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest

from tacit.ask import expertise
from tacit.core import config, workspace
from tacit.records import experts, sessions
from tacit.records import transcript as transcript_model

PUMP_TALK = [
    (
        "Maria Lopez",
        "The feed pumps cavitate when the deaerator level runs low, you hear gravel in the "
        "casing. Raise the level setpoint before you touch the pump.",
    ),
    (
        "Maria Lopez",
        "Pump seals on the feed pumps last about eighteen months. Order them from Hallam "
        "Seals, the part is on the card taped inside the pump room door.",
    ),
    (
        "Maria Lopez",
        "When a feed pump trips on overload, check the strainer before the motor. It is "
        "nearly always the strainer clogged with scale from the softener.",
    ),
    ("Tom Reyes", "I rewired the canteen lights last spring, the ballasts were failing."),
    (
        "Tom Reyes",
        "The feed pump motor starters in the boiler house wear out; when a feed pump will "
        "not start, I change the contactor tips.",
    ),
]


def _session(ws, expert: str, label: str, turns, restricted: bool = False) -> str:
    session = sessions.create(ws, expert, "interview", label, restricted=restricted)
    segments, clock = [], 0.0
    for speaker, text in turns:
        length = len(text.split()) / 2.5
        segments.append(transcript_model.Segment(clock, clock + length, speaker, text))
        clock += length + 1.0
    transcript = transcript_model.Transcript(segments=tuple(segments), duration=clock)
    path = transcript_model.path(ws, session.id)
    transcript_model.save(path, transcript)
    return session.id


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from tacit.index import indexer

    root = tmp_path_factory.mktemp("who") / "kb"
    ws = workspace.init(root, "who-knows tests")
    toml = ws.root / "tacit.toml"
    toml.write_text(toml.read_text().replace("chunk_words = 90", "chunk_words = 30"))
    ws = workspace.Workspace(ws.root, config.load(toml))
    experts.add(
        ws,
        "Maria Lopez",
        role="Boiler Operator",
        leaving_on=dt.date(2027, 3, 31),
        topics=("steam boilers",),
        contacts=("Ken Ito: water treatment chemicals", "Hallam Seals: pump seals"),
    )
    experts.add(ws, "Tom Reyes", role="Electrician", topics=("lighting",))
    experts.add(ws, "Ana Silva", role="Lab Chemist")
    experts.add(ws, "Dev Patel", role="Warehouse Lead", topics=("forklift trucks",))
    facts = {
        "maria": _session(ws, "maria-lopez", "pumps", PUMP_TALK[:3]),
        "tom": _session(ws, "tom-reyes", "electrics", PUMP_TALK[3:]),
        "ana": _session(
            ws,
            "ana-silva",
            "secret",
            [("Ana Silva", "Our dosing pump for the feed water chemicals loses prime weekly.")],
            restricted=True,
        ),
    }
    indexer.run(ws)
    return root, facts


@pytest.fixture
def who(built, tmp_path, monkeypatch):
    source, facts = built
    root = tmp_path / "who"
    shutil.copytree(source, root)
    monkeypatch.setenv("TACIT_KB", str(root))
    return workspace.current(), facts


def _who(run, *args: str) -> list[dict]:
    result = run("who-knows", *args, "--json")
    assert result.exit_code == 0, result
    return json.loads(result.stdout)["experts"]


def test_experts_ranked_by_how_much_and_how_relevant(who, run):
    _, facts = who
    ranked = _who(run, "feed pump problems")
    assert [r["slug"] for r in ranked][:2] == ["maria-lopez", "tom-reyes"]
    maria, tom = ranked[0], ranked[1]
    assert maria["passages"] > tom["passages"] and maria["evidence"] > tom["evidence"]
    assert maria["role"] == "Boiler Operator" and maria["leaving_on"] == "2027-03-31"
    assert maria["best_session"] == facts["maria"]
    assert maria["best_citation"].startswith(f"[{facts['maria']} · Maria Lopez · ")
    assert maria["contacts"] == ["Ken Ito: water treatment chemicals", "Hallam Seals: pump seals"]
    assert "ana-silva" not in {r["slug"] for r in ranked}  # restricted session: not counted


def test_restricted_evidence_only_when_asked_for(who, run):
    _, facts = who
    ranked = _who(run, "dosing pump losing prime", "--include-restricted")
    ana = next(r for r in ranked if r["slug"] == "ana-silva")
    assert ana["best_session"] == facts["ana"]


def test_declared_topic_without_evidence_is_listed_after_evidence(who, run):
    ranked = _who(run, "fork-lift truck servicing")
    dev = next(r for r in ranked if r["slug"] == "dev-patel")
    assert dev["passages"] == 0 and dev["topics_matched"] == ["forklift trucks"]
    assert ranked.index(dev) == len([r for r in ranked if r["passages"]])


def test_table_output_and_empty_topic(who, run):
    result = run("who-knows", "feed pump problems")
    assert result.exit_code == 0, result
    assert "Maria Lopez" in result.stdout and "Ken Ito" in result.stdout
    empty = run("who-knows", "  ")
    assert empty.exit_code == 2 and "topic is empty" in empty.stderr


def test_topic_matches_by_words_and_by_meaning():
    maria = experts.Expert(slug="m", name="M", topics=("pump vibration", "steam boilers"))
    share, matched = expertise.topic_matches("why does the pump shake so much", maria)
    assert share == 0.5 and matched == ("pump vibration",)
    similar = {"steam boilers": 0.5, "pump vibration": 0.1}
    share, matched = expertise.topic_matches("the big hot water vessel", maria, similar)
    assert share == 0.5 and matched == ("steam boilers",)
    assert expertise.topic_matches("payroll dates", maria, {"steam boilers": 0.2}) == (0.0, ())
