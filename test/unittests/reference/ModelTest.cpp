//===- ModelTest.cpp - tests of the reference's embeddings and heads -----===//
//
// Hand-computed cases for the model around the blocks (test/reference/
// Model.cpp): the embedding lookup with positions and clamped ids, the mean
// over tokens, and the `[out, in]` linear map of the heads, including the
// tied LM head that reads the embedding table.
//
//===----------------------------------------------------------------------===//

#include "test/reference/Reference.h"

#include "gtest/gtest.h"

#include <vector>

namespace uoe::ref {
namespace {

TEST(ModelReferenceTest, EmbeddingLooksUpRows) {
  Tensor table({3, 2}, {0, 1, 10, 11, 20, 21});
  IndexTensor ids({2, 2}, {2, 0, 1, 1});
  Tensor h = embedding(ids, table);
  EXPECT_EQ(h.shape, (std::vector<int64_t>{2, 2, 2}));
  EXPECT_EQ(h.data, (std::vector<double>{20, 21, 0, 1, 10, 11, 10, 11}));
}

TEST(ModelReferenceTest, EmbeddingAddsFirstTPositions) {
  Tensor table({3, 2}, {0, 1, 10, 11, 20, 21});
  Tensor positions({3, 2}, {0.5, 0.25, 100, 200, -7, -7});
  IndexTensor ids({1, 2}, {1, 2});
  Tensor h = embedding(ids, table, &positions);
  EXPECT_EQ(h.data, (std::vector<double>{10.5, 11.25, 120, 221}));
}

TEST(ModelReferenceTest, EmbeddingClampsOutOfRangeIds) {
  Tensor table({3, 1}, {5, 6, 7});
  IndexTensor ids({4}, {-1, 3, 100, 1});
  EXPECT_EQ(embedding(ids, table).data, (std::vector<double>{5, 7, 7, 6}));
}

TEST(ModelReferenceTest, MeanOverTokens) {
  Tensor x({2, 3, 1}, {1, 2, 6, -3, 0, 0});
  Tensor m = meanOverTokens(x);
  EXPECT_EQ(m.shape, (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(m.data, (std::vector<double>{3, -1}));
}

TEST(ModelReferenceTest, LinearOutInUsesTheTransposedWeight) {
  // W: [N = 3, K = 2]; y = x W^T + b.
  Tensor x({2, 2}, {1, 2, -1, 0});
  Tensor w({3, 2}, {1, 0, 0, 1, 1, 1});
  Tensor b({3}, {0.5, 0, -1});
  Tensor y = linearOutIn(x, w, &b);
  EXPECT_EQ(y.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(y.data, (std::vector<double>{1.5, 2, 2, -0.5, 0, -2}));
  // A tied LM head: logits of a token's own embedding row are its squared
  // norm, and linearOutIn agrees with linear() on the transposed matrix.
  Tensor table = randomTensor({5, 4}, 3);
  IndexTensor ids({1, 5}, {0, 1, 2, 3, 4});
  Tensor logits = linearOutIn(embedding(ids, table), table);
  Tensor wt({4, 5});
  for (int64_t v = 0; v < 5; ++v)
    for (int64_t j = 0; j < 4; ++j)
      wt.at(j, v) = table.at(v, j);
  Tensor viaLinear = linear(embedding(ids, table), wt);
  EXPECT_LT(maxAbsDiff(logits, viaLinear), 1e-12);
  for (int64_t v = 0; v < 5; ++v) {
    double norm2 = 0;
    for (int64_t j = 0; j < 4; ++j)
      norm2 += table.at(v, j) * table.at(v, j);
    EXPECT_NEAR(logits.at(0, v, v), norm2, 1e-12);
  }
}

} // namespace
} // namespace uoe::ref
