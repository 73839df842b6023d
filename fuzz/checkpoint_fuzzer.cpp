//===- checkpoint_fuzzer.cpp - fuzzes reading training checkpoints --------===//
//
// The input is a checkpoint file (a safetensors file whose __metadata__
// holds "uoe.checkpoint", "step", ...): it is written as
// step-000001.safetensors in a scratch directory and read with
// readCheckpoint (formats/Checkpoint.h). An error Status is fine; a crash,
// a sanitizer report, a leak or a timeout is a bug. A checkpoint read
// successfully must have a non-negative step and metadata that says so.
//
//===----------------------------------------------------------------------===//

#include "FuzzUtil.h"

#include "formats/Checkpoint.h"

#include <cstdio>
#include <cstdlib>

using namespace uoe;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path =
      fuzz::writeScratchFile("step-000001.safetensors", data, size);
  rt::StatusOr<rt::Checkpoint> checkpoint = rt::readCheckpoint(path);
  fuzz::report("readCheckpoint", checkpoint.status());
  if (!checkpoint.ok()) {
    fuzz::keep(checkpoint.status().message().size());
    return 0;
  }
  const auto &metadata = checkpoint->contents.metadata;
  auto step = metadata.find(rt::kCheckpointStepKey);
  if (checkpoint->step < 0 || step == metadata.end() ||
      !metadata.count(rt::kCheckpointVersionKey) || checkpoint->path != path) {
    std::fprintf(stderr, "readCheckpoint accepted a checkpoint without a "
                         "valid step or version\n");
    std::abort();
  }
  uint64_t sum = static_cast<uint64_t>(checkpoint->step);
  for (const auto &[name, tensor] : checkpoint->contents.tensors) {
    sum += rt::isOptimizerTensorName(name);
    sum += fuzz::touchTensor(tensor);
  }
  for (const std::string &name : checkpoint->contents.names())
    sum += checkpoint->contents.get(name).ok();
  fuzz::keep(sum);
  return 0;
}
