"""Schedules that fire: a real ``prefect server start`` on loopback, deployments registered by
``rig2sketch serve`` (the README's own command line), and the server's scheduler turning their
schedules into Scheduled flow runs.

The server runs as its own process with its own PREFECT_HOME (a fresh SQLite database) and a
1-second scheduler loop instead of Prefect's 60 s, so a schedule fires within seconds. With a
SQLAlchemy the scheduler cannot work with (2.1.x with Prefect 3.8.8) no run ever appears and the
scheduler's error is in the server log.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from flows.serve import DEPLOYMENT_FLOW, ScheduleConfig, ServeConfig

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    """``prefect server start`` on 127.0.0.1:<free port>; yields (api_url, server log path)."""
    home = tmp_path_factory.mktemp("prefect_home")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        PREFECT_UI_ENABLED="false",
        PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="1",
        PREFECT_SERVER_SERVICES_SCHEDULER_RECENT_DEPLOYMENTS_LOOP_SECONDS="1",
    )
    log_path = home / "server.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=home,
        )
    api_url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                pytest.fail(f"prefect server exited {server.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"prefect server not healthy after 120 s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield api_url, log_path
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


@contextmanager
def _client(api_url: str):
    """A sync Prefect client on ``api_url`` (whatever server the rest of the session uses)."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: api_url}), get_client(sync_client=True) as client:
        yield client


def _scheduled_runs(api_url: str, log_path: Path, deployment_name: str, want: int, timeout_s: float = 60) -> tuple[list, float]:
    """Poll until ``want`` Scheduled runs of the deployment exist, a traceback is in the server's
    log, or ``timeout_s`` passed: (runs, seconds)."""
    from prefect.client.schemas.filters import (
        DeploymentFilter, DeploymentFilterId, FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    start = time.monotonic()
    with _client(api_url) as client:
        deployment = client.read_deployment_by_name(f"{DEPLOYMENT_FLOW}/{deployment_name}")
        while True:
            runs = client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id])),
                flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))),
            )
            failed = "Traceback (most recent call last)" in log_path.read_text(errors="replace")
            if len(runs) >= want or failed or time.monotonic() - start > timeout_s:
                return runs, time.monotonic() - start
            time.sleep(0.5)


def _cli(api_url: str, args: list[str]) -> subprocess.CompletedProcess:
    """``rig2sketch ARGS`` from this checkout, pointed at the test server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_API_URL=api_url, PYTHONPATH=str(REPO), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    return subprocess.run([sys.executable, "-m", "app.cli", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=180)


def _readme_serve_lines() -> list[list[str]]:
    """The README's ``rig2sketch serve ...`` command lines, as argv after ``rig2sketch``."""
    lines = re.findall(r"^\S*rig2sketch (serve\b.*)$", (REPO / "README.md").read_text(), flags=re.M)
    return [shlex.split(line, comments=True) for line in lines]


def test_readme_serve_lines_register_deployments_whose_schedules_fire(prefect_server):
    api_url, log_path = prefect_server
    lines = _readme_serve_lines()
    assert any("register_only=true" in argv for argv in lines), "README has no `rig2sketch serve register_only=true` line"
    for argv in lines:
        if "register_only=true" not in argv:  # it would serve forever: its config must compose, though
            argv = [*argv[:1], "--cfg", *argv[1:]]
        done = _cli(api_url, argv)
        assert done.returncode == 0, f"rig2sketch {shlex.join(argv)} failed:\n{done.stderr[-2000:]}"

    with _client(api_url) as client:
        weekly = client.read_deployment_by_name(f"{DEPLOYMENT_FLOW}/weekly")
    assert weekly.parameters == {"overrides": ["out=runs/weekly"]}
    assert [s.schedule.cron for s in weekly.schedules] == ["0 4 * * 1"]

    runs, seconds = _scheduled_runs(api_url, log_path, "weekly", want=3)
    log = log_path.read_text()
    assert "InvalidRequestError" not in log, f"the scheduler fails:\n{log[-3000:]}"
    assert len(runs) >= 3, f"{len(runs)} scheduled runs after {seconds:.0f} s; server log:\n{log[-3000:]}"
    starts = sorted(r.expected_start_time for r in runs)
    assert all((t.weekday(), t.hour, t.minute) == (0, 4, 0) for t in starts), starts  # Mondays 04:00 UTC
    assert all(r.parameters == {"overrides": ["out=runs/weekly"]} for r in runs)
    print(f"{len(runs)} scheduled runs of {DEPLOYMENT_FLOW}/weekly within {seconds:.1f} s of registration")


def test_every_minute_schedule_from_serve_code_fires(prefect_server):
    from app.scheduled import serve_command
    from prefect.settings import PREFECT_API_URL, temporary_settings

    api_url, log_path = prefect_server
    cfg = ServeConfig(schedules=[ScheduleConfig(name="minutely", cron="* * * * *")], register_only=True)
    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        assert serve_command(cfg) == 0
    runs, seconds = _scheduled_runs(api_url, log_path, "minutely", want=3)
    starts = sorted(r.expected_start_time for r in runs)
    assert len(starts) >= 3, f"{len(starts)} scheduled runs after {seconds:.0f} s"
    assert all((b - a).total_seconds() == 60 for a, b in zip(starts, starts[1:])), starts


def test_schedule_with_a_typo_fails_in_one_line_and_registers_nothing(prefect_server):
    from prefect.exceptions import ObjectNotFound

    api_url, _ = prefect_server
    done = _cli(api_url, ["serve", "register_only=true",
                          "schedules=[{name: fine, overrides: ['out=runs/fine']},"
                          " {name: typo, overrides: ['renderer.camras=8']}]"])
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "schedule 'typo'" in lines[0] and "renderer.camras" in lines[0] and "did you mean 'camera'" in lines[0]
    done = _cli(api_url, ["serve", "register_only=true", "schedules=[{name: group, overrides: ['renderer=demoo']}]"])
    assert done.returncode == 2 and "schedule 'group'" in done.stderr and "renderer/demoo" in done.stderr, done.stderr
    assert "demo, sampled, seed" in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    with _client(api_url) as client:
        for name in ("fine", "typo", "group"):
            with pytest.raises(ObjectNotFound):
                client.read_deployment_by_name(f"{DEPLOYMENT_FLOW}/{name}")
