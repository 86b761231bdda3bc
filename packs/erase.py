"""What `tacit forget` changes in the coaches' files: a forgotten expert leaves the pack's
`experts:` list, its reviewer references and the review record; a forgotten session leaves
the references to it. The coach's own prose stays: lines that still name the person are
reported, for the coach to edit.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tacit.core import validation
from tacit.core.errors import TacitError
from tacit.core.fileio import atomic_write, refuse_links, render_front_matter, split_front_matter
from tacit.core.workspace import Workspace
from tacit.packs.checkpoints import REVIEWS_FILE
from tacit.packs.definition import PACK_FILE

UNASSIGNED = "unassigned"
FORGOTTEN = "forgotten"


def _pack_files(ws: Workspace) -> list[Path]:
    found = []
    for path in sorted(ws.packs_dir.glob(f"*/{PACK_FILE}")):
        try:
            refuse_links(path, ws.root)
        except TacitError:
            continue
        found.append(path)
    return found


def _rewrite(path: Path, edit) -> list[str]:
    """Apply edit(meta, body) -> (meta, body, notes) to a pack.md; writes only on change."""
    text = path.read_text(encoding="utf-8")
    try:
        meta, body = split_front_matter(text, path)
    except TacitError as exc:
        return [f"{path}: not changed ({exc.message}); edit it by hand"]
    new_meta, new_body, notes = edit(dict(meta), body)
    if new_meta != meta or new_body != body:
        atomic_write(path, render_front_matter(new_meta, new_body))
    return notes


def scrub_expert(ws: Workspace, slug: str, names: list[str]) -> list[str]:
    """Take the expert out of every pack.md and reviews.yaml. One line per change."""
    reviewer = re.compile(rf"(\breviewer\s*:\s*){re.escape(slug)}\b", re.IGNORECASE)
    notes: list[str] = []
    for path in _pack_files(ws):
        where = path.relative_to(ws.root)

        def edit(meta: dict, body: str, where=where) -> tuple[dict, str, list[str]]:
            said = []
            listed = meta.get("experts")
            if isinstance(listed, list) and slug in [str(e) for e in listed]:
                meta["experts"] = [e for e in listed if str(e) != slug]
                said.append(f"{where}: took {slug} out of experts:")
            body, count = reviewer.subn(rf"\g<1>{UNASSIGNED}", body)
            if count:
                said.append(
                    f"{where}: {count} checkpoint(s) had {slug} as reviewer, now "
                    f"'reviewer: {UNASSIGNED}': name another"
                )
            still = _lines_naming(body, [n for n in names if n])
            if still:
                said.append(
                    f"{where}: the coach's text still names them on line(s) "
                    f"{', '.join(map(str, still))} of the body: edit by hand"
                )
            return meta, body, said

        notes += _rewrite(path, edit)
        notes += _scrub_reviews(path.parent / REVIEWS_FILE, ws, names)
    return notes


def _lines_naming(body: str, names: list[str]) -> list[int]:
    lowered = [n.lower() for n in names]
    return [
        n for n, line in enumerate(body.splitlines(), 1) if any(x in line.lower() for x in lowered)
    ]


def _scrub_reviews(path: Path, ws: Workspace, names: list[str]) -> list[str]:
    if path.is_symlink():
        return [f"not followed (a symbolic link; check it by hand): {path.relative_to(ws.root)}"]
    if not path.is_file():
        return []
    try:
        data = validation.load_yaml(path.read_text(encoding="utf-8")) or []
    except (yaml.YAMLError, UnicodeDecodeError):
        return [f"{path.relative_to(ws.root)}: unreadable; check it for the expert by hand"]
    if not isinstance(data, list):
        return []
    changed = 0
    for entry in data:
        if isinstance(entry, dict) and str(entry.get("by", "")) in names:
            entry["by"] = FORGOTTEN
            changed += 1
    if not changed:
        return []
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    atomic_write(path, text)
    return [
        f"{path.relative_to(ws.root)}: {changed} review(s) by them now say by: {FORGOTTEN} "
        "(outcomes kept)"
    ]


def scrub_sessions(ws: Workspace, gone: list[str]) -> list[str]:
    """Drop `session: ID` (and its `step:`) from items that cite a forgotten session."""
    if not gone:
        return []
    alternatives = "|".join(re.escape(s) for s in gone)
    trailer = re.compile(
        rf"[ \t]*\([^()\n]*\bsession\s*:\s*(?:{alternatives})\b[^()\n]*\)[ \t]*$",
        re.IGNORECASE | re.MULTILINE,
    )
    notes: list[str] = []
    for path in _pack_files(ws):
        where = path.relative_to(ws.root)

        def edit(meta: dict, body: str, where=where) -> tuple[dict, str, list[str]]:
            body, count = trailer.subn("", body)
            said = [f"{where}: removed {count} reference(s) to forgotten sessions"] if count else []
            return meta, body, said

        notes += _rewrite(path, edit)
    return notes


def remove_bundles(ws: Workspace, gone: list[str]) -> list[str]:
    """Remove every bundle (folder and .zip) that quotes a forgotten session, or whose manifest
    cannot be read; say that copies already handed out are out of reach."""
    import shutil

    from tacit.packs import bundle

    if not gone:
        return []
    notes: list[str] = []
    for build_dir in sorted(ws.packs_dir.glob("*/build")):
        if build_dir.is_symlink() or not build_dir.is_dir():
            continue
        name = bundle.folder_name(build_dir.parent.name)
        folder, archive = build_dir / name, build_dir / f"{name}.zip"
        partial = build_dir / f".{name}.partial"  # a bundle cut short: clips and all
        if partial.is_dir() and not partial.is_symlink():
            shutil.rmtree(partial)
        if not folder.exists() and not archive.exists():
            continue
        manifest = bundle.read_manifest(folder, archive)
        quoted = set(manifest.get("sessions") or []) if manifest else None
        if quoted is not None and not quoted & set(gone):
            continue
        for path in (folder, archive):
            if path.is_symlink():
                notes.append(f"not followed (a symbolic link; check it by hand): {path}")
            elif path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        where = folder.relative_to(ws.root)
        notes.append(
            f"removed the bundle {where} and its .zip: it quoted what was forgotten. Copies "
            "already handed out are out of reach: ask for them back and delete them"
        )
    return notes
