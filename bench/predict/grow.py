"""Grows a finished run to N models for timing the prediction stage: copies of its first models
are appended under new model and configuration ids (so the grouped folds treat them as new
configurations). Reads and writes the CSVs `cnndyn predict` needs; nothing else.
Usage: grow.py RUN_DIR OUT_DIR N"""
import csv
import sys

src, dst, want = sys.argv[1], sys.argv[2], int(sys.argv[3])


def rows(name):
    with open(f"{src}/{name}", newline="") as f:
        r = list(csv.reader(f))
    return r[0], r[1:]


head, models = rows("models.csv")
have = len(models)
if want < have:
    sys.exit(f"grow.py: {src} already has {have} models, more than {want}")
cfg_col = head.index("config")
next_cfg = 1 + max(int(m[cfg_col]) for m in models)
new_id = {}  # new model id -> old model id
extra = []
for i in range(want - have):
    old = models[i % have]
    m = list(old)
    m[0], m[cfg_col] = str(have + i), str(next_cfg + int(old[cfg_col]) + (i // have) * next_cfg)
    new_id[have + i] = int(old[0])
    extra.append(m)
with open(f"{dst}/models.csv", "w", newline="") as f:
    csv.writer(f, lineterminator="\n").writerows([head] + models + extra)

for name in ("curves.csv", "features.csv", "timing.csv"):
    head, body = rows(name)
    by_model = {}
    for r in body:
        by_model.setdefault(int(r[0]), []).append(r)
    out = [head] + body
    for new, old in new_id.items():
        out += [[str(new)] + r[1:] for r in by_model.get(old, [])]
    with open(f"{dst}/{name}", "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(out)
print(f"{dst}: {have} models of {src} + {want - have} copies")
