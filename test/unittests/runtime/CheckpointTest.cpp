//===- CheckpointTest.cpp - tests of training checkpoints -----------------===//
//
// Round trip of tensors, step and metadata; `latest` naming the newest;
// crash safety (a leftover temporary file, an orphan checkpoint without a
// `latest` update, a failed write: `latest` still names the previous
// complete checkpoint); and errors for a missing, malformed or dangling
// `latest` and for plain weights files.
//
//===----------------------------------------------------------------------===//

#include "formats/Checkpoint.h"

#include "TestUtil.h"

#include "gtest/gtest.h"

namespace uoe::rt {
namespace {

using test::fileExists;
using test::hasError;
using test::readBytes;
using test::TempDir;
using test::writeBytes;

HostTensor filled(std::vector<int64_t> shape, float start) {
  HostTensor t = *HostTensor::create(DType::F32, std::move(shape));
  for (int64_t i = 0; i < t.numElements(); ++i)
    t.data<float>()[i] = start + 0.5f * i;
  return t;
}

TEST(CheckpointTest, FileNamesHaveSixDigitsOrMore) {
  EXPECT_EQ(checkpointFileName(200), "step-000200.safetensors");
  EXPECT_EQ(checkpointFileName(0), "step-000000.safetensors");
  EXPECT_EQ(checkpointFileName(12345678), "step-12345678.safetensors");
  EXPECT_TRUE(isOptimizerTensorName("opt.m.embedding.weight"));
  EXPECT_FALSE(isOptimizerTensorName("embedding.weight"));
  EXPECT_FALSE(isOptimizerTensorName("optimizer"));
}

TEST(CheckpointTest, RoundTripsTensorsStepAndMetadata) {
  TempDir dir;
  std::string ckpt = dir.file("ckpt/nested"); // created on demand
  HostTensor w = filled({2, 3}, 1), m = filled({2, 3}, -4);
  StatusOr<std::string> path =
      writeCheckpoint(ckpt, 200, {{"w", &w}, {"opt.m.w", &m}},
                      {{"data.sampler", "batches=200;rng=x"},
                       {"step", "999"}}); // the real step wins
  ASSERT_OK(path);
  EXPECT_EQ(*path, ckpt + "/step-000200.safetensors");
  EXPECT_EQ(readBytes(ckpt + "/latest"), "step-000200.safetensors\n");

  StatusOr<Checkpoint> read = readLatestCheckpoint(ckpt);
  ASSERT_OK(read);
  EXPECT_EQ(read->step, 200);
  EXPECT_EQ(read->path, *path);
  EXPECT_EQ(read->contents.metadata.at("data.sampler"), "batches=200;rng=x");
  EXPECT_EQ(read->contents.metadata.at("format"), "uoe");
  EXPECT_EQ(read->contents.metadata.at("uoe.checkpoint"), "1");
  ASSERT_EQ(read->contents.tensors.size(), 2u);
  EXPECT_TRUE(read->contents.tensors.at("w").bitwiseEqual(w));
  EXPECT_TRUE(read->contents.tensors.at("opt.m.w").bitwiseEqual(m));
}

// Tests that a flipped bit in a checkpoint's tensor data is found when the
// run resumes (DataLoss naming the file), instead of resuming silently.
TEST(CheckpointTest, AFlippedBitIsFound) {
  TempDir dir;
  HostTensor w = filled({4, 4}, 3);
  StatusOr<std::string> path = writeCheckpoint(dir.path(), 7, {{"w", &w}}, {});
  ASSERT_OK(path);
  std::string bytes = readBytes(*path);
  bytes[bytes.size() - 9] ^= 0x01; // inside w's data, at the end of the file
  writeBytes(*path, bytes);
  EXPECT_TRUE(hasError(readLatestCheckpoint(dir.path()).status(),
                       StatusCode::DataLoss,
                       {"step-000007.safetensors", "checksum", "corrupt"}));
}

TEST(CheckpointTest, LatestNamesTheNewest) {
  TempDir dir;
  HostTensor w = filled({4}, 0);
  ASSERT_OK(writeCheckpoint(dir.path(), 1, {{"w", &w}}, {}));
  HostTensor w2 = filled({4}, 10);
  ASSERT_OK(writeCheckpoint(dir.path(), 2, {{"w", &w2}}, {}));
  StatusOr<Checkpoint> read = readLatestCheckpoint(dir.path());
  ASSERT_OK(read);
  EXPECT_EQ(read->step, 2);
  EXPECT_TRUE(read->contents.tensors.at("w").bitwiseEqual(w2));
  // Older checkpoints stay readable.
  StatusOr<Checkpoint> old =
      readCheckpoint(dir.file("step-000001.safetensors"));
  ASSERT_OK(old);
  EXPECT_EQ(old->step, 1);
  // Nothing else is left in the directory: no temporary files.
  EXPECT_EQ(dir.entries(),
            (std::vector<std::string>{"latest", "step-000001.safetensors",
                                      "step-000002.safetensors"}));
}

TEST(CheckpointTest, ACrashMidWriteLeavesTheLastCompleteCheckpoint) {
  TempDir dir;
  HostTensor w = filled({8}, 3);
  ASSERT_OK(writeCheckpoint(dir.path(), 100, {{"w", &w}}, {}));
  std::string complete = readBytes(dir.file("step-000100.safetensors"));

  // A run killed while writing step 200: its temporary file is left behind
  // (truncated), and neither the checkpoint nor `latest` was renamed.
  writeBytes(dir.file("step-000200.safetensors.tmp.4242.0"),
             complete.substr(0, complete.size() / 2));
  StatusOr<Checkpoint> read = readLatestCheckpoint(dir.path());
  ASSERT_OK(read);
  EXPECT_EQ(read->step, 100);
  EXPECT_TRUE(read->contents.tensors.at("w").bitwiseEqual(w));

  // Killed between the checkpoint's rename and `latest`'s: an orphan file
  // that `latest` does not name.
  writeBytes(dir.file("step-000300.safetensors"), complete);
  writeBytes(dir.file("latest.tmp.4242.1"), "step-000300.safetensors\n");
  read = readLatestCheckpoint(dir.path());
  ASSERT_OK(read);
  EXPECT_EQ(read->step, 100);

  // A later complete write replaces both.
  ASSERT_OK(writeCheckpoint(dir.path(), 400, {{"w", &w}}, {}));
  read = readLatestCheckpoint(dir.path());
  ASSERT_OK(read);
  EXPECT_EQ(read->step, 400);
}

TEST(CheckpointTest, AFailedWriteDoesNotMoveLatest) {
  TempDir dir;
  HostTensor w = filled({2}, 1);
  ASSERT_OK(writeCheckpoint(dir.path(), 5, {{"w", &w}}, {}));
  // writeSafetensors rejects a null tensor: nothing is written.
  StatusOr<std::string> failed =
      writeCheckpoint(dir.path(), 6, {{"w", &w}, {"x", nullptr}}, {});
  EXPECT_FALSE(failed.ok());
  EXPECT_FALSE(fileExists(dir.file("step-000006.safetensors")));
  EXPECT_EQ(readBytes(dir.file("latest")), "step-000005.safetensors\n");
  EXPECT_EQ(dir.entries(),
            (std::vector<std::string>{"latest", "step-000005.safetensors"}));
  EXPECT_TRUE(hasError(writeCheckpoint(dir.path(), -1, {}, {}).status(),
                       StatusCode::InvalidArgument, {"negative"}));
}

TEST(CheckpointTest, NamesEveryProblem) {
  TempDir dir;
  EXPECT_TRUE(hasError(latestCheckpointPath(dir.path()).status(),
                       StatusCode::NotFound,
                       {"no checkpoint in", "latest does not exist"}));
  writeBytes(dir.file("latest"), "step-000007.safetensors\n");
  EXPECT_TRUE(hasError(latestCheckpointPath(dir.path()).status(),
                       StatusCode::DataLoss,
                       {"step-000007.safetensors", "not a file"}));
  writeBytes(dir.file("latest"), "../elsewhere\n");
  EXPECT_TRUE(hasError(latestCheckpointPath(dir.path()).status(),
                       StatusCode::DataLoss, {"not the file name"}));
  writeBytes(dir.file("latest"), "\n");
  EXPECT_TRUE(hasError(latestCheckpointPath(dir.path()).status(),
                       StatusCode::DataLoss, {"not the file name"}));

  // A weights file (no checkpoint metadata) is not a checkpoint.
  HostTensor w = filled({2}, 1);
  ASSERT_OK(writeSafetensors(dir.file("w.safetensors"), {{"w", &w}},
                             {{"format", "uoe"}}));
  EXPECT_TRUE(hasError(readCheckpoint(dir.file("w.safetensors")).status(),
                       StatusCode::DataLoss,
                       {"w.safetensors", "not a uoe checkpoint"}));
  ASSERT_OK(writeSafetensors(dir.file("v.safetensors"), {{"w", &w}},
                             {{"uoe.checkpoint", "1"}, {"step", "x1"}}));
  EXPECT_TRUE(hasError(readCheckpoint(dir.file("v.safetensors")).status(),
                       StatusCode::DataLoss, {"'step'"}));
  ASSERT_OK(writeSafetensors(dir.file("u.safetensors"), {{"w", &w}},
                             {{"uoe.checkpoint", "7"}, {"step", "1"}}));
  EXPECT_TRUE(hasError(readCheckpoint(dir.file("u.safetensors")).status(),
                       StatusCode::Unimplemented, {"version '7'"}));
}

} // namespace
} // namespace uoe::rt
