#!/usr/bin/env python3
"""The table of `scripts/bench/compare.sh`: recalign beside its Python peers.

Reads the four benches' JSON from --bench-dir (prepare.json, samples.json,
t5_step.json, retrieval.json; a missing file leaves its rows out), writes
--out (compare.json: one row per measurement, with the goal and whether it
is met) and prints the markdown table. With --readme FILE it also rewrites
the part of FILE between `<!-- compare.sh: begin -->` and
`<!-- compare.sh: end -->` with that table, so the README's performance
section is this script's output and nothing else.

Every ratio is the peer's time over recalign's (so above 1 means recalign is
faster), the median of the per-round ratios of alternated rounds where the
bench gives one. Memory is each side's peak resident set in MB.

compare.sh passes how busy the machine was (--busy-ticks, --clock-ticks,
--own-cpu, --wall): the CPU time others took during the benches, as a share
of the machine, goes into the JSON; above QUIET_SHARE the run is marked
`"quiet": false`, a warning is printed, and --readme is refused, since load
slows PyTorch's threads far more than recalign's and flatters the ratios.

Plain Python 3 (no packages).
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

BEGIN = "<!-- compare.sh: begin -->"
END = "<!-- compare.sh: end -->"
# The most CPU time other processes may take, as a share of the machine's
# cores over the benches' wall time, for the run to count as quiet.
QUIET_SHARE = 0.05


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def row(stage, case, peer, ours, theirs, unit, ratio, goal, ours_mb, theirs_mb, rounds):
    met = None if ratio is None else ratio >= goal
    memory_below = None if ours_mb is None or theirs_mb is None else ours_mb < theirs_mb
    return {
        "stage": stage,
        "case": case,
        "peer": peer,
        "recalign": ours,
        "peer_value": theirs,
        "unit": unit,
        "speed_ratio": ratio,
        "goal": goal,
        "goal_met": met,
        "recalign_peak_rss_mb": ours_mb,
        "peer_peak_rss_mb": theirs_mb,
        "memory_below_peer": memory_below,
        "rounds": rounds,
    }


def prepare_rows(report):
    rows = []
    for r in (report or {}).get("results", []):
        pandas = r.get("pandas") or {}
        ours = r["recalign"]
        rows.append(row(
            "dataset preparation", r["dataset"].capitalize(),
            f"pandas {pandas.get('pandas_version', '')}".strip(),
            ours["median_s"], pandas.get("median_s"), "s",
            r.get("speedup_median_of_rounds"), 10.0,
            ours.get("peak_rss_mb"), pandas.get("peak_rss_mb"), len(ours["runs_s"]),
        ))
    return rows


def samples_rows(report):
    if not report:
        return []
    ours, python = report["recalign"], report.get("python") or {}
    return [row(
        "sample generation", f"Beauty, {report['samples']:,} samples",
        f"Python {python.get('python_version', '')}".strip(),
        ours["median_s"], python.get("median_s"), "s",
        report.get("speedup_median_of_rounds"), 20.0,
        ours.get("peak_rss_mb"), python.get("peak_rss_mb"), len(ours["runs_s"]),
    )]


def step_rows(report):
    rows = []
    for r in report or []:
        versions = ""
        runs = r.get("pytorch_runs") or []
        if runs:
            versions = f"PyTorch {runs[-1].get('torch', '')} + transformers {runs[-1].get('transformers', '')}"
        time_ratio = r.get("median_round_ratio")
        rows.append(row(
            "T5 training step", f"{r['preset']}, batch {r['batch']} × {r['src_len']}/{r['tgt_len']}"
            + ("" if r.get("precision", "f32") == "f32" else f", {r['precision']}"),
            versions or "PyTorch",
            r["recalign_median_step_s"], r.get("pytorch_median_step_s"), "s",
            None if not time_ratio else 1.0 / time_ratio, 1.0,
            r.get("recalign_peak_rss_mb"), r.get("pytorch_peak_rss_mb"), r["rounds"],
        ))
    return rows


def retrieval_rows(report):
    rows = []
    for r in report or []:
        ours, hf = r["recalign"], r.get("hf") or {}
        peer = "HF generate"
        if hf.get("transformers"):
            peer += f" (transformers {hf['transformers']})"
        rows.append(row(
            "constrained retrieval", f"{r['preset']}, top {r['k']} of {r['beams']} beams, {r['batch_users']} per batch",
            peer, ours["median_users_per_second"], hf.get("median_users_per_second"), "users/s",
            r.get("speedup_median_of_rounds"), 5.0,
            ours.get("peak_rss_mb"), hf.get("peak_rss_mb"), r["rounds"],
        ))
    return rows


def number(value, unit):
    if value is None:
        return "—"
    if unit == "s":
        return f"{value * 1e3:.0f} ms" if value < 1 else f"{value:.2f} s"
    return f"{value:.1f} {unit}"


def table(rows):
    lines = [
        "| stage | case | against | recalign | peer | speed ratio | goal | peak RSS recalign / peer |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ratio = "—" if r["speed_ratio"] is None else f"{r['speed_ratio']:.2f}×"
        if r["goal_met"] is not None:
            ratio = f"**{ratio}**" if r["goal_met"] else ratio
        goal = f"≥ {r['goal']:g}×" + ("" if r["goal_met"] is None else (" met" if r["goal_met"] else " missed"))
        memory = "—"
        if r["recalign_peak_rss_mb"] is not None:
            theirs = "—" if r["peer_peak_rss_mb"] is None else f"{r['peer_peak_rss_mb']:.0f}"
            memory = f"{r['recalign_peak_rss_mb']:.0f} / {theirs} MB"
        lines.append(
            f"| {r['stage']} | {r['case']} | {r['peer']} | {number(r['recalign'], r['unit'])} "
            f"| {number(r['peer_value'], r['unit'])} | {ratio} | {goal} | {memory} |"
        )
    return "\n".join(lines)


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine_load(args):
    """How busy the machine was during the benches, from compare.sh's counts;
    None when they were not given (compare.py run on its own)."""
    if None in (args.busy_ticks, args.clock_ticks, args.own_cpu, args.wall):
        return None
    cores = os.cpu_count() or 1
    others = max(args.busy_ticks / args.clock_ticks - args.own_cpu, 0.0)
    share = others / max(args.wall * cores, 1e-9)
    return {
        "wall_s": round(args.wall, 1),
        "own_cpu_s": round(args.own_cpu, 1),
        "others_cpu_s": round(others, 1),
        "others_share": round(share, 4),
        "quiet": share <= QUIET_SHARE,
    }


def rewrite_readme(path, text):
    source = Path(path).read_text()
    start, end = source.find(BEGIN), source.find(END)
    if start < 0 or end < start:
        sys.exit(f"{path}: no `{BEGIN}` … `{END}` section to rewrite")
    updated = source[: start + len(BEGIN)] + "\n" + text + "\n" + source[end:]
    tmp = Path(path).with_suffix(".md.tmp")
    tmp.write_text(updated)
    os.replace(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench-dir", default="target/bench")
    ap.add_argument("--out", default=None, help="default: BENCH_DIR/compare.json")
    ap.add_argument("--mode", default="full", help="full or quick, recorded in the JSON")
    ap.add_argument("--readme", default=None, help="rewrite this file's compare.sh section")
    ap.add_argument("--busy-ticks", type=float, help="the machine's busy clock ticks during the benches")
    ap.add_argument("--clock-ticks", type=float, help="clock ticks per second (getconf CLK_TCK)")
    ap.add_argument("--own-cpu", type=float, help="CPU seconds the benches themselves used")
    ap.add_argument("--wall", type=float, help="the benches' wall-clock seconds")
    args = ap.parse_args(argv)

    bench = Path(args.bench_dir)
    rows = (
        prepare_rows(load(bench / "prepare.json"))
        + samples_rows(load(bench / "samples.json"))
        + step_rows(load(bench / "t5_step.json"))
        + retrieval_rows(load(bench / "retrieval.json"))
    )
    if not rows:
        sys.exit(f"{bench}: no bench results (prepare.json, samples.json, t5_step.json, retrieval.json)")
    machine = f"{cpu_name()}, {os.cpu_count()} cores"
    date = time.strftime("%Y-%m-%d")
    busy_share = machine_load(args)
    report = {"date": date, "machine": machine, "mode": args.mode, "load": busy_share, "rows": rows}
    out = Path(args.out) if args.out else bench / "compare.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    text = table(rows)
    print(text)
    print(f"\nwrote {out}", file=sys.stderr)
    busy = busy_share is not None and not busy_share["quiet"]
    if busy:
        print(
            f"\nWARNING: the machine was busy: other processes took {busy_share['others_cpu_s']:.0f} CPU s "
            f"during the benches' {busy_share['wall_s']:.0f} s, {100 * busy_share['others_share']:.0f} % of its "
            f"{os.cpu_count()} cores (quiet is at most {100 * QUIET_SHARE:.0f} %). Load slows "
            "PyTorch's threads far more than recalign's, so these ratios flatter recalign; "
            "rerun on a quiet machine before quoting them.",
            file=sys.stderr,
        )
    if args.readme and busy:
        sys.exit(f"compare.py: not rewriting {args.readme} from a run on a busy machine")
    if args.readme:
        missed = [f"{r['stage']} ({r['case']})" for r in rows if r["goal_met"] is False]
        summary = (
            f"`scripts/bench/compare.sh` on {date}, {machine} ({args.mode} run; "
            "speed ratio = the peer's time over recalign's, median of alternated rounds):\n\n"
            + text
            + "\n\n"
            + (f"Goals missed: {'; '.join(missed)}." if missed else "Every goal is met.")
        )
        rewrite_readme(args.readme, summary)
        print(f"rewrote {args.readme}", file=sys.stderr)


if __name__ == "__main__":
    main()
