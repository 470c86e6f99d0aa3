#!/usr/bin/env python3
"""Turns bench/raw/*.jsonl (one JSON row per line, see bench/bench_util.h) into
the Markdown table of bench/RESULTS.md, one section per module."""
import glob, json, os, platform, subprocess, sys, datetime

raw = sys.argv[1]
rows = []
for path in sorted(glob.glob(os.path.join(raw, "*.jsonl"))):
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    pass

def fmt(x):
    if isinstance(x, (int, float)):
        if x == 0: return "0"
        a = abs(x)
        if a >= 1e6 or a < 1e-3: return f"{x:.3g}"
        if a >= 100: return f"{x:,.0f}"
        return f"{x:.3g}"
    return str(x)

cpu = ""
try:
    for l in open("/proc/cpuinfo"):
        if l.startswith("model name"):
            cpu = l.split(":", 1)[1].strip(); break
except OSError:
    pass
print("# Benchmark results\n")
print(f"Measured {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC on {cpu or platform.processor()} "
      f"({os.cpu_count()} cores). Regenerate with `make bench`. Each figure sits beside an anchor "
      "measured in the same run; compare ratios, not absolute values, across machines.\n")
sections = []
for r in rows:
    if r["section"] not in sections: sections.append(r["section"])
for s in sections:
    print(f"## {s}\n")
    print("| figure | value | anchor (same run) | anchor value | ratio | note | command |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        if r["section"] != s: continue
        print(f"| {r['figure']} | {fmt(r['value'])} {r['unit']} | {r['anchor']} | "
              f"{fmt(r['anchor_value'])} {r.get('anchor_unit', r['unit'])} | {fmt(r['ratio'])} | "
              f"{r.get('note','')} | `{r.get('command','')}` |")
    print()
