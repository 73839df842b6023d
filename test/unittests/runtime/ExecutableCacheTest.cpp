//===- ExecutableCacheTest.cpp - the compiled-model cache ----------------===//

#include "formats/Executable.h"

#include "TestUtil.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

using namespace uoe::rt;
using uoe::rt::test::TempDir;

namespace {

/// A minimal valid Executable with `key`.
proto::Executable executableWithKey(const std::string &key) {
  proto::Executable exe;
  exe.set_format_version(kFormatVersion);
  exe.set_cache_key(key);
  proto::EntryPoint *entry = exe.add_entry_points();
  entry->set_name("forward");
  entry->set_symbol("uoe_packed_forward");
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

// Tests that the header and checksum find a flipped bit, a truncation and
// a file that is no framed Executable.
TEST(ExecutableCacheTest, ChecksumFindsCorruption) {
  std::string bytes = serializeExecutable(executableWithKey("abc"));
  ASSERT_EQ(bytes.substr(0, 4), "UOEX");
  auto good = parseExecutable(bytes, "good");
  ASSERT_TRUE(good.ok()) << good.status().toString();
  EXPECT_EQ(good->cache_key(), "abc");
  for (size_t at = 24; at < bytes.size(); at += 7) {
    std::string flipped = bytes;
    flipped[at] ^= 0x04;
    EXPECT_TRUE(test::hasError(parseExecutable(flipped, "flipped").status(),
                               StatusCode::DataLoss,
                               {"flipped", "checksum", "corrupt"}))
        << "byte " << at;
  }
  EXPECT_TRUE(test::hasError(
      parseExecutable(bytes.substr(0, bytes.size() - 1), "short").status(),
      StatusCode::DataLoss, {"short", "truncated"}));
  EXPECT_TRUE(test::hasError(parseExecutable(bytes.substr(24), "bare").status(),
                             StatusCode::DataLoss, {"bare", "'UOEX' header"}));
}

// Tests that the cache creates its folders for the user alone.
TEST(ExecutableCacheTest, FoldersAreTheUsersAlone) {
  TempDir tmp;
  std::string dir = tmp.path() + "/a/b";
  ASSERT_TRUE(storeCachedExecutable(dir, executableWithKey("k")).ok());
  for (const std::string &folder : {tmp.path() + "/a", dir}) {
    struct stat info;
    ASSERT_EQ(::stat(folder.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0700u) << folder;
  }
}

// Tests that an entry another user owns is refused (needs root to make one).
TEST(ExecutableCacheTest, EntriesOfOtherUsersAreRefused) {
  if (::geteuid() != 0)
    GTEST_SKIP() << "making a file of another user needs root";
  TempDir tmp;
  ASSERT_TRUE(storeCachedExecutable(tmp.path(), executableWithKey("k")).ok());
  ASSERT_EQ(::chown(cachedExecutablePath(tmp.path(), "k").c_str(), 4242, 4242),
            0);
  EXPECT_TRUE(test::hasError(loadCachedExecutable(tmp.path(), "k").status(),
                             StatusCode::FailedPrecondition,
                             {"refusing", "k.uoex", "4242"}));
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
