"""Knowledge-loss risk, coverage, the capture plan and the KM report."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from tacit.core.fileio import append_line
from tacit.planning import backlog, risk
from tacit.records import sessions
from tacit.records import transcript as tr
from tacit.records.sessions import Answer

TODAY = dt.date.today()


def _day(days: int) -> str:
    return (TODAY + dt.timedelta(days=days)).isoformat()


def _experts(run):
    # (name, days to departure or None, position risk, attrition by hand)
    for args in (
        ["Ana Soon", "--leaving-on", _day(30), "--position-risk", "5", "--topic", "pump seals"],
        ["Ben Half", "--leaving-on", _day(150), "--position-risk", "4"],
        ["Cy Year", "--leaving-on", _day(300), "--position-risk", "5"],
        ["Di Later", "--leaving-on", _day(900), "--position-risk", "5"],
        ["Ed Unset", "--attrition", "3", "--position-risk", "2"],
        ["Flo Default", "--position-risk", "4"],
    ):
        assert run("expert", "add", *args).exit_code == 0


def test_risk_scores_bands_and_order(kb, run):
    _experts(run)
    result = run("risk", "--json")
    assert result.exit_code == 0, result
    rows = {r["expert"]: r for r in json.loads(result.stdout)}
    expected = {  # attrition x position risk, banded by the [risk] scale of tacit.toml
        "ana-soon": (5, 25, "high"),
        "ben-half": (4, 16, "high"),
        "cy-year": (3, 15, "high"),
        "di-later": (2, 10, "medium"),
        "ed-unset": (3, 6, "low"),
        "flo-default": (1, 4, "low"),
    }
    for slug, (attrition, score, band) in expected.items():
        assert (rows[slug]["attrition"], rows[slug]["score"], rows[slug]["band"]) == (
            attrition,
            score,
            band,
        ), slug
    assert rows["ana-soon"]["days_to_departure"] == 30
    order = [r["expert"] for r in json.loads(result.stdout)]
    assert order == ["ana-soon", "ben-half", "cy-year", "di-later", "ed-unset", "flo-default"]
    assert rows["ana-soon"]["flag"] is True  # high risk, nothing captured
    table = run("risk")
    flagged = [line for line in table.stdout.splitlines() if "high risk, low coverage" in line]
    assert flagged and "Ana Soon" in flagged[0]


def test_scales_come_from_tacit_toml(kb, run):
    _experts(run)
    toml = kb.root / "tacit.toml"
    toml.write_text(toml.read_text().replace("high = 15", "high = 20"))
    rows = {r["expert"]: r for r in json.loads(run("risk", "--json").stdout)}
    assert rows["ben-half"]["band"] == "medium" and rows["ana-soon"]["band"] == "high"


def test_coverage_counts_match_sessions_on_disk(kb, run):
    assert (
        run("expert", "add", "Ana Soon", "--topic", "pump seals", "--topic", "flare").exit_code == 0
    )
    answers = (
        Answer(
            "a1", "Role", "What do you do?", "I run the pumps and change pump seals.", "answered"
        ),
        Answer("a2", "Role", "What else?", "", "skipped"),
        Answer("b1", "Failures", "Worst failure?", "The 2019 flood.", "follow-up"),
        Answer("c1", "Network", "Who do you call?", "", "pending"),
    )
    first = sessions.create(kb, "ana-soon", "interview", "exit", answers=answers, guide="g")
    second = sessions.create(kb, "ana-soon", "observation", "seal change")
    segments = (tr.Segment(0.0, 3600.0, "Ana", "We test the pumps weekly."),)
    tr.save(kb.session_dir(second.id) / "transcript.json", tr.Transcript(segments, duration=5400.0))
    expert = risk.experts_module.get(kb, "ana-soon")
    cov = risk.coverage(kb, expert)
    assert cov.sessions == 2 and cov.observations == 1
    assert cov.hours_recorded == 1.5
    # guide "g" is not a real guide: its sections are the ones the answers name
    assert (cov.sections_answered, cov.sections_total) == (2, 3)
    assert cov.open_questions == ("What else?", "Worst failure?")
    assert cov.topics_without_evidence == ("flare",)
    assert first.id != second.id


def test_not_captured_question_reaches_coverage_and_plan(kb, run):
    assert (
        run("expert", "add", "Ana Soon", "--leaving-on", _day(20), "--position-risk", "5").exit_code
        == 0
    )
    entry = {
        "time": "2026-11-26T10:00:00",
        "question": "How do I reset the flare igniter?",
        "filters": {},
        "not_captured": True,
        "experts": ["ana-soon"],
        "cited": [],
    }
    append_line(kb.questions_log, json.dumps(entry))
    append_line(kb.questions_log, '{"truncated by a cra')  # a crash-cut line is skipped
    rows = json.loads(run("risk", "--json").stdout)
    assert rows[0]["coverage"]["protege_questions"] == ["How do I reset the flare igniter?"]
    plan = json.loads(run("plan", "--weeks", "2", "--json").stdout)
    assert plan[0]["expert"] == "ana-soon"
    assert any("reset the flare igniter" in item for item in plan[0]["agenda"])
    assert plan[0]["before_departure"] is True
    assert "reset the flare igniter" in run("plan").stdout


def test_plan_schedules_highest_risk_first_and_skips_the_departed(kb, run):
    _experts(run)
    assert (
        run(
            "expert", "add", "Gus Gone", "--leaving-on", _day(-3), "--left", "--position-risk", "5"
        ).exit_code
        == 0
    )
    planned = backlog.plan(kb, weeks=1, today=TODAY)
    assert [p.expert for p in planned] == ["ana-soon", "ben-half", "cy-year"]
    assert all(p.guide == "exit-interview" for p in planned)
    assert "gus-gone" not in [p.expert for p in backlog.plan(kb, weeks=4, today=TODAY)]


def test_report_has_every_section_markdown_and_html(kb, run):
    _experts(run)
    append_line(kb.questions_log, json.dumps({"question": "q1", "not_captured": False}))
    append_line(
        kb.questions_log, json.dumps({"question": "<script>x</script>", "not_captured": True})
    )
    result = run("report", "--html")
    assert result.exit_code == 0, result
    md_path, html_path = (line for line in result.stdout.splitlines())
    text = Path(md_path).read_text()
    for heading in ("## Risk", "## Coverage", "## Protégé demand", "## Packs and checkpoints"):
        assert heading in text
    assert "2 questions asked; 1 answered from the knowledge base (50%)" in text
    page = Path(html_path).read_text()
    assert "<script>x" not in page and "&lt;script&gt;x" in page
    for heading in ("<h2>Risk</h2>", "<h2>Coverage</h2>", "<h2>Protégé demand</h2>"):
        assert heading in page


def test_coverage_counts_sections_of_a_real_guide(kb, run):
    from tacit.records import guides

    assert run("expert", "add", "Ana Soon").exit_code == 0
    guide = guides.get(kb, "exit-interview")
    first = guide.sections[0]
    answers = (
        Answer(first.questions[0].id, first.title, first.questions[0].text, "Yes.", "answered"),
    )
    sessions.create(kb, "ana-soon", "interview", "exit", answers=answers, guide="exit-interview")
    cov = risk.coverage(kb, risk.experts_module.get(kb, "ana-soon"))
    assert (cov.sections_answered, cov.sections_total) == (1, len(guide.sections))
