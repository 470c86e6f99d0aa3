#!/usr/bin/env python3
"""Turns bench/raw/*.jsonl (one JSON row per line, see bench/bench_util.h) into
the Markdown table of bench/RESULTS.md, one section per module.

Each row carries when it was measured (UTC) and the machine's 1-minute load
average at that moment, so a table assembled from runs of different days (a
partial `scripts/bench BUILD FILTER` re-runs some binaries and keeps the
others' rows) says when and under what load each figure was taken.

  bench_table.py RAW_DIR                 print the table
  bench_table.py --import TABLE RAW_DIR  convert rows of a RESULTS.md table
                                         into RAW_DIR/<binary>.jsonl (rows
                                         without a per-row date keep none)
"""
import datetime, glob, json, os, platform, re, sys


def parse_number(text):
    text = text.strip()
    m = re.match(r"^(-?[0-9][0-9,]*\.?[0-9]*(?:e[-+]?[0-9]+)?)\s*(.*)$", text)
    if not m:
        return None, text
    return float(m.group(1).replace(",", "")), m.group(2).strip()


def import_table(table_path, raw_dir):
    """One-way conversion of Markdown rows into raw JSON lines, grouped by the
    benchmark binary named in the command column."""
    rows_by_binary = {}
    section = None
    with open(table_path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("## "):
                section = line[3:].strip()
                continue
            if not line.startswith("| ") or line.startswith("| figure ") or section is None:
                continue
            cells = line.strip().strip("|").split("|")
            if len(cells) < 7:
                continue
            # A note may itself contain '|' (escaped or not): everything between
            # the ratio and the command is the note.
            figure, value, anchor, anchor_value, ratio = (c.strip() for c in cells[:5])
            command = cells[-1].strip()
            note_cells = cells[5:-1]
            if len(cells) >= 8 and re.match(r"^\s*(\d{4}-\d\d-\d\dT|not recorded)", cells[-1]):
                # a table that already has the "measured" column
                command = cells[-2].strip()
                note_cells = cells[5:-2]
            note = "|".join(note_cells).strip().replace("\\|", "|")
            v, unit = parse_number(value)
            av, anchor_unit = parse_number(anchor_value)
            rv, _ = parse_number(ratio)
            if v is None:
                continue
            command = command.strip("`")
            binary = os.path.basename(command.split()[0]) if command else "imported"
            rows_by_binary.setdefault(binary, []).append({
                "section": section, "figure": figure, "value": v, "unit": unit,
                "anchor": anchor, "anchor_value": av if av is not None else 0,
                "anchor_unit": anchor_unit, "ratio": rv if rv is not None else 0,
                "note": note, "command": command})
    os.makedirs(raw_dir, exist_ok=True)
    for binary, rows in rows_by_binary.items():
        with open(os.path.join(raw_dir, binary + ".jsonl"), "w") as out:
            for r in rows:
                out.write(json.dumps(r) + "\n")
    print(f"imported {sum(len(r) for r in rows_by_binary.values())} rows of "
          f"{len(rows_by_binary)} binaries into {raw_dir}", file=sys.stderr)


def fmt(x):
    if isinstance(x, (int, float)):
        if x == 0: return "0"
        a = abs(x)
        if a >= 1e6 or a < 1e-3: return f"{x:.3g}"
        if a >= 100: return f"{x:,.0f}"
        return f"{x:.3g}"
    return str(x)


def cell(text):
    return str(text).replace("|", "\\|")


def measured(r):
    at = r.get("measured_at")
    if not at:
        return "not recorded"
    load = r.get("load1", -1)
    cores = r.get("cores", 0)
    if load is None or load < 0:
        return at
    return f"{at}, load {load:.2f}" + (f"/{cores}" if cores else "")


def print_table(raw):
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
    cpu = ""
    try:
        for l in open("/proc/cpuinfo"):
            if l.startswith("model name"):
                cpu = l.split(":", 1)[1].strip(); break
    except OSError:
        pass
    dates = sorted(r["measured_at"] for r in rows if r.get("measured_at"))
    print("# Benchmark results\n")
    span = f" Rows measured between {dates[0]} and {dates[-1]}." if dates else ""
    print(f"Table assembled {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC on {cpu or platform.processor()} "
          f"({os.cpu_count()} cores).{span} Regenerate with `make bench` (all) or "
          "`scripts/bench build FILTER` (re-runs the binaries whose name contains FILTER, keeps the "
          "other rows). Each figure sits beside an anchor measured in the same run; compare ratios, "
          "not absolute values, across machines. The last column says when each row was measured and "
          "the machine's 1-minute load average then (load/cores; above about half the cores, other "
          "work shared the CPU). \"not recorded\": measured before rows carried their date (the "
          "whole table was last regenerated on 2026-11-22; some rows were added up to 2026-12-07).\n")
    sections = []
    for r in rows:
        if r["section"] not in sections: sections.append(r["section"])
    for s in sections:
        print(f"## {s}\n")
        print("| figure | value | anchor (same run) | anchor value | ratio | note | command | measured (UTC, load) |")
        print("|---|---|---|---|---|---|---|---|")
        for r in rows:
            if r["section"] != s: continue
            print(f"| {cell(r['figure'])} | {fmt(r['value'])} {r['unit']} | {cell(r['anchor'])} | "
                  f"{fmt(r['anchor_value'])} {r.get('anchor_unit', r['unit'])} | {fmt(r['ratio'])} | "
                  f"{cell(r.get('note',''))} | `{r.get('command','')}` | {measured(r)} |")
        print()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--import":
        import_table(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 2:
        print_table(sys.argv[1])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
