"""A forked helper process that must not outlive the process that forked it (the TLS scan's child, the command
line's storing process): the kernel sends it SIGKILL when its parent dies, however the parent died."""

from __future__ import annotations

import contextlib
import ctypes
import signal

_PR_SET_PDEATHSIG = 1  # prctl(2)


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies; elsewhere a no-op (the parent's own clean-up still
    ends it on every path but its own death)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
