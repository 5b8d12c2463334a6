"""What survives translation, and whether two reports in different languages tell of one event.

A Russian and an English report of the same event share little text, but they share names
(Алиев = Aliyev = Əliyev, Мустафаев = Mustafayev, Оверчук = Overçuk) and figures (2030, 1.3,
600). An `EventKey` keeps those: every capitalised word transliterated into the spelling the
English-language press uses (Russian through iuliia's Wikipedia scheme, Azerbaijani through the
letter table below), reduced to a consonant skeleton so that case endings and vowel spellings
do not matter, and every number with two or more digits, decimal commas read as points.

Two keys match when enough *rare* evidence is shared: `rarity` weighs each shared feature by
how few recent articles carry it (Baku and Russia are in every article of the beat and say
nothing; Yarag-Kazmalyar or 4.5 say a lot). Pure functions; the store supplies the rarities.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable

import iuliia

from extractors.records.topics import EventKey, EventMatch

# Chosen on half of tests/crosslang_eval (`make eval-crosslang`), precision first: a wrong join
# hides an alert. Reports of two events on one beat share their officials and agencies
# (Hajizada, Zakharova, Overchuk), so names alone must weigh a lot; reports of one event share
# their figures, and two events that both give figures rarely share one.
NAMES_ONLY_SCORE = 16.0  # summed rarity (log-odds) of shared names when figures cannot decide
MIN_SHARED = 3  # features shared, at least: one rare name alone is a topic, not an event
WINDOW_HOURS = 48.0  # reports of one event appear within two days of each other
MIN_SKELETON = 3  # letters a name key keeps at the least (shorter keys match too much)

_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# Azerbaijani Latin to the spelling the English-language press uses for the same names
# (Hacızadə -> Hajizada, Ceyhun -> Jeyhun, Qafarova -> Gafarova, Şahbazov -> Shahbazov). No
# transliteration library covers Azerbaijani this way: anyascii maps ç and c to one letter.
_AZ = str.maketrans(
    {"ə": "a", "ı": "i", "ç": "ch", "ş": "sh", "c": "j", "x": "kh", "q": "g", "ğ": "gh",
     "ö": "o", "ü": "u", "Ə": "A", "I": "I", "İ": "I", "Ç": "Ch", "Ş": "Sh", "C": "J",
     "X": "Kh", "Q": "G", "Ğ": "Gh", "Ö": "O", "Ü": "U"}
)  # fmt: skip
# Spellings of one sound across the schemes, folded before the vowels go.
_SOUNDS = [("dzh", "j"), ("shch", "s"), ("sh", "s"), ("zh", "j"), ("kh", "h"), ("ch", "c"),
           ("ts", "c"), ("x", "h"), ("q", "g"), ("w", "v"), ("ck", "k")]  # fmt: skip
_VOWELS = re.compile(r"[aeiouy]")


@functools.lru_cache(maxsize=200_000)  # names recur from article to article
def name_key(word: str, language: str) -> str | None:
    """A name's skeleton: the first letter, then its consonants, one of each run (Aliyev,
    Алиевым, Əliyevin -> alv...; prefixes of one another match)."""
    latin = word.translate(_AZ) if language == "az" else iuliia.WIKIPEDIA.translate(word)
    text = re.sub(r"[^a-z]", "", latin.lower())
    for spelling, sound in _SOUNDS:
        text = text.replace(spelling, sound)
    if not text:
        return None
    head, rest = text[0], _VOWELS.sub("", text[1:])
    skeleton = re.sub(r"(.)\1+", r"\1", head + rest).replace("h", "g")
    return skeleton if len(skeleton) >= MIN_SKELETON else None


def event_key(title: str | None, text: str, language: str) -> EventKey:
    body = f"{title or ''}\n{text}"
    names = {name_key(w, language) for w in _WORD.findall(body) if w[0].isupper()}
    numbers = {_number(n) for n in _NUMBER.findall(body)}
    return EventKey(language, frozenset(n for n in names if n), frozenset(n for n in numbers if n))


def _number(raw: str) -> str | None:
    parts = re.split(r"[.,]", raw)
    # 1,500 and 1.500 are thousands; 1,5 and 81.40 are decimals.
    if len(parts) > 1 and all(len(p) == 3 for p in parts[1:]):
        value = "".join(parts)
    else:
        value = parts[0] + ("." + "".join(parts[1:]).rstrip("0") if len(parts) > 1 else "")
    value = value.lstrip("0").rstrip(".") or "0"
    return value if len(value.replace(".", "")) >= 2 else None


def features(key: EventKey) -> list[str]:
    return [f"n:{n}" for n in key.names] + [f"#{n}" for n in key.numbers]


def shared_features(a: EventKey, b: EventKey) -> list[str]:
    """Features of `a` that `b` carries too; a name matches a name it begins or ends up in
    (Алиев and Алиевым)."""
    shared = [f"#{n}" for n in a.numbers & b.numbers]
    for name in a.names:
        if any(name.startswith(other) or other.startswith(name) for other in b.names):
            shared.append(f"n:{name}")
    return shared


def rarity_from(keys: Iterable[EventKey]) -> Callable[[str], float]:
    """Inverse document frequency of each feature over a set of recent articles' keys."""
    counts: dict[str, int] = {}
    total = 0
    for key in keys:
        total += 1
        for f in set(features(key)):
            counts[f] = counts.get(f, 0) + 1

    def rarity(feature: str) -> float:
        return math.log((total + 1) / (counts.get(feature, 0) + 1))

    return rarity


def same_event(a: EventKey, b: EventKey, rarity: Callable[[str], float]) -> EventMatch:
    """Reports in different languages of one event: at least `MIN_SHARED` names and figures in
    common, and then a shared figure when both give figures, else rare names enough."""
    shared = sorted(shared_features(a, b), key=lambda f: -rarity(f))
    names = round(sum(rarity(f) for f in shared if f.startswith("n:")), 2)
    if a.numbers and b.numbers:
        decided = any(f.startswith("#") for f in shared)
    else:
        decided = names >= NAMES_ONLY_SCORE
    same = a.language != b.language and len(shared) >= MIN_SHARED and decided
    return EventMatch(same, names, tuple(shared))
