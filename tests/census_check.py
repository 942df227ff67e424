#!/usr/bin/python3
"""tests/census_check.py — checks what `rcbench --census --quick` wrote.

Usage: census_check.py RCBENCH CENSUS_CSV SMALLINT_CSV

- each file's header is `RCBENCH --list=census-columns` (and
  `--list=census-smallint-columns`), and docs/census.md documents every
  column;
- every workload `RCBENCH --list=workloads` names has a row at threads 1
  and 2: status ok, or skipped with a reason (a peer's workload, a thread
  count it refuses); no error rows;
- an ok row's shares are in [0, 100]; immortal + owner + other ops are
  100%; the cumulative bits_k never fall and reach 100 by max_bits; the
  cumulative ops_le_N never fall, and once one is 100 ops_per_object is
  at most N;
  shared_objects <= objects;
- known facts of the workloads: tl_incdec at 1 thread is 100% private
  (objects and ops); shared_read at 2 threads has shared objects; every
  binarytrees node takes one operation (ops_le_1 is 100);
  smallint's immortal share is over 50%; handoff at 1 thread and
  alloc_pairs are skipped;
- census-smallint.csv has values -5..256 for every ok row, and smallint's
  references are not all zero.
Prints FAIL lines and exits 1 on the first problem; exit 0 when all hold.
"""
import csv
import os
import subprocess
import sys

import doc_columns

DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "census.md")


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def main():
    if len(sys.argv) != 4:
        fail("usage: census_check.py RCBENCH CENSUS_CSV SMALLINT_CSV")
    exe, census_path, smallint_path = sys.argv[1:]
    run = os.environ.get("RCBENCH_RUN", "").split()

    def rcbench_list(kind):
        return subprocess.run(run + [exe, "--list=" + kind], capture_output=True, text=True,
                              check=True).stdout.split()

    schema = rcbench_list("census-columns")
    small_schema = rcbench_list("census-smallint-columns")
    workloads = rcbench_list("workloads")
    documented = doc_columns.documented(DOC)
    if "bits_1 .. bits_32" in documented:       # one line of the table for the 32 columns
        documented.update(f"bits_{k}" for k in range(1, 33))
    if "ops_le_1 .. ops_le_1048575" in documented:
        documented.update(f"ops_le_{2 ** k - 1}" for k in range(1, 21))
    missing = set(schema + small_schema) - documented
    if missing:
        fail(f"docs/census.md does not document the column(s) {sorted(missing)}")

    with open(census_path, newline="") as f:
        rows = list(csv.reader(f))
    if rows[0] != schema:
        fail(f"census header {rows[0]} is not --list=census-columns {schema}")
    recs = [dict(zip(schema, r)) for r in rows[1:]]
    by = {(r["workload"], r["threads"]): r for r in recs}
    if len(by) != len(recs):
        fail("a (workload, threads) has two rows")
    for w in workloads:
        for t in ("1", "2"):
            r = by.get((w, t))
            if r is None:
                fail(f"no census row for {w} at {t} thread(s)")
            if r["status"] == "skipped":
                if not r["reason"]:
                    fail(f"{w}/{t}: skipped without a reason")
                continue
            if r["status"] != "ok" or r["reason"]:
                fail(f"{w}/{t}: status {r['status']}: {r['reason']}")
            pcts = {k: float(r[k]) for k in schema if k.endswith("_pct") or k.startswith(("bits_", "ops_le_")) if r[k] != ""}
            for k, v in pcts.items():
                if not 0 <= v <= 100:
                    fail(f"{w}/{t}: {k} = {v} is not a share")
            if int(r["rc_ops"]) > 0:
                total = sum(float(r[k]) for k in ("immortal_ops_pct", "owner_ops_pct", "other_ops_pct"))
                if abs(total - 100) > 0.01:
                    fail(f"{w}/{t}: immortal + owner + other ops = {total}%, not 100%")
            objects = int(r["objects"])
            if int(r["shared_objects"]) > objects:
                fail(f"{w}/{t}: more shared objects than objects")
            if objects:
                bits = [float(r[f"bits_{k}"]) for k in range(1, 33)]
                if any(b < a for a, b in zip(bits, bits[1:])):
                    fail(f"{w}/{t}: bits_k falls: {bits}")
                mb = int(r["max_bits"])
                if (mb <= 32 and bits[mb - 1] != 100) or (1 < mb <= 33 and bits[mb - 2] >= 100):
                    fail(f"{w}/{t}: max_bits {mb} does not match bits_k {bits}")
                within = [(2 ** k - 1, float(r[f"ops_le_{2 ** k - 1}"])) for k in range(1, 21)]
                if any(b[1] < a[1] for a, b in zip(within, within[1:])):
                    fail(f"{w}/{t}: ops_le_N falls: {within}")
                bound = next((n for n, share in within if share == 100), None)
                if bound is not None and float(r["ops_per_object"]) > bound:
                    fail(f"{w}/{t}: ops_per_object {r['ops_per_object']} over ops_le_{bound} = 100%")

    def row(w, t):
        return by[(w, t)]
    tl = row("tl_incdec", "1")
    if float(tl["private_objects_pct"]) != 100 or float(tl["ops_on_private_pct"]) != 100:
        fail(f"tl_incdec at 1 thread is not 100% private: {tl}")
    if float(row("binarytrees", "1")["ops_le_1"]) != 100:
        fail(f"binarytrees' nodes do not all take one operation: {row('binarytrees', '1')}")
    if int(row("shared_read", "2")["shared_objects"]) <= 0:
        fail("shared_read at 2 threads has no shared object")
    if float(row("smallint", "1")["immortal_ops_pct"]) <= 50:
        fail(f"smallint's immortal share is {row('smallint', '1')['immortal_ops_pct']}%, not over 50%")
    for w, t in (("handoff", "1"), ("alloc_pairs", "1")):
        if row(w, t)["status"] != "skipped":
            fail(f"{w} at {t} thread(s) is not skipped")

    with open(smallint_path, newline="") as f:
        srows = list(csv.reader(f))
    if srows[0] != small_schema:
        fail(f"small-int header {srows[0]} is not --list=census-smallint-columns {small_schema}")
    values = {}
    for w, t, v, refs in srows[1:]:
        values.setdefault((w, t), {})[int(v)] = int(refs)
    ok = {k for k, r in by.items() if r["status"] == "ok"}
    if set(values) != ok:
        fail(f"small-int rows for {sorted(set(values) ^ ok)} do not match the ok census rows")
    for k, vs in values.items():
        if sorted(vs) != list(range(-5, 257)):
            fail(f"{k}: small-int values are not -5..256")
    if sum(values[("smallint", "1")].values()) == 0:
        fail("smallint received no small-int reference")
    print(f"ok: {len(recs)} census rows ({len(ok)} ok), {len(srows) - 1} small-int rows")


main()
