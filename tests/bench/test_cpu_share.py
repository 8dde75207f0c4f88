"""bench/cpu_share.py: CPU by process from /proc, as bench/throughput.py reports it."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from bench.cpu_share import CpuMeter, cpu_ms, pids_in_group

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/stat"), reason="reads Linux /proc")


def _spin(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_meter_attributes_a_busy_loop_to_its_process_and_the_rest_to_other() -> None:
    meter = CpuMeter({"me": lambda: [os.getpid()]})
    meter.start()
    before = time.process_time()
    _spin(0.3)
    own_ms = (time.process_time() - before) * 1000
    spent = meter.stop()
    assert abs(spent["me"] - own_ms) <= 30  # /proc's clock ticks agree with the process's own clock
    assert spent["machine"] >= spent["me"] - 20  # tick rounding between the two clocks
    assert spent["other"] == pytest.approx(max(0.0, spent["machine"] - spent["me"]))


def test_a_process_group_is_found_and_a_gone_process_counts_nothing() -> None:
    spin = "import time\nend = time.process_time() + 0.2\nwhile time.process_time() < end: pass"
    child = subprocess.Popen([sys.executable, "-c", spin], start_new_session=True)
    try:
        assert pids_in_group(child.pid) == [child.pid]
    finally:
        child.wait(30)
    assert cpu_ms([child.pid]) == 0.0  # reaped: its time is now its parent's (cutime), not double-counted
