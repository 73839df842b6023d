//===- Generate.h - the `uoe-run generate` command --------------*- C++ -*-===//
//
// Text generation with a byte-level language model:
//
//   uoe-run generate --model M.pbtxt --weights W.safetensors --prompt TEXT
//                    --tokens N [--temperature T] [--top-k K] [--seed S]
//                    [--causal-safe | --reference-routing]
//
// compiles `forward` for one sequence of Tmax tokens (the learned position
// table's max_positions, else prompt + N), then N times runs it on the
// sequence so far padded to Tmax and draws the next byte from the logits
// at the last real position: the largest with --temperature 0, else a
// sample of softmax(logits / T) over the K largest (all with --top-k 0),
// from a generator seeded with --seed. Prints the prompt and the
// continuation. With causal attention and causal-safe routing (spec §7),
// the padding after a position cannot change its logits; reference routing
// is allowed with a warning, since it ranks every position.
// docs/TRAINING.md, "Generating text".
//
//===----------------------------------------------------------------------===//

#ifndef UOE_TOOLS_UOE_RUN_GENERATE_H
#define UOE_TOOLS_UOE_RUN_GENERATE_H

namespace mlir::uoe {

/// Runs `uoe-run generate`; argv[0] is "generate", the rest its options.
/// Returns 0 on success, 1 after printing an error that names the flag,
/// file or field at fault.
int runGenerate(int argc, char **argv);

/// The GENERATION OPTIONS section of `uoe-run --help`.
extern const char *const kGenerateHelp;

} // namespace mlir::uoe

#endif // UOE_TOOLS_UOE_RUN_GENERATE_H
