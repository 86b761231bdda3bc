"""The portable pack: `tacit pack build NAME --bundle` from a small real KB (real recordings made
by ffmpeg, the real embedding model, Chroma and BM25), unzipped elsewhere and opened in headless
Chromium, whose audio elements load and play each clip; `forget` removes the bundle."""

from __future__ import annotations

import json
import shutil
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from typer.testing import CliRunner

from tacit.core import workspace
from tacit.records import consent, experts
from tacit.records.sessions import Step
from tests.chromium import Browser
from tests.test_packs_kb import EXIT_TURNS, PRIVATE_TURNS, SECRET, _session

PACK = """---
role: Shift lead
protege: Ana Ruiz
mentor: Joe Bloggs
start: 2026-03-02
weeks: 3
experts: [maria-lopez]
---

# Onboarding: Shift lead

See [the notes](sessions/{exit}/notes.md) and [the vendor](https://example.com/chillers).

## Topics

- [week 1] How do I restart the cooling loop after a trip?
- [week 2] What should I look at first when the alarm panel floods?
- [week 2] How do you restart the cooling loop quickly?

## Observations to shadow

- [week 1] Watch Maria bleed the loop (session: {bleed})

## Checkpoints

- [week 2] restart: Restarts the loop on the simulator (reviewer: maria-lopez)
"""


def _cli(root: Path, *args: str):
    result = CliRunner().invoke(app(), ["--kb", str(root), *args])
    workspace.set_override(None)
    return result


def app():
    from tacit.cli import app as tacit_app

    return tacit_app


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    """A KB with an exit interview and an observation (consent given), and a session without
    consent to share; indexed, and the pack built with --bundle."""
    root = tmp_path_factory.mktemp("bundle-kb") / "kb"
    ws = workspace.init(root, "cooling plant")
    experts.add(ws, "Maria Lopez", role="Shift lead", topics=["cooling loop", "alarms"])
    given = consent.given("Maria Lopez", "onboarding packs")
    exit_session = _session(
        ws, "maria-lopez", "interview", "exit", EXIT_TURNS, "exit.wav", consent=given
    )
    (ws.session_dir(exit_session.id) / "notes.md").write_text("notes")
    unshared = _session(ws, "maria-lopez", "interview", "private", PRIVATE_TURNS, "private.wav")
    steps = (
        Step(1, 10.0, "Close the return valve", "A quarter turn only", "The valve seat sticks"),
        Step(2, 20.0, "Open the bleed screw", "Until the water runs clear", "", practise=True),
    )
    bleed = _session(
        ws, "maria-lopez", "observation", "bleed", None, "bleed.mp4", offset=5.0,
        task="Bleeding the cooling loop", steps=steps, consent=given,
    )  # fmt: skip
    pack_md = root / "packs" / "night-lead" / "pack.md"
    pack_md.parent.mkdir(mode=0o700)
    pack_md.write_text(PACK.replace("{bleed}", bleed.id).replace("{exit}", exit_session.id))
    assert _cli(root, "index").exit_code == 0
    built = _cli(root, "pack", "build", "night-lead", "--bundle")
    assert built.exit_code == 0, built.output
    build_dir = pack_md.parent / "build"
    return {
        "root": root,
        "build": build_dir,
        "folder": build_dir / "night-lead-bundle",
        "zip": build_dir / "night-lead-bundle.zip",
        "output": built.output,
        "exit": exit_session,
        "unshared": unshared,
        "bleed": bleed,
    }


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, value)

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src", "action", "poster", "data") and value is not None:
                self.refs.append((tag, name, value))


def _unzipped(bundled, tmp_path: Path) -> Path:
    """The .zip alone, copied to another folder and unzipped there: no KB around it."""
    elsewhere = tmp_path / "new-hire-laptop"
    elsewhere.mkdir()
    copy = elsewhere / bundled["zip"].name
    shutil.copy(bundled["zip"], copy)
    with zipfile.ZipFile(copy) as zf:
        zf.extractall(elsewhere)
    copy.unlink()
    return elsewhere / "night-lead-bundle"


def test_bundle_is_written_inside_the_kb_with_its_origin(bundled):
    folder, archive = bundled["folder"], bundled["zip"]
    assert folder.is_dir() and archive.is_file()
    assert folder.resolve().is_relative_to(bundled["root"].resolve())
    manifest = json.loads((folder / "bundle.json").read_text())
    assert manifest["kb"] == "cooling plant" and manifest["bundled"]
    assert manifest["pack"] == "night-lead"
    page = (folder / "index.html").read_text()
    assert "from the knowledge base “cooling plant”" in page
    assert manifest["bundled"] in page
    # only consented, unrestricted sessions: the one without consent stays in the KB
    assert bundled["unshared"].id not in manifest["sessions"]
    assert bundled["unshared"].id in manifest["left_out"]
    for path in folder.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    assert "left out 1 session(s) without consent" in bundled["output"]
    with zipfile.ZipFile(archive) as zf:
        names = set(zf.namelist())
    on_disk = {f"night-lead-bundle/{p.relative_to(folder).as_posix()}" for p in folder.rglob("*")}
    assert names == {n for n in on_disk if not n.endswith("/clips")}


def test_unzipped_bundle_links_nowhere_outside_itself(bundled, tmp_path):
    folder = _unzipped(bundled, tmp_path)
    parser = _Links()
    parser.feed((folder / "index.html").read_text())
    assert parser.refs
    for tag, _attr, value in parser.refs:
        parsed = urlparse(value)
        if parsed.scheme in ("http", "https"):
            continue
        assert not parsed.scheme and not parsed.netloc, value
        target = (folder / unquote(parsed.path)).resolve()
        assert target.is_relative_to(folder.resolve()) and target.is_file(), (tag, value)
    hrefs = [v for _t, a, v in parser.refs if a == "href"]
    assert "https://example.com/chillers" in hrefs  # http(s) stays
    assert not any("sessions/" in v for _t, _a, v in parser.refs)  # KB files are not linked
    assert "the notes" in (folder / "index.html").read_text()  # the words stay, as text


def test_each_clip_loads_and_plays_in_headless_chromium(bundled, tmp_path):
    folder = _unzipped(bundled, tmp_path)
    manifest = json.loads((folder / "bundle.json").read_text())
    clips = {c["file"]: c for c in manifest["clips"]}
    # the excerpts of two topics and the two observed steps, at least
    assert len(clips) >= 4
    assert {c["session"] for c in clips.values()} == {bundled["exit"].id, bundled["bleed"].id}
    for clip in clips.values():
        # a few seconds of context before the cited second, unless the recording starts there
        assert clip["start"] == pytest.approx(max(clip["cited"] - 3.0, 0.0), abs=0.01)
    page = (folder / "index.html").read_text()
    for file in clips:
        assert f'<audio controls preload="metadata" src="{file}"></audio>' in page
    check = """
    (async () => {
      const found = [];
      for (const audio of document.querySelectorAll('audio')) {
        if (audio.readyState < 1) {
          await new Promise((done) => {
            audio.addEventListener('loadedmetadata', done, {once: true});
            audio.addEventListener('error', done, {once: true});
            audio.load();
          });
        }
        let played = 0;
        if (!audio.error) {
          await audio.play();
          await new Promise((done) => {
            const seen = () => {
              if (audio.currentTime > 0) { audio.removeEventListener('timeupdate', seen); done(); }
            };
            audio.addEventListener('timeupdate', seen);
            seen();
          });
          played = audio.currentTime;
          audio.pause();
        }
        found.push({src: audio.getAttribute('src'), duration: audio.duration,
                    error: audio.error ? audio.error.code : null, played: played});
      }
      return found;
    })()
    """  # fmt: skip
    with Browser(tmp_path / "profile") as browser:
        session = browser.open((folder / "index.html").as_uri())
        found = browser.evaluate(session, check)
    assert {f["src"] for f in found} == set(clips)  # every clip has a player (some two)
    for media in found:
        assert media["error"] is None, media
        assert media["played"] > 0, media
        assert media["duration"] == pytest.approx(clips[media["src"]]["duration"], abs=0.1)


def test_forget_removes_a_bundle_quoting_the_forgotten_session(bundled, tmp_path):
    root = tmp_path / "kb-copy"
    shutil.copytree(bundled["root"], root, symlinks=True)
    folder = root / "packs" / "night-lead" / "build" / "night-lead-bundle"
    archive = folder.with_name("night-lead-bundle.zip")
    assert folder.is_dir() and archive.is_file()
    result = _cli(root, "forget", "--session", bundled["exit"].id, "--yes")
    assert result.exit_code == 0, result.output
    assert not folder.exists() and not archive.exists()
    assert "removed the bundle packs/night-lead/build/night-lead-bundle" in result.output
    assert "Copies already handed out are out of reach" in result.output


def test_forget_keeps_a_bundle_that_does_not_quote_the_session(bundled, tmp_path):
    root = tmp_path / "kb-copy"
    shutil.copytree(bundled["root"], root, symlinks=True)
    folder = root / "packs" / "night-lead" / "build" / "night-lead-bundle"
    result = _cli(root, "forget", "--session", bundled["unshared"].id, "--yes")
    assert result.exit_code == 0, result.output
    assert folder.is_dir() and folder.with_name("night-lead-bundle.zip").is_file()
