"""The start notebook in a real browser: JupyterLab headless on a free loopback port, Debian's Chromium
driven by Playwright, all cells run; the access gate, a search with rows and a folium map with markers
must render. A screenshot is kept in test-artifacts/."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
# Chromium as root needs --no-sandbox; the rest stop background traffic on a closed network.
CHROMIUM_FLAGS = ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-default-apps", "--disable-dev-shm-usage"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture()
def jupyterlab(tmp_path):
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed: apt-get install -y chromium chromium-driver (./setup.sh does)")
    shutil.copy(ROOT / "notebooks" / "00_start_here.ipynb", tmp_path / "00_start_here.ipynb")
    # Keep every cell in the page (JupyterLab 4 otherwise drops cells scrolled out of view) and no news popup.
    settings = tmp_path / "lab-settings"
    (settings / "@jupyterlab" / "notebook-extension").mkdir(parents=True)
    (settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        '{"windowingMode": "none"}')
    (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True)
    (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false", "checkForUpdates": false}')
    port, token = free_port(), secrets.token_hex(16)
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}",
         f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         *(["--allow-root"] if os.geteuid() == 0 else [])],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg")})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited: {server.stdout.read().decode(errors='replace')[-2000:]}")
            time.sleep(0.5)
    else:
        server.kill()
        pytest.fail("JupyterLab did not start within 90 s")
    yield f"{base}/lab/tree/00_start_here.ipynb?token={token}"
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


@pytest.mark.slow
def test_start_notebook_runs_in_chromium(jupyterlab):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        console: list[str] = []
        page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
        try:
            page.goto(jupyterlab, timeout=120_000)
            page.wait_for_selector(".jp-Notebook", timeout=120_000)
            try:  # a fresh workspace may ask which kernel to start
                page.click(".jp-Dialog button:has-text('Select')", timeout=20_000)
            except PlaywrightTimeout:
                pass
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
            page.click("text=Run", timeout=30_000)
            page.click("text=Run All Cells", timeout=30_000)
            page.wait_for_selector(".workbench-access-gate", timeout=240_000)
            page.wait_for_selector(".workbench-case-open", timeout=240_000)
            count = page.wait_for_selector(".workbench-plate-search .workbench-result-count", timeout=240_000)
            rows = int(count.inner_text().split()[0])
            # The search widget's folium map draws its markers inside its own frame.
            page.wait_for_selector("iframe.workbench-map", timeout=120_000)
            map_frame = next(frame for frame in page.frames if frame.parent_frame and frame != page.main_frame
                             and frame.query_selector(".leaflet-container"))
            # Reads are clusters or blue circle markers (the grey paths are the offline street layer).
            read_markers = ".marker-cluster, path.leaflet-interactive[stroke='#2a81cb']"
            map_frame.wait_for_selector(read_markers, state="attached", timeout=60_000)
            markers = len(map_frame.query_selector_all(read_markers))
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=300_000)
            errors = page.query_selector_all(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
            tracebacks = [e.inner_text() for e in errors if "Traceback" in e.inner_text() or "Error" in e.inner_text()]
        except PlaywrightTimeout:
            print("\n".join(line for line in console if "error" in line.lower() or "widget" in line.lower())[-4000:])
            raise
        finally:
            page.screenshot(path=str(ARTIFACTS / "browser-00_start_here.png"), full_page=False)
            browser.close()
    assert rows > 0
    assert markers > 0
    assert not tracebacks, tracebacks[0][:2000]
