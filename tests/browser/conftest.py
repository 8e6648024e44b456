"""Headless Chromium (Debian's, driven by Playwright) against this site under pytest-django's
live server, the sandbox Graph API over HTTP and a real Celery worker.

Screenshots go to ``SCREENSHOT_DIR`` (default ``var/screenshots``); ``make screenshots`` writes
them into ``docs/screenshots``, which the documentation shows.
"""

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from apps.posts.tasks import publications_dispatch_due
from tests.conftest import ROOT, CeleryWorker

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make between
# browser steps are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these, Chromium keeps dialling Google on a machine with no internet.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


LAST_PAGES = ROOT / "var" / "screenshots"


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium is not at {CHROMIUM}: `make test` installs Debian's chromium package; "
            "or set CHROMIUM_PATH."
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def console(message, errors: list[str]) -> None:
    # A failed load is reported with its address by the "response" handler.
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        errors.append(f"console on {message.location.get('url')}: {message.text}")


@pytest.fixture
def new_page(chromium, live_server) -> Iterator[Callable[[], object]]:
    """Pages in fresh browser contexts (one per person), each failing the test on a JavaScript
    error or a Content-Security-Policy violation."""
    LAST_PAGES.mkdir(parents=True, exist_ok=True)
    contexts = []
    errors: list[str] = []

    def make() -> object:
        context = chromium.new_context(
            base_url=live_server.url, viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(20_000)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
        page.on("console", lambda msg: console(msg, errors))
        page.on(
            "response",
            lambda r: (
                errors.append(f"HTTP {r.status}: {r.request.method} {r.url}")
                if r.status >= 400
                else None
            ),
        )
        contexts.append(context)
        return page

    yield make
    # Where each person's page ended, for reading a failure.
    for number, context in enumerate(contexts, 1):
        for page in context.pages:
            page.screenshot(path=str(LAST_PAGES / f"last-page-{number}.png"), full_page=True)
        context.close()
    assert not errors, "\n".join(errors)


@pytest.fixture
def screenshot() -> Callable[[object, str], Path]:
    directory = Path(os.environ.get("SCREENSHOT_DIR") or ROOT / "var" / "screenshots")
    directory.mkdir(parents=True, exist_ok=True)

    def take(page: object, name: str, *, full_page: bool = True) -> Path:
        path = directory / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)  # type: ignore[attr-defined]
        return path

    return take


@pytest.fixture
def worker(live_server, settings, monkeypatch) -> Iterator[CeleryWorker]:
    """A real Celery worker on a private queue, sharing this test's media and serving site; the
    dispatch the web process queues on commit (after an approval) goes to that queue too."""
    queue = f"browser-{time.monotonic_ns()}"
    settings.PUBLIC_BASE_URL = live_server.url
    monkeypatch.setattr(
        publications_dispatch_due,
        "delay",
        lambda: publications_dispatch_due.apply_async(queue=queue),
    )
    process = CeleryWorker(
        queue, PUBLIC_BASE_URL=live_server.url, MEDIA_ROOT=str(settings.MEDIA_ROOT)
    ).start()
    yield process
    process.stop()
