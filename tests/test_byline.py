"""Authors from bylines (extractors/byline.py), on small realistic pages in en/ru/az."""

from __future__ import annotations

import json

import lxml.html
import pytest

from extractors.byline import authors, people
from extractors.headline import headline, site_names
from extractors.records import AuthorSource

URL = "https://caspiandaily.example/politics/baku-moscow-talks"
SITE_META = '<meta property="og:site_name" content="Caspian Daily">'


def read(body: str, head: str = SITE_META, feed_author: str | None = None):  # noqa: ANN201
    tree = lxml.html.fromstring(f"<html><head>{head}</head><body>{body}</body></html>")
    jsonld = [
        json.loads(script.text)
        for script in tree.iter("script")
        if script.get("type") == "application/ld+json"
    ]
    site = site_names(tree, jsonld, URL, None)
    heading = headline(tree, jsonld, URL, site)
    return authors(tree, jsonld, heading.element, site, feed_author)


H1 = "<h1>Baku and Moscow resume talks</h1>"


@pytest.mark.parametrize(
    ("byline", "names"),
    [
        ("By Jane Roe and John Smith | March 3, 2025", ["Jane Roe", "John Smith"]),
        ("<span>Written by</span> <a href='/a/jane'>Jane Roe</a>", ["Jane Roe"]),
        ("Автор: Иван Петров", ["Иван Петров"]),
        (
            "<span>Автор:</span> <a>Иван Петров</a>, <a>Анна Смирнова</a>",
            ["Иван Петров", "Анна Смирнова"],
        ),
        ("Müəllif: Aynur Əliyeva", ["Aynur Əliyeva"]),
        ("Müəllif: Aynur Əliyeva və Rəşad Məmmədli", ["Aynur Əliyeva", "Rəşad Məmmədli"]),
    ],
)
def test_a_labelled_byline_under_the_headline(byline: str, names: list[str]) -> None:
    got = read(f"<article>{H1}<p class='meta'>{byline}</p><p>Text of the article.</p></article>")
    assert got == (names, AuthorSource.BYLINE)


def test_an_author_element_with_a_date_and_a_role_beside_the_name() -> None:
    body = (
        f"{H1}<div class='post-author'><span>Dec 19, 2025</span> · "
        "<a rel='author'>Jane Roe</a><span>Senior Correspondent</span></div>"
    )
    assert read(body) == (["Jane Roe"], AuthorSource.BYLINE)


def test_labels_and_ui_strings_are_no_names() -> None:
    body = (
        f"{H1}<p>Text.</p><div class='author-box'><h3>About the Author</h3>"
        "<a class='author-link'>View more posts</a></div>"
    )
    assert read(body) == ([], None)


def test_the_site_and_its_desks_are_no_authors() -> None:
    head = SITE_META + (
        '<script type="application/ld+json">{"@type": "NewsArticle", "author": '
        '{"@type": "Organization", "name": "Caspian Daily"}}</script>'
        '<meta name="author" content="Caspian Daily">'
    )
    assert read(f"{H1}<p class='byline'>By Caspian Daily</p>", head) == ([], None)
    assert read(f"{H1}<p class='byline'>CASPIAN DAILY NEWSDESK</p>") == ([], None)
    assert read(H1, feed_author="caspiandaily.example") == ([], None)


def test_reviewers_and_photographers_are_not_the_authors() -> None:
    body = (
        f"{H1}<p class='byline'>Medically reviewed by Dr. Ann Lee</p>"
        "<figure><figcaption class='author'>Photo: Tom Black</figcaption></figure>"
        "<p class='byline'>By Jane Roe</p>"
    )
    assert read(body) == (["Jane Roe"], AuthorSource.BYLINE)


def test_the_structured_data_decides_between_a_teaser_and_the_byline() -> None:
    head = SITE_META + (
        '<script type="application/ld+json">{"@type": "NewsArticle", "author": '
        '[{"@type": "Person", "name": "Jane Roe"}]}</script>'
    )
    body = (
        f"{H1}<aside><div class='author'>Peter Teaser</div></aside>"
        "<footer><div class='author'>Jane Roe</div></footer>"
    )
    assert read(body, head) == (["Jane Roe"], AuthorSource.BYLINE)
    assert read(f"{H1}<p>No byline shown.</p>", head) == (["Jane Roe"], AuthorSource.JSONLD)


def jsonld_authors(*names: str) -> str:
    people_ = [{"@type": "Person", "name": name} for name in names]
    node = {"@type": "NewsArticle", "author": people_}
    return SITE_META + f'<script type="application/ld+json">{json.dumps(node)}</script>'


def test_a_byline_showing_the_first_authors_is_completed_by_the_structured_data() -> None:
    head = jsonld_authors("Lucy Thornton", "Tim Hanlon", "Phoebe Tonks")
    body = f"{H1}<p class='byline'>By Lucy Thornton, Tim Hanlon</p><p>Text of the article.</p>"
    assert read(body, head) == (["Lucy Thornton", "Tim Hanlon", "Phoebe Tonks"], "byline")


def test_a_single_word_only_the_structured_data_gives_does_not_join_the_byline() -> None:
    head = jsonld_authors("Björn Jahner", "DERFARANG")
    body = f"{H1}<p class='byline'>Von Björn Jahner</p><p>Text of the article.</p>"
    assert read(body, head) == (["Björn Jahner"], AuthorSource.BYLINE)


def test_a_place_after_the_name_is_no_author() -> None:
    body = f"{H1}<p class='byline'>By Johannes Ritter, Zürich</p><p>Text of the article.</p>"
    assert read(body, jsonld_authors("Johannes Ritter")) == (["Johannes Ritter"], "byline")


def test_a_teaser_naming_one_author_among_others_is_not_the_byline() -> None:
    head = jsonld_authors("Elena Oberholzer", "Oliver Maksan")
    body = (
        f"{H1}<aside><div class='authors'>Adina Renner, Inga Rogg, Elena Oberholzer</div>"
        "</aside><p>Text of the article.</p>"
    )
    assert read(body, head) == (["Elena Oberholzer", "Oliver Maksan"], AuthorSource.JSONLD)


def test_meta_then_feed_when_the_page_shows_no_byline() -> None:
    head = SITE_META + '<meta name="author" content="Jane Roe, John Smith">'
    assert read(H1, head) == (["Jane Roe", "John Smith"], AuthorSource.META)
    assert read(H1, feed_author="Jane Roe") == (["Jane Roe"], AuthorSource.FEED)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Jane Roe, MD", ["Jane Roe"]),
        ("Maria & Katerina", ["Maria", "Katerina"]),
        ("Anna Giulia Fink und Jan van der Berg", ["Anna Giulia Fink", "Jan van der Berg"]),
        ("Center for Drug Evaluation and Research", []),
        ("andrew.keaveney", []),
        ("Staff Writer", []),
        ("Jane Roe Last updated March 3", ["Jane Roe"]),
        ("Jane Roe For Dailymail.Com", ["Jane Roe"]),
        ("Elena Oberholzer (obe), Oliver Maksan (oma)", ["Elena Oberholzer", "Oliver Maksan"]),
        ("Paramita (Guha) Ghosh", ["Paramita (Guha) Ghosh"]),
        ("Advaita Suresh, Global Desk", ["Advaita Suresh"]),
    ],
)
def test_people_in_a_byline(text: str, names: list[str]) -> None:
    assert people(text, set()) == names
