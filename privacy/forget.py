"""tacit forget: erase sessions or an expert from the plain files, both indexes and the logs."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from tacit.core import faults, intents
from tacit.core.errors import NotFound, TacitError
from tacit.core.fileio import append_line, refuse_links
from tacit.core.workspace import Workspace, safe_name
from tacit.planning import open_questions
from tacit.records import experts, questions, sessions

EXPORTS_LOG = "exports.jsonl"  # in a session's folder: exports written inside the KB


@dataclass(frozen=True)
class Targets:
    sessions: tuple[str, ...]
    expert: str | None = None


@dataclass(frozen=True)
class ForgetReport:
    sessions: tuple[str, ...]
    expert: str | None
    files_removed: int
    chunks_removed: int
    questions_removed: int
    builds_removed: tuple[str, ...] = ()
    store_note: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict:
        return {
            **self.__dict__,
            "sessions": list(self.sessions),
            "builds_removed": list(self.builds_removed),
            "notes": list(self.notes),
        }

    def lines(self) -> list[str]:
        who = f" and expert {self.expert}" if self.expert else ""
        lines = [
            f"forgot {len(self.sessions)} session(s){who}: {', '.join(self.sessions) or '-'}",
            f"removed {self.files_removed} files, {self.chunks_removed} chunks from the vector and "
            f"lexical indexes, {self.questions_removed} logged questions citing them",
        ]
        lines += [
            f"removed built output that quoted them: {b} (rebuild it to refresh)"
            for b in self.builds_removed
        ]
        if self.store_note:
            lines.append(self.store_note)
        lines += list(self.notes)
        lines.append(
            "out of reach: backups made before now, and exports or copies written outside "
            "the knowledge base, still hold this data: delete or re-make them"
        )
        return lines


def records(ws: Workspace) -> list[tuple[str, Path]]:
    """(folder name, session.md) of every session folder, links included (they are refused
    where used)."""
    if not ws.sessions_dir.is_dir():
        return []
    return [(p.parent.name, p) for p in sorted(ws.sessions_dir.glob("*/session.md"))]


def mismatched_ids(ws: Workspace) -> list[str]:
    """'folder (id: other)' for each session.md whose id differs from its folder."""
    found = []
    for folder, path in records(ws):
        try:
            recorded = sessions.load_file(path).id
        except TacitError:
            continue  # doctor reports unparsable records on their own
        if recorded != folder:
            found.append(f"{folder} (id: {recorded})")
    return found


def _checked_session(ws: Workspace, folder: str) -> str:
    """A session id whose folder is real (no link) and whose record carries the same id."""
    path = ws.session_dir(safe_name(folder, "session id"))
    refuse_links(path, ws.root)
    if not (path / "session.md").is_file():
        raise NotFound(f"no session {folder!r}; see `tacit session list`")
    refuse_links(path / "session.md", ws.root)
    recorded = sessions.load_file(path / "session.md").id
    if recorded != folder:
        raise TacitError(
            f"{path / 'session.md'} says id: {recorded}, but its folder is {folder}; "
            "refusing to forget either until the id line matches its folder",
            hint="`tacit doctor` lists every such record",
        )
    return folder


def targets(ws: Workspace, session_ids: list[str], expert: str | None) -> Targets:
    chosen = [_checked_session(ws, s) for s in session_ids]
    if expert:
        safe_name(expert, "expert slug")
        theirs = [
            _checked_session(ws, folder)
            for folder, path in records(ws)
            if sessions.load_file(path).expert == expert
        ]
        if not theirs and not experts.expert_path(ws, expert).is_file():
            raise NotFound(f"no expert {expert!r} and no sessions of theirs")
        chosen += [s for s in theirs if s not in chosen]
    return Targets(tuple(chosen), expert)


def _count_files(folder: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(folder)) if folder.exists() else 0


def _chunk_ids(ws: Workspace, session_ids: set[str]) -> set[str]:
    from tacit.index import manifest

    found = manifest.load(ws)
    if found is None:
        return set()
    return {cid for cid, entry in found.chunks.items() if entry.get("session") in session_ids}


def _strings(value: object) -> set[str]:
    return {str(v) for v in value} if isinstance(value, list) else set()


def _prune_questions(ws: Workspace, cited: set[str], gone: set[str], expert: str | None) -> int:
    """Drop logged questions that cite a forgotten chunk, name the session or the expert."""

    def keep(line: questions.Line) -> str | None:
        entry = line.entry or {}
        filters = entry.get("filters") if isinstance(entry.get("filters"), dict) else {}
        ids, named = _strings(entry.get("cited")), _strings(entry.get("experts"))
        hit = (
            bool(cited & ids)
            or any(i.split(":", 1)[0] in gone for i in ids)  # ids start with their session
            or str(filters.get("session")) in gone
            or (expert is not None and (expert in named or filters.get("expert") == expert))
        )
        return None if hit else line.text

    return questions.rewrite(ws, keep)


def _remove_builds(ws: Workspace, needles: list[str]) -> tuple[list[str], list[str]]:
    """Built packs and reports are derived: remove any that quote or name what was forgotten.
    A link among them is never followed (it would delete outside the KB): it is reported."""
    removed, refused = [], []
    candidates = sorted(ws.packs_dir.glob("*/build")) + [ws.root / "reports"]
    for folder in candidates:
        try:
            refuse_links(folder, ws.root)
        except TacitError:
            refused.append(str(folder.relative_to(ws.root)))
            continue
        if not folder.is_dir():
            continue
        for parent, dirs, files in os.walk(folder):  # os.walk never follows links to folders
            for name in sorted(files):
                path = Path(parent) / name
                if path.is_symlink():
                    refused.append(str(path.relative_to(ws.root)))
                    continue
                data = path.read_bytes()
                if any(n.encode("utf-8") in data for n in needles if n):
                    path.unlink()
                    removed.append(str(path.relative_to(ws.root)))
            dirs[:] = [d for d in dirs if not (Path(parent) / d).is_symlink()]
    return removed, refused


def exports_of(ws: Workspace, session_id: str) -> list[Path]:
    """Files `export -o` wrote inside the KB for this session (recorded in its folder)."""
    log = ws.session_dir(session_id) / EXPORTS_LOG
    if not log.is_file() or log.is_symlink():
        return []
    found = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            found.append(ws.root / str(json.loads(line)["path"]))
    return found


def record_export(ws: Workspace, session_id: str, written: Path) -> None:
    """Note an export written inside the KB in the session's folder, for `forget`."""
    written = Path(written).absolute()
    try:
        rel = written.relative_to(ws.root)
    except ValueError:
        return  # outside the KB: the user's copy to keep (forget says so)
    append_line(ws.session_dir(session_id) / EXPORTS_LOG, json.dumps({"path": str(rel)}))


def _remove_exports(ws: Workspace, listed: list[str]) -> int:
    removed = 0
    for rel in listed:
        path = ws.root / rel
        try:
            refuse_links(path.parent, ws.root)
        except TacitError:
            continue
        if path.is_file() or path.is_symlink():
            path.unlink()
            removed += 1
    return removed


def _remove_session_folder(ws: Workspace, session_id: str) -> int:
    folder = ws.session_dir(session_id)
    if not folder.exists() and not folder.is_symlink():
        return 0  # a resumed forget: already gone
    refuse_links(folder, ws.root)
    count = _count_files(folder)
    # moved out of sessions/ first: a kill midway leaves no half session that looks like one
    doomed = _doomed_dir(ws) / session_id
    if doomed.exists():
        shutil.rmtree(doomed)
    os.replace(folder, doomed)
    shutil.rmtree(doomed)
    lock = ws.cache_dir / "sessions" / f"{session_id}.lock"
    lock.unlink(missing_ok=True)
    return count


def _doomed_dir(ws: Workspace) -> Path:
    from tacit.core.fileio import ensure_dir

    doomed = ws.cache_dir / "forgetting"
    refuse_links(doomed, ws.root)
    return ensure_dir(doomed)


def _leftover_folders(ws: Workspace) -> None:
    doomed = ws.cache_dir / "forgetting"
    if doomed.is_dir() and not doomed.is_symlink():
        shutil.rmtree(doomed)


def forget(ws: Workspace, chosen: Targets) -> ForgetReport:
    """The caller holds the writer lock. The intent is written first (see tacit.core.intents);
    then indexes, files, logs, builds and compaction, each step safe to repeat."""
    intent = {
        "sessions": list(chosen.sessions),
        "expert": chosen.expert,
        "names": _expert_names(ws, chosen.expert),
        # what the logged questions cite: the manifest no longer says once the index is done
        "cited": sorted(_chunk_ids(ws, set(chosen.sessions))),
        "exports": [
            str(p.relative_to(ws.root)) for sid in chosen.sessions for p in exports_of(ws, sid)
        ],
    }
    _preflight(ws, chosen)
    intents.write(ws, intents.FORGET, intent)
    faults.point("forget:after-intent")
    return _carry_out(ws, intent)


def _preflight(ws: Workspace, chosen: Targets) -> None:
    """Refuse before changing anything where a link would make a step fail half way (or act
    outside the KB); links among built output are skipped and reported instead."""
    for path in (ws.questions_log, ws.cache_dir, ws.sessions_dir, ws.experts_dir):
        refuse_links(path, ws.root)
    for sid in chosen.sessions:
        refuse_links(ws.session_dir(sid), ws.root)


def resume(ws: Workspace) -> ForgetReport:
    """Finish a forget that was killed (its intent file is still there)."""
    intent = intents.read(ws, intents.FORGET) or {}
    return _carry_out(ws, intent)


def _expert_names(ws: Workspace, expert: str | None) -> list[str]:
    if not expert:
        return []
    path = experts.expert_path(ws, expert)
    names = [expert]
    if path.is_file():
        with contextlib.suppress(TacitError):
            names.append(experts.load_file(path).name)
    return names


def _carry_out(ws: Workspace, intent: dict) -> ForgetReport:
    from tacit.index import upkeep

    gone = [str(s) for s in intent.get("sessions") or () if isinstance(s, str)]
    expert = intent.get("expert") if isinstance(intent.get("expert"), str) else None
    names = [str(n) for n in intent.get("names") or ()]
    cited = {str(c) for c in intent.get("cited") or ()} | _chunk_ids(ws, set(gone))
    chunks = sum(upkeep.delete_session(ws, sid) for sid in gone)
    faults.point("forget:after-store-delete")
    files = _remove_exports(ws, [str(e) for e in intent.get("exports") or ()])
    for sid in gone:
        files += _remove_session_folder(ws, sid)
    _leftover_folders(ws)
    faults.point("forget:after-files")
    notes: list[str] = []
    if expert:
        path = experts.expert_path(ws, expert)
        if path.is_file():
            refuse_links(path, ws.root)
            path.unlink()
            files += 1

        marks = open_questions.marks_path(ws, expert)  # their agenda's done/dismissed items
        if marks.is_file():
            refuse_links(marks, ws.root)
            marks.unlink()
            files += 1
        from tacit.packs import erase as packs_forget

        notes += packs_forget.scrub_expert(ws, expert, names)
    if gone:
        from tacit.packs import erase as packs_forget

        notes += packs_forget.scrub_sessions(ws, gone)
        notes += packs_forget.remove_bundles(ws, gone)  # before the builds: it reads manifests
    from tacit.capture import voices

    profiles, said = voices.forget(ws, expert, gone)  # biometric data goes with its person
    files += profiles
    notes += said
    questions = _prune_questions(ws, cited, set(gone), expert)
    builds, refused = _remove_builds(ws, gone + names[1:])
    notes += [f"not followed (a symbolic link; check it by hand): {r}" for r in refused]
    faults.point("forget:after-builds")
    note = upkeep.vacuum(ws)  # rebuilt in a child that never saw the forgotten text
    faults.point("forget:after-compact")
    intents.clear(ws, intents.FORGET)
    return ForgetReport(
        tuple(gone), expert, files, chunks, questions, tuple(builds), note, tuple(notes)
    )
