"""Risk and plan agree on who has left; coverage by guide type and typed answers; the agenda."""

from __future__ import annotations

import datetime as dt
import json

from tacit.interviews import guides, risk, sessions
from tacit.interviews.sessions import Answer

TODAY = dt.date.today()


def _day(days: int) -> str:
    return (TODAY + dt.timedelta(days=days)).isoformat()


def test_a_past_leaving_date_needs_left_and_shows_as_left_in_risk_and_plan(kb, run):
    refused = run("expert", "add", "Gus Gone", "--leaving-on", _day(-284), "--position-risk", "5")
    assert refused.exit_code == 2
    assert "--left" in refused.stderr and "Traceback" not in refused.output
    assert not (kb.experts_dir / "gus-gone.md").exists()  # nothing written
    args = ("--leaving-on", _day(-284), "--left", "--position-risk", "5")
    assert run("expert", "add", "Gus Gone", *args).exit_code == 0
    assert run("expert", "add", "Ana Soon", "--leaving-on", _day(30)).exit_code == 0
    # edit to a past date asks too; --left without a past date is refused
    assert run("expert", "edit", "ana-soon", "--leaving-on", _day(-1)).exit_code == 2
    assert run("expert", "edit", "ana-soon", "--left").exit_code == 2
    rows = {r["expert"]: r for r in json.loads(run("risk", "--json").stdout)}
    gone = rows["gus-gone"]
    assert gone["left"] is True and gone["band"] == "left"
    assert (gone["score"], gone["flag"]) == (0, False)  # not scored as a future risk
    assert rows["ana-soon"]["left"] is False and rows["ana-soon"]["band"] != "left"
    assert [r["expert"] for r in json.loads(run("risk", "--json").stdout)][-1] == "gus-gone"
    table = run("risk").stdout
    gus_line = next(line for line in table.splitlines() if "Gus Gone" in line)
    assert f"left {_day(-284)}" in gus_line and "high risk" not in gus_line
    plan = run("plan")
    assert plan.exit_code == 0
    assert f"left {_day(-284)} Gus Gone: not scheduled" in plan.stdout
    assert "Ana Soon" in plan.stdout
    assert "gus-gone" not in [p["expert"] for p in json.loads(run("plan", "--json").stdout)]


def _exit_guide(kb, run, name: str) -> guides.Guide:
    """A custom exit guide: a copy of the built-in under another name keeps its type."""
    assert run("guide", "new", name, "--from", "exit-interview").exit_code == 0
    guide = guides.get(kb, name)
    assert guide.type == "exit-interview"
    return guide


def test_a_custom_exit_guide_counts_as_an_exit_interview(kb, run):
    assert run("expert", "add", "Ana Soon", "--leaving-on", _day(30)).exit_code == 0
    plan = json.loads(run("plan", "--json").stdout)
    assert plan[0]["why"] == "no exit interview yet"
    guide = _exit_guide(kb, run, "our-leavers")
    section, question = guide.questions()[0]
    answers = (Answer(question.id, section.title, question.text, "Yes.", "answered"),)
    sessions.create(kb, "ana-soon", "interview", "exit", answers=answers, guide=guide.name)
    plan = json.loads(run("plan", "--json").stdout)
    assert plan[0]["why"] != "no exit interview yet"
    cov = json.loads(run("risk", "--json").stdout)[0]["coverage"]
    assert cov["exit_interview"] is True


def test_a_guide_written_from_scratch_declares_its_type(kb, run):
    assert run("guide", "new", "farewell").exit_code == 0
    path = kb.guides_dir / "farewell.md"
    path.write_text(
        path.read_text().replace("kind: interview\n", "kind: interview\ntype: exit-interview\n")
    )
    assert run("guide", "check", str(path)).exit_code == 0
    assert risk.guide_type(kb, "farewell") == "exit-interview"
    assert risk.guide_type(kb, "knowledge-audit") == "knowledge-audit"  # a built-in: its name


def test_typed_answers_are_topic_evidence_in_any_inflection(kb, run):
    args = ("--topic", "pump seals", "--topic", "flare igniter", "--topic", "cooling tower")
    assert run("expert", "add", "Ana Soon", *args).exit_code == 0
    typed = "When a seal weeps\non the feed pump I swap it\nbefore the night shift."
    answers = (
        Answer("a/q1", "Role", "Tell me about the cooling tower?", "", "skipped"),
        Answer("a/q2", "Role", "What do you fix?", typed, "answered"),
    )
    sessions.create(kb, "ana-soon", "interview", "exit", answers=answers, guide="g")
    cov = risk.coverage(kb, risk.experts_module.get(kb, "ana-soon"))
    # the question asked is not evidence; the typed answer is, over its line breaks
    assert cov.topics_without_evidence == ("flare igniter", "cooling tower")


def test_high_risk_with_low_coverage_is_flagged_not_when_covered(kb, run):
    assert (
        run(
            "expert",
            "add",
            "Ana Soon",
            "--leaving-on",
            _day(30),
            "--position-risk",
            "5",
            "--topic",
            "pump seals",
        ).exit_code
        == 0
    )
    row = json.loads(run("risk", "--json").stdout)[0]
    assert row["band"] == "high" and row["flag"] is True
    answers = (Answer("a/q1", "Role", "Seals?", "I change pump seals.", "answered"),)
    sessions.create(kb, "ana-soon", "interview", "exit", answers=answers, guide="g")
    row = json.loads(run("risk", "--json").stdout)[0]
    assert row["coverage"]["share"] == 1.0 and row["flag"] is False
