"""Onboarding packs without an index: definition, templates, sign-off and status over dates,
and the KM report's packs. Rendering, links and the XSS suite are tests/test_pack_render.py.

Topic answers here come from FakeAnswerer (tests/pack_helpers.py): these tests are about
parsing and dates. The real retriever, model, ffmpeg and Chromium are used in
tests/test_packs_kb.py.
"""

from __future__ import annotations

import datetime as dt
import json
import stat

import pytest
import yaml

from tacit.packs import checkpoints, definition

from .pack_helpers import (
    BLEED,
    CHECKPOINTED,
    PRIVATE,
    _kb,
    _new,
)


def test_new_fills_the_template_from_the_kb_and_refuses_to_overwrite(kb, run):
    _kb(kb, run)
    _new(run)
    path = kb.root / "packs" / "handover" / "pack.md"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    meta = yaml.safe_load(text.split("---")[1])
    assert meta["role"] == "Shift lead" and meta["experts"] == ["maria-lopez"]
    assert meta["start"] == "2026-03-02" and meta["weeks"] == 6
    assert "- [week 1] Cooling loop: how is it done here, and what goes wrong?" in text
    assert f"Bleeding the cooling loop (session: {BLEED})" in text
    # the practise step becomes a practice task, a week after the observation is watched
    assert f"the water runs clear (session: {BLEED}, step: 2)" in text
    assert PRIVATE not in text and "glycol" not in text  # restricted: never offered
    pack = definition.load(kb, "handover")
    assert [c.id for c in pack.items("checkpoints")] == [
        "duties-map",
        "judgement-calls",
        "solo-week",
    ]
    assert {c.reviewer for c in pack.items("checkpoints")} == {"maria-lopez"}
    again = run("pack", "new", "handover", "--role", "x", "--protege", "y", "--mentor", "z",
                "--start", "2026-03-02", "--weeks", "2")  # fmt: skip
    assert again.exit_code == 1 and "already exists" in again.stderr
    assert path.read_text() == text


@pytest.mark.parametrize(
    "args, expected",
    [
        (["../evil"], "unsafe pack name"),
        (["ok", "--template", "nope"], "no pack template 'nope'; templates: new-starter"),
        (["ok", "--expert", "ghost"], "no expert 'ghost'"),
        (["ok", "--start", "next monday"], "--start must be a date"),
    ],
)
def test_new_refuses_bad_input_with_one_line(kb, run, args, expected):
    name, *rest = args
    common = ["--role", "r", "--protege", "p", "--mentor", "m", "--start", "2026-03-02"]
    result = run("pack", "new", name, *common, "--weeks", "4", *rest)
    assert result.exit_code in (1, 2), result
    assert expected in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert not any((kb.root / "packs").iterdir())


@pytest.mark.parametrize("template", ["new-starter", "role-handover"])
@pytest.mark.parametrize("weeks", [1, 4, 12])
def test_templates_make_valid_plans_of_any_length(kb, run, template, weeks):
    _kb(kb, run)
    _new(run, name=f"p{weeks}", template=template, weeks=weeks)
    pack = definition.load(kb, f"p{weeks}")
    scheduled = [i for key in definition.SECTIONS for i in pack.items(key) if i.week]
    assert all(1 <= i.week <= weeks for i in scheduled)
    assert len(pack.items("topics")) >= 7 and len(pack.items("checkpoints")) == 3
    assert pack.items("objectives") and pack.items("glossary") and pack.items("contacts")
    if weeks == 12:  # spread over the plan, not crammed into its first weeks
        assert max(c.week for c in pack.items("checkpoints")) >= 10
        assert len({t.week for t in pack.items("topics")}) >= 5


# --- a broken pack.md: one line, with the line --------------------------------------------


# (body, the body line at fault counted from 0, what the message says)
BROKEN = [
    ("## Topcs\n", 0, "unknown section 'Topcs'"),
    ("## Topics\n\n- How do I start?\n", 2, "a topic needs its week"),
    ("## Topics\n\n- [week 9] How do I start?\n", 2, "week 9 is outside the pack's 1 to 6"),
    ("## Checkpoints\n\n- [week 1] Shows it (reviewer: x)\n", 2, "needs an id"),
    ("## Checkpoints\n\n- [week 1] a-b: Shows it\n", 2, "needs its reviewer"),
    (
        "## Checkpoints\n\n- [week 1] a: x (reviewer: r)\n- [week 2] a: y (reviewer: r)\n",
        3,
        "checkpoint id 'a' is already used on line",
    ),  # fmt: skip
    ("## Topics\n\n- [week 1] See [this](javascript:alert(1))\n", 2, "refused: only http(s)"),
    ("## Contacts\n\n- [pw](../../../../etc/passwd)\n", 2, "leads outside the knowledge base"),
    ("## Practice tasks\n\n- [week 1] Do it (session: ../x, step: 1)\n", 2, "unsafe session id"),
]


@pytest.mark.parametrize("body, at, expected", BROKEN)
def test_broken_pack_md_is_one_line_naming_the_line(kb, run, body, at, expected):
    head = "---\nrole: r\nprotege: p\nmentor: m\nstart: 2026-03-02\nweeks: 6\n---\n\n# T\n\n"
    path = kb.root / "packs" / "broken" / "pack.md"
    path.parent.mkdir(mode=0o700)
    path.write_text(head + body)
    result = run("pack", "status", "broken")
    assert result.exit_code == 1, result
    assert expected in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert f"pack.md: line {head.count(chr(10)) + 1 + at}:" in result.stderr


def test_broken_front_matter_names_the_key_and_line(kb, run):
    path = kb.root / "packs" / "b" / "pack.md"
    path.parent.mkdir(mode=0o700)
    path.write_text("---\nrole: r\nprotege: p\nmentor: m\nstart: soon\nweeks: 6\n---\n")
    result = run("pack", "build", "b")
    assert result.exit_code == 1
    assert "pack.md: line 5: start must be a date" in result.stderr


# --- checkpoints, sign-off and status over dates ------------------------------------------


def _states(kb, today: dt.date) -> dict[str, tuple[str, str]]:
    status = checkpoints.status(kb, "plan", today)
    return {c.id: (c.state, c.outcome) for c in status.checkpoints}


def test_checkpoint_sign_off_and_status_over_dates(kb, run):
    assert run("expert", "add", "Maria Lopez").exit_code == 0
    path = kb.root / "packs" / "plan" / "pack.md"
    path.parent.mkdir(mode=0o700)
    path.write_text(CHECKPOINTED)
    # due = start + week * 7 days: safety 03-09, checks 03-16, faults 03-23, solo 03-30
    assert _states(kb, dt.date(2026, 3, 9))["safety"] == ("on time", "")  # due today
    assert _states(kb, dt.date(2026, 3, 10))["safety"] == ("late", "")  # a day past due

    def sign(cp: str, outcome: str, day: str, by: str = "maria-lopez") -> None:
        result = run("pack", "checkpoint", "plan", cp, "--by", by, "--outcome", outcome,
                     "--date", day, "--note", f"{outcome} on {day}")  # fmt: skip
        assert result.exit_code == 0, result
        assert f"recorded: {cp} {outcome} on {day}" in result.stderr

    sign("safety", "passed", "2026-03-12")  # passed late: done all the same
    sign("checks", "redo", "2026-03-14")  # sent back before its due date
    sign("faults", "redo", "2026-03-20")
    sign("faults", "passed", "2026-03-22", by="Joe Bloggs")  # the named reviewer, not an expert
    assert _states(kb, dt.date(2026, 3, 15)) == {
        "safety": ("done", "passed"),
        "checks": ("on time", "redo"),
        "faults": ("done", "passed"),
        "solo": ("on time", ""),
    }
    assert _states(kb, dt.date(2026, 3, 31)) == {
        "safety": ("done", "passed"),
        "checks": ("late", "redo"),
        "faults": ("done", "passed"),
        "solo": ("late", ""),
    }
    sign("checks", "passed", "2026-03-31")
    sign("solo", "passed", "2026-04-02")
    assert {s for s, _ in _states(kb, dt.date(2026, 4, 3)).values()} == {"done"}
    sign("solo", "redo", "2026-04-04")  # the latest review decides: back to not done
    assert _states(kb, dt.date(2026, 4, 5))["solo"] == ("late", "redo")

    shown = run("pack", "status", "plan", "--as-of", "2026-03-31", "--json")
    assert shown.exit_code == 0, shown
    data = json.loads(shown.stdout)
    checks = next(c for c in data["checkpoints"] if c["id"] == "checks")
    assert checks["due"] == "2026-03-16" and checks["state"] == "done"
    assert checks["reviews"] == 2 and checks["by"] == "Maria Lopez"
    table = run("pack", "status", "plan", "--as-of", "2026-03-15")
    assert table.exit_code == 0 and "on time" in table.stdout and "faults" in table.stdout

    record = kb.root / "packs" / "plan" / "reviews.yaml"
    assert stat.S_IMODE(record.stat().st_mode) == 0o600
    reviews = yaml.safe_load(record.read_text())
    assert len(reviews) == 7 and reviews[0]["date"] == "2026-03-12"
    assert reviews[0]["note"] == "passed on 2026-03-12" and reviews[0]["recorded"]


@pytest.mark.parametrize(
    "args, expected",
    [
        (["nope", "--by", "maria-lopez", "--outcome", "passed"], "no checkpoint 'nope'"),
        (["safety", "--by", "maria-lopez", "--outcome", "great"], "passed or redo"),
        (["safety", "--by", "someone", "--outcome", "passed"], "neither an expert"),
        (["safety", "--by", "maria-lopez", "--outcome", "passed", "--date", "x"], "--date must"),
    ],
)
def test_checkpoint_refuses_bad_input(kb, run, args, expected):
    assert run("expert", "add", "Maria Lopez").exit_code == 0
    path = kb.root / "packs" / "plan" / "pack.md"
    path.parent.mkdir(mode=0o700)
    path.write_text(CHECKPOINTED)
    result = run("pack", "checkpoint", "plan", *args)
    assert result.exit_code in (1, 2) and expected in result.stderr, result
    assert not (path.parent / "reviews.yaml").exists()


def test_km_report_lists_every_pack_with_its_checkpoints(kb, run):
    from tacit.planning import km_report

    assert run("expert", "add", "Maria Lopez").exit_code == 0
    path = kb.root / "packs" / "plan" / "pack.md"
    path.parent.mkdir(mode=0o700)
    path.write_text(CHECKPOINTED)
    assert run("pack", "checkpoint", "plan", "safety", "--by", "maria-lopez",
               "--outcome", "passed", "--date", "2026-03-05").exit_code == 0  # fmt: skip
    (status,) = checkpoints.all_status(kb, dt.date(2026, 3, 20))
    assert status.name == "plan"
    first = status.checkpoints[0]
    assert (first.title, first.week, first.reviewer, first.state, first.outcome) == (
        "Walks the isolation points",
        1,
        "Maria Lopez",
        "done",
        "passed",
    )
    assert first.due == dt.date(2026, 3, 9)
    text = km_report.build_markdown(kb, dt.date(2026, 3, 20))
    assert "### plan" in text and "| Walks the isolation points | 1 | 2026-03-09 |" in text
    listed = run("pack", "list", "--json")
    assert listed.exit_code == 0 and [p["name"] for p in json.loads(listed.stdout)] == ["plan"]
    templates = json.loads(run("pack", "templates", "--json").stdout)
    assert [t["name"] for t in templates] == ["new-starter", "role-handover"]


# --- build: golden Markdown, the mentor's report, and the XSS suite -----------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (
            "- checkpoint: a\n  by: Sam\n  outcome: maybe\n  date: 2026-03-02\n",
            "line 1: review 1: outcome",
        ),
        (
            "- checkpoint: a\n  by: Sam\n  outcome: passed\n  date: 2026-03-02\n  mood: fine\n",
            "mood",
        ),
        ("- checkpoint: a\n  outcome: passed\n  date: 2026-03-02\n", "review 1: by"),
        (
            "- checkpoint: a\n  by: Sam\n  outcome: passed\n  date: 2026-03-02\n- 7\n",
            "line 5: review 2",
        ),
    ],
)
def test_a_reviews_file_edited_wrong_names_the_review_line_and_key(kb, run, written, expected):
    """reviews.yaml is a pydantic record: a wrong outcome, an unknown or missing key is refused
    with the file, the review's line and the key, in one line, and nothing is changed."""
    _kb(kb, run)
    _new(run)
    reviews = kb.root / "packs" / "handover" / "reviews.yaml"
    reviews.write_text(written)
    result = run("pack", "status", "handover")
    assert result.exit_code == 1, result
    assert "reviews.yaml" in result.stderr and expected in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert reviews.read_text() == written
