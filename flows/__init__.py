"""Orchestration and entry points. Importing it sets Prefect's defaults before Prefect is
imported anywhere: telemetry off (users' privacy; these machines have no route out anyway), and
no temporary API server: newsmon uses Prefect only through a server that outlives the command
(flows/prefect_api.py, flows/serve.py), and a temporary one per process cost 10-60 s of start-up
and outlived a killed run."""

import os

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_ENABLED", "false")
