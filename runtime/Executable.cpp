//===- Executable.cpp - loading, saving and checking Executables ---------===//
//
// See Executable.h.
//
//===----------------------------------------------------------------------===//

#include "runtime/Executable.h"

#include "runtime/DType.h"
#include "runtime/FileUtil.h"

#include <filesystem>
#include <set>

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
  std::set<std::string> kernels;
  for (const proto::Kernel &kernel : executable.kernels())
    if (!kernels.insert(kernel.name()).second)
      return invalidArgumentError(
          strCat("kernel '", kernel.name(), "' is defined twice"));
  for (const proto::EntryPoint &entry : executable.entry_points()) {
    std::string where = strCat("entry point '", entry.name(), "'");
    for (const auto &spec : entry.inputs())
      UOE_RETURN_IF_ERROR(checkSpec(spec, where + " input"));
    for (const auto &spec : entry.parameters())
      UOE_RETURN_IF_ERROR(checkSpec(spec, where + " parameter"));
    for (const auto &spec : entry.results())
      UOE_RETURN_IF_ERROR(checkSpec(spec, where + " result"));
    if (entry.steps().empty())
      return invalidArgumentError(where + " has no steps");
    for (const proto::Step &step : entry.steps()) {
      if (!step.has_call_packed())
        return invalidArgumentError(where + " has a step of an unknown kind");
      if (!kernels.count(step.call_packed().kernel()))
        return invalidArgumentError(strCat(where, " calls the unknown kernel '",
                                           step.call_packed().kernel(), "'"));
    }
  }
  return okStatus();
}

StatusOr<proto::Executable> uoe::rt::loadExecutable(const std::string &path) {
  UOE_ASSIGN_OR_RETURN(std::string bytes, readFile(path));
  proto::Executable executable;
  if (!executable.ParseFromString(bytes))
    return dataLossError(strCat("'", path, "' is not a uoe executable"));
  Status valid = validateExecutable(executable);
  if (!valid.ok())
    return dataLossError(strCat("'", path, "': ", valid.message()));
  return executable;
}

Status uoe::rt::saveExecutable(const std::string &path,
                               const proto::Executable &executable) {
  UOE_RETURN_IF_ERROR(validateExecutable(executable));
  std::string bytes;
  if (!executable.SerializeToString(&bytes))
    return internalError("cannot serialise the executable");
  return writeFileAtomically(path, bytes);
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
  std::error_code error;
  if (!std::filesystem::exists(path, error))
    return notFoundError(strCat("no cache entry ", path));
  UOE_ASSIGN_OR_RETURN(proto::Executable executable, loadExecutable(path));
  if (executable.cache_key() != key)
    return dataLossError(strCat(path, " holds the Executable of another key"));
  return executable;
}

Status uoe::rt::storeCachedExecutable(const std::string &dir,
                                      const proto::Executable &executable) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error)
    return ioError(strCat("cannot create the cache folder ", dir, ": ",
                          error.message()));
  return saveExecutable(cachedExecutablePath(dir, executable.cache_key()),
                        executable);
}
