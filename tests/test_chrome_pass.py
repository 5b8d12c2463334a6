"""Page chrome learned per outlet, through real passes over a loopback outlet and a real
DuckDB file: what the outlet's stored articles repeat is left out of its next articles, and
text unique to a page stays."""

from __future__ import annotations

import random
from pathlib import Path

from extractors.chrome import keys
from tests.support.configs import config_text, outlet_toml, write_config
from tests.support.pages import rss
from tests.support.runs import run_once
from tests.support.server import Response, Site
from tests.support.store import rows

BOX = "Sign up for the Caspian Ledger briefing: the day's news from the region, every morning."
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
        f"<title>Talks on {TOPICS[index]} | Caspian Ledger</title></head><body>"
        f"<article><h1>Talks on {TOPICS[index]}</h1>{body}</article></body></html>"
    ).encode()


def test_what_an_outlets_articles_repeat_goes_from_its_next_ones(tmp_path: Path, serve) -> None:  # noqa: ANN001
    site = Site("https://ledger.example")
    paths = [f"/news/talks-on-{t.replace(' ', '-')}" for t in TOPICS]
    for index, path in enumerate(paths):
        site.routes[path] = Response(page(index))
    site.routes["/rss"] = Response(rss(site.real_origin, paths[:3]), "application/rss+xml")
    serve(site)
    config = write_config(
        tmp_path / "c.toml", config_text(outlet_toml("ledger", site, feeds=["/rss"]))
    )
    db = tmp_path / "d.duckdb"

    run_once(config, db)  # three articles: nothing learned yet, the box stays in each
    site.routes["/rss"] = Response(rss(site.real_origin, paths), "application/rss+xml")
    run_once(config, db)  # the next two: the box, on three stored articles, is chrome

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
