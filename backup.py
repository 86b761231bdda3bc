"""tacit backup / restore: the plain files in a tar.gz, checked against recorded hashes."""

from __future__ import annotations

import io
import json
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

from tacit.errors import TacitError
from tacit.fileio import sha256_of
from tacit.workspace import Workspace

MANIFEST = "tacit-backup.json"
SKIP_TOP = {".tacit"}  # the cache: rebuilt by `tacit index`


@dataclass(frozen=True)
class BackupResult:
    archive: Path
    files: int
    bytes: int


def _plain_files(root: Path) -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(root):
        rel = Path(folder).relative_to(root)
        if rel == Path("."):
            dirs[:] = [d for d in dirs if d not in SKIP_TOP]
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink() and not name.endswith(".tmp"):
                found.append(path)
    return found


def backup(ws: Workspace, archive: Path) -> BackupResult:
    """Archive every plain file (not .tacit/) with a manifest of sha256 sums."""
    archive = Path(archive).expanduser().resolve()
    if ws.inside(archive):
        raise TacitError(f"{archive} is inside the knowledge base; write the backup elsewhere")
    files = _plain_files(ws.root)
    sums = {str(p.relative_to(ws.root)): sha256_of(p) for p in files}
    tmp = archive.with_name(f".{archive.name}.tmp")
    old_umask = os.umask(0o077)
    try:
        with tarfile.open(tmp, "w:gz") as tar:
            for path in files:
                tar.add(path, arcname=str(path.relative_to(ws.root)), recursive=False)
            data = json.dumps({"format": 1, "sha256": sums}, indent=1).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode = len(data), 0o600
            tar.addfile(info, io.BytesIO(data))
        os.replace(tmp, archive)
    finally:
        os.umask(old_umask)
        tmp.unlink(missing_ok=True)
    return BackupResult(archive, len(files), sum(p.stat().st_size for p in files))


def restore(archive: Path, target: Path) -> BackupResult:
    """Unpack into an empty or absent folder; refuse members that would land outside it."""
    archive, target = Path(archive).expanduser(), Path(target).expanduser().resolve()
    if not archive.is_file():
        raise TacitError(f"{archive}: no such backup file")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise TacitError(f"{target} must be an empty folder or not exist yet")
    os.umask(0o077)
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        with tarfile.open(archive, "r:*") as tar:
            tar.extractall(target, filter="data")
    except tarfile.FilterError as exc:
        raise TacitError(f"{archive}: refused an unsafe member: {exc}") from None
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise TacitError(f"{archive}: not a readable backup: {exc}") from None
    manifest = target / MANIFEST
    if not manifest.is_file():
        raise TacitError(f"{archive}: not a tacit backup (no {MANIFEST})")
    sums = json.loads(manifest.read_text())["sha256"]
    for rel, expected in sums.items():
        path = target / rel
        if not path.is_file() or sha256_of(path) != expected:
            raise TacitError(f"{archive}: {rel} is missing or damaged (sha256 differs)")
    manifest.unlink()
    _private(target)
    _check_media_hashes(target)
    return BackupResult(target, len(sums), sum((target / r).stat().st_size for r in sums))


def _private(root: Path) -> None:
    os.chmod(root, 0o700)
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            os.chmod(Path(folder) / name, 0o700)
        for name in files:
            os.chmod(Path(folder) / name, 0o600)


def _check_media_hashes(root: Path) -> None:
    """The sha256 that each session.md recorded for its media must still match."""
    from tacit.fileio import read_front_matter

    for session_md in sorted((root / "sessions").glob("*/session.md")):
        meta, _ = read_front_matter(session_md)
        for media in meta.get("media") or ():
            path = session_md.parent / str(media.get("file", ""))
            if path.is_file() and media.get("sha256") and sha256_of(path) != media["sha256"]:
                raise TacitError(f"{path}: recording differs from the sha256 in session.md")
