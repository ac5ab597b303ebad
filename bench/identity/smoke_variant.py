"""A shipped job spec cut to smoke size, for comparing two builds byte for byte (run.sh).

Usage: smoke_variant.py JOB.ini > SMALL.ini

Every key of the original is kept except these, overridden: lists of [population] and
[training] width/depth keep their first two values; replicates 1, samples at most 2; 300/200/300
train/validation/test images; 2 epochs and budget 1; prediction folds 2, repeats 1; snapshots on
(so that snapshot bytes are compared too). Architecture lists are kept whole: families matter."""
import sys

OVERRIDE = {
    "data": {"train_size": "300", "validation_size": "200", "test_size": "300"},
    "training": {"epochs": "2"},
    "features": {"budget": "1"},
    "prediction": {"folds": "2", "repeats": "1"},
    "output": {"snapshots": "true"},
}
LISTS = {"population", "training"}


def main():
    section, seen, out = None, {}, []
    for raw in open(sys.argv[1]):
        line = raw.split(" #")[0].split(" ;")[0].strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line[1:-1]
            seen.setdefault(section, set())
            out.append(line)
            continue
        key, value = (x.strip() for x in line.split("=", 1))
        seen[section].add(key)
        if key in OVERRIDE.get(section, {}):
            value = OVERRIDE[section][key]
        elif key == "replicates":
            value = "1"
        elif key == "samples":
            value = str(min(2, int(value)))
        elif section in LISTS and "," in value and "(" not in value and key != "architecture":
            value = ", ".join(v.strip() for v in value.split(",")[:2])
        out.append(f"{key} = {value}")
    text = "\n".join(out) + "\n"
    for section, keys in OVERRIDE.items():  # keys the original leaves at their defaults
        missing = [f"{k} = {v}" for k, v in keys.items() if k not in seen.get(section, set())]
        if not missing:
            continue
        if section in seen:
            text = text.replace(f"[{section}]\n", f"[{section}]\n" + "\n".join(missing) + "\n", 1)
        else:
            text += f"[{section}]\n" + "\n".join(missing) + "\n"
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
