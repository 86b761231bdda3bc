"""The coach's inline Markdown (a pack.md item), re-serialized as safe Markdown.

Only text, emphasis, code spans and checked links survive; every piece of text is escaped, raw
HTML becomes inert text and images become their alt text (an image would be a request the
reader never asked for). A link is http(s), or a relative path that stays inside the knowledge
base, rebased from the pack folder to its build folder; anything else is refused with its line.

Relative links are found the same way whether written from pack.md's folder or from the KB
root: `../../sessions/ID/notes.md` and `sessions/ID/notes.md` both reach the same file. A path
is looked up next to pack.md first, then from the KB root; one starting with `/` is from the
KB root only. A path found in neither place is kept relative to pack.md.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, unquote, urlparse

from tacit.core.htmlrender import escape_md

BUILD_DIR = "build"


class Where(Protocol):
    """Where an item sits: its pack.md (links are relative to its folder), the KB, and how to
    fail with the line."""

    path: Any
    kb_root: Any

    def fail(self, line: int, problem: str) -> Exception: ...


_MARKUP = {"strong_open": "**", "strong_close": "**", "em_open": "*", "em_close": "*"}


def safe_inline(children: list[Any], line: int, ctx: Where) -> tuple[str, str]:
    """(plain text, safe Markdown). Only text, emphasis, code and checked links survive."""
    plain: list[str] = []
    out: list[str] = []
    href = ""
    for child in children:
        kind = child.type
        if kind in _MARKUP:
            out.append(_MARKUP[kind])
        elif kind in ("softbreak", "hardbreak"):
            plain.append(" ")
            out.append(" ")
        elif kind == "code_inline":
            plain.append(child.content)
            out.append(_code_span(child.content))
        elif kind == "link_open":
            href = _link(str(child.attrs.get("href", "")), line, ctx)
            out.append("[")
        elif kind == "link_close":
            out.append(f"](<{href}>)")
        elif kind == "image":
            # no images in packs: an image would be a request the reader did not ask for
            plain.append(child.content or "")
            out.append(_escape_piece(child.content or ""))
        else:  # text, html_inline (shown as inert text), entities, anything newer
            plain.append(child.content)
            out.append(_escape_piece(child.content))
    return "".join(plain), re.sub(r"[ ]{2,}", " ", "".join(out))


def _escape_piece(text: str) -> str:
    """escape_md trims; a piece between two markups keeps the spaces around it."""
    if not text.strip():
        return " " if text else ""
    lead = " " if text[0].isspace() else ""
    trail = " " if text[-1].isspace() else ""
    return lead + escape_md(text) + trail


def _code_span(content: str) -> str:
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", content)), default=0) + 1)
    return f"{ticks} {content} {ticks}" if "`" in content else f"`{content}`"


def link_target(path: str, pack_folder: Path, kb_root: Path) -> Path:
    """Where a relative link in pack.md points: next to pack.md, else from the KB root."""
    if path.startswith("/"):
        return kb_root / path.lstrip("/")
    near, from_root = pack_folder / path, kb_root / path
    if not path or near.exists() or not from_root.exists():
        return near
    return from_root


def _link(href: str, line: int, ctx: Where) -> str:
    """A link the coach wrote: http(s) stays; a relative one must stay inside the KB and is
    rebased from the pack folder to its build folder; anything else is refused."""
    parsed = urlparse(href)
    if parsed.scheme in ("http", "https") and parsed.netloc:
        return href
    if parsed.scheme or parsed.netloc or href.startswith("//"):
        raise ctx.fail(line, f"link {href!r} refused: only http(s) and files inside the KB")
    pack_folder = ctx.path.parent
    target = link_target(unquote(parsed.path), pack_folder, ctx.kb_root)
    try:
        target.resolve().relative_to(ctx.kb_root.resolve())
    except ValueError:
        problem = f"link {href!r} refused: it leads outside the knowledge base"
        raise ctx.fail(line, problem) from None
    if not parsed.path:
        return href  # a fragment or query on the page itself
    rebased = os.path.relpath(os.path.normpath(target), pack_folder / BUILD_DIR)
    suffix = (f"?{parsed.query}" if parsed.query else "") + (
        f"#{parsed.fragment}" if parsed.fragment else ""
    )
    return quote(rebased) + suffix
