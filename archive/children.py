"""Child processes (Datasette under ``serve``, the workers of an ingest) that end with their parent."""

from __future__ import annotations

import ctypes
import signal

_PR_SET_PDEATHSIG = 1


def die_with_parent(signum: int = signal.SIGTERM) -> None:
    """Run in the child: the kernel sends it ``signum`` when its parent dies,
    even by SIGKILL, so no server or worker outlives the command that started it.
    (Linux; elsewhere a child of a killed parent ends on its own.)"""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signum)
    except (OSError, AttributeError):
        pass


def ingest_worker() -> None:
    """Initialiser of an ingest worker: Ctrl-C is its parent's to handle; it dies with the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(signal.SIGKILL)
