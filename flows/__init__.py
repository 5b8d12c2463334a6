"""Orchestration and entry points. Importing it turns Prefect's telemetry off before Prefect
is imported anywhere (users' privacy; these machines have no route out anyway)."""

import os

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
