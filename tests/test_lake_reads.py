"""Reading a lake while a worker writes it: `newsmon sql`, `newsmon search` and the desk
(`newsmon web`) answer from the lake (a real PostgreSQL catalog), each answer one snapshot.

The writer commits batches the way a pass does: a batch of three articles (two stories, one
of them with a syndicated copy) in one write, then the batch into the full-text index in a
second. So every snapshot holds 3n articles in 2n stories, and the index lags by at most one
batch. An answer mixing two snapshots breaks these counts; an answer from the local DuckDB
file instead of the lake finds nothing."""

from __future__ import annotations

import json
import multiprocessing
import re
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from extractors.records import Batch, LakeSettings
from flows.cli import app
from storage.db import Store
from tests.support.configs import config_text, outlet_toml, write_config
from tests.support.factories import make_article
from tests.support.processes import WAIT_S

pytestmark = pytest.mark.slow
BATCH = 3  # articles per write: story A, its copy elsewhere, story B
ROUNDS = 4  # rounds of reads, each after at least one more batch was committed
MAX_BATCHES = 400  # the writer stops by itself should the test die without telling it


def _batch(n: int) -> list:
    def text(story: str) -> str:
        return f"Corridor report {story}{n}. " + " ".join(f"w{story}{n}x{i}" for i in range(120))

    a = text("a")
    return [
        make_article(f"https://wire.example/a-{n}", "wire", text=a),
        make_article(f"https://paper.example/a-{n}", "paper", text=a),
        make_article(f"https://wire.example/b-{n}", "wire", text=text("b")),
    ]


def _writer(catalog: str, data_path: str, work: str, written, stop) -> None:
    """Writes batch after batch until told to stop; `written` counts the indexed ones."""
    store = Store(Path(work) / "n.duckdb", lake=LakeSettings(catalog, data_path))
    try:
        for n in range(MAX_BATCHES):
            if stop.is_set():
                return
            assert store.write(Batch(f"r{n}", articles=_batch(n))).stored == BATCH
            store.update_search_index()
            written.value = n + 1
    finally:
        store.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sql(config: Path) -> tuple[int, int, int, int]:
    result = CliRunner().invoke(
        app,
        ["sql", "-c", str(config), "-f", "json",
         "SELECT (SELECT count(*) FROM articles) AS articles, "
         "(SELECT count(*) FROM stories) AS stories, "
         "(SELECT coalesce(sum(copies), 0) FROM stories) AS copies, "
         "(SELECT count(*) FROM search_docs) AS indexed"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    return row["articles"], row["stories"], row["copies"], row["indexed"]


def _search(config: Path) -> tuple[int, int]:
    """(articles found for "corridor", articles not indexed yet) from one `newsmon search`."""
    result = CliRunner().invoke(app, ["search", "corridor", "-c", str(config), "-n", "1"])
    assert result.exit_code == 0, result.output
    found = re.search(r"^(\d+) article\(s\) found", result.output, re.M)
    assert found, result.output
    lag = re.search(r"(\d+) article\(s\) stored since the last pass", result.output)
    return int(found[1]), int(lag[1]) if lag else 0


def _desk(client: httpx.Client) -> tuple[Counter, int]:
    """(stories by number of copies, search hits for "corridor") from the desk's downloads."""
    stories = client.get("/", params={"format": "json"})
    assert stories.status_code == 200, stories.text
    hits = client.get("/search", params={"q": "corridor", "format": "json"})
    assert hits.status_code == 200, hits.text
    return Counter(s["copies"] for s in stories.json()), len(hits.json())


def test_sql_search_and_the_desk_read_a_lake_while_it_is_written(tmp_path: Path, postgres) -> None:
    catalog = "postgres:" + postgres.create_database("reads")
    data_path = str(tmp_path / "lake")
    config = write_config(
        tmp_path / "newsmon.toml",
        config_text(outlet_toml("wire", "https://wire.example/"))
        + f'[store]\nbackend = "ducklake"\ncatalog = "{catalog}"\ndata_path = "{data_path}"\n',
    )
    ctx = multiprocessing.get_context("spawn")
    written, stop = ctx.Value("i", 0), ctx.Event()
    writer = ctx.Process(
        target=_writer, args=(catalog, data_path, str(tmp_path / "w"), written, stop)
    )
    port = _free_port()
    # The desk runs in a directory of its own: no local store to fall back on.
    (tmp_path / "desk").mkdir()
    web = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "web", "-c", str(config), "--port", str(port)],
        cwd=tmp_path / "desk", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    writer.start()
    seen: list[tuple] = []
    try:
        assert web.stdout is not None
        started = web.stdout.readline()  # printed once the app is made, before it listens
        assert "newsmon web:" in started and "lake" in started, started + web.stdout.read()
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=WAIT_S)
        _wait_listening(client, web)
        last = 0
        for _ in range(ROUNDS):
            while written.value <= last:  # ordering, not timing: a new batch since last round
                assert writer.is_alive(), "the writer died"
                stop.wait(0.05)
            last = written.value
            # Each reader sees at least the `last` batches committed and indexed before it
            # asked (the latest snapshot, not one its connection saw earlier), and one snapshot.
            articles, stories, copies, indexed = _sql(config)
            assert articles % BATCH == 0 and articles == copies and stories * BATCH == 2 * articles
            assert indexed in (articles, articles - BATCH) and indexed >= BATCH * last
            found, lag = _search(config)
            assert found % BATCH == 0 and lag in (0, BATCH) and found >= BATCH * last
            by_copies, hits = _desk(client)
            assert set(by_copies) <= {1, 2} and by_copies[1] == by_copies[2] >= last
            assert hits % BATCH == 0 and hits >= BATCH * last
            seen.append((articles, found + lag, BATCH * by_copies[2], hits))
    finally:
        stop.set()
        writer.join(timeout=WAIT_S)
        web.terminate()
        web.wait(timeout=30)
    assert writer.exitcode == 0
    for column in zip(*seen, strict=True):  # no reader went back in time
        assert list(column) == sorted(column), seen


def _wait_listening(client: httpx.Client, web: subprocess.Popen) -> None:
    while True:
        assert web.poll() is None, web.stdout.read() if web.stdout else ""
        try:
            client.get("/static/does-not-exist")
            return
        except httpx.TransportError:
            multiprocessing.Event().wait(0.1)


def test_one_reading_is_one_snapshot(tmp_path: Path, postgres) -> None:
    """A desk page and a search answer take several queries: all of them see the lake as it was
    when the reading began, whatever another process commits meanwhile."""
    settings = LakeSettings("postgres:" + postgres.create_database("snapshot"), str(tmp_path / "d"))
    reader, writer = (Store(tmp_path / n / "n.duckdb", lake=settings) for n in ("r", "w"))
    try:
        writer.write(Batch("r0", articles=_batch(0)))
        with reader.reading() as reading:
            before = reading.con.execute("SELECT count(*) FROM articles").fetchall()
            writer.write(Batch("r1", articles=_batch(1)))
            assert reading.con.execute("SELECT count(*) FROM articles").fetchall() == before
        assert reader.query("SELECT count(*) FROM articles").rows == [(2 * BATCH,)]
    finally:
        reader.close()
        writer.close()
