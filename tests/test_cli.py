"""The command-line interface: help, errors, a whole run, interruption, privacy."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from canvass.cli import cli

TEST_VOTERS = 600  # a smaller town than conftest.py's: this one is run as subprocesses


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_has_help(command):
    assert cli.commands[command].help
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0


def test_bad_config_is_one_line_and_exit_1(tmp_path):
    cfg = tmp_path / "canvass.toml"
    cfg.write_text("[turf]\nshift_s = 0\n")
    result = CliRunner().invoke(cli, ["check-config", str(cfg)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0].startswith("Error:")
    assert "`turf.shift_s` must be greater than 0" in lines[0]


def test_verbose_and_quiet_conflict():
    result = CliRunner().invoke(cli, ["-v", "-q", "check-config", "x"])
    assert result.exit_code == 2


def test_demo_refuses_to_overwrite(tmp_path):
    out = tmp_path / "town"
    runner = CliRunner()
    first = runner.invoke(cli, ["demo", "--out", str(out), "--voters", "200"])
    assert first.exit_code == 0, first.output
    assert first.stdout.startswith(f"Demo town written to {out}")
    assert "Demo town written" not in first.stderr
    assert "INFO" in first.stderr
    assert "INFO" not in first.stdout
    again = runner.invoke(cli, ["demo", "--out", str(out), "--voters", "200"])
    assert again.exit_code == 1
    assert "--force" in again.output


def _cli(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "canvass", *args],
        capture_output=True,
        text=True,
        check=False,
        **kwargs,
    )


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    """`canvass demo` then `canvass -v run` as a user would type them."""
    root = tmp_path_factory.mktemp("cli")
    town = root / "town"
    made = _cli("demo", "--out", str(town), "--seed", "5", "--voters", str(TEST_VOTERS))
    assert made.returncode == 0, made.stderr
    out = root / "maps" / "demo"
    ran = _cli(
        "-v",
        "run",
        "--config",
        str(town / "canvass.toml"),
        "--out",
        str(out),
        "--time-limit",
        "0",
        "--workers",
        "1",
    )
    assert ran.returncode == 0, ran.stderr
    return town, out, ran


def test_cli_run_writes_the_run_folder(cli_run):
    _, out, ran = cli_run
    summary = json.loads((out / "summary.json").read_text())
    assert summary["doors_routed"] > 0
    assert (out / "index.html").is_file()
    assert str(out) in ran.stdout
    turf = summary["reports"]["turf"]
    outside = turf["turfs_outside_balance"]
    even = "all" if outside == 0 else f"{summary['turfs'] - outside} of"
    assert f"({even} " in ran.stdout
    assert "% of precinct mean)" in ran.stdout


def test_results_on_stdout_and_diagnostics_on_stderr(cli_run):
    """The real CLI, as a subprocess: summary and backtest out, log lines err."""
    _, out, ran = cli_run
    assert "canvass run 'demo'" in ran.stdout
    assert "Backtest:" in ran.stdout
    assert f"Outputs: {out}/" in ran.stdout
    assert "canvass run 'demo'" not in ran.stderr
    for level in ("INFO ", "DEBUG "):
        assert level in ran.stderr  # the run is -v: debug lines too
        assert level not in ran.stdout
    assert "Wrote the turf map" in ran.stderr
    assert "Wrote the turf map" not in ran.stdout


def test_warnings_go_to_stderr_and_file_list_to_stdout(cli_run, tmp_path):
    """A repaired precinct (a DataQualityWarning) is a diagnostic, not a result."""
    town, _, _ = cli_run
    copy = tmp_path / "town"
    shutil.copytree(town, copy)
    shapes = json.loads((town / "precincts.geojson").read_text())
    ring = shapes["features"][0]["geometry"]["coordinates"][0]
    ring[1], ring[2] = ring[2], ring[1]  # a bow tie: invalid, repaired on load
    (copy / "precincts.geojson").write_text(json.dumps(shapes))
    config = copy / "canvass.toml"
    ran = _cli("geocode", "--config", str(config), "--out", str(tmp_path / "build"))
    assert ran.returncode == 0, ran.stderr
    written = ran.stdout.splitlines()
    assert len(written) == 7
    assert all(Path(line).is_file() for line in written)
    assert "repaired 1 invalid precinct" in ran.stderr
    assert "WARNING" in ran.stderr
    assert "rows in =" in ran.stderr
    assert "rows in =" not in ran.stdout


def test_logs_never_carry_names_or_addresses(cli_run):
    """Scan everything the CLI printed for the synthetic voters' names and streets."""
    town, _, ran = cli_run
    vot = next((town / "voters").glob("*VOT*"))
    voters = pd.read_csv(vot, sep="|", dtype=str, keep_default_na=False)
    text = (ran.stdout + ran.stderr).upper()
    last, first = voters.columns[2], voters.columns[3]
    number, street = voters.columns[6], voters.columns[8]
    names = set(voters[first] + " " + voters[last]) | set(
        voters[last] + ", " + voters[first]
    )
    addresses = set(voters[number] + " " + voters[street])
    leaked = sorted(n for n in names | addresses if n.strip() and n.upper() in text)
    assert leaked == []


def test_killed_run_leaves_previous_outputs_intact(cli_run, tmp_path):
    town, out, _ = cli_run
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "canvass",
            "run",
            "--config",
            str(town / "canvass.toml"),
            "--out",
            str(out),
            "--seed",
            "99",
            "--time-limit",
            "1",
            "--workers",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "100"},
    )
    time.sleep(4.0)  # mid-run: loading, scoring or routing
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0:  # pragma: no cover - the machine was faster than 4 s
        pytest.skip("the run finished before it could be interrupted")
    assert proc.returncode == 130, err
    assert "previous outputs" in err
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before
    assert not list(out.parent.glob(".demo.*"))


def test_a_stop_turned_into_another_error_by_compiled_code_is_still_a_stop(
    tmp_path, capsys
):
    from canvass.cli._base import _interruptible

    # scikit-learn's compiled code, stopped mid-fit, raised this instead of the
    # KeyboardInterrupt (a traceback and exit 1, where the user is owed exit 130)
    msg = "not a valid PEP 3118 buffer format string"

    def fit() -> None:
        with _interruptible(tmp_path):
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)
            except KeyboardInterrupt:
                raise ValueError(msg) from None

    with pytest.raises(SystemExit) as stop:
        fit()
    assert stop.value.code == 130
    assert "previous outputs" in capsys.readouterr().err

    def broken() -> None:
        with _interruptible(tmp_path):
            raise ValueError(msg)

    # without a stop signal the error is the error, and the handlers are restored
    with pytest.raises(ValueError, match="PEP 3118"):
        broken()
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_during_routing_keeps_outputs(cli_run, monkeypatch):
    town, out, _ = cli_run
    before = (out / "summary.json").read_bytes()
    from canvass import route

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(route, "route_turfs", interrupted)
    result = CliRunner().invoke(
        cli, ["run", "--config", str(town / "canvass.toml"), "--out", str(out)]
    )
    assert result.exit_code == 130
    assert "are intact" in result.output
    assert (out / "summary.json").read_bytes() == before


def test_check_config_prints_resolved_settings(cli_run):
    town, _, _ = cli_run
    result = CliRunner().invoke(cli, ["check-config", str(town / "canvass.toml")])
    assert result.exit_code == 0
    assert result.stderr == ""
    data = json.loads(result.stdout)
    assert data["inputs"]["voter_format"] == "ma"


def test_load_command_writes_tables(cli_run, tmp_path):
    town, _, _ = cli_run
    result = CliRunner().invoke(
        cli, ["load", "--config", str(town / "canvass.toml"), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    written = result.stdout.splitlines()
    assert written
    assert all(Path(line).exists() for line in written)  # only results on stdout
    assert "rows in =" in result.stderr  # the log is on stderr


@pytest.mark.enable_socket
def test_run_on_a_dask_local_cluster_gives_the_same_plan(cli_run, tmp_path):
    """`--scheduler local` solves the turfs on Dask; the walk lists are identical."""
    pytest.importorskip("distributed")
    town, out, _ = cli_run
    dask_out = tmp_path / "dask"
    ran = _cli(
        "-q", "run", "--config", str(town / "canvass.toml"), "--out", str(dask_out),
        "--time-limit", "0", "--workers", "1", "--scheduler", "local",
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert (dask_out / "walklists" / "all.csv").read_bytes() == (
        out / "walklists" / "all.csv"
    ).read_bytes()
    manifest = json.loads((dask_out / "manifest.json").read_text())
    assert manifest["config"]["cluster"]["scheduler"] == "local"


def test_run_summary_counts_turfs_within_balance_and_with_car_legs() -> None:
    from canvass.cli import _turfs_line

    report = {"share_balanced": 0.9, "turfs_outside_balance": 1, "balance_pct": 15}
    summary = {"turfs": 10, "reports": {"turf": report}}
    assert _turfs_line(summary) == "10 (9 of 10 within 15 % of precinct mean)"
    report.update(turfs_outside_balance=0, car_leg_turfs=2)
    assert _turfs_line(summary) == (
        "10 (all within 15 % of precinct mean; 2 with car legs)"
    )


def test_run_summary_prints_the_load_warnings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from canvass.cli import _print_summary

    summary = {
        "warnings": ["No vote history loaded: no history file was given."],
        "run_name": "t",
        "target_election": "state_primary",
        "universe": "u",
        "voters": 2,
        "targets": 1,
        "doors": 1,
        "turfs": 1,
        "volunteers": 1,
        "doors_routed": 1,
        "doors_left_out": [],
        "expected_extra_votes": 0.1,
        "walk_km": 0.2,
    }
    _print_summary(summary, {}, Path("out"), quiet=False)
    printed = capsys.readouterr()
    err = " ".join(printed.err.split())
    assert "Warning: No vote history loaded: no history file was given." in err
    assert "Warning" not in printed.out  # a diagnostic, on stderr with the log
    assert "canvass run 't'" in printed.out  # the summary is the result, on stdout
    assert "canvass run 't'" not in printed.err
