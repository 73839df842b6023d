//===- TestUtil.h - helpers for the runtime unit tests ----------*- C++ -*-===//
//
// A scratch directory per test (mkdtemp, removed afterwards), raw file
// helpers for building malformed inputs byte by byte, and assertions on
// Status values that print the status when they fail.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_TEST_UNITTESTS_RUNTIME_TESTUTIL_H
#define UOE_TEST_UNITTESTS_RUNTIME_TESTUTIL_H

#include "support/Status.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <string>
#include <vector>

namespace uoe::rt::test {

/// A fresh directory under the system temporary directory, removed with
/// everything in it on destruction.
class TempDir {
public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "uoe-rt-test-XXXXXX")
            .string();
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (!::mkdtemp(buffer.data()))
      ADD_FAILURE() << "mkdtemp failed for " << pattern;
    path_ = buffer.data();
  }
  ~TempDir() {
    std::error_code error;
    std::filesystem::remove_all(path_, error);
  }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;

  const std::string &path() const { return path_; }
  /// The path of `name` inside the directory.
  std::string file(const std::string &name) const { return path_ + "/" + name; }
  /// The names of the directory's entries, sorted.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto &entry : std::filesystem::directory_iterator(path_))
      names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

private:
  std::string path_;
};

inline void writeBytes(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

inline std::string readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in),
                     std::istreambuf_iterator<char>());
}

inline bool fileExists(const std::string &path) {
  return std::filesystem::exists(path);
}

/// Checks that `status` failed with `code` and that its message contains
/// every one of `parts`.
inline ::testing::AssertionResult
hasError(const Status &status, StatusCode code,
         std::initializer_list<std::string> parts) {
  if (status.ok())
    return ::testing::AssertionFailure() << "expected an error, got ok";
  if (status.code() != code)
    return ::testing::AssertionFailure()
           << "expected code '" << statusCodeName(code) << "', got "
           << status.toString();
  for (const std::string &part : parts)
    if (status.message().find(part) == std::string::npos)
      return ::testing::AssertionFailure()
             << "message lacks \"" << part << "\": " << status.toString();
  return ::testing::AssertionSuccess();
}

} // namespace uoe::rt::test

/// Asserts that a Status or StatusOr is OK, printing the error otherwise.
#define ASSERT_OK(expr)                                                        \
  do {                                                                         \
    const ::uoe::rt::Status uoeTestStatus = ::uoe::rt::detail::asStatus(expr); \
    ASSERT_TRUE(uoeTestStatus.ok()) << uoeTestStatus.toString();               \
  } while (false)
#define EXPECT_OK(expr)                                                        \
  do {                                                                         \
    const ::uoe::rt::Status uoeTestStatus = ::uoe::rt::detail::asStatus(expr); \
    EXPECT_TRUE(uoeTestStatus.ok()) << uoeTestStatus.toString();               \
  } while (false)

#endif // UOE_TEST_UNITTESTS_RUNTIME_TESTUTIL_H
