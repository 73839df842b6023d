//===- ByteCorpusTest.cpp - tests of the byte corpus and its sampler ------===//
//
// The generator (reference outputs, bounds, state round trip), the
// train/validation split, batches as shifted windows, the sampler's
// determinism and that a restored sampler continues exactly where the
// original was, fixed validation batches, and the errors for texts too
// short or empty.
//
//===----------------------------------------------------------------------===//

#include "train/ByteCorpus.h"

#include "test/unittests/runtime/TestUtil.h"

#include "gtest/gtest.h"

#include <set>

namespace uoe::train {

using namespace ::uoe::rt;
namespace {

using rt::test::hasError;
using rt::test::TempDir;
using rt::test::writeBytes;

std::string sampleText(size_t n) {
  std::string text;
  for (size_t i = 0; i < n; ++i)
    text += static_cast<char>('a' + (i * 7 + i / 3) % 26);
  return text;
}

TEST(RngTest, MatchesTheReferenceSeededBySplitmix) {
  // splitmix64(0) = 0xe220a8397b1dcdaf is the published first output.
  Rng rng(0);
  EXPECT_EQ(rng.state()[0], 0xe220a8397b1dcdafull);
  // Deterministic: same seed, same stream; another seed, another stream.
  Rng a(42), b(42);
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(a.next(), b.next());
  EXPECT_NE(Rng(42).next(), Rng(43).next());
}

TEST(RngTest, BelowStaysInRangeAndCoversIt) {
  Rng rng(7);
  std::set<uint64_t> seen;
  for (int i = 0; i < 2000; ++i) {
    uint64_t v = rng.below(10);
    ASSERT_LT(v, 10u);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_EQ(rng.below(1), 0u);
  EXPECT_EQ(rng.below(0), 0u);
  for (int i = 0; i < 100; ++i)
    EXPECT_LT(rng.below(UINT64_MAX - 1), UINT64_MAX - 1);
}

TEST(RngTest, StateRoundTripsThroughText) {
  Rng rng(123);
  for (int i = 0; i < 5; ++i)
    rng.next();
  std::string text = rng.toString();
  EXPECT_EQ(text.rfind("xoshiro256ss:", 0), 0u);
  StatusOr<Rng> parsed = Rng::parse(text);
  ASSERT_OK(parsed);
  EXPECT_TRUE(*parsed == rng);
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(parsed->next(), rng.next());
}

TEST(RngTest, RejectsMalformedState) {
  EXPECT_TRUE(hasError(Rng::parse("mt19937:1").status(),
                       StatusCode::InvalidArgument, {"xoshiro256ss"}));
  EXPECT_TRUE(hasError(Rng::parse("xoshiro256ss:0123").status(),
                       StatusCode::InvalidArgument, {"word 0"}));
  std::string word(16, '1');
  EXPECT_TRUE(hasError(
      Rng::parse("xoshiro256ss:" + word + ":" + word + ":" + word).status(),
      StatusCode::InvalidArgument, {"four words"}));
  EXPECT_TRUE(hasError(Rng::parse("xoshiro256ss:" + word + ":" + word + ":" +
                                  word + ":" + word + ":" + word)
                           .status(),
                       StatusCode::InvalidArgument, {"four words"}));
  std::string zero(16, '0');
  EXPECT_TRUE(hasError(Rng::parse("xoshiro256ss:" + zero + ":" + zero + ":" +
                                  zero + ":" + zero)
                           .status(),
                       StatusCode::InvalidArgument, {"all-zero"}));
  EXPECT_TRUE(hasError(Rng::parse("xoshiro256ss:" + word + ":" + word + ":" +
                                  word + ":zzzzzzzzzzzzzzzz")
                           .status(),
                       StatusCode::InvalidArgument, {"word 3"}));
}

TEST(ByteCorpusTest, SplitsOffTheLastFractionForValidation) {
  StatusOr<ByteCorpus> corpus = ByteCorpus::fromBytes(sampleText(1000), 0.1, "t");
  ASSERT_OK(corpus);
  EXPECT_EQ(corpus->train().size(), 900u);
  EXPECT_EQ(corpus->validation().size(), 100u);
  EXPECT_EQ(std::string(corpus->train()) + std::string(corpus->validation()),
            sampleText(1000));
  StatusOr<ByteCorpus> all = ByteCorpus::fromBytes(sampleText(10), 0.0, "t");
  ASSERT_OK(all);
  EXPECT_EQ(all->validation().size(), 0u);
}

TEST(ByteCorpusTest, LoadsFilesAndNamesTheProblem) {
  TempDir dir;
  writeBytes(dir.file("text"), "hello, world\n");
  StatusOr<ByteCorpus> corpus = ByteCorpus::load(dir.file("text"), 0.25);
  ASSERT_OK(corpus);
  EXPECT_EQ(corpus->size(), 13u);
  EXPECT_EQ(corpus->source(), dir.file("text"));
  EXPECT_EQ(corpus->fingerprint().size(), 16u);
  EXPECT_NE(corpus->fingerprint(),
            ByteCorpus::fromBytes("hello, world!", 0.25, "x")->fingerprint());

  EXPECT_TRUE(hasError(ByteCorpus::load(dir.file("missing"), 0.1).status(),
                       StatusCode::NotFound, {"missing"}));
  writeBytes(dir.file("empty"), "");
  EXPECT_TRUE(hasError(ByteCorpus::load(dir.file("empty"), 0.1).status(),
                       StatusCode::InvalidArgument, {"empty", "0 bytes"}));
  EXPECT_TRUE(hasError(ByteCorpus::load(dir.file("text"), 1.0).status(),
                       StatusCode::InvalidArgument, {"[0, 1)"}));
  EXPECT_TRUE(hasError(ByteCorpus::load(dir.file("text"), -0.5).status(),
                       StatusCode::InvalidArgument, {"[0, 1)"}));
}

TEST(BatchSamplerTest, TargetsAreTheInputsShiftedByOne) {
  std::string text = sampleText(500);
  StatusOr<ByteCorpus> corpus = ByteCorpus::fromBytes(text, 0.1, "t");
  ASSERT_OK(corpus);
  StatusOr<BatchSampler> sampler = BatchSampler::create(*corpus, 4, 16, 1);
  ASSERT_OK(sampler);
  for (int n = 0; n < 20; ++n) {
    StatusOr<TokenBatch> batch = sampler->next();
    ASSERT_OK(batch);
    ASSERT_EQ(batch->tokens.shape(), (std::vector<int64_t>{4, 16}));
    ASSERT_EQ(batch->targets.shape(), (std::vector<int64_t>{4, 16}));
    const int64_t *in = batch->tokens.data<int64_t>();
    const int64_t *out = batch->targets.data<int64_t>();
    for (int b = 0; b < 4; ++b) {
      for (int t = 0; t + 1 < 16; ++t)
        EXPECT_EQ(out[b * 16 + t], in[b * 16 + t + 1]);
      // The window is a substring of the training part.
      std::string window;
      for (int t = 0; t < 16; ++t)
        window += static_cast<char>(in[b * 16 + t]);
      window += static_cast<char>(out[b * 16 + 15]);
      EXPECT_NE(corpus->train().find(window), std::string_view::npos);
    }
  }
  EXPECT_EQ(sampler->batchesDrawn(), 20);
}

TEST(BatchSamplerTest, ReachesBothEndsOfTheTrainingPart) {
  // 20 bytes, windows of 17: starts 0..3 only.
  StatusOr<ByteCorpus> corpus =
      ByteCorpus::fromBytes(sampleText(20), 0.0, "t");
  ASSERT_OK(corpus);
  StatusOr<BatchSampler> sampler = BatchSampler::create(*corpus, 8, 16, 5);
  ASSERT_OK(sampler);
  std::set<int64_t> firsts;
  std::string text = sampleText(20);
  for (int n = 0; n < 20; ++n) {
    StatusOr<TokenBatch> batch = sampler->next();
    ASSERT_OK(batch);
    for (int b = 0; b < 8; ++b)
      firsts.insert(batch->tokens.data<int64_t>()[b * 16]);
  }
  std::set<int64_t> expected;
  for (int s = 0; s < 4; ++s)
    expected.insert(static_cast<unsigned char>(text[s]));
  EXPECT_EQ(firsts, expected);
}

TEST(BatchSamplerTest, IsDeterministicAndResumable) {
  StatusOr<ByteCorpus> corpus =
      ByteCorpus::fromBytes(sampleText(3000), 0.1, "t");
  ASSERT_OK(corpus);
  StatusOr<BatchSampler> a = BatchSampler::create(*corpus, 3, 32, 9);
  StatusOr<BatchSampler> b = BatchSampler::create(*corpus, 3, 32, 9);
  StatusOr<BatchSampler> other = BatchSampler::create(*corpus, 3, 32, 10);
  ASSERT_OK(a);
  ASSERT_OK(b);
  ASSERT_OK(other);
  bool differs = false;
  for (int n = 0; n < 7; ++n) {
    TokenBatch x = *a->next(), y = *b->next(), z = *other->next();
    EXPECT_TRUE(x.tokens.bitwiseEqual(y.tokens));
    differs |= !x.tokens.bitwiseEqual(z.tokens);
  }
  EXPECT_TRUE(differs);

  // A fresh sampler restored from a's state draws what a draws next.
  std::string state = a->state();
  EXPECT_EQ(state.rfind("batches=7;rng=xoshiro256ss:", 0), 0u) << state;
  StatusOr<BatchSampler> restored = BatchSampler::create(*corpus, 3, 32, 0);
  ASSERT_OK(restored);
  ASSERT_OK(restored->restore(state));
  EXPECT_EQ(restored->batchesDrawn(), 7);
  EXPECT_EQ(restored->state(), state);
  for (int n = 0; n < 5; ++n) {
    TokenBatch x = *a->next(), y = *restored->next();
    EXPECT_TRUE(x.tokens.bitwiseEqual(y.tokens));
    EXPECT_TRUE(x.targets.bitwiseEqual(y.targets));
  }
}

TEST(BatchSamplerTest, RejectsBadStateAndKeepsItsOwn) {
  StatusOr<ByteCorpus> corpus = ByteCorpus::fromBytes(sampleText(100), 0, "t");
  ASSERT_OK(corpus);
  StatusOr<BatchSampler> sampler = BatchSampler::create(*corpus, 2, 8, 1);
  ASSERT_OK(sampler);
  std::string before = sampler->state();
  EXPECT_TRUE(hasError(sampler->restore("rng=x"), StatusCode::InvalidArgument,
                       {"batches="}));
  EXPECT_TRUE(hasError(sampler->restore("batches=3"),
                       StatusCode::InvalidArgument, {";rng="}));
  EXPECT_TRUE(hasError(sampler->restore("batches=-3;rng=" +
                                        Rng(1).toString()),
                       StatusCode::InvalidArgument, {"batch count"}));
  EXPECT_TRUE(hasError(sampler->restore("batches=3;rng=xoshiro256ss:12"),
                       StatusCode::InvalidArgument, {"word 0"}));
  EXPECT_EQ(sampler->state(), before);
}

TEST(BatchSamplerTest, NamesATrainingPartTooShort) {
  StatusOr<ByteCorpus> corpus = ByteCorpus::fromBytes(sampleText(40), 0.5, "c.txt");
  ASSERT_OK(corpus);
  EXPECT_TRUE(hasError(BatchSampler::create(*corpus, 2, 20, 1).status(),
                       StatusCode::InvalidArgument,
                       {"c.txt", "training part has 20 bytes", "21"}));
  EXPECT_OK(BatchSampler::create(*corpus, 2, 19, 1).status());
  EXPECT_TRUE(hasError(BatchSampler::create(*corpus, 0, 4, 1).status(),
                       StatusCode::InvalidArgument, {"positive"}));
}

TEST(ValidationBatchesTest, AreFixedAndSpanTheValidationPart) {
  std::string text = sampleText(1000);
  StatusOr<ByteCorpus> corpus = ByteCorpus::fromBytes(text, 0.2, "t");
  ASSERT_OK(corpus);
  auto first = validationBatches(*corpus, 2, 10, 3);
  auto second = validationBatches(*corpus, 2, 10, 3);
  ASSERT_OK(first);
  ASSERT_OK(second);
  ASSERT_EQ(first->size(), 3u);
  for (size_t k = 0; k < 3; ++k)
    EXPECT_TRUE((*first)[k].tokens.bitwiseEqual((*second)[k].tokens));
  // The first window starts the validation part, the last one ends it.
  std::string_view part = corpus->validation();
  const int64_t *in = (*first)[0].tokens.data<int64_t>();
  EXPECT_EQ(in[0], static_cast<unsigned char>(part[0]));
  const int64_t *out = (*first)[2].targets.data<int64_t>();
  EXPECT_EQ(out[1 * 10 + 9], static_cast<unsigned char>(part.back()));
}

TEST(ValidationBatchesTest, NamesAValidationPartTooShort) {
  StatusOr<ByteCorpus> corpus = ByteCorpus::fromBytes(sampleText(100), 0.05, "c.txt");
  ASSERT_OK(corpus);
  EXPECT_TRUE(hasError(validationBatches(*corpus, 1, 8, 1).status(),
                       StatusCode::InvalidArgument,
                       {"c.txt", "validation part has 5 bytes", "9"}));
}

} // namespace
} // namespace uoe::train
