"""A minimal Chrome DevTools Protocol session over headless Chromium, for the browser tests.

Starts Debian's ``chromium`` with a throw-away profile and ``--remote-debugging-port=0``,
reads the DevTools websocket address from its stderr, and talks to one page target with the
``websockets`` synchronous client. Events are collected while commands run, so a test can
load a page and then inspect every network request, console message, exception and dialog.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from metaq.report.pdf import CHROMIUM_FLAGS

_DEVTOOLS = re.compile(r"DevTools listening on (ws://\S+)")


class BrowserPage:
    """One headless Chromium page driven over the DevTools protocol."""

    def __init__(self, profile: Path, *, width: int = 1280, height: int = 900,
                 timeout: float = 30.0) -> None:
        from websockets.sync.client import connect

        self.timeout = timeout
        self.events: list[dict[str, Any]] = []
        self._next_id = 0
        self._process = subprocess.Popen(
            [shutil.which("chromium") or "chromium", *CHROMIUM_FLAGS,
             f"--user-data-dir={profile}", "--remote-debugging-port=0",
             "--remote-allow-origins=*", f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        browser_url = self._wait_for_devtools()
        port = re.search(r":(\d+)/", browser_url).group(1)
        page = self._page_target(port)
        self._resources = ExitStack()
        self._socket = self._resources.enter_context(
            connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=timeout))

    def _wait_for_devtools(self) -> str:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            line = self._process.stderr.readline()
            found = _DEVTOOLS.search(line)
            if found:
                return found.group(1)
            if not line and self._process.poll() is not None:
                break
        raise RuntimeError("chromium did not report a DevTools address")

    def _page_target(self, port: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list") as response:
                pages = [t for t in json.load(response) if t["type"] == "page"]
            if pages:
                return pages[0]
            time.sleep(0.1)
        raise RuntimeError("chromium opened no page target")

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Run one DevTools command and return its result (events are kept meanwhile)."""
        self._next_id += 1
        self._socket.send(json.dumps({"id": self._next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv(timeout=self.timeout))
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, event: str) -> dict[str, Any]:
        """Block until `event` arrives (or was already collected) and return it."""
        for seen in self.events:
            if seen.get("method") == event:
                return seen
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            message = json.loads(self._socket.recv(timeout=self.timeout))
            self.events.append(message)
            if message.get("method") == event:
                return message
        raise TimeoutError(event)

    def open(self, url: str) -> None:
        """Enable the event domains, then load `url` and wait for its load event."""
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.send(f"{domain}.enable")
        self.send("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """Evaluate a JavaScript expression in the page and return its value."""
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def named(self, method: str) -> list[dict[str, Any]]:
        """The collected events called `method`."""
        return [e["params"] for e in self.events if e.get("method") == method]

    def screenshot(self, path: Path) -> Path:
        """Save a PNG of the full page."""
        data = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.write_bytes(base64.b64decode(data["data"]))
        return path

    def close(self) -> None:
        """Close the socket and end the browser process this page started."""
        self._resources.close()
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
        self._process.stderr.close()
