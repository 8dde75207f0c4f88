"""Where a bench run's CPU went, by process, read from /proc (Linux): the worker processes, the S3 server,
PostgreSQL, Redis and the rest of the machine. On a 2-core box the servers share the worker's cores, so a
job's end-to-end time includes their CPU too; this says how much."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CpuMeter", "cpu_ms", "machine_busy_ms", "pids_named", "pids_in_group"]

_TICK_MS = 1000.0 / os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")


def machine_busy_ms() -> float:
    """All CPUs' non-idle time since boot, ms (user, nice, system, irq, softirq, steal)."""
    fields = (PROC / "stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) * _TICK_MS


def _stat(pid: int) -> list[str] | None:
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from "state" on; the name may hold spaces


def cpu_ms(pids: Iterable[int]) -> float:
    """utime + stime of the processes, with their reaped children's (so a tree's sum survives exits), ms."""
    total = 0
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:
            total += sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
    return total * _TICK_MS


def _all_pids() -> list[int]:
    return [int(p.name) for p in PROC.iterdir() if p.name.isdigit()]


def pids_named(*names: str) -> list[int]:
    """Processes whose command name is one of `names` (e.g. "postgres", "redis-server")."""
    found = []
    for pid in _all_pids():
        try:
            comm = (PROC / str(pid) / "comm").read_text().strip()
        except OSError:
            continue
        if comm in names or any(comm.startswith(f"{n}:") for n in names):
            found.append(pid)
    return found


def pids_in_group(pgid: int) -> list[int]:
    """Processes of a process group (a worker started in its own session and its pool children)."""
    found = []
    for pid in _all_pids():
        fields = _stat(pid)
        if fields is not None and int(fields[2]) == pgid:
            found.append(pid)
    return found


@dataclass
class CpuMeter:
    """CPU ms spent by named groups of processes between `start` and `stop`, and by the whole machine.

    Each group is a function returning its pids at the moment of reading (worker pool children come and go).
    """

    groups: dict[str, Callable[[], list[int]]]
    _begin: dict[str, float] = field(default_factory=dict)
    spent: dict[str, float] = field(default_factory=dict)

    def _read(self) -> dict[str, float]:
        values = {name: cpu_ms(pids()) for name, pids in self.groups.items()}
        values["machine"] = machine_busy_ms()
        return values

    def start(self) -> None:
        self._begin = self._read()

    def stop(self) -> dict[str, float]:
        """ms per group, plus "machine" (all busy CPU) and "other" (machine minus the groups)."""
        end = self._read()
        self.spent = {name: max(0.0, end[name] - self._begin.get(name, 0.0)) for name in end}
        self.spent["other"] = max(0.0, self.spent["machine"] - sum(self.spent[n] for n in self.groups))
        return self.spent
