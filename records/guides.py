"""Guides: Markdown files with YAML front matter, parsed from markdown-it-py's token stream.

`##` headings are sections, list items are questions, nested list items are probes and a
blockquote under a question says why it is asked. Each question's id is
`<section-slug>/q<number>`, stable while questions are not reordered; `--answers` files use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

import tacit
from tacit.core.errors import GuideError, NotFound, TacitError
from tacit.core.fileio import atomic_write
from tacit.core.workspace import Workspace, safe_name, slugify
from tacit.records import guide_parse
from tacit.records.guide_model import (  # noqa: F401  (guides.Guide and others, for callers)
    DEFAULT_STEPS_SECTION,
    KINDS,
    OPTIONAL,
    REQUIRED,
    Guide,
    Problem,
    Question,
    Section,
)

# ---------------------------------------------------------------- parse, check, load


def parse(
    text: str, path: Path | None = None, builtin: bool = False
) -> tuple[Guide | None, list[Problem]]:
    """The guide and every problem found, each with its line number in the file."""
    return guide_parse.parse(text, path, builtin)


def check(path: Path) -> list[Problem]:
    """Every problem in a guide file, by line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound(f"no guide file {path}") from None
    except UnicodeDecodeError:
        return [Problem(1, "not a UTF-8 text file")]
    return parse(text, Path(path))[1]


def load(path: Path, builtin: bool = False) -> Guide:
    """A guide that has no problems; else GuideError naming the first one."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise GuideError(f"{path}: not a UTF-8 text file") from None
    guide, problems = parse(text, Path(path), builtin)
    if problems or guide is None:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise GuideError(
            f"{path}: line {first.line}: {first.message}{more}",
            hint=f"see them all with `tacit guide check {path}`",
        )
    return guide


# ---------------------------------------------------------------- finding guides


def builtin_dir() -> Path:
    return Path(tacit.__file__).parent / "templates" / "guides"


def locate(ws: Workspace, name: str) -> tuple[Path, bool]:
    """(path, builtin): the KB's guides/ first, so a KB guide shadows a built-in one."""
    safe_name(name, "guide name")
    for folder, builtin in ((ws.guides_dir, False), (builtin_dir(), True)):
        path = folder / f"{name}.md"
        if path.is_file():
            return path, builtin
    names = ", ".join(sorted({e.name for e in available(ws)}))
    raise NotFound(f"no guide {name!r}; available: {names}")


def get(ws: Workspace, name: str) -> Guide:
    path, builtin = locate(ws, name)
    return load(path, builtin)


@dataclass(frozen=True)
class Entry:
    name: str
    path: Path
    builtin: bool
    shadows: bool  # a KB guide with a built-in guide's name
    guide: Guide | None
    problems: int


def available(ws: Workspace) -> list[Entry]:
    """Every guide: the KB's own first, then built-ins that no KB guide shadows."""
    kb = sorted(ws.guides_dir.glob("*.md")) if ws.guides_dir.is_dir() else []
    builtin = sorted(builtin_dir().glob("*.md"))
    kb_names = {p.stem for p in kb}
    builtin_names = {p.stem for p in builtin}
    entries = []
    for path, is_builtin in [(p, False) for p in kb] + [
        (p, True) for p in builtin if p.stem not in kb_names
    ]:
        text = path.read_text(encoding="utf-8", errors="replace")
        guide, problems = parse(text, path, is_builtin)
        entries.append(
            Entry(
                name=path.stem,
                path=path,
                builtin=is_builtin,
                shadows=not is_builtin and path.stem in builtin_names,
                guide=guide,
                problems=len(problems),
            )
        )
    return entries


SKELETON = """\
---
name: {name}
title: {title}
kind: interview
purpose: What this conversation should capture, in one sentence.
minutes: 45
---

# {title}

Notes for the interviewer: who to invite, what to bring, what to read first.

## First topic

- A question, asked the way you would say it aloud.
  > Why it is asked: shown to the interviewer, never read out.
  - A probe to go deeper when the answer stays general.
  - Another probe.
- A second question.

## Second topic

- A question about the second topic.
"""


def new(ws: Workspace, name: str, from_name: str | None = None) -> Path:
    """Create guides/<name>.md in the KB: a copy of another guide, or a skeleton to fill in."""
    safe_name(name, "guide name")
    if slugify(name) != name:
        raise TacitError(f"guide name {name!r} must be a slug, e.g. {slugify(name)!r}")
    target = ws.guides_dir / f"{name}.md"
    if target.exists():
        raise TacitError(f"{target} already exists; edit it, or pick another name")
    if from_name is None:
        try:
            locate(ws, name)
            from_name = name  # `guide new exit-interview` copies the built-in to shadow it
        except NotFound:
            pass
    if from_name is None:
        text = SKELETON.format(name=name, title=name.replace("-", " ").capitalize())
    else:
        source, _builtin = locate(ws, from_name)
        text = _rename(source.read_text(encoding="utf-8"), name, source)
    atomic_write(target, text)
    return target


def _rename(text: str, name: str, source: Path) -> str:
    """Set the front matter's name, keeping every other byte of the copied guide."""
    lines = text.split("\n")
    closing = next((i for i in range(1, len(lines)) if lines[i].rstrip() == "---"), None)
    if lines[0].rstrip() != "---" or closing is None:
        raise GuideError(f"{source}: line 1: no front matter to copy")
    start = len(lines[0]) + 1
    raw = "\n".join(lines[1:closing])
    from tacit.core import validation

    try:
        node = validation.compose_yaml(raw)
    except yaml.YAMLError:
        raise GuideError(f"{source}: broken front matter; see `tacit guide check`") from None
    for key, value in node.value if isinstance(node, yaml.MappingNode) else ():
        if key.value == "name":
            begin, end = start + value.start_mark.index, start + value.end_mark.index
            return text[:begin] + name + text[end:]
    return text[:start] + f"name: {name}\n" + text[start:]
