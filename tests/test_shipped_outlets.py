"""The shipped newsmon.toml: every source URL says what it rests on (issue 20's evidence)."""

from __future__ import annotations

import re
from pathlib import Path

from flows.config import load

CONFIG = Path(__file__).parents[1] / "newsmon.toml"
EVIDENCE = re.compile(r"confirmed|seen in|unverified", re.I)


def test_every_source_url_says_what_it_rests_on() -> None:
    lines = CONFIG.read_text(encoding="utf-8").splitlines()
    sources = [i for i, line in enumerate(lines) if re.match(r"(feeds|sitemaps|sections) =", line)]
    assert len(sources) >= 14
    for i in sources:
        comment = lines[i].partition("#")[2]
        above = lines[i - 1] if lines[i - 1].startswith("#") else ""
        above2 = lines[i - 2] if above and lines[i - 2].startswith("#") else ""
        assert EVIDENCE.search(comment + above + above2), f"line {i + 1}: {lines[i]}"


def test_the_evidence_is_in_the_config() -> None:
    outlets = {o.id: o for o in load(CONFIG).outlets}
    assert outlets["eurasianet"].feeds == ("https://eurasianet.org/rss",)
    assert outlets["minval"].feeds == ("https://minval.az/rss",)
    assert outlets["report-az"].feeds == ("https://report.az/rss/",)
    assert outlets["report-az-en"].feeds == ("https://report.az/en/rss/",)
    assert outlets["report-az-ru"].feeds == ("https://report.az/ru/rss/",)
    assert outlets["apa-az"].feeds == ("https://apa.az/rss",)
    turan = outlets["turan"]
    assert turan.homepage == "https://turan.az/" and not turan.feeds
    assert turan.sitemaps == ("https://turan.az/storage/sitemap/az/sitemap_index_0.xml",)
    assert [s.url for s in outlets["commonspace"].sections] == [
        "https://www.commonspace.eu/region/south-caucasus?page=0"
    ]
    confirmed = {"jamnews": "/feed/", "oc-media": "/feed/", "tass-en": "/rss/v2.xml",
                 "interfax": "/rss.asp", "meduza": "/rss/all"}  # fmt: skip
    for outlet_id, path in confirmed.items():
        assert outlets[outlet_id].feeds[0].endswith(path)
