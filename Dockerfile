# newsmon's ingestion service: `newsmon serve`, run by docker-compose.yml against its Prefect
# server. Build: docker compose build newsmon (or docker build -t newsmon:0.1.0 .)
FROM python:3.11.7-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    DO_NOT_TRACK=1 \
    PREFECT_SERVER_ANALYTICS_ENABLED=false \
    NEWSMON_DB=/data/newsmon.duckdb

WORKDIR /opt/newsmon
COPY . .

# The same pins as development and CI. Every dependency ships a wheel for CPython 3.11 on
# Linux except feedgen, which is pure Python, so no compiler is needed.
RUN pip install -c constraints.txt . \
    && groupadd --system --gid 10001 newsmon \
    && useradd --system --uid 10001 --gid newsmon --create-home --home-dir /home/newsmon newsmon \
    && mkdir -p /data /config /lake \
    && chown newsmon:newsmon /data /lake

USER newsmon
WORKDIR /data
VOLUME ["/data"]

ENTRYPOINT ["newsmon"]
CMD ["serve", "--config", "/config/newsmon.toml", "--db", "/data/newsmon.duckdb"]
