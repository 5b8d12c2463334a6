"""Machine tuning: what makes a pass cheaper on a small, saturated machine without changing
what it extracts. One switch turns all of it off: NEWSMON_TUNING=0.

- `tune_worker()`, in each extraction worker before its first page: parse with an element
  class lookup done in C. lxml.html picks the Python class of an element in a Python method
  each time code touches that element, some 5,000 times a page through trafilatura, htmldate
  and readability; the C lookup gives every element lxml.html's HtmlElement and extracts
  exactly the same (only form controls lose their own subclasses, which none of them use).
- `tune_process()`, in the ingest process before the extraction pool starts: run as batch
  work for the Linux scheduler (SCHED_BATCH), inherited by the pool's fork server and
  workers. The ingest process wakes for every response, finished extraction and write; a
  normal thread that wakes preempts an extraction worker at once (on two cores each switch
  costs the worker its caches), a batch thread waits for the next tick, a few milliseconds.

What each is worth, measured under a saturating benchmark and under the product's real load:
benchmarks/README.md, "Machine tuning".
"""

from __future__ import annotations

import contextlib
import os

import lxml.etree
import lxml.html
import trafilatura.utils

ENABLED = os.environ.get("NEWSMON_TUNING", "1").strip().lower() not in ("0", "off", "no", "false")

ELEMENT_CLASSES = lxml.etree.ElementDefaultClassLookup(
    element=lxml.html.HtmlElement,
    comment=lxml.html.HtmlComment,
    pi=lxml.html.HtmlProcessingInstruction,
    entity=lxml.html.HtmlEntity,
)


def tune_worker() -> None:
    if ENABLED:
        trafilatura.utils.HTML_PARSER.set_element_class_lookup(ELEMENT_CLASSES)


def tune_process() -> bool:
    """Whether the process now runs as batch work (False where the platform has no such
    policy or refuses it; the pass runs the same, with more switches)."""
    return ENABLED and schedule_as_batch()


def schedule_as_batch() -> bool:
    """SCHED_BATCH for every thread of this process, and so for the processes it starts."""
    policy = getattr(os, "SCHED_BATCH", None)
    if policy is None or not hasattr(os, "sched_setscheduler"):
        return False
    try:
        for tid in os.listdir("/proc/self/task"):
            with contextlib.suppress(ProcessLookupError):  # a thread that just ended
                os.sched_setscheduler(int(tid), policy, os.sched_param(0))
    except OSError:
        return False
    return True
