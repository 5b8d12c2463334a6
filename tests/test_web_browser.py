"""The desk in a real browser: Debian's headless Chromium driven by Playwright, over the store
that `newsmon demo` builds (the real pipeline against the recorded outlets), served by
`newsmon web` in its own process. Screenshots go to the test's temporary directory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from extractors.records import Batch
from storage.db import Store
from tests.support.factories import make_article
from tests.support.processes import WAIT_S

# The module fixture runs the whole demo pipeline before the first test: on a busy machine that
# alone has taken minutes.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
CHROMIUM = Path("/usr/bin/chromium")
NEWSMON = Path(sys.executable).with_name("newsmon")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SCRIPT_TITLE = "<script>window.__pwned = 1</script>Hostile headline"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed (.ci/run installs Debian's chromium)")
        pytest.skip("needs Debian's chromium (apt-get install chromium)")
    tmp = tmp_path_factory.mktemp("desk")
    db = tmp / "demo.duckdb"
    env = {**os.environ, "PREFECT_HOME": str(tmp / "prefect"), "DO_NOT_TRACK": "1"}
    demo = subprocess.run(
        [str(NEWSMON), "demo", "--db", str(db), "--port", str(_free_port())],
        capture_output=True, text=True, timeout=WAIT_S, env=env, cwd=tmp,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
    assert f"newsmon web --db {db}" in demo.stdout  # the demo says how to open the desk
    store = Store(db)
    hostile = make_article(
        "https://hostile.example/x", outlet_id="hostile", title=SCRIPT_TITLE,
        text="A page whose title is markup. " * 40, fetched_at=datetime.now(UTC),
    )  # fmt: skip
    store.write(Batch(run_id="hostile", articles=[hostile]))
    store.update_search_index()
    port = _free_port()
    server = subprocess.Popen(
        [str(NEWSMON), "web", "--db", str(db), "--port", str(port)], env=env, cwd=tmp,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/static/style.css", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.fixture(scope="module")
def page(desk: str, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=FLAGS,
            viewport={"width": 1280, "height": 900},
        )  # fmt: skip
        page = context.new_page()
        page.set_default_timeout(30_000)
        yield page
        context.close()


def _shot(page, tmp_path: Path, name: str) -> None:  # noqa: ANN001
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000


def test_stories_page_lists_the_demo_stories(page, desk: str, tmp_path: Path) -> None:  # noqa: ANN001
    page.goto(desk + "/")
    headlines = page.locator("a.headline").all_inner_texts()
    assert "Moscow tries to mend fences with Baku" in headlines
    assert "Коридор «Север – Юг»: Москва всё больше зависит от Баку" in headlines
    assert page.locator("span.tag", has_text="azerbaijan-russia").count() >= 3
    _shot(page, tmp_path, "stories")


def test_russian_inflected_form_finds_the_article_and_a_click_leads_to_its_story(
    page,
    desk: str,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    page.goto(desk + "/search")
    page.fill("input[name=q]", "Азербайджаном")
    page.click("button[type=submit]")
    first = page.locator("li.hit a.headline").first
    assert "Москва всё больше зависит от Баку" in first.inner_text()
    assert page.locator("li.hit mark").count() >= 1
    _shot(page, tmp_path, "search")
    first.click()
    page.wait_for_url("**/story/**")
    assert page.locator("h1").inner_text().startswith("Коридор «Север – Юг»")
    assert page.locator("table.copies tbody tr").count() >= 1
    assert "koridor-sever-yug" in page.locator("table.copies a").first.get_attribute("href")
    assert page.locator("article.text p").count() > 3
    _shot(page, tmp_path, "story")


def test_a_script_title_is_inert(page, desk: str, tmp_path: Path) -> None:  # noqa: ANN001
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(desk + "/")
    link = page.locator("a.headline", has_text="Hostile headline")
    assert link.inner_text() == SCRIPT_TITLE  # shown as text, markup and all
    assert page.evaluate("window.__pwned") is None and not dialogs
    link.click()
    page.wait_for_url("**/story/**")
    assert page.locator("h1").inner_text() == SCRIPT_TITLE
    assert page.evaluate("window.__pwned") is None and not dialogs
    _shot(page, tmp_path, "hostile")


def test_alerts_coverage_and_outlets_render(page, desk: str, tmp_path: Path) -> None:  # noqa: ANN001
    page.goto(desk + "/alerts")
    assert page.locator("div.alert").count() >= 1
    assert page.locator("ul.terms li").count() >= 1
    page.goto(desk + "/coverage?days=90")
    assert page.locator("svg.chart rect").count() >= 1
    page.goto(desk + "/outlets")
    assert page.locator("table.list tbody tr").count() >= 3
    _shot(page, tmp_path, "outlets")


def test_the_atom_feed_validates(desk: str) -> None:
    import feedparser

    body = urllib.request.urlopen(desk + "/alerts.atom", timeout=WAIT_S).read()
    parsed = feedparser.parse(body)
    assert not parsed.bozo and parsed.version == "atom10" and parsed.entries
    assert all(any(k.rel == "alternate" for k in e.links) for e in parsed.entries)
