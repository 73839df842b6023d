"""Compares the train_loss columns of two metrics.csv files.

Usage: compare_losses.py A.csv B.csv RTOL

Exits 1 (and says where) when the files have different steps or a loss of B
differs from A's by more than RTOL relative; prints the largest difference.
"""

import csv
import sys


def losses(path):
    with open(path, newline="") as f:
        return [(row["step"], float(row["train_loss"])) for row in csv.DictReader(f)]


def main():
    a, b, rtol = losses(sys.argv[1]), losses(sys.argv[2]), float(sys.argv[3])
    if [s for s, _ in a] != [s for s, _ in b]:
        print("different steps: %s vs %s" % ([s for s, _ in a], [s for s, _ in b]))
        return 1
    worst = 0.0
    for (step, x), (_, y) in zip(a, b):
        rel = abs(x - y) / max(1.0, abs(x))
        worst = max(worst, rel)
        if rel > rtol:
            print("step %s: loss %.6f vs %.6f (relative %.3g > %g)" % (step, x, y, rel, rtol))
            return 1
    print("%d steps agree: largest relative difference %.3g" % (len(a), worst))
    return 0


if __name__ == "__main__":
    sys.exit(main())
