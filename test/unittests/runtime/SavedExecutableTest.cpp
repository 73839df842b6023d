//===- SavedExecutableTest.cpp - running a committed Executable -----------===//
//
// What the runtime-only build is for: a model compiled elsewhere (by the
// compiler build, saved as a .uoex) runs here with the runtime's own ELF
// loader, through CpuProgram as uoe-run and the C API run it. The committed
// Executable and its expected output are described in SavedExecutable.h;
// the weights and the input are computed there, the same way the generator
// computed them.
//
//===----------------------------------------------------------------------===//

#include "SavedExecutable.h"
#include "TestUtil.h"

#include "runtime/CpuDevice.h"
#include "runtime/ElfObjectLoader.h"
#include "formats/Executable.h"
#include "formats/Npy.h"

#include "gtest/gtest.h"

#include <string>

namespace uoe::rt {
namespace {

std::string inputPath(const char *name) {
  return std::string(UOE_RUNTIME_TEST_INPUTS) + "/" + name;
}

TEST(SavedExecutableTest, RunsWithTheElfLoader) {
#if !defined(__x86_64__)
  GTEST_SKIP() << "the committed Executable holds x86-64 code";
#endif
  auto executable = loadExecutable(inputPath(test::kSavedExecutableFile));
  ASSERT_OK(executable);
  // Compiled for the generic CPU, so that any x86-64 machine runs it.
  EXPECT_NE(executable->target().find(std::string(":") + test::kSavedCpu + ":"),
            std::string::npos)
      << executable->target();
  EXPECT_FALSE(executable->object().empty());

  ElfObjectLoader loader;
  auto program = CpuProgram::load(*executable, loader);
  ASSERT_OK(program);
  auto entry = findEntryPoint(*executable, "forward");
  ASSERT_OK(entry);
  ASSERT_OK(
      (*program)->bindParameters("forward", test::savedParameters(**entry)));
  std::vector<HostTensor> inputs = test::savedInputs(**entry);
  ASSERT_EQ(inputs.size(), 1u);
  auto results = (*program)->run("forward", inputs);
  ASSERT_OK(results);
  ASSERT_EQ(results->size(), 1u);

  auto expected = readNpy(inputPath(test::kSavedExpectedFile));
  ASSERT_OK(expected);
  EXPECT_EQ(test::compareWithExpected((*results)[0], *expected), "");

  // A second run computes the same bits (the allocator's cached blocks, the
  // same code).
  auto again = (*program)->run("forward", inputs);
  ASSERT_OK(again);
  EXPECT_TRUE((*again)[0].bitwiseEqual((*results)[0]));
}

TEST(SavedExecutableTest, TwoProgramsOfOneExecutableAreIndependent) {
#if !defined(__x86_64__)
  GTEST_SKIP() << "the committed Executable holds x86-64 code";
#endif
  auto executable = loadExecutable(inputPath(test::kSavedExecutableFile));
  ASSERT_OK(executable);
  ElfObjectLoader loader;
  auto first = CpuProgram::load(*executable, loader);
  auto second = CpuProgram::load(*executable, loader);
  ASSERT_OK(first);
  ASSERT_OK(second);
  auto entry = findEntryPoint(*executable, "forward");
  ASSERT_OK(entry);
  ASSERT_OK(
      (*first)->bindParameters("forward", test::savedParameters(**entry)));
  ASSERT_OK(
      (*second)->bindParameters("forward", test::savedParameters(**entry)));
  std::vector<HostTensor> inputs = test::savedInputs(**entry);
  auto a = (*first)->run("forward", inputs);
  first->reset(); // unloading one leaves the other working
  auto b = (*second)->run("forward", inputs);
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_TRUE((*a)[0].bitwiseEqual((*b)[0]));
}

} // namespace
} // namespace uoe::rt
