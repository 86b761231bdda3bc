"""Onboarding packs rendered: the golden Markdown, media links from the build folder,
restricted excerpts, the mentor's report, redaction and the XSS suite.

Topic answers come from FakeAnswerer (tests/pack_helpers.py), so these are about rendering.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tacit.packs import render

from .pack_helpers import (
    BLEED,
    CHECKPOINTED,
    COOLING,
    DUTIES,
    EXIT,
    GOLDEN,
    MEDIA,
    PRIVATE,
    REGEN,
    FakeAnswerer,
    _build,
    _excerpt,
    _kb,
    _new,
)


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


@pytest.mark.parametrize("status", ["refused", "withdrawn"])
def test_a_session_without_consent_never_reaches_a_pack(kb, run, status):
    """Refused is a record like withdrawn: kept, never indexed, never in a pack."""
    from tacit.records import consent, sessions

    _kb(kb, run)
    _new(run)
    shown = _build(kb)
    assert any(t.observed and t.observed.session == BLEED for t in shown.practice)
    consent.set_consent(kb, BLEED, status, by="Maria Lopez")
    leaked = [_excerpt(BLEED, "Maria Lopez", 20.0, "Open the bleed screw")]
    built = _build(kb, answerer=FakeAnswerer({COOLING: ("Open the bleed screw", leaked)}))
    text = (kb.root / "packs" / "handover" / "build" / "pack.md").read_text()
    assert BLEED not in text and "bleed screw" not in text
    assert not any(t.observed for t in built.practice + built.observations)
    assert sessions.get(kb, BLEED).steps  # the record itself is kept


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
