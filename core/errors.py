"""One error hierarchy, caught once in cli.py and turned into an exit code."""

from __future__ import annotations


class TacitError(Exception):
    """A problem the user can act on. The message is one line, shown without a traceback."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        from tacit.core.output import clean  # a message may quote data: no control characters

        self.message = clean(message)
        self.hint = clean(hint) if hint else hint


class UsageError(TacitError):
    exit_code = 2


class NotAKnowledgeBase(TacitError):
    pass


class ConfigError(TacitError):
    pass


class FrontMatterError(TacitError):
    """A broken front matter; `line` is the file line where it breaks, when known."""

    def __init__(self, message: str, hint: str | None = None, line: int | None = None):
        super().__init__(message, hint)
        self.line = line


class LockBusy(TacitError):
    pass


class NotFound(TacitError):
    pass


class MediaError(TacitError):
    pass


class TranscriptFormatError(TacitError):
    pass


class GuideError(TacitError):
    pass


class IndexMismatch(TacitError):
    pass


class UnsafeName(TacitError):
    pass


class ConsentRequired(TacitError):
    pass
