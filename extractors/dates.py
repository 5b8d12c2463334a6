"""When an article was published, and when it was last changed, and which signal said so.

The publication date comes from the first signal, in order of trust, that states one
plausibly (`published`); htmldate's guess (day only) is the caller's fallback. The date the
page shows under its headline arbitrates the structured ones: when they disagree (a republished
article), the one the page shows wins; a structured date that is only the last save written into
datePublished too gives way to the earlier date shown. The last modification is kept apart
(`modified`): a page "updated" yesterday was not published yesterday, and an article counted on
its update day lands in the wrong day and alert window.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import lxml.etree
import lxml.html

from extractors.datetext import (
    PUBLISHED_LABEL,
    UPDATED_LABEL,
    as_the_url_reads,
    human_date,
    parse_date,
)
from extractors.discover import parse_datetime
from extractors.records import DateSource

EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
DATELINE_TEXTS = 25  # text pieces after the headline searched for a dateline
# A structured publication date this close to the update day the page shows is that update
# (the shown day has no time or zone, which shift the day at the edges).
RESTAMP = timedelta(days=1)
_ARTICLE_TYPES = {
    "article", "newsarticle", "blogposting", "reportagenewsarticle", "opinionnewsarticle",
    "analysisnewsarticle", "backgroundnewsarticle", "reviewnewsarticle", "report", "scholarlyarticle",
    "techarticle", "liveblogposting",
}  # fmt: skip
_PUBLISHED_META = (
    "article:published_time", "og:published_time", "og:article:published_time", "datepublished",
    "publish-date", "publish_date", "publication_date", "pubdate", "sailthru.date",
    "parsely-pub-date", "dc.date.issued", "dcterms.issued", "dc.date", "dcterms.created", "date",
)  # fmt: skip
_MODIFIED_META = (
    "article:modified_time", "og:updated_time", "datemodified", "last-modified", "dcterms.modified",
    "dc.date.modified", "updated",
)  # fmt: skip
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_WANTED_META = frozenset(_PUBLISHED_META + _MODIFIED_META)

# Compiled once: these run on every page. (Through the attribute axis: a third of the time of
# testing every element's attributes.)
_DATE_MARKED = lxml.etree.XPath(
    '//@itemprop[.="datePublished"]/.. | //@property[.="dc:date" or .="schema:dateCreated"]/..'
)
_MODIFIED_MARKED = lxml.etree.XPath('//@itemprop[.="dateModified"]/..')
_TIME_TAGS = lxml.etree.XPath("//time[@datetime]")
_TEXT_AFTER = lxml.etree.XPath(
    f"following::text()[normalize-space()][position() <= {DATELINE_TEXTS}]"
)

_SEGMENTS = re.compile(r"\s*(?:\||•|·|—)\s*")


def published(
    tree: lxml.html.HtmlElement,
    jsonld: Sequence[dict],
    feed_date: datetime | None,
    headline: lxml.html.HtmlElement | None,
    url: str = "",
) -> tuple[datetime, DateSource] | None:
    """The strongest plausible publication date the page or its feed states outright, tried in
    order of trust and only as far as needed."""
    found = _published(tree, jsonld, feed_date, headline)
    if found is not None and found[1] is DateSource.DATELINE:
        return as_the_url_reads(found[0], url), DateSource.DATELINE
    return found


def _published(
    tree: lxml.html.HtmlElement,
    jsonld: Sequence[dict],
    feed_date: datetime | None,
    headline: lxml.html.HtmlElement | None,
) -> tuple[datetime, DateSource] | None:
    us = month_first(tree)
    signals: tuple[tuple[Callable[[], datetime | None], DateSource], ...] = (
        (lambda: _jsonld_date(jsonld, ("datePublished", "dateCreated"), us), DateSource.JSONLD),
        (lambda: _meta_date(tree, _PUBLISHED_META, us), DateSource.META),
        (lambda: feed_date, DateSource.FEED),
        (lambda: _time_tag_date(tree), DateSource.TIME_TAG),
        (lambda: _dateline(headline, us)[0], DateSource.DATELINE),
    )
    found = _first(signals)
    if found is not None and found[1] in (DateSource.JSONLD, DateSource.META):
        shown, updated = _dateline(headline, us)
        if shown is None or not plausible(shown) or abs(shown - found[0]) <= RESTAMP:
            return found
        sided = _stated_as_shown(shown, tree, jsonld, us)
        if sided is not None:
            return sided
        if _restamped(found[0], shown, updated, tree, jsonld, us):
            return shown, DateSource.DATELINE
    return found


def _stated_as_shown(
    shown: datetime, tree: lxml.html.HtmlElement, jsonld: Sequence[dict], us: bool
) -> tuple[datetime, DateSource] | None:
    """The structured publication date that agrees with the date the page shows, when the
    structured dates disagree among themselves: a republished article keeps its first date in
    one place (JSON-LD) and the new one in another (article:published_time), and the page
    shows the one it stands by. Never a stamp of the last save written as a publication too."""
    saves = (_jsonld_date(jsonld, ("dateModified",), us), _meta_date(tree, _MODIFIED_META, us))
    for date, source in _stated_dates(tree, jsonld, us):
        if abs(date - shown) <= RESTAMP and plausible(date) and date not in saves:
            return date, source
    return None


def _stated_dates(
    tree: lxml.html.HtmlElement, jsonld: Sequence[dict], us: bool
) -> list[tuple[datetime, DateSource]]:
    """The publication dates the page's JSON-LD and the meta tags of its head state (microdata
    in the body may describe the teasers of other articles)."""
    stated = []
    for node in jsonld:
        for key in ("datePublished", "dateCreated"):
            date = parse_date(node[key], us) if isinstance(node.get(key), str) else None
            if date is not None:
                stated.append((date, DateSource.JSONLD))
    head = tree.find("head")
    metas = _date_metas(head) if head is not None else {}
    for key in _PUBLISHED_META:
        date = parse_date(metas[key], us) if key in metas else None
        if date is not None:
            stated.append((date, DateSource.META))
    return stated


def _restamped(
    stated: datetime,
    shown: datetime,
    updated: datetime | None,
    tree: lxml.html.HtmlElement,
    jsonld: Sequence[dict],
    us: bool,
) -> bool:
    """Whether the structured publication date is a restamp of the earlier date the page shows
    under its headline: some CMSs write the last save into datePublished too (the very stamp of
    dateModified, or the "Updated" day shown), while the page shows the first publication.
    A quick correction (published 14:44, modified 15:01) is no restamp."""
    if shown >= stated - RESTAMP:
        return False
    if updated is not None and abs(updated - stated) <= RESTAMP:
        return True  # the day the page says it was updated (shown day only)
    saves = (_jsonld_date(jsonld, ("dateModified",), us), _meta_date(tree, _MODIFIED_META, us))
    return stated in saves  # the very same stamp: one save, written twice


def modified(
    tree: lxml.html.HtmlElement, jsonld: Sequence[dict], headline: lxml.html.HtmlElement | None
) -> tuple[datetime, DateSource] | None:
    """The last modification the page states, in the same order of trust."""
    us = month_first(tree)
    signals: tuple[tuple[Callable[[], datetime | None], DateSource], ...] = (
        (lambda: _jsonld_date(jsonld, ("dateModified",), us), DateSource.JSONLD),
        (lambda: _meta_date(tree, _MODIFIED_META, us), DateSource.META),
        (lambda: _marked(_MODIFIED_MARKED(tree), us), DateSource.TIME_TAG),
        (lambda: _dateline(headline, us)[1], DateSource.DATELINE),
    )
    return _first(signals)


def _first(
    signals: Sequence[tuple[Callable[[], datetime | None], DateSource]],
) -> tuple[datetime, DateSource] | None:
    for signal, source in signals:
        date = signal()
        if plausible(date):
            return date, source
    return None


def htmldate_guess(value: str | None) -> tuple[datetime | None, DateSource | None]:
    date = parse_datetime(value) if value else None
    return (date, DateSource.HTMLDATE) if plausible(date) else (None, None)


def plausible(date: datetime | None) -> bool:
    return date is not None and EARLIEST <= date <= datetime.now(UTC) + timedelta(days=1)


def month_first(tree: lxml.html.HtmlElement) -> bool:
    """Whether the page writes 3/4/2025 for March 4: American English, or English of no stated
    country; the rest of the world writes the day first."""
    # XHTML pages may declare their language as xml:lang only.
    declared = tree.get("lang") or tree.get("xml:lang") or tree.get(_XML_LANG)
    lang = (declared or "").strip().lower().replace("_", "-")
    return lang in ("", "en", "en-us") or lang.startswith("en-us")


def _jsonld_date(jsonld: Sequence[dict], keys: tuple[str, ...], us: bool) -> datetime | None:
    fallback = None
    for node in jsonld:
        value = next((node[k] for k in keys if isinstance(node.get(k), str) and node[k]), None)
        if value is None:
            continue
        date = parse_date(value, us)
        if date is None:
            continue
        types = node.get("@type")
        types = [types] if isinstance(types, str) else (types or [])
        if any(str(t).lower() in _ARTICLE_TYPES for t in types):
            return date
        fallback = fallback or date
    return fallback


def _meta_date(tree: lxml.html.HtmlElement, keys: tuple[str, ...], us: bool) -> datetime | None:
    found = _date_metas(tree)
    for key in keys:
        if key in found:
            date = parse_date(found[key], us)
            if date is not None:
                return date
    return None


def _date_metas(tree: lxml.html.HtmlElement) -> dict[str, str]:
    """The date meta tags by name, each name's first: later ones belong to the teasers of
    other articles."""
    found: dict[str, str] = {}
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        if key in _WANTED_META and meta.get("content") and key not in found:
            found[key] = meta.get("content")
    return found


def _time_tag_date(tree: lxml.html.HtmlElement) -> datetime | None:
    """A machine-readable date marked as the publication date, or the first in the article."""
    marked = _DATE_MARKED(tree)
    published_marked = [el for el in marked if el.get("itemprop") == "datePublished"]
    dc_dates = [el for el in marked if el.get("itemprop") != "datePublished"]
    times = _TIME_TAGS(tree)
    values = (
        [el.get("datetime") for el in published_marked]
        + [el.get("content") for el in published_marked + dc_dates]
        + [el.get("datetime") for el in times if _inside(el, "article")]
        + [el.get("datetime") for el in times if _inside(el, "main")]
    )
    for value in values:
        date = parse_datetime(value) if value else None
        # A bare date has no zone or time: take it, but only with a time does it beat htmldate.
        if date is not None and "T" in value:
            return date
    return None


def _marked(elements: list[lxml.html.HtmlElement], us: bool) -> datetime | None:
    for element in elements:
        value = element.get("datetime") or element.get("content")
        date = parse_date(value, us) if value else None
        if date is not None:
            return date
    return None


def _inside(element: lxml.html.HtmlElement, tag: str) -> bool:
    return any(ancestor.tag == tag for ancestor in element.iterancestors())


def _dateline(
    headline: lxml.html.HtmlElement | None, us: bool
) -> tuple[datetime | None, datetime | None]:
    """The dates the page shows under its headline: (published, updated). A date after an
    "Updated" label is the update's; the first other one is the publication's."""
    if headline is None:
        return None, None
    first = updated = None
    label_updated = False
    for piece in _TEXT_AFTER(headline):
        piece = " ".join(str(piece).split())
        if len(piece) > 80:
            continue  # prose: a date inside a sentence is about something else
        for text in _SEGMENTS.split(piece):  # "Published 3 March · Updated 5 March"
            if UPDATED_LABEL.search(text):
                label_updated = True
            elif PUBLISHED_LABEL.search(text):
                label_updated = False
            date = human_date(text, us)
            if date is None:
                continue
            if label_updated:
                updated = updated or date
            else:
                first = first or date
            label_updated = False
        if first and updated:
            break
    return first, updated
