"""Recognising a bot wall: a challenge or block page served instead of the content.

Such a page is no error of the site and no missing text: it says this client, from this network,
is not let in. Told apart, it gets its own failure kind, a message that says what to do, and a
longer wait before the next try (flows/polling.py).
"""

from __future__ import annotations

from collections.abc import Mapping

# (vendor, markers) in the first bytes of a challenge or block page; any one marker suffices.
# Cloudflare also injects "/cdn-cgi/challenge-platform/" into ordinary pages (its bot
# detection script), so that alone is no sign of a wall.
_CHALLENGE_MARKERS: tuple[tuple[str, tuple[bytes, ...]], ...] = (
    ("Cloudflare", (b"_cf_chl_opt", b"cf-browser-verification", b"<title>just a moment...</title>",
                    b"attention required! | cloudflare", b"sorry, you have been blocked")),
    ("DDoS-Guard", (b"ddos-guard",)),
    ("Sucuri", (b"sucuri website firewall", b"sucuri_cloudproxy")),
    ("a bot check", (b"checking your browser before accessing", b"enable javascript and cookies to continue")),
)  # fmt: skip
# Statuses a wall answers with; a 200 must carry a challenge marker of its own to count.
WALL_STATUSES = frozenset({403, 429, 503})
HEAD_BYTES = 64 * 1024  # challenge pages are small; markers sit near the top


def wall(status: int, headers: Mapping[str, str], head: bytes) -> str | None:
    """Who put up the wall ("Cloudflare", ...) when this response is a bot wall, else None."""
    if headers.get("cf-mitigated", "").strip().lower() == "challenge":
        return "Cloudflare"
    if status != 200 and status not in WALL_STATUSES:
        return None
    text = head[:HEAD_BYTES].lower()
    for vendor, markers in _CHALLENGE_MARKERS:
        if any(marker in text for marker in markers):
            return vendor
    return None


def message(vendor: str, status: int) -> str:
    return (
        f"anti-bot wall ({vendor}, HTTP {status}): the site refuses automated clients from this "
        "network; try again later, from another network, or ask the site to allow newsmon"
    )
