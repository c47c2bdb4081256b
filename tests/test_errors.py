"""Exit codes of every sub-command: 2 and one line for a user error, 130 and one line when
interrupted, never a traceback for either."""

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vcm_sim.cli import main
from vcm_sim.errors import EXIT_INTERRUPTED, EXIT_USER_ERROR, UserError

TINY = ["--set", "population.firms=20", "--set", "population.developers=5",
        "--set", "population.verifiers=2", "--steps", "2"]


def single_line(text: str) -> str:
    assert "Traceback" not in text
    assert len(text.strip().splitlines()) == 1, text
    return text.strip()


def test_a_bad_argument_of_any_sub_command_is_one_line_and_exit_2(capsys):
    for argv in (["run", "--seed"], ["scenarios", "--extra"], ["sweep"], ["report"],
                 ["demo", "--port", "eighty"], ["nosuch"]):
        assert main(argv) == EXIT_USER_ERROR, argv
        single_line(capsys.readouterr().err)


def test_a_user_error_raised_by_any_sub_command_is_printed_without_traceback(capsys,
                                                                             monkeypatch):
    import vcm_sim.scenario

    def broken():
        raise UserError("the presets folder is empty")

    monkeypatch.setattr(vcm_sim.scenario, "preset_names", broken)
    assert main(["scenarios"]) == EXIT_USER_ERROR
    assert single_line(capsys.readouterr().err) == "vcm-sim scenarios: the presets folder is empty"


def test_ctrl_c_during_a_run_exits_130_with_one_line(tmp_path, capsys, monkeypatch):
    from vcm_sim.model import VCMModel

    def interrupted(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(VCMModel, "step", interrupted)
    assert main(["run", *TINY, "--out", str(tmp_path)]) == EXIT_INTERRUPTED
    assert single_line(capsys.readouterr().err) == "vcm-sim run: interrupted"


def console_script() -> list[str]:
    script = Path(sys.executable).with_name("vcm-sim")
    return [str(script)] if script.exists() else [sys.executable, "-m", "vcm_sim.cli"]


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl_c", "sigterm"])
def test_ctrl_c_or_sigterm_to_a_running_simulation_exits_130_with_one_line(tmp_path, stop):
    out = tmp_path / "out"
    process = subprocess.Popen([*console_script(), "run", "--steps", "100000", "--out", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not out.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)  # the output folder is made just before the first step
        time.sleep(0.3)
        process.send_signal(stop)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == EXIT_INTERRUPTED, err
    assert single_line(err) == "vcm-sim run: interrupted"


def test_demo_with_an_unknown_host_is_one_line_exit_2(capsys):
    assert main(["demo", "--host", "nosuch.invalid", "--port", "0"]) == EXIT_USER_ERROR
    err = single_line(capsys.readouterr().err)
    assert err.startswith("vcm-sim demo: ") and "nosuch.invalid" in err


def test_demo_on_a_port_in_use_is_one_line_exit_2(capsys):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        assert main(["demo", "--host", "127.0.0.1", "--port", str(port)]) == EXIT_USER_ERROR
    assert f"port {port} on 127.0.0.1 is in use" in single_line(capsys.readouterr().err)


@pytest.mark.parametrize("port", ["-1", "65536"])
def test_demo_with_a_port_out_of_range_is_one_line_exit_2(capsys, port):
    assert main(["demo", "--port", port]) == EXIT_USER_ERROR
    assert "0-65535" in single_line(capsys.readouterr().err)



def test_ctrl_c_stops_the_demo_server_with_exit_130_and_one_line():
    pytest.importorskip("solara", reason="the page needs the demo extras")
    process = subprocess.Popen([*console_script(), "demo", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "Ctrl+C to stop" in process.stdout.readline()
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == EXIT_INTERRUPTED, err
    assert single_line(err) == "vcm-sim demo: interrupted"


class SwallowsInterrupts:
    """Raises an interrupt as it is deleted, where Python reports it and goes on (as in a fork
    hook when Ctrl+C lands while a worker process starts)."""

    def __init__(self, kind: type[BaseException] = KeyboardInterrupt) -> None:
        self.kind = kind

    def __del__(self) -> None:
        raise self.kind("landed in a finaliser")


def test_an_interrupt_python_swallows_still_stops_the_command():
    from vcm_sim.errors import sigterm_interrupts

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt), sigterm_interrupts():
        SwallowsInterrupts()
        time.sleep(10)
    assert time.monotonic() - started < 5


def test_other_ignored_exceptions_still_reach_the_previous_hook(monkeypatch):
    from vcm_sim.errors import sigterm_interrupts

    reported: list[type[BaseException]] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: reported.append(u.exc_type))
    with sigterm_interrupts():
        SwallowsInterrupts(ValueError)
        time.sleep(0.2)
    assert reported == [ValueError]
    assert sys.unraisablehook is not None and sys.unraisablehook.__name__ == "<lambda>"
