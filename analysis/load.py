"""Reading and checking what `cnndyn run` writes.

Every reader either returns a clean DataFrame or raises InputError with one message that names the
file and, where it can, the line and column. Nothing downstream has to guess about a half-read file.
"""
import csv
import os

import numpy as np
import pandas as pd


class InputError(Exception):
    """Bad or missing input: report.py prints it as one line and exits 1."""


def _read(path, required, numeric, optional_numeric=()):
    """Reads a CSV whose header must hold `required`; `numeric` columns must parse as numbers
    (an empty field is a missing value). Returns a DataFrame with those columns as floats."""
    if not os.path.isfile(path):
        raise InputError(f"{path}: missing (is this a `cnndyn run` output folder?)")
    try:
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise InputError(f"{path}: cannot read: {e}")
    if not rows or not rows[0]:
        raise InputError(f"{path}: empty file, expected a header row")
    header = [h.strip() for h in rows[0]]
    if len(set(header)) != len(header):
        dup = sorted({h for h in header if header.count(h) > 1})
        raise InputError(f"{path}: line 1: duplicate column {dup[0]!r}")
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(f"{path}: line 1: missing column {missing[0]!r} (header: {','.join(header)})")
    body = []
    for i, r in enumerate(rows[1:], start=2):
        if not r:
            continue
        if len(r) != len(header):
            raise InputError(f"{path}: line {i}: {len(r)} fields, the header has {len(header)}")
        body.append(r)
    df = pd.DataFrame(body, columns=header, dtype=object)
    for c in list(numeric) + [c for c in optional_numeric if c in header]:
        col = df[c].str.strip()
        vals = pd.to_numeric(col.replace("", np.nan), errors="coerce")
        bad = vals.isna() & (col != "") & ~col.str.lower().isin(["nan", "-nan"])
        if bad.any():
            j = int(np.argmax(bad.to_numpy()))
            raise InputError(f"{path}: line {j + 2}: {c}: {df[c].iloc[j]!r} is not a number")
        df[c] = vals.astype(float)
    return df


STATUSES = ("ok", "diverged", "pruned")


def models(outdir):
    """models.csv. Runs made before [pruning] lack pruned_epoch and pruned_test_accuracy: they are
    added empty, so every panel can ask for them. A pruned model stopped at its pruned_epoch and has
    no final accuracy; in shadow mode an ok model may carry the epoch the policy would have stopped
    it at (docs/formats.md, "models.csv")."""
    path = os.path.join(outdir, "models.csv")
    req = ["model", "status", "final_test_accuracy"]
    df = _read(path, req, ["model", "final_test_accuracy"],
               ["config", "replicate", "diverged_epoch", "epochs_trained", "final_val_loss",
                "final_val_accuracy", "learning_rate", "momentum", "batch_size", "dropout",
                "weight_decay", "init_scale", "width", "depth", "label", "pruned_epoch",
                "pruned_test_accuracy"])
    if df.empty:
        raise InputError(f"{outdir}/models.csv: no models (header only)")
    df["model"] = df["model"].astype(int)
    df["status"] = df["status"].str.strip()
    bad = ~df["status"].isin(STATUSES)
    if bad.any():
        j = int(np.argmax(bad.to_numpy()))
        raise InputError(f"{path}: line {j + 2}: status: {df['status'].iloc[j]!r} "
                         "is not 'ok', 'diverged' or 'pruned'")
    for c in ("pruned_epoch", "pruned_test_accuracy"):
        if c not in df.columns:
            df[c] = np.nan
    pruned = df["status"] == "pruned"
    checks = [(pruned & df["pruned_epoch"].isna(), "pruned_epoch", "empty for a pruned model"),
              (pruned & df["final_test_accuracy"].notna(), "final_test_accuracy",
               "a pruned model has no final accuracy"),
              (df["pruned_epoch"].notna() != df["pruned_test_accuracy"].notna(), "pruned_test_accuracy",
               "given exactly when pruned_epoch is")]
    if "epochs_trained" in df.columns:
        checks.append((pruned & (df["pruned_epoch"] != df["epochs_trained"]), "pruned_epoch",
                       "a pruned model stops at its pruned epoch (pruned_epoch = epochs_trained)"))
    for bad, col, why in checks:
        if bad.any():
            j = int(np.argmax(bad.to_numpy()))
            raise InputError(f"{path}: line {j + 2}: {col}: {why}")
    return df


def curves(outdir):
    df = _read(os.path.join(outdir, "curves.csv"), ["model", "epoch", "train_loss", "val_loss",
               "val_accuracy"], ["model", "epoch", "train_loss", "val_loss", "val_accuracy"])
    df["model"] = df["model"].astype(int)
    df["epoch"] = df["epoch"].astype(int)
    return df


SCHEMA = ["column", "statistic", "scope", "layer", "aggregator"]
WEIGHT_STATISTICS = ("weight", "bias")


def _columns_from_names(path, cols):
    """The schema of a run made before cnndyn wrote features_columns.csv, from the names where they
    can be read: statistic.scope.aggregator and weights.LAYER.TENSOR.STAT without dots in the parts.
    A layer name with dots (ResNet's layer1.0.conv1) cannot be, and is refused with a message."""
    rows = []
    for c in cols:
        p = c.split(".")
        if len(p) == 4 and p[0] == "weights":
            rows.append([c, p[2], "all" if p[1] == "all" else "tensor", "" if p[1] == "all" else p[1], p[3]])
        elif len(p) == 3 and p[0] != "weights":
            # one value per edge block for the layer statistic (singular); degree_entropy's value
            # is per group, as cnndyn's own column builder says
            scope = "all" if p[1] == "all" else "block" if p[0] == "singular" else "group"
            rows.append([c, p[0], scope, "" if p[1] == "all" else p[1], p[2]])
        else:
            raise InputError(f"{path}: line 1: column {c!r} cannot be read without features_columns.csv, "
                             "which runs made before cnndyn wrote it lack (layer names may hold dots): "
                             "rerun the job to get it")
    return pd.DataFrame(rows, columns=SCHEMA)


def features(outdir):
    """features.csv and what each of its columns measures: (features, columns), where columns has
    one row per feature column, in order, with SCHEMA's fields (docs/formats.md, "features_columns.csv"), read from
    features_columns.csv; names are never split when that file is there."""
    path = os.path.join(outdir, "features.csv")
    with_header = _read(path, ["model", "epoch"], ["model", "epoch"])
    cols = [c for c in with_header.columns if c not in ("model", "epoch")]
    spath = os.path.join(outdir, "features_columns.csv")
    if os.path.isfile(spath):
        schema = _read(spath, SCHEMA, [])
        for c in SCHEMA:
            schema[c] = schema[c].fillna("").astype(str).str.strip()
        listed = list(schema["column"])
        if listed != cols:
            j = next((i for i, (x, y) in enumerate(zip(listed, cols)) if x != y), min(len(listed), len(cols)))
            raise InputError(f"{spath}: line {j + 2}: lists {len(listed)} columns, features.csv has {len(cols)}"
                             f"{'' if j >= min(len(listed), len(cols)) else f'; column {j + 1} is {listed[j]!r} here and {cols[j]!r} there'}")
    else:
        schema = _columns_from_names(path, cols)
    df = _read(path, ["model", "epoch"], ["model", "epoch"] + cols)
    df["model"] = df["model"].astype(int)
    df["epoch"] = df["epoch"].astype(int)
    return df, schema.reset_index(drop=True)


def predictions(outdir):
    path = os.path.join(outdir, "predictions.csv")
    head = _read(path, ["model", "method", "actual", "predicted"], [])
    budget = "epochs" if "epochs" in head.columns else "epochs_used"
    if budget not in head.columns:
        raise InputError(f"{path}: line 1: missing column 'epochs' (or 'epochs_used')")
    df = _read(path, ["model", "method", budget, "actual", "predicted"],
               ["model", budget, "actual", "predicted"], ["repeat"])
    df = df.rename(columns={budget: "epochs"})
    for c in ("subset", "features", "learner"):
        if c not in df.columns:
            df[c] = ""
    return df


REPORT_KEYS = ["subset", "method", "features", "learner", "task", "metric", "epochs"]


def report(outdir):
    """Reads report.csv in either format and returns the target format of issue 8:
    subset, method, features, learner, epochs, task, metric, mean, std (+ mean_text, std_text: the
    fields exactly as written, so the page can print the numbers the file holds)."""
    path = os.path.join(outdir, "report.csv")
    head = _read(path, ["method", "metric"], [])
    if "mean" in head.columns:
        df = _read(path, ["subset", "method", "features", "learner", "epochs", "task", "metric",
                          "mean", "std"], ["epochs", "mean", "std"], ["ci_lo", "ci_hi"])
        raw = _read(path, ["mean", "std"], [])
        df["mean_text"] = raw["mean"].str.strip()
        df["std_text"] = raw["std"].str.strip()
    elif "value" in head.columns:
        # Today's format: method, epochs_used, metric, value, input. One run, no repeats.
        df = _read(path, ["method", "epochs_used", "metric", "value"], ["epochs_used", "value"])
        raw = _read(path, ["value"], [])
        df = df.rename(columns={"epochs_used": "epochs", "value": "mean"})
        df["mean_text"] = raw["value"].str.strip()
        df["std"] = np.nan
        df["std_text"] = ""
        df["subset"] = "all"
        df["description"] = df["input"] if "input" in df.columns else ""
        df["features"] = ""
        df["learner"] = ""
        df["task"] = ""
    else:
        raise InputError(f"{path}: line 1: expected a 'mean' column (or 'value' in the older format)")
    if df.empty:
        raise InputError(f"{path}: no rows (header only)")
    if df["epochs"].isna().any():
        j = int(np.argmax(df["epochs"].isna().to_numpy()))
        raise InputError(f"{path}: line {j + 2}: epochs is empty")
    df["epochs"] = df["epochs"].astype(int)
    for c in ("subset", "method", "features", "learner", "task", "metric"):
        df[c] = df[c].fillna("").astype(str).str.strip()
    if "description" not in df.columns:
        df["description"] = ""
    # Issue 16's columns: the family each method declares (graph, baseline, hybrid; graph-baseline
    # for the difference row) and the 95% bootstrap interval of the headline numbers.
    for c in ("family", "ci_lo", "ci_hi"):
        if c not in df.columns:
            df[c] = np.nan if c != "family" else ""
    df["family"] = df["family"].fillna("").astype(str).str.strip()
    return df[REPORT_KEYS + ["mean", "std", "mean_text", "std_text", "description", "family", "ci_lo", "ci_hi"]]


def early_stop(outdir):
    """Optional: the early-stopping comparison at equal compute (docs/formats.md, "early_stop.csv"). None when
    absent; a folder written before issue 16 (no `kind` column) is read as an empty table, so the
    page says why it draws nothing."""
    path = os.path.join(outdir, "early_stop.csv")
    if not os.path.isfile(path):
        return None
    if "kind" not in _read(path, [], []).columns:
        return pd.DataFrame(columns=["kind"])
    df = _read(path, ["kind", "epochs", "policy", "predictor", "family", "fraction_stopped", "epochs_saved",
                      "regret", "ci_lo", "ci_hi", "saved_from", "saved_to"],
               ["epochs", "fraction_stopped", "epochs_saved", "regret", "ci_lo", "ci_hi", "saved_from", "saved_to"])
    for c in ("kind", "policy", "predictor", "family"):
        df[c] = df[c].fillna("").astype(str).str.strip()
    return df


def timing(outdir):
    """Optional: wall times. None when absent."""
    path = os.path.join(outdir, "timing.csv")
    if not os.path.isfile(path):
        return None
    return _read(path, ["model", "epoch", "train_seconds", "graph_seconds"],
                 ["model", "epoch", "train_seconds", "graph_seconds"])


def _strip_comment(line):
    """A job spec comment starts with # or ; at the start of a line or after a space or tab
    (jobs/README.md, "Syntax"): a # inside a value is part of it."""
    for i, ch in enumerate(line):
        if ch in "#;" and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    return line


def job(outdir):
    """The job spec the run kept (OUTDIR/job.ini) as {section: {key: value}}, values as text; None
    when the run has none. Only what the page needs is read: cnndyn checked the rest before training."""
    path = os.path.join(outdir, "job.ini")
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8-sig") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read: {e}")
    spec, section = {}, None
    for i, raw in enumerate(lines, start=1):
        line = _strip_comment(raw).strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            section = spec.setdefault(line[1:-1].strip(), {})
        elif "=" in line and section is not None:
            k, v = line.split("=", 1)
            section[k.strip()] = v.strip()
        else:
            raise InputError(f"{path}: line {i}: expected 'key = value' under a [section]")
    return spec


def pruning(outdir, models):
    """How the run pruned: {policy, shadow, epochs} from job.ini's [pruning] and [training] epochs
    (defaults as jobs/README.md gives them: none, false, 10). Without job.ini the policy is unknown,
    the mode is read from the statuses and the epochs from the models that trained to the end."""
    spec = job(outdir)
    path = os.path.join(outdir, "job.ini")
    if spec is None:
        done = models.loc[models["status"] == "ok", "epochs_trained"] if "epochs_trained" in models else []
        return {"policy": "unknown policy (no job.ini)", "shadow": not (models["status"] == "pruned").any(),
                "epochs": int(max(done)) if len(done) else None}
    p = spec.get("pruning", {})
    shadow = p.get("shadow", "false").lower()
    if shadow not in ("true", "false", "yes", "no", "1", "0"):
        raise InputError(f"{path}: [pruning] shadow: {p['shadow']!r} is not a boolean")
    epochs = spec.get("training", {}).get("epochs", "10")
    if not epochs.isdigit() or int(epochs) < 1:
        raise InputError(f"{path}: [training] epochs: {epochs!r} is not a positive integer")
    out = {"policy": p.get("policy", "none"), "shadow": shadow in ("true", "yes", "1"), "epochs": int(epochs)}
    if out["shadow"] and (models["status"] == "pruned").any():
        raise InputError(f"{outdir}/models.csv: a model has status 'pruned' although job.ini runs "
                         "[pruning] in shadow mode (shadow mode trains every model to the end)")
    return out
