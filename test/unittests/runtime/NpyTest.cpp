//===- NpyTest.cpp - tests of .npy reading and writing --------------------===//
//
// Round trips of every dtype over odd shapes (0-d, empty, rank 7), the
// exact header bytes NumPy writes, version 2.0 / 3.0 headers, and one test
// per malformed input checking the error code, that the message names the
// file and the problem, and (by truncating and corrupting valid files at
// every position) that no input crashes the reader. Files live in a fresh
// temporary directory per test.
//
//===----------------------------------------------------------------------===//

#include "formats/Npy.h"

#include "TestUtil.h"

#include "gtest/gtest.h"

#include <cstring>
#include <filesystem>
#include <random>

namespace uoe::rt {
namespace {

using test::fileExists;
using test::hasError;
using test::readBytes;
using test::TempDir;
using test::writeBytes;

/// A tensor of `dtype` and `shape` with varied, valid element bytes.
HostTensor patterned(DType dtype, std::vector<int64_t> shape, unsigned seed) {
  StatusOr<HostTensor> tensor = HostTensor::create(dtype, std::move(shape));
  EXPECT_OK(tensor);
  std::mt19937 rng(seed);
  uint8_t *bytes = static_cast<uint8_t *>(tensor->rawData());
  for (size_t i = 0; i < tensor->sizeInBytes(); ++i)
    bytes[i] = dtype == DType::Bool ? rng() & 1 : static_cast<uint8_t>(rng());
  return std::move(tensor).value();
}

/// A version 1.0 .npy file with the given dict (padded as NumPy does) and
/// data bytes.
std::string npyFile(const std::string &dict, const std::string &data,
                    unsigned major = 1) {
  std::string header = dict;
  size_t preamble = major == 1 ? 10 : 12;
  while ((preamble + header.size() + 1) % 64 != 0)
    header += ' ';
  header += '\n';
  std::string file = "\x93NUMPY";
  file += static_cast<char>(major);
  file += '\0';
  for (size_t i = 0; i < preamble - 8; ++i)
    file += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return file + header + data;
}

std::string floatBytes(std::initializer_list<float> values) {
  std::string bytes;
  for (float value : values)
    bytes.append(reinterpret_cast<const char *>(&value), sizeof(value));
  return bytes;
}

TEST(NpyTest, RoundTripEveryDTypeAndOddShapes) {
  TempDir dir;
  const std::vector<std::vector<int64_t>> shapes = {
      {}, {0}, {1}, {7}, {3, 0, 2}, {2, 3, 5}, {1, 1, 1, 1, 1, 1, 1}, {129, 3}};
  unsigned seed = 0;
  for (DType dtype : kAllDTypes) {
    if (dtype == DType::BF16)
      continue; // No NumPy dtype; see WritingBf16IsUnimplemented.
    for (const std::vector<int64_t> &shape : shapes) {
      SCOPED_TRACE(strCat(dtypeName(dtype), shapeToString(shape)));
      HostTensor tensor = patterned(dtype, shape, ++seed);
      std::string path = dir.file(strCat("t", seed, ".npy"));
      ASSERT_OK(writeNpy(path, tensor));
      StatusOr<HostTensor> back = readNpy(path);
      ASSERT_OK(back);
      EXPECT_TRUE(back->bitwiseEqual(tensor));
      EXPECT_EQ(back->shape(), shape);
      // Every header is padded to a multiple of 64 bytes.
      std::string bytes = readBytes(path);
      EXPECT_EQ((bytes.size() - tensor.sizeInBytes()) % 64, 0u);
    }
  }
  // Only the written files remain: no temporary files.
  EXPECT_EQ(dir.entries().size(), static_cast<size_t>(seed));
}

TEST(NpyTest, WritesTheHeaderNumpyWrites) {
  TempDir dir;
  StatusOr<HostTensor> tensor =
      HostTensor::fromVector(DType::F32, {2, 3}, std::vector<float>(6, 1.0f));
  ASSERT_OK(tensor);
  ASSERT_OK(writeNpy(dir.file("a.npy"), *tensor));
  // numpy.save(np.ones((2, 3), np.float32)) writes exactly this header:
  // 118 = 'v' bytes of dict, spaces and a newline, 128 bytes in all.
  std::string expected = std::string("\x93NUMPY\x01\x00v\x00", 10) +
                         "{'descr': '<f4', 'fortran_order': False, "
                         "'shape': (2, 3), }" +
                         std::string(58, ' ') + "\n";
  ASSERT_EQ(expected.size(), 128u);
  std::string bytes = readBytes(dir.file("a.npy"));
  ASSERT_EQ(bytes.size(), 128u + 24u);
  EXPECT_EQ(bytes.substr(0, 128), expected);
  EXPECT_EQ(bytes.substr(128), floatBytes({1, 1, 1, 1, 1, 1}));

  StatusOr<std::string> vector = encodeNpyHeader(patterned(DType::I64, {7}, 1));
  ASSERT_OK(vector);
  EXPECT_NE(vector->find("{'descr': '<i8', 'fortran_order': False, "
                         "'shape': (7,), }"),
            std::string::npos);
  StatusOr<std::string> scalar = encodeNpyHeader(patterned(DType::Bool, {}, 1));
  ASSERT_OK(scalar);
  EXPECT_NE(scalar->find("'descr': '|b1'"), std::string::npos);
  EXPECT_NE(scalar->find("'shape': (), }"), std::string::npos);
}

TEST(NpyTest, LargeHeaderUsesVersion2) {
  TempDir dir;
  // 25000 dimensions of 1 need a dict of ~75 KB, over the 16-bit length.
  HostTensor tensor = patterned(DType::U8, std::vector<int64_t>(25000, 1), 3);
  StatusOr<std::string> header = encodeNpyHeader(tensor);
  ASSERT_OK(header);
  EXPECT_EQ((*header)[6], '\x02');
  EXPECT_EQ((*header)[7], '\x00');
  EXPECT_EQ(header->size() % 64, 0u);
  uint32_t length;
  std::memcpy(&length, header->data() + 8, 4);
  EXPECT_EQ(length + 12, header->size());
  EXPECT_EQ(header->back(), '\n');

  ASSERT_OK(writeNpy(dir.file("big.npy"), tensor));
  StatusOr<HostTensor> back = readNpy(dir.file("big.npy"));
  ASSERT_OK(back);
  EXPECT_TRUE(back->bitwiseEqual(tensor));

  // Small headers stay version 1.0.
  StatusOr<std::string> small = encodeNpyHeader(patterned(DType::U8, {3}, 3));
  ASSERT_OK(small);
  EXPECT_EQ((*small)[6], '\x01');
}

TEST(NpyTest, ReadsVersion2And3AndVariants) {
  TempDir dir;
  std::string data = floatBytes({1.5f, -2.0f});
  for (unsigned major : {2u, 3u}) {
    std::string path = dir.file(strCat("v", major, ".npy"));
    writeBytes(path, npyFile("{'descr': '<f4', 'fortran_order': False, "
                             "'shape': (2,), }",
                             data, major));
    StatusOr<HostTensor> tensor = readNpy(path);
    ASSERT_OK(tensor);
    EXPECT_EQ(tensor->shape(), std::vector<int64_t>{2});
    EXPECT_EQ(tensor->data<float>()[1], -2.0f);
  }
  // Key order, double quotes, no trailing comma, Python 2 longs, '=' byte
  // order and a 1-byte type with '<' are all things other writers produce.
  struct Variant {
    const char *dict;
    DType dtype;
    std::vector<int64_t> shape;
    std::string data;
  };
  const Variant variants[] = {
      {"{'shape': (1, 2), 'fortran_order': False, 'descr': '<f4'}",
       DType::F32,
       {1, 2},
       data},
      {"{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2,)}",
       DType::F32,
       {2},
       data},
      {"{'descr': '=f4', 'fortran_order': False, 'shape': (2L,), }",
       DType::F32,
       {2},
       data},
      {"{'descr': '<u1', 'fortran_order': False, 'shape': (3, ), }",
       DType::U8,
       {3},
       "abc"},
      {"{'descr': '<f2', 'fortran_order': False, 'shape': (2,1,2,), }",
       DType::F16,
       {2, 1, 2},
       "12345678"},
  };
  int index = 0;
  for (const Variant &variant : variants) {
    SCOPED_TRACE(variant.dict);
    std::string path = dir.file(strCat("variant", index++, ".npy"));
    writeBytes(path, npyFile(variant.dict, variant.data));
    StatusOr<HostTensor> tensor = readNpy(path);
    ASSERT_OK(tensor);
    EXPECT_EQ(tensor->dtype(), variant.dtype);
    EXPECT_EQ(tensor->shape(), variant.shape);
    EXPECT_EQ(std::memcmp(tensor->rawData(), variant.data.data(),
                          variant.data.size()),
              0);
  }
}

TEST(NpyTest, FortranOrderOfOneDimensionIsStillRefused) {
  TempDir dir;
  std::string path = dir.file("f.npy");
  writeBytes(path, npyFile("{'descr': '<f4', 'fortran_order': True, "
                           "'shape': (2,), }",
                           floatBytes({1, 2})));
  EXPECT_TRUE(hasError(readNpy(path).status(), StatusCode::Unimplemented,
                       {path, "Fortran-order"}));
}

TEST(NpyTest, MalformedInputs) {
  TempDir dir;
  const std::string goodDict =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  const std::string goodData = floatBytes({1, 2, 3, 4, 5, 6});
  std::string v1Prefix = std::string("\x93NUMPY\x01\x00", 8);
  struct Case {
    const char *name;
    std::string bytes;
    StatusCode code;
    std::vector<std::string> parts;
  };
  const Case cases[] = {
      {"empty", "", StatusCode::DataLoss, {"bad magic"}},
      {"bad magic",
       "\x93NUMPX" + npyFile(goodDict, goodData).substr(6),
       StatusCode::DataLoss,
       {"bad magic"}},
      {"text file",
       "hello world, this is not numpy",
       StatusCode::DataLoss,
       {"bad magic"}},
      {"no length",
       v1Prefix,
       StatusCode::DataLoss,
       {"truncated header", "only 8 bytes"}},
      {"half a v2 length",
       std::string("\x93NUMPY\x02\x00\x10\x00", 10),
       StatusCode::DataLoss,
       {"truncated header", "only 10 bytes"}},
      {"length past the end",
       v1Prefix + std::string("\x00\x01", 2) + "{}",
       StatusCode::DataLoss,
       {"truncated header", "256 bytes", "only 2"}},
      {"version 4.0",
       npyFile(goodDict, goodData, 1).replace(6, 1, "\x04"),
       StatusCode::Unimplemented,
       {"format version 4.0"}},
      {"version 1.1",
       npyFile(goodDict, goodData, 1).replace(7, 1, "\x01"),
       StatusCode::Unimplemented,
       {"format version 1.1"}},
      {"header is a list",
       npyFile("[1, 2, 3]", goodData),
       StatusCode::DataLoss,
       {"not a Python dict"}},
      {"header is empty",
       npyFile("", goodData),
       StatusCode::DataLoss,
       {"not a Python dict"}},
      {"unterminated dict",
       npyFile("{'descr': '<f4', 'fortran_order': False", goodData),
       StatusCode::DataLoss,
       {"expected ',' or '}'"}},
      {"missing shape",
       npyFile("{'descr': '<f4', 'fortran_order': False}", goodData),
       StatusCode::DataLoss,
       {"missing key 'shape'"}},
      {"missing descr",
       npyFile("{'fortran_order': False, 'shape': (6,)}", goodData),
       StatusCode::DataLoss,
       {"missing key 'descr'"}},
      {"unknown key",
       npyFile("{'descr': '<f4', 'fortran_order': False, "
               "'shape': (6,), 'extra': 1}",
               goodData),
       StatusCode::DataLoss,
       {"unknown key 'extra'"}},
      {"duplicate key",
       npyFile("{'descr': '<f4', 'descr': '<f4', "
               "'fortran_order': False, 'shape': (6,)}",
               goodData),
       StatusCode::DataLoss,
       {"duplicate key 'descr'"}},
      {"shape is a list",
       npyFile("{'descr': '<f4', 'fortran_order': False, "
               "'shape': [2, 3]}",
               goodData),
       StatusCode::DataLoss,
       {"expected a tuple"}},
      {"shape is an int",
       npyFile("{'descr': '<f4', 'fortran_order': False, "
               "'shape': (6)}",
               goodData),
       StatusCode::DataLoss,
       {"not a tuple"}},
      {"negative dimension",
       npyFile("{'descr': '<f4', 'fortran_order': "
               "False, 'shape': (-6,)}",
               goodData),
       StatusCode::DataLoss,
       {"non-negative integer"}},
      {"missing comma in shape",
       npyFile("{'descr': '<f4', 'fortran_order': "
               "False, 'shape': (2 3)}",
               goodData),
       StatusCode::DataLoss,
       {"expected ',' or ')'"}},
      {"huge dimension",
       npyFile("{'descr': '<f4', 'fortran_order': False, "
               "'shape': (99999999999999999999,)}",
               goodData),
       StatusCode::DataLoss,
       {"does not fit in 64 bits"}},
      {"overflowing shape",
       npyFile("{'descr': '<f4', 'fortran_order': False, "
               "'shape': (4611686018427387904, 4)}",
               goodData),
       StatusCode::DataLoss,
       {"too many elements"}},
      {"bad fortran_order",
       npyFile("{'descr': '<f4', 'fortran_order': 0, "
               "'shape': (6,)}",
               goodData),
       StatusCode::DataLoss,
       {"expected True or False"}},
      {"descr not a string",
       npyFile("{'descr': 4, 'fortran_order': False, "
               "'shape': (6,)}",
               goodData),
       StatusCode::DataLoss,
       {"expected a string"}},
      {"garbage after dict",
       npyFile(goodDict + " x", goodData),
       StatusCode::DataLoss,
       {"unexpected characters after the dict"}},
      {"binary garbage in header",
       npyFile("{\x01\xff}", goodData),
       StatusCode::DataLoss,
       {"\\x01\\xff"}},
      {"big-endian",
       npyFile("{'descr': '>f4', 'fortran_order': False, "
               "'shape': (2, 3), }",
               goodData),
       StatusCode::Unimplemented,
       {"big-endian", "'>f4'"}},
      {"complex",
       npyFile("{'descr': '<c8', 'fortran_order': False, "
               "'shape': (3,), }",
               goodData),
       StatusCode::Unimplemented,
       {"unsupported dtype '<c8'"}},
      {"int16",
       npyFile("{'descr': '<i2', 'fortran_order': False, "
               "'shape': (12,), }",
               goodData),
       StatusCode::Unimplemented,
       {"unsupported dtype '<i2'"}},
      {"bytes",
       npyFile("{'descr': '|S4', 'fortran_order': False, "
               "'shape': (6,), }",
               goodData),
       StatusCode::Unimplemented,
       {"unsupported dtype '|S4'"}},
      {"object",
       npyFile("{'descr': '|O', 'fortran_order': False, "
               "'shape': (6,), }",
               goodData),
       StatusCode::Unimplemented,
       {"unsupported dtype '|O'"}},
      {"structured",
       npyFile("{'descr': [('a', '<f4')], 'fortran_order': "
               "False, 'shape': (6,), }",
               goodData),
       StatusCode::Unimplemented,
       {"structured"}},
      {"data too short",
       npyFile(goodDict, goodData.substr(0, 20)),
       StatusCode::DataLoss,
       {"[2, 3]", "needs 24 bytes", "the file has 20"}},
      {"data too long",
       npyFile(goodDict, goodData + "xxxx"),
       StatusCode::DataLoss,
       {"needs 24 bytes", "the file has 28"}},
      {"no data",
       npyFile(goodDict, ""),
       StatusCode::DataLoss,
       {"the file has 0"}},
      {"bool byte 2",
       npyFile("{'descr': '|b1', 'fortran_order': False, "
               "'shape': (3,), }",
               std::string("\x01\x00\x02", 3)),
       StatusCode::DataLoss,
       {"bool element 2"}},
  };
  int index = 0;
  for (const Case &c : cases) {
    SCOPED_TRACE(c.name);
    std::string path = dir.file(strCat("bad", index++, ".npy"));
    writeBytes(path, c.bytes);
    StatusOr<HostTensor> tensor = readNpy(path);
    EXPECT_FALSE(tensor.ok());
    EXPECT_TRUE(hasError(tensor.status(), c.code, {path}));
    for (const std::string &part : c.parts)
      EXPECT_TRUE(hasError(tensor.status(), c.code, {part}));
  }
}

TEST(NpyTest, MissingFileAndDirectory) {
  TempDir dir;
  std::string missing = dir.file("missing.npy");
  EXPECT_TRUE(
      hasError(readNpy(missing).status(), StatusCode::NotFound, {missing}));
  EXPECT_TRUE(hasError(readNpy(dir.path()).status(),
                       StatusCode::InvalidArgument,
                       {dir.path(), "not a regular file"}));
}

TEST(NpyTest, EveryTruncationFails) {
  TempDir dir;
  std::string good = dir.file("good.npy");
  ASSERT_OK(writeNpy(good, patterned(DType::I32, {3, 2}, 7)));
  std::string bytes = readBytes(good);
  std::string path = dir.file("cut.npy");
  for (size_t length = 0; length < bytes.size(); ++length) {
    writeBytes(path, bytes.substr(0, length));
    StatusOr<HostTensor> tensor = readNpy(path);
    ASSERT_FALSE(tensor.ok()) << "length " << length;
    EXPECT_EQ(tensor.status().code(), StatusCode::DataLoss) << length;
    EXPECT_NE(tensor.status().message().find(path), std::string::npos);
  }
}

TEST(NpyTest, CorruptedHeaderBytesNeverCrash) {
  TempDir dir;
  std::string good = dir.file("good.npy");
  ASSERT_OK(writeNpy(good, patterned(DType::F64, {2, 2}, 8)));
  const std::string bytes = readBytes(good);
  std::string path = dir.file("corrupt.npy");
  size_t failures = 0, runs = 0;
  // Every byte of the header, set to a few values that matter to the
  // parser; whatever the outcome, it must be a Status, and any success
  // must describe the data actually present.
  const char replacements[] = {'\0', '\xff', '(', ')', ',',
                               '\'', '9',    '}', ' '};
  for (size_t pos = 0; pos < bytes.size() - 32; ++pos) {
    for (char replacement : replacements) {
      std::string corrupt = bytes;
      corrupt[pos] = replacement;
      writeBytes(path, corrupt);
      StatusOr<HostTensor> tensor = readNpy(path);
      ++runs;
      if (!tensor.ok()) {
        ++failures;
        EXPECT_NE(tensor.status().message().find(path), std::string::npos);
        continue;
      }
      EXPECT_LE(tensor->sizeInBytes(), corrupt.size());
    }
  }
  EXPECT_GT(failures, runs / 4);
}

TEST(NpyTest, WritingBf16IsUnimplementedAndLeavesNoFile) {
  TempDir dir;
  std::string path = dir.file("bf.npy");
  Status status = writeNpy(path, patterned(DType::BF16, {4}, 1));
  EXPECT_TRUE(hasError(status, StatusCode::Unimplemented,
                       {path, "bf16 has no NumPy dtype"}));
  EXPECT_FALSE(fileExists(path));
  EXPECT_TRUE(dir.entries().empty());
}

TEST(NpyTest, FailedWriteLeavesNothingBehind) {
  TempDir dir;
  HostTensor tensor = patterned(DType::F32, {4}, 2);
  std::string path = dir.file("no/such/dir/t.npy");
  EXPECT_TRUE(hasError(writeNpy(path, tensor), StatusCode::NotFound,
                       {path, "No such file or directory"}));
  EXPECT_FALSE(fileExists(path));
  EXPECT_TRUE(dir.entries().empty());

  // Renaming onto a directory fails after the data was written: the
  // temporary file must be removed and the directory left alone.
  std::string blocked = dir.file("blocked.npy");
  std::filesystem::create_directory(blocked);
  EXPECT_TRUE(hasError(writeNpy(blocked, tensor), StatusCode::IoError,
                       {blocked, "rename"}));
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"blocked.npy"});
  EXPECT_TRUE(std::filesystem::is_directory(blocked));
}

TEST(NpyTest, OverwriteReplacesContentsAtomically) {
  TempDir dir;
  std::string path = dir.file("t.npy");
  ASSERT_OK(writeNpy(path, patterned(DType::F32, {100}, 1)));
  HostTensor second = patterned(DType::I8, {3}, 2);
  ASSERT_OK(writeNpy(path, second));
  StatusOr<HostTensor> back = readNpy(path);
  ASSERT_OK(back);
  EXPECT_TRUE(back->bitwiseEqual(second));
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"t.npy"});

  // A failing write (bf16) keeps the previous contents.
  EXPECT_FALSE(writeNpy(path, patterned(DType::BF16, {3}, 3)).ok());
  back = readNpy(path);
  ASSERT_OK(back);
  EXPECT_TRUE(back->bitwiseEqual(second));
}

} // namespace
} // namespace uoe::rt
