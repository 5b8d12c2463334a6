"""The site's own names, and a title stripped of them and of the sections beside them.

A page's `<title>` and og:title carry the site's name ("Headline | Site", "Site: Headline") and
often a section ("World News"), whatever the separator; the headline stage compares the h1 with
what is left (extractors/headline.py).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

import lxml.etree
import lxml.html

_SECTION_WORDS = 3  # a segment this short beside the site's name is a section ("World News")

# Strong separators between a headline and a site or section name; a colon only splits off a
# prefix that turns out to be the site's or section's name ("Blog: ...", "Leadfeeder: ...").
SEPARATOR = re.compile(r"\s+(?:[|–—»·•/~]|::|-{1,2})\s+|\s*\|\s*")
PREFIX = re.compile(r"^([^:]{2,40}):\s+")
NOT_ALNUM = re.compile(r"[\W_]+", re.UNICODE)
_SITE_META = lxml.etree.XPath(
    "//meta[@property='og:site_name' or @name='application-name' or @name='apple-mobile-web-app-title'"
    " or @name='publisher' or @name='twitter:site']/@content"
)
_GENERIC_LABELS = {"www", "com", "org", "net", "co", "edu", "gov", "blog", "news", "amp", "m"}


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
    names = {squash(html.unescape(name).lstrip("@")) for name in raw}
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    names.add(squash(host))
    names.discard("")
    return names


def host_labels(url: str) -> set[str]:
    """The distinctive labels of the host name ("fool" of www.fool.com): a title's segment
    naming the site often spells just that."""
    host = (urlsplit(url).hostname or "").lower()
    labels = [label for label in host.split(".")[:-1] if label not in _GENERIC_LABELS]
    return {squash(label) for label in labels if len(label) >= 4}


def strip_site(
    title: str, names: set[str], sections: set[str] = frozenset(), fuzzy: bool = True
) -> str:
    """The title without the site's name and the sections beside it, at either end. `fuzzy`:
    a segment merely containing a name counts as the site ("The Motley Fool" for "fool")."""
    title = " ".join(html.unescape(title).split())
    parts = [part for part in SEPARATOR.split(title) if part.strip()]
    if len(parts) > 1:
        site = [is_site(part, names, fuzzy) or squash(part) in sections for part in parts]
        if not all(site):
            start, end = 0, len(parts)
            while site[start]:
                start += 1
            while site[end - 1]:
                end -= 1
            # A short segment that the site's name leaves at an end is its section.
            if end < len(parts) and end - start > 1 and short(parts[end - 1]):
                end -= 1
            if start > 0 and end - start > 1 and short(parts[start]):
                start += 1
            title = _join(title, parts[start:end])
    parts = title.split(" | ")
    # A bar sets apart the site's chrome even when its name is unknown: a short segment at an
    # end beside a longer headline goes.
    if len(parts) == 2 and short(parts[1], 4) and len(parts[0].split()) > len(parts[1].split()):
        title = parts[0]
    elif len(parts) == 2 and short(parts[0], 4) and len(parts[1].split()) > len(parts[0].split()):
        title = parts[1]
    prefix = PREFIX.match(title)
    # Exactly the site's name: a colon inside a headline is common, and a prefix merely
    # containing a label of the host is the headline's own ("Teaching Online: ...").
    if prefix and squash(prefix.group(1)) in names:
        title = title[prefix.end() :]
    words = title.split()
    for name in (words[0], words[-1]) if len(words) > 2 else ():
        # A host name at an end without a separator: "example.com Vibe Coding".
        if "." in name.strip(".") and squash(name) in names:
            title = title.removeprefix(name).removesuffix(name).strip()
    return title


def _join(title: str, parts: list[str]) -> str:
    """The kept parts as the title spells them, separators between them included."""
    begin = title.find(parts[0])
    end = title.rfind(parts[-1]) + len(parts[-1])
    return title[begin:end].strip() if begin >= 0 and end > begin else " ".join(parts)


def short(part: str, words: int = _SECTION_WORDS) -> bool:
    return len(part.split()) <= words


def is_site(text: str, names: set[str], fuzzy: bool = True) -> bool:
    squashed = squash(text)
    if not squashed:
        return False
    return (
        squashed in names
        or fuzzy
        and any(
            len(name) >= 4 and name in squashed and len(squashed) <= len(name) + 8 for name in names
        )
    )


def path_words(url: str) -> set[str]:
    """Words of the URL's path that name sections (/blog/, /opinion/, /world-news/)."""
    segments = urlsplit(url).path.strip("/").split("/")[:-1]
    return {squash(s) for s in segments if s and not s.isdigit() and len(s) <= 30}


def squash(text: str) -> str:
    return NOT_ALNUM.sub("", text.casefold())
