"""docker-compose.yml, the Dockerfile and .dockerignore: validated offline and held to policy.

Two validators run, neither needing a Docker engine nor the network:

- structure: the Compose Specification JSON schema vendored in check-jsonschema (a dev extra);
- semantics: `config -q` of a compose CLI, the docker compose v2 plugin when it is installed,
  else docker-compose 1.29.2 from PyPI in a venv of its own (its PyYAML<6 and jsonschema<4 pins
  clash with Prefect's), which the Makefile builds at COMPOSE_V1.

Without a compose CLI the semantic tests skip on a developer's machine (`make check-compose`
builds one); under CI this module builds it, and fails if it cannot.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from typer.testing import CliRunner

from flows.cli import app

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
# The Makefile's $(COMPOSE_V1), relative to the repository.
COMPOSE_V1 = Path(".venv/tools/docker-compose-1.29.2/bin/docker-compose")

PREFECT_SERVICES = ("prefect-server", "prefect-services")
TELEMETRY_OFF = {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
# https://docs.prefect.io/v3/advanced/self-hosted#redis-setup
REDIS_SETTINGS = {
    "PREFECT_MESSAGING_BROKER": "prefect_redis.messaging",
    "PREFECT_MESSAGING_CACHE": "prefect_redis.messaging",
    "PREFECT_SERVER_EVENTS_CAUSAL_ORDERING": "prefect_redis.ordering",
    "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": "prefect_redis.lease_storage",
    "PREFECT_REDIS_MESSAGING_HOST": "redis",
    "PREFECT_REDIS_MESSAGING_PORT": "6379",
}
PASSWORD = "${POSTGRES_PASSWORD:-prefect}"

# A misplaced key (restart_policy belongs under deploy:): wrong structure.
BAD_KEY = """
services:
  app:
    image: redis:7.4.2-alpine
    restart_policy: always
"""
# Well-formed, but depends on a service that is not defined: only a compose CLI sees it.
UNDEFINED_DEPENDENCY = """
services:
  app:
    image: redis:7.4.2-alpine
    depends_on:
      nope:
        condition: service_healthy
"""


def run(cmd: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a validator with any attempt to reach the network sent to a closed loopback port."""
    full_env = {k: v for k, v in os.environ.items() if k != "POSTGRES_PASSWORD"}
    full_env.update(HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9", NO_PROXY="")
    full_env.update(env or {})
    return subprocess.run(
        cmd, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120, check=False
    )


def schema_check(path: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec"]
    return run([*cmd, str(path)])


def _plugin_available() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    return probe.returncode == 0


def _build_compose_v1() -> None:
    if shutil.which("make") is None:
        pytest.fail("CI must run the compose config check, but `make` is missing", pytrace=False)
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    result = subprocess.run(
        ["make", "--no-print-directory", str(COMPOSE_V1)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=800, check=False,
    )  # fmt: skip
    if result.returncode != 0 or not (ROOT / COMPOSE_V1).exists():
        pytest.fail(
            f"CI must run the compose config check, but building docker-compose 1.29.2 "
            f"(`make {COMPOSE_V1}`) failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def compose_cli() -> list[str]:
    """The command of a compose CLI, tried in order: docker compose v2, docker-compose 1.29.2."""
    if _plugin_available():
        return ["docker", "compose"]
    if not (ROOT / COMPOSE_V1).exists():
        if not os.environ.get("CI"):
            pytest.skip(
                "no compose CLI: install the docker compose plugin, or run `make check-compose` "
                "once to build docker-compose 1.29.2 (CI builds it itself)"
            )
        _build_compose_v1()
    return [str(ROOT / COMPOSE_V1)]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def env_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def image_tag(image: str) -> str | None:
    """The tag of `[registry[:port]/]name[:tag][@digest]`, None when it has none."""
    name = image.split("@", 1)[0].rsplit("/", 1)[-1]
    return name.split(":", 1)[1] if ":" in name else None


# ---- the validators --------------------------------------------------------------------------


def test_schema_accepts_the_compose_file() -> None:
    result = schema_check(COMPOSE_FILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_rejects_a_misplaced_key(tmp_path: Path) -> None:
    path = tmp_path / "docker-compose.yml"
    path.write_text(BAD_KEY, encoding="utf-8")
    result = schema_check(path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "restart_policy" in result.stdout


def test_schema_alone_misses_an_undefined_dependency(tmp_path: Path) -> None:
    """Why the semantic check exists: the schema cannot see references between services."""
    path = tmp_path / "docker-compose.yml"
    path.write_text(UNDEFINED_DEPENDENCY, encoding="utf-8")
    assert schema_check(path).returncode == 0


@pytest.mark.timeout(900)  # may first build docker-compose 1.29.2 (about half a minute)
def test_compose_config_accepts_the_compose_file(compose_cli: list[str]) -> None:
    result = run([*compose_cli, "-f", str(COMPOSE_FILE), "config", "-q"])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("text", "culprit"), [(BAD_KEY, "restart_policy"), (UNDEFINED_DEPENDENCY, "nope")]
)
def test_compose_config_rejects_broken_files(
    compose_cli: list[str], tmp_path: Path, text: str, culprit: str
) -> None:
    path = tmp_path / "docker-compose.yml"
    path.write_text(text, encoding="utf-8")
    result = run([*compose_cli, "-f", str(path), "config", "-q"])
    assert result.returncode != 0, result.stdout + result.stderr
    assert culprit in result.stdout + result.stderr


def test_postgres_password_reaches_the_database_and_both_prefect_services(
    compose_cli: list[str],
) -> None:
    result = run(
        [*compose_cli, "-f", str(COMPOSE_FILE), "config"], env={"POSTGRES_PASSWORD": "s3cret-pw"}
    )
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)["services"]
    assert env_of(resolved["postgres"])["POSTGRES_PASSWORD"] == "s3cret-pw"
    for name in PREFECT_SERVICES:
        url = env_of(resolved[name])["PREFECT_API_DATABASE_CONNECTION_URL"]
        assert url == "postgresql+asyncpg://prefect:s3cret-pw@postgres:5432/prefect"


# ---- the compose file's policy ---------------------------------------------------------------


def test_every_image_has_a_pinned_version_tag(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        assert "image" in service, f"{name}: name the image (with a tag), even when it is built"
        tag = image_tag(service["image"])
        assert tag is not None, f"{name}: {service['image']} has no tag"
        assert "latest" not in tag, f"{name}: {service['image']} floats"
        assert re.search(r"\d+\.\d+", tag), f"{name}: {service['image']} is not a pinned version"


def test_prefect_images_match_the_prefect_pin(services: dict[str, dict[str, Any]]) -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pin = next(d.split("==", 1)[1] for d in deps["dependencies"] if d.startswith("prefect=="))
    for name in PREFECT_SERVICES:
        assert services[name]["image"] == f"prefecthq/prefect:{pin}-python3.11"


def test_ports_are_published_on_loopback_only(services: dict[str, dict[str, Any]]) -> None:
    published = {}
    for name, service in services.items():
        for port in service.get("ports", []):
            if isinstance(port, dict):
                assert port.get("host_ip") == "127.0.0.1", f"{name}: {port}"
            else:
                assert str(port).startswith("127.0.0.1:"), f"{name}: {port}"
            published[name] = port
    assert published == {"prefect-server": "127.0.0.1:4200:4200"}


def test_services_reached_over_the_network_are_waited_for_until_healthy(
    services: dict[str, dict[str, Any]],
) -> None:
    """Every service another one connects to (by a URL or host in its settings) has a
    healthcheck, and whoever depends on a service with a healthcheck waits for it to pass."""
    reached = set()
    for service in services.values():
        for key, value in env_of(service).items():
            host = urlsplit(value).hostname if "://" in value else value
            if key.endswith(("_URL", "_HOST")) and host in services:
                reached.add(host)
    assert reached >= {"postgres", "redis", "prefect-server"}
    for name in reached:
        check = services[name].get("healthcheck")
        assert check and not check.get("disable"), f"{name}: others connect to it"
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
    for name, service in services.items():
        for dependency, spec in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on {dependency}, which is not defined"
            healthy = "healthcheck" in services[dependency]
            expected = "service_healthy" if healthy else "service_started"
            assert spec["condition"] == expected, f"{name} -> {dependency}"
    assert "/api/health" in " ".join(services["prefect-server"]["healthcheck"]["test"])


def test_every_service_restarts(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        assert service.get("restart") in ("always", "unless-stopped", "on-failure"), name


def test_telemetry_is_off_for_prefect_and_newsmon(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        if name == "newsmon" or service["image"].startswith("prefecthq/prefect:"):
            env = env_of(service)
            assert {k: env.get(k) for k in TELEMETRY_OFF} == TELEMETRY_OFF, name


def test_prefect_reaches_the_database_and_redis_this_file_defines(
    services: dict[str, dict[str, Any]],
) -> None:
    """The connection settings agree with the services they name, in both Prefect processes
    (the API server and the background services must share one database and one broker)."""
    postgres = env_of(services["postgres"])
    redis_services = {n for n, s in services.items() if s["image"].startswith("redis:")}
    prefixes = (
        "PREFECT_API_DATABASE_CONNECTION",
        "PREFECT_REDIS",
        "PREFECT_MESSAGING",
        "PREFECT_SERVER_DOCKET",
    )
    shared = None
    for name in PREFECT_SERVICES:
        env = env_of(services[name])
        url = urlsplit(env["PREFECT_API_DATABASE_CONNECTION_URL"])
        assert url.scheme == "postgresql+asyncpg", name
        assert url.hostname in services and services[url.hostname]["image"].startswith("postgres:")
        assert (url.username, url.password) == (postgres["POSTGRES_USER"], PASSWORD), name
        assert url.path == "/" + postgres["POSTGRES_DB"], name
        assert {k: env.get(k) for k in REDIS_SETTINGS} == REDIS_SETTINGS, name
        assert env["PREFECT_REDIS_MESSAGING_HOST"] in redis_services, name
        docket = urlsplit(env["PREFECT_SERVER_DOCKET_URL"])
        assert docket.hostname in redis_services, name  # memory:// would be per process
        keys = {k: v for k, v in env.items() if k.startswith(prefixes)}
        assert shared is None or keys == shared, name
        shared = keys
    assert "--no-services" in services["prefect-server"]["command"]
    assert services["prefect-services"]["command"] == ["prefect", "server", "services", "start"]
    assert "CHANGE" in COMPOSE_FILE.read_text(encoding="utf-8")


def test_newsmon_reaches_prefect_and_keeps_its_data_in_the_volume(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    newsmon = services["newsmon"]
    assert newsmon["build"] == "."
    api = urlsplit(env_of(newsmon)["PREFECT_API_URL"])
    assert api.hostname in services and services[api.hostname]["image"].startswith("prefecthq/")
    assert api.port == 4200 and api.path == "/api"  # where `prefect server start` listens
    assert api.hostname in newsmon["depends_on"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in newsmon["volumes"]}
    command = json.loads(dict(dockerfile())["CMD"])
    option = dict(zip(command[1::2], command[2::2], strict=False))
    config, db = PurePosixPath(option["--config"]), PurePosixPath(option["--db"])
    assert mounts.get(str(config)) == "./newsmon.toml"  # the config the image runs with
    assert (ROOT / "newsmon.toml").is_file()
    volume = mounts.get(str(db.parent))
    assert volume in compose["volumes"], f"{db} is not on a named volume: it would not survive"


def test_workers_share_the_lake_and_nothing_else(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    """`--scale worker=N`: every worker and the scheduler write one lake (catalog in the stack's
    PostgreSQL, data in one volume); a worker's own files stay in its own container."""
    worker, newsmon = services["worker"], services["newsmon"]
    assert worker["command"][0] == "worker" and "ports" not in worker
    for service in (worker, newsmon):
        env = env_of(service)
        assert (
            env["NEWSMON_CATALOG"].startswith("postgres:")
            and "host=postgres" in env["NEWSMON_CATALOG"]
        )
        assert env["NEWSMON_POOL"] == "newsmon" and env["PGPASSWORD"].startswith(
            "${POSTGRES_PASSWORD"
        )
        mounts = {v.split(":")[1]: v.split(":")[0] for v in service["volumes"]}
        assert mounts[env["NEWSMON_DATA_PATH"]] == "newsmon-lake"
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "newsmon-lake" in compose["volumes"]
    assert "/data" not in {v.split(":")[1] for v in worker["volumes"]}


# ---- Dockerfile and .dockerignore ------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines()]
    pairs = [line.split(None, 1) for line in lines if line and not line.startswith("#")]
    return [(pair[0].upper(), pair[1] if len(pair) > 1 else "") for pair in pairs]


def test_dockerfile_runs_newsmon_serve_as_a_user() -> None:
    instructions = dockerfile()
    values = {name: args for name, args in instructions}  # the last of each
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", values["FROM"])
    assert json.loads(values["ENTRYPOINT"]) == ["newsmon"]
    command = json.loads(values["CMD"])
    assert command[0] == "serve"
    # The options the image passes are ones newsmon serve takes (a renamed option would stop
    # the container at start).
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert values["USER"] not in ("root", "0")
    env = " ".join(args for name, args in instructions if name == "ENV")
    assert "DO_NOT_TRACK=1" in env and "PREFECT_SERVER_ANALYTICS_ENABLED=false" in env
    assert any("pip install -c constraints.txt ." in a for n, a in instructions if n == "RUN")


def test_dockerignore_keeps_local_state_out_of_the_image() -> None:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = {line.strip() for line in lines if line.strip() and not line.startswith("#")}
    assert {".venv", "data", ".git", "benchmarks/results", ".pytest_cache"} <= patterns
