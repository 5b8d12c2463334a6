"""Extraction on the recorded outlet pages (real platform chrome around the seed texts)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from extractors.article import (
    ExtractJob,
    content_hash,
    detect_language,
    extract,
)
from extractors.records import Article, UrlFailure
from flows.demo.server import DEMO_DIR, load_manifest

MANIFEST = load_manifest()
CASES = [(o, a) for o in MANIFEST for a in o.articles]


def job_for(outlet, article, **kw) -> ExtractJob:  # noqa: ANN001
    html = (DEMO_DIR / "site" / outlet.id / article["file"]).read_text(encoding="utf-8")
    url = outlet.origin + article["path"]
    fields = dict(
        html=html, url=url, final_url=url, outlet_id=outlet.id, homepage=outlet.origin + "/",
        fetched_at=datetime.now(UTC), via="feed", default_language=outlet.language,
    )  # fmt: skip
    fields.update(kw)
    return ExtractJob(**fields)


@pytest.fixture(scope="module")
def extracted() -> dict[str, Article]:
    out = {}
    for outlet, article in CASES:
        result = extract(job_for(outlet, article))
        assert isinstance(result, Article), f"{article['path']}: {result}"
        out[article["path"]] = result
    return out


def ids(case: tuple) -> str:
    return case[1]["path"].strip("/").split("/")[-1][:40]


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_text_is_the_article_alone(case: tuple, extracted: dict[str, Article]) -> None:
    _, article = case
    got = extracted[article["path"]]
    # The first sentence opens the text (an editor's one-line intro may precede it).
    assert article["first_sentence"] in "\n".join(got.text.split("\n")[:2])
    assert article["last_sentence"] in got.text
    leaked = [s for s in article["chrome_snippets"] if s in got.text]
    assert leaked == []
    assert article["title"] not in got.text.split("\n")[0]


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_metadata(case: tuple, extracted: dict[str, Article]) -> None:
    outlet, article = case
    got = extracted[article["path"]]
    assert got.title == article["title"]
    assert got.language == article["language"]
    assert got.canonical_url == outlet.origin + article["path"]
    assert got.content_hash == content_hash(got.text)
    assert got.word_count == len(got.text.split()) > 300
    if article["date_in_page"] == "visible-only":
        # The page shows a date without time under its headline; without a feed hint only the
        # day is known.
        assert got.date_source == "dateline"
        assert got.published_at is not None
        assert got.published_at.date() == date.fromisoformat(article["published_at"])
    else:
        assert got.date_source == article["date_in_page"]
        expected = datetime.fromisoformat(article["published_at"])
        assert got.published_at == expected
        assert got.published_at.utcoffset() == expected.utcoffset()  # the page's own zone is kept
    assert got.authors == article["authors"]


def test_feed_date_and_author_fill_what_the_page_lacks() -> None:
    outlet, article = next((o, a) for o, a in CASES if a["date_in_page"] == "visible-only")
    hint = datetime(2024, 11, 14, 18, 10, tzinfo=UTC)
    got = extract(job_for(outlet, article, hint_published=hint, hint_author="Jane Roe"))
    assert isinstance(got, Article)
    assert (got.published_at, got.date_source) == (hint, "feed")
    assert (got.authors, got.author_source) == (["Jane Roe"], "feed")
    # A feed that credits the site itself names no author.
    site = extract(job_for(outlet, article, hint_author="commonspace.eu"))
    assert isinstance(site, Article) and site.authors == []


def test_page_date_beats_feed_date() -> None:
    outlet, article = CASES[0]
    hint = datetime(2020, 1, 1, tzinfo=UTC)
    got = extract(job_for(outlet, article, hint_published=hint))
    assert isinstance(got, Article) and got.date_source == "jsonld"


def page(body: str, head: str = "") -> str:
    return f"<html lang='en'><head><title>T</title>{head}</head><body><article><h1>A headline here</h1>{body}</article></body></html>"


LONG = "".join(
    f"<p>Paragraph {i}: the delegation from Baku met officials in Moscow to discuss transit, "
    "energy and the status of the diaspora, according to people familiar with the talks.</p>"
    for i in range(8)
)


def simple_job(html: str, **kw) -> ExtractJob:  # noqa: ANN003
    fields = dict(
        html=html, url="https://ex.org/news/a-b-c", final_url="https://ex.org/news/a-b-c",
        outlet_id="ex", homepage="https://ex.org/", fetched_at=datetime.now(UTC), via="feed",
    )  # fmt: skip
    fields.update(kw)
    return ExtractJob(**fields)


def test_future_and_ancient_dates_are_rejected() -> None:
    future = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    got = extract(
        simple_job(page(LONG, f'<meta property="article:published_time" content="{future}">'))
    )
    assert isinstance(got, Article) and got.date_source != "meta"
    got = extract(
        simple_job(
            page(LONG, '<meta property="article:published_time" content="1970-01-01T00:00:00Z">')
        )
    )
    assert isinstance(got, Article) and (got.published_at is None or got.published_at.year >= 1990)


def test_offsite_canonical_is_ignored_and_onsite_one_used() -> None:
    got = extract(simple_job(page(LONG, '<link rel="canonical" href="https://other.com/x-y-z">')))
    assert isinstance(got, Article) and got.canonical_url == "https://ex.org/news/a-b-c"
    got = extract(
        simple_job(page(LONG, '<link rel="canonical" href="/news/a-b-c?utm_source=x#top">'))
    )
    assert isinstance(got, Article) and got.canonical_url == "https://ex.org/news/a-b-c"
    got = extract(
        simple_job(
            page(LONG, '<meta property="og:url" content="https://www.ex.org/news/final-slug">')
        )
    )
    assert isinstance(got, Article) and got.canonical_url == "https://www.ex.org/news/final-slug"


def test_rel_canonical_outranks_og_url_wherever_they_stand() -> None:
    head = (
        '<meta property="og:url" content="https://ex.org/news/og-slug">'
        '<link rel="canonical" href="https://ex.org/news/canonical-slug">'
    )
    got = extract(simple_job(page(LONG, head)))
    assert isinstance(got, Article) and got.canonical_url == "https://ex.org/news/canonical-slug"


def test_time_tags_marked_as_publication_date_outrank_the_articles_first_time() -> None:
    body = (
        '<p><time datetime="2024-05-02T08:00:00+04:00">2 May</time></p>'
        '<span itemprop="datePublished" content="2024-05-01T09:30:00+04:00"></span>' + LONG
    )
    got = extract(simple_job(page(body)))
    assert isinstance(got, Article) and got.date_source == "time-tag"
    assert got.published_at == datetime(2024, 5, 1, 5, 30, tzinfo=UTC)
    # Without the marked one, the article's first <time> with a time of day counts.
    got = extract(simple_job(page(body.replace('itemprop="datePublished"', 'class="x"'))))
    assert isinstance(got, Article) and got.date_source == "time-tag"
    assert got.published_at == datetime(2024, 5, 2, 4, 0, tzinfo=UTC)


def test_pages_without_article_are_failures_not_exceptions() -> None:
    assert isinstance(extract(simple_job(page("<p>Too short.</p>"))), UrlFailure)
    assert isinstance(extract(simple_job("")), UrlFailure)
    garbage = bytes(range(256)).decode("latin-1") * 50
    assert isinstance(extract(simple_job(garbage)), UrlFailure)


def test_language_is_detected_not_only_declared() -> None:
    russian = "".join(
        f"<p>Абзац {i}: делегация из Баку встретилась в Москве с официальными лицами, чтобы обсудить "
        "транзит, энергетику и положение диаспоры, сообщают источники.</p>"
        for i in range(8)
    )
    got = extract(simple_job(page(russian), default_language="en"))
    assert isinstance(got, Article) and got.language == "ru"
    assert (
        detect_language(
            "Azərbaycan və Rusiya arasında münasibətlər son illərdə gərginləşib, Bakı bəyanat yayıb."
        )
        == "az"
    )
    assert detect_language("short") is None


def test_language_of_a_text_with_a_lead_in_another_language() -> None:
    # An English lead on a German article: the first few hundred characters are not enough.
    lead = "The foreign ministers of Azerbaijan and Russia met in Moscow on Tuesday to talk. "
    body = (
        "Die Außenminister Aserbaidschans und Russlands trafen sich am Dienstag in Moskau, um "
        "über Transitrouten, Handel und die Lage in der Region zu sprechen. "
    )
    assert detect_language(lead * 6 + body * 8) == "de"
    assert detect_language(body * 8) == "de" and detect_language(lead * 20) == "en"


def test_jsonld_graph_datepublished_with_offset() -> None:
    ld = (
        '<script type="application/ld+json">{"@context":"https://schema.org","@graph":['
        '{"@type":"WebPage","datePublished":"2020-01-01T00:00:00+00:00"},'
        '{"@type":"NewsArticle","datePublished":"2025-07-05T13:15:00+04:00","author":{"name":"Jane Roe"}}]}'
        "</script>"
    )
    got = extract(simple_job(page(LONG, ld)))
    assert isinstance(got, Article)
    assert got.published_at == datetime.fromisoformat("2025-07-05T13:15:00+04:00")
    assert got.published_at.utcoffset() == timedelta(hours=4)
    assert got.date_source == "jsonld"


def test_xhtml_with_an_xml_declaration_is_extracted() -> None:
    """XHTML pages open with <?xml ... encoding=...?>; lxml refuses that on decoded text."""
    xhtml = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n'
        '<html xmlns="http://www.w3.org/1999/xhtml" lang="en"><head><title>T</title></head>'
        f"<body><article><h1>A headline here</h1>{LONG}</article></body></html>"
    )
    got = extract(simple_job(xhtml))
    assert isinstance(got, Article), got
    assert "delegation from Baku" in got.text


def test_headline_and_kicker_leave_the_text_but_a_lead_before_the_headline_stays() -> None:
    """Some layouts put the lead paragraph above the <h1>: it is body, not a kicker."""

    def laid_out(before: str) -> str:
        return (
            "<html lang='en'><head><title>A headline here</title></head><body><article>"
            f"{before}<h1>A headline here</h1>{LONG}</article></body></html>"
        )

    got = extract(simple_job(laid_out("<p>Politics</p>")))
    assert isinstance(got, Article), got
    assert got.title == "A headline here"
    assert got.text.startswith("Paragraph 0"), got.text[:80]

    lead = (
        "<p>Officials in Baku said on Monday that the new transit agreement with Moscow would "
        "double the volume of freight crossing the border by the end of next year.</p>"
    )
    got = extract(simple_job(laid_out(lead)))
    assert isinstance(got, Article), got
    assert got.text.startswith("Officials in Baku said on Monday"), got.text[:80]
    assert "A headline here" not in got.text
    assert "Paragraph 0" in got.text


def test_scripts_with_combining_marks_and_tables_of_figures_are_text() -> None:
    hindi = "समस्तीपुर पुलिस ने दो दिनों के अंदर चोरी कांड का खुलासा किया और गहना भी बरामद किया। " * 6
    figures = "\n".join(
        f"City {n}: 4.{n}% growth, $41{n},712 median, 2{n}.3 days on market" for n in range(12)
    )
    for body in (hindi, figures):
        html = page(f"<article><h1>Report</h1><p>{body.replace(chr(10), '</p><p>')}</p></article>")
        got = extract(ExtractJob(html, "https://h.example/a", "https://h.example/a", "x",
                                 "https://h.example/", datetime.now(UTC), "feed"))  # fmt: skip
        assert isinstance(got, Article), got
    soup = " ".join("".join(chr(0x2500 + (n + k) % 80) for k in range(6)) for n in range(60))
    html = page(f"<article><h1>Report</h1><p>{soup} word {soup}</p></article>")
    got = extract(ExtractJob(html, "https://h.example/b", "https://h.example/b", "x",
                             "https://h.example/", datetime.now(UTC), "feed"))  # fmt: skip
    assert not isinstance(got, Article) and "not prose" in got.failure.message
