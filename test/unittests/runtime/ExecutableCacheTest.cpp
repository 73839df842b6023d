//===- ExecutableCacheTest.cpp - the compiled-model cache ----------------===//

#include "runtime/Executable.h"

#include "TestUtil.h"

#include <gtest/gtest.h>

using namespace uoe::rt;
using uoe::rt::test::TempDir;

namespace {

/// A minimal valid Executable with `key`.
proto::Executable executableWithKey(const std::string &key) {
  proto::Executable exe;
  exe.set_format_version(kFormatVersion);
  exe.set_cache_key(key);
  proto::Kernel *kernel = exe.add_kernels();
  kernel->set_name("k");
  kernel->set_format(proto::Kernel::CPU_OBJECT);
  proto::EntryPoint *entry = exe.add_entry_points();
  entry->set_name("forward");
  auto *call = entry->add_steps()->mutable_call_packed();
  call->set_kernel("k");
  call->set_symbol("uoe_packed_forward");
  return exe;
}

TEST(ExecutableCacheTest, MissThenStoreThenHit) {
  TempDir tmp;
  std::string dir = tmp.path() + "/cache/nested";
  EXPECT_TRUE(test::hasError(loadCachedExecutable(dir, "abc").status(),
                             StatusCode::NotFound, {"abc.uoex"}));
  ASSERT_TRUE(storeCachedExecutable(dir, executableWithKey("abc")).ok());
  EXPECT_EQ(cachedExecutablePath(dir, "abc"), dir + "/abc.uoex");
  auto hit = loadCachedExecutable(dir, "abc");
  ASSERT_TRUE(hit.ok()) << hit.status().toString();
  EXPECT_EQ(hit->cache_key(), "abc");
}

TEST(ExecutableCacheTest, ForeignAndCorruptEntriesAreErrors) {
  TempDir tmp;
  // An entry whose file name and key disagree is not a hit.
  ASSERT_TRUE(
      saveExecutable(cachedExecutablePath(tmp.path(), "abc"),
                     executableWithKey("other"))
          .ok());
  EXPECT_TRUE(test::hasError(loadCachedExecutable(tmp.path(), "abc").status(),
                             StatusCode::DataLoss, {"another key"}));
  test::writeBytes(cachedExecutablePath(tmp.path(), "bad"), "not protobuf");
  auto bad = loadCachedExecutable(tmp.path(), "bad");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().code(), StatusCode::NotFound);
}

TEST(ExecutableCacheTest, UncreatableFolderIsAnError) {
  TempDir tmp;
  std::string file = tmp.path() + "/file";
  test::writeBytes(file, "x");
  EXPECT_TRUE(test::hasError(
      storeCachedExecutable(file + "/cache", executableWithKey("abc")),
      StatusCode::IoError, {"cannot create the cache folder"}));
}

} // namespace
