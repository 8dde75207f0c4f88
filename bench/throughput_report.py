"""Report of bench/throughput.py: per-stage medians / p95 and the end-to-end table with two ratios of the
end-to-end ms per job per worker process: to the mean bare `pipeline.colorize` call ("ratio to pipeline")
and to the same job code called directly without a broker ("queue ratio", the queue's own cost)."""

from __future__ import annotations

import statistics

STAGE_ORDER = ("claim", "fetch", "decode", "hints", "lines", "regions", "fill", "model", "proof", "encode")
STAGE_TAIL = ("store", "record")
# The stages `pipeline.colorize` times itself; their sum is the job's colorize call.
PIPELINE_STAGES = ("lines", "regions", "fill", "model", "proof")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def stage_times(run: dict) -> dict[str, list[float]]:
    """stage -> ms per job, from the jobs' timings and the probes."""
    stages: dict[str, list[float]] = {}
    for row in run["rows"]:
        if row.state != "done":
            continue
        timings = dict((row.result or {}).get("timings", {}))
        timings["colorize (sum)"] = sum(timings.get(s, 0.0) for s in PIPELINE_STAGES)
        timings.update({k: v for k, v in run["probes"].get(row.id, {}).items() if k in ("claim", "record")})
        probe = run["probes"].get(row.id, {})
        if "t_claim" in probe and "t_done" in probe:
            timings["task total"] = (probe["t_done"] - probe["t_claim"]) * 1000
        for stage, ms in timings.items():
            stages.setdefault(stage, []).append(float(ms))
    return stages


def end_to_end(run: dict) -> tuple[float, float]:
    """(wall seconds from first claim to last finish, ms per job per worker process)."""
    probes = [run["probes"][row.id] for row in run["rows"] if row.id in run["probes"]]
    if "wall" in run:
        wall = run["wall"]
    else:
        wall = max(p["t_done"] for p in probes if "t_done" in p) - min(p["t_claim"] for p in probes)
    return wall, wall * 1000 * run["workers"] / len(run["rows"])


def print_report(pipeline_ms: list[float], runs: dict[str, dict]) -> None:
    names = list(runs)
    stages = {name: stage_times(run) for name, run in runs.items()}
    seen = {s for per in stages.values() for s in per}
    order = [s for s in STAGE_ORDER if s in seen]
    order += sorted(seen - set(STAGE_ORDER) - set(STAGE_TAIL) - {"colorize (sum)", "task total"})
    order += [s for s in (*STAGE_TAIL, "colorize (sum)", "task total") if s in seen]
    print("\nper stage, ms: median / p95")
    header = f"| {'stage':<14} | {'pipeline only':>15} | " + " | ".join(f"{n:>17}" for n in names) + " |"
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")

    def cell(values: list[float] | None, width: int) -> str:
        return (
            f"{statistics.median(values):7.1f} / {_pct(values, 0.95):7.1f}".rjust(width)
            if values
            else ("—".rjust(width))
        )

    for stage in order:
        first = cell(pipeline_ms, 15) if stage == "colorize (sum)" else "".rjust(15)
        print(
            f"| {stage:<14} | {first} | " + " | ".join(cell(stages[n].get(stage), 17) for n in names) + " |"
        )

    base = statistics.fmean(pipeline_ms)
    direct = next((end_to_end(run)[1] for name, run in runs.items() if "wall" in run), None)
    print("\nend to end (queue ratio: ÷ the same job code called directly, 'task, no broker')")
    print(
        "| run | workers | jobs | done | wall s | jobs/s | ms per job per worker | ratio to pipeline "
        "| queue ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print(
        f"| pipeline only | 1 | {len(pipeline_ms)} | {len(pipeline_ms)} | {sum(pipeline_ms) / 1000:.2f} | "
        f"{1000 / base:.2f} | {base:.1f} | 1.00 | |"
    )
    for name, run in runs.items():
        wall, per_job = end_to_end(run)
        done = sum(row.state == "done" for row in run["rows"])
        queue = f"{per_job / direct:.2f}" if direct else ""
        print(
            f"| {name} | {run['workers']} | {len(run['rows'])} | {done} | {wall:.2f} | "
            f"{len(run['rows']) / wall:.2f} | {per_job:.1f} | {per_job / base:.2f} | {queue} |"
        )


CPU_GROUPS = ("worker", "S3 server", "PostgreSQL", "Redis", "bench", "other")


def print_cpu(pipeline_ms: list[float], pipeline_cpu_ms: float, runs: dict[str, dict], *, cores: int) -> None:
    """CPU ms per job by process. The machine's busy CPU per job ÷ its cores is the least wall time a job
    can take with every core busy; × workers ÷ the pipeline's CPU it is `floor ratio`, the lowest "ratio to
    pipeline" that overlap alone could reach on this machine (same denominator: the mean pipeline ms)."""
    base = statistics.fmean(pipeline_ms)
    print(f"\nCPU ms per job, by process ({cores} cores; floor: busy CPU ÷ cores × workers ÷ pipeline ms)")
    print("| run | " + " | ".join(CPU_GROUPS) + " | all | floor ratio |")
    print("|---|" + "---:|" * (len(CPU_GROUPS) + 2))
    print(f"| pipeline only | {pipeline_cpu_ms:.1f} |" + " |" * (len(CPU_GROUPS) - 1) + " | |")
    for name, run in runs.items():
        cpu, jobs = run.get("cpu"), len(run["rows"])
        if not cpu:
            continue
        cells = [f"{cpu[g] / jobs:.1f}" if g in cpu else "" for g in CPU_GROUPS]
        floor = cpu["machine"] / jobs / cores * run["workers"] / base  # per worker, as "ratio to pipeline"
        print(f"| {name} | " + " | ".join(cells) + f" | {cpu['machine'] / jobs:.1f} | {floor:.2f} |")
