"""Early stopping during the run: what a [pruning] policy spent against the best model it found.

Compute is counted in epochs (models.csv's epochs_trained; a diverged model counts the epochs it
completed), as a share of training every model for the job's epochs. A live run knows only the
policy's side. A shadow run trained everyone to the end while recording each decision, so one run
gives both sides and the regret of the policy (docs/cli.md, "The analysis page").
"""
import numpy as np
import matplotlib.pyplot as plt

from population import PRUNED_COLOUR, Skip
from style import save


def _best(acc):
    """(best accuracy, its model id; the lowest id on a tie), or (nan, None) when none has one."""
    acc = acc.dropna()
    if acc.empty:
        return float("nan"), None
    return float(acc.max()), int(acc.idxmax())


def summary(models, setup):
    """The numbers of the section, one dict per side: name, epochs, full (epochs of training every
    model to the end), fraction, best, model, how ('final' or 'at pruned epoch N'); the no-pruning
    side is None in a live run. Returns (no_pruning, policy, regret or None)."""
    if "epochs_trained" not in models.columns:
        raise Skip("models.csv has no epochs_trained column: the epochs spent cannot be counted")
    if not setup["epochs"]:
        raise Skip("neither job.ini nor a model that trained to the end gives the run's epochs")
    m = models.set_index("model")
    full = len(m) * setup["epochs"]
    trained = m["epochs_trained"]
    stopped = m["pruned_epoch"].notna()
    # The policy's side, the same rule in both modes: a model the policy stopped counts its epochs up
    # to pruned_epoch and its test accuracy there; every other model counts what it trained and its
    # final accuracy (a live pruned model has epochs_trained = pruned_epoch, so this is what ran).
    p_epochs = int(np.where(stopped, np.minimum(m["pruned_epoch"], trained), trained).sum())
    p_acc = m["final_test_accuracy"].where(~stopped, m["pruned_test_accuracy"])
    best, model = _best(p_acc)
    mode = "shadow" if setup["shadow"] else "live"
    policy = {"name": f"{setup['policy']} ({mode})", "epochs": p_epochs, "full": full,
              "fraction": p_epochs / full, "best": best, "model": model,
              "how": "" if model is None else
              f"at pruned epoch {int(m.at[model, 'pruned_epoch'])}" if stopped[model] else "final"}
    if not setup["shadow"]:
        return None, policy, None
    n_epochs = int(trained.sum())
    best, model = _best(m["final_test_accuracy"])
    none = {"name": "no pruning", "epochs": n_epochs, "full": full, "fraction": n_epochs / full,
            "best": best, "model": model, "how": "" if model is None else "final"}
    return none, policy, none["best"] - policy["best"]


def figure(models, setup, path):
    """Left: best accuracy found against the share of epochs spent, one point per side. Right: how
    many models stopped at each epoch under the policy."""
    none, policy, regret = summary(models, setup)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), gridspec_kw={"width_ratios": [1.2, 1]})
    ax = axes[0]
    ax.plot(policy["fraction"], policy["best"], marker="o", markersize=9, color=PRUNED_COLOUR, linestyle="none",
            label=policy["name"])
    if none is not None:
        ax.plot(none["fraction"], none["best"], marker="s", markersize=9, color="#404040", linestyle="none",
                label="no pruning")
        ax.annotate("", (policy["fraction"], policy["best"]), (none["fraction"], none["best"]),
                    arrowprops=dict(arrowstyle="->", color="grey"))
        ax.text(0.03, 0.05, f"epochs saved: {none['fraction'] - policy['fraction']:.3f} of the total\n"
                f"regret: {regret:.4f} (best without pruning minus best with it)", transform=ax.transAxes,
                fontsize=9, bbox=dict(facecolor="white", alpha=0.85, edgecolor="#cccccc"))
    else:
        ax.text(0.03, 0.05, "live run: the best accuracy without pruning is unknown\n"
                "(run the job with [pruning] shadow = true to measure it)", transform=ax.transAxes, fontsize=9,
                bbox=dict(facecolor="white", alpha=0.85, edgecolor="#cccccc"))
    ys = [s["best"] for s in (none, policy) if s is not None and np.isfinite(s["best"])]
    if ys:
        ax.set_ylim(min(ys) - 0.1, min(1.0, max(ys) + 0.05))
    ax.set_xlim(0, 1.05)
    ax.set_xlabel(f"epochs spent (share of {policy['full']} = every model trained to the end)")
    ax.set_ylabel("best test accuracy found")
    ax.set_title("Compute spent against the best model found")
    ax.legend(loc="upper left")
    ax = axes[1]
    stop = models["pruned_epoch"].to_numpy()
    epochs = list(range(1, setup["epochs"] + 1))
    counts = [int((stop == e).sum()) for e in epochs]
    ax.bar(epochs, counts, color=PRUNED_COLOUR, label="stopped by the policy" if not setup["shadow"]
           else "the policy would have stopped it (shadow)")
    ax.bar([epochs[-1]], [int(np.isnan(stop).sum())], bottom=[counts[-1]], color="#4575b4",
           label="trained on (to the end, or until it diverged)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("models")
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax.set_title("Where the models stopped")
    ax.legend(loc="upper left")
    fig.suptitle(f"Early stopping during the run: [pruning] policy = {setup['policy']}"
                 + (", shadow mode" if setup["shadow"] else ""))
    fig.tight_layout()
    save(fig, path)
