//===- Options.cpp - the command-line parser of uoe's tools ---------------===//

#include "tools/common/Options.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

using namespace uoe::tools;

namespace {

/// Levenshtein distance of `a` and `b`.
size_t editDistance(const std::string &a, const std::string &b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string seeHelp(const OptionSpec &spec) {
  return " (see " + spec.tool + (spec.command.empty() ? "" : " " + spec.command) +
         " --help)";
}

} // namespace

std::string uoe::tools::didYouMean(const std::string &key,
                                   const std::set<std::string> &known) {
  std::string best;
  size_t bestDistance = SIZE_MAX;
  for (const std::string &candidate : known) {
    size_t distance = editDistance(key, candidate);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = candidate;
    }
  }
  if (best.empty() || bestDistance > std::max<size_t>(2, key.size() / 3))
    return "";
  return "; did you mean '" + std::string(best.size() == 1 ? "-" : "--") +
         best + "'?";
}

std::optional<std::string>
uoe::tools::parseOptions(int argc, char **argv, int first,
                         const OptionSpec &spec, ParsedOptions &out) {
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" && spec.switches.count("help"))
      arg = "--help";
    if (arg.size() < 2 || arg[0] != '-') {
      if (spec.takesCommand && out.command.empty()) {
        out.command = arg;
        continue;
      }
      return "unexpected argument '" + arg + "'" +
             (spec.takesCommand ? std::string()
                                : " (" + (spec.command.empty() ? spec.tool
                                                               : spec.command) +
                                      " takes only --options)");
    }
    std::string key = arg.substr(arg.rfind("--", 0) == 0 ? 2 : 1), value;
    size_t eq = key.find('=');
    bool inlineValue = eq != std::string::npos;
    if (inlineValue) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
    }
    if (spec.switches.count(key)) {
      if (inlineValue)
        return "option '--" + key + "' takes no value";
    } else if (spec.values.count(key)) {
      if (!inlineValue) {
        if (i + 1 >= argc)
          return "option '" + arg + "' needs a value";
        value = argv[++i];
      }
      if (spec.repeated.count(key))
        out.lists[key].push_back(value);
    } else {
      std::set<std::string> known = spec.values;
      known.insert(spec.switches.begin(), spec.switches.end());
      return "unknown option '" + arg + "'" +
             (spec.command.empty() ? "" : " for " + spec.command) +
             seeHelp(spec) + didYouMean(key, known);
    }
    out.values[key] = value;
  }
  return std::nullopt;
}

std::optional<std::string>
uoe::tools::parseWholeNumber(const std::string &flag, const std::string &text,
                             int64_t least, int64_t most, int64_t &value) {
  char *end = nullptr;
  errno = 0;
  long long parsed = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE || parsed < least ||
      parsed > most)
    return "--" + flag + ": '" + text + "' is not a whole number from " +
           std::to_string(least) + " to " + std::to_string(most);
  value = parsed;
  return std::nullopt;
}
