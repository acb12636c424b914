"""A real headless browser for tests: Chromium driven through the DevTools protocol, stdlib only.

``open_page(path)`` starts ``chromium --headless`` with ``--remote-debugging-port=0`` (Chromium
writes the port it chose into ``DevToolsActivePort`` in its profile folder), connects to the page
target over a minimal websocket client (text frames, client masking, fragmentation, ping), loads
the file, and lets the test evaluate JavaScript in it and read the network requests and console
or log entries the page caused. Chromium is found on PATH (Debian's ``chromium``); ``.ci/run``
installs it, and tests skip with the reason when it is absent.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

TIMEOUT = 60.0
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


class WebSocket:
    """Just enough of RFC 6455 for the DevTools protocol on localhost."""

    def __init__(self, url: str, timeout: float = TIMEOUT) -> None:
        assert url.startswith("ws://"), url
        host_port, _, path = url[len("ws://") :].partition("/")
        host, _, port = host_port.partition(":")
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET /{path} HTTP/1.1\r\nHost: {host_port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("DevTools closed the connection during the handshake")
            response += chunk
        head, _, self.buffer = response.partition(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise ConnectionError(f"websocket handshake refused: {head[:200]!r}")

    def _read(self, count: int) -> bytes:
        while len(self.buffer) < count:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("DevTools closed the connection")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        header = bytes([0x80 | opcode])
        length = len(payload)
        if length < 126:
            header += bytes([0x80 | length])
        elif length < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack(">H", length)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", length)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def send(self, text: str) -> None:
        self._send_frame(0x1, text.encode())

    def receive(self) -> str:
        message = b""
        while True:
            first, second = self._read(2)
            fin, opcode = first & 0x80, first & 0x0F
            length = second & 0x7F
            if length == 126:
                (length,) = struct.unpack(">H", self._read(2))
            elif length == 127:
                (length,) = struct.unpack(">Q", self._read(8))
            mask = self._read(4) if second & 0x80 else b""
            payload = self._read(length)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x9:  # ping
                self._send_frame(0xA, payload)
                continue
            if opcode == 0x8:
                raise ConnectionError("DevTools closed the websocket")
            message += payload
            if fin:
                return message.decode()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._send_frame(0x8, b"")
        self.sock.close()


class Page:
    """One browser tab: DevTools commands, and the events seen so far."""

    def __init__(self, socket_: WebSocket) -> None:
        self.ws = socket_
        self.events: list[dict[str, Any]] = []
        self._next = 0

    def command(self, method: str, **params: Any) -> dict[str, Any]:
        self._next += 1
        ident = self._next
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.receive())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            if "method" in message:
                self.events.append(message)

    def wait_for(self, event: str, timeout: float = TIMEOUT) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        for seen in self.events:
            if seen["method"] == event:
                return seen
        while time.monotonic() < deadline:
            message = json.loads(self.ws.receive())
            if "method" in message:
                self.events.append(message)
                if message["method"] == event:
                    return message
        raise TimeoutError(event)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (promises awaited), as JSON-able Python."""
        result = self.command("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def requested_urls(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events if e["method"] == "Network.requestWillBeSent"]

    def log_entries(self) -> list[dict[str, Any]]:
        """Browser log entries (CSP violations, failed loads) and console calls."""
        entries = [e["params"]["entry"] for e in self.events if e["method"] == "Log.entryAdded"]
        entries += [e["params"] for e in self.events if e["method"] == "Runtime.consoleAPICalled"]
        return entries


@contextmanager
def open_page(path: Path, profile: Path, executable: str) -> Iterator[Page]:
    """Load ``path`` (a local file) in a fresh headless Chromium; yield the page once it loaded."""
    profile.mkdir(parents=True, exist_ok=True)
    argv = [
        executable,
        "--headless",
        "--no-sandbox",  # tests may run as root in a container
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-breakpad",
        "--disable-crash-reporter",
        "--no-first-run",
        "--no-default-browser-check",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile}",
        "about:blank",
    ]
    log = profile / "chromium-stderr.log"  # a file, not a pipe: a full pipe would stall the browser
    with log.open("w") as stderr:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
    ws: WebSocket | None = None
    port = 0
    browser_path = ""
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + TIMEOUT
        while not (port_file.is_file() and port_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"chromium did not start: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.1)
        port_text, browser_path = port_file.read_text().split()[:2]
        port = int(port_text)
        targets: list[dict[str, Any]] = []
        while not any(t.get("type") == "page" for t in targets):
            if time.monotonic() > deadline:
                raise RuntimeError("chromium opened no page")
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
                targets = json.loads(answer.read())
            time.sleep(0.05)
        target = next(t for t in targets if t.get("type") == "page")
        ws = WebSocket(target["webSocketDebuggerUrl"])
        page = Page(ws)
        for domain in ("Page", "Network", "Log", "Runtime"):
            page.command(f"{domain}.enable")
        page.command("Page.navigate", url=path.resolve().as_uri())
        page.wait_for("Page.loadEventFired")
        yield page
    finally:
        if ws is not None:
            ws.close()
        _shut_down(proc, port, browser_path)


def _shut_down(proc: subprocess.Popen[bytes], port: int, browser_path: str) -> None:
    """Close the browser the DevTools way (it ends and reaps its helper processes); signals only as
    a fallback, and then to the process group of this browser alone (its own session)."""
    if port and browser_path:
        with contextlib.suppress(OSError, ConnectionError):
            browser = WebSocket(f"ws://127.0.0.1:{port}{browser_path}", timeout=10)
            browser.send(json.dumps({"id": 1, "method": "Browser.close"}))
            browser.sock.close()
    try:
        proc.wait(timeout=20)
        return
    except subprocess.TimeoutExpired:
        pass
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
