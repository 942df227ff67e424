#!/usr/bin/python3
"""tests/history_test.py TOOLS — tools/rcbench-history on synthetic,
seeded histories (docs/history.md quotes its output).

Histories of 30 runs of three benchmarks, 3 repetitions each with 3%
Gaussian noise (CSVs without the unit column and with it in turn: old
runs' and new), built through the tool's `add`: a 20% step in tree at a
known revision is found there (recent: exit 1; older: named, exit 0), noise
alone finds nothing, an improvement does not fail; the gate's counts (no
noise) catch a 5% step and not a 1% one. Then the method alone (imported
from the tool) over 200 seeded noise-only histories gives the false-alarm
rate, and over 200 with a step its power. Bad input: exit 2, one line, no
traceback, the database and its directory unchanged. Exit 0 when every
case holds, 1 with a FAIL line; every case prints `ok:`.
"""
import hashlib
import importlib.machinery
import importlib.util
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
TOOLS = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tools")
TOOL = os.path.join(os.path.abspath(TOOLS), "rcbench-history")
H = ("workload,strategy,allocator,threads,repetition,iterations,ns_per_op,ops_per_sec,cpu_ns_per_op,"
     "peak_rss_kib,header_bytes,gc_collections,gc_pause_p50_us,gc_pause_p99_us,gc_pause_max_us,binding,"
     "arch,cpu_model,compiler,revision,timestamp,availability,overlap,c2c_ns,atomics,deferred_epochs,"
     "deferred_buffer_peak_kib,deferred_max_delay_epochs,gc_tracked,peer,error")
BENCH = {"tl_incdec/atomic/arena/threads:1": 4.0, "tree/atomic/arena/threads:1": 30.0,
         "alloc_pairs/none/arena/threads:1": 6.0}
TREE = "tree/atomic/arena/threads:1"
NOISE = 0.03
checks = 0


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def ok(msg):
    global checks
    checks += 1
    print(f"ok: {msg}")


def tool(*args, env=None):
    e = dict(os.environ)
    e.pop("RCBENCH_HISTORY", None)
    e.update(env or {})
    p = subprocess.run([TOOL, *args], capture_output=True, text=True, env=e)
    if "Traceback" in p.stderr:
        fail(f"{' '.join(args)}: a traceback: {p.stderr}")
    return p.returncode, p.stdout, p.stderr


def tidy_csv(path, rev, day, values, reps=3, extra="", unit=False):
    """A tidy CSV of one run: `values` maps benchmark -> list of ns_per_op;
    unit: with the unit column rcbench writes now (else as before it)."""
    with open(path, "w") as f:
        f.write(H + (",unit" if unit else "") + "\n")
        for name, vals in values.items():
            w, s, a, t = name.split("/")
            for rep, v in enumerate(vals):
                f.write(f'{w},{s},{a},{t[8:]},{rep},10,{v:.4f},1,1,1,16,0,,,,pu0,x86_64,"Synthetic CPU, 2 cores",'
                        f"gcc 12.2.0,{rev},2026-01-{day:02d}T00:00:00Z,1,1,,x86-lock,,,,,no,"
                        + (",op" if unit else "") + "\n")
        f.write(extra)


def history(db, seed, step_at=None, step=0.20, runs=30):
    """Adds `runs` runs r000.. to db; tree is `step` slower from run step_at."""
    r = random.Random(seed)
    csvp = os.path.join(os.path.dirname(db), "run.csv")
    for i in range(runs):
        vals = {b: [base * (1 + (step if b == TREE and step_at is not None and i >= step_at else 0))
                    * (1 + r.gauss(0, NOISE)) for _ in range(3)] for b, base in BENCH.items()}
        tidy_csv(csvp, f"r{i:03d}", 1 + i, vals, unit=i % 2 == 1)   # old and new CSVs in turn
        rc, out, err = tool("--db", db, "add", csvp)
        if rc != 0:
            fail(f"add r{i:03d}: exit {rc}: {err}")
    os.unlink(csvp)


def snapshot(d):
    out = []
    for n in sorted(os.listdir(d)):
        with open(os.path.join(d, n), "rb") as f:
            out.append((n, hashlib.sha256(f.read()).hexdigest()))
    return out


def bad(d, what, *args, env=None):
    """args exit 2 with one line on stderr, d's files unchanged."""
    before = snapshot(d)
    rc, out, err = tool(*args, env=env)
    if rc != 2:
        fail(f"{what}: exit {rc}, expected 2: {out} {err}")
    if err.count("\n") != 1 or not err.startswith("rcbench-history: "):
        fail(f"{what}: not one line on stderr: {err!r}")
    if snapshot(d) != before:
        fail(f"{what}: files changed: {snapshot(d)} (were {before})")
    ok(f"{what} -> exit 2: {err.strip()}")


def cli_cases(d):
    step = os.path.join(d, "step.db")
    history(step, seed=1, step_at=26)
    rc, out, err = tool("--db", step, "check")
    if rc != 1 or f"{TREE}  ns_per_op  on Synthetic CPU, 2 cores: REGRESSED at r026" not in out:
        fail(f"step at r026: exit {rc}: {out} {err}")
    if out.count("REGRESSED") != 1 or "moved" in out:
        fail(f"step at r026: more than tree's move reported: {out}")
    ok(f"a 20% step at r026 is found there: exit 1: {out.splitlines()[0]}")

    noise = os.path.join(d, "noise.db")
    history(noise, seed=2)
    rc, out, err = tool("--db", noise, "check")
    if rc != 0 or len(out.splitlines()) != 1 or "3 series checked, 0 regressed" not in out:
        fail(f"noise only: exit {rc}: {out} {err}")
    ok("noise only: nothing found, exit 0")

    old = os.path.join(d, "old.db")
    history(old, seed=3, step_at=12)
    rc, out, err = tool("--db", old, "check")
    if rc != 0 or "moved (older) at r012" not in out or "REGRESSED" in out:
        fail(f"step at r012, check: exit {rc}: {out} {err}")
    ok("a step 18 runs old is named but does not fail: exit 0")
    rc, out, err = tool("--db", old, "check", "--recent", "30", TREE)
    if rc != 1 or "REGRESSED at r012" not in out:
        fail(f"step at r012, --recent 30: exit {rc}: {out} {err}")
    ok("... and fails with --recent 30")

    better = os.path.join(d, "better.db")
    history(better, seed=4, step_at=27, step=-0.20)
    rc, out, err = tool("--db", better, "check")
    if rc != 0 or "improved at r027" not in out:
        fail(f"improvement at r027: exit {rc}: {out} {err}")
    ok("a 20% improvement at r027 is named, exit 0")

    # The gate's instruction counts: no noise, a 2% threshold.
    for pct, want in ((5, 1), (1, 0)):
        g = os.path.join(d, f"gate{pct}.db")
        for i in range(10):
            c = os.path.join(d, "counts.csv")
            with open(c, "w") as f:
                f.write("benchmark,ops,instructions,instructions_per_op\n")
                ipo = 16.3493 * (1 + pct / 100 if i >= 8 else 1)
                f.write(f"tl_incdec/plain/arena/threads:1,16384,{round(ipo * 16384)},{ipo:.4f}\n")
                f.write("smallint/plain/arena/threads:1,4096,172533,42.1223\n")
            rc, out, err = tool("add", "--gate", c, "--revision", f"g{i:02d}", "--machine", "ci",
                                "--compiler", "gcc 12.2.0", "--date", f"2026-02-{1 + i:02d}T00:00:00Z",
                                env={"RCBENCH_HISTORY": g})
            if rc != 0:
                fail(f"add --gate g{i:02d}: exit {rc}: {err}")
            os.unlink(c)
        rc, out, err = tool("--db", g, "check")
        if rc != want or (want and "tl_incdec/plain/arena/threads:1  instructions_per_op  on ci: REGRESSED at g08"
                          not in out) or (not want and len(out.splitlines()) != 1):
            fail(f"gate, {pct}% at g08: exit {rc}, expected {want}: {out} {err}")
        ok(f"gate counts, {pct}% more instructions at g08: exit {rc}")

    rc, out, err = tool("--db", step, "show", TREE)
    lines = out.splitlines()
    if rc != 0 or len(lines) != 32 or not lines[2].split()[:2] == ["r000", "2026-01-01T00:00:00Z"]:
        fail(f"show: exit {rc}: {out} {err}")
    ok(f"show: 30 runs: {lines[-1].strip()}")
    if importlib.util.find_spec("matplotlib") is not None:
        png = os.path.join(d, "tree.png")
        rc, out, err = tool("--db", step, "show", TREE, "--plot", png)
        with open(png, "rb") as f:
            if rc != 0 or f.read(8) != b"\x89PNG\r\n\x1a\n":
                fail(f"show --plot: exit {rc}: {err}")
        os.unlink(png)
        ok("show --plot draws a PNG")
    else:
        print("skip: show --plot (no matplotlib)")
    return step


def bad_cases(d, step):
    w = os.path.join(d, "bad")
    os.mkdir(w)
    db = os.path.join(w, "h.db")
    shutil.copy(step, db)
    good = os.path.join(d, "good.csv")
    tidy_csv(good, "r100", 28, {TREE: [30.0, 31.0, 29.0]})
    text = os.path.join(w, "notes.db")
    with open(text, "w") as f:
        f.write("not a database\n")
    empty = os.path.join(w, "empty.db")
    open(empty, "w").close()
    other = os.path.join(w, "other.db")
    with sqlite3.connect(other) as c:
        c.execute("CREATE TABLE run (id INTEGER PRIMARY KEY)")
    c.close()
    for name in ("notes.db", "empty.db", "other.db"):
        p = os.path.join(w, name)
        bad(w, f"add to {name}", "--db", p, "add", good)
        bad(w, f"show on {name}", "--db", p, "show", TREE)
        bad(w, f"check on {name}", "--db", p, "check")
    bad(w, "show with no history file", "--db", os.path.join(w, "none.db"), "show", TREE)
    bad(w, "no --db, no RCBENCH_HISTORY", "check")
    bad(w, "add with nothing to add", "--db", db, "add")

    icount = os.path.join(d, "icount.csv")
    with open(icount, "w") as f:
        f.write("benchmark,ops,instructions,instructions_per_op\ntree/atomic/arena/threads:1,10,100,10.0\n")
    bad(w, "the gate's CSV as the tidy CSV", "--db", db, "add", icount)
    bad(w, "the tidy CSV as the gate's", "--db", db, "add", "--gate", good, "--revision", "r101")
    census = os.path.join(d, "census.csv")
    with open(census, "w") as f:
        f.write("workload,strategy,objects,ops_le_1\ntree,atomic,10,3\n")
    bad(w, "a CSV of another schema (census)", "--db", db, "add", census)
    bad(w, "a second run of r005 on the same machine", "--db", db, "add", good, "--revision", "r005")
    twice = os.path.join(d, "twice.csv")
    tidy_csv(twice, "r102", 28, {TREE: [30.0, 31.0], "tl_incdec/atomic/arena/threads:1": [4.0]})
    with open(twice, "a") as f:                 # tree's repetition 0 again, last
        f.write(open(twice).read().splitlines()[1] + "\n")
    bad(w, "a repetition twice (fails inside the transaction)", "--db", db, "add", twice)
    nan = os.path.join(d, "nan.csv")
    tidy_csv(nan, "r103", 28, {TREE: [30.0, float("nan")]})
    bad(w, "ns_per_op nan", "--db", db, "add", nan)
    mixed = os.path.join(d, "mixed.csv")
    tidy_csv(mixed, "r104", 28, {TREE: [30.0]}, extra=open(good).read().splitlines()[1] + "\n")
    bad(w, "two revisions in one CSV", "--db", db, "add", mixed)
    bad(w, "--gate without a CSV or --revision", "--db", db, "add", "--gate", icount)
    bad(w, "a bad --date", "--db", db, "add", good, "--date", "yesterday")
    bad(w, "add to a new file, bad CSV: no file made", "--db", os.path.join(w, "new.db"), "add", census)
    bad(w, "check on an unknown machine", "--db", db, "check", "--machine", "Other CPU")
    damaged = os.path.join(w, "damaged.db")
    data = bytearray(open(db, "rb").read())
    data[100:4096] = b"x" * 3996                 # the schema page overwritten
    with open(damaged, "wb") as f:
        f.write(data)
    bad(w, "add to a damaged history", "--db", damaged, "add", good)
    bad(w, "check a damaged history", "--db", damaged, "check")
    os.unlink(damaged)
    bad(w, "show an unknown benchmark", "--db", db, "show", "nope/atomic/arena/threads:1")
    bad(w, "check an unknown benchmark", "--db", db, "check", TREE, "nope/atomic/arena/threads:1")
    # ... and the good run is then accepted (the failures held no lock),
    # under a name a URI would misread.
    odd = os.path.join(w, "a b?c#d.db")
    os.rename(db, odd)
    rc, out, err = tool("--db", odd, "add", good)
    if rc != 0:
        fail(f"the good run after the failures: exit {rc}: {err}")
    ok("the good run is added after the failed ones, to 'a b?c#d.db'")


def method_rates():
    """The method alone over many seeded histories (30 runs, each the median
    of 3 repetitions with NOISE): false alarms, power, location."""
    spec = importlib.util.spec_from_loader("history", importlib.machinery.SourceFileLoader("history", TOOL))
    h = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(h)
    n, runs, recent = 200, 30, 5

    def run_values(r, shift):
        return sorted((1 + shift) * (1 + r.gauss(0, NOISE)) for _ in range(3))[1]

    for noise in (NOISE, 0.10):
        any_move = recent_fail = significant = 0
        for seed in range(n):
            r = random.Random(1000 + seed)
            xs = [sorted(1 + r.gauss(0, noise) for _ in range(3))[1] for _ in range(runs)]
            m = h.moves(xs, 0.001, 0.10)
            any_move += bool(m)
            recent_fail += any(i >= runs - recent and rel > 0 for i, rel, _ in m)
            significant += bool(h.moves(xs, 0.001, 0.0))
        print(f"rate: noise only ({noise:.0%} per repetition, median of 3, {runs} runs, p < 0.001): "
              f"{recent_fail}/{n} histories fail check (10%, newest {recent}), {any_move}/{n} have a "
              f"10% move anywhere, {significant}/{n} a significant change point of any size")
        if noise == NOISE and (recent_fail > n * 0.02 or any_move > n * 0.05):
            fail("too many false alarms")
    ok("false-alarm rate at 3% noise within 2% (check) and 5% (anywhere)")

    for step in (0.15, 0.20):
        found = exact = 0
        for seed in range(n):
            r = random.Random(5000 + seed)
            at = r.randint(3, runs - 1)
            xs = [run_values(r, step if i >= at else 0) for i in range(runs)]
            m = h.moves(xs, 0.001, 0.10)
            found += any(rel > 0 for _, rel, _ in m)
            exact += any(i == at and rel > 0 for i, rel, _ in m)
        print(f"rate: a {step:.0%} step at a random run 4..30: found in {found}/{n}, "
              f"at its revision in {exact}/{n}")
        if step == 0.20 and exact < n * 0.9:
            fail("a 20% step is not found at its revision in 90% of histories")
    ok("a 20% step is found at its revision in 90% of histories")

    r = random.Random(7)
    zero = [42.1223] * 20
    if h.moves(zero[:17] + [42.1223 * 1.03] * 3, 0.001, 0.02) != [(17, h.moves(zero[:17] + [42.1223 * 1.03] * 3,
                                                                              0.001, 0.02)[0][1], 0.0)]:
        fail("counts: a 3% step not found at 17")
    if h.moves(zero[:19] + [42.1223 * 1.01], 0.001, 0.02) or h.moves(zero, 0.001, 0.02):
        fail("counts: a 1% step or no step reported")
    ok("counts without noise: a 3% step found at its run, 1% and none not")
    del r


def main():
    d = tempfile.mkdtemp(prefix="history_test.")
    try:
        step = cli_cases(d)
        bad_cases(d, step)
        method_rates()
    finally:
        shutil.rmtree(d, ignore_errors=True)
    if checks == 0:
        fail("no check ran")
    print(f"ok: history_test, {checks} checks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
