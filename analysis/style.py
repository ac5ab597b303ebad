"""One look for every figure: a fixed colour per method, baselines drawn dashed."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# Methods a practitioner has without reading the graph (docs/prediction.md, "Three families of rows"). Everything else
# in report.csv is a graph method. Matched on the method name's first word.
BASELINES = ("val_acc", "val_loss", "tse", "weights", "weight_stats", "learning_curve", "curve",
             "hyperparameters", "hparams", "majority", "successive_halving", "halving", "asha")

GRAPH_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#e377c2",
                 "#bcbd22", "#8c564b", "#393b79", "#ad494a", "#637939"]
BASELINE_COLOURS = ["#404040", "#8c6d31", "#7b4173", "#5b8a72", "#a0a0a0", "#843c39", "#3182bd",
                    "#6b6ecf", "#b5cf6b", "#e7969c"]

plt.rcParams.update({
    "figure.dpi": 110, "savefig.dpi": 110, "font.size": 10, "axes.titlesize": 11,
    "axes.labelsize": 10, "legend.fontsize": 8.5, "axes.grid": True, "grid.alpha": 0.3,
})


# Families as report.csv declares them (its `family` column), when it has one: the names below are
# only the fallback for older reports. A hybrid (graph plus other inputs) is not a baseline.
FAMILY = {}


def set_families(pairs):
    """Remembers report.csv's (method, family) pairs for is_baseline."""
    FAMILY.update({m: f for m, f in pairs if f})


def is_baseline(method):
    if method in FAMILY:
        return FAMILY[method] == "baseline"
    m = method.lower()
    return any(m == b or m.startswith(b + "_") or m.startswith(b + ":") or m.startswith(b + " ")
               for b in BASELINES)


def label(row):
    """A method's name on the page: method, then its feature set and learner when they say more."""
    text = row["method"]
    feats = row.get("features", "")
    if feats and feats != row["method"]:
        text += f" [{feats}]"
    if row.get("learner", ""):
        text += f" ({row['learner']})"
    return text


class Palette:
    """Gives every method label the same colour and line style in every figure of one page."""

    def __init__(self, labels_with_methods):
        self.colour, self.dashed = {}, {}
        g = b = 0
        for lab, method in sorted(set(labels_with_methods), key=lambda t: (is_baseline(t[1]), t[0])):
            if is_baseline(method):
                self.colour[lab] = BASELINE_COLOURS[b % len(BASELINE_COLOURS)]
                b += 1
            else:
                self.colour[lab] = GRAPH_COLOURS[g % len(GRAPH_COLOURS)]
                g += 1
            self.dashed[lab] = is_baseline(method)

    def line(self, lab):
        """Keyword arguments for plot(): solid with round markers for graph methods, dashed with
        square markers for baselines."""
        base = self.dashed.get(lab, False)
        return dict(color=self.colour.get(lab, "black"), linestyle="--" if base else "-",
                    marker="s" if base else "o", markersize=4, linewidth=1.8)


def save(fig, path):
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
