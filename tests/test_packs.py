"""Onboarding packs without an index: definition, templates, sign-off and status over dates,
the mentor's report, the golden Markdown and the XSS suite.

Topic answers here come from FakeAnswerer (fixed excerpts, named a fake): these tests are about
parsing, rendering and dates. The real retriever, model, ffmpeg and Chromium are used in
tests/test_packs_kb.py.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import stat
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from tacit.ask.answers import Answer
from tacit.ask.excerpts import Excerpt, Suggestion, citation
from tacit.packs import build, checkpoints, definition, render
from tacit.records import sessions
from tacit.records.sessions import Answer as GuideAnswer
from tacit.records.sessions import Media, Session, Step

GOLDEN = Path(__file__).parent / "golden" / "packs"
REGEN = os.environ.get("TACIT_REGEN_GOLDEN") == "1"
START = dt.date(2026, 3, 2)
BUILT_ON = dt.date(2026, 3, 20)
EXIT = "2026-03-02-maria-lopez-exit"
BLEED = "2026-03-03-maria-lopez-bleed"
PRIVATE = "2026-03-04-maria-lopez-private"


# --- a small KB with fixed ids (golden output must not depend on today's date) ----------------


def _kb(kb, run, step_text: str = "Open the bleed screw until the water runs clear") -> None:
    for args in (
        ["Maria Lopez", "--role", "Shift lead", "--topic", "cooling loop", "--topic", "alarms"],
        ["Sam Okafor", "--role", "Instrument tech", "--contact", "Dave Kim: chiller vendor"],
    ):
        result = run("expert", "add", *args)
        assert result.exit_code == 0, result
    media = kb.session_dir(EXIT) / "media" / "interview.wav"
    media.parent.mkdir(parents=True, mode=0o700)
    media.write_bytes(b"RIFF fake wav for link checks")
    sessions.save(
        kb,
        Session(
            id=EXIT,
            expert="maria-lopez",
            title="Exit interview",
            media=(Media("media/interview.wav", sessions.sha256_of(media)),),
            answers=(GuideAnswer("q1", "Role", "What fails?", "The pump seal.", "answered", 30.0),),
        ),
    )
    steps = (
        Step(1, 10.0, "Close the return valve", "Quarter turn only", "It sticks"),
        Step(2, 20.0, step_text, "Watch for air", "Air locks the pump", practise=True),
        Step(3, 30.0, "Restart the pump", "", "", practise=False),
    )
    bleed_media = kb.session_dir(BLEED) / "media" / "bleed.wav"
    bleed_media.parent.mkdir(parents=True, mode=0o700)
    bleed_media.write_bytes(b"RIFF fake")
    sessions.save(
        kb,
        Session(
            id=BLEED,
            expert="maria-lopez",
            kind="observation",
            task="Bleeding the cooling loop",
            media=(Media("media/bleed.wav", "x", offset=5.0),),
            steps=steps,
        ),
    )
    sessions.save(
        kb,
        Session(
            id=PRIVATE,
            expert="maria-lopez",
            kind="observation",
            task="Private matter",
            restricted=True,
            steps=(Step(1, 1.0, "Secret glycol bypass", practise=True),),
        ),
    )


def _new(run, name="handover", template="role-handover", weeks=6, start=START) -> None:
    result = run(
        "pack",
        "new",
        name,
        "--role",
        "Shift lead",
        "--protege",
        "Ana Ruiz",
        "--mentor",
        "Joe Bloggs",
        "--start",
        start.isoformat(),
        "--weeks",
        str(weeks),
        "--template",
        template,
        "--expert",
        "maria-lopez",
    )
    assert result.exit_code == 0, result


def _excerpt(
    session: str, speaker: str, start: float, text: str, media: str = "", dense: float = 0.8
) -> Excerpt:
    return Excerpt(
        chunk_id=f"{session}:{start}",
        session=session,
        expert="maria-lopez",
        expert_name="Maria Lopez",
        role="Shift lead",
        speaker=speaker,
        start=start,
        end=start + 10,
        text=text,
        score=0.9,
        citation=citation(session, speaker, start),
        media=f"{media}#t={start:g}" if media else None,
        dense_score=dense,
    )


class FakeAnswerer:
    """A fake answerer: fixed answers per question; any other question is not captured."""

    def __init__(self, answers: dict[str, tuple[str, list[Excerpt]]]):
        self.answers = answers

    def answer(self, question: str) -> Answer:
        if question not in self.answers:
            who = (Suggestion("maria-lopez", "Maria Lopez", "Shift lead", "topics: alarms"),)
            return Answer(question, "", True, (), experts=who)
        text, excerpts = self.answers[question]
        return Answer(question, text, False, tuple(excerpts))

    def who_knows(self, topic: str) -> list:
        return []


MEDIA = f"sessions/{EXIT}/media/interview.wav"
COOLING = "Cooling loop: how is it done here, and what goes wrong?"
DUTIES = "What are the recurring duties of this role: daily, weekly, monthly and yearly?"


def _fake() -> FakeAnswerer:
    return FakeAnswerer(
        {
            COOLING: (
                f"Bleed it before restarting. {citation(EXIT, 'Maria Lopez', 83.4)}",
                [
                    _excerpt(
                        EXIT,
                        "Maria Lopez",
                        83.4,
                        "Interviewer: How do you restart it?\nMaria Lopez: Bleed it first.",
                        MEDIA,
                    ),
                    _excerpt(BLEED, "Maria Lopez", 15.0, "Step 2: Open the bleed screw"),
                    # the nearest passage, but not relevant on its own: a topic is not padded
                    _excerpt(
                        EXIT, "Maria Lopez", 200.0, "Maria Lopez: Lunch is at noon.", MEDIA, 0.2
                    ),
                ],
            ),
            DUTIES: ("", [_excerpt(EXIT, "Maria Lopez", 3725.0, "Maria Lopez: Monday.", MEDIA)]),
        }
    )


def _build(kb, name="handover", answerer=None) -> build.Built:
    pack = definition.load(kb, name)
    built = build.build(kb, pack, answerer or _fake(), today=BUILT_ON)
    render.write(kb, built)
    return built


# --- pack new -------------------------------------------------------------------------------


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


CHECKPOINTED = """---
role: Shift lead
protege: Ana Ruiz
mentor: Joe Bloggs
start: 2026-03-02
weeks: 4
experts: [maria-lopez]
---

# Plan

## Checkpoints

- [week 1] safety: Walks the isolation points (reviewer: maria-lopez)
- [week 2] checks: Does the start-of-shift checks alone (reviewer: maria-lopez)
- [week 3] faults: Diagnoses two faults (reviewer: Joe Bloggs)
- [week 4] solo: Runs a shift alone (reviewer: maria-lopez)
"""


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


def test_rendered_markdown_matches_the_golden_file(kb, run):
    _kb(kb, run)
    _new(run)
    built = _build(kb)
    text = (kb.root / "packs" / "handover" / "build" / "pack.md").read_text()
    assert text == render.markdown(built)
    golden = GOLDEN / "handover.md"
    if REGEN:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
    assert golden.is_file(), "run with TACIT_REGEN_GOLDEN=1 to create the golden file"
    assert text == golden.read_text(), "pack Markdown changed; review, then regenerate"


def test_build_links_media_from_the_build_folder_and_never_copies_it(kb, run):
    _kb(kb, run)
    _new(run)
    built = _build(kb)
    cooling = next(t for t in built.topics if t.item.text == COOLING)
    href = cooling.quotes[0].href
    assert href == f"../../../sessions/{EXIT}/media/interview.wav#t=83.4"
    build_dir = kb.root / "packs" / "handover" / "build"
    assert (build_dir / href.split("#")[0]).resolve() == (kb.root / MEDIA).resolve()
    assert cooling.quotes[0].time == "00:01:23"
    assert cooling.quotes[1].href == ""  # no recording named: cited, not linked
    assert len(cooling.quotes) == 2  # the third, below the relevance threshold, is left out
    duties = next(t for t in built.topics if t.item.text == DUTIES)
    assert duties.quotes[0].time == "01:02:05"
    files = {p.name for p in build_dir.iterdir()}
    assert files == {"pack.md", "pack.html", "summary.json"}  # media is never copied in
    assert render.quoting(kb, EXIT) == ["handover"] and render.quoting(kb, PRIVATE) == []
    task = next(t for t in built.practice if t.step == 2)
    links = {s.n: (s.time, s.href) for s in task.observed.steps}  # session time - offset 5 s
    assert links[2] == ("00:00:15", f"../../../sessions/{BLEED}/media/bleed.wav#t=15")
    assert all(PRIVATE not in t.item.session for t in built.practice)


def test_media_link_leaving_the_kb_or_missing_is_not_linked(kb, run):
    _kb(kb, run)
    _new(run)
    outside = [
        _excerpt(EXIT, "Maria Lopez", 1.0, "a", "sessions/../../../../etc/passwd"),
        _excerpt(EXIT, "Maria Lopez", 2.0, "b", f"sessions/{EXIT}/media/gone.wav"),
    ]
    built = _build(kb, answerer=FakeAnswerer({COOLING: ("x", outside)}))
    cooling = next(t for t in built.topics if t.item.text == COOLING)
    assert [q.href for q in cooling.quotes] == ["", ""]
    assert "etc/passwd" not in (kb.root / "packs" / "handover" / "build" / "pack.html").read_text()


def test_restricted_excerpts_never_appear_even_if_an_answerer_returns_them(kb, run):
    _kb(kb, run)
    _new(run)
    leaked = [_excerpt(PRIVATE, "Maria Lopez", 1.0, "Secret glycol bypass")]
    built = _build(kb, answerer=FakeAnswerer({COOLING: ("Secret glycol bypass", leaked)}))
    text = (kb.root / "packs" / "handover" / "build" / "pack.md").read_text()
    assert "glycol" not in text and PRIVATE not in text
    assert COOLING in [t.item.text for t in built.gaps]


def test_mentor_report_covers_outcomes_gaps_and_next_steps(kb, run):
    _kb(kb, run)
    _new(run)
    _build(kb)
    note = "missed the monthly duties"
    signed = run("pack", "checkpoint", "handover", "duties-map", "--by", "maria-lopez",
                 "--outcome", "redo", "--date", "2026-03-14", "--note", note)  # fmt: skip
    assert signed.exit_code == 0, signed
    result = run("pack", "report", "handover", "--as-of", "2026-03-20")
    assert result.exit_code == 0, result
    path = Path(result.stdout.strip())
    assert path == kb.root / "packs" / "handover" / "build" / "report.md"
    text = path.read_text()
    for heading in ("## What was covered", "## Checkpoint outcomes", "## Open gaps",
                    "## Next steps"):  # fmt: skip
        assert heading in text
    assert "- As of 2026-03-20: Week 3 of 6." in text
    covered = text.split("## What was covered")[1].split("## Checkpoint outcomes")[0]
    assert f"- Week 1, topic: {COOLING} (answered from 2 cited excerpts)" in covered
    weeks = [int(w) for w in re.findall(r"^- Week (\d+), ", covered, re.MULTILINE)]
    assert weeks == sorted(weeks) and weeks[-1] == 3  # in the plan's order, up to this week
    assert "| 2 | 2026-03-16 | Maria Lopez | late | redo | 2026-03-14 by Maria Lopez |" in text
    assert "missed the monthly duties" in text
    assert "- Week 2: What has gone wrong in this role before" in text  # a gap, with who knows
    assert "Most likely to know: Maria Lopez (topics: alarms)" in text
    assert "1. Review `duties-map` with Maria Lopez first: 4 days past due." in text
    assert "Week 4 topics: What would you do differently" in text


# The payloads would change the page if they ran: set its title, add an element, call out.
PAYLOADS = (
    "<script>document.title='pwned'</script>",
    "<img src=x onerror=\"document.body.appendChild(document.createElement('pwned'))\">",
    "[click me](javascript:document.title='pwned')",
    '<a href="javascript:alert(1)">link</a>',
    '<iframe src="https://evil.example/"></iframe>',
    "<svg onload=\"document.title='pwned'\"></svg>",
    "![beacon](https://evil.example/beacon.png)",
    "<style>body{display:none}</style>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "1. not a list\n# not a heading\n> not a quote\n---",
    "<!-- unclosed comment",
)
PAYLOAD = " ".join(PAYLOADS)


class Elements(HTMLParser):
    """Every element and attribute of a page, to check what the payloads became."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.title = ""
        self._in_title = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


SAFE_TAGS = {
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "h4", "p", "ul", "ol",
    "li", "a", "strong", "em", "code", "blockquote", "table", "thead", "tbody", "tr", "th", "td",
    "hr", "br",
}  # fmt: skip


def assert_inert(page: str, kb_root: Path, base: Path, title: str) -> None:
    parsed = Elements(page)
    tags = [tag for tag, _ in parsed.tags]
    assert set(tags) <= SAFE_TAGS, set(tags) - SAFE_TAGS
    assert tags.count("style") == 1  # the shell's own, nothing from the payloads
    assert parsed.title == title
    for tag, attrs in parsed.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert "src" not in attrs, (tag, attrs)
        if tag == "a":
            href = attrs["href"] or ""
            if href.startswith(("http://", "https://")):
                assert "evil.example" not in href
                continue
            target = (base / href.split("#")[0]).resolve()
            assert target.is_relative_to(kb_root.resolve()) and target.exists(), href


def assert_inert_markdown(text: str, kb_root: Path, base: Path) -> None:
    """Parsed by a permissive Markdown parser (raw HTML on, any link): no HTML, no images,
    and every link http(s) or a file inside the KB."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    md.validateLink = lambda url: True
    tokens = md.parse(text)
    everything = tokens + [c for t in tokens for c in (t.children or [])]
    kinds = {t.type for t in everything}
    assert not kinds & {"html_block", "html_inline", "image"}, kinds
    for token in everything:
        if token.type == "link_open":
            href = str(token.attrs["href"])
            if href.startswith(("http://", "https://")):
                assert "evil.example" not in href
                continue
            target = (base / href.split("#")[0]).resolve()
            assert target.is_relative_to(kb_root.resolve()) and target.exists(), href
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert not any(h.startswith("not a heading") for h in headings)


def test_xss_payloads_in_transcripts_answers_steps_and_coach_text_render_inert(kb, run):
    _kb(kb, run, step_text=f"Bleed it {PAYLOAD}")
    _new(run)
    path = kb.root / "packs" / "handover" / "pack.md"
    coach = f"- [week 2] Safe **bold**, [manual](https://example.org/m), <b>raw</b> {PAYLOADS[1]}"
    path.write_text(path.read_text().replace("## Deliverables\n", f"## Deliverables\n\n{coach}\n"))
    spoken = [
        _excerpt(EXIT, "Maria Lopez", 83.4, f"Maria Lopez: {PAYLOAD}\n<b>raw</b> line", MEDIA),
        _excerpt(EXIT, f"Speaker {PAYLOADS[0]}", 12.0, PAYLOAD, MEDIA),
    ]
    answerer = FakeAnswerer({COOLING: (PAYLOAD, spoken), DUTIES: (PAYLOAD, spoken[:1])})
    _build(kb, answerer=answerer)
    build_dir = path.parent / "build"
    text = (build_dir / "pack.md").read_text()
    assert_inert_markdown(text, kb.root, build_dir)
    page = (build_dir / "pack.html").read_text()
    assert_inert(page, kb.root, build_dir, "Role handover: Shift lead")
    # the words are still there for the reader, as text
    assert "&lt;script&gt;document.title=" in page
    assert "&lt;img src=x onerror=" in page
    assert "[click me](javascript:document.title=" in page
    assert "&amp;lt;script&amp;gt;" in page  # an entity stays the characters it was typed as
    assert '<a href="https://example.org/m">manual</a>' in page and "<strong>bold</strong>" in page
    assert "<h1>not a heading" not in page and "<ol" not in page.split("Observed steps")[0]


def test_redaction_masks_what_the_pack_derives_from_the_record(kb, run):
    config = kb.root / "tacit.toml"
    config.write_text(config.read_text().replace("terms = []", 'terms = ["Dave Kim"]'))
    _kb(kb, run, step_text="Open the bleed screw, then ring Dave Kim on +44 161 496 0000")
    _new(run)
    said = [_excerpt(EXIT, "Maria Lopez", 1.0, "Maria Lopez: mail dave@example.com", MEDIA)]
    from tacit.core import workspace

    _build(workspace.current(), answerer=FakeAnswerer({COOLING: ("x", said)}))
    built_md = (kb.root / "packs" / "handover" / "build" / "pack.md").read_text()
    assert "Dave Kim" not in built_md.split("## Contacts")[0]  # steps and excerpts
    assert "496 0000" not in built_md and "dave@example.com" not in built_md
    assert "ring \\[redacted\\]" in built_md and "mail \\[redacted\\]" in built_md


def test_build_without_an_index_says_how_to_make_one(kb, run):
    _kb(kb, run)
    _new(run)
    result = run("pack", "build", "handover")
    assert result.exit_code == 1, result
    assert "no index yet" in result.stderr and "tacit index" in result.stderr
    assert not (kb.root / "packs" / "handover" / "build").exists()


# --- content that reads well: re-flowed paragraphs, week order, links from the KB root ------


def test_typed_multi_line_answers_are_re_flowed_into_paragraphs():
    typed = "Q: What do you check first?\nA: The suction\npressure, then the\noil level.\n\nAlways."
    assert render.paragraphs(typed) == [
        "Q: What do you check first?",
        "A: The suction pressure, then the oil level.",
        "Always.",
    ]
    turns = "Interviewer: And then?\nMaria Lopez: You bleed it\nat the top.\nPriya Shah: Why?"
    assert render.paragraphs(turns, "Maria Lopez") == [
        "Interviewer: And then?",
        "Maria Lopez: You bleed it at the top.",
        "Priya Shah: Why?",  # every speaker's turn, not only the cited one's
    ]


def test_pack_reflows_quotes_sorts_deliverables_and_resolves_links_both_ways(kb, run):
    _kb(kb, run)
    notes = kb.session_dir(EXIT) / "notes.md"
    notes.write_text("notes")
    pack_md = kb.root / "packs" / "plan" / "pack.md"
    pack_md.parent.mkdir(mode=0o700)
    pack_md.write_text(
        CHECKPOINTED.replace(
            "[week 1] safety", f"[week 1] safety: [notes](sessions/{EXIT}/notes.md)"
        ).replace("# Plan\n", "# Plan\n\n## Topics\n\n- [week 1] " + COOLING + "\n")
        + "\n## Deliverables\n\n"
        + f"- [week 3] Sketch the loop ([from the root](sessions/{EXIT}/notes.md))\n"
        + f"- [week 1] Read the notes ([from pack.md](../../sessions/{EXIT}/notes.md))\n"
        + f"- [week 2] Tag list ([rooted](/sessions/{EXIT}/notes.md))\n"
    )
    typed = "Q: How do you restart it?\nA: Bleed it\nbefore restarting,\nnever after."
    answerer = FakeAnswerer(
        {COOLING: ("Bleed it before restarting.", [_excerpt(EXIT, "", 30.0, typed)])}
    )
    _build(kb, "plan", answerer)
    text = (pack_md.parent / "build" / "pack.md").read_text()
    assert "> A: Bleed it before restarting, never after.\n" in text
    assert "> Bleed it\n" not in text
    deliverables = text.split("## Deliverables\n", 1)[1].split("\n## ", 1)[0]
    weeks = [int(w) for w in re.findall(r"\*week (\d+):\*", deliverables)]
    assert weeks == [1, 2, 3]
    hrefs = set(re.findall(r"\]\(<([^>]+notes\.md)>\)", text))
    assert hrefs == {f"../../../sessions/{EXIT}/notes.md"}  # one file, however it was written
    assert (pack_md.parent / "build" / next(iter(hrefs))).resolve() == notes.resolve()
    html = (pack_md.parent / "build" / "pack.html").read_text()
    assert set(re.findall(r'href="([^"]*notes\.md)"', html)) == hrefs  # linked, not dropped
    assert html.count(f'href="../../../sessions/{EXIT}/notes.md"') >= 4
