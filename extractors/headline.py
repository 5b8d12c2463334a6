"""The article's headline as the page shows it, and which signal gave it.

The document `<title>` and og:title are written for search engines and share buttons: the site's
name rides along ("Headline | Site"), sections too ("Politics News | Metro"), and they are often
rewritten altogether. The headline a reader sees is the article's `<h1>`. Pages also carry other
h1s (the site's logo, "Menu", a newsletter's name) and kickers inside the headline's own h1, so
an h1 wins when the page's metadata agrees with it; the metadata titles, stripped of site names
and sections, are the fallback. Order, recorded as TitleSource:

1. `h1`: an h1 (or a part of one, leaving out a kicker) that the JSON-LD headline, og:title,
   `<title>` or the feed's title agrees with; of several, the one agreeing best.
2. `h1` too: the page's one h1 when the page has no metadata title at all.
3. `jsonld`, `og` (og:title, twitter:title), `title`, `feed`: the first present, stripped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import lxml.etree
import lxml.html

from extractors.article_text import normalize_text
from extractors.records import TitleSource

# Dice overlap of words between an h1 and a metadata title above which they name the same story:
# an SEO rewrite of the headline shares about half its words with it, a logo or "Menu" none.
AGREE = 0.5
MAX_HEADLINE_WORDS = 40
KICKER_WORDS = 8  # a label before the headline in the same h1 is a few words at most  # an h1 longer than this is a paragraph styled big, not a headline
_SECTION_WORDS = 3  # a segment this short beside the site's name is a section ("World News")
_ARTICLE_TYPES = ("article", "posting", "report")  # NewsArticle, BlogPosting, Report, ...

# Strong separators between a headline and a site or section name; a colon only splits off a
# prefix that turns out to be the site's or section's name ("Blog: ...", "Leadfeeder: ...").
_SEPARATOR = re.compile(r"\s+(?:[|–—»·•/~]|::|-{1,2})\s+|\s*\|\s*")
_PREFIX = re.compile(r"^([^:]{2,40}):\s+")
_NOT_ALNUM = re.compile(r"[\W_]+", re.UNICODE)
_META_TITLES = lxml.etree.XPath(
    "//meta[@property='og:title' or @name='og:title' or @name='twitter:title'"
    " or @property='twitter:title']"
)
_SITE_META = lxml.etree.XPath(
    "//meta[@property='og:site_name' or @name='application-name' or @name='apple-mobile-web-app-title'"
    " or @name='publisher' or @name='twitter:site']/@content"
)
# Inside an h1 but not the headline: a dateline, a byline block, a divider or a subtitle block.
_NOT_HEADLINE = frozenset({"time", "div", "p", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "small"})
# Elements that emphasise words of the headline itself rather than label it.
_INLINE = frozenset({"em", "strong", "i", "b", "a", "mark", "q", "abbr", "sup", "sub", "u", "cite"})
_LEADING_SEPARATORS = " :|-–—/·•»"
_GENERIC_LABELS = {"www", "com", "org", "net", "co", "edu", "gov", "blog", "news", "amp", "m"}


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
    sections = _path_words(url)
    metadata = [
        (strip_site(raw, names, sections), source)
        for raw, source in _metadata_titles(tree, jsonld, feed_title)
    ]
    metadata = [(title, source) for title, source in metadata if title]
    parts = urlsplit(url)
    home = f"{parts.scheme}://{parts.netloc}/"
    best: tuple[str, lxml.html.HtmlElement] | None = None
    best_agreement = 0.0
    first: tuple[str, lxml.html.HtmlElement] | None = None
    for h1 in tree.iter("h1"):
        # The h1's most likely reading that the metadata agrees with, scored by its best one.
        chosen, top = None, 0.0
        for text in _readings(h1, home):
            text = strip_site(text, names, sections)
            if not text or _is_site(text, names) or len(text.split()) > MAX_HEADLINE_WORDS:
                continue
            first = first or (text, h1)
            agreement = max((dice(text, title) for title, _ in metadata), default=0.0)
            top = max(top, agreement)
            if chosen is None and agreement >= AGREE:
                chosen = text
        if chosen is not None and top > best_agreement:
            best, best_agreement = (chosen, h1), top
    if best is not None:
        return Headline(best[0], TitleSource.H1, best[1], _text(best[1]))
    if metadata:
        element = first[1] if first else None
        return Headline(*metadata[0], element, _text(element) if element is not None else None)
    if first:
        return Headline(first[0], TitleSource.H1, first[1], _text(first[1]))
    return Headline(None, None, None)


def _readings(h1: lxml.html.HtmlElement, home: str) -> list[str]:
    """What the h1 may mean, most likely first: without a kicker (a short label in an element
    of its own before the headline: "Covid-19:", a section, a date), without the dates, bylines
    and blocks nested in it, as a whole, and its parts one by one. None when the h1 is a link to
    the home page: the site's logo."""
    links = h1.xpath(".//a/@href")
    if links and all(_is_home(str(href), home) for href in links):
        return []
    readings = []
    kicker = _kicker(h1)
    if kicker is not None:
        rest = _text(h1, skip=lambda el: el is kicker or el.tag in _NOT_HEADLINE)
        readings.append(rest.lstrip(_LEADING_SEPARATORS))
    readings += [_text(h1, skip=lambda el: el.tag in _NOT_HEADLINE), _text(h1)]
    readings += [_text(child) for child in h1 if isinstance(child.tag, str)]
    return [r for r in dict.fromkeys(readings) if r]


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


def site_names(
    tree: lxml.html.HtmlElement, jsonld: Sequence[dict], url: str, sitename: str | None
) -> set[str]:
    """The site's names as the page declares them (og:site_name, the publisher...) and its
    host name, squashed to letters and digits ("Aze.Media" and aze.media meet as "azemedia")."""
    raw = [str(v) for v in _SITE_META(tree)]
    if sitename:
        raw.append(sitename)
    for node in jsonld:
        types = node.get("@type")
        types = [types] if isinstance(types, str) else (types or [])
        organisation = ("WebSite", "Organization", "NewsMediaOrganization")
        if any(str(t) in organisation for t in types) and isinstance(node.get("name"), str):
            raw.append(node["name"])
        publisher = node.get("publisher")
        if isinstance(publisher, dict) and isinstance(publisher.get("name"), str):
            raw.append(publisher["name"])
    names = {_squash(html.unescape(name).lstrip("@")) for name in raw}
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    names.add(_squash(host))
    names.discard("")
    return names


def host_labels(url: str) -> set[str]:
    """The distinctive labels of the host name ("fool" of www.fool.com): a title's segment
    naming the site often spells just that."""
    host = (urlsplit(url).hostname or "").lower()
    labels = [label for label in host.split(".")[:-1] if label not in _GENERIC_LABELS]
    return {_squash(label) for label in labels if len(label) >= 4}


def strip_site(title: str, names: set[str], sections: set[str] = frozenset()) -> str:
    """The title without the site's name and the sections beside it, at either end."""
    title = " ".join(html.unescape(title).split())
    parts = [part for part in _SEPARATOR.split(title) if part.strip()]
    if len(parts) > 1:
        site = [_is_site(part, names) or _squash(part) in sections for part in parts]
        if not all(site):
            start, end = 0, len(parts)
            while site[start]:
                start += 1
            while site[end - 1]:
                end -= 1
            # A short segment that the site's name leaves at an end is its section.
            if end < len(parts) and end - start > 1 and _short(parts[end - 1]):
                end -= 1
            if start > 0 and end - start > 1 and _short(parts[start]):
                start += 1
            title = _join(title, parts[start:end])
    parts = title.split(" | ")
    # A bar sets apart the site's chrome even when its name is unknown: a short segment at an
    # end beside a longer headline goes.
    if len(parts) == 2 and _short(parts[1], 4) and len(parts[0].split()) > len(parts[1].split()):
        title = parts[0]
    elif len(parts) == 2 and _short(parts[0], 4) and len(parts[1].split()) > len(parts[0].split()):
        title = parts[1]
    prefix = _PREFIX.match(title)
    # Exactly the site's name: a colon inside a headline is common, and a prefix merely
    # containing a label of the host is the headline's own ("Teaching Online: ...").
    if prefix and _squash(prefix.group(1)) in names:
        title = title[prefix.end() :]
    words = title.split()
    for name in (words[0], words[-1]) if len(words) > 2 else ():
        # A host name at an end without a separator: "example.com Vibe Coding".
        if "." in name.strip(".") and _squash(name) in names:
            title = title.removeprefix(name).removesuffix(name).strip()
    return title


def _join(title: str, parts: list[str]) -> str:
    """The kept parts as the title spells them, separators between them included."""
    begin = title.find(parts[0])
    end = title.rfind(parts[-1]) + len(parts[-1])
    return title[begin:end].strip() if begin >= 0 and end > begin else " ".join(parts)


def _short(part: str, words: int = _SECTION_WORDS) -> bool:
    return len(part.split()) <= words


def _is_site(text: str, names: set[str]) -> bool:
    squashed = _squash(text)
    if not squashed:
        return False
    return squashed in names or any(
        len(name) >= 4 and name in squashed and len(squashed) <= len(name) + 8 for name in names
    )


def _path_words(url: str) -> set[str]:
    """Words of the URL's path that name sections (/blog/, /opinion/, /world-news/)."""
    segments = urlsplit(url).path.strip("/").split("/")[:-1]
    return {_squash(s) for s in segments if s and not s.isdigit() and len(s) <= 30}


def _squash(text: str) -> str:
    return _NOT_ALNUM.sub("", text.casefold())


def dice(a: str, b: str) -> float:
    """Share of words two texts have in common (Dice coefficient on their word sets)."""
    wa, wb = set(normalize_text(a).split()), set(normalize_text(b).split())
    if not wa or not wb:
        return 0.0
    return 2 * len(wa & wb) / (len(wa) + len(wb))
