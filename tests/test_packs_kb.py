"""Onboarding packs built from a small real KB: sessions with transcripts and recordings made by
ffmpeg, indexed by `tacit index` with the real embedding model, Chroma and BM25, a pack built by
`tacit pack build`, and its HTML opened in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pytest
from typer.testing import CliRunner

from tacit.core import timefmt, workspace
from tacit.index import chunker
from tacit.records import experts, sessions
from tacit.records import transcript as tr
from tacit.records.sessions import Answer, Media, Step

XSS_TEXT = (
    "Never open the bleed screw on a running pump. <script>document.title='pwned'</script> "
    "<img src=x onerror=\"document.body.appendChild(document.createElement('pwned'))\"> "
    "[read this](javascript:document.title='pwned')"
)
XSS_ANSWER = (
    "<div onclick=\"document.title='pwned'\">The worst mistake a newcomer can make is to bleed "
    "a running pump: the loop empties onto the floor.</div> "
    '<iframe src="https://evil.example/"></iframe> <a href="javascript:alert(1)">x</a>'
)

EXIT_TURNS = [  # (start, end, speaker, text): each question and answer is one passage
    (0.0, 4.0, "Interviewer", "How do you restart the cooling loop after a trip?"),
    (4.5, 14.0, "Maria Lopez",
     "First you close the return valve a quarter turn, then you bleed the air out at the high "
     "point until the water runs clear. If you skip the bleed, the circulation pump air locks "
     "and trips again within a minute, and you start over."),
    (15.0, 18.0, "Interviewer", "What do you do when the alarm panel floods with alarms?"),
    (18.5, 30.0, "Maria Lopez",
     "Silence the horn, then read the first alarm in the sequence, never the last one. The "
     "first alarm tells you the cause and the rest are consequences. Nine times out of ten it "
     "is the compressor suction pressure that went first."),
    (31.0, 34.0, "Interviewer", "Who do you call when the chiller will not start?"),
    (34.5, 44.0, "Maria Lopez",
     "Call the chiller vendor's service desk. Their engineer knows the controller firmware and "
     "can talk you through a controller reset over the phone in ten minutes."),
]  # fmt: skip
SAFETY_TURNS = [
    (0.0, 3.0, "Interviewer", "What must a newcomer never do with the bleed screw?"),
    (3.5, 12.0, "Maria Lopez", XSS_TEXT),
]
SECRET = "glycol bypass behind panel seven"
PRIVATE_TURNS = [
    (0.0, 3.0, "Interviewer", "How do you restart the cooling loop quickly?"),
    (3.5, 12.0, "Maria Lopez",
     f"Between us, I open the {SECRET} and restart the cooling loop without bleeding it."),
]  # fmt: skip

PACK = """---
role: Shift lead
protege: Ana Ruiz
mentor: Joe Bloggs
start: 2026-03-02
weeks: 4
experts: [maria-lopez]
---

# Onboarding: Shift lead

## Objectives

- Run a night shift on the cooling plant alone by week 4.

## Topics

- [week 1] How do I restart the cooling loop after a trip?
- [week 2] What should I look at first when the alarm panel floods?
- [week 2] What must a newcomer never do with the bleed screw?
- [week 2] What is the worst mistake a newcomer can make on the cooling plant?
- [week 3] How do I renew the staff canteen's food hygiene certificate?

## Observations to shadow

- [week 1] Watch Maria bleed the loop (session: {bleed})

## Practice tasks

## Deliverables

- [week 2] A one-page sketch of the cooling loop.

## Checkpoints

- [week 2] restart: Restarts the loop on the simulator (reviewer: maria-lopez)

## Glossary

- **Bleed**: letting trapped air out of the loop at its high point.

## Contacts

- Joe Bloggs: mentor.
"""
TOPICS = {
    "restart": "How do I restart the cooling loop after a trip?",
    "alarms": "What should I look at first when the alarm panel floods?",
    "newcomer": "What must a newcomer never do with the bleed screw?",
    "worst": "What is the worst mistake a newcomer can make on the cooling plant?",
    "gap": "How do I renew the staff canteen's food hygiene certificate?",
}


def _recording(path: Path, seconds: int) -> None:
    """A short real recording (a sine tone) made by ffmpeg."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        pytest.fail("ffmpeg is not installed; run `make setup`")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    subprocess.run(
        [ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
         "-ac", "1", "-ar", "8000", str(path)],
        check=True,
    )  # fmt: skip


def _session(ws, expert, kind, label, turns, media_name, offset=0.0, **fields):
    session = sessions.create(ws, expert, kind, label, **fields)
    folder = ws.session_dir(session.id)
    media = folder / "media" / media_name
    _recording(media, 50)
    sha = sessions.sha256_of(media)
    session = sessions.update(
        ws, session, media=(Media(f"media/{media_name}", sha, offset, "given"),)
    )
    if turns:
        segments = tuple(tr.Segment(s, e, who, text) for s, e, who, text in turns)
        transcript = tr.Transcript(
            segments, media_sha256=sha, media_file=f"media/{media_name}", duration=50.0
        )
        tr.save(folder / tr.TRANSCRIPT_NAME, transcript)
    return session


@pytest.fixture(scope="module")
def real_kb(tmp_path_factory):
    """A real KB: two experts, four sessions (one restricted), indexed with the real model,
    and the pack built by the CLI. Built once for this module (indexing loads the model)."""
    root = tmp_path_factory.mktemp("packs-kb") / "kb"
    ws = workspace.init(root, "cooling plant")
    experts.add(ws, "Maria Lopez", role="Shift lead", topics=["cooling loop", "alarms"],
                contacts=["Dave Kim: chiller vendor"])  # fmt: skip
    experts.add(ws, "Sam Okafor", role="Instrument tech", topics=["food hygiene"])
    exit_session = _session(ws, "maria-lopez", "interview", "exit", EXIT_TURNS, "exit.wav")
    question = "What is the worst mistake a newcomer can make on the cooling plant?"
    worst = Answer("q1", "Safety", question, XSS_ANSWER, "answered", 40.0)
    safety = _session(
        ws, "maria-lopez", "interview", "safety", SAFETY_TURNS, "safety.wav", answers=(worst,)
    )
    private = _session(
        ws, "maria-lopez", "interview", "private", PRIVATE_TURNS, "private.wav", restricted=True
    )
    steps = (
        Step(1, 10.0, "Close the return valve", "A quarter turn only", "The valve seat sticks"),
        Step(
            2,
            20.0,
            "Open the bleed screw at the high point",
            "Until the water runs clear",
            "Trapped air locks the pump",
            practise=True,
        ),  # fmt: skip
        Step(3, 30.0, "Restart the circulation pump", "Watch the flow gauge", ""),
    )
    bleed = _session(
        ws, "maria-lopez", "observation", "bleed", None, "bleed.mp4", offset=5.0,
        task="Bleeding the cooling loop", steps=steps,
    )  # fmt: skip
    pack_md = root / "packs" / "night-lead" / "pack.md"
    pack_md.parent.mkdir(mode=0o700)
    pack_md.write_text(PACK.replace("{bleed}", bleed.id))

    from tacit.cli import app

    runner = CliRunner()
    indexed = runner.invoke(app, ["--kb", str(root), "index"])
    assert indexed.exit_code == 0, indexed.output
    built = runner.invoke(app, ["--kb", str(root), "pack", "build", "night-lead"])
    assert built.exit_code == 0, built.output
    workspace.set_override(None)
    return {
        "ws": ws,
        "root": root,
        "build": pack_md.parent / "build",
        "output": built.output,
        "exit": exit_session,
        "safety": safety,
        "private": private,
        "bleed": bleed,
    }


def _topic_block(text: str, question: str) -> str:
    """The part of build/pack.md under one topic's heading."""
    topics = text.split("\n## Topics\n", 1)[1].split("\n## Gaps\n", 1)[0]
    block = topics.split(f"### {question}\n", 1)[1]
    return block.split("\n### ", 1)[0]


LINK = re.compile(r"\[(\d\d:\d\d:\d\d)\]\(<([^>]+)>\)")


def test_each_topic_cites_excerpts_with_correct_times_and_working_media_links(real_kb):
    text = (real_kb["build"] / "pack.md").read_text()
    chunks = chunker.chunk_kb(real_kb["ws"])
    # the expert's answer starts at 4.5 s and 18.5 s, after the interviewer's question
    expected = {"restart": (real_kb["exit"], 4.5), "alarms": (real_kb["exit"], 18.5)}
    for key, (session, question_at) in expected.items():
        block = _topic_block(text, TOPICS[key])
        first_quote = block.split("> — ", 1)[1].splitlines()[0]
        assert session.id in first_quote, (key, block)
        when, href = LINK.search(first_quote).groups()
        # the quote starts where its first sentence is said: the time cited and the second linked
        assert when == timefmt.clock(question_at)
        path, _, fragment = href.partition("#")
        assert fragment == f"t={question_at:g}"
        target = (real_kb["build"] / unquote(path)).resolve()
        assert target == (real_kb["root"] / "sessions" / session.id / "media" / "exit.wav")
        assert target.is_file() and target.is_relative_to(real_kb["root"].resolve())
        # a sentence mark of the session's chunks: the time is where the sentence was said
        marks = {m[1] for c in chunks if c.session == session.id for m in c.marks}
        assert question_at in marks
    restart = _topic_block(text, TOPICS["restart"])
    assert "bleed the air out at the high point" in restart
    assert "chiller vendor" not in restart  # the nearest unrelated passage does not pad it
    alarms = _topic_block(text, TOPICS["alarms"])
    assert "read the first alarm in the sequence" in alarms
    # every link in the pack resolves to a file inside the KB; media is linked, never copied
    for _, href in LINK.findall(text):
        target = (real_kb["build"] / unquote(href.split("#")[0])).resolve()
        assert target.is_file() and target.is_relative_to(real_kb["root"].resolve()), href
    assert {p.name for p in real_kb["build"].iterdir()} == {"pack.md", "pack.html", "summary.json"}


def test_unanswerable_topic_is_a_gap_and_ask_agrees(real_kb, run):
    text = (real_kb["build"] / "pack.md").read_text()
    gap = _topic_block(text, TOPICS["gap"])
    assert "Not captured in the knowledge base yet" in gap and "> —" not in gap
    gaps = text.split("\n## Gaps\n", 1)[1].split("\n## ", 1)[0]
    assert TOPICS["gap"] in gaps
    assert "Most likely to know: Sam Okafor (topics: food hygiene)" in gaps
    for key in ("restart", "alarms", "newcomer", "worst"):
        assert TOPICS[key] not in gaps
    assert "4 of 5 topics answered; gaps: 1" in real_kb["output"]
    summary = json.loads((real_kb["build"] / "summary.json").read_text())
    assert [t["captured"] for t in summary["topics"]] == [True, True, True, True, False]
    # `tacit ask` draws the same line between captured and not
    asked = run("--kb", real_kb["root"], "ask", TOPICS["gap"], "--json", "--no-log")
    assert asked.exit_code == 0, asked
    assert json.loads(asked.stdout)["not_captured"] is True


def test_restricted_sessions_never_appear(real_kb):
    for name in ("pack.md", "pack.html", "summary.json"):
        text = (real_kb["build"] / name).read_text()
        assert real_kb["private"].id not in text and "glycol" not in text, name


def test_practice_tasks_carry_the_observed_steps_with_their_seconds(real_kb):
    text = (real_kb["build"] / "pack.md").read_text()
    practice = text.split("\n## Practice tasks\n", 1)[1].split("\n## Deliverables\n", 1)[0]
    assert "### Open the bleed screw at the high point" in practice
    assert "*week 2*" in practice  # the week after the pack schedules watching that session
    bleed = real_kb["bleed"].id
    steps = [line for line in practice.splitlines() if line.startswith("- Step ")]
    assert len(steps) == 3 and "**← practise this**" in steps[1]
    for step, seconds in zip(steps, (5, 15, 25), strict=True):  # session time - 5 s offset
        when, href = LINK.search(step).groups()
        assert when == timefmt.clock(seconds)
        assert href == f"../../../sessions/{bleed}/media/bleed.mp4#t={seconds}"
        assert (real_kb["build"] / href.split("#")[0]).resolve().is_file()
    contacts = text.split("\n## Contacts\n", 1)[1]
    assert "- Joe Bloggs: mentor." in contacts
    assert "**Maria Lopez**: Shift lead" in contacts and "Dave Kim: chiller vendor" in contacts


class _Page:
    def __init__(self, dom: str):
        from html.parser import HTMLParser

        self.tags: list[tuple[str, dict]] = []
        self.title = ""
        self.headings: list[str] = []
        page = self

        class Parser(HTMLParser):
            current = ""

            def handle_starttag(self, tag, attrs):
                page.tags.append((tag, dict(attrs)))
                self.current = tag

            def handle_endtag(self, tag):
                self.current = ""

            def handle_data(self, data):
                if self.current == "title":
                    page.title += data
                if self.current in ("h1", "h2"):
                    page.headings.append(data.strip())

        Parser().feed(dom)


def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    binary = shutil.which("chromium")
    if binary is None:
        pytest.fail("chromium is not installed; run `make setup`")
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        "--disable-default-apps", "--mute-audio", f"--user-data-dir={profile}",
        "--virtual-time-budget=3000",
    ]  # fmt: skip
    return subprocess.run(
        [binary, *flags, *args], capture_output=True, text=True, timeout=90, check=False
    )


def test_pack_html_in_headless_chromium_shows_the_plan_and_runs_no_script(real_kb, tmp_path):
    html_path = real_kb["build"] / "pack.html"
    page = html_path.read_text()
    assert "<script" not in page and "<iframe" not in page and "<img" not in page
    assert "&lt;script&gt;document.title=" in page  # the words stay, as text
    assert "&lt;div onclick=" in page
    url = html_path.resolve().as_uri()
    dumped = _chromium(["--dump-dom", url], tmp_path / "profile")
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = _Page(dumped.stdout)
    # the payloads would have renamed the page or added a <pwned> element had they run
    assert dom.title == "Onboarding: Shift lead"
    tags = {tag for tag, _ in dom.tags}
    assert not tags & {"script", "img", "iframe", "pwned", "svg"}, tags
    assert not any(name.startswith("on") for _, attrs in dom.tags for name in attrs)
    hrefs = [attrs.get("href", "") for tag, attrs in dom.tags if tag == "a"]
    assert hrefs and not any(h.startswith("javascript") for h in hrefs)
    for heading in ("Timeline", "Topics", "Gaps", "Practice tasks", "Checkpoints", "Contacts"):
        assert heading in dom.headings, dom.headings
    shot = tmp_path / "pack.png"
    taken = _chromium(
        ["--window-size=1200,2400", f"--screenshot={shot}", url], tmp_path / "profile2"
    )
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 10_000  # a rendered page, not a blank


def test_mentor_report_after_a_real_build(real_kb, run):
    result = run("--kb", real_kb["root"], "pack", "report", "night-lead", "--as-of", "2026-03-20")
    assert result.exit_code == 0, result
    text = (real_kb["build"] / "report.md").read_text()
    assert f"- Week 1, topic: {TOPICS['restart']} (answered from 1 cited excerpt)" in text
    assert f"- Week 3: {TOPICS['gap']}" in text  # open gap
    assert "Review `restart` with Maria Lopez first: 4 days past due." in text


def test_each_topic_shows_the_answer_and_citation_ask_gives(real_kb, run):
    from tacit.core.htmlrender import escape_md

    text = (real_kb["build"] / "pack.md").read_text()
    for key in ("restart", "alarms", "newcomer", "worst"):
        asked = run("--kb", real_kb["root"], "ask", TOPICS[key], "--json", "--no-log")
        assert asked.exit_code == 0, asked
        data = json.loads(asked.stdout)
        assert data["answer"] and data["answer_source"], key
        block = _topic_block(text, TOPICS[key])
        line = next(ln for ln in block.splitlines() if ln.startswith("**Answer:** "))
        # word for word, citation included, and the link plays the cited second
        assert line.startswith(f"**Answer:** {escape_md(data['answer'])}"), (key, line)
        source = data["answer_source"]
        if source["media"]:
            play = re.search(r"\(\[play [\d:]+\]\(<([^>]+)>\)\)$", line)
            assert play, line
            assert play.group(1).endswith(f"#t={timefmt.media_seconds(source['start'])}")
            assert source["session"] in play.group(1)
