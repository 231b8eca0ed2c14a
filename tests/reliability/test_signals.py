"""A stop request from SIGINT/SIGTERM (engine/stopping.py) must never hang the
process it stops.  A ``threading.Event`` set from a signal handler can: the
handler runs in the main thread, possibly inside that thread's own
``Event.wait`` while it holds the event's lock, and ``set`` then waits for that
lock forever (``ingest --follow`` once ignored a SIGTERM for 90 s in CI)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

# The child waits on its stop event in a tight loop, as ``ingest --follow`` does while
# idle, and keeps waiting after the first signal so that every later one lands in a
# wait too; it prints how many signals it took, then exits 0.
CHILD = """
import signal, sys, time
from msp.engine.stopping import stop_on_signals
with stop_on_signals() as stop:
    print("ready", flush=True)
    deadline = time.monotonic() + float(sys.argv[1])
    while time.monotonic() < deadline:
        stop.wait(0.00001)
    print("set" if stop.is_set() else "not set", flush=True)
"""

SIGNALS = 3000


def test_a_storm_of_sigterms_during_waits_never_hangs_the_stop_event():
    child = subprocess.Popen([sys.executable, "-c", CHILD, "4"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout.readline() == b"ready\n"
    sent = 0
    start = time.monotonic()
    while sent < SIGNALS and child.poll() is None and time.monotonic() - start < 3.5:
        os.kill(child.pid, signal.SIGTERM)
        sent += 1
        time.sleep(0.0002)
    try:
        out, err = child.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise AssertionError(f"the child hung after {sent} SIGTERMs")
    assert (child.returncode, out, err) == (0, b"set\n", b""), (sent, err.decode()[-2000:])
    assert sent > 100  # the storm happened while it waited


def test_a_sigterm_wakes_a_wait_at_once_and_the_old_handler_comes_back():
    from msp.engine.stopping import stop_on_signals

    before = signal.getsignal(signal.SIGTERM)
    with stop_on_signals() as stop:
        assert signal.getsignal(signal.SIGTERM) is not before
        start = time.monotonic()
        subprocess.Popen(["sh", "-c", f"sleep 0.2; kill -TERM {os.getpid()}"])
        assert stop.wait(30) is True
        assert time.monotonic() - start < 10
    assert signal.getsignal(signal.SIGTERM) is before
