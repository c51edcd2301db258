"""Which process a crawl run belongs to, and whether that process still runs.

A run row records its process (:func:`this_process`): the pid, the host, and
when the process started (Linux: the boot and the start tick from
``/proc/<pid>/stat``), so a pid the system has since given to another
process is not taken for the crawl.  A run still ``running`` whose process
is gone was killed outright (SIGKILL, a power loss, a lost container):
:meth:`archive.db.Archive.close_dead_runs` marks it ``interrupted``.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def _started(pid: int) -> str | None:
    """When process ``pid`` started, as ``<boot id>/<clock tick>``; None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = _BOOT_ID.read_text().strip()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: count fields after it.
    return f"{boot}/{stat.rsplit(')', 1)[1].split()[19]}"


def this_process() -> dict:
    """The columns that name this process in a run row."""
    return {"pid": os.getpid(), "host": socket.gethostname(), "process_started": _started(os.getpid())}


def is_running(pid: int | None, host: str | None, process_started: str | None) -> bool | None:
    """True or False for a process of this host; None when it cannot be told (another host, no pid)."""
    if pid is None or host != socket.gethostname():
        return None
    if process_started is None or not _BOOT_ID.exists():  # no /proc: only whether the pid exists
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return _started(pid) == process_started
