//===- FileUtilTest.cpp - tests of file reads and atomic writes -----------===//
//
// Whole-file and positioned reads (binary contents, short files, missing
// files, directories) and writeFileAtomically: contents, overwrite, and
// that no failure leaves the target changed or a temporary file behind,
// including with concurrent writers.
//
//===----------------------------------------------------------------------===//

#include "support/FileUtil.h"

#include "TestUtil.h"

#include "gtest/gtest.h"

#include <filesystem>
#include <sys/stat.h>
#include <thread>

namespace uoe::rt {
namespace {

using test::fileExists;
using test::hasError;
using test::readBytes;
using test::TempDir;
using test::writeBytes;

TEST(FileUtilTest, ReadFileIsBinarySafe) {
  TempDir dir;
  std::string contents("a\0b\r\n\xff\x00z", 8);
  writeBytes(dir.file("f"), contents);
  StatusOr<std::string> read = readFile(dir.file("f"));
  ASSERT_OK(read);
  EXPECT_EQ(*read, contents);

  writeBytes(dir.file("empty"), "");
  StatusOr<std::string> empty = readFile(dir.file("empty"));
  ASSERT_OK(empty);
  EXPECT_EQ(*empty, "");
}

TEST(FileUtilTest, ReadErrorsNameTheFile) {
  TempDir dir;
  std::string missing = dir.file("missing");
  EXPECT_TRUE(hasError(readFile(missing).status(), StatusCode::NotFound,
                       {"cannot open", missing, "No such file"}));
  EXPECT_TRUE(hasError(readFile(dir.path()).status(),
                       StatusCode::InvalidArgument,
                       {dir.path(), "not a regular file"}));
}

TEST(FileUtilTest, ReadAtChecksTheEnd) {
  TempDir dir;
  writeBytes(dir.file("f"), "0123456789");
  StatusOr<InputFile> file = InputFile::open(dir.file("f"));
  ASSERT_OK(file);
  EXPECT_EQ(file->size(), 10u);
  EXPECT_EQ(file->path(), dir.file("f"));
  char buffer[8] = {0};
  ASSERT_OK(file->readAt(6, buffer, 4));
  EXPECT_EQ(std::string(buffer, 4), "6789");
  ASSERT_OK(file->readAt(10, buffer, 0));
  EXPECT_TRUE(hasError(file->readAt(7, buffer, 4), StatusCode::DataLoss,
                       {dir.file("f"), "unexpected end of file",
                        "needed 4 bytes at offset 7", "ends at byte 10"}));
  EXPECT_TRUE(hasError(file->readAt(100, buffer, 1), StatusCode::DataLoss,
                       {"unexpected end of file"}));

  // Moving keeps the descriptor open.
  InputFile moved = std::move(*file);
  ASSERT_OK(moved.readAt(0, buffer, 2));
  EXPECT_EQ(std::string(buffer, 2), "01");
}

TEST(FileUtilTest, AtomicWriteConcatenatesChunksAndOverwrites) {
  TempDir dir;
  std::string path = dir.file("out");
  std::string a = "header", b(100000, 'x');
  ASSERT_OK(writeFileAtomically(path, {ByteChunk{a.data(), a.size()},
                                       ByteChunk{nullptr, 0},
                                       ByteChunk{b.data(), b.size()}}));
  EXPECT_EQ(readBytes(path), a + b);
  ASSERT_OK(writeFileAtomically(path, "short"));
  EXPECT_EQ(readBytes(path), "short");
  ASSERT_OK(writeFileAtomically(path, ""));
  EXPECT_EQ(readBytes(path), "");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"out"});
}

TEST(FileUtilTest, AtomicWriteRespectsUmask) {
  TempDir dir;
  mode_t old = ::umask(022);
  ASSERT_OK(writeFileAtomically(dir.file("f"), "x"));
  ::umask(old);
  struct stat info;
  ASSERT_EQ(::stat(dir.file("f").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0644u);
}

TEST(FileUtilTest, FailedWritesLeaveNoFile) {
  TempDir dir;
  std::string noDir = dir.file("absent/out");
  EXPECT_TRUE(hasError(writeFileAtomically(noDir, "data"), StatusCode::NotFound,
                       {"writing '" + noDir + "'", "cannot create"}));
  EXPECT_TRUE(dir.entries().empty());

  // The rename fails after the data was written and synced.
  std::string blocked = dir.file("blocked");
  std::filesystem::create_directory(blocked);
  std::filesystem::create_directory(blocked + "/child");
  EXPECT_TRUE(hasError(writeFileAtomically(blocked, "data"),
                       StatusCode::IoError, {blocked, "rename"}));
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"blocked"});
  EXPECT_TRUE(std::filesystem::is_directory(blocked + "/child"));

  EXPECT_TRUE(hasError(writeFileAtomically("", "data"),
                       StatusCode::InvalidArgument, {"empty path"}));
}

TEST(FileUtilTest, ReadOnlyDirectoryFailsCleanly) {
  if (::geteuid() == 0)
    GTEST_SKIP() << "root ignores directory permissions";
  TempDir dir;
  std::string sub = dir.file("ro");
  std::filesystem::create_directory(sub);
  ::chmod(sub.c_str(), 0555);
  EXPECT_TRUE(hasError(writeFileAtomically(sub + "/f", "data"),
                       StatusCode::IoError, {"Permission denied"}));
  ::chmod(sub.c_str(), 0755);
  EXPECT_TRUE(std::filesystem::is_empty(sub));
}

TEST(FileUtilTest, ConcurrentWritersNeverMix) {
  TempDir dir;
  std::string path = dir.file("shared");
  std::vector<std::string> contents;
  for (int i = 0; i < 8; ++i)
    contents.push_back(std::string(50000 + i, static_cast<char>('a' + i)));
  std::vector<std::thread> threads;
  std::vector<Status> results(contents.size());
  for (size_t i = 0; i < contents.size(); ++i)
    threads.emplace_back([&, i] {
      for (int round = 0; round < 5; ++round)
        results[i] = writeFileAtomically(path, contents[i]);
    });
  for (std::thread &thread : threads)
    thread.join();
  for (const Status &status : results)
    EXPECT_OK(status);
  std::string final = readBytes(path);
  bool matchesOne = false;
  for (const std::string &candidate : contents)
    matchesOne |= final == candidate;
  EXPECT_TRUE(matchesOne) << "mixed contents of " << final.size() << " bytes";
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"shared"});
}

} // namespace
} // namespace uoe::rt
