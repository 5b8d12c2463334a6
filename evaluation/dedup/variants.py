"""Syndication variants: the copies a reprinting outlet or an aggregator makes of a story."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import replace

from evaluation.dedup.documents import SAME_TOPIC, Document

# Word substitutions a copy editor or a rewriting aggregator makes (both directions where it
# reads naturally). Applied as whole words; the first letter's case is kept.
SUBSTITUTIONS: dict[str, list[tuple[str, str]]] = {
    "en": [
        ("relations", "ties"), ("ties", "relations"), ("said", "stated"), ("stated", "said"),
        ("country", "nation"), ("countries", "nations"), ("several", "a number of"),
        ("many", "numerous"), ("major", "key"), ("important", "significant"),
        ("significant", "considerable"), ("recent", "latest"), ("appear", "seem"),
        ("appears", "seems"), ("decision", "move"), ("tensions", "frictions"),
        ("crisis", "standoff"), ("talks", "negotiations"), ("officials", "authorities"),
        ("began", "started"), ("help", "assist"), ("very", "highly"), ("reports", "news"),
        ("flooded", "awash"), ("comes", "arrives"), ("particularly", "especially"),
        ("believe", "think"), ("trying", "seeking"), ("hit", "reached"), ("this week", "in recent days"),
        ("criticise", "criticize"), ("defence", "defense"), ("organisation", "organization"),
        ("recognise", "recognize"), ("Ekaterinburg", "Yekaterinburg"), ("Kiev", "Kyiv"),
        ("centre", "center"), ("move", "step"), ("long-delayed", "long-stalled"),
        ("moving forward", "advancing"), ("entered", "began"), ("deep", "sharp"),
        ("political observer", "political analyst"),
        ("around", "about"), ("warned", "cautioned"), ("amid", "during"),
        ("went down", "crashed"), ("accept responsibility", "take responsibility"),
        ("waiting", "hoping"), ("deteriorating", "worsening"), ("promising", "hopeful"),
    ],
    "ru": [
        ("отношения", "связи"), ("заявил", "сообщил"), ("заявила", "сообщила"),
        ("чаще всего", "как правило"), ("всё чаще", "всё больше"), ("однако", "впрочем"),
        ("эксперты", "аналитики"), ("имеют в виду", "подразумевают"), ("резко", "заметно"),
        ("сейчас", "теперь"), ("считает", "полагает"), ("значительная", "существенная"),
        ("говорят", "рассуждают"), ("страны", "государства"), ("ещё", "уже"),
        ("по словам", "как отмечает"), ("президент", "глава государства"),
    ],
    "az": [
        ("münasibətlər", "əlaqələr"), ("ciddi", "əhəmiyyətli"), ("bildirib", "qeyd edib"),
        ("ölkə", "dövlət"), ("aydındır", "bəllidir"), ("yaşayır", "keçirir"),
        ("ən gərgin", "ən ağır"), ("xeyli", "çox"), ("Ekspertlərin", "Analitiklərin"),
        ("həlak olub", "dünyasını dəyişib"), ("tələb edir", "istəyir"), ("lakin", "ancaq"),
    ],
}  # fmt: skip

EDITOR_NOTES = {
    "en": [
        "Editor's note: The views expressed in this article are the author's own and do not necessarily reflect the editorial policy of this outlet.",
        "Editor's note: This article has been updated to include reactions from officials in Baku and Moscow.",
    ],
    "ru": ["Мнение автора может не совпадать с позицией редакции."],
    "az": ["Redaksiyadan: Müəllifin mövqeyi redaksiyanın mövqeyi ilə üst-üstə düşməyə bilər."],
}
# What an aggregator adds to every story about the Baku–Moscow rift: the same paragraph lands
# in copies of different stories, a realistic source of shared text between them.
BACKGROUND = {
    "en": [
        "Relations between Baku and Moscow have been strained since December 2024, when an Azerbaijan Airlines passenger jet crashed near Aktau after being damaged over Grozny. Azerbaijan says the plane was hit by Russian air defence and has demanded that Moscow admit responsibility, punish those involved and pay compensation.",
        "Azerbaijan and Russia signed a Declaration on Allied Interaction in February 2022, two days before Russia's full-scale invasion of Ukraine. Russian peacekeepers deployed in Karabakh after the 2020 war left the region in 2024.",
    ],
    "ru": [
        "Отношения между Баку и Москвой осложнились после крушения самолёта AZAL под Актау в декабре 2024 года. Азербайджан настаивает, что лайнер был повреждён российской ПВО над Грозным, и требует признания вины, наказания виновных и компенсаций."
    ],
    "az": [
        "Qeyd edək ki, Azərbaycan ilə Rusiya arasında münasibətlər 2024-cü ilin dekabrında AZAL təyyarəsinin Aktau yaxınlığında qəzaya uğramasından sonra gərginləşib."
    ],
}
PREFIX_BOILERPLATE = {"en": "({name}) -- ", "ru": "({name}) — ", "az": "({name}) — "}
TOP_BOILERPLATE = {
    "en": ["This article was originally published by {name}.", "Source: {name}"],
    "ru": ["Материал впервые опубликован изданием {name}."],
    "az": ["Məqalə ilk dəfə {name} saytında dərc olunub."],
}
BOTTOM_BOILERPLATE = {
    "en": [
        "Source: {name}",
        "Read more: {url}",
        "Follow us on Telegram",
        "Follow us on Telegram for the latest news from Azerbaijan and the region.",
    ],
    "ru": ["Источник: {name}", "Читайте также: {url}", "Подписывайтесь на наш Telegram-канал"],
    "az": ["Mənbə: {name}", "Ətraflı: {url}", "Telegram kanalımıza abunə olun"],
}
DATELINES = {
    "en": [
        "MOSCOW (Sputnik) - ",
        "BAKU (Reuters) - ",
        "MOSCOW/BAKU (Reuters) -",
        "BAKU, July 8 (Trend) - ",
    ],
    "ru": ["МОСКВА, 8 июл – РИА Новости. ", "БАКУ, 8 июля. /ТАСС/. "],
    "az": ["Bakı, 8 iyul, AZƏRTAC. ", "Bakı. Trend: "],
}
BYLINE_FALLBACK = ["Dr. Leyla Hasanova", "Staff Writer", "Orxan Quliyev"]
HEADLINE_PREFIX = {"en": ["Analysis: ", "Opinion | ", "", ""], "ru": ["Мнение: ", ""], "az": ["Təhlil: ", ""]}  # fmt: skip
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'"})
# Applied in this order whatever order a recipe lists them in; "snippet" replaces the text.
TRANSFORMS = ("cut", "added", "copyedit", "headline", "boilerplate", "flatten", "snippet")


def _table(language: str, table: dict) -> list:
    return table.get(language) or table["en"]


# Contexts where a substitution would break the sentence ("how many" -> "how numerous",
# "was hit by" -> "was reached by", "deep-water" -> "sharp-water"): (before, after) lookarounds.
_GUARDS: dict[str, tuple[str, str]] = {
    "comes": ("", r"(?! to\b)"),
    "very": ("", r"(?! (?:best|first|last|same|own|much|many|few|well|end|beginning)\b)"),
    "several": ("", r"(?! times\b)"),
    "many": (r"(?<!how )(?<!so )(?<!too )(?<!as )", r"(?! of\b)"),
    "help": ("", r"(?= (?:to|with)\b|[.,])"),
    "hit": ("", r"(?= (?:a|an|the|new)\b)"),
    "move": (r"(?<=a |e )", ""),
    "around": ("", r"(?= (?:\d|\$))"),
    "reports": ("", r"(?= (?:about|of|from|on)\b)"),
    "recent": ("", r"(?! (?:years|days|weeks|months|decades)\b)"),
    "ещё": ("", r"(?! не\b)"),
}


def substitute(text: str, language: str, count: int, rng: random.Random) -> tuple[str, int]:
    """Replace up to `count` words or phrases with their substitutes; returns the new text and
    how many replacements were made."""
    spans: list[tuple[int, int, str]] = []
    for old, new in _table(language, SUBSTITUTIONS):
        before, after = _GUARDS.get(old, ("", ""))
        pattern = re.compile(rf"(?<!-){before}\b{re.escape(old)}\b(?!-){after}", re.IGNORECASE)
        for m in pattern.finditer(text):
            word = m.group(0)
            repl = new[0].upper() + new[1:] if word[0].isupper() else new
            spans.append((m.start(), m.end(), repl))
    rng.shuffle(spans)
    chosen: list[tuple[int, int, str]] = []
    for span in spans:
        if len(chosen) >= count:
            break
        if all(span[1] <= c[0] or span[0] >= c[1] for c in chosen):
            chosen.append(span)
    for start, end, repl in sorted(chosen, reverse=True):
        text = text[:start] + repl + text[end:]
    return text, len(chosen)


def snippet_of(text: str, rng: random.Random, language: str, author: str | None) -> str:
    """A teaser: the first 25–60 words and an ellipsis, sometimes after a byline ("By Dr. X",
    no punctuation, as wire pages print it) or a news agency dateline."""
    words = text.split()
    n = rng.randint(25, 60)
    if len(words) < n + 10:
        n = max(10, len(words) // 2)
    lead = " ".join(words[:n]).rstrip(".,;:–—-\"'”’»")
    style = rng.choice(["plain", "byline", "dateline"])
    prefix = ""
    if style == "byline":
        prefix = f"By {author or rng.choice(BYLINE_FALLBACK)} "
    elif style == "dateline":
        prefix = rng.choice(_table(language, DATELINES))
    return prefix + lead + rng.choice(["...", "...", "…"])


def make_variant(
    base: Document,
    doc_id: str,
    outlet: str,
    transforms: Sequence[str],
    rng: random.Random,
    *,
    source_name: str | None = None,
    title: str | None = None,
) -> Document:
    """A syndicated copy of `base` as another outlet (or the same one) would publish it."""
    unknown = set(transforms) - set(TRANSFORMS)
    if unknown:
        raise ValueError(f"unknown transforms {sorted(unknown)}")
    lang = base.language if base.language in SUBSTITUTIONS else "en"
    name = source_name or base.outlet
    paragraphs = [p for p in base.text.split("\n") if p.strip()]
    new_title = base.title
    notes: list[str] = []
    for step in TRANSFORMS:
        if step not in transforms:
            continue
        if step == "cut" and len(paragraphs) >= 4:
            k = min(rng.choice([1, 2]), len(paragraphs) - 3)
            gone = sorted(rng.sample(range(1, len(paragraphs)), k))
            paragraphs = [p for i, p in enumerate(paragraphs) if i not in gone]
            notes.append(f"cut paragraphs {[g + 1 for g in gone]}")
        elif step == "added":
            pool = list(_table(lang, EDITOR_NOTES))
            if base.topic == SAME_TOPIC:
                pool += _table(lang, BACKGROUND)
            extra = rng.choice(pool)
            if extra in _table(lang, BACKGROUND):  # background goes after the first paragraphs
                at = rng.randint(1, min(3, len(paragraphs)))
            else:  # an editor's note opens or closes the text
                at = rng.choice([0, len(paragraphs)])
            paragraphs.insert(at, extra)
            notes.append(f"added paragraph at {at + 1}")
        elif step == "copyedit":
            body = "\n".join(paragraphs).translate(_QUOTES)
            body = body.replace(" – ", " - ").replace(" — ", " - ").replace("—", " - ")
            body, n = substitute(body, lang, rng.randint(2, 5), rng)
            paragraphs = body.split("\n")
            if rng.random() < 0.5:
                paragraphs = [re.sub(r"\. (?=[A-ZА-ЯƏ])", ".  ", p, count=2) for p in paragraphs]
            notes.append(f"copy-edited ({n} substitutions, straight quotes)")
        elif step == "headline":
            if title:
                new_title = title
            else:
                new_title, n = substitute(base.title or "", lang, 2, rng)
                prefixes = [p for p in _table(lang, HEADLINE_PREFIX) if p or n]
                new_title = rng.choice(prefixes) + new_title
            # the lead: the first real paragraph, not a kicker line such as "This is a commentary"
            at = next((i for i, p in enumerate(paragraphs) if len(p.split()) >= 15), 0)
            paragraphs[at], n = substitute(paragraphs[at], lang, rng.randint(2, 4), rng)
            notes.append(f"new headline, {n} words of the lead (paragraph {at + 1}) changed")
        elif step == "boilerplate":
            url = f"https://{base.outlet}.example/news/{base.id}"
            choice = rng.choice(["prefix", "top", "bottom", "bottom2"])
            if choice == "prefix":
                paragraphs[0] = _table(lang, PREFIX_BOILERPLATE).format(name=name) + paragraphs[0]
            elif choice == "top":
                paragraphs.insert(0, rng.choice(_table(lang, TOP_BOILERPLATE)).format(name=name))
            else:
                lines = rng.sample(
                    _table(lang, BOTTOM_BOILERPLATE), 2 if choice == "bottom2" else 1
                )
                paragraphs += [line.format(name=name, url=url) for line in lines]
            notes.append(f"boilerplate ({choice})")
        elif step == "flatten":
            paragraphs = [" ".join(paragraphs)]
            notes.append("paragraphs flattened")
        elif step == "snippet":
            paragraphs = [snippet_of(" ".join(paragraphs), rng, lang, base.author)]
            notes.append("lead snippet")
    kind = "snippet" if "snippet" in transforms else ("repost" if not transforms else "variant")
    return replace(
        base,
        id=doc_id,
        outlet=outlet,
        kind=kind,
        text="\n".join(paragraphs),
        title=new_title,
        transforms=tuple(t for t in TRANSFORMS if t in transforms),
        source=f"{base.id}: " + ("; ".join(notes) or "same text"),
    )


# Recipes for generated variants of corpus texts (the committed set lists its own in build.py).
RECIPES: list[tuple[str, ...]] = [
    ("headline", "boilerplate"),
    ("cut", "copyedit"),
    ("snippet",),
    ("added", "boilerplate"),
    ("flatten",),
    ("headline", "cut"),
    ("copyedit", "boilerplate"),
]
REPRINT_OUTLETS = ["caspian-digest", "southcaucasus-review", "newsfeed-en", "wire-briefs"]
