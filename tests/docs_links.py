#!/usr/bin/python3
"""Every relative link of the project's Markdown documents resolves, and every .md file a source,
test, script or job file names exists: docs move, and a link or comment that points nowhere sends
the reader nowhere.

usage: docs_links.py SOURCE_DIR

Markdown files checked: README.md, docs/*.md and the README.md of each top-level folder. A link
[text](path#anchor) must name a file or folder that exists (relative to the linking file); an
anchor must be a heading of the target Markdown file, spelled as GitHub spells it (lower case,
punctuation dropped, spaces to hyphens). Links to web addresses are not fetched. Code (fenced
blocks and `spans`) is skipped.

Other files (src, include, tests, scripts, slurm, analysis, bench, jobs): every word ending in .md
must be a file of the repository, relative to the repository or to the file, unless it is the
name of a file cnndyn writes (report.md); nothing cites a folder beside the repository (the
parent's design folder users never see)."""
import os
import re
import sys

# the design folder beside the checkout, spelled in two pieces so this file does not cite it
OUTSIDE = re.compile(re.escape(".." + "/") + "shar" + "ed\\b")

OUTPUT_NAMES = {"report.md"}  # written into a run folder, not held by the repository
CODE_DIRS = ["src", "include", "tests", "scripts", "slurm", "analysis", "bench", "jobs"]
CODE_EXT = (".c", ".h", ".py", ".sh", ".cmake", ".ini", ".txt", ".sbatch")


def slug(heading):
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def strip_code(text):
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def anchors(path, cache={}):
    if path not in cache:
        seen, out = {}, set()
        text = re.sub(r"^```.*?^```", "", open(path, encoding="utf-8").read(), flags=re.S | re.M)
        for m in re.finditer(r"^#{1,6}\s+(.*?)\s*#*\s*$", text, flags=re.M):
            s = slug(m.group(1))
            n = seen.get(s, 0)
            seen[s] = n + 1
            out.add(s if n == 0 else f"{s}-{n}")
        cache[path] = out
    return cache[path]


def check_markdown(root, rel, problems):
    path = os.path.join(root, rel)
    text = strip_code(open(path, encoding="utf-8").read())
    for m in re.finditer(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", text):
        target = m.group(1)
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        file, _, anchor = target.partition("#")
        dest = os.path.normpath(os.path.join(os.path.dirname(path), file)) if file else path
        if not os.path.exists(dest):
            problems.append(f"{rel}: link to {target}: {file} does not exist")
        elif anchor and dest.endswith(".md") and anchor not in anchors(dest):
            problems.append(f"{rel}: link to {target}: no heading '{anchor}' in {os.path.relpath(dest, root)}")


def check_code(root, rel, problems):
    path = os.path.join(root, rel)
    if os.path.samefile(path, __file__):  # names what it looks for
        return
    try:
        text = open(path, encoding="utf-8").read()
    except UnicodeDecodeError:
        return
    for m in re.finditer(OUTSIDE, text):
        problems.append(f"{rel}:{text.count(chr(10), 0, m.start()) + 1}: cites {m.group(0)}, outside the repository")
    for m in re.finditer(r"[\w./-]*\w\.md\b", text):
        name = m.group(0)
        if os.path.basename(name) in OUTPUT_NAMES:
            continue
        if not any(os.path.exists(os.path.normpath(os.path.join(base, name)))
                   for base in (root, os.path.dirname(path))):
            line = text.count("\n", 0, m.start()) + 1
            problems.append(f"{rel}:{line}: names {name}, which the repository does not hold")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.split("\n\n")[1])
    root = os.path.abspath(sys.argv[1])
    problems, docs = [], ["README.md"]
    docs += sorted(os.path.join("docs", f) for f in os.listdir(os.path.join(root, "docs")) if f.endswith(".md"))
    docs += sorted(os.path.join(d, "README.md") for d in os.listdir(root)
                   if os.path.isfile(os.path.join(root, d, "README.md")))
    for rel in docs:
        check_markdown(root, rel, problems)
        check_code(root, rel, problems)
    for top in CODE_DIRS:
        for dirpath, dirnames, files in os.walk(os.path.join(root, top)):
            dirnames[:] = sorted(d for d in dirnames if d != "corpus" and not d.startswith("."))
            for f in sorted(files):
                if f.endswith(CODE_EXT):
                    check_code(root, os.path.relpath(os.path.join(dirpath, f), root), problems)
    for p in problems:
        print(p)
    print(f"{len(docs)} Markdown files, {len(problems)} problem(s)")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
