"""The headline as the page shows it (extractors/headline.py), on small realistic pages."""

from __future__ import annotations

import json

import lxml.html
import pytest

from extractors.headline import Headline, headline, site_names, strip_site
from extractors.records import TitleSource

URL = "https://caspiandaily.example/energy/2025/03/baku-moscow-gas-route"
SITE = {"caspiandaily", "caspiandailyexample"}


def read(head: str, body: str, feed_title: str | None = None) -> Headline:
    tree = lxml.html.fromstring(f"<html><head>{head}</head><body>{body}</body></html>")
    jsonld = [
        json.loads(script.text)
        for script in tree.iter("script")
        if script.get("type") == "application/ld+json"
    ]
    return headline(tree, jsonld, URL, site_names(tree, jsonld, URL, None), feed_title)


SEO_HEAD = (
    "<title>Gas deal: what Baku gets from Moscow | Caspian Daily</title>"
    '<meta property="og:title" content="Gas deal: what Baku gets from Moscow">'
    '<meta property="og:site_name" content="Caspian Daily">'
)


def test_the_visible_h1_beats_the_seo_title() -> None:
    got = read(SEO_HEAD, "<article><h1>What Baku gets from its gas deal with Moscow</h1></article>")
    assert (got.text, got.source) == ("What Baku gets from its gas deal with Moscow", "h1")


def test_the_site_logo_h1_is_not_the_headline() -> None:
    body = (
        '<header><h1><a href="/">Caspian Daily</a></h1></header>'
        "<article><h1>What Baku gets from its gas deal with Moscow</h1></article>"
    )
    assert read(SEO_HEAD, body).text == "What Baku gets from its gas deal with Moscow"


def test_an_h1_nothing_agrees_with_loses_to_the_metadata() -> None:
    body = "<div class='promo'><h1>Subscribe to our energy newsletter</h1></div>"
    got = read(SEO_HEAD, body)
    assert (got.text, got.source) == ("Gas deal: what Baku gets from Moscow", "og")


def test_a_kicker_in_its_own_element_is_left_out_but_a_written_colon_stays() -> None:
    kicker = (
        '<h1><span class="kicker">Energy</span> <span>Baku and Moscow sign gas deal</span></h1>'
    )
    head = "<title>Energy: Baku and Moscow sign gas deal - Caspian Daily</title>"
    assert read(head, kicker).text == "Baku and Moscow sign gas deal"
    written = "<h1><span>Energy:</span> Baku and Moscow sign gas deal</h1>"
    assert read(head, written).text == "Energy: Baku and Moscow sign gas deal"


def test_dates_and_bylines_nested_in_the_h1_are_left_out() -> None:
    body = (
        "<h1>Baku and Moscow sign gas deal"
        '<time datetime="2025-03-03">3 March 2025</time>'
        '<div class="byline">Posted by Jane Roe</div></h1>'
    )
    head = '<meta property="og:title" content="Baku and Moscow sign gas deal">'
    assert read(head, body).text == "Baku and Moscow sign gas deal"


def test_without_h1_the_metadata_title_loses_the_site_name() -> None:
    head = '<title>Baku and Moscow sign gas deal – Caspian Daily</title><meta property="og:site_name" content="Caspian Daily">'
    got = read(head, "<p>Body.</p>")
    assert (got.text, got.source) == ("Baku and Moscow sign gas deal", "title")


def test_jsonld_headline_comes_before_og_and_title() -> None:
    head = (
        '<script type="application/ld+json">'
        '{"@type": "NewsArticle", "headline": "Baku and Moscow sign gas deal"}</script>' + SEO_HEAD
    )
    got = read(head, "<p>Body.</p>")
    assert (got.text, got.source) == ("Baku and Moscow sign gas deal", TitleSource.JSONLD)


def test_the_feed_title_is_the_last_resort() -> None:
    got = read("", "<p>Body.</p>", feed_title="Baku and Moscow sign gas deal")
    assert (got.text, got.source) == ("Baku and Moscow sign gas deal", "feed")
    assert read("", "<p>Body.</p>") == Headline(None, None, None)


@pytest.mark.parametrize(
    "title",
    [
        "Baku and Moscow sign gas deal | Caspian Daily",
        "Caspian Daily | Baku and Moscow sign gas deal",
        "Baku and Moscow sign gas deal » Energy » Caspian Daily",
        "Baku and Moscow sign gas deal - caspiandaily.example",
        "Caspian Daily: Baku and Moscow sign gas deal",
        "Baku and Moscow sign gas deal · World News · Caspian Daily",
    ],
)
def test_site_names_and_sections_go_whatever_the_separator(title: str) -> None:
    assert strip_site(title, SITE, {"energy"}) == "Baku and Moscow sign gas deal"


def test_separators_inside_a_headline_stay() -> None:
    assert strip_site("Baku – Moscow: the gas deal explained", SITE) == (
        "Baku – Moscow: the gas deal explained"
    )
    assert strip_site("Россия и Азербайджан: новый газовый маршрут", SITE) == (
        "Россия и Азербайджан: новый газовый маршрут"
    )


def test_parts_of_the_h1_shown_as_lines_do_not_run_together() -> None:
    body = "<h1>Baku and Moscow sign gas deal<span class='sub'>What changes for transit</span></h1>"
    head = '<meta property="og:title" content="Baku and Moscow sign gas deal">'
    assert read(head, body).whole == "Baku and Moscow sign gas deal What changes for transit"


def test_a_colon_prefix_that_merely_contains_the_hosts_name_stays() -> None:
    url = "https://teaching.resources.example.edu/topics/teaching-online-effective-practices"
    page = (
        "<html><head><title>Teaching Online: Effective Practices | Teaching and Learning"
        ' Resource Center</title><meta property="og:site_name" content="Teaching and Learning'
        ' Resource Center"></head><body><h1><span>Teaching Online: Effective Practices </span>'
        "</h1></body></html>"
    )
    tree = lxml.html.fromstring(page)
    got = headline(tree, [], url, site_names(tree, [], url, None))
    assert (got.text, got.source) == ("Teaching Online: Effective Practices", TitleSource.H1)
    # The site's own name before a colon still goes.
    assert strip_site("Caspian Daily: Gas deal signed", SITE) == "Gas deal signed"
