//===- CommandLine.h - what uoe-run's commands share -------------*- C++ -*-===//
//
// The `--flag VALUE` / `--flag=VALUE` / `--switch` parser of the train and
// generate commands, and the default compiled-model cache directory.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_TOOLS_UOE_RUN_COMMANDLINE_H
#define UOE_TOOLS_UOE_RUN_COMMANDLINE_H

#include <map>
#include <optional>
#include <set>
#include <string>

namespace uoe::tools {

/// Parses argv[1..argc) of `command`: every argument is `--key VALUE` or
/// `--key=VALUE` for a key of `valueFlags`, or `--key` for one of
/// `switchFlags` (its value ""). Fills `values` (a later flag wins) and,
/// when given, `given` with the keys seen. Returns the first problem as a
/// message naming the argument, or nothing.
std::optional<std::string>
parseCommandOptions(int argc, char **argv, const std::string &command,
                    const std::set<std::string> &valueFlags,
                    const std::set<std::string> &switchFlags,
                    std::map<std::string, std::string> &values,
                    std::set<std::string> *given = nullptr);

/// `$XDG_CACHE_HOME/uoe`, else `~/.cache/uoe`, else "" (no cache).
std::string defaultCacheDir();

} // namespace uoe::tools

#endif // UOE_TOOLS_UOE_RUN_COMMANDLINE_H
