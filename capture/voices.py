"""Voice profiles: a person's voice known across sessions, so later recordings name them.

A profile is biometric personal data. It is made only for a person with a record in experts/
whose record says `voice: given` (by whom, when), from segments already named after them in
transcripts, and is kept as plain JSON in voices/<slug>.json inside the KB (not in .tacit/, so
backups carry it and `forget` removes it). It holds the person's slug and name, the mean
resemblyzer voice embedding (256 numbers, unit length) of their speech in those segments, and
the segments it came from (session, speaker, seconds), from which it can be made again. It never
leaves the machine.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tacit.capture import decode
from tacit.core.errors import NotFound, TacitError
from tacit.core.fileio import atomic_write
from tacit.core.workspace import Workspace, safe_name
from tacit.records import experts
from tacit.records import transcript as transcript_model

FOLDER = "voices"
MODEL = "resemblyzer 0.1.4 VoiceEncoder (256-d, unit length)"
# Cosine of a speaker's mean voice to a profile (benchmarks/diarization.py --voices): the same
# espeak voice in other recordings 0.950-0.967; other voices 0.64-0.84, one near-identical
# variant (en-gb+f3 against en-gb+f2) 0.941-0.942. Below this the label stays anonymous.
MATCH_FROM = 0.945


@dataclass(frozen=True)
class Profile:
    slug: str
    name: str
    embedding: tuple[float, ...]
    sources: tuple[dict[str, Any], ...]  # {"session", "speaker", "seconds"}
    made: str
    model: str = MODEL

    @property
    def seconds(self) -> float:
        return round(sum(float(s["seconds"]) for s in self.sources), 1)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["embedding"] = [round(x, 6) for x in self.embedding]
        data["sources"] = list(self.sources)
        return data


def folder(ws: Workspace) -> Path:
    return ws.root / FOLDER


def profile_path(ws: Workspace, slug: str) -> Path:
    return folder(ws) / f"{safe_name(slug, 'expert slug')}.json"


def load(path: Path) -> Profile:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        embedding = tuple(float(x) for x in data["embedding"])
        if len(embedding) != 256:
            raise ValueError("embedding is not 256 numbers")
        sources = tuple(
            {"session": str(s["session"]), "speaker": str(s["speaker"]),
             "seconds": float(s["seconds"])}
            for s in data["sources"]
        )  # fmt: skip
        return Profile(path.stem, str(data["name"]), embedding, sources, str(data["made"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        message = f"{path}: not a voice profile ({exc}); remove it or make it again"
        raise TacitError(message) from None


def list_all(ws: Workspace) -> list[Profile]:
    if not folder(ws).is_dir():
        return []
    return [load(p) for p in sorted(folder(ws).glob("*.json"))]


def _consented(ws: Workspace, slug: str) -> experts.Expert:
    person = experts.get(ws, slug)
    if person.voice_consent != "given":
        raise TacitError(
            f"no voice profile without consent: {person.name}'s record says voice consent "
            f"{person.voice_consent}; record it with "
            f"`tacit expert edit {slug} --voice-consent given`"
        )
    return person


def _voice_in(ws: Workspace, source: dict[str, Any]) -> tuple[Any, float]:
    """The unit voice embedding of one named speaker's speech in a session, and its seconds."""
    from tacit.capture import diarize

    session_id, speaker = source["session"], source["speaker"]
    transcript = transcript_model.of_session(ws, session_id)
    spans = [(s.start, s.end) for s in transcript.segments if s.speaker == speaker]
    if not spans:
        raise TacitError(
            f"session {session_id} has no speaker {speaker!r}; its speakers are: "
            f"{', '.join(transcript.speakers)}"
        )
    if not transcript.media_file:
        raise TacitError(f"session {session_id}'s transcript has no recording to hear")
    path = ws.session_dir(session_id) / transcript.media_file
    samples = decode.decode(path, 1)[:, 0]
    voice = diarize.voice_of(samples, spans)
    if voice is None:
        raise TacitError(
            f"{speaker!r} speaks under {diarize.MIN_SPEECH_S:g} s in session {session_id}: "
            "too little to know the voice by"
        )
    return voice, round(sum(e - s for s, e in spans), 1)


def add(ws: Workspace, slug: str, session_id: str, speaker: str) -> Profile:
    """Make or extend slug's profile from a speaker of a session, then make it again from all
    its sources (so the profile is always what its named segments give)."""
    import numpy as np

    person = _consented(ws, slug)
    path = profile_path(ws, slug)
    old = load(path) if path.is_file() else None
    new = {"session": session_id, "speaker": speaker}
    sources = [s for s in (old.sources if old else ()) if (s["session"], s["speaker"]) != (
        session_id, speaker)] + [new]  # fmt: skip
    voices, weights, kept = [], [], []
    for source in sources:
        voice, seconds = _voice_in(ws, source)
        voices.append(voice)
        weights.append(seconds)
        kept.append({**source, "seconds": seconds})
    mean = np.average(np.stack(voices), axis=0, weights=weights)
    mean = mean / np.linalg.norm(mean)
    when = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    profile = Profile(slug, person.name, tuple(float(x) for x in mean), tuple(kept), when)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    atomic_write(path, json.dumps(profile.to_json(), ensure_ascii=False, indent=1))
    return profile


def remove(ws: Workspace, slug: str) -> bool:
    path = profile_path(ws, slug)
    if not path.is_file():
        return False
    path.unlink()
    return True


def recognize(ws: Workspace, centroids: Any) -> list[dict[str, Any]]:
    """For each found speaker's mean voice: the best profile and its similarity; `name` is set
    only at MATCH_FROM or more, each profile naming one speaker at most (the most similar)."""
    import numpy as np

    # an unreadable profile names nobody, and does not stop the transcription it came to
    # help (`tacit voices list` reports it)
    profiles = [p for p in list_all_quietly(ws) if _still_consented(ws, p.slug)]
    found: list[dict[str, Any]] = [{"name": None, "profile": None, "similarity": None}
                                   for _ in range(len(centroids))]  # fmt: skip
    if not profiles or centroids is None or not len(centroids):
        return found
    table = np.stack([np.array(p.embedding) for p in profiles])
    similar = np.asarray(centroids) @ table.T  # (speakers, profiles)
    for i in range(len(found)):
        j = int(np.argmax(similar[i]))
        found[i] = {"name": None, "profile": profiles[j].slug,
                    "similarity": round(float(similar[i, j]), 3)}  # fmt: skip
    pairs = sorted(np.ndindex(similar.shape), key=lambda ij: -similar[ij])
    used_speakers, used_profiles = set(), set()
    for i, j in pairs:
        if similar[i, j] < MATCH_FROM:
            break
        if i in used_speakers or j in used_profiles:
            continue
        used_speakers.add(i)
        used_profiles.add(j)
        found[i] = {"name": profiles[j].name, "profile": profiles[j].slug,
                    "similarity": round(float(similar[i, j]), 3)}  # fmt: skip
    return found


def _still_consented(ws: Workspace, slug: str) -> bool:
    try:
        return experts.get(ws, slug).voice_consent == "given"
    except NotFound:
        return False


def forget(ws: Workspace, expert: str | None, sessions: list[str]) -> tuple[int, list[str]]:
    """Remove the expert's profile, and every profile made from a forgotten session."""
    removed, notes = 0, []
    for profile in list_all_quietly(ws):
        from_gone = sorted({s["session"] for s in profile.sources} & set(sessions))
        if profile.slug == expert or from_gone:
            profile_path(ws, profile.slug).unlink(missing_ok=True)
            removed += 1
            if profile.slug != expert:
                notes.append(
                    f"removed the voice profile of {profile.name}: it was made from "
                    f"{', '.join(from_gone)}; `tacit voices add` makes it again from others"
                )
    if expert and (folder(ws) / f"{expert}.json").is_file():
        (folder(ws) / f"{expert}.json").unlink()
        removed += 1
    return removed, notes


def list_all_quietly(ws: Workspace) -> list[Profile]:
    """Profiles that read; an unreadable one is skipped (forget must not stop half way)."""
    found = []
    for path in sorted(folder(ws).glob("*.json")) if folder(ws).is_dir() else ():
        try:
            found.append(load(path))
        except TacitError:
            continue
    return found
