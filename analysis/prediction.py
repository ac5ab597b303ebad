"""Figures of the predictors against the baselines, from predictions.csv and report.csv."""
import math

import numpy as np
import matplotlib.pyplot as plt

from population import Skip
from style import FAMILY, is_baseline, label, save


def kendall_tau_b(x, y):
    """Kendall tau-b with ties, O(n^2): only used when report.csv has no tau for a panel."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    n = len(x)
    if n < 2:
        return float("nan")
    dx = np.sign(x[:, None] - x[None, :])
    dy = np.sign(y[:, None] - y[None, :])
    iu = np.triu_indices(n, 1)
    s = (dx * dy)[iu].sum()
    tx = (dx[iu] != 0).sum()
    ty = (dy[iu] != 0).sum()
    return float(s / math.sqrt(tx * ty)) if tx and ty else float("nan")


def r2(actual, predicted):
    a, p = np.asarray(actual, float), np.asarray(predicted, float)
    ss = ((a - a.mean()) ** 2).sum()
    return float(1 - ((a - p) ** 2).sum() / ss) if ss > 0 else float("nan")


def main_subset(df):
    """The subset the page's figures show: 'all' when there, else the first one."""
    subsets = [s for s in df["subset"].unique()]
    return "all" if "all" in subsets or not subsets else subsets[0]


def _report_value(report, lab, epochs, metric):
    r = report[(report["label"] == lab) & (report["epochs"] == epochs) & (report["metric"] == metric)]
    r = r[(r["subset"] == main_subset(report)) & r["mean"].notna()]
    if r["task"].nunique() > 1 and (r["task"] == "regression").any():
        r = r[r["task"] == "regression"]
    return float(r["mean"].iloc[0]) if len(r) else None


def predicted_vs_actual(preds, report, budget, palette, path):
    p = preds[preds["epochs"] == budget]
    p = p[p["subset"] == main_subset(p)] if len(p) else p
    if p.empty:
        raise Skip(f"predictions.csv has no rows at {budget} epochs")
    p = p.assign(label=[label(r) for _, r in p.iterrows()])
    # Several repeats of the cross-validation: one point per model, the mean of its predictions.
    p = p.groupby(["label", "method", "model"], as_index=False)[["actual", "predicted"]].mean()
    labs = sorted(p["label"].unique(), key=lambda l: (palette.dashed.get(l, False), l))
    n = len(labs)
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols + 0.4, 3.4 * rows + 0.5), squeeze=False)
    lo = min(p["actual"].min(), p["predicted"].min())
    hi = max(p["actual"].max(), p["predicted"].max())
    pad = 0.04 * (hi - lo if hi > lo else 1)
    lim = (lo - pad, hi + pad)
    for i, lab in enumerate(labs):
        ax = axes[i // cols][i % cols]
        g = p[p["label"] == lab].dropna(subset=["actual", "predicted"])
        st = palette.line(lab)
        ax.scatter(g["actual"], g["predicted"], s=22, color=st["color"], marker=st["marker"],
                   edgecolor="black", linewidth=0.3, alpha=0.85)
        ax.plot(lim, lim, color="grey", linewidth=0.8, linestyle="-", zorder=0)
        tau = _report_value(report, lab, budget, "kendall_tau")
        rr = _report_value(report, lab, budget, "r2")
        src = "report.csv"
        if tau is None or rr is None:
            tau, rr, src = kendall_tau_b(g["actual"], g["predicted"]), r2(g["actual"], g["predicted"]), \
                "computed here"
        ax.text(0.03, 0.97, f"tau = {tau:.3f}\nR$^2$ = {rr:.3f}", transform=ax.transAxes, va="top",
                fontsize=9, bbox=dict(facecolor="white", alpha=0.85, edgecolor="none"))
        method = p.loc[p["label"] == lab, "method"].iloc[0]
        kind = FAMILY.get(method) or ("baseline" if palette.dashed.get(lab) else "graph")
        ax.set_title(f"{lab}\n({kind}, {len(g)} models)", fontsize=9.5, color=st["color"])
        ax.set_xlim(lim)
        ax.set_ylim(lim)
        ax.set_aspect("equal")
        ax.set_xlabel("actual final test accuracy")
        if i % cols == 0:
            ax.set_ylabel("predicted (out of fold)")
    for j in range(n, rows * cols):
        axes[j // cols][j % cols].set_visible(False)
    fig.suptitle(f"Predicted against actual final accuracy, {budget} epochs seen "
                 "(grey line: perfect prediction)")
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.45 / (3.4 * rows + 0.5)))  # room for the title above the panels' own
    save(fig, path)


# The headline rows of report.csv (nested best of each family) and the early-stopping policies:
# one fixed look each, so the two figures read alike.
HEADLINES = [("best_graph", "best graph-only", "#1f77b4", "-", "o"),
             ("best_baseline", "best baseline", "#404040", "--", "s"),
             ("best_hybrid", "best hybrid (graph + curve)", "#2ca02c", "-.", "^")]
POLICIES = [("prune", "best_graph", "prune by best graph-only", "#1f77b4", "-", "o"),
            ("prune", "best_baseline", "prune by best baseline", "#404040", "--", "s"),
            ("prune", "best_hybrid", "prune by best hybrid", "#2ca02c", "-.", "^"),
            ("successive_halving", "val_acc", "successive halving (val_acc)", "#ff7f0e", "--", "D"),
            ("random", "none", "random stopping (expected)", "black", ":", None)]
NESTED = ("best_graph", "best_baseline", "best_hybrid", "graph_minus_baseline", "preregistered")
TAU = "kendall_tau_within_fold"


def _rows(report, method, metric):
    """One headline's rows on the page's subset, by budget (the regression task when there are two)."""
    r = report[(report["subset"] == main_subset(report)) & (report["method"] == method) & (report["metric"] == metric)]
    if r["task"].nunique() > 1 and (r["task"] == "regression").any():
        r = r[r["task"] == "regression"]
    return r.sort_values("epochs")


def graph_best_budget(report):
    """The budget where the best graph-only row's within-fold tau is highest (the summary's choice
    for early stopping; ties: the smaller k), or None."""
    g = _rows(report, "best_graph", TAU).dropna(subset=["mean"])
    return int(g.sort_values(["mean", "epochs"], ascending=[False, True])["epochs"].iloc[0]) if len(g) else None


def metrics_by_budget(report, palette, path):
    """The comparison at a glance: the nested best of each family with its 95% bootstrap band
    against k, and the paired difference best graph-only minus best baseline with its interval."""
    lines = [(h, _rows(report, h[0], TAU)) for h in HEADLINES]
    lines = [(h, r) for h, r in lines if r["mean"].notna().any()]
    diff = _rows(report, "graph_minus_baseline", TAU)
    if not lines:
        raise Skip("report.csv has no nested best_graph / best_baseline rows (written before issue 16: "
                   "rerun `cnndyn predict DIR`); the per-method figure below has the detail")
    budgets = sorted(set().union(*[set(r["epochs"]) for _, r in lines]))
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), gridspec_kw={"width_ratios": [1.25, 1]})
    ax = axes[0]
    for (method, name, colour, ls, marker), r in lines:
        ax.plot(r["epochs"], r["mean"], color=colour, linestyle=ls, marker=marker, linewidth=2, label=name)
        if r["ci_lo"].notna().any():
            ax.fill_between(r["epochs"], r["ci_lo"], r["ci_hi"], color=colour, alpha=0.1, linewidth=0)
            # the band's edges drawn too: three overlapping fills alone hide whose band is whose
            for edge in ("ci_lo", "ci_hi"):
                ax.plot(r["epochs"], r[edge], color=colour, linestyle=ls, linewidth=0.8, alpha=0.7)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_ylabel("within-fold Kendall tau (-1..1)")
    ax.set_title("Nested best of each family (band: 95% bootstrap interval)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize=9, frameon=False)
    ax = axes[1]
    d = diff.dropna(subset=["mean"])
    if len(d):
        lo, hi = d["ci_lo"].to_numpy(float), d["ci_hi"].to_numpy(float)
        ax.fill_between(d["epochs"], lo, hi, color="#9467bd", alpha=0.15, linewidth=0)
        ax.plot(d["epochs"], d["mean"], color="#9467bd", linewidth=2)
        for k, m, a, b in zip(d["epochs"], d["mean"], lo, hi):
            clear = a > 0 or b < 0
            ax.errorbar([k], [m], yerr=[[m - a], [b - m]] if np.isfinite(a) else None, fmt="o", color="#9467bd",
                        markerfacecolor="#9467bd" if clear else "white", markersize=8, capsize=4)
            ax.annotate("excludes 0" if clear else "includes 0", (k, m), textcoords="offset points", xytext=(7, 5),
                        fontsize=8)
    else:
        ax.text(0.5, 0.5, "no difference row in report.csv", ha="center", transform=ax.transAxes)
    ax.axhline(0, color="black", linewidth=1)
    ax.set_ylabel("graph-only minus baseline, within-fold tau")
    ax.set_title("Paired difference (above 0: graph-only ranks better)\nfilled dot: the 95% interval excludes 0")
    for a in axes:
        a.set_xlabel("epochs seen by the predictor (k)")
        a.set_xticks(budgets)
        if len(budgets) == 1:
            a.set_xlim(budgets[0] - 1, budgets[0] + 1)
    fig.suptitle(f"Prediction quality against the epoch budget, subset {main_subset(report)} "
                 "(rows best_* and graph_minus_baseline of report.csv)")
    fig.tight_layout()
    save(fig, path)


LEARNER_COLOURS = {"linear": "#1f77b4", "svr": "#ff7f0e", "xgboost": "#2ca02c", "score": "#404040",
                   "majority": "#999999"}
FAMILY_TITLE = {"graph": "#1f77b4", "baseline": "#404040", "hybrid": "#2ca02c"}


def metrics_detail(report, palette, path):
    """Every row behind the headlines as small multiples: one panel per method (graph-only first,
    then baselines, then hybrids), one line per learner across the budgets; a budgetless row (k = 0)
    is drawn as a flat dotted line, since it competes at every budget."""
    r = report[(report["subset"] == main_subset(report)) & ~report["method"].isin(NESTED)]
    metric = TAU if (r["metric"] == TAU).any() else "kendall_tau"
    r = r[r["metric"] == metric]
    if r["task"].nunique() > 1 and (r["task"] == "regression").any():
        r = r[r["task"] == "regression"]
    if r.empty or r["mean"].notna().sum() == 0:
        raise Skip(f"report.csv has no {metric} rows")
    fam = r["family"].where(r["family"] != "", r["method"].map(lambda m: "baseline" if is_baseline(m) else "graph"))
    r = r.assign(fam=fam)
    order = {"graph": 0, "baseline": 1, "hybrid": 2}
    methods = sorted(r.groupby("method")["fam"].first().items(), key=lambda t: (order.get(t[1], 3), t[0]))
    budgets = sorted(k for k in r["epochs"].unique() if k > 0) or [0]
    cols = min(len(methods), 5)
    rows = math.ceil(len(methods) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.3 * cols, 2.7 * rows + 0.6), sharex=True, sharey=True,
                             squeeze=False)
    seen = {}
    for i, (method, f) in enumerate(methods):
        ax = axes[i // cols][i % cols]
        for learner, d in sorted(r[r["method"] == method].groupby("learner")):
            d = d.sort_values("epochs").dropna(subset=["mean"])
            colour = LEARNER_COLOURS.get(learner, "#8c564b")
            if (d["epochs"] == 0).all():
                ln, = ax.plot([budgets[0], budgets[-1]], [d["mean"].iloc[0]] * 2, color=colour, linestyle=":",
                              linewidth=1.8)
            else:
                ln, = ax.plot(d["epochs"], d["mean"], color=colour, marker="o", markersize=3.5, linewidth=1.5)
            seen.setdefault(learner or "-", ln)
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_title(f"{method} ({f})", fontsize=9.5, color=FAMILY_TITLE.get(f, "black"))
        ax.set_xticks(budgets)
        if i // cols == rows - 1 or i + cols >= len(methods):
            ax.set_xlabel("epochs seen (k)")
            ax.tick_params(labelbottom=True)
        if i % cols == 0:
            ax.set_ylabel(metric.replace("kendall_tau", "tau").replace("_", " "))
    for j in range(len(methods), rows * cols):
        axes[j // cols][j % cols].set_visible(False)
    fig.legend(list(seen.values()), list(seen.keys()), loc="upper center", bbox_to_anchor=(0.5, 0.0),
               ncol=len(seen), frameon=False, title="learner (dotted: budgetless, the same at every k)")
    fig.suptitle(f"Every row behind the headlines, subset {main_subset(report)}: {metric} "
                 "(mean over repeats), one panel per method")
    fig.tight_layout()
    save(fig, path)


def prune_tradeoff(early, report, path):
    """Early stopping at equal compute: per budget, every policy's regret of the best model kept
    against the epochs it saves (interpolated at common levels, band: 95% bootstrap interval over
    configurations), and graph-only pruning minus each policy averaged over the levels both reach."""
    if early is None:
        raise Skip("no early_stop.csv: the early-stopping comparison was not run")
    eq = early[early["kind"] == "equal_compute"]
    if eq.empty:
        raise Skip("early_stop.csv has no equal-compute rows (written before issue 16: rerun `cnndyn predict DIR`)")
    budgets = sorted(eq["epochs"].unique().astype(int))
    chosen = graph_best_budget(report)
    # two panels a row at most: the page shrinks a wide figure until the difference boxes are unreadable
    cols = min(2, len(budgets))
    rows = math.ceil(len(budgets) / cols)
    fig, grid = plt.subplots(rows, cols, figsize=(6.6 * cols, 5.0 * rows + 0.6), sharey=True, squeeze=False)
    axes = [grid.ravel()[:len(budgets)]]
    for a in grid.ravel()[len(budgets):]:
        a.set_visible(False)
    for i, (ax, k) in enumerate(zip(axes[0], budgets)):
        e = eq[eq["epochs"] == k]
        notes = []
        for policy, predictor, name, colour, ls, marker in POLICIES:
            d = e[(e["policy"] == policy) & (e["predictor"] == predictor)].sort_values("epochs_saved")
            if d.empty:
                continue
            ax.plot(d["epochs_saved"], d["regret"], color=colour, linestyle=ls, marker=marker, markersize=4,
                    linewidth=1.8, label=name)
            ax.fill_between(d["epochs_saved"], d["ci_lo"], d["ci_hi"], color=colour, alpha=0.08, linewidth=0)
            g = early[(early["kind"] == "graph_minus") & (early["epochs"] == k) & (early["policy"] == policy) &
                      (early["predictor"] == predictor)]
            if len(g):
                g = g.iloc[0]
                clear = g["ci_lo"] > 0 or g["ci_hi"] < 0
                notes.append(f"vs {name.split(' (')[0]}: {g['regret']:+.5f} [{g['ci_lo']:+.5f}, {g['ci_hi']:+.5f}]"
                             + (" *" if clear else ""))
        if notes:
            ax.text(0.02, 0.98, "graph-only pruning minus, mean over\nthe shared epochs saved [95%]:\n" +
                    "\n".join(notes), transform=ax.transAxes, va="top", fontsize=8.5, family="monospace",
                    bbox=dict(facecolor="white", alpha=0.85, edgecolor="#cccccc"))
        ax.set_title(f"k = {k}" + (" (where best graph-only ranks best)" if k == chosen else ""),
                     fontweight="bold" if k == chosen else "normal")
        ax.set_xlabel("epochs saved (fraction of training every model to the end)")
        ax.set_xlim(0, min(1.0, eq["epochs_saved"].max() + 0.05))
        if i % cols == 0:
            ax.set_ylabel("regret of the best model kept (accuracy)")
    h, l = axes[0][0].get_legend_handles_labels()
    for a in axes[0][1:]:  # a policy missing at the first budget still gets its entry
        for hh, ll in zip(*a.get_legend_handles_labels()):
            if ll not in l:
                h.append(hh), l.append(ll)
    fig.legend(h, l, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3, fontsize=10, frameon=False)
    fig.suptitle("Early stopping at equal compute, subset all: lower is better at the same epochs saved\n"
                 "(band: 95% bootstrap interval over configurations; * the difference's interval excludes 0)")
    fig.tight_layout()
    save(fig, path)
