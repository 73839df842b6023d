//===- Options.h - the command-line parser of uoe's tools -------*- C++ -*-===//
//
// One parser for uoe-run (every command) and uoe-exec: `--key VALUE`,
// `--key=VALUE` and `-k VALUE` for value options, `--key` for switches,
// options that may repeat (each value kept, in order), an optional leading
// command word, `-h` as `--help`. Errors name the argument and, for an
// unknown option, suggest the nearest known one. No LLVM: uoe-exec is built
// by the runtime-only tree too.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_TOOLS_COMMON_OPTIONS_H
#define UOE_TOOLS_COMMON_OPTIONS_H

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace uoe::tools {

/// What a tool (or one of its commands) accepts.
struct OptionSpec {
  /// The tool ("uoe-run") and the command ("train"; empty for the tool's
  /// own options), for messages: "see uoe-run train --help".
  std::string tool, command;
  /// Options with a value, without their dashes ("model", "o").
  std::set<std::string> values;
  /// Options without a value ("help", "no-cache").
  std::set<std::string> switches;
  /// Value options that may be given more than once (all values kept).
  std::set<std::string> repeated;
  /// Whether the first word that is not an option names a command.
  bool takesCommand = false;
};

/// A parsed command line.
struct ParsedOptions {
  std::string command;
  /// The last value of each option given ("" for a switch).
  std::map<std::string, std::string> values;
  /// Every value of a repeated option, in order.
  std::map<std::string, std::vector<std::string>> lists;

  bool has(const std::string &key) const { return values.count(key) != 0; }
  std::string get(const std::string &key, const std::string &def = "") const {
    auto it = values.find(key);
    return it == values.end() ? def : it->second;
  }
};

/// Parses argv[first..argc) against `spec` into `out`; the first problem as
/// a message naming the argument, or nothing.
std::optional<std::string> parseOptions(int argc, char **argv, int first,
                                        const OptionSpec &spec,
                                        ParsedOptions &out);

/// "; did you mean '--steps'?" for the name in `known` nearest to `key`
/// (without dashes) when it is close (an edit distance of at most 2, or a
/// third of the key's length), else "".
std::string didYouMean(const std::string &key,
                       const std::set<std::string> &known);

/// Reads option `flag`'s value `text` as a whole number in [least, most];
/// else the message "--FLAG: 'TEXT' is not a whole number from L to M".
std::optional<std::string> parseWholeNumber(const std::string &flag,
                                            const std::string &text,
                                            int64_t least, int64_t most,
                                            int64_t &value);

} // namespace uoe::tools

#endif // UOE_TOOLS_COMMON_OPTIONS_H
