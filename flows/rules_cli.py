"""`newsmon rules ...`: test the rules on a text, a file or a stored article and say why each
matched or not; re-score the stored articles after a rule changed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flows.cli_common import ConfigOpt, DbOpt, fail, load_config, open_store, say
from flows.config import DEFAULT_CONFIG

rules_app = typer.Typer(
    help="Topic rules: test them on a text, re-score stored articles.", no_args_is_help=True
)


@rules_app.command("test")
def rules_test(
    target: Annotated[
        str,
        typer.Argument(
            help="A text, a file (a path: ./x.txt, /x, ~/x), or a stored article's URL."
        ),
    ],
    title: Annotated[str, typer.Option("--title", help="Title for a plain text.")] = "",
    config: ConfigOpt = DEFAULT_CONFIG,
    db: DbOpt = None,
) -> None:
    """Score a text against every rule and say why it matched or not: each group's mentions
    against its minimum, each NEAR and `>` with its outcome, the score against the threshold,
    the terms that fired and what the exclusions cancelled."""
    from extractors.topics import describe, explain
    from storage.db import StoreError

    cfg = load_config(config)
    assert cfg is not None
    if not cfg.rules:
        raise fail(f"{config}: no [[rule]] configured")
    text, language = target, None
    if target.startswith(("http://", "https://")):
        try:
            found = open_store(db, cfg).article_by_url(target)
        except StoreError as exc:
            raise fail(str(exc)) from None
        if found is None:
            raise fail(f"no stored article at {target} (run `newsmon run` first, or pass its text)")
        title, text, language = found[1] or "", found[2], found[3]
    elif _looks_like_path(target):
        text = _read(Path(target).expanduser())
    if language is None:  # as the extraction would tell it
        from extractors.article import detect_language

        language = detect_language(f"{title}\n{text}")
    for rule in cfg.rules:
        for line in describe(explain(rule, title, text, language)):
            say(line)


def _looks_like_path(value: str) -> bool:
    """One line that names a file: an existing file, or something written as a path."""
    if "\n" in value or len(value) > 4096:
        return False
    try:
        if Path(value).expanduser().is_file():
            return True
    except OSError:  # a long text is no file name
        return False
    return value.startswith(("/", "./", "../", "~")) or (
        " " not in value and Path(value).suffix.lower() in {".txt", ".md", ".html", ".json"}
    )


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise fail(f"no such file: {path}") from None
    except IsADirectoryError:
        raise fail(f"{path} is a folder, not a file") from None
    except UnicodeDecodeError:
        raise fail(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise fail(f"cannot read {path}: {exc.strerror or exc}") from None


@rules_app.command("rescore")
def rules_rescore(config: ConfigOpt = DEFAULT_CONFIG, db: DbOpt = None) -> None:
    """Re-score every stored article against the current rules (after editing a rule)."""
    from extractors.workers import Scorer
    from storage.db import StoreError

    cfg = load_config(config)
    assert cfg is not None
    store = open_store(db, cfg)
    scorer = Scorer(cfg.rules)
    total = matched = 0
    try:
        for rows in store.iter_articles():
            scores = [
                (id_, s)
                for id_, title, text, language in rows
                for s in scorer.scores(title, text, language)
            ]
            store.write_topics(scores)
            total += len(rows)
            matched += sum(s.matched for _, s in scores)
    except StoreError as exc:
        raise fail(str(exc)) from None
    say(f"re-scored {total} article(s) against {len(cfg.rules)} rule(s): {matched} match(es)")
