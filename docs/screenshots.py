"""`make docs`: the README's screenshots, taken by headless Chromium from real output.

A copy of the demo knowledge base (`make demo` makes it; $TACIT_DEMO_KB overrides) gets its
pack built with --bundle and the KM report written as HTML; the bundle's first cited topic, with
its audio players, and the report's opening figures are captured as PNGs in docs/images/.
The demo KB itself is not changed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KB = Path(os.environ.get("TACIT_DEMO_KB", REPO / "demo-kb"))
IMAGES = REPO / "docs" / "images"
PACK = "new-shift-lead"
TACIT = str(Path(sys.executable).with_name("tacit"))

# the page regions to capture: from the first element matching `start` to `height` below it
BUNDLE_REGION = """
(() => {
  const audio = document.querySelector('audio');
  let heading = audio;
  while (heading && heading.tagName !== 'H3') {
    heading = heading.previousElementSibling || heading.parentElement;
  }
  const top = heading.getBoundingClientRect().top + window.scrollY - 10;
  const body = document.body.getBoundingClientRect();
  return {x: body.x - 10, y: top, width: body.width + 20, height: 520};
})()
"""
REPORT_REGION = """
(() => {
  const first = document.querySelector('h1');
  const last = document.querySelector('svg.capture-timeline');
  const body = document.body.getBoundingClientRect();
  const top = first.getBoundingClientRect().top + window.scrollY - 10;
  const bottom = last.getBoundingClientRect().bottom + window.scrollY + 10;
  return {x: body.x - 10, y: top, width: body.width + 20, height: bottom - top};
})()
"""


def tacit(kb: Path, *args: str) -> str:
    done = subprocess.run([TACIT, "--kb", str(kb), *args], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"tacit {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def main() -> None:
    sys.path.insert(0, str(REPO))
    from tests.chromium import Browser

    if not (KB / "tacit.toml").is_file():
        sys.exit(f"no demo knowledge base at {KB}: run `make demo` first")
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tacit-shots-") as tmp:
        kb = Path(tmp) / "kb"
        shutil.copytree(KB, kb, symlinks=True)
        folder = Path(tacit(kb, "pack", "build", PACK, "--bundle").split()[-2])
        report = Path(tacit(kb, "report", "--html").split()[-1])
        with Browser(Path(tmp) / "profile") as browser:
            for page, region, name in (
                (folder / "index.html", BUNDLE_REGION, "bundle.png"),
                (report, REPORT_REGION, "km-report.png"),
            ):
                session = browser.open(page.as_uri())
                browser.screenshot(session, {"x": 0, "y": 0, "width": 1, "height": 1})
                clip = browser.evaluate(session, region)  # measured at the final width
                (IMAGES / name).write_bytes(browser.screenshot(session, clip))
                print(IMAGES / name)


if __name__ == "__main__":
    main()
