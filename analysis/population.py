"""Figures of the population: learning curves, accuracy over the grid, per-layer graph statistics."""
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
from matplotlib import cm, colors
from matplotlib.collections import LineCollection

from style import save


class Skip(Exception):
    """A figure the data cannot support: the page shows this note in its place."""


# Columns of models.csv that are not hyperparameters (docs/formats.md, "models.csv").
NOT_HYPER = {"model", "config", "replicate", "seed", "architecture", "status", "diverged_epoch", "epochs_trained",
             "final_val_loss", "final_val_accuracy", "final_test_accuracy", "label", "pruned_epoch",
             "pruned_test_accuracy"}
PRUNED_COLOUR = "#ff7f0e"


def outcome(info, m):
    """How model m ended, in words for a legend: its final accuracy, or why it has none."""
    acc = info.at[m, "final_test_accuracy"]
    if np.isfinite(acc):
        return f"final accuracy {acc:.3f}"
    if info.at[m, "status"] == "pruned":
        return f"pruned at epoch {int(info.at[m, 'pruned_epoch'])}"
    return "diverged"


def _acc_norm(models):
    acc = models["final_test_accuracy"].dropna()
    lo, hi = (acc.min(), acc.max()) if len(acc) else (0.0, 1.0)
    if hi - lo < 1e-9:
        lo, hi = lo - 0.05, hi + 0.05
    return colors.Normalize(lo, hi), cm.viridis


def learning_curves(models, curves, path):
    norm, cmap = _acc_norm(models)
    has_val = curves["val_accuracy"].notna().any()
    loss = curves["train_loss"][curves["train_loss"] > 0]
    wide = len(loss) and loss.max() / loss.min() > 30
    panels = [("train_loss", "training loss (cross-entropy" + (", log scale)" if wide else ")"), wide)]
    if has_val:
        panels = [("val_accuracy", "validation accuracy (fraction correct)", False)] + panels
    fig, axes = plt.subplots(1, len(panels), figsize=(5.6 * len(panels) + 1, 4.4), squeeze=False,
                             layout="constrained")
    axes = axes[0]
    by_model = {m: g.sort_values("epoch") for m, g in curves.groupby("model")}
    info = models.set_index("model")
    # Best models last, so they sit on top of the bundle.
    order = info["final_test_accuracy"].fillna(-1).sort_values().index
    n_div = 0
    for ax, (col, ylabel, logy) in zip(axes, panels):
        lines, line_colours = [], []     # one LineCollection: thousands of models stay fast
        for m in order:
            g = by_model.get(m)
            if g is None:
                continue
            g = g[g[col].notna()]
            acc = info.at[m, "final_test_accuracy"]
            status = info.at[m, "status"]
            if status == "pruned":   # stopped by the run's [pruning] policy: no final accuracy to colour by
                ax.plot(g["epoch"], g[col], color=PRUNED_COLOUR, linestyle="--", linewidth=1.0, alpha=0.8,
                        zorder=1)
                if len(g):
                    ax.plot(g["epoch"].iloc[-1], g[col].iloc[-1], marker="s", color=PRUNED_COLOUR,
                            markersize=5, linestyle="none", zorder=3)
                continue
            shadow = info.at[m, "pruned_epoch"]
            if np.isfinite(shadow) and status == "ok":
                # shadow mode: where the policy would have stopped this model, which trained on
                at = g[g["epoch"] == int(shadow)]
                if len(at):
                    ax.plot(at["epoch"], at[col], marker="o", markerfacecolor="none", color=PRUNED_COLOUR,
                            markersize=7, linestyle="none", zorder=4)
            if status == "diverged":
                ax.plot(g["epoch"], g[col], color="#d62728", linestyle=":", linewidth=1.2, zorder=1)
                if len(g):
                    ax.plot(g["epoch"].iloc[-1], g[col].iloc[-1], marker="X", color="#d62728",
                            markersize=8, linestyle="none", zorder=3)
            elif len(g):
                lines.append(np.column_stack([g["epoch"], g[col]]))
                line_colours.append(cmap(norm(acc)) if np.isfinite(acc) else (0.5, 0.5, 0.5, 1))
        ax.add_collection(LineCollection(lines, colors=line_colours, linewidths=1.1, alpha=0.85,
                                         zorder=2))
        ax.autoscale_view()
        ax.set_xlabel("epoch (0 = initial weights)")
        ax.set_ylabel(ylabel)
        if logy:
            ax.set_yscale("log")
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    n_div = int((info["status"] == "diverged").sum())
    n_pruned = int((info["status"] == "pruned").sum())
    n_shadow = int(((info["status"] != "pruned") & info["pruned_epoch"].notna()).sum())
    handles = [plt.Line2D([], [], color=cmap(0.8), label=f"trained ({len(info) - n_div - n_pruned} models)")]
    if n_div:
        handles.append(plt.Line2D([], [], color="#d62728", linestyle=":", marker="X",
                                  label=f"diverged ({n_div}; X = last finite epoch)"))
    if n_pruned:
        handles.append(plt.Line2D([], [], color=PRUNED_COLOUR, linestyle="--", marker="s",
                                  label=f"pruned ({n_pruned}; square = the epoch it was stopped)"))
    if n_shadow:
        handles.append(plt.Line2D([], [], color=PRUNED_COLOUR, linestyle="none", marker="o",
                                  markerfacecolor="none",
                                  label=f"circle: where the policy would have stopped it ({n_shadow}, shadow mode)"))
    fig.legend(handles=handles, loc="upper center", ncol=2, bbox_to_anchor=(0.45, 0.0), frameon=False)
    fig.colorbar(cm.ScalarMappable(norm=norm, cmap=cmap), ax=list(axes),
                 label="final test accuracy (fraction)")
    fig.suptitle(f"Learning curves of all {len(info)} models, coloured by final test accuracy")
    save(fig, path)


def hyperparameters(models):
    """Varied hyperparameter columns, in file order."""
    out = []
    for c in models.columns:
        if c in NOT_HYPER or c.startswith("final_"):
            continue
        if models[c].dtype == object:
            as_num = pd.to_numeric(models[c].replace("", np.nan), errors="coerce")
            if as_num.notna().sum() == models[c].replace("", np.nan).notna().sum():
                models[c] = as_num
        vals = models[c].dropna()
        if vals.nunique() > 1:
            out.append(c)
    return out


def _fmt(v):
    if isinstance(v, str):
        return v
    return f"{v:g}"


def grid(models, path):
    models = models.copy()
    hp = hyperparameters(models)
    if not hp:
        raise Skip("no hyperparameter varies across the population: no grid to show")
    acc = "final_test_accuracy"
    # Only models with a final accuracy enter a cell: a diverged or pruned model has none.
    ok = models[models[acc].notna()].copy()
    if ok.empty:
        raise Skip("no model has a final test accuracy (every one diverged or was pruned)")
    norm, cmap = _acc_norm(models)
    gridlike = [c for c in hp if ok[c].nunique() <= 24]
    if len(gridlike) > 2:
        # Show the two axes that move accuracy most (spread of their per-value means).
        spread = {c: ok.groupby(c)[acc].mean().std() for c in gridlike}
        keep = sorted(gridlike, key=lambda c: -np.nan_to_num(spread[c]))[:2]
        gridlike = [c for c in gridlike if c in keep]
    if len(gridlike) >= 2:
        x, y = gridlike[0], gridlike[1]
        others = [c for c in hp if c not in (x, y)]
        # Cells of the full grid: one where no model has a final accuracy says why.
        why = models.groupby([y, x])["status"].agg(lambda s: "pruned" if (s == "pruned").all()
                                                   else "diverged" if (s == "diverged").all()
                                                   else "no final\naccuracy").unstack(x)
        table = ok.groupby([y, x])[acc].mean().unstack(x).reindex(index=why.index, columns=why.columns)
        fig, ax = plt.subplots(figsize=(max(5.5, 0.75 * table.shape[1] + 2.5),
                                        max(3.5, 0.45 * table.shape[0] + 1.8)))
        grey = cmap.copy()
        grey.set_bad("#d9d9d9")                  # no model of the cell has a final accuracy
        im = ax.imshow(np.ma.masked_invalid(table.to_numpy()), cmap=grey, norm=norm, aspect="auto",
                       origin="lower")
        ax.set_xticks(range(table.shape[1]), [_fmt(v) for v in table.columns], rotation=45)
        ax.set_yticks(range(table.shape[0]), [_fmt(v) for v in table.index])
        ax.grid(False)
        ax.set_xlabel(x.replace("_", " "))
        ax.set_ylabel(y.replace("_", " "))
        vals = table.to_numpy()
        for i in range(vals.shape[0]):
            for j in range(vals.shape[1]):
                v = vals[i, j]
                text = why.iat[i, j] if not np.isfinite(v) else f"{v:.2f}"
                shade = norm(v) if np.isfinite(v) else 1
                ax.text(j, i, text, ha="center", va="center", fontsize=8,
                        color="white" if shade < 0.55 else "black")
        fig.colorbar(im, ax=ax, label="final test accuracy (fraction), mean over seeds")
        title = "Final test accuracy over the grid"
        if others:
            title += f"\n(averaged over {', '.join(others)})"
        ax.set_title(title)
        save(fig, path)
        return
    x = hp[0]
    names = ok_x = None
    if ok[x].dtype == object:
        # A named hyperparameter (a family, say): one column of points per value.
        names = sorted(models[x].dropna().unique())
        ok_x = {n: i for i, n in enumerate(names)}
        ok[x] = ok[x].map(ok_x)
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    if names is not None:
        ax.set_xticks(range(len(names)), names)
    sc = ax.scatter(ok[x], ok[acc], c=ok[acc], cmap=cmap, norm=norm, s=28, edgecolor="black",
                    linewidth=0.4, label="one model")
    div = models[models["status"] == "diverged"]
    if len(div):
        ax.scatter(div[x].map(ok_x) if names is not None else div[x], np.zeros(len(div)), marker="X",
                   color="#d62728", s=50, label="diverged (no accuracy)")
    pr = models[models["status"] == "pruned"]
    if len(pr):
        ax.scatter(pr[x].map(ok_x) if names is not None else pr[x], pr["pruned_test_accuracy"], marker="s",
                   facecolor="none", edgecolor=PRUNED_COLOUR, s=30,
                   label="pruned: test accuracy at its pruned epoch (not final)")
    if names is None and (models[x] > 0).all() and models[x].max() / models[x].min() > 50:
        ax.set_xscale("log")
    means = ok.groupby(x)[acc].mean()
    if len(means) <= 64:
        ax.plot(means.index, means.to_numpy(), color="black", linewidth=1, label="mean over models")
    ax.set_xlabel(x.replace("_", " "))
    ax.set_ylabel("final test accuracy (fraction)")
    ax.set_title(f"Final test accuracy against {x.replace('_', ' ')}")
    ax.legend(loc="best")
    fig.colorbar(sc, ax=ax, label="final test accuracy (fraction)")
    save(fig, path)


def pick_models(models):
    """Best, median and worst model by final test accuracy (diverged ones count as worst). Models the
    run pruned are left out when any other is there: they were stopped, not ranked at the end."""
    kept = models[models["status"] != "pruned"]
    acc = (kept if len(kept) else models).set_index("model")["final_test_accuracy"].fillna(-1)
    acc = acc.sort_values(kind="stable")
    ids = acc.index.to_list()
    return {"best": ids[-1], "median": ids[len(ids) // 2], "worst": ids[0]}


PICK_COLOURS = {"best": "#1a9850", "median": "#4575b4", "worst": "#d73027"}


def layer_statistics(models, features, columns, path):
    """Node statistics per node group over epochs, from the columns features_columns.csv describes
    (whole graph, then each group; weight statistics and edge blocks are left out)."""
    g = columns[columns["scope"].isin(["all", "group"]) & ~columns["statistic"].isin(["weight", "bias"])]
    stats = sorted(set(g["statistic"]), key=lambda s: (s != "degree", s))
    scope_of = ["all" if sc == "all" else ly for sc, ly in zip(g["scope"], g["layer"])]
    scopes = list(dict.fromkeys(scope_of))
    lookup = {(st, sc, a): c for st, sc, a, c in zip(g["statistic"], scope_of, g["aggregator"], g["column"])}
    aggs = set(g["aggregator"])
    if not stats:
        raise Skip("features.csv holds no graph statistics")
    picks = pick_models(models)
    info = models.set_index("model")
    fig, axes = plt.subplots(len(stats), len(scopes), figsize=(2.6 * len(scopes) + 0.6,
                             2.6 * len(stats) + 0.9), squeeze=False, sharex=True)
    for r, st in enumerate(stats):
        for k, sc in enumerate(scopes):
            ax = axes[r][k]
            have = {a: lookup[st, sc, a] for a in ("mean", "median", "min", "max", "q25", "q75", "std")
                    if (st, sc, a) in lookup}
            centre = have.get("median", have.get("mean"))
            if centre is None:
                ax.set_visible(False)
                continue
            for name, m in picks.items():
                g = features[features["model"] == m].sort_values("epoch")
                c = PICK_COLOURS[name]
                ax.plot(g["epoch"], g[centre], color=c, marker="o", markersize=3, linewidth=1.5)
                if "q25" in have and "q75" in have:
                    ax.fill_between(g["epoch"], g[have["q25"]], g[have["q75"]], color=c, alpha=0.25,
                                    linewidth=0)
                elif "std" in have and "mean" in have:
                    ax.fill_between(g["epoch"], g[have["mean"]] - g[have["std"]],
                                    g[have["mean"]] + g[have["std"]], color=c, alpha=0.2, linewidth=0)
                if "min" in have and "max" in have:
                    ax.plot(g["epoch"], g[have["min"]], color=c, linestyle=":", linewidth=0.9)
                    ax.plot(g["epoch"], g[have["max"]], color=c, linestyle=":", linewidth=0.9)
            if r == 0:
                ax.set_title(sc if sc != "all" else "all nodes")
            if k == 0:
                unit = "weighted degree\n(sum of edge weights)" if st == "degree" else \
                    f"{st} centrality\n(largest entry = 1)" if st == "eigenvector" else st
                ax.set_ylabel(unit)
            if r == len(stats) - 1:
                ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    handles = []
    for name, m in picks.items():
        handles.append(plt.Line2D([], [], color=PICK_COLOURS[name], marker="o",
                                  label=f"{name}: model {m}, {outcome(info, m)}"))
    handles.append(plt.Line2D([], [], color="grey", label="line: median over the layer's nodes"
                              if "median" in aggs else "line: mean over nodes"))
    quart = "q25" in aggs and "q75" in aggs
    band = "band: 25-75% of nodes" if quart else "band: mean ± std over nodes" if "std" in aggs else None
    if band:
        handles.append(plt.Rectangle((0, 0), 1, 1, color="grey", alpha=0.25, label=band))
    handles.append(plt.Line2D([], [], color="grey", linestyle=":", label="dotted: min and max"))
    fig.legend(handles=handles, loc="lower center", ncol=3, bbox_to_anchor=(0.5, -0.02 - 0.02 *
               (len(handles) > 3)), frameon=False)
    fig.suptitle("Node statistics per layer over epochs: best, median and worst model")
    fig.tight_layout(rect=(0, 0.09, 1, 1))
    save(fig, path)
