"""Durable, private writes and YAML front matter: the only way tacit writes a record."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import yaml

from tacit.core import validation
from tacit.core.errors import FrontMatterError, UnsafeName

FILE_MODE = 0o600
DIR_MODE = 0o700
KB_MARKER = "tacit.toml"


def _kb_root_above(path: Path) -> Path | None:
    """The nearest folder above path (as written, links not resolved) that holds tacit.toml."""
    for folder in Path(path).parents:
        if (folder / KB_MARKER).is_file():
            return folder
    return None


def refuse_links(path: Path, root: Path | None = None) -> Path:
    """Refuse a path inside a knowledge base that passes through a symbolic link.

    Every folder between the KB root and path (and path itself) must be a real folder or
    file: a link there would send a write, read or delete out of the KB. root defaults to
    the nearest folder above path holding tacit.toml; a path in no KB is returned as is
    (the user named that place, e.g. `export -o FILE`)."""
    path = Path(path)
    root = root if root is not None else _kb_root_above(path)
    if root is None:
        return path
    try:
        rel = path.relative_to(root)
    except ValueError:
        return path
    if ".." in rel.parts:
        raise UnsafeName(f"{path}: leaves the knowledge base at {root}")
    here = Path(root)
    for part in rel.parts:
        here = here / part
        if here.is_symlink():
            raise UnsafeName(
                f"{here} is a symbolic link; tacit does not read, write or delete through "
                "links inside a knowledge base (replace it with a real folder or file)"
            )
    return path


def inside(root: Path, path: Path, what: str = "path") -> Path:
    """path, when it lies inside root without passing through a link; else refused. For
    names that come from data (a record's media file), which must never lead out of the KB."""
    path = Path(path)
    try:
        path.relative_to(root)
    except ValueError:
        raise UnsafeName(f"{what} {str(path)!r} is outside the knowledge base {root}") from None
    return refuse_links(path, Path(root))


def ensure_dir(path: Path) -> Path:
    """Create a folder (and parents) with mode 0700."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[BinaryIO]:
    """Write to a temp file in the same folder, fsync, rename over the target.

    A crash at any moment leaves either the old file or the new one, never half of either.
    """
    path = refuse_links(Path(path))
    ensure_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def atomic_write(path: Path, data: str | bytes) -> None:
    """Replace a file's content durably (see _replacing); mode 0600."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with _replacing(path) as handle:
        handle.write(payload)


def copy_file(source: Path, target: Path) -> str:
    """Copy a (possibly large) file durably, mode 0600, hashing it on the way. Its sha256."""
    digest = hashlib.sha256()
    with _replacing(target) as out, open(source, "rb") as src:
        for block in iter(lambda: src.read(1 << 20), b""):
            digest.update(block)
            out.write(block)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def append_line(path: Path, line: str) -> None:
    """Append one line with a single write on an O_APPEND file (safe beside other appenders)."""
    refuse_links(Path(path))
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, FILE_MODE)
    try:
        os.write(fd, (line.rstrip("\n") + "\n").encode("utf-8"))
    finally:
        os.close(fd)


_FENCE = re.compile(r"^---[ \t]*$", re.MULTILINE)


@dataclass(frozen=True)
class FrontMatter:
    """A Markdown file's YAML front matter and body, with the line of every value in it."""

    meta: dict[str, Any]
    body: str
    raw: str = ""  # the YAML between the fences, which starts on the file's line 2

    @functools.cached_property
    def node(self) -> Any:
        """The composed YAML tree (marks of keys and values): made only when a line is asked."""
        return validation.compose_yaml(self.raw)

    def line_of(self, loc: Any) -> int | None:
        """The file line where the value at `loc` (keys and list indexes) is written."""
        return validation.line_of(self.node, loc, first_line=2)

    def key_lines(self) -> dict[str, int]:
        pairs = self.node.value if isinstance(self.node, yaml.MappingNode) else ()
        return {str(key.value): key.start_mark.line + 2 for key, _value in pairs}


def front_matter(text: str, source: Path | str) -> FrontMatter:
    """The one reader of front matter (sessions, experts, guides, packs). Errors name the file
    and the line, and carry the line (FrontMatterError.line) for readers that list problems."""

    def broken(line: int | None, what: str) -> FrontMatterError:
        at = f"line {line}: " if line else ""
        return FrontMatterError(f"{source}: {at}{what}", line=line)

    if not text.startswith("---"):
        raise broken(1, "no front matter (the file must start with ---)")
    closing = _FENCE.search(text, 3)
    if closing is None:
        raise broken(None, "front matter is not closed with a --- line")
    raw = text[text.index("\n") + 1 if "\n" in text else 3 : closing.start()]
    try:
        meta = validation.load_yaml(raw) or {}  # safe_load with aliases refused, depth bounded
    except yaml.YAMLError as exc:
        # where the broken construct starts helps more than where the parser gave up
        line, problem = validation.yaml_problem(exc, first_line=2)
        raise broken(line, f"broken front matter: {problem}") from None
    if not isinstance(meta, dict):
        raise broken(2, "front matter must be a mapping of keys to values")
    return FrontMatter(meta, text[closing.end() :].lstrip("\n"), raw)


def split_front_matter(text: str, source: Path | str) -> tuple[dict[str, Any], str]:
    """(front matter, body). Errors name the file and the line."""
    found = front_matter(text, source)
    return found.meta, found.body


def front_matter_of(path: Path) -> FrontMatter:
    """A file's front matter and body (see front_matter)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise FrontMatterError(f"{path}: not a UTF-8 text file") from None
    return front_matter(text, path)


def read_front_matter(path: Path) -> tuple[dict[str, Any], str]:
    found = front_matter_of(path)
    return found.meta, found.body


def render_front_matter(meta: dict[str, Any], body: str) -> str:
    dumped = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=100)
    return f"---\n{dumped}---\n\n{body.rstrip()}\n"


def write_front_matter(path: Path, meta: dict[str, Any], body: str) -> None:
    atomic_write(path, render_front_matter(meta, body))
