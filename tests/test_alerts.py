"""Alerts end to end: loopback outlets, real Prefect flow, a real JSON webhook receiver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

from evaluation.rules import Item, load_set
from tests.support.configs import RULE, config_text, outlet_toml, write_config
from tests.support.pages import rss
from tests.support.runs import run_once
from tests.support.server import Receiver, Response, Site

ITEMS = {item.id: item for item in load_set("original")}


def page(item: Item, published: datetime, prefix: str = "", suffix: str = "") -> bytes:
    paragraphs = [p for p in item.text.split("\n") if p.strip()]
    if prefix:
        paragraphs[0] = prefix + paragraphs[0]
    if suffix:
        paragraphs.append(suffix)
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (
        "<!doctype html><html lang='en'><head>"
        f"<title>{escape(item.title)}</title>"
        f"<meta property='article:published_time' content='{published.isoformat()}'>"
        "<meta name='author' content='Staff'></head><body><nav><a href='/'>Home</a></nav>"
        f"<article><h1>{escape(item.title)}</h1>{body}</article><footer>© Outlet</footer></body></html>"
    ).encode()


def test_one_notification_per_story_exactly_once(tmp_path: Path, serve, receiver: Receiver) -> None:  # noqa: ANN001
    now = datetime.now(UTC)
    news = Site("https://news.example")
    wire = Site("https://wire.example")
    stories = {
        "/news/protest-note-yekaterinburg": page(ITEMS["en-pos-01"], now - timedelta(hours=2)),
        "/news/second-story-baku-moscow": page(ITEMS["en-pos-02"], now - timedelta(hours=1)),
        "/news/midfielder-signs-for-club": page(ITEMS["en-neg-30"], now - timedelta(hours=1)),
        "/news/old-story-from-archive": page(ITEMS["en-pos-03"], now - timedelta(days=400)),
    }
    for path, body in stories.items():
        news.routes[path] = Response(body)
    news.routes["/rss"] = Response(rss(news.real_origin, list(stories)), "application/rss+xml")
    wire.routes["/rss"] = Response(rss(wire.real_origin, []), "application/rss+xml")
    serve(news, wire)
    config = write_config(
        tmp_path / "c.toml",
        config_text(
            outlet_toml("news", news, feeds=["/rss"]), outlet_toml("wire", wire, feeds=["/rss"])
        )
        + RULE
        + f'\n[alerts]\nchannels = ["json://127.0.0.1:{receiver.port}/hook"]\nretry_base_s = 0\n'
        + f'atom = "{tmp_path / "alerts.xml"}"\n',
    )
    db = tmp_path / "a.duckdb"

    def run() -> None:
        run_once(config, db)

    run()
    titles = sorted(m["title"] for m in receiver.messages)
    assert len(titles) == 2, titles
    assert all(t.startswith("[Azerbaijan–Russia relations]") for t in titles)
    assert (
        "Outlet: news" in receiver.messages[0]["message"]
        and "Why: " in receiver.messages[0]["message"]
    )
    atom = (tmp_path / "alerts.xml").read_text(encoding="utf-8")
    assert atom.count("<entry>") == 2

    run()  # a rerun
    run()  # a "restart": nothing in memory survives between flow runs
    assert len(receiver.messages) == 2

    # A syndicated copy of an alerted story on another outlet: stored, attached, not notified.
    copy = page(
        ITEMS["en-pos-01"],
        now - timedelta(minutes=30),
        prefix="(Report.az) ",
        suffix="Follow us on Telegram.",
    )
    wire.routes["/world/copy-of-protest-note"] = Response(copy)
    wire.routes["/rss"] = Response(
        rss(wire.real_origin, ["/world/copy-of-protest-note"]), "application/rss+xml"
    )
    run()
    assert len(receiver.messages) == 2

    # The receiver goes down: the new alert waits in the outbox and arrives once it is back.
    receiver.stop()
    news.routes["/news/third-story-aliyev-putin"] = Response(
        page(ITEMS["en-pos-04"], now - timedelta(minutes=10))
    )
    news.routes["/rss"] = Response(
        rss(news.real_origin, [*stories, "/news/third-story-aliyev-putin"]), "application/rss+xml"
    )
    run()
    assert len(receiver.messages) == 2
    receiver.start()
    run()
    assert len(receiver.messages) == 3
    assert ITEMS["en-pos-04"].title in receiver.messages[2]["title"]
    run()
    assert len(receiver.messages) == 3
