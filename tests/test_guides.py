"""Guides: Markdown parsed into sections, questions, probes and reasons; checks with lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tacit.records import guides

FIXTURES = Path(__file__).parent / "fixtures" / "guides"
BUILTINS = ("after-action-review", "critical-decision", "exit-interview", "handover")
BUILTINS += ("job-breakdown", "knowledge-audit")


def test_the_six_builtin_guides_are_shipped(run):
    listed = json.loads(run("guide", "list", "--json").stdout)
    assert sorted(e["name"] for e in listed) == sorted(BUILTINS)
    assert all(e["source"] == "built-in" and e["problems"] == 0 for e in listed)
    kinds = {e["name"]: e["kind"] for e in listed}
    assert kinds["job-breakdown"] == "observation"
    assert {k for n, k in kinds.items() if n != "job-breakdown"} == {"interview"}


@pytest.mark.parametrize("name", BUILTINS)
def test_every_builtin_guide_passes_check(run, name):
    path = guides.builtin_dir() / f"{name}.md"
    result = run("guide", "check", str(path))
    assert result.exit_code == 0, result
    assert result.stdout == ""
    guide = guides.load(path)
    assert guide.method and guide.purpose and guide.minutes > 0
    # written with care: every question says why it is asked or offers probes, most both
    questions = [q for s in guide.sections for q in s.questions]
    assert len(questions) >= 8
    assert sum(1 for q in questions if q.why) / len(questions) > 0.6


def test_builtin_guides_follow_their_methods():
    cdm = guides.load(guides.builtin_dir() / "critical-decision.md")
    assert [s.title.split(":")[0] for s in cdm.sections] == [f"Sweep {n}" for n in range(1, 5)]
    audit = guides.load(guides.builtin_dir() / "knowledge-audit.md")
    titles = [s.title for s in audit.sections]
    for probe in ("Past and future", "Big picture", "Noticing", "Job smarts", "Self-monitoring"):
        assert probe in titles
    assert "Opportunities and improvising" in titles and "Equipment difficulties" in titles
    assert titles[-1] == "Cognitive demands table"
    assert "| Difficult cognitive element | Why difficult? | Common errors |" in (
        audit.sections[-1].notes
    )
    breakdown = guides.load(guides.builtin_dir() / "job-breakdown.md")
    assert breakdown.kind == "observation" and breakdown.steps_section == "steps"
    prompts = [q.text for q in breakdown.section("steps").questions]
    assert [p.split(":")[0] for p in prompts] == [
        "Important step",
        "Key point",
        "Reason",
        "Practise",
    ]
    assert all(q.id.split("/")[0] != "steps" for _s, q in breakdown.questions())
    aar = guides.load(guides.builtin_dir() / "after-action-review.md")
    assert [s.slug for s in aar.sections] == [
        "what-was-supposed-to-happen",
        "what-actually-happened",
        "why-it-happened",
        "what-to-sustain-or-improve",
    ]
    handover = {s.slug for s in guides.load(guides.builtin_dir() / "handover.md").sections}
    assert {"duties", "recurring-calendar", "open-matters", "systems-and-access", "contacts"} <= (
        handover
    )
    exit_titles = " ".join(
        s.title for s in guides.load(guides.builtin_dir() / "exit-interview.md").sections
    )
    for topic in ("critical tasks", "Decisions only you make", "Workarounds", "failures", "call"):
        assert topic in exit_titles


def test_parse_gives_ids_probes_reasons_and_lines():
    guide = guides.load(FIXTURES / "small.md")
    assert [s.slug for s in guide.sections] == ["pumps", "handover"]
    first = guide.sections[0].questions[0]
    assert first.id == "pumps/q1" and first.text == "Which pump fails first?"
    assert first.why == "Pumps fail in a pattern that a newcomer cannot see yet."
    assert first.probes == ("What sound does it make?",) and first.line == 13
    practise = guide.find("handover/q1")[1]
    # a blockquote just after the list, not indented, still belongs to the question above it
    assert practise.why == "Not indented: still the reason for the question above."
    assert [q.id for _s, q in guide.questions()] == [
        "pumps/q1",
        "pumps/q2",
        "handover/q1",
        "handover/q2",
    ]


@pytest.mark.parametrize(
    "fixture, expected",
    [
        (
            "bad-no-sections.md",
            [(8, "no sections"), (11, "questions before the first ## section")],
        ),
        (
            "bad-empty-question.md",
            [
                (12, "empty question"),
                (14, "empty question"),
                (17, "section 'Empty section' has no questions"),
            ],
        ),
        (
            "bad-unknown-kind.md",
            [(4, "unknown kind 'survey'"), (6, "minutes must be a whole number")],
        ),
        ("bad-front-matter.md", [(3, "broken front matter")]),
    ],
)
def test_check_reports_every_problem_with_its_line(run, fixture, expected):
    path = FIXTURES / fixture
    result = run("guide", "check", str(path))
    assert result.exit_code == 1, result
    lines = result.stdout.strip().splitlines()
    assert len(lines) == len(expected), lines
    for line, (number, text) in zip(lines, expected, strict=True):
        assert line.startswith(f"{path}:{number}: "), line
        assert text in line
    assert f"{len(expected)} problem(s)" in result.stderr and "Traceback" not in result.output
    as_json = json.loads(run("guide", "check", str(path), "--json").stdout)
    assert [p["line"] for p in as_json["problems"]] == [n for n, _t in expected]


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("## A\n- q\n", 1, "no front matter"),
        ("---\nname: x\ntitle: y\n", 1, "not closed"),
        ("---\nname: x\n---\n## A\n- q\n", 1, "front matter has no kind"),
        ("---\n- a list\n---\n## A\n- q\n", 2, "mapping"),
    ],
)
def test_check_front_matter_problems(tmp_path, text, line, message):
    path = tmp_path / "x.md"
    path.write_text(text)
    problems = guides.check(path)
    assert any(p.line == line and message in p.message for p in problems), problems


def test_check_more_problems(tmp_path):
    path = tmp_path / "walk.md"
    path.write_text(
        "---\nname: other\ntitle: T\nkind: observation\npurpose: P\nminutes: 5\ncolour: red\n"
        "---\n\n## Before\n\n- A question?\n\n### Too deep\n\n## Before\n\n- Again?\n"
    )
    found = [(p.line, p.message) for p in guides.check(path)]
    assert found[0] == (
        1,
        "observation guide has no section 'steps' for the step log "
        "(add a '## Steps' section or set steps_section)",
    )
    assert (2, "name 'other' differs from the file name walk.md") in found
    assert any(n == 7 and "unknown front matter key 'colour'" in m for n, m in found)
    assert (14, "### heading: only ## headings make sections") in found
    assert (16, "section 'Before' repeats an earlier section's name") in found


def test_kb_guide_shadows_builtin_and_new_copies(kb, run):
    result = run("guide", "new", "exit-interview")
    assert result.exit_code == 0, result
    copy = kb.root / "guides" / "exit-interview.md"
    assert copy.read_text() == (guides.builtin_dir() / "exit-interview.md").read_text()
    copy.write_text(
        copy.read_text().replace(
            "title: Exit interview for knowledge retention", "title: Our exit interview"
        )
    )
    listed = {e["name"]: e for e in json.loads(run("guide", "list", "--json").stdout)}
    assert listed["exit-interview"]["source"] == "kb"
    assert listed["exit-interview"]["shadows_builtin"] is True
    assert listed["exit-interview"]["title"] == "Our exit interview"
    assert guides.get(kb, "exit-interview").path == copy

    result = run("guide", "new", "pump-walk", "--from", "job-breakdown")
    assert result.exit_code == 0, result
    walk = (kb.root / "guides" / "pump-walk.md").read_text()
    assert walk.splitlines()[1] == "name: pump-walk"
    assert run("guide", "check", "pump-walk").exit_code == 0
    assert run("guide", "new", "blank").exit_code == 0
    assert run("guide", "check", str(kb.root / "guides" / "blank.md")).exit_code == 0
    again = run("guide", "new", "blank")
    assert again.exit_code == 1 and "already exists" in again.stderr
    assert run("guide", "new", "../escape").exit_code == 1
    assert run("guide", "show", "nothing-here").exit_code == 1


def test_guide_show_lists_ids_reasons_and_probes(run):
    result = run("guide", "show", "after-action-review")
    assert result.exit_code == 0, result
    assert "what-was-supposed-to-happen/q2  What was the plan or the intent" in result.stdout
    assert "why: The review compares intent with outcome" in result.stdout
    data = json.loads(run("guide", "show", "job-breakdown", "--json").stdout)
    assert data["kind"] == "observation" and data["sections"][1]["slug"] == "steps"


def test_broken_kb_guide_stops_an_interview_with_its_line(kb, run):
    (kb.root / "guides").mkdir()
    (kb.root / "guides" / "bad-unknown-kind.md").write_text(
        (FIXTURES / "bad-unknown-kind.md").read_text()
    )
    assert run("expert", "add", "Maria Lopez").exit_code == 0
    result = run("interview", "start", "--expert", "maria-lopez", "--guide", "bad-unknown-kind")
    assert result.exit_code == 1
    assert "line 4: unknown kind 'survey'" in result.stderr and "(and 1 more)" in result.stderr
    assert not any((kb.root / "sessions").iterdir())
