"""Page chrome learned per outlet, through real passes over a loopback outlet and a real
DuckDB file: what the outlet's stored articles repeat is left out of its next articles, and
text unique to a page stays."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from extractors.chrome import keys
from extractors.http import PoliteClient
from flows.config import load
from flows.extraction import Extractor
from flows.pipeline import RunContext
from flows.reextract import reextract
from flows.revisit_pass import revisit_outlet
from storage.db import Store
from tests.support.configs import config_text, outlet_toml, write_config
from tests.support.pages import rss
from tests.support.runs import run_once
from tests.support.server import Response, Site
from tests.support.store import rows

BOX = "Sign up for the Caspian Ledger briefing: the day's news from the region, every morning."
PUBLISHED = datetime.now(UTC) - timedelta(minutes=30)  # fresh: revisits are due within hours
TOPICS = ["gas transit", "rail freight", "grain exports", "border crossings", "migrant workers"]
WORDS = [
    "the",
    "talks",
    "in",
    "Baku",
    "and",
    "Moscow",
    "on",
    "transit",
    "energy",
    "trade",
    "officials",
    "said",
    "delegations",
]


def page(index: int) -> bytes:
    rng = random.Random(index)
    own = [
        f"{TOPICS[index].capitalize()} dominated the talks, "
        + " ".join(rng.choice(WORDS) for _ in range(30))
        + "."
        for _ in range(5)
    ]
    body = "".join(f"<p>{p}</p>" for p in own[:2]) + f"<p>{BOX}</p>"
    body += "".join(f"<p>{p}</p>" for p in own[2:])
    return (
        "<!doctype html><html lang='en'><head>"
        f"<title>Talks on {TOPICS[index]} | Caspian Ledger</title>"
        f"<meta property='article:published_time' content='{PUBLISHED.isoformat()}'></head><body>"
        f"<article><h1>Talks on {TOPICS[index]}</h1>{body}</article></body></html>"
    ).encode()


PATHS = [f"/news/talks-on-{t.replace(' ', '-')}" for t in TOPICS]


def two_passes(tmp_path: Path, serve) -> tuple[Site, Path, Path]:  # noqa: ANN001
    """Three articles stored by a first pass, two more by a second one."""
    site = Site("https://ledger.example")
    for index, path in enumerate(PATHS):
        site.routes[path] = Response(page(index))
    site.routes["/rss"] = Response(rss(site.real_origin, PATHS[:3]), "application/rss+xml")
    serve(site)
    config = write_config(
        tmp_path / "c.toml", config_text(outlet_toml("ledger", site, feeds=["/rss"]))
    )
    db = tmp_path / "d.duckdb"

    run_once(config, db)  # three articles: nothing learned yet, the box stays in each
    site.routes["/rss"] = Response(rss(site.real_origin, PATHS), "application/rss+xml")
    run_once(config, db)  # the next two: the box, on three stored articles, is chrome
    return site, config, db


def test_what_an_outlets_articles_repeat_goes_from_its_next_ones(tmp_path: Path, serve) -> None:  # noqa: ANN001
    _, _, db = two_passes(tmp_path, serve)
    paths = PATHS

    stored = dict(rows(db, "SELECT regexp_extract(url, '/news/(.*)', 1), text FROM articles"))
    first, later = (
        [stored[p.split("/")[-1]] for p in paths[:3]],
        [stored[p.split("/")[-1]] for p in paths[3:]],
    )
    assert all(BOX in text for text in first)
    assert all(BOX not in text for text in later)
    # Everything unique to the later pages is there.
    for index, text in zip((3, 4), later, strict=True):
        assert text.count(f"{TOPICS[index].capitalize()} dominated the talks") == 5
    # The later articles still record the box among their paragraphs, so it stays learned.
    (recorded,) = rows(db, "SELECT paragraph_keys FROM articles WHERE url LIKE '%migrant-workers'")[
        0
    ]
    assert keys(BOX)[0] in recorded


async def revisit(config_path: Path, db: Path, now: datetime) -> int:
    config = load(config_path)
    extractor = Extractor(1, config.rules)
    try:
        async with PoliteClient(config.settings.client) as client:
            client.add_outlet(config.outlets[0])
            ctx = RunContext("revisit", client, Store(db), extractor)
            return await revisit_outlet(config.outlets[0], ctx, now)
    finally:
        extractor.close()


def test_a_revisit_leaves_the_chrome_out_and_the_chrome_makes_no_version(
    tmp_path: Path,
    serve,  # noqa: ANN001
) -> None:
    site, config, db = two_passes(tmp_path, serve)
    # Served again with other bytes (a new nonce) and the same article: no version, whether
    # the stored text still holds the box (the first three) or went without it (the others).
    for index, path in enumerate(PATHS):
        site.routes[path] = Response(page(index).replace(b"<body>", b"<body data-nonce='2'>"))
    due = datetime.now(UTC) + timedelta(hours=1, minutes=5)
    assert asyncio.run(revisit(config, db, due)) == 0
    assert rows(db, "SELECT count(*) FROM article_revisits WHERE revisits = 1") == [(5,)]
    # A real correction is a version, and its text comes without the box.
    changed = page(4).replace(b"dominated the talks", b"led the talks", 1)
    site.routes[PATHS[4]] = Response(changed)
    assert asyncio.run(revisit(config, db, due + timedelta(hours=3))) == 1
    (text,) = rows(db, "SELECT text FROM articles WHERE url LIKE '%migrant-workers'")[0]
    assert "led the talks" in text and BOX not in text


def test_reextraction_leaves_the_learned_chrome_out(tmp_path: Path, serve) -> None:  # noqa: ANN001
    _, config, db = two_passes(tmp_path, serve)
    with duckdb.connect(str(db)) as con:  # stored by an older extractor: due for re-extraction
        con.execute("UPDATE articles SET extractor_version = 'newsmon-0/old'")
    assert asyncio.run(reextract(load(config), db)).rewritten == 5
    texts = dict(rows(db, "SELECT regexp_extract(url, '/news/(.*)', 1), text FROM articles"))
    assert len(texts) == 5 and all(BOX not in text for text in texts.values())
    for index, path in enumerate(PATHS):  # each page's own text is all there
        own = f"{TOPICS[index].capitalize()} dominated the talks"
        assert texts[path.split("/")[-1]].count(own) == 5
