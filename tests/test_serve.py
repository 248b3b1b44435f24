"""Scheduled deployments: registered and queried back through the Prefect API."""

from __future__ import annotations

from prefect.client.orchestration import get_client

from app.scheduled import serve_command
from flows.serve import DEPLOYMENT_FLOW, ScheduleConfig, ServeConfig
from app.cli import compose


def test_serve_config_composes_with_a_nightly_schedule():
    cfg = compose("serve", ["register_only=true"])
    assert cfg.register_only and cfg.schedules[0].cron == "0 3 * * *"


def test_deployments_and_schedules_are_registered(prefect_harness):
    cfg = ServeConfig(
        schedules=[
            ScheduleConfig(name="nightly", cron="0 3 * * *", overrides=["out=runs/nightly"]),
            ScheduleConfig(name="weekly", cron="30 4 * * 1", timezone="Europe/Berlin"),
        ],
        register_only=True,
    )
    assert serve_command(cfg) == 0
    with get_client(sync_client=True) as client:
        nightly = client.read_deployment_by_name(f"{DEPLOYMENT_FLOW}/nightly")
        weekly = client.read_deployment_by_name(f"{DEPLOYMENT_FLOW}/weekly")
    assert [s.schedule.cron for s in nightly.schedules] == ["0 3 * * *"]
    assert nightly.parameters == {"overrides": ["out=runs/nightly"]}
    assert weekly.schedules[0].schedule.cron == "30 4 * * 1"
    assert weekly.schedules[0].schedule.timezone == "Europe/Berlin"
    assert all(s.active for s in nightly.schedules + weekly.schedules)


def test_bad_cron_is_refused():
    import pytest

    from app.cli import ConfigError

    with pytest.raises(ConfigError, match="not a 5-field cron"):
        compose("serve", ["schedules=[{name: x, cron: '0 3 *'}]"])


def test_unquoted_override_in_a_schedule_says_to_quote_it():
    import pytest

    from app.cli import ConfigError

    with pytest.raises(ConfigError, match=r"must be quoted: overrides: \[\"out=runs/x\"\]"):
        compose("serve", ["schedules=[{name: weekly, cron: '0 4 * * 1', overrides: [out=runs/weekly]}]"])
