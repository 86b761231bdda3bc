"""packs/<name>/pack.md: the definition a coach edits by hand, parsed as markdown-it tokens.

The file is YAML front matter (role, protégé, mentor, start, weeks, experts) and Markdown
sections. Section items are list items; a few markers carry the plan's structure:

    - [week 2] How do I restart the cooling loop?                      (Topics)
    - [week 3] Bleed the loop (session: 2026-03-02-maria-lopez-bleed, step: 4)   (Practice tasks)
    - [week 2] first-shift: Walks through a shift handover (reviewer: maria-lopez)  (Checkpoints)

Everything the coach writes is re-emitted as safe Markdown (text escaped, raw HTML inert, links
checked: http(s), or relative links that stay inside the knowledge base).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tacit.core import validation
from tacit.core.errors import TacitError, UnsafeName
from tacit.core.fileio import split_front_matter
from tacit.core.workspace import Workspace, safe_name
from tacit.packs.inline import BUILD_DIR, safe_inline

PACK_FILE = "pack.md"
MAX_WEEKS = 104

# canonical section name -> accepted headings (lower case)
SECTIONS = {
    "objectives": ("objectives",),
    "topics": ("topics",),
    "observations": ("observations to shadow", "observations", "shadowing"),
    "practice": ("practice tasks", "practice", "practise"),
    "deliverables": ("deliverables",),
    "checkpoints": ("checkpoints",),
    "glossary": ("glossary",),
    "contacts": ("contacts",),
}
_HEADING_TO_SECTION = {alias: key for key, aliases in SECTIONS.items() for alias in aliases}

_WEEK = re.compile(r"^\s*\[\s*week\s+(\d+)\s*\]\s*", re.IGNORECASE)
_CHECKPOINT_ID = re.compile(r"^([a-z0-9][a-z0-9-]{0,63}):\s+")
_TRAILER = re.compile(r"\s*\(\s*((?:session|step|reviewer)\s*:[^()]*)\)\s*$", re.IGNORECASE)


class PackError(TacitError):
    """A pack definition the coach must fix; the message names the file and the line."""


@dataclass(frozen=True)
class Item:
    """One list item (or paragraph) of a section, with its markers taken off."""

    text: str  # plain text: the question a topic asks, the title of a task
    markdown: str  # the coach's words as safe Markdown, links rebased for the build folder
    line: int  # 1-based line in pack.md
    week: int | None = None
    session: str = ""
    step: int | None = None
    reviewer: str = ""
    id: str = ""


@dataclass(frozen=True)
class Pack:
    name: str
    path: Path
    role: str
    protege: str
    mentor: str
    start: dt.date
    weeks: int
    experts: tuple[str, ...] = ()
    template: str = ""
    title: str = ""
    sections: dict[str, tuple[Item, ...]] = field(default_factory=dict)
    notes: dict[str, tuple[Item, ...]] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def build_dir(self) -> Path:
        return self.folder / BUILD_DIR

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=7 * self.weeks - 1)

    def items(self, section: str) -> tuple[Item, ...]:
        return self.sections.get(section, ())

    def week_dates(self, week: int) -> tuple[dt.date, dt.date]:
        first = self.start + dt.timedelta(days=7 * (week - 1))
        return first, first + dt.timedelta(days=6)

    def due(self, week: int) -> dt.date:
        """A checkpoint of week N is due start + N*7 days (the first day after that week)."""
        return self.start + dt.timedelta(days=7 * week)

    def week_of(self, day: dt.date) -> int:
        """The plan's week a date falls in: 0 before the start, weeks + 1 after the end."""
        if day < self.start:
            return 0
        return min((day - self.start).days // 7 + 1, self.weeks + 1)


def pack_dir(ws: Workspace, name: str) -> Path:
    return ws.packs_dir / safe_name(name, "pack name")


def pack_path(ws: Workspace, name: str) -> Path:
    return pack_dir(ws, name) / PACK_FILE


def names(ws: Workspace) -> list[str]:
    if not ws.packs_dir.is_dir():
        return []
    return sorted(p.parent.name for p in ws.packs_dir.glob(f"*/{PACK_FILE}"))


def load(ws: Workspace, name: str) -> Pack:
    from tacit.core.errors import NotFound

    path = pack_path(ws, name)
    if not path.is_file():
        raise NotFound(f"no pack {name!r}; create it with `tacit pack new {name} ...`")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise PackError(f"{path}: not a UTF-8 text file") from None
    return parse(text, path, ws.root)


# --- front matter -----------------------------------------------------------------------------


def _meta_line(text: str, key: str) -> int:
    match = re.search(rf"^{re.escape(key)}\s*:", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else 1


def _front(meta: dict[str, Any], text: str, path: Path) -> dict[str, Any]:
    def fail(key: str, problem: str) -> PackError:
        return PackError(f"{path}: line {_meta_line(text, key)}: {key} {problem}")

    for key in ("role", "protege", "mentor", "start", "weeks"):
        if meta.get(key) in (None, ""):
            raise fail(key, "is missing from the front matter")
    start = meta["start"]
    if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
        try:
            start = dt.date.fromisoformat(str(start))
        except ValueError:
            raise fail("start", f"must be a date YYYY-MM-DD, not {start!r}") from None
    if not validation.FIRST_DAY <= start <= validation.LAST_DAY:
        raise fail("start", f"must be from {validation.FIRST_DAY} to {validation.LAST_DAY}")
    weeks = meta["weeks"]
    if isinstance(weeks, bool) or not isinstance(weeks, int) or not 1 <= weeks <= MAX_WEEKS:
        raise fail("weeks", f"must be a whole number from 1 to {MAX_WEEKS}, not {weeks!r}")
    experts = meta.get("experts") or []
    if isinstance(experts, str):
        experts = [experts]
    if not isinstance(experts, list):
        raise fail("experts", "must be a list of expert slugs")
    try:
        slugs = tuple(safe_name(str(e), "expert slug") for e in experts)
    except UnsafeName as exc:
        raise fail("experts", f"holds an {exc.message}") from None
    return {
        "role": str(meta["role"]),
        "protege": str(meta["protege"]),
        "mentor": str(meta["mentor"]),
        "start": start,
        "weeks": weeks,
        "experts": slugs,
        "template": str(meta.get("template") or ""),
    }


# --- body -------------------------------------------------------------------------------------


def parse(text: str, path: Path, kb_root: Path) -> Pack:
    """pack.md text -> Pack. Any problem is one PackError naming the file and the line."""
    meta, body = split_front_matter(text, path)
    front = _front(meta, text, path)
    offset = text[: len(text) - len(body)].count("\n")
    ctx = _Context(path=path, kb_root=Path(kb_root), offset=offset, weeks=front["weeks"])
    title, sections, notes = _sections(body, ctx)
    return Pack(
        name=path.parent.name,
        path=path,
        title=title,
        sections=sections,
        notes=notes,
        **front,
    )


@dataclass(frozen=True)
class _Context:
    path: Path
    kb_root: Path
    offset: int
    weeks: int

    def fail(self, line: int, problem: str) -> PackError:
        return PackError(f"{self.path}: line {line}: {problem}")


def _markdown_it():
    from markdown_it import MarkdownIt

    # html on only so that <!-- guidance comments --> become blocks we skip; nothing from here
    # is ever rendered as HTML: items are re-serialized to escaped Markdown by _safe_inline.
    md = MarkdownIt("commonmark", {"html": True})
    md.validateLink = lambda url: True  # every link is checked by inline._link, with its line
    return md


def _sections(body: str, ctx: _Context):
    md = _markdown_it()
    tokens = md.parse(body)
    title, current = "", None
    items: dict[str, list[Item]] = {key: [] for key in SECTIONS}
    notes: dict[str, list[Item]] = {key: [] for key in (*SECTIONS, "intro")}
    depth = 0  # list nesting: only top-level items are plan items
    for i, token in enumerate(tokens):
        line = ctx.offset + (token.map[0] + 1 if token.map else 1)
        if token.type in ("bullet_list_open", "ordered_list_open"):
            depth += 1
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
        elif token.type == "heading_open":
            heading = tokens[i + 1].content.strip()
            if token.tag == "h1":
                title = heading
            elif token.tag == "h2":
                current = _HEADING_TO_SECTION.get(heading.lower().rstrip(":"))
                if current is None:
                    known = ", ".join(aliases[0].capitalize() for aliases in SECTIONS.values())
                    raise ctx.fail(line, f"unknown section {heading!r}; sections are: {known}")
        elif token.type == "inline" and tokens[i - 1].type == "paragraph_open":
            if current is None:  # prose before the first section: the coach's introduction
                if depth == 0:
                    notes["intro"].append(_plain_item(token.content, line, ctx))
                continue
            in_item = depth > 0 and tokens[i - 2].type == "list_item_open"
            if in_item and depth == 1:
                items[current].append(_item(current, token, line, ctx))
            elif depth == 0:
                notes[current].append(_plain_item(token.content, line, ctx))
    checked = {key: tuple(value) for key, value in items.items()}
    _unique_checkpoints(checked["checkpoints"], ctx)
    return title, checked, {key: tuple(value) for key, value in notes.items()}


def _item(section: str, token: Any, line: int, ctx: _Context) -> Item:
    source = " ".join(token.content.split())
    week = None
    match = _WEEK.match(source)
    if match:
        week = int(match.group(1))
        if not 1 <= week <= ctx.weeks:
            raise ctx.fail(line, f"week {week} is outside the pack's 1 to {ctx.weeks} weeks")
        source = source[match.end() :]
    fields: dict[str, Any] = {}
    trailer = _TRAILER.search(source)
    if trailer and section in ("observations", "practice", "checkpoints"):
        fields = _trailer_fields(trailer.group(1), line, ctx)
        source = source[: trailer.start()]
    if section == "checkpoints":
        return _checkpoint(source, week, fields, line, ctx)
    if section == "topics" and week is None:
        raise ctx.fail(line, "a topic needs its week, e.g. '- [week 1] How do I ...?'")
    item = _plain_item(source, line, ctx)
    return Item(
        text=item.text,
        markdown=item.markdown,
        line=line,
        week=week,
        session=fields.get("session", ""),
        step=fields.get("step"),
    )


def _trailer_fields(raw: str, line: int, ctx: _Context) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for part in raw.split(","):
        if ":" not in part:
            raise ctx.fail(line, f"({raw}): write 'key: value' pairs separated by commas")
        key, _, value = part.partition(":")
        key, value = key.strip().lower(), value.strip()
        if not value:
            raise ctx.fail(line, f"{key}: has no value")
        if key == "session":
            try:
                fields["session"] = safe_name(value, "session id")
            except UnsafeName as exc:
                raise ctx.fail(line, exc.message) from None
        elif key == "step":
            if not value.isdigit():
                raise ctx.fail(line, f"step must be a step number, not {value!r}")
            fields["step"] = int(value)
        else:
            fields[key] = value
    return fields


def _checkpoint(source: str, week: int | None, fields: dict, line: int, ctx: _Context) -> Item:
    if week is None:
        raise ctx.fail(line, "a checkpoint needs its week: '- [week 2] id: what is shown ...'")
    match = _CHECKPOINT_ID.match(source)
    if not match:
        raise ctx.fail(
            line, "a checkpoint needs an id after its week: '- [week 2] first-shift: ...'"
        )
    if not fields.get("reviewer"):
        raise ctx.fail(line, "a checkpoint needs its reviewer: '... (reviewer: maria-lopez)'")
    shown = _plain_item(source[match.end() :], line, ctx)
    return Item(
        text=shown.text,
        markdown=shown.markdown,
        line=line,
        week=week,
        reviewer=fields["reviewer"],
        id=match.group(1),
    )


def _unique_checkpoints(checkpoints: tuple[Item, ...], ctx: _Context) -> None:
    seen: dict[str, int] = {}
    for item in checkpoints:
        if item.id in seen:
            raise ctx.fail(
                item.line, f"checkpoint id {item.id!r} is already used on line {seen[item.id]}"
            )
        seen[item.id] = item.line


def _plain_item(source: str, line: int, ctx: _Context) -> Item:
    md = _markdown_it()
    tokens = md.parseInline(source)
    children = tokens[0].children if tokens else []
    text, markdown = safe_inline(children or [], line, ctx)
    return Item(text=" ".join(text.split()), markdown=markdown.strip(), line=line)
