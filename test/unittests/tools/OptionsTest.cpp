//===- OptionsTest.cpp - the tools' command-line parser -------------------===//

#include "tools/common/Options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace uoe::tools;

namespace {

/// Parses `args` (after the program name) against `spec`; the error or "".
std::string parse(const OptionSpec &spec, std::vector<std::string> args,
                  ParsedOptions &&out = ParsedOptions()) {
  std::vector<char *> argv{const_cast<char *>("tool")};
  for (std::string &a : args)
    argv.push_back(a.data());
  auto error = parseOptions(static_cast<int>(argv.size()), argv.data(), 1,
                            spec, out);
  return error ? *error : "";
}

OptionSpec runSpec() {
  OptionSpec spec;
  spec.tool = "uoe-run";
  spec.takesCommand = true;
  spec.values = {"model", "o", "input", "steps"};
  spec.switches = {"help", "no-cache"};
  spec.repeated = {"input"};
  return spec;
}

// Tests the forms of options: separate and inline values, single-dash
// short names, switches, repeats, the command word and -h.
TEST(OptionsTest, ParsesEveryForm) {
  ParsedOptions out;
  EXPECT_EQ(parse(runSpec(),
                  {"infer", "--model", "m.pbtxt", "-o", "x.uoex",
                   "--input=a.npy", "--input", "b.npy", "--no-cache", "-h"},
                  std::move(out)),
            "");
  EXPECT_EQ(out.command, "infer");
  EXPECT_EQ(out.get("model"), "m.pbtxt");
  EXPECT_EQ(out.get("o"), "x.uoex");
  EXPECT_EQ(out.lists["input"], (std::vector<std::string>{"a.npy", "b.npy"}));
  EXPECT_TRUE(out.has("no-cache"));
  EXPECT_TRUE(out.has("help"));
  EXPECT_FALSE(out.has("steps"));
  EXPECT_EQ(out.get("steps", "7"), "7");
}

// Tests every error message, with the suggestion for a near miss only.
TEST(OptionsTest, ErrorsNameTheArgument) {
  EXPECT_EQ(parse(runSpec(), {"infer", "--modle", "m"}),
            "unknown option '--modle' (see uoe-run --help); did you mean "
            "'--model'?");
  EXPECT_EQ(parse(runSpec(), {"infer", "--frobnicate"}),
            "unknown option '--frobnicate' (see uoe-run --help)");
  EXPECT_EQ(parse(runSpec(), {"infer", "--model"}),
            "option '--model' needs a value");
  EXPECT_EQ(parse(runSpec(), {"infer", "--no-cache=1"}),
            "option '--no-cache' takes no value");
  EXPECT_EQ(parse(runSpec(), {"infer", "extra"}),
            "unexpected argument 'extra'");
  OptionSpec train = runSpec();
  train.command = "train";
  train.takesCommand = false;
  EXPECT_EQ(parse(train, {"--stpes", "3"}),
            "unknown option '--stpes' for train (see uoe-run train --help); "
            "did you mean '--steps'?");
  EXPECT_EQ(parse(train, {"word"}),
            "unexpected argument 'word' (train takes only --options)");
}

// Tests whole numbers: range, signs, junk and overflow.
TEST(OptionsTest, WholeNumbers) {
  int64_t v = 0;
  EXPECT_FALSE(parseWholeNumber("threads", "4", 1, 4096, v));
  EXPECT_EQ(v, 4);
  for (const char *bad : {"0", "-3", "4097", "1e3", "", "3x",
                          "99999999999999999999"})
    EXPECT_EQ(parseWholeNumber("threads", bad, 1, 4096, v).value_or(""),
              std::string("--threads: '") + bad +
                  "' is not a whole number from 1 to 4096")
        << bad;
}

} // namespace
