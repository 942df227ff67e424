"""tools/rcbench_plots.py — rcbench's three plots of the tidy CSV, drawn with
matplotlib, shared by tools/rcbench-plot (PNG files) and tools/rcbench-report
(inline SVG in report.html):

    ns_per_op   ns per op per strategy per workload: grouped bars, log y,
                threads == 1, median over repetitions; a workload whose
                unit is not an op says its own under its name ("per run");
    threads     throughput (ops/s, median; runs/s for a program) against
                threads, one line per strategy, one panel per workload
                (these two leave out the gc_pause_* workloads, drawn in
                the third);
    gc_pause    one full collection's pause (ms) against heap objects, from
                the gc_pause_<N>[k|m] workloads (and cpython-gc rows), log-log.

Our strategies' rows are those of one allocator (default arena). The peers
(shared_ptr, boehm, cpython-gc, none, ocaml) are kept whatever their
allocator (only the chosen one when they have it) and drawn dashed or
hatched, "(peer)" in the legend. Rows with an empty ns_per_op (errored) are
left out. A workload's unit (what one op is) is the CSV's unit column
(unit_of: a CSV older than the column falls back to the rule the tools
had before it). Why matplotlib, not gnuplot: docs/method.md, "Plots".
Bad input raises rcbench_tools.Fail (one line, exit 2); python3-matplotlib
missing is an OS error (exit 3: tools/deps.sh installs it).
Threading: none (a tool's one thread).
"""
import csv
import io
import math
import re
import statistics
from collections import defaultdict, namedtuple

import rcbench_tools as rt

# The columns read, found by name in the CSV's header (the schema itself is
# rcbench's: `rcbench --list=columns`); `peer` (yes/no) tells the peers'
# rows from rcbench's strategies' (a CSV without it: all ours).
NEEDED = ["workload", "strategy", "allocator", "threads", "ns_per_op", "ops_per_sec"]
INTEGER = {"threads"}
NUMERIC = INTEGER | {"ns_per_op", "ops_per_sec"}
# The plots, in order: (name, title), each drawn by the function of its name.
PLOTS = [("ns_per_op", "ns per op per strategy"), ("threads", "throughput against threads"),
         ("gc_pause", "GC pause against heap size")]
# Strategies and peers take colours in the order the CSV first names them
# (rcbench writes its strategies first, in its table order, then the peers).
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
           "#17becf", "#bcbd22", "#7f7f7f", "#000000", "#aec7e8", "#98df8a", "#ffbb78"]
HATCHES = ["//", "\\\\", "xx", ".."]
HEAP = re.compile(r"_(\d+(?:\.\d+)?)([km]?)$", re.IGNORECASE)

Row = namedtuple("Row", "workload strategy allocator threads ns ops unit")


def unit_of(workload, cell=None):
    """What one op of `workload` is: the row's unit cell (rcbench writes the
    workload's own: op, collection or run); empty or absent (a CSV from
    before the column): the old rule, collection for gc_pause_*, else op
    (so an old file's programs read per op)."""
    if cell:
        return cell
    return "collection" if workload.startswith("gc_pause") else "op"


class Data:
    """The rows with an ns_per_op, and our strategies and the peers in the
    order the CSV first names them."""

    def __init__(self, rows, ours, peers):
        self.rows, self.ours, self.peers = rows, ours, peers


def read_csv(path):
    """Data from the CSV at path, every numeric column checked."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            return parse(path, csv.reader(f))
    except OSError as e:
        raise rt.Fail(f"{path}: cannot read: {e.strerror}")
    except UnicodeDecodeError as e:
        raise rt.Fail(f"{path}: not UTF-8 text ({e.reason})")
    except csv.Error as e:
        raise rt.Fail(f"{path}: malformed CSV: {e}")


def parse(path, reader):
    header = [h.strip() for h in next(reader, [])]
    if not header:
        raise rt.Fail(f"{path}:1: empty file, no header")
    missing = [name for name in NEEDED if name not in header]
    if missing:
        raise rt.Fail(f"{path}:1: the header lacks column(s) {', '.join(missing)}")
    col = {name: header.index(name) for name in NEEDED + [c for c in ("peer", "unit") if c in header]}
    rows, records, ours, peers = [], 0, [], []
    for rec in reader:
        where = f"{path}:{reader.line_num}"
        if not any(rec):
            continue
        records += 1
        if len(rec) != len(header):
            raise rt.Fail(f"{where}: {len(rec)} fields, the header has {len(header)}")
        v = {name: rec[i].strip() for name, i in col.items()}
        for name in NUMERIC:
            text, v[name] = v[name], None
            try:
                v[name] = (int if name in INTEGER else float)(text) if text else None
            except ValueError:
                pass
            if text and (v[name] is None or not math.isfinite(v[name]) or v[name] < 0):
                kind = "whole number" if name in INTEGER else "number"
                raise rt.Fail(f"{where}: {name} is {text!r}, not a {kind} >= 0")
        if v["ns_per_op"] is None:
            continue                                    # an errored benchmark
        for name in ("workload", "strategy", "allocator", "threads"):
            if v[name] in ("", None):
                raise rt.Fail(f"{where}: {name} is empty")
        if v["threads"] < 1:
            raise rt.Fail(f"{where}: threads is 0, expected >= 1")
        names = peers if v.get("peer") == "yes" else ours
        if v["strategy"] not in names:
            names.append(v["strategy"])
        rows.append(Row(*(v[k] for k in ("workload", "strategy", "allocator", "threads",
                                          "ns_per_op", "ops_per_sec")),
                        unit_of(v["workload"], v.get("unit"))))
    if not rows:                                        # nothing to draw is not a success
        raise rt.Fail(f"{path}:1: no rows, only the header" if records == 0 else
                      f"{path}: no rows with an ns_per_op (every benchmark errored)")
    return Data(rows, ours, peers)


class Plotter:
    """The three figures of one CSV's rows on one allocator."""

    def __init__(self, data, allocator):
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
            import matplotlib.ticker as ticker
        except ImportError:
            raise rt.Fail("python3-matplotlib is not installed (tools/deps.sh installs it)",
                          rt.OS_ERROR) from None
        self.plt, self.ticker = plt, ticker
        self.data, self.allocator = data, allocator
        self.sel = self.select()
        order = self.series_order(s for s, _ in self.sel)
        self.colours = {s: PALETTE[order.index(s) % len(PALETTE)] for s in order}

    def select(self):
        """(series, row) pairs: our strategies on the allocator; a peer on it
        when it has rows there, else on all its own (series strategy/allocator
        if several)."""
        peer_allocs = defaultdict(set)
        for r in self.data.rows:
            if r.strategy in self.data.peers:
                peer_allocs[r.strategy].add(r.allocator)
        out = []
        for r in self.data.rows:
            allocs = peer_allocs.get(r.strategy)
            if allocs and self.allocator not in allocs and len(allocs) > 1:
                out.append((f"{r.strategy}/{r.allocator}", r))
            elif r.allocator == self.allocator or (allocs and self.allocator not in allocs):
                out.append((r.strategy, r))
        return out

    def is_peer(self, series):
        return series.split("/")[0] in self.data.peers

    def series_order(self, names):
        ours, peers = self.data.ours, self.data.peers

        def key(s):
            base = s.split("/")[0]
            if base in ours:
                return (0, ours.index(base), s)
            return (2, peers.index(base), s) if base in peers else (1, 0, s)
        return sorted(set(names), key=key)

    def label(self, series):
        return series + (" (peer)" if self.is_peer(series) else "")

    def line(self, ax, series, xs, ys):
        """Peers dashed with open points, ours solid with filled ones."""
        peer = self.is_peer(series)
        ax.plot(xs, ys, color=self.colours[series], linewidth=2, linestyle="--" if peer else "-",
                marker="o", markerfacecolor="white" if peer else self.colours[series],
                label=self.label(series))

    def units(self):
        """{workload: its unit}, from its first selected row."""
        out = {}
        for _, r in self.sel:
            out.setdefault(r.workload, r.unit)
        return out

    def figure(self, name):
        """(Figure, None) or (None, why it is not drawn)."""
        return getattr(self, name)()

    def ns_per_op(self):
        med = medians(((r.workload, s), r.ns) for s, r in self.sel
                      if r.threads == 1 and not r.workload.startswith("gc_pause_"))
        if not med:
            return None, f"no rows with threads = 1 on allocator {self.allocator}"
        workloads = list(dict.fromkeys(w for w, _ in med))
        series = self.series_order(s for _, s in med)
        width = max(8.0, min(16.0, 2.5 + len(workloads) * (len(series) * 0.18 + 0.3)))
        fig, ax = self.plt.subplots(figsize=(width, 6))
        bar = 0.9 / len(series)
        peers = 0
        for i, s in enumerate(series):
            xs = [k + (i - (len(series) - 1) / 2) * bar for k, w in enumerate(workloads) if (w, s) in med]
            ys = [med[(w, s)] for w in workloads if (w, s) in med]
            if self.is_peer(s):
                ax.bar(xs, ys, bar, color="white", edgecolor=self.colours[s],
                       hatch=HATCHES[peers % len(HATCHES)], label=self.label(s))
                peers += 1
            else:
                ax.bar(xs, ys, bar, color=self.colours[s], alpha=0.85, edgecolor="#333333",
                       label=self.label(s))
        ax.set_yscale("log")
        units = self.units()
        ax.set_xticks(range(len(workloads)))
        ax.set_xticklabels([w if units[w] == "op" else f"{w} (per {units[w]})" for w in workloads],
                           rotation=30 if len(workloads) > 5 else 0,
                           ha="right" if len(workloads) > 5 else "center")
        ax.set_title(f"ns per op per strategy (median over repetitions), threads = 1, "
                     f"allocator {self.allocator}")
        ax.set_xlabel("workload")
        ax.set_ylabel("ns per op (log scale)" if set(units[w] for w in workloads) == {"op"} else
                      "ns per op, or per the unit named with the workload (log scale)")
        ax.grid(axis="y", color="#dddddd")
        ax.set_axisbelow(True)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
        fig.tight_layout()
        return fig, None

    def threads(self):
        med = medians(((r.workload, s, r.threads), r.ops) for s, r in self.sel
                      if r.ops is not None and not r.workload.startswith("gc_pause_"))
        if not med:
            return None, f"no rows with ops_per_sec on allocator {self.allocator}"
        workloads = list(dict.fromkeys(w for w, _, _ in med))
        series = self.series_order(s for _, s, _ in med)
        counts = sorted({t for _, _, t in med})
        cols = min(3, len(workloads) + 1)              # a last panel holds the legend
        nrows = -(-(len(workloads) + 1) // cols)
        fig, axes = self.plt.subplots(nrows, cols, figsize=(cols * 4.3, nrows * 3.2 + 0.4),
                                      squeeze=False)
        flat = [a for row in axes for a in row]
        units = self.units()
        for ax, w in zip(flat, workloads):
            for s in series:
                pts = sorted((t, v) for (w2, s2, t), v in med.items() if w2 == w and s2 == s)
                if pts:
                    self.line(ax, s, [t for t, _ in pts], [v for _, v in pts])
            ax.set_title(w, fontsize="medium")
            ax.set_xscale("log", base=2)
            ax.set_xlim(counts[0] / 1.25, counts[-1] * 1.25)
            ax.set_xticks(counts)
            ax.set_xticklabels([str(t) for t in counts])
            ax.minorticks_off()
            ax.set_ylim(bottom=0)
            ax.yaxis.set_major_formatter(self.ticker.EngFormatter())
            ax.set_xlabel("threads")
            ax.set_ylabel(f"{units[w]}s/s")
            ax.grid(axis="y", color="#dddddd")
        legend = flat[len(workloads)]
        for s in series:
            self.line(legend, s, [], [])
        legend.legend(loc="center", fontsize="small")
        for ax in flat[len(workloads):]:
            ax.axis("off")
        fig.suptitle(f"throughput against threads (median over repetitions), allocator {self.allocator}")
        fig.tight_layout()
        return fig, None

    def gc_pause(self):
        gc_rows = [(s, r) for s, r in self.sel
                   if r.workload.startswith("gc_pause_") or r.strategy == "cpython-gc"]
        if not gc_rows:
            return None, "no gc_pause_* rows"
        tmin = min(r.threads for _, r in gc_rows)
        pairs, labels = [], {}
        for s, r in gc_rows:
            m = HEAP.search(r.workload)
            if m and r.threads == tmin:
                unit = m.group(2).lower()
                heap = round(float(m.group(1)) * {"": 1, "k": 1e3, "m": 1e6}[unit])
                labels[heap] = m.group(1) + unit.replace("m", "M")
                pairs.append(((s, heap), r.ns / 1e6))
        if not pairs:
            return None, "no gc_pause_* rows with a heap size"
        med = medians(pairs)
        heaps = sorted(labels)
        fig, ax = self.plt.subplots(figsize=(9, 5.6))
        for s in self.series_order(s for s, _ in med):
            pts = sorted((h, v) for (s2, h), v in med.items() if s2 == s)
            self.line(ax, s, [h for h, _ in pts], [v for _, v in pts])
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(heaps[0] / 1.5, heaps[-1] * 1.5)
        ax.set_xticks(heaps)
        ax.set_xticklabels([labels[h] for h in heaps])
        ax.minorticks_off()
        ax.set_title(f"full-collection pause against heap size (median over repetitions), "
                     f"threads = {tmin}")
        ax.set_xlabel("heap objects (log scale)")
        ax.set_ylabel("pause of one full collection, ms (log scale)")
        ax.grid(color="#dddddd")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
        fig.tight_layout()
        return fig, None

    def render(self, fig, fmt):
        """The figure as bytes (png) or text (svg), then closed."""
        buf = io.BytesIO()
        meta = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
        fig.savefig(buf, format=fmt, dpi=100, metadata=meta)
        self.plt.close(fig)
        return buf.getvalue() if fmt == "png" else buf.getvalue().decode("utf-8")


def unnamed_heaps(data):
    """gc_pause workloads without a heap size in their name (not drawn)."""
    return sorted({r.workload for r in data.rows
                   if r.workload.startswith("gc_pause_") and not HEAP.search(r.workload)})


def medians(pairs):
    """{key: median of its values} from (key, value) pairs."""
    groups = defaultdict(list)
    for k, v in pairs:
        groups[k].append(v)
    return {k: statistics.median(v) for k, v in groups.items()}
