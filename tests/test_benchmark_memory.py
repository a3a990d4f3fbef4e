"""The benchmarks' peak memory is the measured process's own: a child that ``subprocess`` starts (with vfork() on
Linux) is charged at exec() with its parent's peak resident memory in ``ru_maxrss``, so a benchmark child started
by the process that generated its data would report the generator's memory (``benchmarks/peak.py``'s ``PEAK``,
which every benchmark that measures a child uses, reads the kernel's high-water mark of the child's own memory
instead)."""

from __future__ import annotations

import importlib.util
import resource
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def peak_code() -> str:
    spec = importlib.util.spec_from_file_location("benchmark_peak", BENCHMARKS / "peak.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PEAK


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="the high-water mark is read from Linux's /proc")
def test_a_childs_peak_memory_is_its_own_not_its_parents():
    code = peak_code()
    held = bytearray(256 * 2**20)  # this process now holds 256 MB more than a bare interpreter needs
    held[:: 4096] = b"\1" * len(range(0, len(held), 4096))
    parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    inherited = subprocess.run([sys.executable, "-c", "import resource; "
                                "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"],
                               capture_output=True, text=True, check=True)
    own = subprocess.run([sys.executable, "-c", code + "print(peak_mb())"], capture_output=True, text=True,
                         check=True)
    del held
    assert parent > 256
    # ru_maxrss of the same bare child is its parent's peak (why the benchmarks no longer use it) ...
    assert float(inherited.stdout) >= 256
    # ... the child's own high-water mark is a bare interpreter's, far below what the parent held
    assert 0 < float(own.stdout) < 256
