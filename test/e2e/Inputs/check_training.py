#!/usr/bin/env python3
"""Checks what `uoe-run train` wrote to a checkpoint directory, for the
end-to-end tests (standard library only):

  check_training.py DIR [--steps N] [--loss-drops] [--min-drop NATS]

metrics.csv: the header, one row per step 1..N in order, nine columns,
validation perplexity and bits per byte consistent with the validation
loss; with --loss-drops, the mean training loss of the last quarter of the
steps is below that of the first quarter; with --min-drop NATS, both the
final validation loss (the last row's) and the final training loss (the
mean of the last tenth of the steps) are at least NATS below the initial
loss (the training loss of step 1, i.e. of the initial weights, about
ln 256 = 5.55 for a fresh byte-level model), and the last validation loss is
below the first evaluation's. loss.svg: well-formed XML (parsed
by xml.etree) with an <svg> root, a train and a validation polyline, axis
ticks and a legend. Prints one summary line; exits 1 on the first problem.
"""

import argparse
import csv
import math
import sys
import xml.etree.ElementTree as ET

HEADER = ["step", "train_loss", "val_loss", "val_ppl", "val_bpb", "lr",
          "grad_norm", "tokens_per_s", "elapsed_s"]
SVG = "{http://www.w3.org/2000/svg}"


def fail(message):
    print("check_training: " + message)
    sys.exit(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--steps", type=int)
    parser.add_argument("--loss-drops", action="store_true")
    parser.add_argument("--min-drop", type=float)
    args = parser.parse_args()

    with open(args.dir + "/metrics.csv", newline="") as f:
        rows = list(csv.reader(f))
    if rows[0] != HEADER:
        fail("metrics.csv header is %s" % rows[0])
    rows = rows[1:]
    steps = [int(r[0]) for r in rows]
    if any(len(r) != 9 for r in rows):
        fail("a metrics.csv row does not have 9 columns")
    if steps != list(range(1, len(rows) + 1)):
        fail("metrics.csv steps are %s" % steps)
    if args.steps is not None and len(rows) != args.steps:
        fail("metrics.csv has %d rows, expected %d" % (len(rows), args.steps))
    losses = [float(r[1]) for r in rows]
    evals = 0
    for r in rows:
        if r[2]:
            evals += 1
            loss, ppl, bpb = float(r[2]), float(r[3]), float(r[4])
            if abs(ppl - math.exp(loss)) > 1e-3 * ppl or abs(bpb - loss / math.log(2)) > 1e-5:
                fail("step %s: val_ppl / val_bpb do not match val_loss" % r[0])
        elif r[3] or r[4]:
            fail("step %s: val_ppl or val_bpb without val_loss" % r[0])
        if float(r[5]) <= 0 or float(r[7]) <= 0 or float(r[8]) < 0:
            fail("step %s: lr and tokens_per_s must be positive, elapsed_s "
                 "non-negative" % r[0])
    elapsed = [float(r[8]) for r in rows]
    if elapsed != sorted(elapsed):
        fail("elapsed_s decreases")
    if not rows[-1][2]:
        fail("the last step has no validation loss")
    quarter = max(1, len(losses) // 4)
    first = sum(losses[:quarter]) / quarter
    last = sum(losses[-quarter:]) / quarter
    if args.loss_drops and not last < first:
        fail("the training loss did not drop: %.4f -> %.4f" % (first, last))
    drop = ""
    if args.min_drop is not None:
        initial = losses[0]
        tenth = max(1, len(losses) // 10)
        final_train = sum(losses[-tenth:]) / tenth
        vals = [float(r[2]) for r in rows if r[2]]
        final_val = vals[-1]
        for what, value in (("validation", final_val), ("training", final_train)):
            if not value <= initial - args.min_drop:
                fail("the final %s loss %.4f is not %.2f below the initial loss "
                     "%.4f" % (what, value, args.min_drop, initial))
        if len(vals) > 1 and not vals[-1] < vals[0]:
            fail("the validation loss did not drop: %.4f -> %.4f"
                 % (vals[0], vals[-1]))
        drop = ("; initial loss %.2f, final training loss %.2f, validation "
                "loss %.2f -> %.2f: dropped by at least %.2f"
                % (initial, final_train, vals[0], final_val, args.min_drop))

    root = ET.parse(args.dir + "/loss.svg").getroot()
    if root.tag != SVG + "svg":
        fail("loss.svg root is %s" % root.tag)
    classes = [e.get("class") for e in root.iter(SVG + "polyline")]
    if sorted(classes) != ["train", "validation"]:
        fail("loss.svg polylines: %s" % classes)
    texts = [e.text for e in root.iter(SVG + "text")]
    for label in ("train", "validation", "step"):
        if label not in texts:
            fail("loss.svg has no '%s' label" % label)
    ticks = [g for g in root.iter(SVG + "g") if g.get("class") == "tick-labels"]
    if not ticks or len(list(ticks[0])) < 4:
        fail("loss.svg has no tick labels")
    print("metrics.csv: %d steps, %d evaluations, train loss %.2f -> %.2f; "
          "loss.svg: ok%s" % (len(rows), evals, first, last, drop))


if __name__ == "__main__":
    main()
