"""Safe HTML for packs and reports: Markdown without raw HTML, escaped text, checked links."""

from __future__ import annotations

import html
import string
from pathlib import Path
from urllib.parse import unquote, urlparse

SHELL = Path(__file__).parent / "templates" / "html" / "shell.html"


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
    md.validateLink = _link_checker(base, kb_root)
    return md.render(text)


def page(title: str, body_html: str) -> str:
    shell = string.Template(SHELL.read_text(encoding="utf-8"))
    return shell.substitute(title=html.escape(title), body=body_html)


def escape_md(text: str) -> str:
    """Make transcript or answer text inert inside Markdown: no links, no HTML, no emphasis."""
    specials = "\\`*_{}[]()<>#+-.!|~&"
    escaped = "".join("\\" + ch if ch in specials else ch for ch in text)
    return " ".join(escaped.split())
