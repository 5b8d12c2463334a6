"""The extraction pool: worker processes that turn a fetched page into an Article with its
topic scores (or a UrlFailure), since trafilatura is CPU-bound and the GIL makes threads
useless.

Each worker gets the rules once, when it starts (the pool's initializer), and keeps them for
its life: sending them with every page would pickle some 17 KB of rules per page, about 3 ms
of the 70 a page costs. A pool therefore belongs to one set of rules; a new set needs a new
pool (flows.pipeline.Extractor makes one per run).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from multiprocessing import get_all_start_methods, get_context
from multiprocessing.context import BaseContext

from extractors.article import ExtractJob, extract, warm_up
from extractors.records import Article, TopicScore, UrlFailure
from extractors.topics import Rule, score
from extractors.tuning import tune_worker


class Scorer:
    """Scores texts against a set of rules; each score carries its rule's signature, so a score
    made under an older version of a rule can be found and redone."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = [(rule, rule.signature()) for rule in rules]

    def __bool__(self) -> bool:
        return bool(self.rules)

    def scores(self, title: str | None, text: str, language: str | None = None) -> list[TopicScore]:
        """`language` (the article's, ISO 639-1) decides how sentences split for NEAR/s."""
        out = []
        for rule, signature in self.rules:
            m = score(rule, title, text, language)
            out.append(TopicScore(m.rule_id, signature, m.matched, m.score, m.terms))
        return out


_scorer = Scorer(())  # this worker's rules, set once by the pool's initializer


def process(job: ExtractJob) -> Article | UrlFailure:
    """One page in a worker: extract, then score against the rules."""
    outcome = extract(job)
    if isinstance(outcome, Article) and _scorer:
        outcome.topics = _scorer.scores(outcome.title, outcome.text, outcome.language)
    return outcome


def make_pool(workers: int, rules: Sequence[Rule] = ()) -> Executor:
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=_pool_context(),
        initializer=_start_worker,
        initargs=(tuple(rules), os.getpid()),
    )


def ready_fork_server() -> None:
    """Start the fork server and wait until it forks: its imports take seconds, a minute on a
    loaded machine. A pool's first submit waits for them too, holding the pool's lock, so a
    pool shut down meanwhile (Ctrl-C early in a run) would wait for them as well; waiting here
    holds no lock of any pool."""
    context = _pool_context()
    if context.get_start_method() == "forkserver":
        probe = context.Process(target=int, name="newsmon-fork-server-probe")
        probe.start()
        probe.join()


def _start_worker(rules: tuple[Rule, ...], owner: int) -> None:
    global _scorer
    _scorer = Scorer(rules)
    tune_worker()
    warm_up()
    threading.Thread(target=_exit_with, args=(owner,), name="owner-watch", daemon=True).start()


def _exit_with(owner: int) -> None:
    """End this worker once the process that made the pool is gone. A pool shut down in order
    stops its workers itself; one whose process was killed (out of memory, kill -9) would leave
    them, and the fork server they hold open, waiting for work forever."""
    while not _gone(owner):
        time.sleep(1.0)
    os._exit(0)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):  # no such process, or the pid was reused
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] == b"Z"  # dead, not yet reaped
    except OSError:
        return False  # no /proc here: kill() found it


def _pool_context() -> BaseContext:
    """'forkserver' where the platform has it: a server process imports trafilatura and loads
    the language model once (1.8 s of CPU), and every worker forks from it ready to extract and
    sharing its memory. Otherwise 'spawn'. Never plain 'fork': Prefect and httpx run threads in
    this process, and forking a threaded process can deadlock."""
    if "forkserver" not in get_all_start_methods():
        return get_context("spawn")
    context = get_context("forkserver")
    # Read when the server starts (once per process); a server already running keeps its own.
    context.set_forkserver_preload(["extractors.warm"])
    return context
