"""Redirect policy against servers on public, private, loopback and metadata addresses.

All of it runs in a loopback-only network namespace (tests/support/netns.py): the scenarios are in
tests/support/netns_redirects.py, run once per module; the tests here read what they saw.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import netns

pytestmark = pytest.mark.slow  # a subprocess in a namespace


@pytest.fixture(scope="module")
def seen() -> dict[str, Any]:
    return netns.run("tests.support.netns_redirects")


def scenario(seen: dict[str, Any], name: str) -> dict[str, Any]:
    result = seen[name]
    assert "crashed" not in result, result.get("crashed")
    return result


def test_redirects_to_private_and_metadata_addresses_are_refused_and_named(seen) -> None:
    s = scenario(seen, "private_targets")
    pages = s["pages"]
    expected = {
        "/to-metadata": f"redirect to {s['metadata']}/latest/meta-data/ refused: "
        f"{netns.METADATA} is a link-local address (the cloud metadata service)",
        "/to-private": f"redirect to {s['private']}/admin refused: "
        f"{netns.PRIVATE} is a private address",
        "/to-loopback": f"redirect to {s['loopback']}/secret refused: "
        "127.0.0.1 is a loopback address",
        "/feed-to-metadata": f"redirect to {s['metadata']}/latest/meta-data/ refused: "
        f"{netns.METADATA} is a link-local address (the cloud metadata service)",
    }
    for path, message in expected.items():
        assert pages[path]["kind"] == "redirect-refused", (path, pages[path])
        assert pages[path]["error"] == message
    # A name is judged by what it resolves to.
    localhost = pages["/to-localhost"]
    assert localhost["kind"] == "redirect-refused"
    assert (
        "localhost resolves to" in localhost["error"] and "a loopback address" in localhost["error"]
    )
    assert pages["/to-file"]["kind"] == "redirect-refused"
    assert (
        pages["/to-file"]["error"] == "redirect to file:///etc/passwd refused: not an http(s) URL"
    )
    # Not a single request reached the private servers, and no hop was tried twice.
    assert s["requests"]["metadata"] == [] and s["requests"]["private"] == []
    assert s["requests"]["loopback"] == []
    assert sorted(s["requests"]["site"]) == sorted(["/robots.txt", *pages])


def test_dns_rebinding_between_check_and_connect_gets_nowhere(seen) -> None:
    s = scenario(seen, "rebinding")
    assert s["page"]["kind"] == "redirect-refused"
    assert "cdn.rebind-news.org resolves to 127.0.0.1, a loopback address" in s["page"]["error"]
    assert s["loopback"] == []
    # The connection went to the address just checked, not to one looked up earlier.
    assert s["public"] == []


def test_a_redirect_to_a_dead_host_marks_that_host_not_the_outlets(seen) -> None:
    s = scenario(seen, "dead_hop")
    moved, one, two = s["pages"]
    assert moved["kind"] == "cannot-connect"
    assert moved["final"].startswith("http://old.outlet-news.org:")
    assert one["kind"] is None and two["kind"] is None
    assert s["outlet_host_failure"] is None
    assert s["hop_host_failure"] == "cannot-connect"
    assert s["requests"] == ["/robots.txt", "/moved", "/one-story", "/two-story"]


def test_robots_txt_of_the_hops_host_decides_and_articles_stay_on_site(seen) -> None:
    s = scenario(seen, "robots_and_scope")
    pages = s["pages"]
    assert pages["/a"]["kind"] == "robots"
    assert pages["/a"]["error"].startswith("redirect to http://cdn.outlet-news.org:")
    assert pages["/a"]["error"].endswith("/private/story blocked by robots.txt")
    assert pages["/b"]["kind"] is None and pages["/b"]["final"].endswith("/open/story")
    off = pages["/off-site"]
    assert off["kind"] == "redirect-refused"
    assert "refused: it leaves the outlet's site" in off["error"]
    # A feed may move to another site, but that site's robots.txt still applies.
    assert pages["/feed"]["kind"] == "robots"
    # The disallowed pages were never fetched; each hop host's robots.txt was read once (the
    # server stands for both cdn.outlet-news.org and elsewhere-news.net).
    assert s["cdn"] == ["/robots.txt", "/open/story", "/robots.txt"]
    kinds = [(kind, url.split("/", 3)[-1], status) for kind, url, status in s["log"]]
    assert ("robots", "robots.txt", 200) in kinds


def test_a_private_address_is_fine_only_for_the_outlet_configured_with_it(seen) -> None:
    s = scenario(seen, "configured_private_host")
    assert s["own"]["kind"] is None
    assert s["other"]["kind"] == "redirect-refused"
    assert f"{netns.PRIVATE} is a private address" in s["other"]["error"]
    assert s["mirror"] == ["/robots.txt", "/story"]
