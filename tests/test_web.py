"""The desk's pages over a real store, through FastAPI's test client (no browser)."""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from lxml import etree

from extractors.records import Batch, Channel, TopicScore
from flows.web.app import create_app
from storage.db import Store
from tests.support.factories import make_article

NOW = datetime.now(UTC).replace(microsecond=0)
SCRIPT = "<script>alert(1)</script>"
RU_TEXT = (
    "Правительства Азербайджана и России подписали соглашение о транзите. "
    "Азербайджан рассчитывает на рост товарооборота с Россией. " * 20
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store(tmp_path_factory.mktemp("web") / "desk.duckdb")
    ru = make_article(
        "https://ru.example/corridor", outlet_id="ru-outlet", language="ru", text=RU_TEXT,
        title="Коридор «Север – Юг»: Москва всё больше зависит от Баку",
        published_at=NOW - timedelta(days=2), fetched_at=NOW - timedelta(days=2),
    )  # fmt: skip
    copy = make_article(
        "https://other.example/corridor-copy", outlet_id="other", language="ru", text=RU_TEXT,
        title="Москва зависит от Баку", published_at=NOW - timedelta(days=1),
        fetched_at=NOW - timedelta(days=1),
    )  # fmt: skip
    hostile = make_article(
        "javascript:alert(2)", outlet_id="en-outlet", title=SCRIPT,
        text="A hostile page whose title is markup. " * 30, fetched_at=NOW - timedelta(hours=3),
    )  # fmt: skip
    for a in (ru, copy, hostile):
        a.topics = [
            TopicScore("azerbaijan-russia", "sig", a is not hostile, 9.0,
                       ["azerbaijan: Азербайдж* ×3"])
        ]  # fmt: skip
    store.write(Batch(run_id="r1", articles=[ru, copy, hostile]))
    store.update_search_index()
    store.prepare_alerts(
        ["azerbaijan-russia"], timedelta(days=30),
        {"azerbaijan-russia": [Channel("k", "json://127.0.0.1/hook")]},
    )  # fmt: skip
    return store


@pytest.fixture(scope="module")
def client(store: Store) -> TestClient:
    return TestClient(create_app(store.path, now=lambda: NOW))


def test_stories_page_lists_stories_with_their_copies_and_rules(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "Коридор «Север – Юг»" in page.text
    assert "ru-outlet, other" in page.text or "other, ru-outlet" in page.text
    assert "azerbaijan: Азербайдж* ×3" in page.text
    assert "2 in all" in page.text  # the copy joined the story: two stories, not three
    only = client.get("/", params={"outlet": "en-outlet"})
    assert "Коридор" not in only.text and "1 in all" in only.text


def test_stored_strings_are_escaped_and_no_javascript_url_becomes_a_link(
    client: TestClient,
) -> None:
    for path in ("/", "/search?q=hostile", "/story/" + _story_of(client, SCRIPT)):
        text = client.get(path).text
        assert SCRIPT not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
        assert 'href="javascript:' not in text
    headers = client.get("/").headers
    assert "script-src" not in headers["content-security-policy"]  # no script may run at all


def test_search_finds_an_inflected_russian_form_and_marks_it(client: TestClient) -> None:
    page = client.get("/search", params={"q": "Азербайджаном"})
    assert page.status_code == 200
    assert "2 in all" in page.text
    assert "<mark>Азербайджана</mark>" in page.text and "<mark>Азербайджан</mark>" in page.text


def test_story_page_shows_every_copy_the_text_and_the_alert_delivery(client: TestClient) -> None:
    page = client.get("/story/" + _story_of(client, "Коридор"))
    assert "other.example/corridor-copy" in page.text and "ru.example/corridor" in page.text
    assert "date from jsonld" in page.text and "found via feed" in page.text
    assert "Правительства Азербайджана" in page.text
    assert "json://127.0.0.1/hook" in page.text and "sending" in page.text  # claimed, not sent
    assert client.get("/story/nope").status_code == 400


def test_every_list_downloads_as_csv_json_and_parquet(client: TestClient) -> None:
    for path in ("/", "/search?q=Баку", "/alerts", "/outlets", "/coverage?days=90"):
        sep = "&" if "?" in path else "?"
        as_json = json.loads(client.get(f"{path}{sep}format=json").content)
        as_csv = client.get(f"{path}{sep}format=csv").text.splitlines()
        table = pq.read_table(io.BytesIO(client.get(f"{path}{sep}format=parquet").content))
        assert as_json and len(as_csv) == len(as_json) + 1 == table.num_rows + 1, path
    assert client.get("/?format=xls").status_code == 400


def test_alerts_feed_is_valid_atom_with_alternate_links_and_html_content(
    client: TestClient,
) -> None:
    response = client.get("/alerts.atom")
    assert response.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10" and parsed.entries
    entry = parsed.entries[0]
    assert any(k.rel == "alternate" and k.href.startswith("https://") for k in entry.links)
    assert entry.content[0].type == "text/html" and "Азербайдж*" in entry.content[0].value
    atom = "{http://www.w3.org/2005/Atom}"
    root = etree.fromstring(response.content)
    for node in [root, *root.findall(f"{atom}entry")]:  # RFC 4287: id, title, updated
        for required in ("id", "title", "updated"):
            assert node.find(f"{atom}{required}") is not None, required
    assert root.find(f"{atom}author") is not None or all(
        e.find(f"{atom}author") is not None for e in root.findall(f"{atom}entry")
    )


def test_coverage_is_a_chart_and_outlets_show_health_figures(client: TestClient) -> None:
    page = client.get("/coverage", params={"days": "30"})
    assert "<svg" in page.text and page.text.count("<rect") >= 2 and "ru-outlet" in page.text
    outlets = client.get("/outlets").text
    assert "<svg" in outlets and "ru-outlet" in outlets


def test_bad_filters_are_a_one_line_error(client: TestClient) -> None:
    page = client.get("/", params={"since": "yesterday"})
    assert page.status_code == 400 and "since: not a date" in page.text
    assert "Traceback" not in page.text


def test_a_token_is_required_when_one_is_set(store: Store) -> None:
    guarded = TestClient(create_app(store.path, token="s3cret"))
    assert guarded.get("/").status_code == 401
    assert guarded.get("/", headers={"Authorization": "Bearer wrong"}).status_code == 401
    basic = base64.b64encode(b"anyone:s3cret").decode()
    assert guarded.get("/", headers={"Authorization": f"Basic {basic}"}).status_code == 200
    assert guarded.get("/", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_the_web_command_refuses_no_one_on_loopback_and_makes_a_token_beyond() -> None:
    from flows.web_cli import _loopback

    assert _loopback("127.0.0.1") and _loopback("::1") and _loopback("localhost")
    assert not _loopback("0.0.0.0") and not _loopback("192.0.2.1")


def _story_of(client: TestClient, words: str) -> str:
    rows = json.loads(client.get("/?format=json").content)
    return next(r["story_id"] for r in rows if words in (r["title"] or ""))


def test_nothing_is_written(store: Store, client: TestClient) -> None:
    before = Path(store.path).stat().st_mtime_ns
    for path in ("/", "/search?q=Баку", "/alerts", "/outlets", "/coverage", "/alerts.atom"):
        assert client.get(path).status_code == 200
    assert Path(store.path).stat().st_mtime_ns == before
