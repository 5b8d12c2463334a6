"""Going back in time over loopback: backfill by month, the WARC archive, import-warc,
re-extraction after a version bump, and revisits that find a changed headline."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from warcio.checker import Checker

from extractors.article import EXTRACTOR_VERSION
from extractors.backfill import Window
from extractors.http import PoliteClient
from flows.backfill import backfill
from flows.config import Config, load
from flows.extraction import Extractor
from flows.history import open_archive
from flows.import_warc import import_warc
from flows.pipeline import RunContext, ingest_outlet
from flows.reextract import reextract
from flows.revisit_pass import revisit_outlet
from storage.archive import archive_dir
from storage.db import Store
from tests.support.configs import config_text, outlet_toml, write_config
from tests.support.history_site import HistoricOutlet
from tests.support.store import rows

RULE = """
[[rule]]
id = "corridor"
name = "Corridor"
alert = true
match = "corridor"
threshold = 1
min_mentions = { default = 1 }

[rule.terms.corridor]
en = ["corridor"]
"""


def setup(tmp_path: Path, outlet: HistoricOutlet, **kw: object) -> Config:
    text = config_text(
        outlet_toml("history", outlet.site, article_pattern="^/20", **kw),
        settings="[backfill]\nmin_delay_s = 0\nbatch = 2\n",
    )
    return load(write_config(tmp_path / "newsmon.toml", text + RULE))


def paths(db: Path) -> list[str]:
    return sorted(r[0].split("/", 3)[3] for r in rows(db, "SELECT url FROM articles"))


class _Args:
    def __init__(self, inputs: list[str]) -> None:
        self.inputs, self.verbose = inputs, False


def test_backfill_a_month_archive_it_and_import_it_into_a_fresh_store(
    tmp_path: Path,
    serve,  # noqa: ANN001
) -> None:
    outlet = HistoricOutlet()
    serve(outlet.site)
    config = setup(tmp_path, outlet, sitemaps=[f"{outlet.site.url}/sitemap_index.xml"])
    db = tmp_path / "one.duckdb"
    march = Window(date(2024, 3, 1), date(2024, 3, 31))
    summary = asyncio.run(backfill(config, db, config.outlets[0], march))
    wanted = sorted(p.lstrip("/") for p in outlet.in_month(2024, 3))
    assert paths(db) == wanted and summary.stored == 3
    # Only the index, March's sitemap and March's articles were fetched: no other month.
    fetched = set(outlet.site.requests)
    assert {p for p in fetched if "sitemap-" in p} == {"/sitemap-2024-03.xml"}
    assert {p for p in fetched if p.startswith("/20")} == outlet.in_month(2024, 3)
    assert rows(db, "SELECT bool_and(quiet), count(warc_file) FROM articles") == [(True, 3)]

    # Run again: the queue is done, nothing is fetched or stored twice.
    again = asyncio.run(backfill(config, db, config.outlets[0], march))
    assert again.resumed and again.stored == 0 and len(paths(db)) == 3

    # The archive validates with warcio, and an import into a fresh store gives the same rows.
    files = sorted(archive_dir(db).glob("*.warc.gz"))
    assert files and Checker(_Args([str(f) for f in files])).process_all() == 0
    fresh = tmp_path / "two.duckdb"
    imported = asyncio.run(import_warc(config, fresh, config.outlets[0], files))
    assert imported.stored == 3 and imported.articles == 3
    columns = "id, url, title, text, published_at, content_hash, word_count, language"
    assert rows(fresh, f"SELECT {columns} FROM articles ORDER BY id") == rows(
        db, f"SELECT {columns} FROM articles ORDER BY id"
    )
    again = asyncio.run(import_warc(config, fresh, config.outlets[0], files))
    assert again.stored == 0 and again.known == 3


def test_reextract_rewrites_old_rows_in_place_and_alerts_nothing(
    tmp_path: Path,
    serve,  # noqa: ANN001
) -> None:
    from flows.alerts import run_alerts

    outlet = HistoricOutlet(per_month=2)
    serve(outlet.site)
    config = setup(tmp_path, outlet, sitemaps=[f"{outlet.site.url}/sitemap_index.xml"])
    db = tmp_path / "n.duckdb"
    window = Window(date(2025, 6, 1), date(2025, 6, 30))
    asyncio.run(backfill(config, db, config.outlets[0], window))
    before = rows(db, "SELECT id, story_id, text FROM articles ORDER BY id")
    assert len(before) == 2
    # The rows as an older extractor made them: another version, a text cut short, and young
    # enough for the alert window (a live pass would have alerted on them).
    con = duckdb.connect(str(db))
    con.execute(
        "UPDATE articles SET extractor_version = 'newsmon-0/old', text = 'cut', quiet = false, "
        "published_at = now(), fetched_at = now()"
    )
    con.execute("DELETE FROM article_topics")
    con.close()

    seen: list[tuple[int, int]] = []
    summary = asyncio.run(reextract(config, db, None, None, lambda d, t: seen.append((d, t))))
    assert (summary.candidates, summary.rewritten, summary.failed) == (2, 2, 0)
    assert seen[-1] == (2, 2) and summary.rate > 0
    after = rows(db, "SELECT id, story_id, text FROM articles ORDER BY id")
    assert after == before  # same ids and stories, the full text back
    assert rows(db, "SELECT DISTINCT extractor_version, quiet FROM articles") == [
        (EXTRACTOR_VERSION, True)
    ]
    assert rows(db, "SELECT count(*) FROM article_topics WHERE matched") == [(2,)]
    assert run_alerts(config, Store(db)).created == 0
    assert rows(db, "SELECT count(*) FROM alerts") == [(0,)]
    # Nothing is left to do.
    assert asyncio.run(reextract(config, db)).candidates == 0


async def _pass(config: Config, db: Path, now: datetime | None = None) -> int:
    store = Store(db)
    archive = open_archive(config, db)
    assert archive is not None
    extractor = Extractor(1, config.rules)  # the workers score topics with the run's rules
    try:
        async with PoliteClient(config.settings.client, recorder=archive.record) as client:
            client.add_outlet(config.outlets[0])  # a pass does this first: its host is named
            ctx = RunContext(
                "run", client, store, extractor, archive=archive,
                revisits=config.history.revisits,
            )  # fmt: skip
            if now is None:
                await ingest_outlet(config.outlets[0], ctx)
                return 0
            return await revisit_outlet(config.outlets[0], ctx, now)
    finally:
        extractor.close()


def test_a_changed_headline_becomes_a_second_version_once(
    tmp_path: Path,
    serve,  # noqa: ANN001
) -> None:
    outlet = HistoricOutlet(per_month=1)
    path = "/2026/01/fresh-report-on-the-corridor-talks"
    outlet.publish_now(path, "Talks on the corridor resume", hours_ago=0.5)
    serve(outlet.site)
    config = setup(tmp_path, outlet, feeds=[f"{outlet.site.url}/feed/"])
    db = tmp_path / "r.duckdb"
    asyncio.run(_pass(config, db))
    assert rows(db, "SELECT title FROM articles") == [("Talks on the corridor resume",)]
    first_seen = rows(db, "SELECT id, story_id, fetched_at FROM articles")

    now = datetime.now(UTC)
    assert asyncio.run(_pass(config, db, now)) == 0  # not due yet: nothing fetched
    assert outlet.site.requests.count(path) == 1
    outlet.set_page(path, "Talks on the corridor collapse")
    assert asyncio.run(_pass(config, db, now + timedelta(hours=1, minutes=5))) == 1
    versions = rows(
        db, "SELECT version, title, changed, summary FROM article_versions ORDER BY version"
    )
    assert [v[:3] for v in versions] == [
        (1, "Talks on the corridor resume", []),
        (2, "Talks on the corridor collapse", ["title"]),
    ]
    assert "resume" in versions[1][3] and "collapse" in versions[1][3]
    assert rows(db, "SELECT id, story_id, fetched_at FROM articles") == first_seen
    assert rows(db, "SELECT title FROM articles") == [("Talks on the corridor collapse",)]
    # The next revisit finds the page as it is now: no third version.
    assert asyncio.run(_pass(config, db, now + timedelta(hours=4))) == 0
    assert rows(db, "SELECT count(*) FROM article_versions") == [(2,)]
    assert rows(db, "SELECT revisits FROM article_revisits") == [(2,)]


@pytest.mark.parametrize("since", ["2024-13-01", "yesterday"])
def test_backfill_rejects_bad_dates(tmp_path: Path, since: str) -> None:
    from typer.testing import CliRunner

    from flows.cli import app

    config = write_config(tmp_path / "c.toml", config_text(outlet_toml("x", "https://x.example/")))
    result = CliRunner().invoke(app, ["backfill", "x", "--since", since, "-c", str(config)])
    assert result.exit_code == 2
    assert "not a date" in result.output


def test_a_rewritten_text_replaces_the_fingerprint_and_keeps_the_story(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from extractors.records import Batch
    from storage.history import History
    from storage.story_index import StoryIndex, content_key
    from tests.support.factories import make_article

    first, second, third = (" ".join(f"w{k}{i}" for i in range(300)) for k in "abc")
    old = make_article("https://a.example/news/the-story", "a", text=first)
    other = make_article("https://a.example/news/another-story", "a", text=third)
    store = Store(tmp_path / "f.duckdb")
    store.write(Batch("r1", articles=[other]))
    store.write(Batch("r2", articles=[old]))  # the highest fingerprint number
    store.rebuild_story_index()  # both fingerprints now in the index files, not the delta
    rebuilt: list[int] = []
    real = StoryIndex.rebuild
    monkeypatch.setattr(StoryIndex, "rebuild", lambda s, con: rebuilt.append(1) or real(s, con))

    new = make_article("https://a.example/news/the-story", "a", text=second, title="Changed")
    assert History(store).rewrite([new]) == 1
    fingerprints = rows(
        store.path,
        f"SELECT content_key, story_id FROM article_fingerprints WHERE article_id = '{old.id}'",
    )
    assert fingerprints == [(content_key(new.content_hash), old.id)]

    # A copy of the new text joins the story; a copy of the old text no longer finds it.
    copy_new = make_article("https://b.example/world/copy-new", "b", text=second.upper())
    copy_old = make_article("https://c.example/world/copy-old", "c", text=first.upper())
    store.write(Batch("r3", articles=[copy_new, copy_old]))
    stories = dict(
        rows(store.path, "SELECT outlet_id, story_id FROM articles WHERE outlet_id <> 'a'")
    )
    assert stories == {"b": old.id, "c": copy_old.id}
    assert rows(store.path, f"SELECT title, quiet FROM articles WHERE id = '{old.id}'") == [
        ("Changed", True)
    ]
    assert rebuilt == []  # the files skip the replaced fingerprint instead of being rewritten
