"""The article's authors, as people, and which signal named them.

What a reader takes for the author is the byline near the headline ("By Jane Roe", «Автор:
Иван Петров», "Müəllif: Aynur Əliyeva"). Structured data often names someone else: the
publisher, a CMS login, the site, an editor. So the signals go in this order, recorded as
AuthorSource:

1. `byline`: the nearest byline element to the headline (rel/itemprop/class author or byline),
   or a labelled byline in the text right after it.
2. `jsonld`: the JSON-LD article's author.
3. `meta`: meta author tags (name="author", article:author, parsely-author, dc.creator...).
4. `feed`: the feed item's author.

Each is split into people and cleaned; what is not a person's name (a label, a UI string, a
date, a role, the site's or the publisher's name) is dropped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator, Sequence

import lxml.etree
import lxml.html

from extractors.byline_words import ARTICLES, NOT_NAME, ORGANISATION, PARTICLES, ROLES
from extractors.dates import DATE_WORDS, PUBLISHED_LABEL, UPDATED_LABEL
from extractors.records import AuthorSource

MAX_NAME_WORDS = 5  # "Maria de la Cruz Pérez": longer runs are sentences or titles
NEAR_AFTER = 400  # elements after the headline searched for its byline
NEAR_BEFORE = 120  # and before it (some layouts put the byline above the headline)
TEXT_AFTER = 25  # text pieces after the headline searched for a labelled byline

_BYLINE = (
    "@rel='author' or @itemprop='author' or @itemprop='creator' or contains(@class,'author')"
    " or contains(@class,'byline') or contains(@class,'Author') or contains(@class,'Byline')"
    " or contains(@id,'author') or contains(@id,'byline') or contains(@class,'writer')"
    " or contains(@class,'autor') or contains(@class,'avtor') or contains(@class,'reporter')"
)
_AFTER = lxml.etree.XPath(f"following::*[position() <= {NEAR_AFTER}][{_BYLINE}]")
_BEFORE = lxml.etree.XPath(f"preceding::*[position() <= {NEAR_BEFORE}][{_BYLINE}]")
_ANYWHERE = lxml.etree.XPath(f"//body//*[{_BYLINE}]")
_TEXT_AFTER = lxml.etree.XPath(f"following::text()[normalize-space()][position() <= {TEXT_AFTER}]")
_META = lxml.etree.XPath(
    "//meta[@name='author' or @property='article:author' or @name='article:author'"
    " or @name='parsely-author' or @name='sailthru.author' or @name='dc.creator'"
    " or @name='DC.creator' or @name='byl' or @property='og:article:author']/@content"
)

# Labels that open a byline, in the languages newsmon reads and the common European ones.
_LABEL = re.compile(
    r"(?:^|\b|\s)(?:(?:written|posted|authored|text|words|article|story|report(?:ed)?|"
    r"published)\s+by|by|author(?:s)?|von|par|por|di|door|av|af|"
    r"автор(?:ы)?|текст|материал подготовил[аи]?|müəllif|müəlliflər|yazar|hazırladı)"
    r"\s*[:\-–—]?\s+",
    re.I,
)
# A byline ends where its date, reading time or the next item begins.
_STOP = re.compile(
    r"\s*(?:\||•|·|—|–|\s-\s|\n|\d|\bon\b|\blast\b|\bposted\b|\bmin(?:ute)?s?\b|"
    r"\bfact[- ]checked\b|\bedited\b)|"
    + "|".join((PUBLISHED_LABEL.pattern, UPDATED_LABEL.pattern, DATE_WORDS.pattern)),
    re.I,
)
# Labels after which the names are not the authors'.
_NOT_AUTHOR_LABEL = re.compile(
    r"^(?:\w+\s+)?(?:reviewed|fact[- ]checked|edited|updated|photos?|illustrations?|images?|"
    r"video|translated|produced|foto|bild)\s+(?:by|von|par|por)\b|^(?:foto|photo|bild)\s*:",
    re.I,
)
_SEGMENTS = re.compile(r"\s*(?:\||•|·|—|–|\s-\s)\s*")
_CONNECTOR = re.compile(r"[,;&/+]|and|und|et|y|e|og|och|и|və|ve", re.I)
_TRAILING_CONNECTORS = (",", ";", "&", " and", " und", " и", " və")
_PEOPLE = re.compile(r"\s*(?:[,;&/+]|\b(?:and|und|et|y|e|og|och|и|və|ve)\b)\s*", re.I)
_CREDENTIAL = re.compile(
    r"^(?:[A-Z]{2,6}|(?:[A-Z][a-z]?\.){1,3}[A-Z]?[a-z]?\.?|Ph\.?D\.?|Jr\.?|Sr\.?)$"
)
_NOT_ALNUM = re.compile(r"[\W_]+", re.UNICODE)
_FOR = re.compile(r"\s+for\s+", re.I)
_BRACKETS = re.compile(r"\s*(?:\([^()]*\)?|\[[^\[\]]*\]?)\s*$|[()\[\]]\s*$")


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
        (_unique(n for v in raw for n in people(v, site)), source)
        for raw, source in (
            (_jsonld_names(jsonld), AuthorSource.JSONLD),
            ([str(v) for v in _META(tree)], AuthorSource.META),
            ([feed_author] if feed_author else [], AuthorSource.FEED),
        )
    ]
    declared = {_squash(name) for names, _ in signals for name in names}
    # An author element near the headline may belong to a teaser beside it: when the
    # structured data names people, the byline it agrees with (at least half its names are
    # theirs: a teaser lists others) wins, else the structured data.
    for shown, certain in _bylines(tree, headline, site, declared):
        agreeing = sum(_squash(name) in declared for name in shown)
        if certain or not declared or 2 * agreeing >= len(shown):
            return _completed(shown, signals), AuthorSource.BYLINE
    for names, source in signals:
        if names:
            return names, source
    return [], None


def _completed(shown: list[str], signals: list[tuple[list[str], AuthorSource]]) -> list[str]:
    """The byline's people, completed by the structured data that names them all and more: a
    byline shows the first authors ("Jane Roe, John Doe and 2 more") or sets the others apart
    by layout. A one-word item that no signal names is a place ("By Jane Roe, Zürich")."""
    for names, _ in signals:
        given = {_squash(name) for name in names}
        if not any(_squash(name) in given for name in shown):
            continue
        shown = [name for name in shown if _squash(name) in given or len(name.split()) > 1]
        if all(_squash(name) in given for name in shown):
            # Only full names join: a single word only the structured data gives is as often
            # a login or the site's name ("DERFARANG") as a person.
            seen = {_squash(name) for name in shown}
            return shown + [n for n in names if _squash(n) not in seen and len(n.split()) > 1]
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
    if headline is not None:
        found = _read(_TEXT_AFTER(headline), site, declared, strong=False, need_label=True)
        if found:
            yield found, True
        nearby = _AFTER(headline) + list(reversed(_BEFORE(headline)))
    else:
        nearby = _ANYWHERE(tree)
    for element in nearby:
        if _aside(element):
            continue
        strong = element.get("rel") == "author" or element.get("itemprop") in ("author", "creator")
        found = _read(element.itertext(), site, declared, strong=strong, need_label=False)
        if not found:
            continue
        # Each author in an element of its own: the names their container holds.
        parent = element.getparent()
        if (
            parent is not None
            and len(parent.text_content()) < 400
            and (headline is None or headline not in parent.iter())
        ):
            together = _read(parent.itertext(), site, declared, strong, need_label=False)
            if len(together) > len(found) and set(found) <= set(together):
                found = together
        yield found, False


def _read(
    texts: Iterable[object], site: set[str], declared: set[str], strong: bool, need_label: bool
) -> list[str]:
    """The names a byline's text pieces give. What precedes them is skipped (a date, "Share");
    a label ("By", "Автор:") opens them and lets a one-word name count. Once names are found,
    more follow after a connector ("and", ",") or when the page's structured data names them
    too (bylines that set each author apart by layout alone), roles between them skipped
    ("News Reporter"); anything else ends the byline. Names after "Reviewed by", "Photo:" and
    the like are not the authors'. `need_label`: free text, where only a label opens a byline."""
    names: list[str] = []
    after_label = 0  # segments left in which a label's names may come
    joined = skipping = False
    for segment in _segments(texts):
        if _NOT_AUTHOR_LABEL.match(segment):
            if names:
                break
            skipping, after_label = True, 0
            continue
        label = _LABEL.match(f" {segment} ")
        if label:
            if names:
                break  # a second byline ("Updated by ...")
            skipping, after_label = False, 2
            segment = f" {segment} "[label.end() :].strip()
            if not segment:
                continue
        if _CONNECTOR.fullmatch(segment):
            joined = bool(names)
            continue
        if skipping or (need_label and not after_label and not names):
            continue
        found = people(segment, site, single=strong or after_label > 0 or joined)
        if names and not joined:
            if found and all(_squash(name) in declared for name in found):
                pass  # set apart by layout, named by the structured data too
            elif not found and _is_role(segment):
                continue
            else:
                break
        if found:
            names += [name for name in found if name not in names]
            joined = segment.endswith(_TRAILING_CONNECTORS)
            after_label = 0
        elif names:
            break
        else:
            after_label = max(after_label - 1, 0)
    return names


def _segments(texts: Iterable[object]) -> Iterable[str]:
    for count, raw in enumerate(texts):
        if count > 40:
            return
        for segment in _SEGMENTS.split(" ".join(str(raw).split())):
            if segment:
                yield segment


def people(text: str, site: set[str], single: bool = True) -> list[str]:
    """The persons a byline's text names. `single`: a one-word name counts (the text is known
    to be a byline: a labelled one, an author element or field)."""
    text = html.unescape(text)
    label = _LABEL.match(f" {text} ")
    if label:
        text = f" {text} "[label.end() :]
    text = text.lstrip(" |:–—-")
    stop = _STOP.search(text)
    if stop:
        text = text[: stop.start()]
    # "Jane Roe for The Times": the outlet she wrote for follows, not a co-author; but
    # "Center for Drug Research" is one name.
    before = _FOR.split(text, maxsplit=1)[0]
    if len(before.split()) >= 2:
        text = before
    text = " ".join(text.split()).strip(" ,;:.-–—|")
    if not text or len(text.split()) > 3 * MAX_NAME_WORDS:
        return []
    # "Jane Roe (jro)": the desk's initials or a note after a name go.
    pieces = [_BRACKETS.sub("", p).strip(" .") for p in _PEOPLE.split(text) if p]
    pieces = [p for p in pieces if p]
    # Single words are names when all are ("Maria & Katerina"); beside full names they are
    # credentials or the tail of an organisation ("... Evaluation and Research").
    alone = single and all(len(p.split()) == 1 for p in pieces)
    return [p for p in pieces if _is_name(p, site, alone)]


def _is_name(text: str, site: set[str], alone: bool) -> bool:
    """A person's name: a few capitalised words, no digits, links, roles or UI words, and
    not the outlet's own name. `alone`: a one-word name may stand (a labelled byline)."""
    words = text.split()
    if not words or len(words) > MAX_NAME_WORDS or (not alone and _CREDENTIAL.match(text)):
        return False
    if any(ch.isdigit() for ch in text) or "@" in text or "http" in text or "www." in text:
        return False
    if any(w.islower() and ("." in w.strip(".") or "_" in w) for w in words):
        return False  # a login or a domain ("andrew.keaveney"), not a name
    if any(_squash(word) in NOT_NAME for word in words):
        return False
    squashed = _squash(text)
    known = squashed in site or any(len(n) >= 4 and squashed.startswith(n) for n in site)
    if known and _organisation(words):
        return False  # the outlet's own name or a desk of it; a blog may bear its author's
    if len(words) == 1 and (not alone or words[0].lower() in PARTICLES):
        return False
    cased = [w for w in words if w[0].isalpha() and w[0].lower() != w[0].upper()]
    if not cased:
        return True  # scripts without capitals (Arabic, Chinese, Hindi...)
    capitals = [w for w in cased if w[0].isupper() or w.lower() in PARTICLES]
    # Names are capitalised word by word; a username stands alone ("jsteinhardt").
    return len(capitals) == len(cased) or len(words) == 1


def _organisation(words: list[str]) -> bool:
    """Reads as an organisation's name rather than a person's: one word, a domain, an article
    first ("Le Monde"), capitals throughout ("MDR THÜRINGEN") or an organisation's word."""
    return (
        len(words) == 1
        or any("." in w or _squash(w) in ORGANISATION for w in words)
        or words[0].lower() in ARTICLES
        or all(w.isupper() for w in words)
    )


def _is_role(text: str) -> bool:
    """A job title beside a name ("News Reporter", "– Journalist"), to be passed over."""
    words = text.strip(" -–—,").split()
    return 0 < len(words) <= MAX_NAME_WORDS and any(_squash(w) in ROLES for w in words)


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


def _unique(names: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(_squash(name), name)
    return list(seen.values())


def _squash(text: str) -> str:
    return _NOT_ALNUM.sub("", text.casefold())
