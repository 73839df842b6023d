//===- SelectPatchesTest.cpp - data selection's ranking kernel ------------===//
//
// uoe_select_patches (runtime/CpuRouting.h) against the counting definition
// of the portable lowering (passes/RoutingToLinalg.cpp): random scores with
// many ties (+0 and -0 among them), rows with NaN, every slot count from 0
// to the number of patches, strided scores; and the same result for any
// thread count.
//
//===----------------------------------------------------------------------===//

#include "runtime/CpuBlas.h"
#include "runtime/CpuRouting.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

namespace {

int64_t address(const void *p) {
  return static_cast<int64_t>(reinterpret_cast<intptr_t>(p));
}

/// The counting definition: j beats i when s[j] > s[i] or (s[j] == s[i]
/// and j < i); i is kept when fewer than `slots` items beat it; the kept
/// fill the slots in index order; the rest hold 0 and 0.
void reference(const float *s, int64_t n, int64_t slots, int64_t *positions,
               float *weights) {
  std::fill(positions, positions + slots, 0);
  std::fill(weights, weights + slots, 0.0f);
  int64_t slot = 0;
  for (int64_t i = 0; i < n; ++i) {
    int64_t rank = 0;
    for (int64_t j = 0; j < n; ++j)
      rank += s[j] > s[i] || (s[j] == s[i] && j < i);
    if (rank < slots && slot < slots) {
      positions[slot] = i;
      weights[slot++] = s[i];
    }
  }
}

struct Case {
  int64_t experts = 3, rows = 4, patches = 37, stride = 41;
  std::vector<float> scores;

  void fill(unsigned seed, bool nan) {
    std::mt19937 gen(seed);
    // Few distinct values, so that ties are common; -0 next to +0.
    std::uniform_int_distribution<int> level(-4, 4);
    scores.resize(experts * rows * stride);
    for (float &s : scores) {
      int v = level(gen);
      s = v == 0 ? ((gen() & 1) ? -0.0f : 0.0f) : 0.25f * v;
    }
    if (nan)
      scores[1 * stride + 5] = scores[5 * stride + 0] = NAN;
  }

  void check(int64_t slots) const {
    int64_t tasks = experts * rows;
    std::vector<int64_t> positions(tasks * slots, -7);
    std::vector<float> weights(tasks * slots, -7.0f);
    uoe_select_patches(experts, rows, patches, slots, address(scores.data()),
                       rows * stride, stride, address(positions.data()),
                       address(weights.data()));
    ASSERT_TRUE(uoe::rt::takeCpuBlasError().ok());
    std::vector<int64_t> wantPositions(slots);
    std::vector<float> wantWeights(slots);
    for (int64_t t = 0; t < tasks; ++t) {
      reference(scores.data() + t * stride, patches, slots,
                wantPositions.data(), wantWeights.data());
      for (int64_t i = 0; i < slots; ++i) {
        ASSERT_EQ(positions[t * slots + i], wantPositions[i])
            << "row " << t << " slot " << i << " of " << slots;
        ASSERT_EQ(std::memcmp(&weights[t * slots + i], &wantWeights[i], 4), 0)
            << "row " << t << " slot " << i << " of " << slots;
      }
    }
  }
};

TEST(SelectPatchesTest, EqualsTheCountingDefinition) {
  for (bool nan : {false, true}) {
    Case c;
    c.fill(nan ? 3 : 2, nan);
    for (int64_t slots = 0; slots <= c.patches; ++slots)
      c.check(slots);
  }
}

TEST(SelectPatchesTest, SameResultForAnyThreadCount) {
  Case c;
  c.experts = 4;
  c.rows = 16;
  c.patches = 256;
  c.stride = 256;
  c.fill(5, false);
  for (int threads : {1, 3}) {
    uoe::rt::setCpuThreads(threads);
    c.check(100);
  }
  uoe::rt::setCpuThreads(0);
}

TEST(SelectPatchesTest, RejectsMoreSlotsThanPatches) {
  Case c;
  c.fill(7, false);
  std::vector<int64_t> positions(c.experts * c.rows * (c.patches + 1));
  std::vector<float> weights(positions.size());
  (void)uoe::rt::takeCpuBlasError();
  uoe_select_patches(c.experts, c.rows, c.patches, c.patches + 1,
                     address(c.scores.data()), c.rows * c.stride, c.stride,
                     address(positions.data()), address(weights.data()));
  uoe::rt::Status error = uoe::rt::takeCpuBlasError();
  ASSERT_FALSE(error.ok());
  EXPECT_NE(error.message().find("uoe_select_patches: bad sizes"),
            std::string::npos)
      << error.message();
}

} // namespace
