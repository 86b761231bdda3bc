"""Risk and plan agree on who has left; coverage by guide type and typed answers; the agenda."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tacit.ask import excerpts
from tacit.planning import risk
from tacit.records import guides, sessions
from tacit.records.sessions import Answer

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
    assert plan[0]["guide"] == "exit-interview"
    guide = _exit_guide(kb, run, "our-leavers")
    # the KB's own exit guide is the one suggested, and the agenda lists its sections only
    assert json.loads(run("plan", "--json").stdout)[0]["guide"] == "our-leavers"
    shown = json.loads(run("expert", "agenda", "ana-soon", "--json").stdout)
    assert {s["guide"] for s in shown["sections"]} == {"our-leavers"}
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


def _log(kb, question: str, **extra) -> None:
    from tacit.core.fileio import append_line

    entry = {"time": "2026-11-20T10:00:00+00:00", "question": question, "filters": {}}
    entry |= {"not_captured": True, "experts": ["ana-soon"], "cited": [], **extra}
    append_line(kb.questions_log, json.dumps(entry))


def test_agenda_dismiss_sticks_and_done_closes(kb, run):
    assert run("expert", "add", "Ana Soon", "--leaving-on", _day(30)).exit_code == 0
    answers = (
        Answer("role/q1", "Role", "What do you do?", "", "skipped"),
        Answer("role/q2", "Role", "Who covers nights?", "ask Bo", "follow-up"),
    )
    sessions.create(kb, "ana-soon", "interview", "exit", answers=answers, guide="g")
    _log(kb, "How do I reset the flare igniter?")
    shown = json.loads(run("expert", "agenda", "ana-soon", "--json").stdout)
    ids = {q["question"]: q["id"] for q in shown["open_questions"]}
    asked = ids["How do I reset the flare igniter?"]
    assert asked.startswith("ask-") and ids["Who covers nights?"] == "g/role/q2"
    assert asked in run("expert", "agenda", "ana-soon").stdout  # the id is shown to act on

    result = run("expert", "agenda", "ana-soon", "--dismiss", asked, "--reason", "in the manual")
    assert result.exit_code == 0, result
    assert run("expert", "agenda", "ana-soon", "--done", "g/role/q2").exit_code == 0
    _log(kb, "how do I reset the  FLARE igniter?")  # asked again by another protégé
    shown = json.loads(run("expert", "agenda", "ana-soon", "--json").stdout)
    assert [q["question"] for q in shown["open_questions"]] == ["What do you do?"]
    assert shown["closed"] == 2
    # risk and plan read the same marks
    cov = json.loads(run("risk", "--json").stdout)[0]["coverage"]
    assert cov["protege_questions"] == [] and cov["open_questions"] == ["What do you do?"]
    kept = [json.loads(line) for line in (kb.experts_dir / "ana-soon.agenda.jsonl").open()]
    assert [(m["action"], m["reason"]) for m in kept] == [
        ("dismissed", "in the manual"),
        ("done", ""),
    ]
    # bad ids and mixed flags: one line, non-zero, nothing written
    for args in (
        ("--done", "nope"),
        ("--done", asked),
        ("--done", "x", "--dismiss", "y"),
        ("--done", "g/role/q1", "--reason", "r"),
    ):
        bad = run("expert", "agenda", "ana-soon", *args)
        assert bad.exit_code != 0 and "Traceback" not in bad.output, args
    assert len((kb.experts_dir / "ana-soon.agenda.jsonl").read_text().splitlines()) == 2
    assert [e.slug for e in risk.experts_module.list_all(kb)] == ["ana-soon"]


def test_agenda_lists_only_guides_used_or_planned(kb, run):
    assert run("expert", "add", "Ana Soon", "--leaving-on", _day(30)).exit_code == 0
    assert run("expert", "add", "Bo Other").exit_code == 0
    assert run("guide", "new", "bos-guide").exit_code == 0  # another expert's custom guide
    sessions.create(kb, "bo-other", "interview", "x", guide="bos-guide")
    shown = json.loads(run("expert", "agenda", "ana-soon", "--json").stdout)
    # nothing held yet: the plan's next guide for Ana is the exit interview, and only that
    assert {s["guide"] for s in shown["sections"]} == {"exit-interview"}
    bo = json.loads(run("expert", "agenda", "bo-other", "--json").stdout)
    assert "bos-guide" in {s["guide"] for s in bo["sections"]}


def test_junk_questions_do_not_reach_the_agenda(kb, run):
    from tacit.ask import answers as answers_core

    assert run("expert", "add", "Ana Soon").exit_code == 0
    suggestion = excerpts.Suggestion("ana-soon", "Ana Soon", "", "topic")
    for question in ("and what should I not do?", ";quit", "expert ana", "Where is the flare key?"):
        answer = answers_core.Answer(question, "", True, (), experts=(suggestion,))
        answers_core.log_question(kb, answer)
    lines = [json.loads(line) for line in kb.questions_log.open()]
    assert len(lines) == 4  # every question is still in the history
    assert [e["open_question"] for e in lines] == [False, False, False, True]
    _log(kb, "/help")  # an older line without the key is checked when read
    shown = json.loads(run("expert", "agenda", "ana-soon", "--json").stdout)
    assert [q["question"] for q in shown["open_questions"]] == ["Where is the flare key?"]


def test_forget_expert_removes_their_agenda_marks(kb, run):
    assert run("expert", "add", "Ana Soon").exit_code == 0
    _log(kb, "Where is the heron logbook kept?")
    asked = json.loads(run("expert", "agenda", "ana-soon", "--json").stdout)["open_questions"]
    assert run("expert", "agenda", "ana-soon", "--dismiss", asked[0]["id"]).exit_code == 0
    assert (kb.experts_dir / "ana-soon.agenda.jsonl").is_file()
    result = run("forget", "--expert", "ana-soon", "--yes")
    assert result.exit_code == 0, result
    assert not (kb.experts_dir / "ana-soon.agenda.jsonl").exists()


PLAN = """---
role: Shift lead
protege: Ana Ruiz
mentor: Joe Bloggs
start: {start}
weeks: 4
experts: [maria-lopez]
---

# Plan

## Checkpoints

- [week 1] safety: Walks the isolation points (reviewer: maria-lopez)
- [week 2] checks: Does the start-of-shift checks alone (reviewer: Joe Bloggs)
"""


def _plan(kb, run, start: str = "2026-03-02", name: str = "plan") -> None:
    if not (kb.experts_dir / "maria-lopez.md").exists():
        assert run("expert", "add", "Maria Lopez").exit_code == 0
    path = kb.root / "packs" / name / "pack.md"
    path.parent.mkdir(mode=0o700, parents=True)
    path.write_text(PLAN.format(start=start))


def _sign(run, cp: str, *args: str, name: str = "plan"):
    return run("pack", "checkpoint", name, cp, "--by", "maria-lopez", *args)


def test_checkpoint_history_survives_a_pass_after_a_redo(kb, run):
    from tacit.packs import checkpoints

    _plan(kb, run)
    assert _sign(run, "safety", "--outcome", "redo", "--date", "2026-03-08",
                 "--note", "skipped the lockout tag").exit_code == 0  # fmt: skip
    assert _sign(run, "safety", "--outcome", "passed", "--date", "2026-03-11",
                 "--note", "clean walk").exit_code == 0  # fmt: skip
    shown = json.loads(run("pack", "status", "plan", "--as-of", "2026-03-20", "--json").stdout)
    safety = shown["checkpoints"][0]
    assert (safety["state"], safety["outcome"], safety["note"]) == ("done", "passed", "clean walk")
    assert [(h["date"], h["outcome"], h["by"], h["note"]) for h in safety["history"]] == [
        ("2026-03-08", "redo", "Maria Lopez", "skipped the lockout tag"),
        ("2026-03-11", "passed", "Maria Lopez", "clean walk"),
    ]
    assert safety["redos"] == 1 and safety["passed_first_time"] is False
    status = checkpoints.status(kb, "plan", dt.date(2026, 3, 20))
    assert status.checkpoints[0].passed_on == dt.date(2026, 3, 11)
    report = run("pack", "report", "plan", "--as-of", "2026-03-20")
    assert report.exit_code == 0, report
    text = (kb.root / "packs" / "plan" / "build" / "report.md").read_text()
    history = text.split("### Review history")[1]
    assert "| 2026-03-08 | `safety` | redo | Maria Lopez | skipped the lockout tag |" in history
    assert "| 2026-03-11 | `safety` | passed | Maria Lopez | clean walk |" in history


def test_a_review_in_the_future_is_refused_unless_planned(kb, run):
    _plan(kb, run)
    later = _day(5)
    refused = _sign(run, "safety", "--outcome", "passed", "--date", later)
    assert refused.exit_code == 2 and "--planned" in refused.stderr
    assert "Traceback" not in refused.output
    assert not (kb.root / "packs" / "plan" / "reviews.yaml").exists()
    assert _sign(run, "safety", "--planned", "--outcome", "passed", "--date", later).exit_code == 2
    assert _sign(run, "safety", "--planned").exit_code == 2  # a planned review needs its day
    assert _sign(run, "safety").exit_code == 2  # neither an outcome nor --planned
    assert _sign(run, "safety", "--planned", "--date", later).exit_code == 0
    shown = json.loads(run("pack", "status", "plan", "--json").stdout)["checkpoints"][0]
    assert shown["planned_on"] == later and shown["outcome"] == "" and shown["reviews"] == 0
    assert shown["history"][0]["outcome"] == "planned"


# --- the programme view and the KM report's figures ------------------------------------------


def test_pack_list_gives_each_pack_its_week_counts_and_state(kb, run):
    _plan(kb, run, "2026-03-02", "on-time")
    _plan(kb, run, "2026-03-02", "behind")
    _plan(kb, run, "2026-03-02", "quiet")
    _plan(kb, run, "2026-03-02", "finished")
    assert _sign(run, "safety", "--outcome", "passed", "--date", "2026-03-08",
                 name="on-time").exit_code == 0  # fmt: skip
    assert _sign(run, "safety", "--outcome", "redo", "--date", "2026-03-09",
                 name="behind").exit_code == 0  # fmt: skip
    assert _sign(run, "safety", "--outcome", "redo", "--date", "2026-03-03",
                 name="quiet").exit_code == 0  # fmt: skip
    for cp, day in (("safety", "2026-03-06"), ("checks", "2026-03-13")):
        assert _sign(run, cp, "--outcome", "passed", "--date", day, name="finished").exit_code == 0
    listed = run("pack", "list", "--as-of", "2026-03-12", "--stalled-days", "7", "--json")
    assert listed.exit_code == 0, listed
    rows = {p["name"]: p for p in json.loads(listed.stdout)}
    assert {n: p["state"] for n, p in rows.items()} == {
        "on-time": "on track",
        "behind": "late",  # safety was due 03-09 and sent back
        "quiet": "stalled",  # nothing since 03-03: 9 days > 7
        "finished": "done",
    }
    behind = rows["behind"]
    assert (behind["protege"], behind["mentor"], behind["week"], behind["weeks"]) == (
        "Ana Ruiz", "Joe Bloggs", 2, 4,
    )  # fmt: skip
    assert (behind["done"], behind["late"], behind["redo"], behind["total"]) == (0, 1, 1, 2)
    assert behind["last_review"] == "2026-03-09"
    # the default comes from tacit.toml: 21 days, so "quiet" is only late
    default = {p["name"]: p["state"] for p in json.loads(
        run("pack", "list", "--as-of", "2026-03-12", "--json").stdout)}  # fmt: skip
    assert default["quiet"] == "late"
    toml = kb.root / "tacit.toml"
    toml.write_text(toml.read_text().replace("stalled_days = 21", "stalled_days = 5"))
    assert "stalled" in run("pack", "list", "--as-of", "2026-03-12").stdout
    assert run("pack", "list", "--stalled-days", "0").exit_code == 2


def _report_kb(kb, run):
    for args in (
        ["Ana Soon", "--leaving-on", _day(30), "--position-risk", "5", "--topic", "pump seals"],
        ["Ben Half", "--leaving-on", _day(150), "--position-risk", "2"],
        ["Cy Year", "--leaving-on", _day(300), "--position-risk", "4", "--topic", "flare"],
        ["Di Also", "--leaving-on", _day(40), "--position-risk", "5"],  # shares Ana's cell
        ["Gus Gone", "--leaving-on", _day(-10), "--left", "--position-risk", "3"],
    ):
        assert run("expert", "add", *args).exit_code == 0
    answers = (Answer("a/q1", "Role", "Seals?", "I change pump seals.", "answered"),)
    sessions.create(kb, "cy-year", "interview", "exit", answers=answers, guide="exit-interview")
    _plan(kb, run, "2026-03-02")
    assert _sign(run, "safety", "--outcome", "redo", "--date", "2026-03-08").exit_code == 0
    assert _sign(run, "safety", "--outcome", "passed", "--date", "2026-03-12").exit_code == 0
    assert run("pack", "checkpoint", "plan", "checks", "--by", "Joe Bloggs", "--outcome",
               "passed", "--date", "2026-03-15").exit_code == 0  # fmt: skip


def _circles(page: str) -> dict[str, tuple[float, float]]:
    import re

    svg = page.split('<svg class="risk-matrix"', 1)[1].split("</svg>", 1)[0]
    return {
        m.group(3): (float(m.group(1)), float(m.group(2)))
        for m in re.finditer(r'<circle cx="([\d.]+)" cy="([\d.]+)"[^>]*data-expert="([^"]+)"', svg)
    }


def test_km_report_opens_with_a_risk_matrix_placing_each_expert_in_their_cell(kb, run):
    from pathlib import Path

    from tacit.planning import figures

    _report_kb(kb, run)
    result = run("report", "--html")
    assert result.exit_code == 0, result
    md_path, html_path = (Path(p) for p in result.stdout.split())
    page = html_path.read_text()
    body = page.split("<body>", 1)[1]
    # the page opens with the figures, before the first table
    assert body.index('<svg class="risk-matrix"') < body.index("<table>")
    assert body.index('<svg class="capture-timeline"') < body.index("<table>")
    assert "<script" not in page
    rows = {r["expert"]: r for r in json.loads(run("risk", "--json").stdout)}
    placed = _circles(page)
    assert set(placed) == {s for s, r in rows.items() if not r["left"]}  # Gus has left
    for slug, (cx, cy) in placed.items():
        x0, y0, x1, y1 = figures.cell_box(rows[slug]["attrition"], rows[slug]["position_risk"])
        assert x0 < cx < x1 and y0 < cy < y1, (slug, cx, cy)
    assert placed["ana-soon"] != placed["di-also"]  # same cell, both visible
    # the same figures as tables below
    text = md_path.read_text()
    for row in rows.values():
        if row["left"]:
            continue
        cov = row["coverage"]
        uncaptured = len(cov["topics_without_evidence"]) + len(cov["open_questions"])
        expected = (
            f"| {row['name']} | {row['attrition']} | {row['position_risk']} | {uncaptured} | "
            f"{cov['share']:.0%} |"
        )
        assert expected in text, expected
    assert "| Ana Soon | 5 | 5 | 1 | 0% |" in text
    assert "- left, not plotted: Gus Gone" in text
    timeline = text.split("## Capture timeline", 1)[1].split("\n## ", 1)[0]
    assert f"| Cy Year | {_day(300)} | {TODAY.isoformat()} |" in timeline
    backlog = text.split("## Capture backlog", 1)[1].split("\n## ", 1)[0]
    assert "| 1 |" in backlog and "Ana Soon" in backlog and "exit-interview" in backlog
    assert "- left, not scheduled: Gus Gone" in backlog
    mentoring = text.split("## Mentoring", 1)[1].split("\n## ", 1)[0]
    assert "| plan | Ana Ruiz | Joe Bloggs |" in mentoring and "| done |" in mentoring
    assert "2 checkpoints reviewed; 1 passed at the first review (50%)." in mentoring
    assert "| plan | `safety` | 10 |" in mentoring and "| plan | `checks` | 13 |" in mentoring


def test_km_report_figures_render_in_chromium(kb, run, tmp_path):
    from pathlib import Path

    from tests.chromium import Browser

    _report_kb(kb, run)
    html_path = Path(run("report", "--html").stdout.split()[1])
    measure = """
    (() => {
      const box = (el) => {
        const r = el.getBoundingClientRect();
        return [r.x, r.y, r.width, r.height];
      };
      const matrix = document.querySelector('svg.risk-matrix');
      return {
        matrix: box(matrix),
        timeline: box(document.querySelector('svg.capture-timeline')),
        circles: [...matrix.querySelectorAll('circle')].map((c) => ({
          expert: c.dataset.expert, box: box(c),
          cx: c.cx.baseVal.value, cy: c.cy.baseVal.value})),
        scripts: document.scripts.length,
      };
    })()
    """  # fmt: skip
    with Browser(tmp_path / "profile") as browser:
        session = browser.open(html_path.as_uri())
        shown = browser.evaluate(session, measure)
    assert shown["scripts"] == 0
    assert shown["matrix"][2] > 300 and shown["matrix"][3] > 300
    assert shown["timeline"][2] > 300
    placed = _circles(html_path.read_text())
    mx, my = shown["matrix"][:2]
    for circle in shown["circles"]:
        x, y, w, h = circle["box"]
        assert w > 0 and h > 0, circle  # drawn
        cx, cy = placed[circle["expert"]]
        # drawn where the SVG puts it (1:1 scale: the viewBox is the size)
        assert x + w / 2 - mx == pytest.approx(cx, abs=1) and y + h / 2 - my == pytest.approx(
            cy, abs=1
        )


def test_a_past_leaving_date_is_confirmed_on_a_terminal(kb, tmp_path):
    """On a terminal, `expert add` with a past date asks; no keeps nothing, yes saves it."""
    from tests.test_interviews import Tmux, _in_terminal

    server = Tmux(tmp_path / "tmux.sock")
    try:
        args = f"expert add 'Gus Gone' --leaving-on {_day(-5)}"
        server.start("no", _in_terminal(kb, args))
        server.wait_for("no", "has the expert left?")
        server.type("no", "n")
        server.wait_dead("no")
        assert "add --left if the expert has left" in server.wait_for("no", "--left")
        assert not (kb.experts_dir / "gus-gone.md").exists()
        server.start("yes", _in_terminal(kb, args))
        server.wait_for("yes", "has the expert left?")
        server.type("yes", "y")
        server.wait_dead("yes")
        assert "added expert gus-gone" in server.wait_for("yes", "added expert")
    finally:
        server.close()
    assert risk.experts_module.get(kb, "gus-gone").leaving_on == TODAY - dt.timedelta(days=5)
