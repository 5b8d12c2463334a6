"""The article's headline as the page shows it, and which signal gave it.

The document `<title>` and og:title are written for search engines and share buttons: the site's
name rides along ("Headline | Site"), sections too ("Politics News | Metro"), and they are often
rewritten altogether. The headline a reader sees is the article's `<h1>`. Pages also carry other
h1s (the site's logo, "Menu", a newsletter's name) and kickers inside the headline's own h1, so
an h1 wins when the page's metadata agrees with it; the metadata titles, stripped of site names
and sections, are the fallback. Order, recorded as TitleSource:

1. `h1`: an h1 (or a part of one, leaving out a kicker) that the JSON-LD headline, og:title,
   `<title>` or the feed's title agrees with; of several, the one agreeing best. Of an h1's
   readings: without its kicker when that agrees; else the one a metadata title spells exactly
   (a part, the h1 without a section's label); else the first agreeing. An h1 that is one whole
   part of "Headline | Site" agrees even when the site's name is unknown.
2. `h1` too: the page's one h1 when the page has no metadata title at all.
3. `jsonld`, `og` (og:title, twitter:title), `title`, `feed`: the first present, stripped.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import lxml.etree
import lxml.html

from extractors.article_text import normalize_text
from extractors.records import TitleSource
from extractors.sitename import (  # noqa: F401 - site_names and strip_site are re-exported
    NOT_ALNUM,
    PREFIX,
    SEPARATOR,
    host_labels,
    is_site,
    path_words,
    short,
    site_names,
    squash,
    strip_site,
)

# Dice overlap of words between an h1 and a metadata title above which they name the same story:
# an SEO rewrite of the headline shares about half its words with it, a logo or "Menu" none.
AGREE = 0.5
MAX_HEADLINE_WORDS = 40  # an h1 longer than this is a paragraph styled big, not a headline
KICKER_WORDS = 8  # a label before the headline in the same h1 is a few words at most
_ARTICLE_TYPES = ("article", "posting", "report")  # NewsArticle, BlogPosting, Report, ...

_META_TITLES = lxml.etree.XPath(
    "//meta[@property='og:title' or @name='og:title' or @name='twitter:title'"
    " or @property='twitter:title']"
)
# Inside an h1 but not the headline: a dateline, a byline block, a divider or a subtitle block.
_NOT_HEADLINE = frozenset({"time", "div", "p", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "small"})
# Elements that emphasise words of the headline itself rather than label it.
_INLINE = frozenset({"em", "strong", "i", "b", "a", "mark", "q", "abbr", "sup", "sub", "u", "cite"})
_LEADING_SEPARATORS = " :|-–—/·•»"
_SCREEN_READER_ONLY = (
    "sr-only",
    "visually-hidden",
    "visuallyhidden",
    "screen-reader",
    "a11y-hidden",
)
_INVISIBLE = str.maketrans({"\u00ad": None, "\u200b": None, "\u2060": None, "\ufeff": None})
_QUOTES = "\"'«»„“”‘’‚‹›「『"


@dataclass(frozen=True)
class Headline:
    text: str | None
    source: TitleSource | None
    element: lxml.html.HtmlElement | None  # the h1 it came from, or the page's first h1
    whole: str | None = None  # that h1's whole text, kicker and all, as the body may repeat it


def headline(
    tree: lxml.html.HtmlElement,
    jsonld: Sequence[dict],
    url: str,
    names: set[str],
    feed_title: str | None = None,
) -> Headline:
    """`names`: the site's names (site_names), which are never the headline."""
    names = names | host_labels(url)
    sections = path_words(url)
    metadata = [
        (strip_site(raw, names, sections), source)
        for raw, source in _metadata_titles(tree, jsonld, feed_title)
    ]
    metadata = [(title, source) for title, source in metadata if title]
    judge = _Judge(
        metadata, _segments(raw for raw, _ in _metadata_titles(tree, jsonld, feed_title))
    )
    parts = urlsplit(url)
    home = f"{parts.scheme}://{parts.netloc}/"
    best: tuple[str, lxml.html.HtmlElement] | None = None
    best_agreement = 0.0
    first: tuple[str, lxml.html.HtmlElement] | None = None
    for h1 in tree.iter("h1"):
        chosen, top, plain = _reading(h1, home, names, sections, judge)
        first = first or ((plain, h1) if plain else None)
        if chosen is not None and top > best_agreement:
            best, best_agreement = (chosen, h1), top
    if best is not None:
        return Headline(judge.spelled(best[0]), TitleSource.H1, best[1], _text(best[1]))
    if metadata:
        element = first[1] if first else None
        return Headline(*metadata[0], element, _text(element) if element is not None else None)
    if first:
        return Headline(first[0], TitleSource.H1, first[1], _text(first[1]))
    return Headline(None, None, None)


@dataclass(frozen=True)
class _Judge:
    """How well a reading of an h1 agrees with the page's metadata titles."""

    titles: list[tuple[str, TitleSource]]  # stripped of site names and sections
    segments: frozenset[str]  # the raw titles' parts between separators, normalized

    def agreement(self, text: str) -> float:
        return max((dice(text, title) for title, _ in self.titles), default=0.0)

    def a_part(self, text: str) -> bool:
        """Whether the text is one whole part of a "Headline | Site" title: the headline even
        when the site's name is unknown (no og:site_name, a host that does not spell it) and
        stripping took the wrong end."""
        return normalize_text(text) in self.segments

    def spelled(self, text: str) -> str:
        """The metadata's spelling of the same letters: an h1 laid out as two lines (a topline
        and the headline) loses the colon that the page's title writes between them."""
        letters = NOT_ALNUM.sub("", text)
        for title, _ in self.titles:
            # Only inside: what the title adds at its ends is decoration ("Headline ›").
            same_ends = title[:1] == text[:1] and title[-1:] == text[-1:]
            if same_ends and NOT_ALNUM.sub("", title) == letters:
                return title
        return text


def _segments(raw_titles: Iterable[str]) -> frozenset[str]:
    found = set()
    for raw in raw_titles:
        parts = SEPARATOR.split(" ".join(html.unescape(raw).split()))
        if len(parts) > 1:
            found.update(normalize_text(part) for part in parts)
    found.discard("")
    return frozenset(found)


def _reading(
    h1: lxml.html.HtmlElement, home: str, names: set[str], sections: set[str], judge: _Judge
) -> tuple[str | None, float, str | None]:
    """The h1's most likely reading that the metadata agrees with, its best agreement, and its
    first plausible reading whatever the metadata says. Without a kicker first (when the
    metadata agrees with it); else the reading the metadata spells exactly (a part of the h1
    or the h1 without a section label); else the first agreeing."""
    readings, kicker = _readings(h1, home)
    linked = bool(h1.xpath(".//a"))  # a logo's h1 links somewhere; it may be a title's part too
    scored: list[tuple[str, float]] = []
    for index, raw in enumerate(readings):
        # The site's exact names only: "Welpen kaufen – ..." on welpen.example is a headline.
        text = strip_site(raw, names, sections, fuzzy=False)
        if not text or text.endswith(":") or len(text.split()) > MAX_HEADLINE_WORDS:
            continue  # a label alone ("Politics:") is no headline
        agreement = judge.agreement(text)
        if agreement < AGREE and is_site(text, names):
            continue  # the site's logo or name
        if agreement < AGREE and not linked and judge.a_part(text):
            agreement = AGREE
        if index == 0 and kicker and agreement >= AGREE:
            return text, agreement, text
        scored.append((text, agreement))
    if not scored:
        return None, 0.0, None
    top = max(agreement for _, agreement in scored)
    agreeing = [text for text, agreement in scored if agreement >= AGREE]
    exact = [text for text, agreement in scored if agreement == 1.0]
    chosen = (exact or agreeing or [None])[0]
    return chosen, top, scored[0][0]


def _readings(h1: lxml.html.HtmlElement, home: str) -> tuple[list[str], bool]:
    """What the h1 may mean, most likely first: without a kicker (a short label in an element
    of its own before the headline: "Covid-19:", a section, a date), without the dates, bylines
    and blocks nested in it, as a whole, and its parts one by one. None when the h1 is a link to
    the home page: the site's logo. Labels for screen readers only ("Headline:") are left out.
    Also whether the first reading is the one without a kicker."""
    links = h1.xpath(".//a/@href")
    if links and all(_is_home(str(href), home) for href in links):
        return [], False
    kicker = _kicker(h1)
    rest = ""
    if kicker is not None:
        rest = _text(h1, skip=lambda el: el is kicker or el.tag in _NOT_HEADLINE or _unseen(el))
        rest = rest.lstrip(_LEADING_SEPARATORS)
    readings = [rest]
    shown = _text(h1, skip=lambda el: el.tag in _NOT_HEADLINE or _unseen(el))
    readings += [shown, _text(h1, skip=_unseen)]
    readings += [_text(child, skip=_unseen) for child in h1 if isinstance(child.tag, str)]
    # Last, and only chosen when the metadata spells them exactly: the h1 without a section's
    # label ("Blog: Headline"; a quotation before the colon is the headline's own), and without
    # its first element (an emphasised topic: "<em>Holocaust-Gedenktag</em> Erinnerung ...").
    label = PREFIX.match(shown)
    if label and short(label.group(1)) and label.group(1)[:1] not in _QUOTES:
        readings.append(shown[label.end() :])
    opening = next((child for child in h1 if isinstance(child.tag, str)), None)
    if opening is not None and not (h1.text or "").strip():
        readings.append(_text(h1, skip=lambda el: el is opening or _unseen(el)))
    readings = [r for r in dict.fromkeys(readings) if r]
    return readings, bool(rest)


def _unseen(element: lxml.html.HtmlElement) -> bool:
    """A label for screen readers only ("Headline:"); punctuation stays, as the page's title
    reads the kicker and the headline with the colon the layout shows as a line break."""
    classes = element.get("class") or ""
    return any(mark in classes for mark in _SCREEN_READER_ONLY) and any(
        ch.isalpha() for ch in element.text_content()
    )


def _kicker(h1: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    """The h1's first element when it opens the h1 as a label of its own: not emphasis (an <em>
    or a link starting the headline), at most a few words, set apart from what follows."""
    if (h1.text or "").strip():
        return None
    first = next((child for child in h1 if isinstance(child.tag, str)), None)
    if first is None or first.tag in _INLINE or first.tag == "br":
        return None
    label = _text(first)
    # "Kicker: headline" with the colon in the text reads as one headline: it stays whole.
    following = first.getnext()
    after = (first.tail or "").strip() or (_text(following) if following is not None else "")
    if label.endswith(":") or after.startswith(":"):
        return None
    if after[:1].islower():
        return None  # the sentence goes on: "<span>Ehezoff</span> der Pochers eskaliert"
    return first if 0 < len(label.split()) <= KICKER_WORDS else None


def _text(
    element: lxml.html.HtmlElement,
    skip: Callable[[lxml.html.HtmlElement], bool] = lambda el: False,
) -> str:
    """Visible text, a line break read as a space, leaving out the elements skip names."""
    parts: list[str] = []

    def walk(el: lxml.html.HtmlElement) -> None:
        if el.tag == "br":
            parts.append(" ")
        elif el.text:
            add(el.text)
        for child in el:
            if isinstance(child.tag, str) and not skip(child):
                walk(child)
            if child.tail:
                add(child.tail)

    def add(text: str) -> None:
        text = text.translate(_INVISIBLE)  # soft hyphens break words apart for the comparison
        # Two elements shown as separate lines often meet without a space in the markup
        # ("Alternatives</span><span>Top tools"): a capital right after a small letter parts them.
        if parts and parts[-1][-1:].islower() and text[:1].isupper():
            parts.append(" ")
        parts.append(text)

    walk(element)
    return " ".join("".join(parts).split())


def _is_home(href: str, home: str) -> bool:
    href = href.strip()
    return href in ("/", "./", home) or href.rstrip("/") == home.rstrip("/")


def _metadata_titles(
    tree: lxml.html.HtmlElement, jsonld: Sequence[dict], feed_title: str | None
) -> Iterable[tuple[str, TitleSource]]:
    for node in jsonld:
        value = node.get("headline")
        types = node.get("@type")
        types = [types] if isinstance(types, str) else (types or [])
        if isinstance(value, str) and any(
            kind in str(t).lower() for t in types for kind in _ARTICLE_TYPES
        ):
            yield value, TitleSource.JSONLD
            break
    for meta in _META_TITLES(tree):
        if meta.get("content"):
            yield meta.get("content"), TitleSource.OG
            break
    title = tree.find(".//title")
    if title is not None and title.text_content().strip():
        yield title.text_content(), TitleSource.TITLE
    if feed_title:
        yield feed_title, TitleSource.FEED


def dice(a: str, b: str) -> float:
    """Share of words two texts have in common (Dice coefficient on their word sets)."""
    wa, wb = set(normalize_text(a).split()), set(normalize_text(b).split())
    if not wa or not wb:
        return 0.0
    return 2 * len(wa & wb) / (len(wa) + len(wb))
