"""Checks that every non-empty line of the ```python blocks of the "## Python"
section of a Markdown file (first argument) occurs, stripped, as a line of
a source file (second)."""
import sys

doc, source = sys.argv[1], sys.argv[2]
lines = {l.strip() for l in open(source, encoding="utf-8")}
missing, section, inside, count = [], False, False, 0
for number, line in enumerate(open(doc, encoding="utf-8"), 1):
    if line.startswith("## "):
        section = line.strip() == "## Python"
    if not section:
        continue
    if line.startswith("```"):
        inside = line.strip() == "```python"
        continue
    if inside and line.strip():
        count += 1
        if line.strip() not in lines:
            missing.append(f"{doc}:{number}: {line.strip()}")
if missing or count == 0:
    print("\n".join(missing) or f"{doc}: no ```python block under '## Python'", file=sys.stderr)
    sys.exit(1)
print(f"{count} lines of Python found in {source}")
