"""Machine tuning (extractors/tuning.py): what it changes for speed never changes what is
extracted, and NEWSMON_TUNING=0 turns all of it off."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

import lxml.html
import pytest
from trafilatura.utils import HTML_PARSER, load_html

from extractors.article import ExtractJob, extract
from extractors.records import Article
from extractors.tuning import tune_worker
from flows.demo.server import DEMO_DIR, load_manifest


def demo_jobs() -> list[ExtractJob]:
    fetched_at = datetime(2026, 1, 1, tzinfo=UTC)
    jobs = []
    for outlet in load_manifest():
        for article in outlet.articles:
            html = (DEMO_DIR / "site" / outlet.id / article["file"]).read_text(encoding="utf-8")
            url = outlet.origin + article["path"]
            jobs.append(
                ExtractJob(html, url, url, outlet.id, outlet.origin + "/", fetched_at, "feed",
                           default_language=outlet.language)
            )  # fmt: skip
    return jobs


def test_the_element_lookup_in_c_extracts_what_lxml_html_own_does() -> None:
    set_lookup = HTML_PARSER.set_element_class_lookup
    tune_worker()
    try:
        # It is there for speed: form controls come out as plain HtmlElement ...
        form = load_html("<html><body><form><input name='q'><select></select></form></body></html>")
        assert {type(el) for el in form.iter("form", "input", "select")} == {lxml.html.HtmlElement}
        # ... and every page extracts to the very same record as with lxml.html's own lookup.
        jobs = demo_jobs()
        ours = [extract(job) for job in jobs]
    finally:
        set_lookup(lxml.html.HtmlElementClassLookup())  # lxml.html's own, as before
    theirs = [extract(job) for job in jobs]
    assert all(isinstance(a, Article) for a in ours)
    assert ours == theirs


def in_a_process(script: str, tuning: str) -> list[str]:
    env = {**os.environ, "NEWSMON_TUNING": tuning}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


# In a process of its own: the policy is for the process's lifetime, and the switch is read at
# import. One process per setting checks both things the switch turns on (each start-up imports
# trafilatura twice: in the process and in the pool's fork server).
BOTH = """
import os, threading
from trafilatura.utils import load_html
from extractors.tuning import tune_process, tune_worker
from extractors.workers import make_pool
tune_worker()
print(type(load_html("<html><body><form><input></form></body></html>").find(".//input")).__name__)
if hasattr(os, "SCHED_BATCH"):
    running = threading.Thread(target=threading.Event().wait, args=(10,), daemon=True)
    running.start()
    tuned = tune_process()
    pool = make_pool(1)
    print(tuned, os.sched_getscheduler(0), os.sched_getscheduler(running.native_id),
          pool.submit(os.sched_getscheduler, 0).result())
    pool.shutdown()
"""


@pytest.mark.slow
def test_one_switch_turns_the_element_lookup_and_batch_scheduling_on_or_off() -> None:
    """Batch scheduling covers threads already running and the extraction workers."""
    on, off = in_a_process(BOTH, "1"), in_a_process(BOTH, "0")
    assert on[0] == "HtmlElement" and off[0] == "InputElement"
    if hasattr(os, "SCHED_BATCH"):  # a Linux scheduler policy
        assert on[1:] == ["True"] + [str(os.SCHED_BATCH)] * 3
        untouched = str(os.sched_getscheduler(0))  # what this process runs as, inherited by those
        assert off[1:] == ["False"] + [untouched] * 3
