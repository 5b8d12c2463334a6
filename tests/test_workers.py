"""The extraction pool: workers fork from a warmed server, score topics with the rules they
were started with, and end when the process that made them is gone."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from extractors.article import ExtractJob
from extractors.records import Article
from extractors.topics import Rule, Term
from extractors.workers import Scorer, make_pool, process


def rule(threshold: float) -> Rule:
    terms = {"baku": (Term.parse("Baku"),), "moscow": (Term.parse("Moscow"),)}
    return Rule("r", "R", "baku AND moscow", terms, min_mentions=1, threshold=threshold)


def test_workers_score_each_article_against_the_rules_they_were_started_with() -> None:
    body = " ".join(f"Baku and Moscow discussed transit, sentence {i}." for i in range(20))
    html = f"<html><head><title>Talks</title></head><body><article><p>{body}</p></article></body></html>"  # fmt: skip
    url = "https://example.org/news/talks"
    job = ExtractJob(html, url, url, "o", "https://example.org/", datetime.now(UTC), "feed")
    rules = (rule(2), rule(1000))
    pool = make_pool(1, rules)
    try:
        article = pool.submit(process, job).result()
    finally:
        pool.shutdown()
    assert isinstance(article, Article) and article.topics is not None
    assert [(t.matched, t.rule_signature) for t in article.topics] == [
        (True, rules[0].signature()), (False, rules[1].signature()),
    ]  # fmt: skip
    assert process(job).topics is None  # this process started no worker: no rules, no scores
    assert Scorer(rules).scores("Talks", body) == article.topics


def _warmed_before_fork() -> bool:
    """Run in a worker: did the process it forked from import and warm the extraction code?"""
    return "extractors.warm" in sys.modules


@pytest.mark.skipif(
    "forkserver" not in multiprocessing.get_all_start_methods(), reason="no fork server here"
)
def test_extraction_workers_fork_from_a_warmed_server() -> None:
    pool = make_pool(1)
    try:
        assert pool.submit(_warmed_before_fork).result()
    finally:
        pool.shutdown()


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc")
def test_workers_end_when_the_process_that_made_the_pool_is_killed(tmp_path: Path) -> None:
    # A pool whose process dies without shutting it down (out of memory, kill -9).
    script = (
        "import os, extractors.workers as w; pool = w.make_pool(1); "
        "print(pool.submit(os.getpid).result(), flush=True); os._exit(0)"
    )
    root = Path(__file__).resolve().parent.parent
    out = tmp_path / "worker.txt"
    with out.open("w") as f:  # a file, not a pipe: reading a pipe would wait for the workers
        subprocess.run([sys.executable, "-c", script], stdout=f, cwd=root, check=True)
    worker = int(out.read_text().split()[0])
    # However long the worker's next look at its owner takes on a busy machine: a worker that
    # never notices stays, and the test's own timeout (pytest-timeout) fails it.
    while _running(worker):
        time.sleep(0.2)


def test_workers_split_sentences_by_the_article_language(monkeypatch: pytest.MonkeyPatch) -> None:
    """«г.» (город) ends no sentence in Russian; English rules would split there, and a NEAR/s
    condition scored without the article's language would miss."""
    rules = (
        Rule(
            "r", "R", "envoy NEAR/s baku",
            {"envoy": (Term.parse("посол"),), "baku": (Term.parse("Баку"),)}, min_mentions=1,
        ),
    )  # fmt: skip
    filler = " ".join(f"Делегации обсудили транзит грузов, абзац {i}." for i in range(12))
    body = f"<p>{filler}</p><p>Посол прибыл в г. Баку во вторник.</p>"
    html = f'<html lang="ru"><head><title>Визит</title></head><body><article>{body}</article></body></html>'  # fmt: skip
    url = "https://example.org/news/visit"
    job = ExtractJob(html, url, url, "o", "https://example.org/", datetime.now(UTC), "feed")
    monkeypatch.setattr("extractors.workers._scorer", Scorer(rules))
    article = process(job)
    assert isinstance(article, Article) and article.language == "ru" and article.topics
    assert article.topics[0].matched
    assert not Scorer(rules).scores(article.title, article.text)[0].matched  # English rules
