"""What a guide is, once parsed: its sections and questions, and the problems found in a file.

Parsing is guide_parse.py (markdown-it-py tokens, line numbers); finding and listing guides is
guides.py. Both use these, and neither imports the other's insides.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

KINDS = ("interview", "observation")
REQUIRED = ("name", "title", "kind", "purpose", "minutes")
OPTIONAL = ("method", "steps_section", "type")
DEFAULT_STEPS_SECTION = "steps"


@dataclass(frozen=True)
class Problem:
    line: int
    message: str


@dataclass(frozen=True)
class Question:
    id: str
    number: int
    text: str
    why: str = ""
    probes: tuple[str, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class Section:
    slug: str
    title: str
    questions: tuple[Question, ...] = ()
    notes: str = ""  # paragraphs and tables under the heading, shown to the interviewer
    line: int = 0


@dataclass(frozen=True)
class Guide:
    name: str
    title: str
    kind: str
    purpose: str = ""
    minutes: int = 0
    method: str = ""
    steps_section: str = ""  # observation guides: the section whose questions prompt each step
    type: str = ""  # the method it follows (exit-interview, ...): a custom guide says so here
    intro: str = ""
    sections: tuple[Section, ...] = ()
    path: Path | None = None
    builtin: bool = False

    def questions(self) -> list[tuple[Section, Question]]:
        """Every question with its section, in order; the steps section's prompts excluded."""
        return [
            (section, question)
            for section in self.sections
            if section.slug != self.steps_section
            for question in section.questions
        ]

    def find(self, qid: str) -> tuple[Section, Question] | None:
        for section in self.sections:
            for question in section.questions:
                if question.id == qid:
                    return section, question
        return None

    def section(self, slug: str) -> Section | None:
        return next((s for s in self.sections if s.slug == slug), None)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["path"] = str(self.path) if self.path else None
        return data
