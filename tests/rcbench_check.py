#!/usr/bin/python3
"""tests/rcbench_check.py — checks what an rcbench --quick run wrote.

Usage: rcbench_check.py RCBENCH CSV JSON [rcbench flags...]

- the CSV parses and its header is `RCBENCH --list=columns` (the schema,
  written once in the binary), and docs/method.md documents every column;
- `RCBENCH --list=machine` names the rows' arch, cpu_model, compiler and
  revision (what tools/rcbench-history stores the gate's counts with);
- it has a row, without error, for every benchmark `RCBENCH --list` with
  the same flags names (every workload x strategy x allocator x threads);
- its numbers are numbers: ns_per_op > 0, ops_per_sec > 0, iterations >= 1,
  availability and overlap in [0, 1], binding "none" or pu indices;
- the peer column is "yes" exactly for the peers' rows (`--list=peers`), and every
  gc_pause row tracked at least its heap's containers;
- the unit column says "run" on every row of a program (`--list
  --workloads=programs`), peers' rows too, "collection" on every gc_pause
  row (`--workloads=gc_pause`), "op" on every other;
- the Google Benchmark JSON goes through Google Benchmark's own compare.py
  (Debian's libbenchmark-tools) compared with itself, exit 0, and compare.py
  names every benchmark.
Prints FAIL lines and exits 1 on the first problem; exit 0 when all hold.
"""
import csv
import json
import os
import re
import subprocess
import sys

import doc_columns

COMPARE = "/usr/share/benchmark/compare.py"
METHOD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "method.md")


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def main():
    if len(sys.argv) < 4:
        fail("usage: rcbench_check.py RCBENCH CSV JSON [flags]")
    exe, csv_path, json_path, flags = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    # RCBENCH_RUN: the emulator prefix of a cross build (bench/CMakeLists.txt).
    run = os.environ.get("RCBENCH_RUN", "").split()

    def rcbench_list(*args):
        return subprocess.run(run + [exe] + list(args), capture_output=True, text=True, check=True).stdout.split()

    listed = rcbench_list("--list", *flags)
    if not listed:
        fail("--list printed nothing")
    schema, peers = rcbench_list("--list=columns"), set(rcbench_list("--list=peers"))
    if len(schema) < 10 or not peers:
        fail(f"--list=columns {schema} or --list=peers {peers} is too short")
    # The workloads each unit is expected of, by the binary's own groups.
    programs = {b.split("/")[0] for b in rcbench_list("--list", "--workloads=programs")}
    collections = {b.split("/")[0] for b in rcbench_list("--list", "--workloads=gc_pause")}
    if not programs or not collections:
        fail(f"--workloads=programs lists {programs}, --workloads=gc_pause {collections}")
    documented = doc_columns.documented(METHOD)
    if set(schema) - documented:
        fail(f"docs/method.md does not document the column(s) {sorted(set(schema) - documented)}")
    with open(csv_path, newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    if header != schema:
        fail(f"CSV header {header} is not --list=columns {schema}")
    col = {name: i for i, name in enumerate(header)}
    # --list=machine: the facts the rows carry, as column=value.
    facts = subprocess.run(run + [exe, "--list=machine"], capture_output=True, text=True,
                           check=True).stdout.splitlines()
    want = [f"{k}={rows[1][col[k]]}" for k in ("arch", "cpu_model", "compiler", "revision")]
    if facts != want:
        fail(f"--list=machine {facts} is not the CSV's {want}")
    seen, units = set(), {}
    for n, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            fail(f"{csv_path}:{n}: {len(row)} fields, header has {len(header)}")
        r = dict(zip(header, row))
        name = f"{r['workload']}/{r['strategy']}/{r['allocator']}/threads:{r['threads']}"
        if r.get("error"):
            fail(f"{csv_path}:{n}: {name} is an error: {r['error']}")
        seen.add(name)
        try:
            ns, ops, it = float(r["ns_per_op"]), float(r["ops_per_sec"]), int(r["iterations"])
            avail, overlap = float(r["availability"]), float(r["overlap"])
            int(r["header_bytes"])
            # cpython-gc's work runs in python: its memory and collections
            # are not rcbench's figures, and the cells stay empty; ocaml's
            # runs in rcbench-ocaml, whose peak RSS it reports, but whose
            # collector times no pause.
            empty = {"cpython-gc": ("peak_rss_kib", "gc_collections"), "ocaml": ("gc_collections",)}
            for c in ("peak_rss_kib", "gc_collections"):
                if c in empty.get(r["strategy"], ()):
                    if r[c] != "":
                        fail(f"{csv_path}:{n}: {name}: {c} '{r[c]}' is not ours to report")
                else:
                    int(r[c])
        except ValueError as e:
            fail(f"{csv_path}:{n}: {name}: not a number: {e}")
        if not (ns > 0 and ops > 0 and it >= 1):
            fail(f"{csv_path}:{n}: {name}: ns_per_op {ns}, ops_per_sec {ops}, iterations {it}")
        if not (0 <= avail <= 1 and 0 <= overlap <= 1):
            fail(f"{csv_path}:{n}: {name}: availability {avail}, overlap {overlap} outside [0, 1]")
        if not re.fullmatch(r"none|pu\d+(;pu\d+)*", r["binding"]):
            fail(f"{csv_path}:{n}: {name}: binding '{r['binding']}'")
        if r["binding"] != "none" and r["binding"].count("pu") != int(r["threads"]):
            fail(f"{csv_path}:{n}: {name}: binding '{r['binding']}' for {r['threads']} threads")
        for c in ("arch", "cpu_model", "compiler", "revision", "timestamp"):
            if not r[c]:
                fail(f"{csv_path}:{n}: {name}: empty {c}")
        want_peer = "yes" if r["strategy"] in peers else "no"
        if r["peer"] != want_peer:
            fail(f"{csv_path}:{n}: {name}: peer '{r['peer']}', expected '{want_peer}'")
        want_unit = "run" if r["workload"] in programs else \
            "collection" if r["workload"] in collections else "op"
        if r["unit"] != want_unit:
            fail(f"{csv_path}:{n}: {name}: unit '{r['unit']}', expected '{want_unit}'")
        units[want_unit] = units.get(want_unit, 0) + 1
        if r["workload"].startswith("gc_pause_"):
            size = {"10k": 10000, "100k": 100000, "300k": 300000, "1m": 1000000}[r["workload"][len("gc_pause_"):]]
            if not r["gc_tracked"] or int(r["gc_tracked"]) < size:
                fail(f"{csv_path}:{n}: {name}: gc_tracked '{r['gc_tracked']}' for a heap of {size}")
    missing = [b for b in listed if b not in seen]
    if missing:
        fail(f"{len(missing)} benchmark(s) listed but not in the CSV, e.g. {missing[:3]}")
    print(f"ok: {len(rows) - 1} CSV rows cover all {len(listed)} benchmarks; {len(col)} columns")
    print("ok: units " + ", ".join(f"{u}: {k} rows" for u, k in sorted(units.items())))

    with open(json_path) as f:
        # Self-timed (cpython-gc) and threaded benchmarks carry Google
        # Benchmark's time suffix.
        names = {b["name"].removesuffix("/manual_time").removesuffix("/real_time")
                 for b in json.load(f)["benchmarks"]}
    if not set(listed) <= names:
        fail(f"the JSON lacks {sorted(set(listed) - names)[:3]}")
    cmp = subprocess.run(["/usr/bin/python3", COMPARE, "benchmarks", json_path, json_path],
                         capture_output=True, text=True)
    if cmp.returncode != 0:
        fail(f"compare.py exit {cmp.returncode}: {cmp.stderr.strip().splitlines()[-1:]}")
    absent = [b for b in listed if b not in cmp.stdout]
    if absent:
        fail(f"compare.py output lacks {absent[:3]}")
    print(f"ok: compare.py read the JSON ({len(names)} benchmarks)")


if __name__ == "__main__":
    main()
