"""A benchmark process's own peak memory, for the scripts here that run each contender in a process of its own.

Not ``ru_maxrss``: on Linux ``subprocess`` starts a child with vfork(), and at exec() the kernel charges the
child with its parent's peak resident memory, so ``getrusage(RUSAGE_SELF).ru_maxrss`` in the child reports the
larger of the parent's peak and its own — the memory of the process that generated the benchmark's data, when
that was larger. The kernel's high-water mark of the process's resident memory (``VmHWM`` in
``/proc/self/status``) starts afresh at exec() and is the child's own.

``PEAK`` is the source of ``peak_mb`` for a child started as ``python -c PEAK + code`` (also with another
environment's Python, such as a reference library's venv); a script run as a file imports ``peak_mb``.
"""

from __future__ import annotations

import inspect


def peak_mb() -> float:
    """This process's own peak resident memory in MB: the kernel's VmHWM where there is one (Linux).
    Not ru_maxrss there: a child that subprocess starts with vfork() is charged at exec() with its parent's
    peak, so a child of the process that generated the data would report the generator's memory."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


PEAK = inspect.getsource(peak_mb) + "\n"
"""The source of ``peak_mb``, to prefix to a child's code."""
