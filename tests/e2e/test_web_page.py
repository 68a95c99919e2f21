"""The web page in a real Chromium against the real service, as a teacher would use it.

The module starts `vividly serve` on a free port with a fresh VIVIDLY_HOME and an API key made
by `vividly keys create`. Set VIVIDLY_E2E_URL (and VIVIDLY_E2E_API_KEY if it needs one) to run
the same tests against a service that is already running instead.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from vividly_ray.domain.status import PIPELINE as STATUSES

REPO_ROOT = Path(__file__).resolve().parents[2]
VIVIDLY = REPO_ROOT / ".venv" / "bin" / "vividly"
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = REPO_ROOT / "docs" / "web-page.png"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
READY_TIMEOUT_S = 120
STOP_GRACE_S = 20
TERMINAL = ("completed", "failed", "cancelled")
PIPELINE = tuple(status.value for status in STATUSES)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"needs Chromium at {CHROMIUM}"),
]

sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright Python package")

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

# Request ids made by the first two tests, for the recent-requests test.
CREATED: dict[str, str] = {}


@dataclass(frozen=True)
class Service:
    url: str
    api_key: str


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _status_of(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            code: int = response.status
            return code
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return None


def _tail(path: Path, chars: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    external = os.environ.get("VIVIDLY_E2E_URL")
    if external:
        yield Service(external.rstrip("/"), os.environ.get("VIVIDLY_E2E_API_KEY", ""))
        return

    home = tmp_path_factory.mktemp("vividly-e2e-home")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "RAY_ADDRESS")}
    env.update(VIVIDLY_HOME=str(home), RAY_AUTH_MODE="disabled", VIVIDLY_RAY_NUM_CPUS="2")

    created = subprocess.run(
        [str(VIVIDLY), "keys", "create", "--org", "test-org"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=120,
    )
    assert created.returncode == 0, created.stderr[-3000:]
    match = re.search(r"^\s*key:\s*(\S+)\s*$", created.stdout, re.MULTILINE)
    assert match, f"no 'key: <KEY>' line in the output of keys create: {created.stdout!r}"

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = home / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(VIVIDLY), "serve", "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=REPO_ROOT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while _status_of(f"{url}/readyz") != 200:
            if process.poll() is not None:
                pytest.fail(f"vividly serve exited with {process.returncode}:\n{_tail(log_path)}")
            if time.monotonic() > deadline:
                pytest.fail(
                    f"/readyz did not answer 200 within {READY_TIMEOUT_S} s:\n{_tail(log_path)}"
                )
            time.sleep(0.5)
        yield Service(url, match.group(1))
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(30_000)
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield opened
    finally:
        context.close()
    assert not errors, f"the page raised: {errors}"


def _open_app(page: Page, service: Service) -> None:
    page.goto(service.url + "/")
    page.wait_for_selector("body[data-ready='true']", state="attached")
    auth = page.evaluate("document.body.dataset.auth")
    if auth == "required":
        sync_api.expect(page.locator("#auth-warning")).to_be_hidden()
        sync_api.expect(page.locator("#api-key")).to_be_visible()
        assert page.get_attribute("#api-key", "type") == "password"
        page.fill("#api-key", service.api_key)
    else:
        sync_api.expect(page.locator("#auth-warning")).to_be_visible()
        sync_api.expect(page.locator("#auth-warning")).to_contain_text(
            "Authentication is OFF (local development mode)"
        )
        sync_api.expect(page.locator("#api-key")).to_be_hidden()


def _submit(page: Page, question: str, grade: str, minutes: int) -> str:
    before = page.evaluate("document.body.dataset.requestId || ''")
    page.fill("#question", question)
    page.select_option("#grade", grade)
    page.fill("#minutes", str(minutes))
    page.click("#submit")
    page.wait_for_function(
        "before => (document.body.dataset.requestId || '') !== before"
        " || !document.querySelector('#form-error').hidden",
        arg=before,
    )
    request_id: str = page.evaluate("document.body.dataset.requestId || ''")
    assert request_id and request_id != before, page.inner_text("#form-error")
    return request_id


def _status(page: Page) -> str:
    status: str = page.evaluate("document.body.dataset.status || ''")
    return status


def _wait_for_any(page: Page, statuses: tuple[str, ...], timeout_s: float) -> str:
    page.wait_for_function(
        "wanted => wanted.includes(document.body.dataset.status)",
        arg=list(statuses),
        timeout=timeout_s * 1000,
    )
    return _status(page)


def _explain(page: Page) -> str:
    parts = {
        "status": _status(page),
        "stage": page.inner_text("#stage"),
        "notice": page.inner_text("#notice"),
        "error": page.inner_text("#error") if page.is_visible("#error") else "",
    }
    return json.dumps(parts)


def test_a_question_becomes_a_captioned_video_that_plays(page: Page, service: Service) -> None:
    _open_app(page, service)
    CREATED["completed"] = _submit(page, "Explain the water cycle", "5", 1)

    final = _wait_for_any(page, TERMINAL, 240)
    assert final == "completed", _explain(page)

    assert page.eval_on_selector("#progress", "bar => bar.value") == 100
    track: dict[str, Any] = page.evaluate(
        """() => {
            const t = document.querySelector('#player track');
            return t && {kind: t.kind, srclang: t.srclang, label: t.label,
                         isDefault: t.default, src: t.src, mode: t.track.mode};
        }"""
    )
    assert track, "the video has no <track>"
    assert track["kind"] == "captions" and track["srclang"] == "en" and track["isDefault"]
    assert "captions.vtt" in track["src"]
    assert track["mode"] == "showing"

    chapters = page.locator("#chapters button")
    assert chapters.count() >= 3, page.inner_text("#chapters")

    downloads: list[str] = page.eval_on_selector_all(
        "#downloads a[href]", "links => links.map(a => a.getAttribute('download'))"
    )
    assert {"video.mp4", "captions.vtt"} <= set(downloads), downloads
    poster = page.get_attribute("#player", "poster") or ""
    assert "thumbnail.jpg" in poster

    page.evaluate(
        """async () => {
            const video = document.querySelector('#player');
            video.muted = true;
            await video.play();
        }"""
    )
    page.wait_for_function("document.querySelector('#player').currentTime > 0.5", timeout=15_000)
    page.evaluate("document.querySelector('#player').pause()")

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)


def test_an_unclear_question_asks_then_can_be_cancelled(page: Page, service: Service) -> None:
    _open_app(page, service)
    CREATED["cancelled"] = _submit(page, "explain it", "5", 1)

    first = _wait_for_any(page, ("clarification_needed", *TERMINAL), 120)
    assert first == "clarification_needed", _explain(page)
    questions = page.locator("#clarify li")
    sync_api.expect(page.locator("#clarify")).to_be_visible()
    assert questions.count() >= 1
    assert questions.first.inner_text().strip()

    page.fill("#answer", "photosynthesis in plants")
    page.click("#answer-submit")
    page.wait_for_function(
        "(s => Boolean(s) && s !== 'clarification_needed')(document.body.dataset.status)",
        timeout=60_000,
    )
    assert _status(page) in PIPELINE, _explain(page)

    sync_api.expect(page.locator("#cancel")).to_be_visible()
    page.click("#cancel")
    final = _wait_for_any(page, TERMINAL, 120)
    assert final == "cancelled", _explain(page)


def test_recent_requests_lists_both_and_reopens_a_video(page: Page, service: Service) -> None:
    if set(CREATED) != {"completed", "cancelled"}:
        pytest.skip("needs the requests made by the two tests above")
    _open_app(page, service)

    recent = page.locator("#recent")
    for status, request_id in CREATED.items():
        item = recent.locator(f"li[data-id='{request_id}']")
        sync_api.expect(item).to_be_visible()
        sync_api.expect(item).to_have_attribute("data-status", status)

    recent.locator(f"li[data-id='{CREATED['completed']}'] button").click()
    assert _wait_for_any(page, TERMINAL, 60) == "completed", _explain(page)
    sync_api.expect(page.locator("#player")).to_have_attribute("src", re.compile("video.mp4"))
    assert page.locator("#chapters button").count() >= 3


def test_finished_scenes_play_while_the_rest_renders(page: Page, service: Service) -> None:
    _open_app(page, service)
    _submit(page, "How do volcanoes erupt?", "6", 3)

    # The page's status at the moment the live stream first had picture to play, kept in the
    # page so that no poll in between can miss it.
    page.wait_for_function(
        """terminal => {
            const video = document.querySelector('#player');
            const buffered = video.buffered.length ? video.buffered.end(0) : 0;
            if (document.body.dataset.stream === 'live' && buffered > 1 && !window.liveAt) {
                window.liveAt = {status: document.body.dataset.status, buffered: buffered};
            }
            return Boolean(window.liveAt) || terminal.includes(document.body.dataset.status);
        }""",
        arg=list(TERMINAL),
        timeout=240_000,
    )
    live: dict[str, Any] | None = page.evaluate("window.liveAt || null")
    assert live, f"the stream never played before the request ended: {_explain(page)}"
    assert live["status"] in ("generating_video", "processing_video", "notifying"), live

    # It really plays: the picture advances while the rest of the video is still being made.
    page.evaluate(
        """async () => {
            const video = document.querySelector('#player');
            video.muted = true;
            await video.play();
        }"""
    )
    page.wait_for_function(
        "document.querySelector('#player').currentTime > 0.3 || "
        "document.body.dataset.status === 'completed'",
        timeout=30_000,
    )
    assert page.evaluate("document.querySelector('#player').error") is None

    final = _wait_for_any(page, TERMINAL, 240)
    assert final == "completed", _explain(page)
    # Once complete, the delivered MP4 takes over from the stream.
    page.wait_for_function(
        "(document.querySelector('#player').currentSrc || '').includes('video.mp4')",
        timeout=30_000,
    )
    assert page.evaluate("document.body.dataset.stream || ''") == ""
