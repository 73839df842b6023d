"""Runs the ```sh blocks of one section of a Markdown file, as written, from a
scratch directory laid out like the repository, so that a document's example
commands are tested and cannot drift.

  run_doc_commands.py DOC "Section title" UOE_RUN SRC_ROOT WORK_DIR

In WORK_DIR, `build/bin/uoe-run` is a link to UOE_RUN and `test`, `scripts`,
`examples` are links into SRC_ROOT; the compiled-model cache goes to
WORK_DIR/cache. Each block runs in bash with `set -euo pipefail` (a `python3`
in it is this interpreter); the first failing block fails the script.
"""
import os
import subprocess
import sys

doc, title, uoe_run, src, work = sys.argv[1:6]
blocks, current, inside, in_section = [], [], False, False
for line in open(doc, encoding="utf-8"):
    if line.startswith("## "):
        in_section = line[3:].strip() == title
        continue
    if not in_section:
        continue
    if line.startswith("```"):
        if inside:
            blocks.append("".join(current))
            current = []
        inside = not inside and line.strip() == "```sh"
        continue
    if inside:
        current.append(line)
if not blocks:
    sys.exit("%s: no ```sh block in section %r" % (doc, title))

os.makedirs(os.path.join(work, "build", "bin"), exist_ok=True)
link = os.path.join(work, "build", "bin", "uoe-run")
if not os.path.lexists(link):
    os.symlink(os.path.abspath(uoe_run), link)
for name in ("test", "scripts", "examples"):
    if not os.path.lexists(os.path.join(work, name)):
        os.symlink(os.path.join(src, name), os.path.join(work, name))
bindir = os.path.join(work, "pybin")
os.makedirs(bindir, exist_ok=True)
if not os.path.lexists(os.path.join(bindir, "python3")):
    os.symlink(sys.executable, os.path.join(bindir, "python3"))
env = dict(os.environ, XDG_CACHE_HOME=os.path.join(work, "cache"),
           PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
for number, block in enumerate(blocks, 1):
    print("block %d:" % number, flush=True)
    done = subprocess.run(["bash", "-c", "set -euo pipefail\n" + block], cwd=work, env=env)
    if done.returncode != 0:
        sys.exit("%s: block %d of section %r failed (exit %d)" % (doc, number, title, done.returncode))
print("%d blocks of section %r ran" % (len(blocks), title))
