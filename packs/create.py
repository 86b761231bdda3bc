"""`tacit pack new`: a pack.md from a template, filled with what the KB already holds.

A template is Markdown in templates/packs/. Besides $role, $protege, $mentor, $weeks, $experts,
$expert and $reviewer, it may hold three lines that expand from the knowledge base:
$expert_topics (a topic per subject the pack's experts hold), $observations (their recorded
observation sessions, to watch) and $practice_tasks (every observed step marked `practise`).
A week written `[week @0.5]` is placed at that share of the plan's length, so one template
serves a four-week and a twelve-week plan.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import string
from dataclasses import dataclass
from pathlib import Path

from tacit.core import validation
from tacit.core.errors import NotFound, TacitError
from tacit.core.fileio import atomic_write, render_front_matter
from tacit.core.htmlrender import escape_md
from tacit.core.workspace import Workspace, safe_name
from tacit.packs.definition import MAX_WEEKS, pack_path, parse
from tacit.records import experts as experts_module
from tacit.records import sessions as sessions_module

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "packs"
DEFAULT_TEMPLATE = "new-starter"

_SHARE = re.compile(r"\[week\s+@([0-9.]+)\]")
_WEEK = re.compile(r"\[week\s+(\d+)\]")


@dataclass(frozen=True)
class Template:
    name: str
    path: Path
    summary: str  # the first line of its leading comment


def templates() -> list[Template]:
    found = []
    for path in sorted(TEMPLATES.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        match = re.match(r"<!--\s*(.*?)\s*(?:\n|-->)", text)
        found.append(Template(path.stem, path, match.group(1) if match else ""))
    return found


def template_path(name: str) -> Path:
    path = TEMPLATES / f"{safe_name(name, 'template name')}.md"
    if not path.is_file():
        known = ", ".join(t.name for t in templates())
        raise NotFound(f"no pack template {name!r}; templates: {known}")
    return path


def new(
    ws: Workspace,
    name: str,
    *,
    role: str,
    protege: str,
    mentor: str,
    start: dt.date,
    weeks: int,
    template: str = DEFAULT_TEMPLATE,
    experts: tuple[str, ...] = (),
) -> Path:
    """Write packs/NAME/pack.md; never overwrites one. Returns its path."""
    path = pack_path(ws, name)
    if path.exists():
        raise TacitError(f"pack {name!r} already exists: edit {path}")
    if not 1 <= weeks <= MAX_WEEKS:
        raise TacitError(f"--weeks must be from 1 to {MAX_WEEKS}")
    validation.day(start, "--start")
    for label, value in (("--role", role), ("--protege", protege), ("--mentor", mentor)):
        if not value.strip():
            raise TacitError(f"{label} is empty")
    people = [experts_module.get(ws, safe_name(slug, "expert slug")) for slug in experts]
    source = template_path(template).read_text(encoding="utf-8")
    body = _fill(source, weeks, role, protege, mentor, people, _observations(ws, people))
    meta = {
        "name": name,
        "role": role,
        "protege": protege,
        "mentor": mentor,
        "start": start.isoformat(),
        "weeks": weeks,
        "experts": [p.slug for p in people],
        "template": template,
    }
    text = render_front_matter(meta, body)
    parse(text, path, ws.root)  # what `new` writes must be a pack that builds
    atomic_write(path, text)
    return path


def _observations(ws: Workspace, people: list) -> list[sessions_module.Session]:
    """The pack's experts' observation sessions (restricted ones and those without consent left
    out), their words redacted: pack.md is derived from the record like every other output."""
    from dataclasses import replace

    from tacit.records import redaction

    redact = redaction.redactor(ws.config)
    slugs = {p.slug for p in people}
    return [
        replace(
            s,
            task=redact(s.task),
            title=redact(s.title),
            steps=tuple(replace(step, action=redact(step.action)) for step in s.steps),
        )
        for s in sessions_module.list_all(ws)
        if s.kind == "observation" and s.expert in slugs and not s.restricted and not s.withheld
    ]


def _fill(source, weeks, role, protege, mentor, people, observed) -> str:
    names = {p.slug: p.name for p in people}
    values = {
        "role": escape_md(role),
        "protege": escape_md(protege),
        "mentor": escape_md(mentor),
        "weeks": str(weeks),
        "experts": escape_md(", ".join(p.name for p in people) or "the experts"),
        "expert": escape_md(people[0].name if people else "the expert"),
        "reviewer": people[0].slug if people else _reviewer_name(mentor),
        "leaving": _leaving(people),
    }
    blocks = {
        "$expert_topics": _topic_lines(people, weeks),
        "$observations": _observation_lines(observed, names, weeks),
        "$practice_tasks": _practice_lines(observed, weeks),
    }
    lines = []
    for line in source.splitlines():
        if line.strip() in blocks:
            lines += blocks[line.strip()] or [_NONE[line.strip()]]
        else:
            lines.append(line)
    body = string.Template("\n".join(lines)).safe_substitute(values)
    body = _SHARE.sub(lambda m: f"[week {_share_week(float(m.group(1)), weeks)}]", body)
    body = _WEEK.sub(lambda m: f"[week {min(int(m.group(1)), weeks)}]", body)
    return _drop_leading_comment(body)


_NONE = {
    "$expert_topics": "<!-- The experts' records list no topics yet: add questions above. -->",
    "$observations": "<!-- No recorded observation sessions of the pack's experts yet. -->",
    "$practice_tasks": "<!-- No observed steps are marked `practise` yet. -->",
}


def _leaving(people: list) -> str:
    dates = [p.leaving_on for p in people if p.leaving_on]
    return f"on {min(dates).isoformat()}" if dates else "soon"


def _reviewer_name(mentor: str) -> str:
    # a reviewer sits in a "(reviewer: ...)" marker: keep it to one plain line
    return re.sub(r"[(),\n]", " ", mentor).strip()


def _share_week(share: float, weeks: int) -> int:
    return min(weeks, max(1, math.ceil(share * weeks)))


def _spread(index: int, count: int, last: int) -> int:
    """Week for the index-th of count items spread evenly over weeks 1..last."""
    return 1 + (index * last) // max(count, 1)


def _topic_lines(people: list, weeks: int) -> list[str]:
    subjects = [(p, topic) for p in people for topic in p.topics if topic.strip()]
    last = max(1, weeks - 1)
    question = "how is it done here, and what goes wrong?"
    return [
        f"- [week {_spread(i, len(subjects), last)}] {escape_md(_capital(topic))}: {question}"
        for i, (_person, topic) in enumerate(subjects)
    ]


def _observation_week(index: int, count: int, weeks: int) -> int:
    return _spread(index, count, max(1, math.ceil(weeks / 2)))


def _observation_lines(observed: list, names: dict[str, str], weeks: int) -> list[str]:
    lines = []
    for i, session in enumerate(observed):
        what = escape_md(session.task or session.title or session.id)
        who = escape_md(names.get(session.expert, session.expert))
        week = _observation_week(i, len(observed), weeks)
        lines.append(f"- [week {week}] Watch {who}: {what} (session: {session.id})")
    return lines


def _practice_lines(observed: list, weeks: int) -> list[str]:
    lines = []
    for i, session in enumerate(observed):
        week = min(weeks, _observation_week(i, len(observed), weeks) + 1)
        for step in session.steps:
            if step.practise:
                lines.append(
                    f"- [week {week}] {escape_md(step.action)} "
                    f"(session: {session.id}, step: {step.n})"
                )
    return lines


def _drop_leading_comment(body: str) -> str:
    """The template's own description (its first comment) is not part of a pack."""
    return re.sub(r"\A\s*<!--.*?-->\s*", "", body, count=1, flags=re.DOTALL)


def _capital(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:]
