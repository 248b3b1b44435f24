"""Start-up (issue 18): a flow command starts Prefect's temporary server itself, beside its own start-up,
its flow and worker processes use that one server, and the server is gone when the command ends;
a refused command does not wait for it (``flows.prefect_server``)."""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from flows.prefect_server import EarlyServer, PrefectServerError, why_not_early
from rig2sketch.paths import REPO_ROOT

SERVER_APP = "prefect.server.api.server:create_app"
TINY = ["renderer.characters=[ada]", "renderer.motions=[wave]", "renderer.camera.count=1",
        "renderer.frames.max_frames=1", "renderer.width=64", "renderer.height=64"]


def watched_cli(*args: str, env_extra: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess, float,
                                                                              dict[int, tuple[list[str], dict]]]:
    """Run ``python -m app.cli ARGS`` with no Prefect API configured, noting every descendant
    (pid -> command line, environment) while it runs; returns (result, wall s, descendants)."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update({"PYTHONPATH": str(REPO_ROOT), **(env_extra or {})})
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", *args], cwd=REPO_ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen: dict[int, tuple[list[str], dict, psutil.Process]] = {}
    parent = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            children = parent.children(recursive=True)
        except psutil.NoSuchProcess:
            break
        for child in children:
            if child.pid not in seen:
                try:
                    seen[child.pid] = (child.cmdline(), child.environ(), child)
                except psutil.Error:
                    pass
        time.sleep(0.02)
    out, err = proc.communicate(timeout=300)
    wall = time.perf_counter() - start
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), wall, seen


def servers(seen: dict) -> dict[int, tuple[int, psutil.Process]]:
    """The Prefect server processes among ``seen``: pid -> (port, process)."""
    return {pid: (int(cmd[cmd.index("--port") + 1]), proc) for pid, (cmd, _env, proc) in seen.items()
            if SERVER_APP in cmd}


@pytest.mark.slow
def test_a_flow_command_runs_on_the_server_it_started_and_stops_it(tmp_path):
    done, _, seen = watched_cli("render", *TINY, f"out={tmp_path / 'raw'}",
                                env_extra={"PREFECT_LOGGING_LEVEL": "INFO"})
    assert done.returncode == 0, done.stderr
    started = servers(seen)
    assert len(started) == 1, [seen[pid][0] for pid in seen]  # ours, and Prefect started none of its own
    (port, server), = started.values()
    log = done.stdout + done.stderr
    assert "Starting temporary server" not in log, log  # Prefect's own temporary server never started
    view = re.search(r"View at http://127\.0\.0\.1:(\d+)/runs/flow-run/([0-9a-f-]{36})", log)
    assert view and int(view.group(1)) == port, log  # the flow run is on our server
    assert re.search(r"Flow run '[\w-]+' - Finished in state Completed", log), log
    workers = [env for cmd, env, _ in seen.values() if "renderers.job" in cmd]
    assert workers and all(env.get("PREFECT_API_URL") == f"http://127.0.0.1:{port}/api" for env in workers)
    assert not server.is_running()  # stopped with the command
    assert list((tmp_path / "raw" / "train").glob("*.parquet"))
    database = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser() / "prefect.db"
    if "PREFECT_API_DATABASE_CONNECTION_URL" not in os.environ and database.exists():
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:  # the artifact reached the server
            keys = [k for (k,) in db.execute("SELECT key FROM artifact WHERE flow_run_id = ?", (view.group(2),))]
        assert keys == ["render-summary"]


def test_a_refused_command_does_not_wait_for_the_server(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("a file where a folder should go")
    mark = {"RIG2SKETCH_TEST_MARK": f"refused-{os.getpid()}-{time.time_ns()}"}  # inherited by its server
    _, config_wall, _ = watched_cli("render", "--cfg", *TINY)
    for args, expected in (((*TINY, f"out={blocker / 'run'}"), "is not a writable folder"),
                           (("renderer.characters=[nope]", f"out={tmp_path / 'out'}"), "unknown character 'nope'")):
        done, wall, seen = watched_cli("render", *args, env_extra=mark)
        assert done.returncode == 2 and expected in done.stderr, done.stderr
        # The server takes 5+ s to answer; the refusal does not wait for it: it takes about as long as
        # printing the config, which starts no server (measured: 1.6 s and 1.5 s).
        assert wall < config_wall + 3, (wall, config_wall)
        for _, server in servers(seen).values():
            assert not server.is_running()
    leftovers = []
    for process in psutil.process_iter(["cmdline"]):
        try:
            if SERVER_APP in (process.info["cmdline"] or []) and process.environ().get("RIG2SKETCH_TEST_MARK") == \
                    mark["RIG2SKETCH_TEST_MARK"]:
                leftovers.append(process.pid)
        except psutil.Error:
            pass
    assert not leftovers


def test_an_api_in_the_environment_or_the_profile_is_left_to_prefect(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {"PREFECT_HOME": str(home)}
    assert why_not_early(env, tmp_path) is None  # no profiles file: Prefect's own (no API URL)
    assert "PREFECT_API_URL is set" in why_not_early({**env, "PREFECT_API_URL": "http://x:4200/api"}, tmp_path)
    assert "is off" in why_not_early({**env, "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE": "false"}, tmp_path)
    (home / "profiles.toml").write_text('active = "ephemeral"\n[profiles.ephemeral]\n'
                                        'PREFECT_SERVER_ALLOW_EPHEMERAL_MODE = "true"\n'
                                        '[profiles.team]\nPREFECT_API_URL = "http://127.0.0.1:9/api"\n')
    assert why_not_early(env, tmp_path) is None
    assert "profile 'team' sets PREFECT_API_URL" in why_not_early({**env, "PREFECT_PROFILE": "team"}, tmp_path)
    # Prefect reads the same profile the same way.
    code = "from prefect.settings import PREFECT_API_URL; print(PREFECT_API_URL.value())"
    prefect_env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    said = subprocess.run([sys.executable, "-c", code], env={**prefect_env, **env, "PREFECT_PROFILE": "team"},
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert said.stdout.strip() == "http://127.0.0.1:9/api", said.stderr
    (tmp_path / "prefect.toml").write_text('[api]\nurl = "http://127.0.0.1:9/api"\n')
    assert "may set Prefect settings" in why_not_early(env, tmp_path)


def test_a_server_that_does_not_answer_in_time_is_one_line_and_is_stopped():
    server = EarlyServer({**os.environ}, startup_timeout_s=0.2)
    server.spawn()
    process = server.process
    with pytest.raises(PrefectServerError, match=r"did not answer within 0.2 s.*prefect server start"):
        server.wait_ready()
    assert process.poll() is not None and server.process is None


@pytest.mark.slow
def test_a_deferred_server_starts_when_the_flow_asks_and_a_taken_port_is_retried(monkeypatch):
    import flows.prefect_server as prefect_server

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    ports = [taken.getsockname()[1]]
    real = prefect_server._free_port
    monkeypatch.setattr(prefect_server, "_free_port", lambda: ports.pop() if ports else real())
    environ = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    server = EarlyServer(environ, startup_timeout_s=180)  # deferred: a busy machine (core_to_spare false)
    try:
        assert server.process is None and "PREFECT_API_URL" not in environ
        url = server.wait_ready()  # starts it; uvicorn exits 3 on the taken port; the next one answers
        assert not ports and server.port != taken.getsockname()[1]
        assert url == environ["PREFECT_API_URL"] == f"http://127.0.0.1:{server.port}/api"
        process = server.process
    finally:
        server.stop()
        taken.close()
    assert process.poll() is not None


def test_a_server_started_at_once_is_killed_at_once_when_no_flow_came(tmp_path):
    from flows.prefect_server import start_early_server, stop_early_server

    environ = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    environ["PREFECT_HOME"] = str(tmp_path)  # no profiles file: no API configured
    server = start_early_server(environ, tmp_path, startup_timeout_s=180, now=True)  # a core to spare
    try:
        assert server is not None and server.process is not None
        assert environ["PREFECT_API_URL"] == server.api_url
        process = server.process
    finally:
        start = time.perf_counter()
        stop_early_server()  # what a refused command does
    assert time.perf_counter() - start < 3 and process.poll() is not None  # no wait for it to come up
    assert start_early_server({**environ, "PREFECT_API_URL": "http://127.0.0.1:9/api"}, tmp_path, 180, now=True) is None


@pytest.mark.slow
def test_a_server_that_fails_to_start_is_one_line_with_the_fix_and_not_retried(tmp_path, capfd):
    environ = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    # A database Prefect cannot open: uvicorn exits 3, as for a taken port, but the port is free.
    environ["PREFECT_API_DATABASE_CONNECTION_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}"
    server = EarlyServer(environ, startup_timeout_s=180)
    with pytest.raises(PrefectServerError, match=r"exited with code 3 before it answered.*prefect server start"):
        server.wait_ready()
    assert capfd.readouterr().err.count("Application startup failed") == 1  # one start, no retries
    assert server.process is None
