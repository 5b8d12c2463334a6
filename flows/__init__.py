"""Orchestration and entry points. Importing it sets Prefect's defaults before Prefect is
imported anywhere: telemetry off (users' privacy; these machines have no route out anyway),
and a longer wait for the ephemeral API server, whose first start on a fresh PREFECT_HOME
migrates its database and takes longer than Prefect's 20 s default on a small machine."""

import os

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
