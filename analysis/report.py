#!/usr/bin/python3
"""cnndyn analysis page: `analysis/report.py OUTDIR` reads what `cnndyn run` wrote into OUTDIR and
writes OUTDIR/report/index.html with its PNG figures beside it.

Run it with Debian's python3 (/usr/bin/python3): it needs python3-matplotlib, python3-pandas and
python3-numpy from Debian. Exit status: 0 page written; 1 bad or missing input (one line on stderr,
no page written); 2 bad command line; 3 internal error.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import load  # noqa: E402
from load import InputError  # noqa: E402
from page import Page, quantiles  # noqa: E402


def build(outdir, dest, budget=None, graph_model=None, log=lambda s: None, cnndyn=None):
    """Writes every figure and index.html into the folder `dest`. Raises InputError on bad input."""
    models = load.models(outdir)
    curves = load.curves(outdir)
    features, columns = load.features(outdir)
    preds = load.predictions(outdir)
    report = load.report(outdir)
    timing = load.timing(outdir)
    # matplotlib only once the input is known to be good: bad input fails in a fraction of a second.
    import graph
    import population
    cnndyn = graph.find_cnndyn(cnndyn)
    import prediction
    from population import Skip
    from style import Palette, is_baseline, label, set_families

    set_families(zip(report["method"], report["family"]))
    report["label"] = [label(r) for _, r in report.iterrows()]
    pred_labels = [(label(r), r["method"]) for _, r in
                   preds[["method", "features", "learner"]].drop_duplicates().iterrows()]
    palette = Palette(list(zip(report["label"], report["method"])) + pred_labels)
    budgets = sorted(report["epochs"].unique())
    if budget is None:
        budget = budgets[-1]
    elif budget not in budgets:
        raise InputError(f"--budget {budget}: report.csv has budgets {', '.join(map(str, budgets))}")
    if graph_model is not None and graph_model not in set(models["model"]):
        raise InputError(f"--model {graph_model}: no such model in models.csv")

    n = len(models)
    n_div = int((models["status"] == "diverged").sum())
    n_pruned = int((models["status"] == "pruned").sum())
    prunes = models["pruned_epoch"].notna().any()
    setup = load.pruning(outdir, models) if prunes else None
    page = Page(f"cnndyn analysis: {os.path.basename(os.path.abspath(outdir))}")
    facts = [("run folder", os.path.abspath(outdir)),
             ("models", f"{n} ({n - n_div - n_pruned} trained, {n_div} diverged"
                        + (f", {n_pruned} pruned" if n_pruned else "") + ")"),
             ("epochs", f"{int(curves['epoch'].max())} per model" + (" (pruned models fewer)" if n_pruned else "")),
             ("final test accuracy", quantiles(models["final_test_accuracy"])),
             ("prediction budgets", ", ".join(f"k = {b}" for b in budgets))]
    if setup is not None:
        facts.append(("pruning", f"policy {setup['policy']}" + (", shadow mode (every model trained to the end)"
                                                                 if setup["shadow"] else "")))
    if timing is not None and len(timing):
        facts.append(("training time", f"{timing['train_seconds'].sum():.1f} s summed over models "
                      f"(graph and statistics {timing['graph_seconds'].sum():.1f} s)"))
    page.facts(facts)

    def figure(name, title, caption, fn, *args):
        t0 = time.time()
        try:
            fn(*args, os.path.join(dest, name))
            page.h(3, title)
            page.figure(name, caption)
            log(f"{name}: {time.time() - t0:.1f} s")
        except Skip as s:
            page.h(3, title)
            page.note(f"Not drawn: {s}")
            log(f"{name}: skipped: {s}")

    page.h(2, "The population")
    figure("learning_curves.png", "Learning curves",
           "Learning curves of every model, coloured by final test accuracy. Diverged models are "
           "dotted red, with an X at their last finite epoch."
           + (" Models the run pruned are dashed orange, with a square at the epoch it stopped them." if n_pruned else "")
           + (" An orange circle marks where the shadow-mode policy would have stopped a model that trained on."
              if setup is not None and setup["shadow"] else ""), population.learning_curves, models, curves)
    figure("grid.png", "Accuracy over the grid", "Final test accuracy over the hyperparameters that vary in the job spec "
           "(mean over the seeds of each configuration; diverged and pruned seeds have no final accuracy and are "
           "left out, grey cells have none for any seed and say why).", population.grid, models)
    if setup is not None:
        early_stopping_section(page, figure, models, setup)

    page.h(2, "Predictions against the baselines")
    figure("metrics_by_budget.png", "Prediction quality against the epoch budget",
           "Left: within-fold Kendall tau of the best graph-only, baseline and hybrid rows, each chosen by "
           "nested selection (docs/prediction.md), with the 95% bootstrap interval over configurations as "
           "a band. Right: best graph-only minus best baseline, paired on the same folds and resamples; a "
           "filled dot marks a budget whose interval excludes 0.", prediction.metrics_by_budget, report, palette)
    figure("metrics_detail.png", "Every row behind the headlines",
           "Within-fold Kendall tau of every method and learner: one panel per method (title coloured by "
           "family), one line per learner across the budgets; budgetless baselines (hparams, majority) "
           "are flat dotted lines. The tables at the end hold every number.", prediction.metrics_detail, report, palette)
    figure(f"predicted_vs_actual_k{budget}.png", f"Predicted against actual, k = {budget}",
           f"Predicted against actual final test accuracy after {budget} epochs, one panel per "
           "method; tau and R^2 as report.csv gives them.",
           prediction.predicted_vs_actual, preds, report, budget, palette)
    figure("prune_tradeoff.png", "Early stopping at equal compute",
           "Each policy sweeps the fraction of models it stops (0.1 to 0.9); its regret (best final "
           "accuracy minus the best among the models trained to the end) is drawn against the share of "
           "epochs it saves, so policies are compared at the same compute. Prune stops the models a "
           "family's nested best predicts worst after k epochs; successive halving stops the same share "
           "by validation accuracy at k, 2k, 4k, ...; random stopping is its exact expectation, the "
           "floor. Bands: 95% bootstrap intervals over configurations. The box gives graph-only pruning "
           "minus each policy, averaged over the epochs saved both reach (negative: graph-only loses less).",
           prediction.prune_tradeoff, load.early_stop(outdir), report)

    page.h(2, "The graphs")
    picks = population.pick_models(models)
    figure("layer_statistics.png", "Per-layer statistics over epochs",
           "Weighted degree and eigenvector centrality of each layer's nodes over the epochs, for "
           f"the best (model {picks['best']}), median (model {picks['median']}) and worst "
           f"(model {picks['worst']}) model, from features.csv"
           + (" (models the run pruned are not ranked: they have no final accuracy)." if n_pruned else "."),
           population.layer_statistics, models, features, columns)
    info = models.set_index("model")
    outcomes = {m: population.outcome(info, m) for m in info.index}
    figure("layer_distributions.png", "Per-layer distributions from the snapshots",
           "Weighted degree and eigenvector centrality of every node, per layer and epoch, for the "
           "same three models, as `cnndyn stats` computes them on the snapshots.",
           graph.layer_distributions, outdir, picks, outcomes, cnndyn)
    gm = picks["best"] if graph_model is None else graph_model
    try:
        eps = graph.check_model_snapshots(outdir, gm)
        k = budget if budget in eps else eps[-1]
        figure(f"graph_model{gm}.png", f"The graph of model {gm}",
               f"The graph of model {gm} at epoch {eps[0]} and epoch {k}: nodes by node group, edge "
               "width by weight (docs/graph.md), as `cnndyn graph --export` writes it "
               "(BatchNorm folded, residual edges included).",
               graph.draw, outdir, gm, [eps[0], k], outcomes[gm], cnndyn)
    except Skip as s:
        page.h(3, "The graph")
        page.note(f"Not drawn: {s}")

    page.h(2, "Report tables")
    page.p("Every number exactly as report.csv holds it (mean, then ± the standard deviation over "
           "repeats when there are several). Baselines in italics.")
    page.report_tables(report, is_baseline, label)

    with open(os.path.join(dest, "index.html"), "w") as f:
        f.write(page.html())


def early_stopping_section(page, figure, models, setup):
    """The run's own [pruning]: epochs spent against the best model found, as a table and a figure."""
    import stopping
    from population import Skip
    page.h(2, "Early stopping during the run")
    try:
        none, policy, regret = stopping.summary(models, setup)
    except Skip as s:
        page.note(f"Not computed: {s}")
        return
    page.p(f"The run's [pruning] policy is {setup['policy']}. Compute is counted in epochs (epochs_trained of "
           "models.csv; a model the policy stopped counts its epochs up to pruned_epoch), as a share of "
           f"training all {len(models)} models for {setup['epochs']} epochs. The best accuracy found is the "
           "largest final test accuracy of a model trained on, or test accuracy at the pruned epoch of a "
           "model the policy stopped.")
    num = lambda v, f: "" if v is None or not np.isfinite(v) else format(v, f)
    rows = []
    for key, side in (("none", none), ("policy", policy)):
        if side is None:
            rows.append(["no pruning", "unknown", "unknown", "unknown", "live run: not measured"])
            continue
        best = "" if side["model"] is None else f"model {side['model']} ({side['how']})"
        rows.append([side["name"], (str(side["epochs"]), f"{key}|epochs"),
                     (num(side["fraction"], ".4f"), f"{key}|fraction"), (num(side["best"], ".4f"), f"{key}|best"),
                     best])
    page.table(["run as", "epochs trained", f"share of {policy['full']} epochs", "best accuracy found", "best model"],
               rows)
    if regret is None:
        page.note("A live run trains only what its policy keeps: the best accuracy without pruning, and so the "
                  "regret, are unknown here. Run the same job with [pruning] shadow = true (or policy = none) "
                  "to measure them.")
    else:
        page.table(["regret (best without pruning minus best with it)", "epochs saved (share)"],
                   [[(num(regret, ".4f"), "regret"), (num(none["fraction"] - policy["fraction"], ".4f"), "saved")]])
    figure("early_stopping_run.png", "Compute against the best model found",
           "Left: the best test accuracy found against the share of epochs spent, for the run's policy and, in "
           "shadow mode, for training everyone to the end; the vertical gap is the regret. Right: the epoch at "
           "which the policy stopped (or, in shadow mode, would have stopped) each model.",
           stopping.figure, models, setup)


def main(argv):
    ap = argparse.ArgumentParser(prog="analysis/report.py",
                                 description="Write OUTDIR/report/index.html from a cnndyn run.")
    ap.add_argument("outdir", help="folder a `cnndyn run ... --out OUTDIR` wrote")
    ap.add_argument("--budget", type=int, help="epochs seen for the predicted-vs-actual panels "
                    "(default: the largest budget in report.csv)")
    ap.add_argument("--model", type=int, help="model whose graph is drawn (default: the best)")
    ap.add_argument("--cnndyn", help="the cnndyn executable the graph figures call (default: cnndyn "
                    "on PATH, else this checkout's build/cnndyn)")
    ap.add_argument("--quiet", action="store_true", help="print only the page's path")
    args = ap.parse_args(argv)
    out = args.outdir.rstrip("/") or "/"
    t0 = time.time()
    log = (lambda s: None) if args.quiet else (lambda s: print(f"  {s}", file=sys.stderr))
    if not os.path.isdir(out):
        print(f"analysis: {out}: not a folder (expected the output folder of `cnndyn run`)",
              file=sys.stderr)
        return 1
    final = os.path.join(out, "report")
    try:
        tmp = tempfile.mkdtemp(prefix=".report.tmp-", dir=out)
    except OSError as err:
        print(f"analysis: {out}: cannot write: {err}", file=sys.stderr)
        return 1
    try:
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; the page is for reading
        build(out, tmp, args.budget, args.model, log, args.cnndyn)
        old = None
        if os.path.exists(final):
            old = tempfile.mkdtemp(prefix=".report.old-", dir=out)
            os.rename(final, os.path.join(old, "report"))
        os.rename(tmp, final)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    except InputError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        print(f"analysis: {err}", file=sys.stderr)
        return 1
    except Exception:  # a bug, not bad input: show where, leave nothing behind
        shutil.rmtree(tmp, ignore_errors=True)
        traceback.print_exc()
        print("analysis: internal error (above); no page written", file=sys.stderr)
        return 3
    if not args.quiet:
        print(f"analysis: page written in {time.time() - t0:.1f} s", file=sys.stderr)
    print(os.path.join(final, "index.html"))
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main(sys.argv[1:]))
