//===- CommandLine.cpp - what uoe-run's commands share ------------------===//
//
// See CommandLine.h.
//
//===----------------------------------------------------------------------===//

#include "CommandLine.h"

#include <cstdlib>

std::optional<std::string> uoe::tools::parseCommandOptions(
    int argc, char **argv, const std::string &command,
    const std::set<std::string> &valueFlags,
    const std::set<std::string> &switchFlags,
    std::map<std::string, std::string> &values, std::set<std::string> *given) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0)
      return "unexpected argument '" + arg + "' (" + command +
             " takes only --options)";
    std::string key = arg.substr(2), value;
    size_t eq = key.find('=');
    bool inlineValue = eq != std::string::npos;
    if (inlineValue) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
    }
    if (switchFlags.count(key)) {
      if (inlineValue)
        return "option '--" + key + "' takes no value";
    } else if (valueFlags.count(key)) {
      if (!inlineValue) {
        if (i + 1 >= argc)
          return "option '" + arg + "' needs a value";
        value = argv[++i];
      }
    } else {
      return "unknown option '" + arg + "' for " + command +
             " (see uoe-run --help)";
    }
    values[key] = value;
    if (given)
      given->insert(key);
  }
  return std::nullopt;
}

std::string uoe::tools::defaultCacheDir() {
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return std::string(xdg) + "/uoe";
  if (const char *home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/uoe";
  return "";
}
