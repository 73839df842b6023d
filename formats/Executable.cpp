//===- Executable.cpp - loading, saving and checking Executables ---------===//
//
// See Executable.h.
//
//===----------------------------------------------------------------------===//

#include "formats/Executable.h"

#include "support/Checksum.h"
#include "support/DType.h"
#include "support/FileUtil.h"

#include <climits>
#include <filesystem>
#include <set>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

using namespace uoe::rt;

static Status checkSpec(const proto::TensorSpec &spec, const std::string &where) {
  if (!parseDTypeName(spec.dtype()))
    return invalidArgumentError(strCat(where, " '", spec.name(),
                                       "' has an unknown dtype '", spec.dtype(),
                                       "'"));
  for (int64_t dim : spec.shape())
    if (dim < 0)
      return invalidArgumentError(strCat(where, " '", spec.name(),
                                         "' has a negative dimension"));
  return okStatus();
}

Status uoe::rt::validateExecutable(const proto::Executable &executable) {
  if (executable.format_version() != kFormatVersion)
    return invalidArgumentError(strCat(
        "executable format version ", executable.format_version(),
        " is not the supported version ", kFormatVersion,
        " (recompile the model with this uoe)"));
  for (const proto::EntryPoint &entry : executable.entry_points()) {
    std::string where = strCat("entry point '", entry.name(), "'");
    for (const auto &spec : entry.inputs())
      UOE_RETURN_IF_ERROR(checkSpec(spec, where + " input"));
    for (const auto &spec : entry.parameters())
      UOE_RETURN_IF_ERROR(checkSpec(spec, where + " parameter"));
    for (const auto &spec : entry.results())
      UOE_RETURN_IF_ERROR(checkSpec(spec, where + " result"));
    if (entry.symbol().empty())
      return invalidArgumentError(where + " names no function (symbol)");
  }
  return okStatus();
}

namespace {

constexpr char kMagic[4] = {'U', 'O', 'E', 'X'};
constexpr uint32_t kFrameVersion = 1;
constexpr size_t kFrameHeaderSize = 24;

} // namespace

std::string uoe::rt::serializeExecutable(const proto::Executable &executable) {
  std::string payload;
  executable.SerializeToString(&payload);
  std::string bytes(kMagic, sizeof kMagic);
  appendLittleEndian(bytes, kFrameVersion, 4);
  appendLittleEndian(bytes, payload.size(), 8);
  appendLittleEndian(bytes, crc32c(0, payload), 4);
  appendLittleEndian(bytes, 0, 4);
  return bytes + payload;
}

StatusOr<proto::Executable>
uoe::rt::parseExecutable(std::string_view bytes, const std::string &source) {
  if (bytes.size() < kFrameHeaderSize ||
      bytes.substr(0, sizeof kMagic) != std::string_view(kMagic, sizeof kMagic))
    return dataLossError(strCat(
        source, ": not a uoe Executable (no 'UOEX' header; an Executable "
                "saved by uoe before 0.2 has none: compile it again)"));
  uint64_t version = readLittleEndian(bytes.data() + 4, 4);
  if (version != kFrameVersion)
    return dataLossError(strCat(source, ": Executable frame version ", version,
                                " is not supported (this runtime reads ",
                                kFrameVersion, ")"));
  uint64_t size = readLittleEndian(bytes.data() + 8, 8);
  std::string_view payload = bytes.substr(kFrameHeaderSize);
  if (size != payload.size())
    return dataLossError(strCat(source, ": the Executable is truncated or "
                                        "padded (its header says ",
                                size, " bytes, ", payload.size(),
                                " follow)"));
  uint32_t stored = static_cast<uint32_t>(readLittleEndian(bytes.data() + 16, 4));
  uint32_t computed = crc32c(0, payload);
  if (stored != computed)
    return dataLossError(strCat(
        source, ": the Executable does not match its checksum (stored ",
        checksumToString(stored), ", computed ", checksumToString(computed),
        "): the file is corrupt"));
  proto::Executable executable;
  if (payload.size() > static_cast<size_t>(INT_MAX) ||
      !executable.ParseFromArray(payload.data(),
                                 static_cast<int>(payload.size())))
    return dataLossError(strCat(source, ": not a uoe Executable"));
  Status valid = validateExecutable(executable);
  if (!valid.ok())
    return dataLossError(strCat(source, ": ", valid.message()));
  return executable;
}

StatusOr<proto::Executable> uoe::rt::loadExecutable(const std::string &path) {
  UOE_ASSIGN_OR_RETURN(std::string bytes, readFile(path));
  return parseExecutable(bytes, strCat("'", path, "'"));
}

Status uoe::rt::saveExecutable(const std::string &path,
                               const proto::Executable &executable) {
  UOE_RETURN_IF_ERROR(validateExecutable(executable));
  return writeFileAtomically(path, serializeExecutable(executable));
}

StatusOr<const proto::EntryPoint *>
uoe::rt::findEntryPoint(const proto::Executable &executable,
                        const std::string &name) {
  std::string known;
  for (const proto::EntryPoint &entry : executable.entry_points()) {
    if (entry.name() == name)
      return &entry;
    known += (known.empty() ? "" : ", ") + entry.name();
  }
  return notFoundError(strCat("the executable has no entry point '", name,
                              "' (it has: ", known, ")"));
}

std::string uoe::rt::cachedExecutablePath(const std::string &dir,
                                          const std::string &key) {
  return dir + "/" + key + ".uoex";
}

StatusOr<proto::Executable>
uoe::rt::loadCachedExecutable(const std::string &dir, const std::string &key) {
  std::string path = cachedExecutablePath(dir, key);
  struct stat info;
  if (::stat(path.c_str(), &info) != 0)
    return notFoundError(strCat("no cache entry ", path));
  // An Executable is native code that loading runs: only the user's own.
  if (info.st_uid != ::geteuid())
    return failedPreconditionError(strCat(
        "refusing the cache entry ", path, ": it belongs to user ",
        info.st_uid, ", not to you (", ::geteuid(),
        "); an Executable's code runs when it is loaded"));
  UOE_ASSIGN_OR_RETURN(proto::Executable executable, loadExecutable(path));
  if (executable.cache_key() != key)
    return dataLossError(strCat(path, " holds the Executable of another key"));
  return executable;
}

Status uoe::rt::storeCachedExecutable(const std::string &dir,
                                      const proto::Executable &executable) {
  // Folders this creates are the user's alone (0700): others could put
  // code there that the user would then run.
  std::error_code error;
  std::filesystem::path folder(dir);
  std::vector<std::filesystem::path> created;
  for (std::filesystem::path p = folder; !p.empty() &&
                                         !std::filesystem::exists(p, error);
       p = p.parent_path()) {
    created.push_back(p);
    if (p == p.parent_path())
      break;
  }
  std::filesystem::create_directories(dir, error);
  if (error)
    return ioError(strCat("cannot create the cache folder ", dir, ": ",
                          error.message()));
  for (const std::filesystem::path &p : created)
    ::chmod(p.c_str(), 0700);
  return saveExecutable(cachedExecutablePath(dir, executable.cache_key()),
                        executable);
}
