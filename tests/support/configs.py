"""Config files for tests, written the way a user writes newsmon.toml."""

from __future__ import annotations

from pathlib import Path

from tests.support.server import Site

# The topic rule the alert tests use: a frozen copy of the shipped one (see the file).
RULE = (Path(__file__).parents[1] / "fixtures" / "rule.toml").read_text(encoding="utf-8")


def config_text(*outlets: str, settings: str = "", read_timeout_s: float = 2) -> str:
    """Short timeouts, so that the tests of failing outlets fail fast; a test whose server holds
    a response back on purpose raises `read_timeout_s` above how long it holds it."""
    base = (
        "[settings]\nretries = 1\nbackoff_base_s = 0.05\n"
        f"read_timeout_s = {read_timeout_s}\nconnect_timeout_s = 2\nworkers = 2\n"
    )
    return base + settings + "\n" + "\n".join(outlets)


def outlet_toml(outlet_id: str, site: Site | str, **kw: object) -> str:
    homepage = site if isinstance(site, str) else site.url + "/"
    lines = [
        "[[outlet]]",
        f'id = "{outlet_id}"',
        f'name = "{outlet_id.title()}"',
        f'homepage = "{homepage}"',
        'language = "en"',
        "min_delay_s = 0",
    ]
    for key, value in kw.items():
        if isinstance(value, str):
            lines.append(f"{key} = '{value}'")
        elif isinstance(value, list):
            lines.append(f"{key} = [" + ", ".join(f'"{v}"' for v in value) + "]")
        else:
            lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"


def write_config(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
