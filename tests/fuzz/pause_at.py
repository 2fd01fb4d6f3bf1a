"""Run ``btcn`` and stop it at a chosen point of its output-folder commit, for a signal test.

``python pause_at.py STEP N FD btcn-args...``: at the N-th time the run reaches STEP it writes
``STEP\\n`` to file descriptor FD (a pipe the test reads: the test waits for that event, it
never guesses a delay) and waits there until SIGINT or SIGTERM arrives. STEP is ``start`` (the
first check of the output folder, before any work), or a step of
:func:`btcn.runtime.folders.commit_folder`: ``build``, ``fsync``, ``aside`` (signals are blocked
there: the signal stays pending until the swap is done), ``in``, ``clean``.
"""

from __future__ import annotations

import os
import select
import sys
import time


def main() -> None:
    step, nth, out_fd, in_fd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    from btcn.runtime import folders

    seen = {"count": 0}

    def reached(name: str) -> None:
        if name != step:
            return
        seen["count"] += 1
        if seen["count"] != nth:
            return
        os.write(out_fd, f"{name}\n".encode())
        os.close(out_fd)
        deadline = time.monotonic() + 120
        # short waits: the main thread returns to Python often, so a handler runs at once even
        # when the kernel delivered the signal to another thread
        while time.monotonic() < deadline:
            if select.select([in_fd], [], [], 0.001)[0]:
                return  # the test sent the signal and says so: go on
        raise SystemExit("pause_at: no signal came")

    check = folders.check_output_folder

    def check_then_pause(*args, **kwargs):  # type: ignore[no-untyped-def]
        reached("start")
        return check(*args, **kwargs)

    folders.after_step = reached
    folders.check_output_folder = check_then_pause  # type: ignore[assignment]
    sys.argv = ["btcn", *sys.argv[5:]]
    from btcn.cli.app import main as btcn_main

    btcn_main()


if __name__ == "__main__":
    main()
