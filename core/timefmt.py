"""Every way tacit writes a time, in one place, so a citation, a media link and a cue agree.

- `clock`: hh:mm:ss for people (citations, session pages, reports). Truncated, never rounded
  up: 12.7 s reads 00:00:12, the second the moment is in, so playing from it misses nothing.
- `media_seconds`: the `#t=` of a media link and `tacit play`: seconds with up to two decimals.
- `cue`: hh:mm:ss.mmm for WebVTT (sep ".") and SRT (sep ","), to the millisecond.
- `stamp`: [hh:mm:ss] in text and Markdown exports, with milliseconds only when there are some.
- `from_parts`: the way back, from the hours, minutes, seconds and milliseconds a reader matched.
"""

from __future__ import annotations

import math

from tacit.core.errors import TranscriptFormatError
from tacit.core.validation import MAX_SECONDS


def clock(seconds: float | None) -> str:
    """3723.9 -> '01:02:03'; None (a typed answer with no recording) -> '--:--:--'."""
    if seconds is None:
        return "--:--:--"
    total = int(max(seconds, 0.0))
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


def media_seconds(seconds: float | None) -> str:
    """754.5 -> '754.5', 7200.0 -> '7200', 12.345 -> '12.35': seconds as media links write them."""
    return f"{max(seconds or 0.0, 0.0):.2f}".rstrip("0").rstrip(".")


def cue(seconds: float, sep: str = ".") -> str:
    """A cue time to the millisecond; a time no transcript can hold is refused, not written."""
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_SECONDS:
        raise TranscriptFormatError(
            f"cannot write the time {seconds!r} s: not from 0 to {MAX_SECONDS:g}"
        )
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{sep}{millis:03d}"


def stamp(seconds: float) -> str:
    """[hh:mm:ss], with milliseconds only when the time has them."""
    full = cue(seconds)
    return f"[{full[:-4]}]" if full.endswith(".000") else f"[{full}]"


def from_parts(hours: str | None, minutes: str, seconds: str, millis: str | None) -> float | None:
    """The time in seconds; None when minutes or seconds pass 59 or it is beyond MAX_SECONDS."""
    if int(minutes) > 59 or int(seconds) > 59 or len(hours or "") > 7:
        return None
    whole = int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
    value = round(whole + int((millis or "0").ljust(3, "0")) / 1000, 3)
    return value if value <= MAX_SECONDS else None
