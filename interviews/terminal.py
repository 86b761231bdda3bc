"""The interviewer's terminal: rich prompts on stderr, plain lines read from stdin.

Part of the command layer (it imports rich); the runner only sees the Terminal protocol.
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.padding import Padding
from rich.text import Text

from tacit.interviews.question_loop import ANSWER_HELP, Card
from tacit.records.guides import Section


class RichTerminal:
    def __init__(self, console: Console | None = None):
        from tacit.core.output import err

        self.console = console or err
        self._helped = False

    def _line(self, text: str, style: str = "", indent: int = 0) -> None:
        # padding keeps a wrapped line under its own indent
        self.console.print(Padding(Text(text, style=style), (0, 0, 0, indent), expand=False))

    def show_section(self, section: Section) -> None:
        self.console.rule(Text(section.title, style="bold"))
        if section.notes:
            self._line(section.notes, "dim")
        for question in section.questions:
            self._line(f"· {question.text}", "", 2)
            if question.why:
                self._line(f"why: {question.why}", "italic dim", 4)
            for probe in question.probes:
                self._line(f"- {probe}", "dim", 4)

    def show_question(self, card: Card) -> None:
        if card.opens_section or card.position == 1:
            self.console.rule(Text(card.section, style="bold"))
            if card.section_notes:
                self._line(card.section_notes, "dim")
        self.console.print()
        where = f"Question {card.position} of {card.total} · {card.section} · {card.qid}"
        self._line(where, "cyan")
        self._line(card.question, "bold")
        if card.why:
            self._line(f"why: {card.why}", "italic dim", 2)
        if card.probes:
            self._line("probes:", "dim", 2)
            for probe in card.probes:
                self._line(f"- {probe}", "", 4)
        if card.status != "pending":
            self._line(f"earlier ({card.status}): {card.text or '(no text)'}", "yellow", 2)
            self._line('type "." alone to keep it', "dim", 2)
        if not self._helped:
            self._line(ANSWER_HELP, "dim")
            self._helped = True
        else:
            self._line('end with "." · skip · back · follow-up [note] · pause', "dim")

    def ask(self, prompt: str, default: str = "") -> str | None:
        shown = f"{prompt} [{default}] " if default else f"{prompt} "
        self.console.print(Text(shown, style="green"), end="")
        self.console.file.flush()
        try:
            line = input()
        except EOFError:
            return None
        if not sys.stdin.isatty():
            self.console.print(Text(line), highlight=False)  # echo piped input
        return line if line.strip() or not default else default

    def say(self, text: str) -> None:
        self._line(text, "yellow")
