"""Peer libraries over the same loopback URLs, each in its own process (run by pipeline_bench).

    python benchmarks/peers.py {news-please|newspaper4k} URLS_FILE

Standalone on purpose (standard library plus the peer): it runs with the project's venv when
the peers are installed there (`pip install -e '.[peers]'`), or with any other venv that has
them. Prints one JSON line: seconds, pages, extracted (non-empty text), CPU seconds of this
process and its children, peak RSS.

Each peer runs its documented high-throughput path with image fetching off (the pages name
images on hosts this machine cannot reach):
  - news-please: NewsPlease.from_urls(urls) — one download thread per URL, then a process pool
    of one worker per core for extraction;
  - newspaper4k: newspaper.mthreading.fetch_news(articles, threads=N) — download and parse in
    a thread pool (parsing holds the GIL, so about one core).
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import sys
import time

THREADS = 10


def _news_please(urls: list[str]) -> int:
    from newsplease import NewsPlease

    # request_args must be given: from_urls reads its timeout and, without it, turns every
    # result into {} (AttributeError on None inside its own try).
    found = NewsPlease.from_urls(urls, request_args={"timeout": 60}, fetch_images=False)
    return sum(1 for a in found.values() if getattr(a, "maintext", None))


def _newspaper(urls: list[str]) -> int:
    from newspaper import Article
    from newspaper.mthreading import fetch_news

    class Tolerant(Article):
        # fetch_news lets one page's exception (lxml refuses control characters) end the whole
        # batch; here such a page counts as not extracted, as in the other measurements.
        def parse(self) -> Article:
            try:
                return super().parse()
            except Exception:
                self.text = ""
                return self

    articles = [Tolerant(url, fetch_images=False, request_timeout=60) for url in urls]
    return sum(1 for a in fetch_news(articles, threads=THREADS) if (a.text or "").strip())


PEERS = {"news-please": _news_please, "newspaper4k": _newspaper}
MODULES = {"news-please": "newsplease", "newspaper4k": "newspaper.mthreading"}


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main(argv: list[str]) -> int:
    name, path = argv
    with open(path, encoding="utf-8") as f:
        urls = [line.strip() for line in f if line.strip()]
    importlib.import_module(MODULES[name])  # import time is not throughput
    started, cpu0 = time.perf_counter(), _cpu()
    extracted = PEERS[name](urls)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "peer": name, "pages": len(urls), "extracted": extracted,
                "seconds": round(seconds, 2), "articles_per_s": round(len(urls) / seconds, 2),
                "cpu_s": round(_cpu() - cpu0, 2), "cores": os.cpu_count(),
                "peak_rss_mb_self": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        )
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
