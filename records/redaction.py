"""Redaction: masks names, e-mail addresses, phone numbers and patterns in derived text."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from tacit.core.config import Config

EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
# +44 20 7946 0958, (555) 010-7788, 555-010-7788, 07700 900123: 7+ digits with separators
PHONE = re.compile(r"(?<![\w-])\+?\(?\d[\d\s().-]{5,}\d(?![\w-])")
MASK = "[redacted]"
# dates and clock times look like phone numbers to PHONE: 2026-06-30, 30.06.2026, 12:30:05
DATE_OR_TIME = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}")


@dataclass(frozen=True)
class Redactor:
    patterns: tuple[re.Pattern[str], ...]
    fingerprint: str

    def __call__(self, text: str) -> str:
        for pattern in self.patterns:
            text = pattern.sub(lambda m: MASK if _worth_masking(m) else m.group(0), text)
        return text

    def matches(self, text: str) -> list[str]:
        found: list[str] = []
        for pattern in self.patterns:
            found += [m.group(0) for m in pattern.finditer(text) if _worth_masking(m)]
        return found


def _worth_masking(match: re.Match[str]) -> bool:
    # a phone pattern must not eat times like 00:01:23 or years: at least 7 digits
    if match.re is PHONE:
        text = match.group(0).strip()
        if DATE_OR_TIME.fullmatch(text):
            return False
        return sum(ch.isdigit() for ch in text) >= 7
    return True


def redactor(config: Config) -> Redactor:
    settings = config.redaction
    patterns: list[re.Pattern[str]] = []
    for term in settings["terms"]:
        if term.strip():
            patterns.append(re.compile(rf"(?<!\w){re.escape(term.strip())}(?!\w)", re.IGNORECASE))
    patterns += [re.compile(p) for p in settings["patterns"]]
    if settings["emails"]:
        patterns.append(EMAIL)
    if settings["phones"]:
        patterns.append(PHONE)
    fingerprint = hashlib.sha256(json.dumps(settings, sort_keys=True).encode("utf-8")).hexdigest()[
        :16
    ]
    return Redactor(patterns=tuple(patterns), fingerprint=fingerprint)


def mask(ws, text: str) -> str:
    """Text as tacit may show it now: masked by the KB's current redaction settings."""
    return redactor(ws.config)(text) if text else text


def mask_answer(ws, answer):
    """An answer masked by the current settings at the moment it is shown: a term added after
    indexing is hidden at once (the index is re-masked at the next `tacit index`), and the
    topics that explain a suggested expert are masked like every other derived text."""
    from dataclasses import replace

    redact = redactor(ws.config)
    if not redact.patterns:
        return answer
    source = answer.source
    if source is not None:  # the headline's citation names its speaker
        source = replace(source, speaker=redact(source.speaker), citation=redact(source.citation))
    return replace(
        answer,
        answer=redact(answer.answer),
        source=source,
        results=tuple(
            replace(r, text=redact(r.text), speaker=redact(r.speaker), citation=redact(r.citation))
            for r in answer.results
        ),
        experts=tuple(replace(s, why=redact(s.why), role=redact(s.role)) for s in answer.experts),
    )
