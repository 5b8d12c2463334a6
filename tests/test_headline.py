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


def og(title: str) -> str:
    return f'<meta property="og:title" content="{title}">'


@pytest.mark.parametrize(
    ("head", "body", "expected"),
    [
        # A label for screen readers only is not shown.
        (og("Baku and Moscow sign gas deal"),
         '<h1><span class="visually-hidden">Headline:</span> Baku and Moscow sign gas deal</h1>',
         "Baku and Moscow sign gas deal"),
        # Soft hyphens (for line breaking) do not split the words the metadata is compared on.
        (og("Газовая сделка: Баку и Москва подписали соглашение"),
         "<h1><span>Газовая сделка<span class='sr-only'>:</span></span> "
         "<span>Ба\u00adку и Мо\u00adсква под\u00adпи\u00adса\u00adли со\u00adгла\u00adше\u00adние"
         "</span></h1>",
         "Газовая сделка: Баку и Москва подписали соглашение"),
        # The first word in an element of its own, the sentence going on: no kicker.
        (og("Bakı ilə Moskva arasında qaz sazişi imzalandı"),
         "<h1><span class='mc'>Bakı</span> ilə Moskva arasında qaz sazişi imzalandı</h1>",
         "Bakı ilə Moskva arasında qaz sazişi imzalandı"),
        # The topic before a colon, in its own element: the part the metadata spells exactly.
        (og("Baku and Moscow sign gas deal"),
         "<h1><span class='topic'>Energy <span class='u-a11y-hidden'>:</span></span>"
         "<span>Baku and Moscow sign gas deal</span></h1>",
         "Baku and Moscow sign gas deal"),
        # An emphasised topic opening the h1.
        (og("Baku and Moscow sign gas deal"),
         "<h1><em>Energy </em>Baku and Moscow sign gas deal</h1>", "Baku and Moscow sign gas deal"),
        # A section's label before a colon goes; a quotation before a colon is the headline's.
        ("<title>Baku and Moscow sign gas deal | Caspian Daily</title>",
         "<h1>Blog: Baku and Moscow sign gas deal</h1>", "Baku and Moscow sign gas deal"),
        (og("Aliyev on the gas deal"), '<h1>"A new route": Aliyev on the gas deal</h1>',
         '"A new route": Aliyev on the gas deal'),
        # A topline and the headline laid out as two lines: the title's colon between them.
        (og("Energy transit: Baku and Moscow sign gas deal"),
         "<h1>Energy transit<br>Baku and Moscow sign gas deal</h1>",
         "Energy transit: Baku and Moscow sign gas deal"),
    ],
)  # fmt: skip
def test_how_the_h1_reads(head: str, body: str, expected: str) -> None:
    got = read(head, body)
    assert (got.text, got.source) == (expected, TitleSource.H1)


def test_an_h1_that_is_one_part_of_the_title_wins_though_the_site_is_unknown() -> None:
    # No og:site_name, and a host that does not spell the site: stripping "Headline | Site" by
    # length alone takes the wrong end.
    head = "<title>Gas Transit | Economic Research Service</title>"
    got = read(head, "<h1>Gas Transit</h1>")
    assert (got.text, got.source) == ("Gas Transit", TitleSource.H1)
    # A linked h1 that is a part of the title is the site's logo.
    head = "<title>Baku and Moscow sign gas deal | Energy Review</title>"
    got = read(head, '<h1><a href="https://archive.example/energy-review/">Energy Review</a></h1>')
    assert (got.text, got.source) == ("Baku and Moscow sign gas deal", TitleSource.TITLE)


def test_a_headline_that_contains_the_sites_name_is_no_logo() -> None:
    url = "https://www.caspianenergy.example/catalog/"
    page = (
        "<html><head><title>Caspian Energy Catalog Index</title></head><body>"
        "<h1>Caspian Energy Catalog</h1></body></html>"
    )
    tree = lxml.html.fromstring(page)
    got = headline(tree, [], url, site_names(tree, [], url, None))
    assert (got.text, got.source) == ("Caspian Energy Catalog", TitleSource.H1)
