"""Chrome learned per outlet (extractors/chrome.py): what recurs across an outlet's articles
goes, what is unique to a page stays."""

from __future__ import annotations

from extractors.chrome import MIN_PAGES, Chrome, keys, learn, strip

NEWSLETTER = (
    "Sign up for the Caspian Daily briefing: the region's news in your inbox every morning."
)
DISCLAIMER = "The views expressed in this article are the author's own."
READ_ALSO = "Read also: Baku hosts the Caspian energy forum"


def article(topic: str, *extra: str) -> str:
    """An article of the outlet: its own paragraphs around the outlet's recurring boxes."""
    own = topic.lower()
    return "\n".join(
        [
            f"{topic} dominated the talks in Baku on Tuesday, officials said.",
            NEWSLETTER,
            f"Delegations from both capitals discussed {own} for six hours behind closed doors.",
            f"The last round on {own}, held in Moscow in the spring, ended without a statement.",
            f"Analysts in Baku expect {own} to return to the agenda before the end of the year.",
            f"Neither side gave figures, but a deputy minister called the talks on {own} useful.",
            *extra,
            DISCLAIMER,
        ]
    )


PAGES = [
    article("Gas transit"),
    article("Rail freight", READ_ALSO),
    article("Grain exports", READ_ALSO),
    article("Border crossings", READ_ALSO),
]


def test_a_block_on_three_articles_of_an_outlet_is_learned_and_removed() -> None:
    chrome = learn([keys(text) for text in PAGES[:3]])
    assert chrome.pages == 3
    new = article("Migrant workers", "A quote unique to this page: 'we will meet again in May'.")
    text, removed = strip(new, chrome)
    assert removed == [NEWSLETTER, DISCLAIMER]
    assert NEWSLETTER not in text and DISCLAIMER not in text
    # Everything unique to the page stays, in order.
    assert text.split("\n") == [line for line in new.split("\n") if line not in removed]
    assert text.split("\n")[-1] == "A quote unique to this page: 'we will meet again in May'."


def test_a_paragraph_on_fewer_articles_is_not_chrome() -> None:
    # READ_ALSO is on two of the first three articles only.
    chrome = learn([keys(text) for text in PAGES[:3]])
    assert strip(READ_ALSO + "\n" + "Some text of a page.", chrome)[0].startswith(READ_ALSO)
    # On the fourth article it has been seen on three: now it goes.
    chrome = learn([keys(text) for text in PAGES])
    assert READ_ALSO in strip(PAGES[3], chrome)[1]


def test_copies_of_one_story_count_once() -> None:
    # The same wire story at three addresses: its paragraphs are the story, not chrome.
    copies = [article("Gas transit")] * MIN_PAGES
    chrome = learn([keys(text) for text in copies])
    assert chrome == Chrome(frozenset(), 1)


def test_a_page_that_would_mostly_go_is_left_whole() -> None:
    chrome = learn([keys(text) for text in PAGES[:3]])
    short = "\n".join([NEWSLETTER, DISCLAIMER, "Talks resumed."])
    assert strip(short, chrome) == (short, [])


def test_case_and_punctuation_do_not_hide_a_repeated_paragraph() -> None:
    chrome = learn([keys(text) for text in PAGES[:3]])
    shouted = article("Water", NEWSLETTER.upper().replace(":", " -"))
    assert len(strip(shouted, chrome)[1]) == 3


def test_nothing_learned_removes_nothing() -> None:
    assert strip(PAGES[0], Chrome()) == (PAGES[0], [])
    assert learn([]) == Chrome()
