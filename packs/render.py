"""A built pack as Markdown (the plain-file record), safe HTML and a summary for the report.

Every piece of transcript, answer, step and session text goes through escape_md; the coach's own
words arrive already re-serialized as safe Markdown (definition.py). HTML comes from that
Markdown with raw HTML disabled and links limited to http(s) and files inside the KB.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tacit.core.fileio import atomic_write
from tacit.core.htmlrender import escape_md, markdown_to_html, page
from tacit.core.workspace import Workspace
from tacit.packs.build import Built, Quote, TopicResult
from tacit.packs.definition import Item
from tacit.packs.practice import Observed, Scheduled

SUMMARY_FILE = "summary.json"


def _date(day) -> str:
    return day.isoformat()


def _coach(item: Item) -> str:
    """The coach's words (safe Markdown), or the escaped text of an item tacit made."""
    return item.markdown or escape_md(item.text)


def _sentence(item: Item) -> str:
    text = _coach(item)
    return text if text.endswith((".", "?", "!")) else f"{text}."


def _by_week(entries):
    """Scheduled entries in the plan's order (by week, unscheduled last), stable within a week."""
    return sorted(entries, key=lambda e: e.item.week or 10_000)


def _week_label(week: int | None) -> str:
    return f"week {week}" if week else "any week"


def markdown(built: Built) -> str:
    pack = built.pack
    sections = (
        ("objectives", _objectives(built)),
        ("", _timeline(built)),
        ("topics", _topics(built)),
        ("", _gaps(built)),
        ("observations", _observations(built)),
        ("practice", _practice(built)),
        ("deliverables", _simple("Deliverables", pack.items("deliverables"), scheduled=True)),
        ("checkpoints", _checkpoints(built)),
        ("glossary", _simple("Glossary", pack.items("glossary"))),
        ("contacts", _contacts(built)),
    )
    lines = _header(built)
    for key, part in sections:
        # the coach's paragraphs in a section go under its heading
        notes = [n.markdown for n in pack.notes.get(key, ())] if part else []
        lines += part[:2] + [line for note in notes for line in (note, "")] + part[2:]
    return "\n".join(lines).rstrip() + "\n"


def _header(built: Built) -> list[str]:
    pack = built.pack
    title = escape_md(pack.title) if pack.title else f"Onboarding pack: {escape_md(pack.role)}"
    experts = ", ".join(escape_md(e.name) for e in built.experts) or "none named"
    return [
        f"# {title}",
        "",
        f"- Role: {escape_md(pack.role)}",
        f"- Protégé: {escape_md(pack.protege)}",
        f"- Mentor: {escape_md(pack.mentor)}",
        f"- Experts: {experts}",
        f"- Plan: {pack.weeks} weeks, {_date(pack.start)} to {_date(pack.end)}",
        "",
        *(line for note in pack.notes.get("intro", ()) for line in (note.markdown, "")),
        f"Built {_date(built.built_on)} from the knowledge base “{escape_md(built.kb_name)}”: "
        f"{len(built.topics) - len(built.gaps)} of {len(built.topics)} topics answered from the "
        f"recordings, gaps: {len(built.gaps)}. The time in a citation plays the recording "
        "from that second.",
        "",
    ]


def _objectives(built: Built) -> list[str]:
    pack = built.pack
    items = [i.markdown for i in pack.items("objectives")]
    if not items and not pack.notes.get("objectives"):
        return []
    return ["## Objectives", "", *(f"- {text}" for text in items), ""]


def _timeline(built: Built) -> list[str]:
    pack = built.pack
    gaps = {id(t.item) for t in built.gaps}
    entries: dict[int | None, list[str]] = {}

    def add(week: int | None, text: str) -> None:
        entries.setdefault(week, []).append(text)

    for topic in built.topics:
        mark = " *(gap: not in the knowledge base yet)*" if id(topic.item) in gaps else ""
        add(topic.item.week, f"Learn: {_coach(topic.item)}{mark}")
    for task in built.observations:
        add(task.item.week, f"Observe: {_coach(task.item)}")
    for task in built.practice:
        add(task.item.week, f"Practise: {_coach(task.item)}")
    for item in pack.items("deliverables"):
        add(item.week, f"Deliver: {_coach(item)}")
    for item in pack.items("checkpoints"):
        due = _date(pack.due(item.week or pack.weeks))
        add(item.week, f"Checkpoint `{item.id}` (due {due}): {_coach(item)}")
    lines = ["## Timeline", ""]
    for week in range(1, pack.weeks + 1):
        first, last = pack.week_dates(week)
        lines += [f"### Week {week}: {_date(first)} to {_date(last)}", ""]
        lines += [f"- {text}" for text in entries.get(week, [])] or ["- Consolidate: no new items."]
        lines.append("")
    if entries.get(None):
        lines += ["### Any week", "", *(f"- {text}" for text in entries[None]), ""]
    return lines


_TURN = re.compile(r"^(?:Q|A|[A-Z][\w'.-]*(?: [A-Z][\w'.-]*){0,3}): ")


def paragraphs(text: str, speaker: str = "") -> list[str]:
    """An excerpt's paragraphs: a new one at each turn ("Q:", "A:", "Maria Lopez:") or blank
    line; the hard line breaks of a typed answer inside a turn are joined, so no half-sentence
    stands as a paragraph of its own."""
    found: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            found.append([])
        elif not found or _TURN.match(line) or (speaker and line.startswith(f"{speaker}: ")):
            found.append([line])
        else:
            found[-1].append(line)
    return [" ".join(p) for p in found if p]


def _quote(quote: Quote) -> list[str]:
    lines = []
    for paragraph in paragraphs(quote.text, quote.speaker):
        lines += [f"> {escape_md(paragraph)}", ">"]
    when = quote.time
    if when and quote.href:
        when = f"[{when}](<{quote.href}>)"
    cite = " · ".join(p for p in (escape_md(quote.speaker), escape_md(quote.session), when) if p)
    return [*lines, f"> — {cite}", ""]


def _answer(topic: TopicResult) -> str:
    """The answer `tacit ask` gives, word for word with its citation, and a link to play it."""
    line = f"**Answer:** {escape_md(topic.answer)}"
    source = topic.source
    if source is not None and source.href and source.time:
        line += f" ([play {source.time}](<{source.href}>))"
    return line


def _topics(built: Built) -> list[str]:
    lines = ["## Topics", ""]
    for topic in _by_week(built.topics):
        lines += [f"### {_coach(topic.item)}", "", f"*{_week_label(topic.item.week)}*", ""]
        if not topic.captured:
            lines += ["Not captured in the knowledge base yet: see Gaps.", ""]
            continue
        if topic.left_out:
            lines += ["Answered in the knowledge base from sessions not shared in a bundle.", ""]
            continue
        if topic.answer:
            lines += [_answer(topic), ""]
        for quote in topic.quotes:
            lines += _quote(quote)
    return lines


def _gaps(built: Built) -> list[str]:
    lines = ["## Gaps", ""]
    if not built.gaps:
        return [*lines, "Every topic is answered from the knowledge base.", ""]
    lines += [
        "The knowledge base holds no answer to these topics yet. Ask them in person, and capture "
        "the answer in the next session so the next person finds it.",
        "",
    ]
    for topic in _by_week(built.gaps):
        who = f" Most likely to know: {escape_md('; '.join(topic.ask))}." if topic.ask else ""
        lines.append(f"- {_week_label(topic.item.week).capitalize()}: {_sentence(topic.item)}{who}")
    return [*lines, ""]


def _recording(observed: Observed) -> str:
    who = f"{escape_md(observed.expert_name)}, {escape_md(observed.task)}"
    where = f"session {escape_md(observed.session)}"
    if observed.href:
        return f"{who} ({where}, [recording](<{observed.href}>))"
    return f"{who} ({where})"


def _steps(observed: Observed, target: int | None) -> list[str]:
    lines = []
    for step in observed.steps:
        when = f"[{step.time}](<{step.href}>)" if step.href else step.time
        text = escape_md(step.action)
        if step.key_point:
            text += f". Key point: {escape_md(step.key_point)}"
        if step.reason:
            text += f". Why: {escape_md(step.reason)}"
        mark = " **← practise this**" if step.n == target else ""
        lines.append(f"- Step {step.n}{', ' + when if when else ''}: {text}{mark}")
    return lines


def _observations(built: Built) -> list[str]:
    lines = ["## Observations to shadow", ""]
    if not built.observations:
        return [*lines, "None listed.", ""]
    for task in _by_week(built.observations):
        lines.append(f"- *{_week_label(task.item.week)}:* {_coach(task.item)}")
        if task.observed:
            lines.append(f"  Recorded: {_recording(task.observed)}")
    return [*lines, ""]


def _practice(built: Built) -> list[str]:
    lines = ["## Practice tasks", ""]
    if not built.practice:
        return [*lines, "None listed.", ""]
    for task in _by_week(built.practice):
        lines += _task(task)
    return lines


def _task(task: Scheduled) -> list[str]:
    lines = [f"### {_coach(task.item)}", "", f"*{_week_label(task.item.week)}*", ""]
    if task.added:
        lines += ["Marked `practise` in its observation session (not listed in pack.md yet).", ""]
    if task.observed:
        lines += [f"Observed: {_recording(task.observed)}", ""]
        if task.observed.steps:
            lines += ["Observed steps:", "", *_steps(task.observed, task.step), ""]
    return lines


def _simple(title: str, items: tuple[Item, ...], scheduled: bool = False) -> list[str]:
    lines = [f"## {title}", ""]
    if not items:
        return [*lines, "None listed.", ""]
    for item in sorted(items, key=lambda i: i.week or 10_000) if scheduled else items:
        when = f"*{_week_label(item.week)}:* " if scheduled else ""
        lines.append(f"- {when}{_coach(item)}")
    return [*lines, ""]


def _checkpoints(built: Built) -> list[str]:
    pack = built.pack
    people = {e.slug: e.name for e in built.experts}
    lines = ["## Checkpoints", ""]
    if not pack.items("checkpoints"):
        return [*lines, "None listed.", ""]
    lines += ["| week | due | id | the protégé shows | reviewer |", "|---|---|---|---|---|"]
    for item in pack.items("checkpoints"):
        reviewer = escape_md(people.get(item.reviewer, item.reviewer))
        due = _date(pack.due(item.week or pack.weeks))
        lines.append(f"| {item.week} | {due} | `{item.id}` | {_coach(item)} | {reviewer} |")
    lines += [
        "",
        f"Sign-off: `tacit pack checkpoint {pack.name} ID --by EXPERT --outcome passed`.",
        "",
    ]
    return lines


def _contacts(built: Built) -> list[str]:
    lines = ["## Contacts", ""]
    entries = [f"- {_coach(item)}" for item in built.pack.items("contacts")]
    if built.contacts:
        entries += ["", "Who knows what this pack teaches, from the knowledge base:", ""]
        entries += [f"- **{escape_md(c.name)}**: {escape_md(c.detail)}" for c in built.contacts]
    return [*lines, *(entries or ["None listed."]), ""]


def summary(built: Built) -> dict:
    """What the mentor's report and `forget` need without rebuilding: topics, gaps, sources."""

    def topic(t: TopicResult) -> dict:
        return {
            "week": t.item.week,
            "topic": t.item.text,
            "captured": t.captured,
            "citations": [
                {"session": q.session, "speaker": q.speaker, "start": q.start} for q in t.quotes
            ],
            "ask": list(t.ask),
        }

    return {
        "pack": built.pack.name,
        "built": built.built_on.isoformat(),
        "topics": [topic(t) for t in built.topics],
        "sessions_quoted": list(built.sessions_quoted),
        "warnings": list(built.warnings),
    }


def write(ws: Workspace, built: Built) -> list[Path]:
    """build/pack.md, build/pack.html and build/summary.json. The caller holds the lock."""
    folder = built.pack.build_dir
    text = markdown(built)
    title = built.pack.title or f"Onboarding pack: {built.pack.role}"
    body = markdown_to_html(text, base=folder, kb_root=ws.root)
    paths = [folder / "pack.md", folder / "pack.html", folder / SUMMARY_FILE]
    atomic_write(paths[0], text)
    atomic_write(paths[1], page(title, body))
    atomic_write(paths[2], json.dumps(summary(built), ensure_ascii=False, indent=1) + "\n")
    return paths


def quoting(ws: Workspace, session_id: str) -> list[str]:
    """Packs whose last build quotes or links a session (for `forget`: rebuild or remove them).
    A build without a readable summary counts when its pack.md names the session."""
    found = []
    for summary_path in sorted(ws.packs_dir.glob(f"*/build/{SUMMARY_FILE}")):
        build_dir = summary_path.parent
        try:
            quoted = json.loads(summary_path.read_text(encoding="utf-8"))["sessions_quoted"]
        except (OSError, ValueError, KeyError, TypeError):
            built = build_dir / "pack.md"
            quoted = [session_id] if built.is_file() and session_id in built.read_text() else []
        if session_id in quoted:
            found.append(build_dir.parent.name)
    return found
