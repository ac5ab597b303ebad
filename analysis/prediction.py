"""Figures of the predictors against the baselines, from predictions.csv and report.csv."""
import math

import numpy as np
import matplotlib.pyplot as plt

from population import Skip
from style import is_baseline, label, save


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
        kind = "baseline" if palette.dashed.get(lab) else "graph"
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
    fig.tight_layout()
    save(fig, path)


def _metric_lines(ax, report, metric, palette, task=None):
    r = report[report["metric"] == metric]
    if task is not None:
        r = r[r["task"] == task]
    drawn = 0
    for lab, g in sorted(r.groupby("label"), key=lambda t: (palette.dashed.get(t[0], False), t[0])):
        g = g.sort_values("epochs")
        if g["mean"].notna().sum() == 0:
            continue
        st = palette.line(lab)
        ax.plot(g["epochs"], g["mean"], label=lab, **st)
        sd = g["std"].fillna(0).to_numpy()
        if (sd > 0).any():
            ax.fill_between(g["epochs"], g["mean"] - sd, g["mean"] + sd, color=st["color"], alpha=0.15,
                            linewidth=0)
        drawn += 1
    return r, drawn


def _classification_task(report):
    tasks = [t for t in report.loc[report["metric"] == "accuracy", "task"].unique()]
    for t in tasks:
        if "median" in t:
            return t
    return tasks[0] if tasks else None


def metrics_by_budget(report, palette, path):
    r = report[report["subset"] == main_subset(report)]
    budgets = sorted(r["epochs"].unique())
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.4))
    ax = axes[0]
    tau_rows = r[r["metric"] == "kendall_tau"]
    task = None
    if tau_rows["task"].nunique() > 1:
        task = "regression" if "regression" in tau_rows["task"].unique() else tau_rows["task"].iloc[0]
    _, n1 = _metric_lines(ax, r, "kendall_tau", palette, task)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_xlabel("epochs seen by the predictor (k)")
    ax.set_ylabel("Kendall tau-b, predicted vs actual (-1..1)")
    ax.set_title("Ranking quality" + (f" ({task})" if task else ""))
    ax = axes[1]
    ctask = _classification_task(r)
    _, n2 = _metric_lines(ax, r, "accuracy", palette, ctask)
    maj = r[(r["metric"] == "majority_rate") & ((r["task"] == ctask) if ctask is not None else True)]
    if len(maj):
        m = maj.groupby("epochs")["mean"].mean()
        ax.plot(m.index, m.to_numpy(), color="black", linestyle=":", linewidth=1.6,
                label="majority class (always guess the larger class)")
    ax.set_xlabel("epochs seen by the predictor (k)")
    ax.set_ylabel("classification accuracy (fraction)")
    ax.set_title("Above/below median" if not ctask or "median" in ctask else f"Classes: {ctask}")
    if n1 + n2 == 0:
        plt.close(fig)
        raise Skip("report.csv has neither kendall_tau nor accuracy rows")
    for a in axes:
        a.set_xticks(budgets)
        if len(budgets) == 1:
            a.set_xlim(budgets[0] - 1, budgets[0] + 1)
    h, l = axes[1].get_legend_handles_labels()
    h0, l0 = axes[0].get_legend_handles_labels()
    for hh, ll in zip(h0, l0):
        if ll not in l:
            h.append(hh)
            l.append(ll)
    fig.legend(h, l, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False,
               title="solid: graph methods\ndashed: baselines")
    note = "shaded: mean ± std over repeats" if (r["std"].fillna(0) > 0).any() else \
        "one cross-validation run: no spread to shade"
    if len(budgets) == 1:
        note += f"; one budget only, k = {budgets[0]}"
    fig.suptitle(f"Prediction quality against the epoch budget ({note})")
    fig.tight_layout()
    save(fig, path)


def prune_tradeoff(early, palette, path):
    """Epochs saved against the regret of the best model kept, one line per policy and predictor
    (prune mode by the best graph method and by the best baseline, successive halving), one point
    per budget k, from early_stop.csv."""
    if early is None or early.empty:
        raise Skip("no early_stop.csv: the early-stopping comparison was not run")
    fig, ax = plt.subplots(figsize=(6.8, 4.6))
    # Lines often coincide (every prune policy stops the same fraction): distinct markers and
    # sizes keep each visible; successive halving, the reference, is dashed.
    markers = ["o", "s", "^", "D", "v"]
    for i, ((policy, predictor), d) in enumerate(early.groupby(["policy", "predictor"], sort=True)):
        lab = policy.replace("_", " ") + (f" by {predictor}" if predictor else "")
        d = d.sort_values("epochs")
        ax.plot(d["epochs_saved"], d["regret_of_best_kept"], label=lab, color=f"C{i}",
                linestyle="--" if policy != "prune" else "-", marker=markers[i % len(markers)],
                markersize=9 - 2 * (i % 3), linewidth=1.6, alpha=0.85)
        for _, row in d.iterrows():
            ax.annotate(f"k={int(row['epochs'])}", (row["epochs_saved"], row["regret_of_best_kept"]),
                        textcoords="offset points", xytext=(4, 4), fontsize=7.5)
    ax.set_xlabel("epochs saved (fraction of training every model to the end)")
    ax.set_ylabel("regret of the best model kept (accuracy)")
    ax.set_title("Early stopping: prune mode beside successive halving\n"
                 "(lower right is better: more saved, less lost)")
    ax.legend(loc="best", fontsize=8)
    save(fig, path)
