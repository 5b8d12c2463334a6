"""The article's authors, as people, and which signal named them.

What a reader takes for the author is the byline near the headline ("By Jane Roe", «Автор:
Иван Петров», "Müəllif: Aynur Əliyeva"). Structured data often names someone else: the
publisher, a CMS login, the site, an editor. So the signals go in this order, recorded as
AuthorSource:

1. `byline`: the nearest byline element to the headline (rel/itemprop/class author or byline,
   a link to an author page), or a labelled byline in the text right after it, or a name
   beside the date under it.
2. `jsonld`: the JSON-LD article's author.
3. `meta`: meta author tags (name="author", article:author, parsely-author, dc.creator...).
4. `feed`: the feed item's author.
5. `byline` again: an author box after the article ("Written by", "Author:"), when nothing
   above names anyone.

Each is split into people and cleaned (extractors/byline_names.py); what is not a person's
name (a label, a UI string, a date, a role, the site's or the publisher's name) is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import lxml.etree
import lxml.html

from extractors.byline_names import (
    NOT_AUTHOR_LABEL,
    is_login,
    people,
    people_first,
    read_names,
    segments,
    unique,
)
from extractors.byline_words import ARTICLES, PARTICLES
from extractors.datetext import human_date
from extractors.records import AuthorSource
from extractors.sitename import squash

NEAR_AFTER = 400  # elements after the headline searched for its byline
NEAR_BEFORE = 120  # and before it (some layouts put the byline above the headline)
TEXT_AFTER = 25  # text pieces after the headline searched for a labelled byline
BYLINE_WORDS = 20  # "This post was written by Jane Roe, Head of Marketing": longer is prose
DATE_WORDS_MAX = 6  # "Updated on Monday, 23 July 2025": a dateline, not a sentence with a date
BOX_LABEL_CHARS = 160  # "Written by Jane Roe, Staff Writer" and its spacing; longer is prose
MAX_BOX_LABELS = 12  # label candidates read after the article: boxes come one or two
PROSE_BLOCKS = 2  # a standfirst, then the body: the byline is above the second paragraph

# Each attribute is tested for presence before its contains() calls: most elements have no
# class, id or link, and the contains() calls are what this search costs.
_BYLINE = (
    "@rel='author' or @itemprop='author' or @itemprop='creator'"
    " or (@class and (contains(@class,'author') or contains(@class,'byline')"
    " or contains(@class,'Author') or contains(@class,'Byline') or contains(@class,'writer')"
    " or contains(@class,'autor') or contains(@class,'avtor') or contains(@class,'reporter')))"
    " or (@id and (contains(@id,'author') or contains(@id,'byline')))"
    # A link to the author's page ("/author/jane-roe", "/blog-authors/...") is a byline
    # whatever its class.
    " or (@href and (contains(@href,'/author/') or contains(@href,'/authors/')"
    " or contains(@href,'-authors/') or contains(@href,'/autor/') or contains(@href,'/avtor/')))"
)
_AFTER = lxml.etree.XPath(f"following::*[position() <= {NEAR_AFTER}][{_BYLINE}]")
_BEFORE = lxml.etree.XPath(f"preceding::*[position() <= {NEAR_BEFORE}][{_BYLINE}]")
_ANYWHERE = lxml.etree.XPath(f"//body//*[{_BYLINE}]")
_TEXT_AFTER = lxml.etree.XPath(f"following::text()[normalize-space()][position() <= {TEXT_AFTER}]")
# Text pieces holding an author box's label, found by lxml (a fraction of the cost of
# reading every text piece in Python; the first letter left out, either case matches);
# _STRONG_LABEL then checks that the label opens them.
_BOX_TEST = (
    "[contains(., 'ritten by') or contains(., 'osted by') or contains(., 'uthor')"
    " or contains(., 'втор') or contains(., 'üəllif')]"
)
_BOX_LABELS = lxml.etree.XPath(f"following::text(){_BOX_TEST}")
_BOX_LABELS_ANYWHERE = lxml.etree.XPath(f"//body//text(){_BOX_TEST}")
_BOX_TEXT = lxml.etree.XPath(
    "descendant::text()[position() <= 8]"
    " | following::text()[not(parent::style or parent::script)][position() <= 8]"
)
_STRONG_LABEL = re.compile(
    r"\|?\s*(?:(?:this|the)\s+(?:[\w-]+\s+){0,2}(?:was|is|has\s+been)\s+written\s+by|"
    r"(?:written|posted|authored)\s+by|author(?:s)?\b(?!\s+\w)|автор(?:ы)?\b|müəllif(?:lər)?\b)",
    re.I,
)
_AUTHOR_WORD = re.compile(r"authors?|автор|müəllif", re.I)
# Articles that open a title and never a name ("De", "La", "Le", "El" do: "De Niro").
_TITLE_ARTICLES = ARTICLES - PARTICLES
_INLINE = frozenset(["a", "span", "em", "strong", "b", "i", "u", "small", "mark", "font", "sup"])
_TAG_HREF = re.compile(r"/(?:tags?|topics?|category|categories|section)/|[?&](?:content_)?topic=")
_META = lxml.etree.XPath(
    "//meta[@name='author' or @property='article:author' or @name='article:author'"
    " or @name='parsely-author' or @name='sailthru.author' or @name='dc.creator'"
    " or @name='DC.creator' or @name='byl' or @property='og:article:author']/@content"
)


def authors(
    tree: lxml.html.HtmlElement,
    jsonld: Sequence[dict],
    headline: lxml.html.HtmlElement | None,
    site: set[str],
    feed_author: str | None = None,
) -> tuple[list[str], AuthorSource | None]:
    """The authors and where they came from; `site` holds the site's names, squashed
    (headline.site_names), which are never an author."""
    signals = [
        (unique(n for v in raw for n in people(v, site)), source)
        for raw, source in (
            (_jsonld_names(jsonld), AuthorSource.JSONLD),
            ([str(v) for v in _META(tree)], AuthorSource.META),
            ([feed_author] if feed_author else [], AuthorSource.FEED),
        )
    ]
    declared = {squash(name) for names, _ in signals for name in names}
    # A login ("RasmusHaxholm") in the structured data neither confirms nor outvotes the
    # name the page shows; a login the page shows loses to the name the data gives.
    persons = {squash(name) for names, _ in signals for name in names if not is_login(name)}
    # An author element near the headline may belong to a teaser beside it: when the
    # structured data names people, the byline it agrees with (at least half its names are
    # theirs: a teaser lists others) wins, else the structured data.
    for shown, certain in _bylines(tree, headline, site, declared):
        if persons and all(is_login(name) for name in shown):
            continue
        agreeing = sum(squash(name) in persons for name in shown)
        if certain or not persons or 2 * agreeing >= len(shown):
            return people_first(_completed(shown, signals)), AuthorSource.BYLINE
    for names, source in signals:
        if names:
            return people_first(names), source
    found = _author_box(tree, headline, site)
    return (people_first(found), AuthorSource.BYLINE) if found else ([], None)


def _completed(shown: list[str], signals: list[tuple[list[str], AuthorSource]]) -> list[str]:
    """The byline's people, completed by the structured data that names them all and more: a
    byline shows the first authors ("Jane Roe, John Doe and 2 more") or sets the others apart
    by layout. A one-word item that no signal names is a place ("By Jane Roe, Zürich")."""
    for names, _ in signals:
        given = {squash(name) for name in names}
        if not any(squash(name) in given for name in shown):
            continue
        shown = [name for name in shown if squash(name) in given or len(name.split()) > 1]
        if all(squash(name) in given for name in shown):
            # Only full names join: a single word only the structured data gives is as often
            # a login or the site's name ("DERFARANG") as a person.
            seen = {squash(name) for name in shown}
            return shown + [n for n in names if squash(n) not in seen and len(n.split()) > 1]
        return shown
    return shown


def _bylines(
    tree: lxml.html.HtmlElement,
    headline: lxml.html.HtmlElement | None,
    site: set[str],
    declared: set[str],
) -> Iterator[tuple[list[str], bool]]:
    """The names of each byline the page shows, nearest to the headline first, and whether it
    is a labelled one right after the headline ("By Jane Roe" under the h1: the page says so)."""
    texts: list[str] = []
    if headline is not None:
        texts = list(_before_the_body(_TEXT_AFTER(headline)))
        found = read_names(texts, site, declared, strong=False, need_label=True)
        if found:
            yield found, True
        nearby = _AFTER(headline) + list(reversed(_BEFORE(headline)))
    else:
        nearby = _ANYWHERE(tree)
    for element in nearby:
        if _aside(element) or _tag_link(element):
            continue
        strong = (
            element.get("rel") == "author"
            or element.get("itemprop") in ("author", "creator")
            or _names_its_page(element)
        )
        found = read_names(element.itertext(), site, declared, strong=strong, need_label=False)
        if not found or _after_not_author_label(element):
            continue
        # Each author in an element of its own: the names their container holds.
        parent = element.getparent()
        if (
            parent is not None
            and len(parent.text_content()) < 400
            and (headline is None or headline not in parent.iter())
        ):
            together = read_names(parent.itertext(), site, declared, strong, need_label=False)
            if len(together) > len(found) and set(found) <= set(together):
                found = together
        yield found, False
    found = _beside_the_date(texts, site)
    if found:
        yield found, False


def _beside_the_date(texts: list[str], site: set[str]) -> list[str]:
    """An unlabelled name beside the date in the line under the headline ("Elliot Raba |
    23.07.2025", "2025-12-17 · Trond Teigen"): a full name and nothing else, right before or
    after the first date there; not a title beside it ("Die Haubenfahrzeuge der ...")."""
    pieces = [piece for piece in segments(texts) if any(ch.isalnum() for ch in piece)]
    for index, piece in enumerate(pieces):
        if len(piece.split()) > DATE_WORDS_MAX or human_date(piece) is None:
            continue
        for near in pieces[max(index - 1, 0) : index] + pieces[index + 1 : index + 2]:
            first = near.split()[0].casefold()
            if first in _TITLE_ARTICLES or len(near.split()) < 2:
                continue
            if people(near, site, single=False) == [near]:
                return [near]
        return []
    return []


def _author_box(
    tree: lxml.html.HtmlElement, headline: lxml.html.HtmlElement | None, site: set[str]
) -> list[str]:
    """The names an author box after the article gives, when nothing else does: one opened
    by an unmistakable label ("Written by", "Posted by", "Author:", «Автор:», "Müəllif:"),
    or a name with "Author" under it ("Jane Roe | Author"). A bare "By" is not enough there:
    teasers of other articles have one too."""
    found = _BOX_LABELS(headline) if headline is not None else _BOX_LABELS_ANYWHERE(tree)
    for text in [t for t in found if len(t) < BOX_LABEL_CHARS][:MAX_BOX_LABELS]:
        element = text.getparent()
        if element is None or _aside(element) or not _STRONG_LABEL.match(" ".join(text.split())):
            continue
        texts = [t for t in _BOX_TEXT(element) if not _tag_link(t.getparent())]
        names = read_names(texts, site, set(), strong=False, need_label=True)
        if not names and _AUTHOR_WORD.fullmatch(" ".join(text.split()).strip(" |:")):
            before = _text_before(element)  # "Jane Roe" above its "Author"
            names = people(before, site, single=False) if before else []
        if names:
            return names
    return []


def _before_the_body(texts: list) -> Iterator[str]:
    """The text pieces after the headline that may hold its byline: not the prose ("By
    focusing on ...", "according to data by AM Best's Review") nor tag links; the byline
    comes before the body, so after a standfirst and a first paragraph the search ends."""
    prose: set[lxml.html.HtmlElement] = set()
    for text in texts:
        parent = text.getparent()
        if len(text.split()) > BYLINE_WORDS:
            # A paragraph's pieces between its links and emphasis count once.
            block = next((e for e in _self_and_up(parent) if e.tag not in _INLINE), parent)
            prose.add(block)
            if len(prose) >= PROSE_BLOCKS:
                return
            yield "¶"  # no name, no label: a label before it has no names
            continue
        if _tag_link(parent):
            continue
        yield text


def _self_and_up(element: lxml.html.HtmlElement | None) -> Iterator[lxml.html.HtmlElement]:
    while element is not None:
        yield element
        element = element.getparent()


def _jsonld_names(jsonld: Sequence[dict]) -> list[str]:
    names: list[str] = []
    for node in jsonld:
        found = node.get("author") or node.get("creator")
        for author in found if isinstance(found, list) else [found]:
            if isinstance(author, dict) and isinstance(author.get("name"), str):
                if str(author.get("@type", "Person")) not in (
                    "Organization",
                    "NewsMediaOrganization",
                ):
                    names.append(author["name"])
            elif isinstance(author, str) and not author.startswith("http"):
                names.append(author)
        if names:
            break  # the first article's authors, not every node's
    return names


def _aside(element: lxml.html.HtmlElement) -> bool:
    """In the comments, or a photo's caption: names there are not the article's authors."""
    for ancestor in element.iterancestors():
        if ancestor.tag in ("figure", "figcaption"):
            return True
        marks = f"{ancestor.get('class') or ''} {ancestor.get('id') or ''}".lower()
        if "comment" in marks:
            return True
    return False


def _tag_link(element: lxml.html.HtmlElement | None) -> bool:
    """A link to a tag, topic or section page ("Wedding Checklists", "HR Strategy"): a
    subject the page is filed under, even inside a byline or with an author's id."""
    if element is None or element.tag != "a":
        return False
    return "tag" in (element.get("rel") or "").split() or bool(
        _TAG_HREF.search(element.get("href") or "")
    )


def _after_not_author_label(element: lxml.html.HtmlElement) -> bool:
    """Follows "Reviewed by", "Photo:" and the like: a reviewer's link often bears the same
    author class as the writer's."""
    before = _text_before(element)
    return before is not None and bool(NOT_AUTHOR_LABEL.match(" ".join(before.split())))


def _text_before(element: lxml.html.HtmlElement) -> str | None:
    """The last text piece before the element in the document, walked back by hand: the
    XPath preceding axis reads the whole document before it on every call."""
    node: lxml.html.HtmlElement | None = element
    while node is not None:
        previous = node.getprevious()
        while previous is not None:
            if (previous.tail or "").strip():
                return previous.tail
            inner = [t for t in previous.itertext() if t.strip()]
            if inner:
                return inner[-1]
            previous = previous.getprevious()
        node = node.getparent()
        if node is not None and (node.text or "").strip():
            return node.text
    return None


def _names_its_page(element: lxml.html.HtmlElement) -> bool:
    """A link to an author page that bears the link's own text ("/author/yucy/" on "Yucy"):
    the page says this one word is a person's name."""
    slug = (element.get("href") or "").rstrip("/").rsplit("/", 1)[-1]
    text = squash(element.text_content())
    return (
        element.tag == "a"
        and "/author" in (element.get("href") or "")
        and bool(text)
        and (squash(slug) == text)
    )
