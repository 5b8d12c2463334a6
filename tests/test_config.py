from pathlib import Path

import pytest

from flows.config import ConfigError, load


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "newsmon.toml"
    path.write_text(text, encoding="utf-8")
    return path


OUTLET = """
[[outlet]]
id = "x"
name = "X"
homepage = "http://127.0.0.1:8000/"
language = "en"
"""


def test_shipped_config_is_valid_and_multilingual() -> None:
    config = load(Path(__file__).parents[1] / "newsmon.toml")
    ids = {o.id for o in config.outlets}
    assert {"aze-media", "eurasianet", "commonspace"} <= ids
    assert len(config.outlets) >= 9
    assert {o.language for o in config.outlets} >= {"en", "ru", "az"}


def test_relative_sources_resolve_against_homepage(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        OUTLET
        + 'feeds = ["/feed/"]\nsections = [{ url = "/news?page=0", pages = 3 }]\nmin_delay_s = 0\n',
    )
    outlet = load(path).outlets[0]
    assert outlet.feeds == ("http://127.0.0.1:8000/feed/",)
    assert outlet.sections[0].url == "http://127.0.0.1:8000/news?page=0"
    assert outlet.sections[0].pages == 3
    assert outlet.min_delay_s == 0.0
    assert outlet.max_articles == 100


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('feedz = ["/x"]\n', "unknown key 'feedz'"),
        ("min_delay_s = -1\n", "'min_delay_s' must be 0 or more"),
        ("article_pattern = '(unclosed'\n", "'article_pattern' is not a valid regex"),
        ('max_articles = "ten"\n', "'max_articles' must be a whole number"),
        ('sections = [{ url = "/a", page = 2 }]\n', "unknown key 'page'"),
    ],
)
def test_invalid_outlet_keys_are_named(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        load(write(tmp_path, OUTLET + extra))
    assert "\n" not in str(info.value)
    assert "outlet[0] (x)" in str(info.value)


def test_missing_key_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="missing required key 'homepage'"):
        load(write(tmp_path, '[[outlet]]\nid = "x"\nname = "X"\nlanguage = "en"\n'))
    with pytest.raises(ConfigError, match="invalid TOML"):
        load(write(tmp_path, "[[outlet]\n"))
    with pytest.raises(ConfigError, match="no such config file"):
        load(tmp_path / "absent.toml")
    with pytest.raises(ConfigError, match=r"\[settings\]: unknown key 'timeout'"):
        load(write(tmp_path, "[settings]\ntimeout = 3\n"))


def test_duplicate_ids_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="duplicate id 'x'"):
        load(write(tmp_path, OUTLET + OUTLET))
