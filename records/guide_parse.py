"""Reading a guide: YAML front matter and markdown-it-py's token stream into a Guide.

Every problem is collected with its line number in the file (markdown-it maps are lines of the
body, so the front matter's lines are added), so `tacit guide check` can report them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tacit.core.errors import FrontMatterError
from tacit.core.fileio import front_matter
from tacit.core.workspace import slugify
from tacit.records.guide_model import (
    DEFAULT_STEPS_SECTION,
    KINDS,
    OPTIONAL,
    REQUIRED,
    Guide,
    Problem,
    Question,
    Section,
)


@dataclass
class _SectionDraft:
    slug: str
    title: str
    line: int
    questions: list[Question] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _markdown():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table")


# ---------------------------------------------------------------- front matter


def _front_matter(
    lines: list[str], problems: list[Problem]
) -> tuple[dict[str, Any], dict[str, int], int | None]:
    """(meta, line of each key, index of the closing fence); None when the body is unknown.
    Read by the one front-matter reader (core/fileio.front_matter); its error is a problem."""
    closing = next((i for i in range(1, len(lines)) if lines[i].rstrip() == "---"), None)
    try:
        found = front_matter("\n".join(lines), "guide")
    except FrontMatterError as exc:
        what = re.sub(r"^guide: (line \d+: )?", "", exc.message)
        problems.append(Problem(exc.line or 1, what))
        started = bool(lines) and lines[0].rstrip() == "---"
        return {}, {}, (closing if started else -1)
    return found.meta, found.key_lines(), closing


def _check_meta(
    meta: dict[str, Any], key_lines: dict[str, int], stem: str | None, problems: list[Problem]
) -> None:
    def at(key: str) -> int:
        return key_lines.get(key, 1)

    for key in REQUIRED:
        if key not in meta:
            problems.append(Problem(1, f"front matter has no {key}"))
    for key in meta:
        if key not in REQUIRED + OPTIONAL:
            known = ", ".join(REQUIRED + OPTIONAL)
            problems.append(Problem(at(key), f"unknown front matter key {key!r} (known: {known})"))
    for key in ("name", "title", "purpose", "method", "steps_section", "type"):
        if key in meta and (not isinstance(meta[key], str) or not meta[key].strip()):
            problems.append(Problem(at(key), f"{key} must be non-empty text"))
    name = meta.get("name")
    if isinstance(name, str) and name.strip():
        if slugify(name) != name:
            hint = f"name {name!r} must be a slug like {slugify(name)!r}"
            problems.append(Problem(at("name"), hint))
        elif stem is not None and stem != name:
            hint = f"name {name!r} differs from the file name {stem}.md"
            problems.append(Problem(at("name"), hint))
    if "kind" in meta and meta["kind"] not in KINDS:
        problems.append(
            Problem(at("kind"), f"unknown kind {meta['kind']!r}: use interview or observation")
        )
    minutes = meta.get("minutes")
    whole = isinstance(minutes, int) and not isinstance(minutes, bool)
    if "minutes" in meta and not (whole and minutes > 0):
        problems.append(
            Problem(at("minutes"), f"minutes must be a whole number over 0: {minutes!r}")
        )
    if meta.get("kind") == "interview" and "steps_section" in meta:
        problems.append(Problem(at("steps_section"), "steps_section is for observation guides"))


# ---------------------------------------------------------------- body


def _inline_text(node: Any) -> str:
    """The inline source of a block, soft line breaks joined with spaces."""
    parts = [child.content for child in node.children if child.type == "inline"]
    return " ".join(" ".join(part.split()) for part in parts).strip()


def _blocks_text(node: Any) -> str:
    return " ".join(t for t in (_inline_text(n) for n in node.walk() if n.type == "paragraph") if t)


def _question(item: Any, section: _SectionDraft, line: int, problems: list[Problem]) -> Question:
    texts, why, probes = [], [], []
    for child in item.children:
        if child.type == "paragraph":
            texts.append(_inline_text(child))
        elif child.type == "blockquote":
            why.append(_blocks_text(child))
        elif child.type in ("bullet_list", "ordered_list"):
            # deeper probes are flattened: a probe list is read top to bottom
            probes += [
                _inline_text(para)
                for sub in child.walk()
                if sub.type == "list_item"
                for para in sub.children
                if para.type == "paragraph"
            ]
    text = " ".join(t for t in texts if t)
    if not text:
        problems.append(Problem(line, "empty question: a list item with no text"))
    number = len(section.questions) + 1
    return Question(
        id=f"{section.slug}/q{number}",
        number=number,
        text=text,
        why=" ".join(w for w in why if w),
        probes=tuple(p for p in probes if p),
        line=line,
    )


def _body(
    body_lines: list[str], offset: int, problems: list[Problem]
) -> tuple[str, list[_SectionDraft]]:
    from markdown_it.tree import SyntaxTreeNode

    tree = SyntaxTreeNode(_markdown().parse("\n".join(body_lines)))
    intro: list[str] = []
    drafts: list[_SectionDraft] = []
    previous = None
    for node in tree.children:
        line = node.map[0] + offset + 1 if node.map else offset + 1
        source = "\n".join(body_lines[node.map[0] : node.map[1]]) if node.map else ""
        current = drafts[-1] if drafts else None
        if node.type == "heading" and node.tag == "h2":
            drafts.append(_new_section(_inline_text(node), line, drafts, problems))
        elif node.type == "heading" and node.tag != "h1":
            problems.append(Problem(line, f"{node.markup} heading: only ## headings make sections"))
        elif node.type in ("bullet_list", "ordered_list"):
            if current is None:
                problems.append(Problem(line, "questions before the first ## section"))
            else:
                for item in node.children:
                    item_line = item.map[0] + offset + 1 if item.map else line
                    current.questions.append(_question(item, current, item_line, problems))
        elif (
            node.type == "blockquote"
            and current is not None
            and current.questions
            and previous is not None
            and previous.type in ("bullet_list", "ordered_list")
        ):
            # a blockquote just after a list, not indented, still says why its last question is
            # asked
            last = current.questions[-1]
            why = " ".join(w for w in (last.why, _blocks_text(node)) if w)
            current.questions[-1] = replace(last, why=why)
        elif node.type != "heading":
            (current.notes if current else intro).append(source)
        previous = node
    return "\n\n".join(intro), drafts


def _new_section(
    title: str, line: int, drafts: list[_SectionDraft], problems: list[Problem]
) -> _SectionDraft:
    slug = slugify(title) or f"section-{len(drafts) + 1}"
    if not title:
        problems.append(Problem(line, "empty ## heading: a section needs a title"))
    elif any(d.slug == slug for d in drafts):
        problems.append(Problem(line, f"section {title!r} repeats an earlier section's name"))
    return _SectionDraft(slug=slug, title=title or slug, line=line)


# ---------------------------------------------------------------- parse


def parse(
    text: str, path: Path | None = None, builtin: bool = False
) -> tuple[Guide | None, list[Problem]]:
    """The guide and every problem found, each with its line number in the file."""
    problems: list[Problem] = []
    lines = text.removeprefix("\ufeff").split("\n")  # a byte-order mark is not content
    meta, key_lines, closing = _front_matter(lines, problems)
    if not problems:  # a broken front matter is one problem, not one per missing key
        _check_meta(meta, key_lines, path.stem if path else None, problems)
    sections: tuple[Section, ...] = ()
    intro = ""
    if closing is not None:
        offset = closing + 1
        intro, drafts = _body(lines[offset:], offset, problems)
        _check_sections(drafts, offset, len(lines), problems)
        sections = tuple(
            Section(d.slug, d.title, tuple(d.questions), "\n\n".join(d.notes).strip(), d.line)
            for d in drafts
        )
    steps = ""
    if meta.get("kind") == "observation":
        steps = str(meta.get("steps_section") or DEFAULT_STEPS_SECTION)
        if sections and not any(s.slug == steps for s in sections):
            problems.append(
                Problem(
                    key_lines.get("steps_section", 1),
                    f"observation guide has no section {steps!r} for the step log "
                    "(add a '## Steps' section or set steps_section)",
                )
            )
    problems.sort(key=lambda p: p.line)
    if problems and not (isinstance(meta.get("name"), str) and meta.get("kind") in KINDS):
        return None, problems
    guide = Guide(
        name=str(meta.get("name")),
        title=str(meta.get("title") or meta.get("name")),
        kind=str(meta.get("kind")),
        purpose=str(meta.get("purpose") or ""),
        minutes=meta["minutes"] if isinstance(meta.get("minutes"), int) else 0,
        method=str(meta.get("method") or ""),
        steps_section=steps,
        type=str(meta.get("type") or "").strip(),
        intro=intro.strip(),
        sections=sections,
        path=path,
        builtin=builtin,
    )
    return guide, problems


def _check_sections(
    drafts: list[_SectionDraft], offset: int, total: int, problems: list[Problem]
) -> None:
    if not drafts:
        problems.append(
            Problem(min(offset + 1, total), "no sections: a guide needs ## headings with questions")
        )
    for draft in drafts:
        if not draft.questions:
            problems.append(Problem(draft.line, f"section {draft.title!r} has no questions"))
