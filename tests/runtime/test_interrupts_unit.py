"""SIGTERM/SIGINT handling of the btcn process (runtime/interrupts.py), in child interpreters so
pytest's own handlers are left alone."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _child(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], check=False,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_sigterm_raises_terminated_once_and_later_signals_are_ignored() -> None:
    done = _child("""
        import os, signal, time
        from btcn.runtime.interrupts import Terminated, deferred, install
        assert install()
        try:
            with deferred():  # a command's body: the signal is raised so cleanups run
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)
                print("no exception")
        except Terminated as exc:
            print("terminated", exc.signum)
        # the cleanup cannot be interrupted: a second SIGTERM and a SIGINT are ignored (a signal a
        # process sends itself is handled before os.kill returns: no wait needed to see it)
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)
        print("cleanup finished")
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["terminated 15", "cleanup finished"]


def test_a_finished_command_keeps_its_exit_code_when_a_signal_comes_late() -> None:
    # a signal after the work (cron's timeout firing as the command exits) must not turn exit 0
    # into a death by signal: main() leaves SIGINT/SIGTERM ignored once the exit code is decided
    done = _child("""
        import os, signal, sys
        sys.argv = ["btcn", "schema", "plan"]
        from btcn.cli.app import main
        try:
            main()
        except SystemExit as exc:
            code = exc.code
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)
        sys.stderr.write(f"survived, exit code {code}\\n")
    """)
    assert done.returncode == 0, done.stderr
    assert "survived, exit code 0" in done.stderr
    assert done.stdout.lstrip().startswith("{")  # the schema was printed


def test_outside_a_command_body_a_signal_exits_at_once_with_its_code() -> None:
    """Imports, parsing, the top-level options: nothing to clean up, so no exception is raised
    into them (a traceback, or click's "Aborted!" and exit 1): one line and 143/130."""
    for sig, code, line in (
        (15, 143, "error: terminated by SIGTERM"),
        (2, 130, "error: interrupted"),
    ):
        done = _child(f"""
            import os, time
            from btcn.runtime.interrupts import install
            install()
            os.kill(os.getpid(), {sig})
            time.sleep(5)
            print("not reached")
        """)
        assert done.returncode == code and done.stdout == "", done
        assert done.stderr.strip() == line
