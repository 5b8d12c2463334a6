"""Reading a byline's text: which of its words name people, and where it ends.

What extractors/byline.py finds (an author element, a labelled line under the headline, an
author box, a structured-data field) is text; this module splits it into pieces at its
separators and labels, and keeps the pieces that read as a person's name: not a label, a UI
string, a date, a role, an institution, a login or the outlet's own name.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from extractors.byline_words import (
    ARTICLES,
    INSTITUTION,
    NOT_NAME,
    ORGANISATION,
    PARTICLES,
    ROLES,
)
from extractors.datetext import DATE_WORDS, PUBLISHED_LABEL, UPDATED_LABEL
from extractors.sitename import squash

MAX_NAME_WORDS = 5  # "Maria de la Cruz Pérez": longer runs are sentences or titles

# Labels that open a byline, in the languages newsmon reads and the common European ones.
_LABEL = re.compile(
    r"(?:^|\b|\s)(?:(?:this|the)\s+(?:[\w-]+\s+){0,2}(?:was|is|has\s+been)\s+"
    r"(?:written|authored|prepared|contributed)\s+by|"
    r"(?:written|posted|authored|text|words|article|story|report(?:ed)?|"
    r"published)\s+by|by|interview(?=\s*:)|author(?:s)?|von|par|por|di|door|av|af|"
    r"автор(?:ы)?|текст|материал подготовил[аи]?|müəllif|müəlliflər|yazar|hazırladı)"
    r"\s*[:\-–—]?\s+",
    re.I,
)
# A byline ends where its date, reading time or the next item begins.
_STOP = re.compile(
    r"\s*(?:\||•|·|—|–|\s-\s|\n|\b\d|\bon\b|\sat\b|\sam\b|\sunder\b|\blast\b|\bposted\b|\bmin(?:ute)?s?\b|"
    r"\bfact[- ]checked\b|\bedited\b)|"
    + "|".join((PUBLISHED_LABEL.pattern, UPDATED_LABEL.pattern, DATE_WORDS.pattern)),
    re.I,
)
# Labels after which the names are not the authors'.
NOT_AUTHOR_LABEL = re.compile(
    r"^(?:\w+\s+)?(?:reviewed|fact[- ]checked|edited|updated|photos?|illustrations?|images?|"
    r"video|translated|produced|foto|bild)(?:\s+(?:by|von|par|por)\b|\s*$)"
    r"|^(?:foto|photo|bild)\s*:",
    re.I,
)
_SEGMENTS = re.compile(r"\s*(?:\||•|·|—|–|\s-\s)\s*")
_CONNECTOR = re.compile(r"[,;&/+]|and|und|et|y|e|og|och|и|və|ve", re.I)
_TRAILING_CONNECTORS = (",", ";", "&", " and", " und", " и", " və")
_PEOPLE = re.compile(r"\s*([,;&/+]|\b(?:and|und|et|y|e|og|och|и|və|ve)\b)\s*", re.I)
_CREDENTIAL = re.compile(
    r"^(?:[A-Z]{2,6}|(?:[A-Z][a-z]?\.){1,3}[A-Z]?[a-z]?\.?|Ph\.?D\.?|Jr\.?|Sr\.?)$"
)
# A capital after three lower-case letters inside one word: run-together words of a login
# ("TurboTaxLisa"), where a name's inner capital follows a short prefix ("McIntyre", "DeShawn").
_LOGIN = re.compile(r"[a-z]{3}[A-Z]")
_INITIALS = re.compile(r"[A-Z]{1,3}")
_FOR = re.compile(r"\s+for\s+", re.I)
_BRACKETS = re.compile(r"\s*(?:\([^()]*\)?|\[[^\[\]]*\]?)\s*$|[()\[\]]\s*$")


def read_names(
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
    joined = skipping = not_author = False
    pieces = list(segments(texts))
    for index, segment in enumerate(pieces):
        if _avatar(segment, pieces[index + 1 : index + 2]):
            continue
        if NOT_AUTHOR_LABEL.match(segment):
            if names:
                break
            skipping, after_label, not_author = True, 0, True
            continue
        label = _LABEL.match(f" {segment} ")
        if label:
            if names:
                break  # a second byline ("Updated by ...")
            segment = f" {segment} "[label.end() :].strip()
            if not segment and not_author:
                continue  # the "by" of "Medically reviewed", set apart by the markup
            skipping, after_label = False, 2
            if not segment:
                continue
        not_author = False
        if _CONNECTOR.fullmatch(segment):
            joined = bool(names)
            continue
        if skipping or (need_label and not after_label and not names):
            continue
        found = people(segment, site, single=strong or after_label > 0 or joined)
        if names and not joined:
            if found and all(squash(name) in declared for name in found):
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


def _avatar(segment: str, following: list[str]) -> bool:
    """An avatar's initials right before the name they stand for ("CP", "Chengcheng Pei")."""
    return (
        bool(following)
        and bool(_INITIALS.fullmatch(segment))
        and segment == "".join(word[0] for word in following[0].split())
    )


def segments(texts: Iterable[object]) -> Iterable[str]:
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
    pieces = _pieces(_PEOPLE.split(text))
    # Single words are names when all are ("Maria & Katerina"); beside full names they are
    # credentials or the tail of an organisation ("... Evaluation and Research").
    alone = single and all(len(p.split()) == 1 for p in pieces)
    return [p for p in pieces if _is_name(p, site, alone)]


def _pieces(split: list[str]) -> list[str]:
    """The pieces between the separators (`split` alternates piece, separator, piece...). A
    word "and" after a role that goes on past its title joins more of it ("Jane Roe, Head of
    Marketing and Community Development"); after a bare title ("Staff Writer and John Doe")
    or after "&" or "," the next person comes ("..., Security Expert & Gene Petrino").
    "Jane Roe (jro)": the desk's initials or a note after a name go."""
    pieces: list[str] = []
    in_role = False
    for index in range(0, len(split), 2):
        piece = _BRACKETS.sub("", split[index]).strip(" .")
        if in_role and index and split[index - 1].isalpha():
            continue
        in_role = _is_role(piece) and squash(piece.split()[-1]) not in ROLES
        if piece:
            pieces.append(piece)
    return pieces


def _is_name(text: str, site: set[str], alone: bool) -> bool:
    """A person's name: a few capitalised words, no digits, links, roles or UI words, and
    not the outlet's own name. `alone`: a one-word name may stand (a labelled byline)."""
    words = text.split()
    if (
        not any(ch.isalpha() for ch in text)
        or len(words) > MAX_NAME_WORDS
        or (not alone and _CREDENTIAL.match(text))
    ):
        return False
    if (
        any(ch.isdigit() for ch in text)
        or "@" in text
        or ":" in text
        or "http" in text
        or "www." in text
    ):
        return False
    if any(w.islower() and ("." in w.strip(".") or "_" in w) for w in words) or "--" in text:
        return False  # a login, a domain ("andrew.keaveney") or an icon ("heart--outline")
    if any(squash(word) in NOT_NAME for word in words):
        return False
    squashed = squash(text)
    known = squashed in site or any(len(n) >= 4 and squashed.startswith(n) for n in site)
    if known and _organisation(words):
        return False  # the outlet's own name or a desk of it; a blog may bear its author's
    if len(words) == 1 and (not alone or words[0].lower() in PARTICLES or len(text) < 2):
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
        or any("." in w or squash(w) in ORGANISATION for w in words)
        or words[0].lower() in ARTICLES
        or all(w.isupper() for w in words)
    )


def _is_role(text: str) -> bool:
    """A job title beside a name ("News Reporter", "– Journalist"), to be passed over."""
    words = text.strip(" -–—,").split()
    return 0 < len(words) <= MAX_NAME_WORDS and any(squash(w) in ROLES for w in words)


def is_login(name: str) -> bool:
    return len(name.split()) == 1 and bool(_LOGIN.search(name))


def people_first(names: list[str]) -> list[str]:
    """Beside people, an institution is where they work ("Jane Roe, ... Learning Network");
    alone, it is what the page credits."""
    people_ = [n for n in names if not any(squash(w) in INSTITUTION for w in n.split())]
    return people_ or names


def unique(names: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(squash(name), name)
    return list(seen.values())
