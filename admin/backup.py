"""tacit backup / restore: the plain files in a tar.gz, checked against recorded hashes."""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from tacit.core import faults
from tacit.core.errors import TacitError
from tacit.core.fileio import sha256_of
from tacit.core.workspace import Workspace

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


RESTORING_MARK = "tacit-restore-incomplete"  # inside a folder still being restored


def restore(archive: Path, target: Path) -> BackupResult:
    """Unpack into a temporary sibling of target, verify every hash, then rename it into
    place. A refusal or a kill leaves no target behind (a kill leaves the sibling, marked
    incomplete, which the next restore into the same target removes)."""
    archive, target = Path(archive).expanduser(), Path(target).expanduser().absolute()
    if not archive.is_file():
        raise TacitError(f"{archive}: no such backup file")
    if target.is_symlink() or (target.exists() and (not target.is_dir() or any(target.iterdir()))):
        raise TacitError(f"{target} must be an empty folder or not exist yet")
    os.umask(0o077)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    for stale in target.parent.glob(f".{target.name}.restoring-*"):
        if (stale / RESTORING_MARK).is_file() and not stale.is_symlink():
            shutil.rmtree(stale)  # a restore that was killed
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.restoring-", dir=target.parent))
    try:
        (staging / RESTORING_MARK).write_text("a restore is writing this folder\n")
        sums = _unpack(archive, staging)
        faults.point("restore:after-unpack")
        (staging / RESTORING_MARK).unlink()
        _private(staging)
        if target.exists():
            target.rmdir()  # empty, checked above
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return BackupResult(target, len(sums), sum((target / r).stat().st_size for r in sums))


def _member_filter(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo:
    if not (member.isfile() or member.isdir()):
        raise tarfile.FilterError(f"{member.name!r} is a link or a special file")
    return tarfile.data_filter(member, dest)


def _unpack(archive: Path, staging: Path) -> dict[str, str]:
    """Check the members against the manifest, extract, check every hash.
    Returns {relative path: sha256}."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            for member in members:
                _member_filter(member, str(staging))  # refuse before writing anything
            sums = _manifest(archive, _read_manifest(archive, tar, members))
            unlisted = [
                m.name for m in members if m.isfile() and m.name not in sums and m.name != MANIFEST
            ]
            if unlisted:
                raise TacitError(f"{archive}: {unlisted[0]} is not in the backup's manifest")
            wanted = sum(m.size for m in members if m.isfile())
            free = shutil.disk_usage(staging).free
            if wanted > free:
                raise TacitError(
                    f"{archive}: unpacks to {wanted / 1e9:.1f} GB, more than the "
                    f"{free / 1e9:.1f} GB free at {staging.parent}"
                )
            tar.extractall(staging, members=members, filter=_member_filter)
    except tarfile.FilterError as exc:
        raise TacitError(f"{archive}: refused an unsafe member: {exc}") from None
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise TacitError(f"{archive}: not a readable backup: {exc}") from None
    for rel, expected in sums.items():
        path = staging / rel
        if not path.is_file() or sha256_of(path) != expected:
            raise TacitError(f"{archive}: {rel} is missing or damaged (sha256 differs)")
    (staging / MANIFEST).unlink(missing_ok=True)
    _check_media_hashes(staging)
    return sums


def _read_manifest(archive: Path, tar: tarfile.TarFile, members: list) -> bytes:
    found = [m for m in members if m.name == MANIFEST and m.isfile()]
    if not found:
        raise TacitError(f"{archive}: not a tacit backup (no {MANIFEST})")
    if found[-1].size > 64 << 20:
        raise TacitError(f"{archive}: {MANIFEST} is damaged: far too large")
    handle = tar.extractfile(found[-1])
    return handle.read() if handle is not None else b""


def _manifest(archive: Path, raw: bytes) -> dict[str, str]:
    """The sha256 list of tacit-backup.json; each malformed shape is one clear line."""
    bad = f"{archive}: {MANIFEST} is damaged"
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise TacitError(f"{bad}: not JSON ({exc})"[:300]) from None
    if not isinstance(data, dict):
        raise TacitError(f"{bad}: must be a JSON object, not {type(data).__name__}")
    if data.get("format") != 1:
        raise TacitError(f"{bad}: unknown format {data.get('format')!r} (this tacit reads 1)")
    sums = data.get("sha256")
    if not isinstance(sums, dict):
        raise TacitError(f"{bad}: 'sha256' must map each file to its hash")
    for rel, digest in sums.items():
        if not isinstance(digest, str) or len(digest) != 64:
            raise TacitError(f"{bad}: the hash of {rel!r} is not a sha256")
        parts = Path(rel).parts
        if not parts or Path(rel).is_absolute() or ".." in parts or rel == MANIFEST:
            raise TacitError(f"{bad}: {rel!r} is not a path inside the backup")
    return sums


def _private(root: Path) -> None:
    os.chmod(root, 0o700)
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            os.chmod(Path(folder) / name, 0o700)
        for name in files:
            os.chmod(Path(folder) / name, 0o600)


def _check_media_hashes(root: Path) -> None:
    """The sha256 that each session.md recorded for its media must still match."""
    from tacit.core.fileio import read_front_matter

    for session_md in sorted((root / "sessions").glob("*/session.md")):
        rel = session_md.relative_to(root)
        try:
            meta, _ = read_front_matter(session_md)
        except TacitError as exc:
            raise TacitError(f"{rel}: {exc.message.split(': ', 1)[-1]}") from None
        listed = meta.get("media") or ()
        for media in listed if isinstance(listed, list) else ():
            if not isinstance(media, dict):
                continue
            path = (session_md.parent / str(media.get("file", ""))).resolve()
            if not path.is_relative_to(session_md.parent.resolve()):
                raise TacitError(f"{rel}: media file {media.get('file')!r} leaves its folder")
            if path.is_file() and media.get("sha256") and sha256_of(path) != media["sha256"]:
                raise TacitError(
                    f"{path.relative_to(root)}: recording differs from the sha256 in session.md"
                )
