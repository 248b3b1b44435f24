"""Prefect's temporary API server, started by the command: beside its own start-up, not in its way.

Without a configured Prefect API, Prefect starts a temporary server when the first flow asks for a
client: it imports ``prefect.server`` into the command's process (seconds of CPU, only to reach
``SubprocessASGIServer``), starts ``python -m uvicorn --factory prefect.server.api.server:create_app``
and waits for ``/api/health`` (more seconds), while the command does nothing else. A command that
runs a flow instead starts the same server itself (:func:`start_early_server`, from the entry
point), points ``PREFECT_API_URL`` at it (so the flow, its task runs and every worker process use
it, and Prefect starts none of its own) and waits for it only right before its first flow
(:func:`prefect_api_ready`). Flows, task retries and artifacts are Prefect's, unchanged.

When the machine has a core to spare (:func:`core_to_spare`) the server starts first thing and comes
up while the command composes its config, imports and checks its inputs; a refused command kills it
at once, without waiting. On a busy machine the server would only take CPU from that work (a
refused command took 1.27 s -> 1.91 s, median, at load 6 on 2 cores), so it starts after the input
checks, right before the flow; the command still saves Prefect's import of its server code (4 s of
CPU). A taken port (uvicorn exits 3) is retried on another, as Prefect does. A server that exits or
never answers ends the command with one line naming a way out (a long-lived ``prefect server start``
and ``PREFECT_API_URL``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, MutableMapping

PORT_TAKEN = 3  # uvicorn's exit code when its start-up fails, a taken port included
PORT_TRIES = 5
POLL_S = 0.05
STOP_GRACE_S = 5.0
DRAIN_S = 10.0
FIX = ("start one with `prefect server start` and set PREFECT_API_URL=http://127.0.0.1:4200/api "
       "(or `prefect config set PREFECT_API_URL=...`)")


class PrefectServerError(OSError):
    """The temporary server exited or stayed silent: the machine's trouble (a port, the database,
    a loaded CPU), not a bug, so the command reports it as one line with the fix."""


def _falsy(value: object) -> bool:
    return str(value).strip().lower() in {"0", "false", "no", "off"}


def why_not_early(environ: Mapping[str, str], cwd: Path) -> str | None:
    """Why this command must leave the Prefect API to Prefect, or None when it may start the server.

    Mirrors Prefect's own choice without importing it (a second and a half): an API URL set in
    the environment or the active profile means a server is configured; the temporary server
    switched off (``PREFECT_SERVER_EPHEMERAL_ENABLED`` / ``..._ALLOW_EPHEMERAL_MODE`` false) means
    Prefect's rules apply. Settings files Prefect reads from the working folder (``.env``,
    ``prefect.toml``, ``[tool.prefect]`` in ``pyproject.toml``) are not parsed here: their presence
    alone leaves the choice to Prefect."""
    if environ.get("PREFECT_API_URL"):
        return "PREFECT_API_URL is set"
    for name in ("PREFECT_SERVER_EPHEMERAL_ENABLED", "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE"):
        if name in environ and _falsy(environ[name]):
            return f"{name} is off"
    for name in (".env", "prefect.toml"):
        if (cwd / name).is_file():
            return f"{cwd / name} may set Prefect settings"
    try:
        if "[tool.prefect" in (cwd / "pyproject.toml").read_text(errors="replace"):
            return f"{cwd / 'pyproject.toml'} holds Prefect settings"
    except OSError:
        pass
    home = Path(environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    profiles_path = Path(environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser()
    try:
        profiles = tomllib.loads(profiles_path.read_text())
    except FileNotFoundError:
        return None  # Prefect's built-in profiles: no API URL, temporary server allowed
    except (OSError, tomllib.TOMLDecodeError):
        return f"{profiles_path} is unreadable (Prefect reports it)"
    active = environ.get("PREFECT_PROFILE") or profiles.get("active") or "ephemeral"
    profile = profiles.get("profiles", {}).get(active, {})
    if profile.get("PREFECT_API_URL"):
        return f"profile {active!r} sets PREFECT_API_URL"
    for name in ("PREFECT_SERVER_EPHEMERAL_ENABLED", "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE"):
        if name in profile and _falsy(profile[name]):
            return f"profile {active!r} switches {name} off"
    return None


def _free_port() -> int:
    """A port on 127.0.0.1 nobody listens on now (the kernel's choice); uvicorn binds it a moment later."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_taken(port: int) -> bool:
    """Whether someone listens on (or holds) ``port`` of 127.0.0.1 now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
        return False


def _uvicorn_command(port: int) -> list[str]:
    """The command line of Prefect's ``SubprocessASGIServer`` (``--app-dir`` is the folder holding
    the ``prefect`` package, found without importing it)."""
    import importlib.util

    spec = importlib.util.find_spec("prefect")
    if spec is None or spec.origin is None:
        raise RuntimeError("prefect is not installed; run `make setup`")
    return [sys.executable, "-m", "uvicorn", "--app-dir", str(Path(spec.origin).parent.parent), "--factory",
            "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "error", "--lifespan", "on"]


@dataclass
class EarlyServer:
    """Prefect's temporary server as a child of this command. ``environ`` is the command's
    environment: its ``PREFECT_API_URL`` names the server (a taken port moves it)."""

    environ: MutableMapping[str, str]
    startup_timeout_s: float
    process: subprocess.Popen | None = None
    port: int = 0
    started: float = 0.0
    ready: bool = False
    stopped: bool = False
    _base_env: dict[str, str] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def spawn(self) -> None:
        """Start uvicorn on a free port and point ``PREFECT_API_URL`` at it (no wait)."""
        self.port = _free_port()
        # The server's environment is the one Prefect gives its own: the command's, without the
        # URL of itself, plus the three switches Prefect sets (no UI, temporary, final).
        self._base_env = self._base_env or {k: v for k, v in self.environ.items() if k != "PREFECT_API_URL"}
        env = {**self._base_env, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1",
               "PREFECT__SERVER_FINAL": "1"}
        self.process = subprocess.Popen(_uvicorn_command(self.port), env=env, stdin=subprocess.DEVNULL)
        self.started = time.monotonic()
        self.environ["PREFECT_API_URL"] = self.api_url
        if self.environ is os.environ:
            _refresh_prefect_settings()  # a Prefect imported before (or a port moved after) reads it again

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def wait_ready(self) -> str:
        """Block until the server answers ``/api/health`` (starting it first if it was deferred);
        returns its API URL. A taken port is retried on another (``PREFECT_API_URL`` follows it, in
        Prefect's settings too); a server that exits or stays silent for ``startup_timeout_s``
        raises PrefectServerError with the fix."""
        if self.ready:
            return self.api_url
        if self.stopped:
            raise PrefectServerError("Prefect's temporary server was stopped before the flow started")
        if self.process is None:
            self.spawn()
        _import_what_the_first_flow_needs()
        tries = 1
        while True:
            code = self.process.poll()
            # uvicorn exits 3 for any failed start-up (a broken database too): only a port that is
            # really taken now is worth another try.
            if code == PORT_TAKEN and tries < PORT_TRIES and _port_taken(self.port):
                tries += 1
                self.spawn()
                continue
            if code is not None:
                self.process, self.stopped = None, True
                raise PrefectServerError(f"Prefect's temporary server exited with code {code} before it answered "
                                         f"(its output is above); {FIX}")
            if self._answers():
                self.ready = True
                return self.api_url
            if time.monotonic() - self.started > self.startup_timeout_s:
                self.stop()
                raise PrefectServerError(f"Prefect's temporary server did not answer within {self.startup_timeout_s:g} "
                                         f"s (PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS); {FIX}")
            time.sleep(POLL_S)

    def stop(self) -> None:
        """Stop the server: first deliver the events and logs Prefect still holds for it (only when a
        flow used it), then SIGTERM, then SIGKILL after ``STOP_GRACE_S``. Safe to call twice."""
        self.stopped = True
        process, self.process = self.process, None
        if process is None:
            return
        if self.ready and "prefect" in sys.modules:
            from prefect.events.worker import EventsWorker
            from prefect.logging.handlers import APILogWorker

            EventsWorker.drain_all(timeout=DRAIN_S)
            APILogWorker.drain_all(timeout=DRAIN_S)
        self.ready = False
        process.terminate()
        try:
            process.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _import_what_the_first_flow_needs() -> None:
    """While the server starts, import what the first flow call imports anyway and the command has
    not: FastAPI's JSON encoder, through which Prefect stores a flow's parameters (a third of a
    second, measured; it would otherwise come after the wait)."""
    try:
        import fastapi.encoders  # noqa: F401
    except ImportError:  # another Prefect that does without it: nothing to do early
        pass


def _refresh_prefect_settings() -> None:
    """Make an already imported Prefect read ``PREFECT_API_URL`` again from ``os.environ`` (it reads
    settings once, on import)."""
    if "prefect.context" in sys.modules:
        from prefect.context import refresh_global_settings_context

        refresh_global_settings_context()


_SERVER: EarlyServer | None = None


def core_to_spare() -> bool:
    """Whether a core of this process's CPUs is idle (the 1-minute load average says so)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        return cores - os.getloadavg()[0] >= 1
    except OSError:  # no load average here
        return True


def start_early_server(environ: MutableMapping[str, str], cwd: Path, startup_timeout_s: float,
                       now: bool) -> EarlyServer | None:
    """Take charge of Prefect's temporary server for this process unless an API is configured
    (:func:`why_not_early`): start it ``now`` (setting ``environ["PREFECT_API_URL"]``; an already
    imported Prefect is told), or else when the first flow asks (:func:`prefect_api_ready`). The
    caller stops it (:func:`stop_early_server`)."""
    global _SERVER
    if _SERVER is not None or why_not_early(environ, cwd) is not None:
        return None
    _SERVER = EarlyServer(environ, startup_timeout_s)
    if now:
        _SERVER.spawn()
    return _SERVER


def prefect_api_ready() -> None:
    """Right before a command's first flow: wait for the early server (starting it if deferred), if
    this process has one (else nothing: a configured API, a test harness, Prefect's own server)."""
    if _SERVER is not None:
        _SERVER.wait_ready()


def stop_early_server() -> None:
    """Stop this process's early server, if any (see :meth:`EarlyServer.stop`)."""
    global _SERVER
    server, _SERVER = _SERVER, None
    if server is not None:
        server.stop()
