//===- Checkpoint.cpp - training checkpoints in a directory ---------------===//
//
// The ordering is what makes checkpoints crash-safe: the checkpoint file is
// complete and durable (writeSafetensors renames a fsync'ed temporary file
// and fsyncs the directory) before `latest` is replaced by the same atomic
// write. A crash in between leaves an orphan checkpoint that `latest` does
// not name; a crash during either write leaves only a temporary file.
//
//===----------------------------------------------------------------------===//

#include "formats/Checkpoint.h"

#include "support/FileUtil.h"

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sys/stat.h>

namespace uoe::rt {

namespace {

/// Parses a whole non-negative decimal integer.
bool parseStep(std::string_view text, int64_t &step) {
  if (text.empty() || text.size() > 18)
    return false;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return false;
    value = value * 10 + (c - '0');
  }
  step = value;
  return true;
}

std::string joinPath(const std::string &dir, std::string_view name) {
  if (dir.empty())
    return std::string(name);
  if (dir.back() == '/')
    return dir + std::string(name);
  return dir + "/" + std::string(name);
}

Status createDirectories(const std::string &dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error)
    return ioError(strCat("cannot create the checkpoint directory '", dir,
                          "': ", error.message()));
  return okStatus();
}

} // namespace

bool isOptimizerTensorName(std::string_view name) {
  return name.substr(0, kOptimizerTensorPrefix.size()) ==
         kOptimizerTensorPrefix;
}

std::string checkpointFileName(int64_t step) {
  char buffer[48];
  std::snprintf(buffer, sizeof(buffer), "step-%06" PRId64 ".safetensors",
                step);
  return buffer;
}

StatusOr<std::string> writeCheckpoint(
    const std::string &dir, int64_t step,
    const std::vector<std::pair<std::string, const HostTensor *>> &tensors,
    const std::map<std::string, std::string, std::less<>> &metadata) {
  if (step < 0)
    return invalidArgumentError(strCat("checkpoint step ", step,
                                       " is negative"));
  UOE_RETURN_IF_ERROR(createDirectories(dir.empty() ? "." : dir));
  std::map<std::string, std::string, std::less<>> all = metadata;
  all["format"] = "uoe";
  all[kCheckpointVersionKey] = "1";
  all[kCheckpointStepKey] = std::to_string(step);
  std::string name = checkpointFileName(step);
  std::string path = joinPath(dir, name);
  UOE_RETURN_IF_ERROR(writeSafetensors(path, tensors, all));
  UOE_RETURN_IF_ERROR(
      writeFileAtomically(joinPath(dir, kLatestCheckpointFile), name + "\n"));
  return path;
}

StatusOr<std::string> latestCheckpointPath(const std::string &dir) {
  std::string latest = joinPath(dir, kLatestCheckpointFile);
  StatusOr<std::string> text = readFile(latest);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::NotFound)
      return notFoundError(strCat("no checkpoint in '", dir, "' (", latest,
                                  " does not exist)"));
    return text.status();
  }
  std::string name = *text;
  while (!name.empty() && (name.back() == '\n' || name.back() == '\r' ||
                           name.back() == ' '))
    name.pop_back();
  if (name.empty() || name.find('/') != std::string::npos || name == "." ||
      name == ".." || name.find('\0') != std::string::npos)
    return dataLossError(strCat(latest, ": '", name,
                                "' is not the file name of a checkpoint"));
  std::string path = joinPath(dir, name);
  struct stat info;
  if (::stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode))
    return dataLossError(strCat(latest, " names '", name,
                                "', which is not a file in '", dir, "'"));
  return path;
}

StatusOr<Checkpoint> readCheckpoint(const std::string &path) {
  UOE_ASSIGN_OR_RETURN(SafetensorsContents contents, readSafetensors(path));
  auto version = contents.metadata.find(kCheckpointVersionKey);
  if (version == contents.metadata.end())
    return dataLossError(strCat(path, ": not a uoe checkpoint (no '",
                                kCheckpointVersionKey,
                                "' in its metadata; a weights file?)"));
  if (version->second != "1")
    return unimplementedError(strCat(path, ": checkpoint format version '",
                                     version->second,
                                     "' (this build reads version 1)"));
  Checkpoint checkpoint;
  auto step = contents.metadata.find(kCheckpointStepKey);
  if (step == contents.metadata.end() ||
      !parseStep(step->second, checkpoint.step))
    return dataLossError(strCat(path, ": the checkpoint's metadata has no "
                                      "valid 'step'"));
  checkpoint.path = path;
  checkpoint.contents = std::move(contents);
  return checkpoint;
}

StatusOr<Checkpoint> readLatestCheckpoint(const std::string &dir) {
  UOE_ASSIGN_OR_RETURN(std::string path, latestCheckpointPath(dir));
  return readCheckpoint(path);
}

} // namespace uoe::rt
