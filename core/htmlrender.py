"""Safe HTML for packs and reports: Markdown without raw HTML, escaped text, checked links."""

from __future__ import annotations

import html
import re
import string
from pathlib import Path
from urllib.parse import unquote, urlparse

SHELL = Path(__file__).resolve().parent.parent / "templates" / "html" / "shell.html"


def _link_checker(base: Path | None, kb_root: Path | None):
    """Allow http(s) links, and relative links that resolve inside the KB; drop the rest."""

    def validate(url: str) -> bool:
        parsed = urlparse(url)
        if parsed.scheme in ("http", "https"):
            return True
        if parsed.scheme or parsed.netloc or url.startswith("//"):
            return False  # javascript:, data:, file:, vbscript:, protocol-relative...
        if base is None or kb_root is None:
            return False
        target = (base / unquote(parsed.path)).resolve()
        try:
            target.relative_to(kb_root.resolve())
        except ValueError:
            return False
        return True

    return validate


def markdown_to_html(text: str, base: Path | None = None, kb_root: Path | None = None) -> str:
    """Render Markdown with raw HTML disabled; links outside http(s) or the KB are not linked."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    # an image is a request the reader never asked for (and http(s) passes the link check):
    # `![alt](src)` stays text
    md.disable("image")
    md.validateLink = _link_checker(base, kb_root)
    return md.render(text)


def page(title: str, body_html: str) -> str:
    shell = string.Template(SHELL.read_text(encoding="utf-8"))
    return shell.substitute(title=html.escape(title), body=body_html)


# Characters that mean something anywhere in a line (emphasis, code, links, autolinks and
# raw HTML, entities, table cells, hard breaks), and those that mean something only where a
# line starts (headings, lists, block quotes, setext underlines, thematic breaks).
_INLINE_SPECIALS = frozenset("\\`*_[]<>!|~&")
_LINE_START = re.compile(r"^(?:[#+=>-]|\d{1,9}(?=[.)]))")


def escape_md(text: str) -> str:
    """Make transcript or answer text inert inside Markdown: no links, no HTML, no emphasis,
    no block structure. The result is one line; it reads as plain text wherever it is put."""
    flat = " ".join(str(text).split())
    escaped = "".join("\\" + ch if ch in _INLINE_SPECIALS else ch for ch in flat)
    start = _LINE_START.match(escaped)
    if start is None:
        return escaped
    if start.group(0)[0].isdigit():  # "1986. That year" would open an ordered list
        end = start.end()
        return escaped[:end] + "\\" + escaped[end:]
    return "\\" + escaped
