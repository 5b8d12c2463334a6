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


PROSE = (
    "<p>Enterprise technology investment continues to accelerate, but the friction point has "
    "shifted: the hard part is no longer training models but getting them into production "
    "and keeping them responsive under real-world load.</p>"
)


def test_a_link_to_the_authors_page_is_a_byline_and_names_a_one_word_author() -> None:
    body = (
        f"{H1}<div class='meta'><a href='/blog/author/yucy/'>Yucy</a><span>3/4/2025</span>"
        f"</div>{PROSE}<aside><div class='author'>Peter Teaser</div></aside>"
    )
    assert read(body) == (["Yucy"], AuthorSource.BYLINE)


def test_a_link_to_a_persons_page_in_the_text_is_no_byline() -> None:
    body = (
        f"{H1}<p>Did <a href='http://quotes.example/person.php?author=Mozart'>Wolfgang "
        "Amadeus Mozart</a> ever worry about school?</p>"
        "<span class='author'>Posted by <a rel='author'>Günter W. Kienitz</a></span>"
    )
    assert read(body) == (["Günter W. Kienitz"], AuthorSource.BYLINE)


@pytest.mark.parametrize(
    ("box", "names"),
    [
        (
            "<p>Written by <a href='/team/mk'>Moses Kim and Kate Shokurova</a></p>",
            ["Moses Kim", "Kate Shokurova"],
        ),
        ("<div><span>Posted by David at December 16, 2025 11:15 AM</span></div>", ["David"]),
        ("<h3>Nawaz Dhandala</h3><p>Author</p><p>@nawazdhandala • Jan 26, 2026</p>", None),
        ("<div><span>Автор:</span> <b>Иван Петров</b></div>", ["Иван Петров"]),
        ("<div><span>Müəllif:</span> <b>Aynur Əliyeva</b></div>", ["Aynur Əliyeva"]),
        (
            "<div><span>Author</span><span>CP</span><b>Chengcheng Pei</b>"
            "<i>Staff Software Engineer</i></div>",
            ["Chengcheng Pei"],
        ),
    ],
)
def test_an_author_box_after_the_article(box: str, names: list[str] | None) -> None:
    """No byline near the headline, no structured data: the box after the text names them."""
    got = read(f"<article>{H1}{PROSE * 30}</article><footer>{box}</footer>")
    assert got == (names or ["Nawaz Dhandala"], AuthorSource.BYLINE)


def test_an_author_box_of_comments_or_a_bare_by_names_nobody() -> None:
    teaser = "<div class='related'><h3>Another story</h3><p>By Peter Teaser</p></div>"
    comments = "<div class='comments'><span>Posted by: John</span></div>"
    article = f"<article>{H1}{PROSE}{PROSE}{PROSE}</article>"
    assert read(f"{article}{teaser}{comments}") == ([], None)


def test_the_post_says_who_wrote_it_and_the_role_that_follows_is_no_name() -> None:
    body = (
        f"{H1}<p><em>This post was written by <a href='/p/vm'>Vanessa Mendez</a>, Head of "
        "Marketing and Community Development.</em></p>" + PROSE
    )
    assert read(body) == (["Vanessa Mendez"], AuthorSource.BYLINE)


def test_a_by_inside_the_prose_is_no_byline() -> None:
    body = (
        f"{H1}<p>By focusing on affordable services, small businesses can maximise their "
        "marketing efforts without stretching their budgets, and reach the audiences that "
        "were once only within the reach of large corporations.</p>"
        f"{PROSE}{PROSE}<p>Figures compiled <a href='/r'>by AM Best’s Review</a>.</p>"
    )
    assert read(body) == ([], None)


def test_a_login_loses_to_the_name_the_page_or_the_data_gives() -> None:
    byline = "<div class='byline'><a href='/author/rasmus-barslund/'>Rasmus Barslund</a></div>"
    assert read(f"{H1}{byline}{PROSE}", jsonld_authors("RasmusHaxholm")) == (
        ["Rasmus Barslund"],
        AuthorSource.BYLINE,
    )
    head = SITE_META + '<meta name="author" content="Lisa Greene-Lewis">'
    body = f"{H1}<div class='byline'><a href='/author/turbotaxlisa/'>TurboTaxLisa</a></div>"
    assert read(body + PROSE, head) == (["Lisa Greene-Lewis"], AuthorSource.META)


def test_a_reviewer_set_apart_by_the_markup_is_not_the_author() -> None:
    body = (
        f"{H1}<div><span>Medically reviewed</span> <span>by</span> <a class='css-1'>Kim "
        "Rose-Francis RDN</a> — <span>Written by</span> <a class='css-1'>Jillian Kubala</a>"
        f"</div>{PROSE}"
    )
    assert read(body) == (["Jillian Kubala"], AuthorSource.BYLINE)
    reviewer = f"{H1}<div>Reviewed by <a class='byline-author-link'>Robert Tschudi</a></div>{PROSE}"
    assert read(reviewer) == ([], None)


def test_tag_links_are_no_authors() -> None:
    body = (
        f"{H1}<h4>By</h4><div><a href='/wedding-checklists/' rel='tag'>Wedding Checklists</a>"
        "</div><div class='co-author'><a href='/author/naoise/'>Naoise McNally</a></div>"
        f"{PROSE}<a id='author-modal' href='/blog/?content_topic=906'>HR Strategy</a>"
    )
    assert read(body) == (["Naoise McNally"], AuthorSource.BYLINE)


def test_an_institution_beside_a_person_is_where_she_works() -> None:
    head = jsonld_authors("Arlene Marturano", "South Carolina Garden-based Learning Network")
    body = f"{H1}<div><span class='article__byline'>By Arlene Marturano</span></div>{PROSE}"
    assert read(body, head) == (["Arlene Marturano"], AuthorSource.BYLINE)
    assert read(H1, jsonld_authors("Wikimedia Foundation")) == (
        ["Wikimedia Foundation"],
        AuthorSource.JSONLD,
    )


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("heart--outline", []),
        ("»", []),
        ("I", []),
        ("Date", []),
        ("Rapid7", []),
        ("cipha[at]cipha.net", []),
        ("auto-motor.at Redaktion", []),
        ("von Marianne1 am 20.09.2020", []),
        ("Posted by Nesselsetzer under Just For Fun", ["Nesselsetzer"]),
        ("Interview: Julia Lauter", ["Julia Lauter"]),
        ("Jake Donaldson, Managing Principal", ["Jake Donaldson"]),
        ("Jane Roe, Staff Writer and John Doe", ["Jane Roe", "John Doe"]),
        ("Brett Cruz, Security Expert & Gene Petrino", ["Brett Cruz", "Gene Petrino"]),
    ],
)
def test_what_is_and_is_not_a_name(text: str, names: list[str]) -> None:
    assert people(text, set()) == names


@pytest.mark.parametrize(
    ("line", "names"),
    [
        ("<p>Elliot Raba</p><p>23.07.2025 · 6 min read</p>", ["Elliot Raba"]),
        ("<div>2025-12-17 · <a href='/p/tt'>Trond Teigen</a></div>", ["Trond Teigen"]),
        ("<p><span>Иван Петров</span> | <time>3 марта 2025</time></p>", ["Иван Петров"]),
        ("<p>Aynur Əliyeva</p><p>23.07.2025</p>", ["Aynur Əliyeva"]),
        ("<h2>Die Haubenfahrzeuge der Nachkriegszeit</h2><p>23.07.2025</p>", []),
        ("<p>Read More</p><p>23.07.2025</p>", []),
    ],
)
def test_an_unlabelled_name_beside_the_date_under_the_headline(line: str, names: list[str]) -> None:
    got = read(f"<article>{H1}{line}{PROSE}{PROSE}</article>")
    assert got == ((names, AuthorSource.BYLINE) if names else ([], None))
