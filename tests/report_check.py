#!/usr/bin/python3
"""tests/report_check.py CSV DOM PNG — checks report.html as headless
Chromium built it (DOM: its --dump-dom) against the CSV it came from:

- one <section class="workload"> per workload of the CSV, each once, named
  by data-workload, with a table of at least one row;
- each section is in its workload's unit, the CSV's unit column (a program:
  "run"; gc_pause_*: "collection"): data-unit, the heading's "(ms per run)"
  and the time column's "ms/run" say it, and the CSV has a program in
  "run" (the HTML before the column said "per op" for them);
- every plot of tools/rcbench_plots.PLOTS present: a <figure class="plot"
  data-plot=NAME> holding an <svg> with drawn paths;
- no cell reads NaN or inf, and no cell is empty; a cell of class "num"
  holds a figure (a number, maybe with a unit, x, % or +-) unless it is
  also "na" (and then it reads "-");
- the machine table and the who-wins-where table are there;
- PNG is a PNG screenshot of a page with something on it (over 20 KB).

Prints one "ok:" line per check; exit 0, or 1 with a FAIL line.
Threading: none.
"""
import csv
import os
import re
import sys
from html.parser import HTMLParser

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "tools"))
import rcbench_plots  # noqa: E402  (the plots' names)

FIGURE = re.compile(r"^(&plusmn;|\u00b1)?-?[0-9]+(\.[0-9]+)?(%|x| ?(ns|us|ms|s)(/[a-z]+)?|/[0-9]+)?$")
BAD = re.compile(r"\b(nan|inf|infinity|undefined)\b", re.IGNORECASE)


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


class Dom(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sections, self.figures, self.cells, self.tables = [], {}, [], set()
        self.stack = []                         # (tag, attrs) of open elements
        self.cell = None                        # (classes, text) of the open td
        self.section = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        void = tag in ("meta", "br", "img", "hr", "input", "link")
        if not void:
            self.stack.append((tag, a))
        classes = set((a.get("class") or "").split())
        if tag == "section" and "workload" in classes:
            self.section = {"name": a.get("data-workload"), "unit": a.get("data-unit"), "rows": 0,
                            "h3": "", "th": []}
            self.sections.append(self.section)
        if tag == "figure" and "plot" in classes:
            self.figures[a.get("data-plot")] = {"svg": 0, "paths": 0}
        fig = next((x[1].get("data-plot") for x in reversed(self.stack)
                    if x[0] == "figure"), None)
        if fig is not None:
            if tag == "svg":
                self.figures[fig]["svg"] += 1
            if tag in ("path", "use", "rect", "line", "polyline"):
                self.figures[fig]["paths"] += 1
        if tag == "table":
            self.tables.update(classes)
        if tag == "tr" and self.section is not None:
            self.section["rows"] += 1
        if tag == "td":
            self.cell = [classes, ""]

    def handle_endtag(self, tag):
        while self.stack:
            t, _ = self.stack.pop()
            if t == tag:
                break
        if tag == "td" and self.cell is not None:
            self.cells.append((self.cell[0], self.cell[1].strip()))
            self.cell = None
        if tag == "section":
            self.section = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell[1] += data
        if self.section is not None and any(t == "h3" for t, _ in self.stack):
            self.section["h3"] += data
        if self.section is not None and self.stack and self.stack[-1][0] == "th":
            self.section["th"].append(data.strip())


def main():
    if len(sys.argv) != 4:
        fail("usage: report_check.py CSV DOM PNG")
    path, dom_path, png = sys.argv[1:]
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    workloads = list(dict.fromkeys(r["workload"] for r in rows))
    units = {}
    for r in rows:
        if units.setdefault(r["workload"], r["unit"]) != r["unit"]:
            fail(f"{path}: {r['workload']} in units {units[r['workload']]} and {r['unit']}")
    with open(dom_path, encoding="utf-8") as f:
        text = f.read()
    if "<html" not in text or "</body>" not in text:
        fail(f"{dom_path}: not a page Chromium built ({len(text)} bytes)")
    dom = Dom()
    dom.feed(text)

    names = [s["name"] for s in dom.sections]
    if sorted(names) != sorted(workloads) or len(set(names)) != len(names):
        fail(f"sections {names}, the CSV's workloads {workloads}")
    empty = [s["name"] for s in dom.sections if s["rows"] < 2]
    if empty:
        fail(f"sections without rows: {empty}")
    print(f"ok: one section per workload ({len(names)})")

    if "run" not in units.values():
        fail(f"the CSV has no program (no row in unit run): {units}")
    for sec in dom.sections:
        u = units[sec["name"]]
        if sec["unit"] != u or not re.search(rf"\((s|ms|us|ns) per {u}\)", sec["h3"]) or \
                not any(re.fullmatch(rf"(s|ms|us|ns)/{u}", th) for th in sec["th"]):
            fail(f"section {sec['name']}: data-unit {sec['unit']!r}, heading {sec['h3']!r}, "
                 f"columns {sec['th']}; the CSV's unit is {u!r}")
    print("ok: each section in its CSV unit (" +
          ", ".join(f"{w}: {u}" for w, u in units.items() if u != "op") + ", the rest op)")

    for name, _ in rcbench_plots.PLOTS:
        fig = dom.figures.get(name)
        if fig is None or fig["svg"] != 1 or fig["paths"] < 10:
            fail(f"plot {name}: {fig or 'missing'} (an <svg> with drawn paths expected)")
    print(f"ok: every plot present as SVG ({', '.join(n for n, _ in rcbench_plots.PLOTS)})")

    for want in ("machine", "winners"):
        if want not in dom.tables:
            fail(f"no {want} table")
    numbers = 0
    for classes, cell in dom.cells:
        if not cell:
            fail(f"an empty cell (class {sorted(classes)})")
        if BAD.search(cell):
            fail(f"a cell reads {cell!r}")
        if "num" in classes:
            if "na" in classes:
                if cell != "-":
                    fail(f"a cell marked na reads {cell!r}")
            elif not FIGURE.match(cell):
                fail(f"a number's cell reads {cell!r}")
            else:
                numbers += 1
    if numbers < 50:
        fail(f"only {numbers} figures in the tables")
    print(f"ok: {len(dom.cells)} cells, {numbers} figures, none NaN, inf or empty")

    with open(png, "rb") as f:
        head = f.read(8)
    size = os.path.getsize(png)
    if head != b"\x89PNG\r\n\x1a\n" or size < 20000:
        fail(f"{png}: not a screenshot of the page (PNG signature {head!r}, {size} bytes)")
    print(f"ok: screenshot {png} ({size} bytes)")


if __name__ == "__main__":
    main()
