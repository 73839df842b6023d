//===- Checkpoint.h - training checkpoints in a directory -------*- C++ -*-===//
//
// A training checkpoint is ONE safetensors file holding every tensor needed
// to continue (the weights, and the optimizer state `opt.<slot>.<param>`)
// with the rest of the state in its `__metadata__` map (the step, the data
// sampler's state, the options a resumed run must keep). Checkpoints live
// in a directory:
//
//   DIR/step-000200.safetensors   one per saved step (6 digits or more)
//   DIR/latest                    the file name of the newest complete one
//
// Both are written atomically (temporary file in DIR, fsync, rename, fsync
// of DIR; see writeFileAtomically), and `latest` only after the checkpoint
// it names is complete, so a run killed at any moment leaves `latest`
// naming a complete checkpoint (or no `latest` at all), never a partial
// file. A weights file is a checkpoint without the optimizer tensors: the
// file is loadable as weights by anything that ignores `opt.*` tensors
// (`uoe-run infer` does).
//
// Thread safety: functions are thread-compatible; two writers in one
// directory race on `latest` (the last rename wins).
//
//===----------------------------------------------------------------------===//

#ifndef UOE_FORMATS_CHECKPOINT_H
#define UOE_FORMATS_CHECKPOINT_H

#include "support/HostTensor.h"
#include "formats/Safetensors.h"
#include "support/Status.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace uoe::rt {

/// The name of the file in a checkpoint directory that names the newest
/// checkpoint.
inline constexpr const char *kLatestCheckpointFile = "latest";
/// The prefix of optimizer-state tensor names (`opt.m.blocks.0.mlp.w1`).
inline constexpr std::string_view kOptimizerTensorPrefix = "opt.";
/// Metadata keys every checkpoint has: "format" ("uoe"), "uoe.checkpoint"
/// (the format version, "1") and "step" (decimal).
inline constexpr const char *kCheckpointVersionKey = "uoe.checkpoint";
inline constexpr const char *kCheckpointStepKey = "step";

/// True for the names of optimizer-state tensors (`opt.` prefix).
bool isOptimizerTensorName(std::string_view name);

/// "step-000200.safetensors" for step 200 (at least 6 digits).
std::string checkpointFileName(int64_t step);

/// Writes `tensors` and `metadata` (plus the keys above, which override
/// any of the same name) as DIR/checkpointFileName(step), creating DIR if
/// needed, then points DIR/latest at it. Returns the checkpoint's path.
/// On any failure `latest` is unchanged. Errors name the file.
StatusOr<std::string> writeCheckpoint(
    const std::string &dir, int64_t step,
    const std::vector<std::pair<std::string, const HostTensor *>> &tensors,
    const std::map<std::string, std::string, std::less<>> &metadata);

/// The path of the checkpoint DIR/latest names. NotFound if DIR/latest does
/// not exist (no checkpoint yet); DataLoss if it names no regular file in
/// DIR or is malformed.
StatusOr<std::string> latestCheckpointPath(const std::string &dir);

/// A checkpoint read back.
struct Checkpoint {
  std::string path;
  int64_t step = 0;
  /// Every tensor and the metadata, as stored.
  SafetensorsContents contents;
};

/// Reads the checkpoint at `path`: errors of readSafetensors, and
/// DataLoss if its metadata has no valid "uoe.checkpoint" / "step" (e.g. a
/// plain weights file).
StatusOr<Checkpoint> readCheckpoint(const std::string &path);

/// readCheckpoint(latestCheckpointPath(dir)).
StatusOr<Checkpoint> readLatestCheckpoint(const std::string &dir);

} // namespace uoe::rt

#endif // UOE_FORMATS_CHECKPOINT_H
