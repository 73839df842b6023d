//===- ExpertGemmTest.cpp - expert GEMMs fused with selection -------------===//
//
// uoe_expert_gemm (runtime/CpuExpertGemm.h) against a float64 reference of
// the unfused ops (dispatch, GEMM, bias, activation, ordered combine) on odd
// sizes, patches, every activation, gather and combine on and off, f32 and
// bf16; the activations alone against libm in double; and the promises:
// the same bits for any thread count and for a row alone or among others.
//
//===----------------------------------------------------------------------===//

#include "runtime/CpuBlas.h"
#include "runtime/CpuExpertGemm.h"
#include "support/DType.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

using namespace uoe::rt;

namespace {

int64_t address(const void *p) {
  return static_cast<int64_t>(reinterpret_cast<intptr_t>(p));
}

double activationReference(ExpertActivation act, double x) {
  switch (act) {
  case ExpertActivation::Gelu:
    return 0.5 * x * std::erfc(-x / std::sqrt(2.0));
  case ExpertActivation::GeluTanh:
    return 0.5 * x *
           (1.0 +
            std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
  case ExpertActivation::Relu:
    return x < 0 ? 0.0 : x;
  case ExpertActivation::Silu:
    return x / (1.0 + std::exp(-x));
  default:
    return x;
  }
}

/// One fused problem with its inputs, and the float64 reference.
struct Case {
  int64_t experts = 3, rows = 2, slots = 5, patch = 2, tokens = 14, k = 37,
          n = 26;
  bool gather = true, combine = true, gated = true, bias = true, bf16 = false;
  /// W stored as [E, n, k] (kExpertGemmTransposedW), as a backward pass
  /// reads the forward's weights.
  bool transposedW = false;
  ExpertActivation act = ExpertActivation::Gelu;
  // The weights live in a larger buffer (an expert stride past the matrix)
  // to exercise the strides.
  int64_t wPad = 7;
  std::vector<float> a, w, b, weights;
  std::vector<int64_t> positions;

  int64_t m() const { return slots * patch; }
  int64_t width() const { return act == ExpertActivation::SwiGlu ? n / 2 : n; }
  int64_t aRows() const { return gather ? tokens : m(); }
  int64_t aBatch() const { return gather ? rows : experts * rows; }

  void fill(unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    auto randoms = [&](size_t count) {
      std::vector<float> v(count);
      for (float &x : v)
        x = uniform(rng);
      return v;
    };
    a = randoms(static_cast<size_t>(aBatch() * aRows() * k));
    w = randoms(static_cast<size_t>(experts * (k * n + wPad)));
    b = randoms(static_cast<size_t>(experts * n));
    weights = randoms(static_cast<size_t>(experts * rows * slots));
    // Distinct positions per (e, r), in ascending order like data_select's.
    positions.clear();
    int64_t patches = tokens / patch;
    for (int64_t er = 0; er < experts * rows; ++er) {
      std::vector<int64_t> all(patches);
      for (int64_t i = 0; i < patches; ++i)
        all[i] = i;
      std::shuffle(all.begin(), all.end(), rng);
      all.resize(slots);
      std::sort(all.begin(), all.end());
      positions.insert(positions.end(), all.begin(), all.end());
    }
  }

  float operand(float v) const {
    return bf16 ? bf16BitsToF32(f32ToBf16Bits(v)) : v;
  }

  std::vector<float> run() const {
    size_t outSize =
        combine ? rows * tokens * width() : experts * rows * m() * width();
    std::vector<float> out(outSize, NAN);
    int64_t flags = (gather ? kExpertGemmGather : 0) |
                    (combine ? kExpertGemmCombine : 0) |
                    (bf16 ? kExpertGemmBf16 : 0) |
                    (transposedW ? kExpertGemmTransposedW : 0);
    uoe_expert_gemm(flags, static_cast<int64_t>(act), experts, rows, slots,
                    patch, tokens, k, n, address(a.data()),
                    gather ? 0 : rows * m() * k, aRows() * k, k,
                    address(w.data()), k * n + wPad, transposedW ? k : n,
                    bias ? address(b.data()) : 0, n, address(positions.data()),
                    rows * slots, slots, gated ? address(weights.data()) : 0,
                    rows * slots, slots, address(out.data()));
    return out;
  }

  std::vector<double> reference() const {
    int64_t wd = width();
    size_t outSize = combine ? rows * tokens * wd : experts * rows * m() * wd;
    std::vector<double> out(outSize, 0.0);
    std::vector<double> v(n);
    for (int64_t e = 0; e < experts; ++e)
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t i = 0; i < m(); ++i) {
          int64_t slot = i / patch;
          int64_t token =
              positions[(e * rows + r) * slots + slot] * patch + i % patch;
          const float *row = gather ? &a[(r * tokens + token) * k]
                                    : &a[((e * rows + r) * m() + i) * k];
          for (int64_t j = 0; j < n; ++j) {
            double sum = 0;
            for (int64_t p = 0; p < k; ++p)
              sum += double(operand(row[p])) *
                     operand(w[e * (k * n + wPad) +
                               (transposedW ? j * k + p : p * n + j)]);
            v[j] = sum + (bias ? b[e * n + j] : 0.0);
          }
          for (int64_t j = 0; j < wd; ++j) {
            double value = act == ExpertActivation::SwiGlu
                               ? v[j] / (1.0 + std::exp(-v[j])) * v[wd + j]
                               : activationReference(act, v[j]);
            if (combine)
              out[(r * tokens + token) * wd + j] +=
                  (gated ? weights[(e * rows + r) * slots + slot] : 1.0) *
                  value;
            else
              out[((e * rows + r) * m() + i) * wd + j] = value;
          }
        }
    return out;
  }
};

void expectNear(const Case &c, const std::vector<float> &got,
                const std::vector<double> &want, double tolerance) {
  ASSERT_EQ(got.size(), want.size());
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_FALSE(std::isnan(got[i])) << "element " << i << " not written";
    worst =
        std::max(worst, std::abs(got[i] - want[i]) / (1.0 + std::abs(want[i])));
  }
  EXPECT_LT(worst, tolerance)
      << "gather " << c.gather << " combine " << c.combine << " act "
      << static_cast<int>(c.act) << " patch " << c.patch << " bf16 " << c.bf16;
}

const ExpertActivation kActivations[] = {
    ExpertActivation::None, ExpertActivation::Gelu, ExpertActivation::GeluTanh,
    ExpertActivation::Relu, ExpertActivation::Silu, ExpertActivation::SwiGlu};

} // namespace

TEST(ExpertGemmTest, ActivationsMatchDoubleReference) {
  std::vector<float> xs;
  for (double x = -20.0; x <= 20.0; x += 0.01)
    xs.push_back(static_cast<float>(x));
  for (float x : {-100.0f, -1e-6f, 0.0f, 1e-6f, 1e-30f, 100.0f, 1e4f})
    xs.push_back(x);
  for (ExpertActivation act :
       {ExpertActivation::Gelu, ExpertActivation::GeluTanh,
        ExpertActivation::Relu, ExpertActivation::Silu}) {
    std::vector<float> ys = xs;
    applyExpertActivation(act, ys.data(), static_cast<int64_t>(ys.size()));
    double worst = 0;
    for (size_t i = 0; i < xs.size(); ++i) {
      double want = activationReference(act, xs[i]);
      // GELU is the compiled formula 0.5 x (1 + erf(x / sqrt 2)), whose
      // 1 + erf cancels in the negative tail: its error is absolute, a few
      // ulp of 1 times |x|. The others: relative error, absolute below 1e-6
      // (deep in the negative tails the value is tiny and the exponent's
      // argument is rounded in f32).
      double scale = act == ExpertActivation::Gelu
                         ? std::max(1.0, std::abs(static_cast<double>(xs[i])))
                         : std::max(std::abs(want), 1e-6);
      worst = std::max(worst, std::abs(ys[i] - want) / scale);
    }
    EXPECT_LT(worst, 2e-6) << "activation " << static_cast<int>(act);
  }
}

TEST(ExpertGemmTest, MatchesFloat64ReferenceInEveryForm) {
  unsigned seed = 1;
  for (bool gather : {true, false})
    for (bool combine : {true, false})
      for (ExpertActivation act : kActivations)
        for (int64_t patch : {1, 2}) {
          Case c;
          c.gather = gather;
          c.combine = combine;
          c.act = act;
          c.patch = patch;
          c.slots = patch == 1 ? 9 : 5;
          c.gated = combine && act != ExpertActivation::Relu;
          c.bias = act != ExpertActivation::Silu;
          c.fill(seed++);
          expectNear(c, c.run(), c.reference(), 2e-5);
          EXPECT_TRUE(takeCpuBlasError().ok());
        }
}

TEST(ExpertGemmTest, TransposedWeightsMatchFloat64Reference) {
  // Odd k and n (the transposed packing's 4 x 4 blocks and their rest),
  // more than one reduction block, f32 and bf16, gathered and combined.
  unsigned seed = 40;
  for (bool bf16 : {false, true})
    for (bool combine : {true, false}) {
      Case c;
      c.transposedW = true;
      c.bf16 = bf16;
      c.combine = combine;
      c.gather = !combine;
      c.k = 301;
      c.n = 45;
      c.fill(seed++);
      expectNear(c, c.run(), c.reference(), bf16 ? 1e-4 : 2e-5);
      EXPECT_TRUE(takeCpuBlasError().ok());
    }
}

TEST(ExpertGemmTest, Bf16ProductsMatchRoundedReference) {
  for (bool combine : {true, false}) {
    Case c;
    c.bf16 = true;
    c.combine = combine;
    c.k = 300; // more than one reduction block
    c.fill(7);
    expectNear(c, c.run(), c.reference(), 1e-4);
  }
}

TEST(ExpertGemmTest, LargeTilesAndManyColumnBlocks) {
  // More GEMM rows than one tile and more columns than one block.
  Case c;
  c.experts = 2;
  c.rows = 1;
  c.tokens = 500;
  c.slots = 400;
  c.patch = 1;
  c.k = 64;
  c.n = 1100;
  c.fill(11);
  expectNear(c, c.run(), c.reference(), 2e-5);
}

TEST(ExpertGemmTest, SameBitsForAnyThreadCountAndAlone) {
  Case c;
  c.experts = 4;
  c.rows = 6;
  c.tokens = 64;
  c.slots = 24;
  c.patch = 1;
  c.k = 200;
  c.n = 300;
  c.fill(3);
  setCpuThreads(1);
  std::vector<float> one = c.run();
  setCpuThreads(3);
  std::vector<float> three = c.run();
  setCpuThreads(0);
  ASSERT_EQ(one.size(), three.size());
  EXPECT_EQ(std::memcmp(one.data(), three.data(), one.size() * sizeof(float)),
            0);

  // Row 2 alone: the same problem with rows = 1 over row 2's inputs.
  Case alone = c;
  alone.rows = 1;
  alone.a.assign(c.a.begin() + 2 * c.tokens * c.k,
                 c.a.begin() + 3 * c.tokens * c.k);
  alone.positions.clear();
  alone.weights.clear();
  for (int64_t e = 0; e < c.experts; ++e) {
    auto at = (e * c.rows + 2) * c.slots;
    alone.positions.insert(alone.positions.end(), c.positions.begin() + at,
                           c.positions.begin() + at + c.slots);
    alone.weights.insert(alone.weights.end(), c.weights.begin() + at,
                         c.weights.begin() + at + c.slots);
  }
  std::vector<float> single = alone.run();
  size_t rowSize = c.tokens * c.width();
  EXPECT_EQ(std::memcmp(single.data(), one.data() + 2 * rowSize,
                        rowSize * sizeof(float)),
            0);
}

TEST(ExpertGemmTest, OneExpertSplitByRowsGivesTheSameBits) {
  // A dense layer: one expert, one row, no selection. Its GEMM rows are
  // cut between the threads; the cut must not change a bit.
  Case c;
  c.experts = 1;
  c.rows = 1;
  c.gather = c.combine = c.gated = false;
  c.slots = 517;
  c.patch = 1;
  c.tokens = 517;
  c.k = 96;
  c.n = 1100;
  c.fill(5);
  std::vector<float> results[3];
  for (int threads : {1, 2, 3}) {
    setCpuThreads(threads);
    results[threads - 1] = c.run();
  }
  setCpuThreads(0);
  expectNear(c, results[0], c.reference(), 2e-5);
  for (int t : {1, 2})
    EXPECT_EQ(std::memcmp(results[0].data(), results[t].data(),
                          results[0].size() * sizeof(float)),
              0)
        << t + 1 << " threads";
}

TEST(ExpertGemmTest, RejectsPositionsOutOfRange) {
  Case c;
  c.fill(5);
  c.positions[3] = c.tokens; // past the last patch
  (void)takeCpuBlasError();
  (void)c.run();
  uoe::rt::Status error = takeCpuBlasError();
  ASSERT_FALSE(error.ok());
  EXPECT_NE(error.message().find("uoe_expert_gemm: position"),
            std::string::npos)
      << error.message();
}
