//===- Train.h - the `uoe-run train` command --------------------*- C++ -*-===//
//
// Byte-level language-model training from the command line:
//
//   uoe-run train --model M.pbtxt --data corpus.txt --steps N
//                 --checkpoint-dir DIR [--resume] [options]
//
// compiles the model's training step (driver/CompileTraining.h) or takes it
// from the compiled-model cache, initialises the weights as `uoe-run init`
// does (or restores them, the optimizer state, the step and the data
// sampler from DIR/latest with --resume), runs `train_step` on random
// windows of the text, evaluates `eval_loss` on the validation part, and
// writes checkpoints, metrics.csv and loss.svg to DIR. docs/TRAINING.md
// describes the flags, the files and the resume guarantees.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_TOOLS_UOE_RUN_TRAIN_H
#define UOE_TOOLS_UOE_RUN_TRAIN_H

namespace mlir::uoe {

/// Runs `uoe-run train`; argv[0] is "train", the rest its options. Returns
/// the process exit status: 0 on success, 1 after printing an error that
/// names the flag, file or field at fault, 2 for a run stopped by a
/// non-finite loss (the last checkpoint is kept).
int runTrain(int argc, char **argv);

/// The TRAINING OPTIONS section of `uoe-run --help`.
extern const char *const kTrainHelp;

} // namespace mlir::uoe

#endif // UOE_TOOLS_UOE_RUN_TRAIN_H
