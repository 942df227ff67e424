"""tests/doc_columns.py — the column names a doc's tables document.

documented(path): every name in the first cell of a Markdown table row
(`| name | ... |`, several names separated by commas), the way
docs/method.md and docs/census.md document their CSV columns. Shared by
rcbench_check.py and census_check.py.
"""


def documented(path):
    names = set()
    with open(path) as f:
        for line in f:
            cells = line.split("|")
            if len(cells) > 3:
                names.update(c.strip() for c in cells[1].split(","))
    return names
