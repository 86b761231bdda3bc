"""tacit forget: erase sessions or an expert from the plain files, both indexes and the logs."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from tacit.errors import NotFound
from tacit.fileio import atomic_write
from tacit.interviews import experts, sessions
from tacit.workspace import Workspace, safe_name


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
        lines.append("backups made before now still hold this data: delete or re-make them")
        return lines


def targets(ws: Workspace, session_ids: list[str], expert: str | None) -> Targets:
    chosen = [sessions.get(ws, safe_name(s, "session id")).id for s in session_ids]
    if expert:
        safe_name(expert, "expert slug")
        theirs = [s.id for s in sessions.list_all(ws, expert=expert)]
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


def _prune_questions(ws: Workspace, cited: set[str], gone: set[str], expert: str | None) -> int:
    """Drop logged questions that cite a forgotten chunk, name the session or the expert."""
    if not ws.questions_log.is_file():
        return 0
    kept, removed = [], 0
    for line in ws.questions_log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            kept.append(line)
            continue
        filters = entry.get("filters") or {} if isinstance(entry, dict) else {}
        hit = isinstance(entry, dict) and (
            bool(cited & set(entry.get("cited") or ()))
            or filters.get("session") in gone
            or (
                expert is not None
                and (expert in (entry.get("experts") or ()) or filters.get("expert") == expert)
            )
        )
        if hit:
            removed += 1
        else:
            kept.append(line)
    if removed:
        atomic_write(ws.questions_log, "".join(f"{line}\n" for line in kept))
    return removed


def _remove_builds(ws: Workspace, needles: list[str]) -> list[str]:
    """Built packs and reports are derived: remove any that quote or name what was forgotten."""
    removed = []
    candidates = list(ws.packs_dir.glob("*/build")) + [ws.root / "reports"]
    for folder in candidates:
        if not folder.is_dir():
            continue
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            data = path.read_bytes()
            if any(n.encode("utf-8") in data for n in needles if n):
                path.unlink()
                removed.append(str(path.relative_to(ws.root)))
    return removed


def forget(ws: Workspace, chosen: Targets) -> ForgetReport:
    """The caller holds the writer lock. Order: indexes first, then files, then compaction."""
    from tacit.index import store

    gone = set(chosen.sessions)
    cited = _chunk_ids(ws, gone)
    chunks = sum(store.delete_session(ws, sid) for sid in chosen.sessions)
    files = 0
    for sid in chosen.sessions:
        folder = ws.session_dir(sid)
        files += _count_files(folder)
        shutil.rmtree(folder, ignore_errors=False)
    needles = list(gone)  # every excerpt a pack or report quotes carries its session id
    if chosen.expert:
        path = experts.expert_path(ws, chosen.expert)
        if path.is_file():
            needles.append(experts.load_file(path).name)
            path.unlink()
            files += 1
    questions = _prune_questions(ws, cited, gone, chosen.expert)
    builds = _remove_builds(ws, needles)
    note = _compact_store(ws)
    return ForgetReport(
        tuple(chosen.sessions), chosen.expert, files, chunks, questions, tuple(builds), note
    )


REBUILD_IN_CHILD = (
    "import sys; from pathlib import Path; from tacit import config, workspace; "
    "from tacit.index import indexer; root = Path(sys.argv[1]); "
    "indexer.run(workspace.Workspace(root, config.load(root / 'tacit.toml')), rebuild=True)"
)


def _compact_store(ws: Workspace) -> str:
    """Leave no byte of the forgotten text in the embedded store.

    Chroma's HNSW files are written from memory that is not zeroed first, so they can carry
    fragments of text that the writing process had seen (we found a forgotten sentence in
    data_level0.bin after delete and VACUUM). The store is therefore rebuilt from the plain
    files in a fresh child process that never saw the forgotten text; embeddings come from the
    cache, so nothing is re-embedded. A Chroma server is the operator's to compact.
    """
    import subprocess
    import sys

    from tacit.index import store
    from tacit.index.embedder import EmbeddingCache

    if ws.config.index["chroma_url"]:
        return store.vacuum(ws)
    store.remove_folder(store.index_dir(ws))
    proc = subprocess.run(
        [sys.executable, "-c", REBUILD_IN_CHILD, str(ws.root)],
        capture_output=True,
        text=True,
        check=False,
    )
    cache = EmbeddingCache(ws)
    cache.vacuum()
    cache.close()
    if proc.returncode != 0:
        return (
            "the vector store was removed; run `tacit index` to rebuild it "
            f"({proc.stderr.strip().splitlines()[-1:] or ['no detail']})"
        )
    return "rebuilt the embedded vector store from the plain files (no deleted text remains)"
