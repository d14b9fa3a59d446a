"""Helpers the browser and integration tests share: the web app in a subprocess on a free port, and Debian's
headless Chromium driven by Playwright. Not a test file."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT

ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(index_dir: Path, extra_env: dict[str, str] | None = None,
           extra_args: tuple[str, ...] = (), port: int | None = None) -> tuple[subprocess.Popen, str]:
    port = port or _free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", **(extra_env or {})}
    proc = subprocess.Popen([sys.executable, str(ROOT / "ui.py"), "--index", str(index_dir), "--port", str(port),
                             *extra_args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 180
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"ui.py exited: {proc.stdout.read() if proc.stdout else ''}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status in (200, 401):
                    return proc, url
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(1)
    proc.kill()
    raise RuntimeError("ui.py did not start within 180 s")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@contextlib.contextmanager
def _browser():  # type: ignore[no-untyped-def]
    """Debian's headless Chromium driven by Playwright, closed however the test ends."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"])
    try:
        yield browser
    finally:
        browser.close()
        pw.stop()
