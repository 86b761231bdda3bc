"""Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe):
open a page, wait for its load event, evaluate an expression and await its promise, take a
screenshot of part of it. Waiting is on events the browser sends, never on sleeps. Standard
library only: the tests and `make docs` (docs/screenshots.py) use it."""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import subprocess
from pathlib import Path
from typing import Any

HANG_GUARD_S = 120

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps",
    "--mute-audio", "--autoplay-policy=no-user-gesture-required", "--remote-debugging-pipe",
]  # fmt: skip


class Browser:
    def __init__(self, profile: Path):
        binary = shutil.which("chromium")
        if binary is None:
            raise RuntimeError("chromium is not installed; run `make setup`")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def on_fds_3_and_4() -> None:  # the pipe's ends where Chromium expects them
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser_r, from_browser_w)]
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        self.proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            pass_fds=(3, 4),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=on_fds_3_and_4,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next = 0
        self.events: list[dict] = []

    def _send(self, method: str, params: dict | None = None, session: str | None = None) -> int:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        return self._next

    def _read(self) -> dict:
        while b"\0" not in self._buffer:
            # a guard against a hung browser, not a measure: every wait is on an event
            ready, _, _ = select.select([self._from_browser], [], [], HANG_GUARD_S)
            if not ready:
                raise RuntimeError(f"chromium sent nothing for {HANG_GUARD_S} s")
            chunk = os.read(self._from_browser, 65536)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        sent = self._send(method, params, session)
        while True:
            message = self._read()
            if message.get("id") == sent:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_event(self, method: str, session: str) -> dict:
        for n, event in enumerate(self.events):
            if event.get("method") == method and event.get("sessionId") == session:
                return self.events.pop(n)
        while True:
            message = self._read()
            if message.get("method") == method and message.get("sessionId") == session:
                return message
            self.events.append(message)

    def open(self, url: str) -> str:
        """A new tab at url, loaded (its load event fired); returns the session id."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        self.call("Page.enable", session=session)
        self.call("Page.navigate", {"url": url}, session=session)
        self.wait_event("Page.loadEventFired", session)
        return session

    def evaluate(self, session: str, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
            session=session,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"page error: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, session: str, clip: dict) -> bytes:
        """A PNG of the page's region clip (x, y, width, height in CSS pixels)."""
        import base64

        # a viewport as tall as the page, so that the clip's document coordinates are its own
        height = self.evaluate(session, "document.documentElement.scrollHeight")
        metrics = {"width": 1000, "height": int(height), "deviceScaleFactor": 1, "mobile": False}
        self.call("Emulation.setDeviceMetricsOverride", metrics, session=session)
        self.call("Runtime.evaluate", {"expression": "window.scrollTo(0, 0)"}, session=session)
        shot = self.call(
            "Page.captureScreenshot",
            {"format": "png", "clip": {**clip, "scale": 1}},
            session=session,
        )
        return base64.b64decode(shot["data"])

    def close(self) -> None:
        try:
            self._send("Browser.close")
            self.proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        finally:
            os.close(self._to_browser)
            os.close(self._from_browser)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
