"""`tacit pack build NAME --bundle`: a copy of the pack a coach can hand to a new hire.

The bundle is a folder and a .zip of it, both in the pack's build/ (inside the KB, where
`forget` reaches them): `index.html`, `bundle.json` (which KB, when, which sessions and clips)
and `clips/`, one short Ogg Opus clip per cited excerpt or observed step, cut by ffmpeg from the
recording with a few seconds of context either side, linked from the citation and playable in
the page. Nothing outside the bundle is linked except http(s): links to the KB's files become
plain text. Only sessions with consent given and not restricted enter a bundle; excerpts from
any other are left out, and the page says so.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import unquote, urlparse

from tacit.core.errors import TacitError
from tacit.core.fileio import atomic_write
from tacit.core.htmlrender import escape_md, markdown_to_html, page
from tacit.core.workspace import Workspace
from tacit.packs.build import Built, Quote, TopicResult
from tacit.packs.practice import Scheduled
from tacit.records import consent as consent_module
from tacit.records import sessions as sessions_module

CLIP_PAD = 3.0  # seconds of context before and after the cited excerpt
CLIP_UNKNOWN_END = 12.0  # an excerpt or step whose end is not known: this long after its start
CLIP_MAX = 60.0  # the longest clip: a long passage is cut to its first minute
CLIPS_DIR = "clips"
MANIFEST = "bundle.json"
PAGE = "index.html"


@dataclass(frozen=True)
class Clip:
    file: str  # clips/NN.ogg, relative to the bundle folder
    session: str
    recording: str  # the recording, relative to the KB root
    start: float  # seconds into the recording where the clip begins
    duration: float
    cited: float  # the second the citation names

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Bundle:
    folder: Path
    archive: Path
    clips: tuple[Clip, ...]
    sessions: tuple[str, ...]
    left_out: tuple[str, ...]  # sessions quoted by the pack but without consent to share


def folder_name(pack_name: str) -> str:
    return f"{pack_name}-bundle"


def shareable(ws: Workspace) -> set[str]:
    """Sessions that may leave the KB in a bundle: consent given, not restricted."""
    return {
        s.id
        for s in sessions_module.list_all(ws)
        if consent_module.is_given(s.consent) and not s.restricted
    }


def write(ws: Workspace, built: Built, today: dt.date | None = None) -> Bundle:
    """Write build/NAME-bundle/ and build/NAME-bundle.zip. The caller holds the writer lock."""
    today = today or dt.date.today()
    build_dir = built.pack.build_dir
    name = folder_name(built.pack.name)
    allowed = shareable(ws)
    left_out = tuple(s for s in built.sessions_quoted if s not in allowed)
    work = build_dir / f".{name}.partial"
    if work.exists():
        shutil.rmtree(work)
    (work / CLIPS_DIR).mkdir(parents=True, mode=0o700)
    try:
        cutter = _Cutter(ws, build_dir, work)
        shared = _shared(built, allowed, cutter)
        text = _markdown(ws, shared, today, left_out)
        body = _with_players(markdown_to_html(text, base=work, kb_root=work), work)
        title = built.pack.title or f"Onboarding pack: {built.pack.role}"
        atomic_write(work / PAGE, page(title, body))
        manifest = {
            "pack": built.pack.name,
            "kb": ws.config.name,
            "kb_root": str(ws.root),
            "built": built.built_on.isoformat(),
            "bundled": today.isoformat(),
            "sessions": sorted(set(shared.sessions_quoted) | {c.session for c in cutter.clips}),
            "left_out": list(left_out),
            "clips": [c.to_json() for c in cutter.clips],
        }
        atomic_write(work / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
        archive = build_dir / f"{name}.zip"
        _zip(work, name, archive)
        target = build_dir / name
        if target.exists():
            shutil.rmtree(target)
        work.rename(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return Bundle(target, archive, tuple(cutter.clips), tuple(manifest["sessions"]), left_out)


class _Cutter:
    """Cuts one clip per cited moment (the same moment twice gives one clip)."""

    def __init__(self, ws: Workspace, build_dir: Path, folder: Path):
        self.ws = ws
        self.build_dir = build_dir
        self.folder = folder
        self.clips: list[Clip] = []
        self.made: dict[tuple[str, float, float], str] = {}

    def clip(self, session: str, href: str, length: float | None) -> str:
        """The clip's link for a citation's link into the KB ("" when there is no recording)."""
        if not href:
            return ""
        parsed = urlparse(href)
        recording = (self.build_dir / unquote(parsed.path)).resolve()
        if not self.ws.inside(recording) or not recording.is_file():
            return ""
        match = re.fullmatch(r"t=([\d.]+)", parsed.fragment or "")
        cited = float(match.group(1)) if match else 0.0
        start = max(cited - CLIP_PAD, 0.0)
        span = (length if length and length > 0 else CLIP_UNKNOWN_END) + CLIP_PAD
        duration = round(min(cited - start + span, CLIP_MAX), 3)
        kb_path = recording.relative_to(self.ws.root.resolve()).as_posix()
        key = (kb_path, round(start, 3), duration)
        if key in self.made:
            return self.made[key]
        file = f"{CLIPS_DIR}/{len(self.clips) + 1:02d}.ogg"
        _cut(recording, start, duration, self.folder / file)
        self.clips.append(Clip(file, session, kb_path, round(start, 3), duration, cited))
        self.made[key] = file
        return file


def _cut(recording: Path, start: float, duration: float, target: Path) -> None:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise TacitError("ffmpeg is not installed; a bundle's clips are cut with it")
    command = [
        ffmpeg, "-nostdin", "-v", "error", "-y", "-ss", f"{start:.3f}", "-t", f"{duration:.3f}",
        "-i", str(recording), "-vn", "-map_metadata", "-1", "-ac", "1", "-c:a", "libopus",
        "-b:a", "32k", "-f", "ogg", str(target),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise TacitError(f"could not cut a clip from {recording.name}: {last}")


def _shared(built: Built, allowed: set[str], cutter: _Cutter) -> Built:
    """The pack as the bundle shows it: only shareable sessions, each link a clip."""

    def quote(q: Quote, length: float | None) -> Quote:
        return replace(q, href=cutter.clip(q.session, q.href, length))

    topics = []
    for topic in built.topics:
        kept = tuple(quote(q, q.length) for q in topic.quotes if q.session in allowed)
        source = topic.source
        answer = topic.answer
        if source is not None and source.session not in allowed:
            source, answer = None, ""  # the answer quotes a session that stays in the KB
        elif source is not None:
            source = quote(source, source.length)
        topics.append(replace(topic, quotes=kept, source=source, answer=answer))

    def scheduled(task: Scheduled) -> Scheduled:
        observed = task.observed
        if observed is None:
            return task
        if observed.session not in allowed:
            return replace(task, observed=None)
        steps = tuple(
            replace(s, href=cutter.clip(observed.session, s.href, None)) for s in observed.steps
        )
        return replace(task, observed=replace(observed, href="", steps=steps))

    return replace(
        built,
        topics=tuple(_unshared(t) for t in topics),
        observations=tuple(scheduled(t) for t in built.observations),
        practice=tuple(scheduled(t) for t in built.practice),
    )


def _unshared(topic: TopicResult) -> TopicResult:
    """A captured topic whose every excerpt was left out keeps its place, said so."""
    if topic.captured and not topic.quotes and not topic.answer:
        return replace(topic, left_out=True)
    return topic


def _markdown(ws: Workspace, shared: Built, today: dt.date, left_out: tuple[str, ...]) -> str:
    from tacit.packs import render

    text = render.markdown(shared)
    origin = (
        f"This bundle was made {today.isoformat()} from the knowledge base "
        f"“{escape_md(ws.config.name)}” (pack `{shared.pack.name}`, built "
        f"{shared.built_on.isoformat()}). It works offline: each citation's clip plays a few "
        "seconds either side of the moment cited."
    )
    if left_out:
        origin += (
            f" Excerpts from {len(left_out)} session(s) without consent to share are left out."
        )
    head, _, rest = text.partition("\n\n")
    return f"{head}\n\n{origin}\n\n{rest}"


_ANCHOR = re.compile(r'<a href="([^"]*)">(.*?)</a>', re.DOTALL)


def _with_players(body: str, folder: Path) -> str:
    """Each link to a clip gets an audio player after it; a relative link to anything not in
    the bundle becomes plain text (it would be dead on the new hire's machine)."""

    def swap(match: re.Match) -> str:
        href, label = match.group(1), match.group(2)
        parsed = urlparse(href)
        if parsed.scheme in ("http", "https"):
            return match.group(0)
        target = (folder / unquote(parsed.path)).resolve()
        if not parsed.path or not target.is_file() or not target.is_relative_to(folder.resolve()):
            return label
        if parsed.path.startswith(f"{CLIPS_DIR}/"):
            return f'{match.group(0)} <audio controls preload="metadata" src="{href}"></audio>'
        return match.group(0)

    return _ANCHOR.sub(swap, body)


def _zip(folder: Path, name: str, archive: Path) -> None:
    partial = archive.with_name(archive.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            # clips are already compressed: stored, not deflated again
            kind = zipfile.ZIP_STORED if path.suffix == ".ogg" else zipfile.ZIP_DEFLATED
            zf.write(path, f"{name}/{path.relative_to(folder).as_posix()}", compress_type=kind)
    partial.replace(archive)


def read_manifest(folder: Path | None, archive: Path | None) -> dict | None:
    """A bundle's manifest, from its folder or else from inside its .zip (None: unreadable)."""
    candidates = []
    if folder is not None and (folder / MANIFEST).is_file():
        candidates.append(lambda: (folder / MANIFEST).read_text(encoding="utf-8"))
    if archive is not None and archive.is_file():

        def from_zip() -> str:
            with zipfile.ZipFile(archive) as zf:
                return zf.read(f"{archive.stem}/{MANIFEST}").decode("utf-8")

        candidates.append(from_zip)
    for read in candidates:
        try:
            data = json.loads(read())
        except (OSError, KeyError, ValueError, zipfile.BadZipFile):
            continue
        if isinstance(data, dict):
            return data
    return None
