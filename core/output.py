"""Rendering helpers for the command layer: data to stdout, messages to stderr."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.segment import Segment

# C0 and C1 control characters (tab and newline excepted) and the bidirectional overrides:
# from data (a speaker name, an imported cue, a file name) they could move the cursor, recolour
# or rewrite the terminal, or make text read backwards. Each becomes U+FFFD, one for one.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
REPLACEMENT = "\ufffd"


def clean(text: str) -> str:
    """Text from data, safe to show on a terminal."""
    return _CONTROL.sub(REPLACEMENT, text) if isinstance(text, str) else text


class SafeConsole(Console):
    """A rich Console that shows no control character from the text it is given; rich's own
    escape codes (colours, cursor moves for progress bars) are added after, so they stay."""

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        return super()._render_buffer(
            Segment(text if control else clean(text), style, control)
            for text, style, control in buffer
        )


out = SafeConsole(highlight=False, soft_wrap=False)
err = SafeConsole(stderr=True, highlight=False)


def print_json(data: Any) -> None:
    """One JSON document on stdout (plain write: no wrapping, no colour)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()


def print_json_line(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def message(text: str) -> None:
    err.print(text)


def table(title: str | None, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.table import Table

    grid = Table(title=title, show_lines=False, header_style="bold")
    for column in columns:
        grid.add_column(column, overflow="fold")
    for row in rows:
        grid.add_row(*("" if cell is None else str(cell) for cell in row))
    out.print(grid)
