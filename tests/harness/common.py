# SPDX-License-Identifier: Apache-2.0
"""harness/common.py - what the rest of the harness stands on: its error, the bookkeeping that
stops everything a test started (at interpreter exit, SIGTERM and SIGHUP included), free ports,
log tails, and the scratch directories clusters and hosts live in.
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
from typing import Any

SOURCE_DIR = os.environ.get("ATRIUM_SOURCE_DIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)


class HarnessError(RuntimeError):
    """Something the harness needs is missing or did not start; the message says what."""


# ------------------------------------------------------------------------------------------
# Process bookkeeping: everything started here is stopped at exit.
# ------------------------------------------------------------------------------------------

_live_lock = threading.Lock()
_live: list[Any] = []  # PgCluster and Atriumd objects with something to clean up
_started: list[Any] = []  # every Atriumd/PgCluster ever started, for logs on failure


def _register(obj: Any) -> None:
    with _live_lock:
        if obj not in _live:
            _live.append(obj)
        if obj not in _started:
            _started.append(obj)


def _unregister(obj: Any) -> None:
    with _live_lock:
        if obj in _live:
            _live.remove(obj)


@atexit.register
def _cleanup_all() -> None:
    # Hosts first: they hold connections that a fast shutdown would otherwise cut under them.
    with _live_lock:
        objs = list(reversed(_live))
    for obj in sorted(objs, key=lambda o: 0 if getattr(o, "CLEANUP_FIRST", False) else 1):
        try:
            obj.cleanup()
        except Exception as exc:  # keep going: the rest still has to be torn down
            print(f"harness: cleanup of {obj!r} failed: {exc}", file=sys.stderr)


def _exit_on_signal(signum: int, _frame: Any) -> None:
    # Raising SystemExit unwinds the test (its `with` blocks run) and then runs atexit.
    raise SystemExit(128 + signum)


def _install_signal_handlers() -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) in (signal.SIG_DFL, None):
            signal.signal(sig, _exit_on_signal)


_install_signal_handlers()


# ------------------------------------------------------------------------------------------
# Small helpers
# ------------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago.

    There is a window between closing the probe socket and the server binding it; callers
    that start servers retry on a bind failure instead of pretending the window is not there.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: str, lines: int = 40) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            text = f.read().decode("utf-8", "replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return "\n".join(text.splitlines()[-lines:])


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _scratch_base() -> str:
    """Where clusters live: fast, reachable by `postgres`, short enough for a socket path.

    /dev/shm when it has room: creating the thousand-odd files of a data directory there is an
    order of magnitude faster than on a disk-backed /tmp (1.3 s against 0.1 s per cluster,
    measured on the 2-core CI machine), and with fsync off nothing needs a disk anyway.
    $ATRIUM_TEST_TMPDIR overrides the choice.
    """
    override = os.environ.get("ATRIUM_TEST_TMPDIR")
    if override:
        return override
    try:
        st = os.statvfs("/dev/shm")
        if os.access("/dev/shm", os.W_OK | os.X_OK) and st.f_bavail * st.f_frsize > 2 << 30:
            return "/dev/shm"
    except OSError:
        pass
    tmp = tempfile.gettempdir()
    if _running_as_root() or len(tmp) > 60:
        return "/tmp"  # world-traversable, and short enough for the 107-byte socket limit
    return tmp


def _make_scratch(prefix: str) -> str:
    """A fresh private directory under _scratch_base(), marked with our pid.

    Teardown removes it; but a test killed with SIGKILL cannot clean up, and in /dev/shm a
    leftover costs memory until reboot. So each new directory first sweeps away the ones
    whose owner process is gone.
    """
    base = _scratch_base()
    for entry in glob.glob(os.path.join(base, "atrium-*")):
        try:
            with open(os.path.join(entry, ".owner"), encoding="ascii") as f:
                owner = int(f.read().strip())
            os.kill(owner, 0)
        except ProcessLookupError:
            _rmtree(entry)  # its owner died without cleaning up
        except (OSError, ValueError):
            pass  # not ours to judge: unreadable, half-written, or owned by another user
    path = tempfile.mkdtemp(prefix=prefix, dir=base)
    with open(os.path.join(path, ".owner"), "w", encoding="ascii") as f:
        f.write(f"{os.getpid()}\n")
    return path


def _rmtree(path: str | None) -> None:
    if path and os.path.exists(path):
        shutil.rmtree(path, ignore_errors=True)
