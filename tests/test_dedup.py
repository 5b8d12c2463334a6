"""Deduplication through the real pipeline: URL variants, syndicated copies, snippet pages."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from pathlib import Path

import duckdb
import pytest

from extractors.article import ExtractJob, article_id, extract
from extractors.article_text import normalize_text
from extractors.fingerprint import fingerprint
from extractors.records import Article, Batch
from extractors.urls import url_key
from storage.db import Store
from tests.support.configs import config_text, outlet_toml, write_config
from tests.support.factories import make_article
from tests.support.pages import demo_page, rss
from tests.support.runs import run_once
from tests.support.server import Response, Site


def demo_text(outlet_id: str, index: int) -> tuple[str, str]:
    html = demo_page(outlet_id, index).decode()
    job = ExtractJob(
        html,
        "https://x.org/a-b-c",
        "https://x.org/a-b-c",
        "x",
        "https://x.org/",
        datetime.now(UTC),
        "feed",
    )
    article = extract(job)
    assert isinstance(article, Article)
    return article.title or "", article.text


def page(title: str, paragraphs: list[str], head: str = "", chrome: str = "") -> bytes:
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (
        f"<!doctype html><html lang='en'><head><title>{escape(title)}</title>{head}</head><body>"
        f"<nav><a href='/'>Home</a> <a href='/world/'>World</a> <a href='/about'>About us</a></nav>"
        f"<main><article><h1>{escape(title)}</h1>{body}</article></main>{chrome}"
        "<footer><p>© 2025 The Outlet. All rights reserved.</p></footer></body></html>"
    ).encode()


def test_url_variants_syndicated_copy_and_snippet_form_one_story(tmp_path: Path, serve) -> None:  # noqa: ANN001
    title, text = demo_text("eurasianet", 0)
    paragraphs = text.split("\n")
    origin_site = Site("https://origin.example")
    article_page = page(
        title,
        paragraphs,
        head="<link rel='canonical' href='https://origin.example/news/moscow-mends-fences'>",
    )
    origin_site.routes["/news/moscow-mends-fences"] = Response(article_page)
    origin_site.routes["/news/moscow-mends-fences/amp"] = Response(article_page)
    origin_site.routes["/node/45210"] = Response(article_page)  # same page under its node URL
    origin_site.routes["/rss"] = Response(
        rss(
            origin_site.real_origin,
            [
                "/news/moscow-mends-fences",
                "/news/moscow-mends-fences/amp?utm_source=rss",
                "/node/45210",
            ],
        ),
        "application/rss+xml",
    )
    reprint = Site("https://reprint.example")
    reprint.routes["/world/kremlin-seeks-thaw-with-baku"] = Response(
        page(
            "Kremlin seeks a thaw with Baku after weeks of tension",
            [
                "(Eurasianet) -- " + paragraphs[0],
                *paragraphs[1:-2],
                "Editor's note: this article first appeared on Eurasianet.",
            ],
            chrome="<aside><h3>Most read</h3><ul><li><a href='/world/other-story-one'>Other story one</a></li></ul></aside>",
        )
    )
    reprint.routes["/rss"] = Response(
        rss(reprint.real_origin, ["/world/kremlin-seeks-thaw-with-baku"]), "application/rss+xml"
    )
    digest = Site("https://digest.example")
    lead = " ".join(text.split()[:45])
    digest.routes["/briefs/moscow-tries-to-mend-fences-with-baku"] = Response(
        page(
            title,
            [f"{lead}..."],
            chrome="<a href='https://origin.example/news/moscow-mends-fences'>Read more</a>",
        )
    )
    digest.routes["/rss"] = Response(
        rss(digest.real_origin, ["/briefs/moscow-tries-to-mend-fences-with-baku"]),
        "application/rss+xml",
    )
    other_title, other_text = demo_text("aze-media", 1)  # same topic, another article
    digest.routes["/briefs/after-the-crisis-a-cold-spell"] = Response(
        page(other_title, other_text.split("\n"))
    )
    digest.routes["/rss"] = Response(
        rss(
            digest.real_origin,
            [
                "/briefs/moscow-tries-to-mend-fences-with-baku",
                "/briefs/after-the-crisis-a-cold-spell",
            ],
        ),
        "application/rss+xml",
    )
    serve(origin_site, reprint, digest)
    config = write_config(
        tmp_path / "c.toml",
        config_text(
            *(
                outlet_toml(n, s, feeds=["/rss"])
                for n, s in (("origin", origin_site), ("reprint", reprint), ("digest", digest))
            )
        ),
    )
    db = tmp_path / "d.duckdb"

    def snapshot() -> list[tuple]:
        con = duckdb.connect(str(db), read_only=True)
        try:
            return con.execute(
                "SELECT id, outlet_id, story_id, duplicate_of FROM articles ORDER BY id"
            ).fetchall()
        finally:
            con.close()

    run_once(config, db)
    rows = snapshot()
    assert sorted(r[1] for r in rows) == ["digest", "digest", "origin", "reprint"]
    con = duckdb.connect(str(db), read_only=True)
    stories = con.execute("SELECT outlets, copies FROM stories ORDER BY copies DESC").fetchall()
    aliases = con.execute("SELECT url_key FROM article_urls WHERE outlet_id = 'origin'").fetchall()
    con.close()
    assert stories == [(["digest", "origin", "reprint"], 3), (["digest"], 1)]
    assert len(aliases) >= 2, aliases  # the node URL is known as the same article
    # Outlets run in parallel, so any copy may be stored first: that one starts the story and
    # the others point at it.
    big_story = [r for r in rows if r[2] == next(x[2] for x in rows if x[1] == "reprint")]
    assert len(big_story) == 3
    roots = [r for r in big_story if r[3] is None]
    assert len(roots) == 1 and roots[0][0] == roots[0][2]
    assert all(r[3] == roots[0][0] for r in big_story if r is not roots[0])

    run_once(config, db)
    assert snapshot() == rows  # a rerun changes nothing


def store_with(tmp_path: Path, *articles: Article) -> Store:
    store = Store(tmp_path / "s.duckdb")
    for i, a in enumerate(articles):
        store.write(Batch(f"r{i}", articles=[a]))
    return store


def story_rows(store: Store) -> list[tuple]:
    return store.query(
        "SELECT outlet_id, url, story_id, duplicate_of FROM articles ORDER BY fetched_at"
    ).rows


def test_exact_copies(tmp_path: Path) -> None:
    _, text = demo_text("commonspace", 0)
    original = make_article("https://a.example/news/one-two-three", "a", text=text)
    moved = make_article("https://a.example/news/one-two-three-updated-slug", "a", text=text)
    copied = make_article(
        "https://b.example/world/copied-story-here", "b", text=text.replace("\n", "\n\n").upper()
    )
    store = store_with(tmp_path, original, moved, copied)
    rows = story_rows(store)
    # The same outlet re-publishing the text under a new URL is one article...
    assert [r[0] for r in rows] == ["a", "b"]
    assert store.unseen([moved.url]) == []
    # ...another outlet's copy (case and whitespace differ) is a duplicate in the same story.
    assert rows[1][2] == rows[0][2] == original.id and rows[1][3] == original.id


def test_distinct_same_topic_articles_stay_apart(tmp_path: Path) -> None:
    texts = [demo_text("aze-media", i)[1] for i in range(3)] + [
        demo_text("eurasianet", 0)[1],
        demo_text("commonspace", 0)[1],
    ]
    store = store_with(
        tmp_path,
        *(
            make_article(f"https://o{i}.example/news/story-{i}-a-b", f"o{i}", text=t)
            for i, t in enumerate(texts)
        ),
    )
    assert len({r[2] for r in story_rows(store)}) == 5


def test_index_is_rebuilt_when_missing(tmp_path: Path) -> None:
    import shutil

    _, text = demo_text("eurasianet", 2)
    paragraphs = text.split("\n")
    store = store_with(tmp_path, make_article("https://a.example/news/x-y-z", "a", text=text))
    shutil.rmtree(store.index_dir)  # the index files are lost: rebuilt from the fingerprints
    copy = make_article("https://b.example/news/x-y-z-copy", "b", text="\n".join(paragraphs[1:]))
    store.write(Batch("r8", articles=[copy]))
    assert store.index_dir.is_dir()
    con = duckdb.connect(str(store.path))
    con.execute("DELETE FROM article_fingerprints")  # even the fingerprints: from the texts
    con.close()
    assert store.rebuild_story_index() == 2
    third = make_article(
        "https://c.example/news/x-y-z-third",
        "c",
        text="\n".join(paragraphs[:-1] + ["An added line."]),
    )
    store.write(Batch("r9", articles=[third]))
    rows = story_rows(store)
    assert rows[1][2] == rows[0][2] == rows[2][2]


@pytest.mark.parametrize("words", [30, 60])
def test_snippet_before_and_after_its_article(tmp_path: Path, words: int) -> None:
    (tmp_path / "1").mkdir()
    (tmp_path / "2").mkdir()
    _, text = demo_text("aze-media", 0)
    full = make_article("https://a.example/news/full-story-text", "a", text=text)
    snippet = make_article(
        "https://c.example/brief/full-story",
        "c",
        text="By Staff Writer " + " ".join(text.split()[:words]) + "…",
    )
    first = story_rows(store_with(tmp_path / "1", full, snippet))
    second = story_rows(store_with(tmp_path / "2", snippet, full))
    assert first[0][2] == first[1][2]
    assert second[0][2] == second[1][2]


def test_url_key_variants() -> None:
    keys = {
        url_key(u)
        for u in (
            "https://www.example.com/news/a-b-c/",
            "http://m.example.com/news/a-b-c?utm_source=x",
            "https://example.com/news/a-b-c/amp/",
            "https://example.com/news/a-b-c?amp=1#comments",
        )
    }
    assert keys == {"example.com/news/a-b-c"}
    assert url_key("https://example.com/news.php?id=1") != url_key(
        "https://example.com/news.php?id=2"
    )


@pytest.mark.parametrize("ending", ["...", "…", " […]", " [...]", "... "])
def test_a_snippets_ellipsis_is_not_part_of_its_fingerprint(ending: str) -> None:
    lead = " ".join(f"Baku and Moscow discussed transit number {i}." for i in range(12))
    plain = fingerprint(lead + " The talks continue")
    cut = fingerprint(lead + " The talks continue" + ending)
    assert cut.snippet and cut.minhash == plain.minhash and cut.lead_keys == plain.lead_keys
    # The extraction hands over the normalised text it already has: same fingerprint.
    assert fingerprint(lead + ending, normalize_text(lead + ending)) == fingerprint(lead + ending)


def test_index_kept_between_writes_sees_other_writers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage.story_index import StoryIndex

    opened = []
    real_open = StoryIndex.open
    monkeypatch.setattr(
        StoryIndex, "open", lambda self, con: opened.append(1) or real_open(self, con)
    )
    texts = [demo_text("aze-media", i)[1] for i in range(3)]
    mine = store_with(
        tmp_path, make_article("https://a.example/news/first-one", "a", text=texts[0])
    )
    mine.write(
        Batch(
            "r1", articles=[make_article("https://a.example/news/second-one", "a", text=texts[1])]
        )
    )
    assert len(opened) == 1  # the second write reused what the first one loaded
    # Another writer (a second process, here a second Store) adds an article in between...
    other = Store(mine.path)
    other.write(
        Batch("r2", articles=[make_article("https://b.example/news/their-one", "b", text=texts[2])])
    )
    # ...so a copy of it written through the first store must still find it.
    copy = make_article("https://c.example/news/copy-of-theirs", "c", text=texts[2].upper())
    mine.write(Batch("r3", articles=[copy]))
    rows = story_rows(mine)
    assert rows[3][0] == "c" and rows[3][2] == rows[2][2] == article_id(rows[2][1])


def test_a_failed_write_leaves_nothing_in_the_kept_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storage.runs

    texts = [demo_text("eurasianet", i)[1] for i in range(2)]
    store = store_with(
        tmp_path, make_article("https://a.example/news/kept-one", "a", text=texts[0])
    )
    lost = make_article("https://a.example/news/lost-one", "a", text=texts[1])

    def broken(*args: object) -> None:
        raise RuntimeError("disk gone")

    with monkeypatch.context() as patch:
        patch.setattr(storage.runs, "write_fetches", broken)
        with pytest.raises(RuntimeError):
            store.write(Batch("r1", articles=[lost]))
    # The rolled-back article is not in the store, so a copy of it starts its own story.
    copy = make_article("https://b.example/news/copy-of-lost", "b", text=texts[1].upper())
    store.write(Batch("r2", articles=[copy]))
    rows = story_rows(store)
    assert [r[0] for r in rows] == ["a", "b"]
    assert rows[1][2] == copy.id and rows[1][3] is None
