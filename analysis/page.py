"""The HTML page: figures (or a note where one could not be drawn) and the report tables."""
import html

import numpy as np

STYLE = """
body { font-family: sans-serif; max-width: 1200px; margin: 1.5em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: .9em; color: #444; max-width: 60em; }
p.note { background: #fff6d5; border-left: 4px solid #e0b000; padding: .5em .8em; }
table { border-collapse: collapse; margin: .6em 0 1.4em; font-size: .88em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f2f2f2; } tr.baseline td:first-child { font-style: italic; }
.std { color: #777; font-size: .9em; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: .2em 1em; }
dt { font-weight: bold; }
"""

CELL_KEYS = ["subset", "method", "features", "learner", "task", "metric", "epochs"]


def cell_key(row):
    """The identity of one report.csv row, written into its table cell so a reader (and the test)
    can match every printed number to its row."""
    return "|".join(str(row[k]) for k in CELL_KEYS)


def e(text):
    return html.escape(str(text), quote=True)


class Page:
    def __init__(self, title):
        self.title = title
        self.parts = []

    def h(self, level, text):
        self.parts.append(f"<h{level}>{e(text)}</h{level}>")

    def p(self, text, cls=None):
        c = f' class="{cls}"' if cls else ""
        self.parts.append(f"<p{c}>{e(text)}</p>")

    def facts(self, pairs):
        items = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in pairs)
        self.parts.append(f'<dl class="facts">{items}</dl>')

    def figure(self, png, caption):
        self.parts.append(f'<figure><img src="{e(png)}" alt="{e(caption)}">'
                          f"<figcaption>{e(caption)}</figcaption></figure>")

    def note(self, text):
        self.p(text, "note")

    def table(self, head, rows):
        """A plain table; a cell is text, or (text, key) to write the key into data-cell so a reader
        (and the test) can find the number (data-key is report_tables' own)."""
        out = ["<tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>"]
        for r in rows:
            cells = []
            for c in r:
                if isinstance(c, tuple):
                    cells.append(f'<td class="num" data-cell="{e(c[1])}">{e(c[0])}</td>')
                else:
                    cells.append(f"<td>{e(c)}</td>")
            out.append("<tr>" + "".join(cells) + "</tr>")
        self.parts.append("<table>" + "".join(out) + "</table>")

    def report_tables(self, report, is_baseline, label):
        """One table per (subset, task, metric): methods as rows, budgets as columns, each cell the
        mean (and std when there are repeats) exactly as report.csv writes them."""
        budgets = sorted(report["epochs"].unique())
        groups = report.groupby(["subset", "task", "metric"], sort=False)
        for (subset, task, metric), g in groups:
            head = f"{metric}" + (f", task {task}" if task else "") + f", subset {subset}"
            self.parts.append(f"<h3>{e(head)}</h3>")
            cols = [b for b in budgets if (g["epochs"] == b).any()]
            rows = ["<tr><th>method</th>" + "".join(f"<th>k = {b}</th>" for b in cols) + "</tr>"]
            for lab, mg in sorted(g.groupby("label"), key=lambda t: (is_baseline(t[1]["method"].iloc[0]),
                                                                    t[0])):
                cls = ' class="baseline"' if is_baseline(mg["method"].iloc[0]) else ""
                desc = mg["description"].iloc[0]
                title = f' title="{e(desc)}"' if desc else ""
                cells = []
                for b in cols:
                    r = mg[mg["epochs"] == b]
                    if r.empty:
                        cells.append("<td></td>")
                        continue
                    r = r.iloc[0]
                    std = f' <span class="std">± {e(r["std_text"])}</span>' if r["std_text"] else ""
                    if r["ci_lo"] == r["ci_lo"] and r["ci_hi"] == r["ci_hi"]:  # a headline's 95% interval
                        std += f' <span class="ci">[{r["ci_lo"]:.3f}, {r["ci_hi"]:.3f}]</span>'

                    cells.append(f'<td class="num" data-key="{e(cell_key(r))}">'
                                 f'<span class="mean">{e(r["mean_text"])}</span>{std}</td>')
                rows.append(f"<tr{cls}><td{title}>{e(lab)}</td>{''.join(cells)}</tr>")
            self.parts.append("<table>" + "".join(rows) + "</table>")

    def html(self):
        return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<title>{e(self.title)}</title><style>{STYLE}</style></head><body>\n"
                f"<h1>{e(self.title)}</h1>\n" + "\n".join(self.parts) + "\n</body></html>\n")


def quantiles(values):
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if not len(v):
        return "none"
    q = np.quantile(v, [0, 0.25, 0.5, 0.75, 1])
    return "min {:.3f}, 25% {:.3f}, median {:.3f}, 75% {:.3f}, max {:.3f}".format(*q)
