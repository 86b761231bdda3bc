"""Redaction: masks names, e-mail addresses, phone numbers and patterns in derived text."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from tacit.config import Config

EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
# +44 20 7946 0958, (555) 010-7788, 555-010-7788, 07700 900123: 7+ digits with separators
PHONE = re.compile(r"(?<![\w-])\+?\(?\d[\d\s().-]{5,}\d(?![\w-])")
MASK = "[redacted]"


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
        return sum(ch.isdigit() for ch in match.group(0)) >= 7
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
    fingerprint = hashlib.sha256(
        json.dumps(settings, sort_keys=True).encode("utf-8")
    ).hexdigest()[:16]
    return Redactor(patterns=tuple(patterns), fingerprint=fingerprint)
