//===- SafetensorsTest.cpp - tests of safetensors reading and writing -----===//
//
// Round trips (every dtype, scalars, empty tensors, metadata, many
// tensors), the exact bytes of a small file, the layout rules (aligned
// tensors, padded header), lookups, and one case per corruption: each must
// fail with the right code and a message naming the file, the tensor where
// there is one, and the problem. Truncating a valid file at every length
// must fail cleanly; failed writes must leave nothing behind.
//
//===----------------------------------------------------------------------===//

#include "formats/Safetensors.h"

#include "TestUtil.h"

#include "gtest/gtest.h"

#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <random>
#include <unistd.h>

namespace uoe::rt {
namespace {

using test::fileExists;
using test::hasError;
using test::readBytes;
using test::TempDir;
using test::writeBytes;

HostTensor patterned(DType dtype, std::vector<int64_t> shape, unsigned seed) {
  StatusOr<HostTensor> tensor = HostTensor::create(dtype, std::move(shape));
  EXPECT_OK(tensor);
  std::mt19937 rng(seed);
  uint8_t *bytes = static_cast<uint8_t *>(tensor->rawData());
  for (size_t i = 0; i < tensor->sizeInBytes(); ++i)
    bytes[i] = dtype == DType::Bool ? rng() & 1 : static_cast<uint8_t>(rng());
  return std::move(tensor).value();
}

/// A safetensors file with the given header text (unpadded) and buffer.
std::string stFile(const std::string &header, const std::string &buffer) {
  std::string file;
  uint64_t length = header.size();
  for (int i = 0; i < 8; ++i)
    file += static_cast<char>((length >> (8 * i)) & 0xff);
  return file + header + buffer;
}

SafetensorsContents sampleContents() {
  SafetensorsContents contents;
  unsigned seed = 0;
  for (DType dtype : kAllDTypes)
    contents.tensors.emplace(strCat("t.", dtypeName(dtype)),
                             patterned(dtype, {3, 5}, ++seed));
  contents.tensors.emplace("scalar", patterned(DType::F64, {}, ++seed));
  contents.tensors.emplace("empty", patterned(DType::F32, {4, 0}, ++seed));
  contents.tensors.emplace("odd", patterned(DType::I8, {7, 1, 3}, ++seed));
  contents.metadata = {{"format", "pt"}, {"note", "caf\xc3\xa9 \"q\"\n"}};
  return contents;
}

TEST(SafetensorsTest, RoundTripEveryDTypeWithMetadata) {
  TempDir dir;
  SafetensorsContents contents = sampleContents();
  std::string path = dir.file("model.safetensors");
  ASSERT_OK(writeSafetensors(path, contents));
  StatusOr<SafetensorsContents> back = readSafetensors(path);
  ASSERT_OK(back);
  EXPECT_EQ(back->source, path);
  EXPECT_EQ(back->metadata, contents.metadata);
  EXPECT_EQ(back->names(), contents.names());
  for (const auto &[name, tensor] : contents.tensors) {
    SCOPED_TRACE(name);
    const HostTensor *read = back->find(name);
    ASSERT_NE(read, nullptr);
    EXPECT_TRUE(read->bitwiseEqual(tensor));
  }
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"model.safetensors"});
}

TEST(SafetensorsTest, NamesAreSortedAndLookupsWork) {
  TempDir dir;
  HostTensor b = patterned(DType::F32, {2}, 1),
             a = patterned(DType::I64, {1}, 2);
  std::string path = dir.file("m.safetensors");
  ASSERT_OK(writeSafetensors(path, {{"zeta", &b}, {"alpha", &a}}));
  StatusOr<SafetensorsContents> contents = readSafetensors(path);
  ASSERT_OK(contents);
  EXPECT_EQ(contents->names(), (std::vector<std::string>{"alpha", "zeta"}));
  StatusOr<const HostTensor *> zeta = contents->get("zeta");
  ASSERT_OK(zeta);
  EXPECT_TRUE((*zeta)->bitwiseEqual(b));
  EXPECT_EQ(contents->find("beta"), nullptr);
  EXPECT_TRUE(hasError(contents->get("beta").status(), StatusCode::NotFound,
                       {"no tensor named 'beta'", path, "2 tensors"}));
  EXPECT_TRUE(contents->metadata.empty());
}

TEST(SafetensorsTest, ExactBytesOfASmallFile) {
  TempDir dir;
  StatusOr<HostTensor> tensor =
      HostTensor::fromVector(DType::F32, {2}, std::vector<float>{1.0f, 2.0f});
  ASSERT_OK(tensor);
  std::string path = dir.file("a.safetensors");
  ASSERT_OK(writeSafetensors(path, {{"a", &*tensor}}));
  const std::string json =
      R"({"__metadata__":{"uoe.checksum":"crc32c:28c0c9b1"},)"
      R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})"; // 104 bytes
  std::string expected = stFile(json, std::string("\0\0\x80\x3f"
                                                         "\0\0\0\x40",
                                                         8));
  EXPECT_EQ(readBytes(path), expected);
}

TEST(SafetensorsTest, LayoutIsAlignedAndHeaderPadded) {
  TempDir dir;
  std::string path = dir.file("m.safetensors");
  // Odd sizes first in name order, to show that the writer reorders.
  HostTensor a = patterned(DType::U8, {3}, 1),
             b = patterned(DType::F16, {3}, 2),
             c = patterned(DType::F32, {3}, 3),
             d = patterned(DType::F64, {1}, 4),
             e = patterned(DType::Bool, {5}, 5);
  ASSERT_OK(writeSafetensors(
      path, {{"a", &a}, {"b", &b}, {"c", &c}, {"d", &d}, {"e", &e}},
      {{"k", "v"}}));
  StatusOr<SafetensorsHeader> header = readSafetensorsHeader(path);
  ASSERT_OK(header);
  EXPECT_EQ(header->dataStart % 8, 0u);
  ASSERT_EQ(header->entries.size(), 5u);
  for (const SafetensorsEntry &entry : header->entries) {
    SCOPED_TRACE(entry.name);
    EXPECT_EQ(entry.begin % dtypeSize(entry.dtype), 0u);
  }
  const SafetensorsEntry *f64 = header->find("d");
  ASSERT_NE(f64, nullptr);
  EXPECT_EQ(f64->begin, 0u); // Widest element first.
  EXPECT_EQ(f64->dtype, DType::F64);
  EXPECT_EQ(header->find("c")->begin, 8u);
  EXPECT_EQ(header->find("b")->begin, 20u);
  EXPECT_EQ(header->find("a")->begin, 26u);
  EXPECT_EQ(header->find("e")->begin, 29u);
  EXPECT_EQ(header->find("e")->end, 34u);
  EXPECT_EQ(header->find("nope"), nullptr);
  EXPECT_EQ(header->metadata.at("k"), "v");
  std::string bytes = readBytes(path);
  EXPECT_EQ(bytes.size(), header->dataStart + 34);
  // The JSON is followed by space padding only.
  size_t close = bytes.rfind('}', header->dataStart - 1);
  ASSERT_NE(close, std::string::npos);
  EXPECT_LT(header->dataStart - 1 - close, 8u);
  for (size_t i = close + 1; i < header->dataStart; ++i)
    EXPECT_EQ(bytes[i], ' ') << i;
}

TEST(SafetensorsTest, ReadsFilesFromOtherWriters) {
  TempDir dir;
  // Whitespace, key order and an unpadded header as another writer might
  // produce them, and a zero-size tensor sharing an offset.
  std::string header = "{\n  \"b\": {\"data_offsets\": [8, 12], \"shape\": "
                       "[1], \"dtype\": \"I32\"},\n  \"__metadata__\": "
                       "{},\n  \"a\" : {\"dtype\":\"F16\", \"shape\":[2,2], "
                       "\"data_offsets\":[0,8]}, \"z\": {\"dtype\": \"BF16\", "
                       "\"shape\": [0, 3], \"data_offsets\": [8, 8]}\n}";
  std::string path = dir.file("other.safetensors");
  writeBytes(path, stFile(header, std::string("abcdefgh\x07\0\0\0", 12)));
  StatusOr<SafetensorsContents> contents = readSafetensors(path);
  ASSERT_OK(contents);
  EXPECT_EQ(contents->names(), (std::vector<std::string>{"a", "b", "z"}));
  EXPECT_EQ(contents->find("b")->data<int32_t>()[0], 7);
  EXPECT_EQ(contents->find("a")->shape(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(std::memcmp(contents->find("a")->rawData(), "abcdefgh", 8), 0);
  EXPECT_EQ(contents->find("z")->numElements(), 0);
  EXPECT_EQ(contents->find("z")->dtype(), DType::BF16);
}

TEST(SafetensorsTest, EmptyFileRoundTrips) {
  TempDir dir;
  std::string path = dir.file("empty.safetensors");
  ASSERT_OK(writeSafetensors(path, SafetensorsContents()));
  EXPECT_EQ(readBytes(path),
            stFile(R"({"__metadata__":{"uoe.checksum":"crc32c:00000000"}})"
                   "     ",
                   ""));
  StatusOr<SafetensorsContents> contents = readSafetensors(path);
  ASSERT_OK(contents);
  EXPECT_TRUE(contents->tensors.empty());
}

TEST(SafetensorsTest, ManyTensors) {
  TempDir dir;
  SafetensorsContents contents;
  for (int i = 0; i < 3000; ++i)
    contents.tensors.emplace(
        strCat("layer.", i, ".w"),
        patterned(i % 2 ? DType::F16 : DType::F32, {i % 5, 3}, i));
  std::string path = dir.file("many.safetensors");
  ASSERT_OK(writeSafetensors(path, contents));
  StatusOr<SafetensorsContents> back = readSafetensors(path);
  ASSERT_OK(back);
  ASSERT_EQ(back->tensors.size(), 3000u);
  for (const auto &[name, tensor] : contents.tensors)
    ASSERT_TRUE(back->find(name)->bitwiseEqual(tensor)) << name;
}

TEST(SafetensorsTest, Corruptions) {
  TempDir dir;
  const std::string data24(24, '\x11');
  auto one = [](const std::string &fields) {
    return "{\"w\":{" + fields + "}}";
  };
  const std::string w = R"("dtype":"F32","shape":[2,3],"data_offsets":[0,24])";
  struct Case {
    const char *name;
    std::string bytes;
    StatusCode code;
    std::vector<std::string> parts;
  };
  std::string lengthTooLarge = stFile(one(w), data24);
  lengthTooLarge[0] = '\xe8';
  lengthTooLarge[1] = '\x03'; // 1000
  const Case cases[] = {
      {"empty file",
       "",
       StatusCode::DataLoss,
       {"file of 0 bytes is too short"}},
      {"7 bytes", "\x05\0\0\0\0\0\0", StatusCode::DataLoss, {"too short"}},
      {"header length too large",
       lengthTooLarge,
       StatusCode::DataLoss,
       {"header length 1000 exceeds the", "bytes after the length field"}},
      {"header length 2^63",
       std::string("\0\0\0\0\0\0\0\x80{}", 10),
       StatusCode::DataLoss,
       {"header length 9223372036854775808 exceeds"}},
      {"bad JSON",
       stFile("{\"w\":{\"dtype\":}}", ""),
       StatusCode::DataLoss,
       {"header is not valid JSON", "line 1, column 15"}},
      {"truncated JSON",
       stFile("{\"w\":", ""),
       StatusCode::DataLoss,
       {"not valid JSON"}},
      {"empty header",
       stFile("", ""),
       StatusCode::DataLoss,
       {"not valid JSON"}},
      {"header is an array",
       stFile("[1,2]", ""),
       StatusCode::DataLoss,
       {"header is a JSON array, not an object"}},
      {"duplicate tensor",
       stFile("{\"w\":{" + w + "},\"w\":{" + w + "}}", data24),
       StatusCode::DataLoss,
       {"duplicate key \"w\""}},
      {"entry not an object",
       stFile("{\"w\":[1]}", ""),
       StatusCode::DataLoss,
       {"tensor 'w'", "entry is an array, not an object"}},
      {"unknown dtype",
       stFile(one(R"("dtype":"F33","shape":[2,3],"data_offsets":[0,24])"),
              data24),
       StatusCode::DataLoss,
       {"tensor 'w'", "unknown dtype 'F33'"}},
      {"unsupported dtype",
       stFile(one(R"("dtype":"F8_E4M3","shape":[24],"data_offsets":[0,24])"),
              data24),
       StatusCode::Unimplemented,
       {"tensor 'w'", "unsupported dtype 'F8_E4M3'"}},
      {"dtype not a string",
       stFile(one(R"("dtype":4,"shape":[6],"data_offsets":[0,24])"), data24),
       StatusCode::DataLoss,
       {"tensor 'w'", "\"dtype\" is not a string"}},
      {"missing dtype",
       stFile(one(R"("shape":[6],"data_offsets":[0,24])"), data24),
       StatusCode::DataLoss,
       {"tensor 'w'", "missing field \"dtype\""}},
      {"missing shape",
       stFile(one(R"("dtype":"F32","data_offsets":[0,24])"), data24),
       StatusCode::DataLoss,
       {"missing field \"shape\""}},
      {"missing offsets",
       stFile(one(R"("dtype":"F32","shape":[6])"), data24),
       StatusCode::DataLoss,
       {"missing field \"data_offsets\""}},
      {"unknown field",
       stFile(one(w + R"(,"stride":[1])"), data24),
       StatusCode::DataLoss,
       {"tensor 'w'", "unknown field \"stride\""}},
      {"negative dimension",
       stFile(one(R"("dtype":"F32","shape":[-2,3],"data_offsets":[0,24])"),
              data24),
       StatusCode::DataLoss,
       {"not a non-negative integer: -2"}},
      {"fractional dimension",
       stFile(one(R"("dtype":"F32","shape":[1.5],"data_offsets":[0,24])"),
              data24),
       StatusCode::DataLoss,
       {"not a non-negative integer: 1.5"}},
      {"shape not an array",
       stFile(one(R"("dtype":"F32","shape":6,"data_offsets":[0,24])"), data24),
       StatusCode::DataLoss,
       {"\"shape\" is not an array"}},
      {"overflowing shape",
       stFile(one(R"("dtype":"F32","shape":[4611686018427387904,4],)"
                  R"("data_offsets":[0,24])"),
              data24),
       StatusCode::DataLoss,
       {"tensor 'w'", "too many elements"}},
      {"three offsets",
       stFile(one(R"("dtype":"F32","shape":[2,3],"data_offsets":[0,12,24])"),
              data24),
       StatusCode::DataLoss,
       {"not an array of two integers"}},
      {"negative offset",
       stFile(one(R"("dtype":"F32","shape":[2,3],"data_offsets":[-1,24])"),
              data24),
       StatusCode::DataLoss,
       {"[-1,24] are not non-negative integers"}},
      {"reversed offsets",
       stFile(one(R"("dtype":"F32","shape":[0],"data_offsets":[8,0])"),
              std::string(8, 'x')),
       StatusCode::DataLoss,
       {"tensor 'w'", "end before they begin"}},
      {"offsets past the buffer",
       stFile(one(R"("dtype":"F32","shape":[2,3],"data_offsets":[8,32])"),
              data24),
       StatusCode::DataLoss,
       {"tensor 'w'", "[8, 32) exceed the data buffer of 24 bytes"}},
      {"wrong size",
       stFile(one(R"("dtype":"F32","shape":[2,3],"data_offsets":[0,20])"),
              std::string(20, 'x')),
       StatusCode::DataLoss,
       {"tensor 'w'", "[0, 20) hold 20 bytes but f32[2, 3] needs 24"}},
      {"overlapping offsets",
       stFile(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
              R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
              std::string(12, 'x')),
       StatusCode::DataLoss,
       {"tensor 'b' [4, 12) overlaps tensor 'a' [0, 8)"}},
      {"identical offsets",
       stFile(R"({"a":{"dtype":"I32","shape":[2],"data_offsets":[0,8]},)"
              R"("b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
              std::string(8, 'x')),
       StatusCode::DataLoss,
       {"tensor 'b' [0, 8) overlaps tensor 'a'"}},
      {"gap between tensors",
       stFile(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
              R"("b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}})",
              std::string(20, 'x')),
       StatusCode::DataLoss,
       {"bytes [8, 12) of the data buffer belong to no tensor"}},
      {"trailing bytes",
       stFile(one(w), data24 + "tail"),
       StatusCode::DataLoss,
       {"bytes [24, 28) of the data buffer belong to no tensor"}},
      {"data before the first tensor",
       stFile(one(R"("dtype":"F32","shape":[2,3],"data_offsets":[4,28])"),
              std::string(28, 'x')),
       StatusCode::DataLoss,
       {"bytes [0, 4)"}},
      {"metadata not an object",
       stFile("{\"__metadata__\":[]}", ""),
       StatusCode::DataLoss,
       {"\"__metadata__\" is an array"}},
      {"metadata value not a string",
       stFile("{\"__metadata__\":{\"epoch\":3}}", ""),
       StatusCode::DataLoss,
       {"\"__metadata__\" entry 'epoch' is a number, not a string"}},
      {"bool byte 2",
       stFile(R"({"m":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}})",
              std::string("\x01\x02", 2)),
       StatusCode::DataLoss,
       {"tensor 'm'", "bool element 1"}},
  };
  int index = 0;
  for (const Case &c : cases) {
    SCOPED_TRACE(c.name);
    std::string path = dir.file(strCat("bad", index++, ".safetensors"));
    writeBytes(path, c.bytes);
    StatusOr<SafetensorsContents> contents = readSafetensors(path);
    EXPECT_FALSE(contents.ok());
    EXPECT_TRUE(hasError(contents.status(), c.code, {path}));
    for (const std::string &part : c.parts)
      EXPECT_TRUE(hasError(contents.status(), c.code, {part}));
  }
}

// Tests that the checksum finds a flipped bit in the tensor data, that it is
// not part of the metadata read back, and that files without one (other
// writers) are read as before.
TEST(SafetensorsTest, ChecksumFindsAFlippedBit) {
  TempDir dir;
  std::string path = dir.file("c.safetensors");
  ASSERT_OK(writeSafetensors(path, sampleContents()));
  StatusOr<SafetensorsContents> back = readSafetensors(path);
  ASSERT_OK(back);
  EXPECT_EQ(back->metadata, sampleContents().metadata);
  StatusOr<SafetensorsHeader> header = readSafetensorsHeader(path);
  ASSERT_OK(header);
  EXPECT_EQ(header->checksum.rfind("crc32c:", 0), 0u) << header->checksum;

  std::string bytes = readBytes(path);
  const SafetensorsEntry *entry = header->find("t.f32");
  ASSERT_NE(entry, nullptr);
  std::string flipped = bytes;
  flipped[header->dataStart + entry->begin + 5] ^= 0x10;
  writeBytes(path, flipped);
  EXPECT_TRUE(hasError(readSafetensors(path).status(), StatusCode::DataLoss,
                       {"c.safetensors", "checksum", "corrupt"}));
}

TEST(SafetensorsTest, HeaderOverTheSizeLimit) {
  TempDir dir;
  // A sparse file: the header length (150 MiB) fits in the file (200 MiB)
  // but exceeds the limit, which must be checked before allocating.
  std::string path = dir.file("huge.safetensors");
  uint64_t length = 150u << 20;
  std::string prefix;
  for (int i = 0; i < 8; ++i)
    prefix += static_cast<char>((length >> (8 * i)) & 0xff);
  writeBytes(path, prefix + "{");
  std::filesystem::resize_file(path, 200u << 20);
  EXPECT_TRUE(hasError(readSafetensorsHeader(path).status(),
                       StatusCode::DataLoss,
                       {path, "header length 157286400 exceeds the limit"}));
}

TEST(SafetensorsTest, EveryTruncationFails) {
  TempDir dir;
  HostTensor a = patterned(DType::F32, {2, 2}, 1),
             b = patterned(DType::I8, {3}, 2);
  std::string good = dir.file("good.safetensors");
  ASSERT_OK(writeSafetensors(good, {{"a", &a}, {"b", &b}}, {{"k", "v"}}));
  std::string bytes = readBytes(good);
  std::string path = dir.file("cut.safetensors");
  for (size_t length = 0; length < bytes.size(); ++length) {
    writeBytes(path, bytes.substr(0, length));
    StatusOr<SafetensorsContents> contents = readSafetensors(path);
    ASSERT_FALSE(contents.ok()) << "length " << length;
    EXPECT_EQ(contents.status().code(), StatusCode::DataLoss) << length;
    EXPECT_NE(contents.status().message().find(path), std::string::npos)
        << contents.status().toString();
  }
}

TEST(SafetensorsTest, CorruptedHeaderBytesNeverCrash) {
  TempDir dir;
  HostTensor a = patterned(DType::F32, {2, 2}, 1),
             b = patterned(DType::U8, {3}, 2);
  std::string good = dir.file("good.safetensors");
  ASSERT_OK(writeSafetensors(good, {{"a", &a}, {"b", &b}}));
  const std::string bytes = readBytes(good);
  std::string path = dir.file("corrupt.safetensors");
  const char replacements[] = {'\0', '\xff', '"', '9', ',', '[', '}', ' ', '-'};
  size_t failures = 0, runs = 0;
  for (size_t pos = 0; pos < bytes.size() - 19; ++pos) {
    for (char replacement : replacements) {
      std::string corrupt = bytes;
      corrupt[pos] = replacement;
      writeBytes(path, corrupt);
      StatusOr<SafetensorsContents> contents = readSafetensors(path);
      ++runs;
      if (!contents.ok()) {
        ++failures;
        EXPECT_NE(contents.status().message().find(path), std::string::npos);
      }
    }
  }
  EXPECT_GT(failures, runs / 2);
}

TEST(SafetensorsTest, InvalidWritesAreRefusedAndLeaveNoFile) {
  TempDir dir;
  HostTensor a = patterned(DType::F32, {2}, 1);
  std::string path = dir.file("w.safetensors");
  EXPECT_TRUE(hasError(writeSafetensors(path, {{"a", &a}, {"a", &a}}),
                       StatusCode::InvalidArgument,
                       {path, "duplicate tensor name 'a'"}));
  EXPECT_TRUE(hasError(writeSafetensors(path, {{"__metadata__", &a}}),
                       StatusCode::InvalidArgument, {"__metadata__"}));
  EXPECT_TRUE(hasError(writeSafetensors(path, {{"n", nullptr}}),
                       StatusCode::InvalidArgument, {"tensor 'n' is null"}));
  EXPECT_TRUE(hasError(writeSafetensors(path, {{"bad\xff", &a}}),
                       StatusCode::InvalidArgument, {"not valid UTF-8"}));
  EXPECT_TRUE(hasError(writeSafetensors(path, {{"a", &a}}, {{"k", "\xc3"}}),
                       StatusCode::InvalidArgument,
                       {"metadata entry 'k' is not valid UTF-8"}));
  EXPECT_TRUE(dir.entries().empty());

  std::string noDir = dir.file("missing/w.safetensors");
  EXPECT_TRUE(hasError(writeSafetensors(noDir, {{"a", &a}}),
                       StatusCode::NotFound, {noDir}));
  EXPECT_TRUE(dir.entries().empty());
}

TEST(SafetensorsTest, FailedOverwriteKeepsTheOldFile) {
  TempDir dir;
  HostTensor a = patterned(DType::F32, {2}, 1);
  std::string path = dir.file("w.safetensors");
  ASSERT_OK(writeSafetensors(path, {{"a", &a}}));
  std::string before = readBytes(path);
  EXPECT_FALSE(writeSafetensors(path, {{"a", &a}, {"a", &a}}).ok());
  EXPECT_EQ(readBytes(path), before);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"w.safetensors"});
}

TEST(SafetensorsTest, MissingFile) {
  TempDir dir;
  std::string path = dir.file("none.safetensors");
  EXPECT_TRUE(
      hasError(readSafetensors(path).status(), StatusCode::NotFound, {path}));
  EXPECT_TRUE(hasError(readSafetensorsHeader(path).status(),
                       StatusCode::NotFound, {path}));
}

} // namespace
} // namespace uoe::rt
