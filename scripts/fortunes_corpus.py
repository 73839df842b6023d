#!/usr/bin/env python3
"""Builds the English text corpus of the training experiments in
docs/TRAINING.md ("Experiments") from Debian's fortune-cookie databases,
reproducibly (standard library only):

  scripts/fortunes_corpus.py OUT.txt [--package fortunes] [--seed 0]

Installs the Debian package (default `fortunes`, about 2.5 MB of text; or
`fortunes-min`, about 98 KB) with apt-get when /usr/share/games/fortunes lacks
its texts, then reads every text file there (the plain names; not the .dat
indexes nor the .u8 links; not `ascii-art`, which is pictures), splits each
into its fortunes at the lines holding only `%`, removes backspace
overstriking ("_\\bx" -> "x"), strips each fortune's surrounding blank space,
shuffles all fortunes with Python's random.Random(SEED) (so that the last 10 %
that `uoe-run train` holds out for validation is a random sample of fortunes,
not the last files in alphabetical order) and writes them separated by one
blank line. Prints the number of files, fortunes and bytes, and the file's
SHA-256.
"""

import argparse
import hashlib
import os
import random
import re
import subprocess
import sys

DIR = "/usr/share/games/fortunes"
# A file each package installs, to tell whether it is there.
MARKER = {"fortunes": "science", "fortunes-min": "fortunes"}
SKIP = {"ascii-art"}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--package", default="fortunes", choices=sorted(MARKER))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    if not os.path.exists(os.path.join(DIR, MARKER[args.package])):
        print("installing %s" % args.package, file=sys.stderr)
        subprocess.run(["apt-get", "install", "-y", args.package], check=True,
                       stdout=subprocess.DEVNULL)
    if args.package == "fortunes-min":
        names = ["fortunes", "literature", "riddles"]
    else:
        names = sorted(n for n in os.listdir(DIR)
                       if "." not in n and n not in SKIP
                       and not os.path.islink(os.path.join(DIR, n)))
    fortunes = []
    for name in names:
        with open(os.path.join(DIR, name), "rb") as f:
            text = f.read()
        while True:  # "ab\b\bxy" -> "xy" too
            stripped = re.sub(rb"[^\n\x08]\x08", b"", text)
            if stripped == text:
                break
            text = stripped
        for fortune in re.split(rb"(?m)^%\n", text):
            fortune = fortune.strip()
            if fortune and fortune != b"%":
                fortunes.append(fortune)
    random.Random(args.seed).shuffle(fortunes)
    data = b"\n\n".join(fortunes) + b"\n"
    with open(args.out, "wb") as f:
        f.write(data)
    print("%s: %d files, %d fortunes, %d bytes, sha256 %s"
          % (args.out, len(names), len(fortunes), len(data),
             hashlib.sha256(data).hexdigest()))


if __name__ == "__main__":
    main()
