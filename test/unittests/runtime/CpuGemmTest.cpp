//===- CpuGemmTest.cpp - the runtime's own GEMM ---------------------------===//
//
// Every microkernel this CPU can run against a float64 reference on odd
// sizes and every transposition, and the properties CpuGemm.h promises:
// a row's result does not depend on the other rows, the columns around it,
// the batch, the thread count or the ISA, bit for bit.
//
//===----------------------------------------------------------------------===//

#include "runtime/CpuBlas.h"
#include "runtime/CpuGemm.h"
#include "support/DType.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

using namespace uoe::rt;

namespace {

std::vector<float> randomFloats(size_t count, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> values(count);
  for (float &v : values)
    v = uniform(rng);
  return values;
}

int64_t address(const float *p) {
  return static_cast<int64_t>(reinterpret_cast<intptr_t>(p));
}

/// The ISAs this CPU can run, restoring the detected one afterwards.
class IsaScope {
public:
  ~IsaScope() { setGemmIsa(detectedGemmIsa()); }
  std::vector<GemmIsa> supported() const {
    std::vector<GemmIsa> isas;
    for (GemmIsa isa : {GemmIsa::Generic, GemmIsa::Avx2, GemmIsa::Avx512})
      if (setGemmIsa(isa))
        isas.push_back(isa);
    setGemmIsa(detectedGemmIsa());
    return isas;
  }
};

struct Problem {
  int64_t m, n, k;
  bool transA, transB;
  float beta;
  std::vector<float> a, b, c;

  Problem(int64_t m, int64_t n, int64_t k, bool transA, bool transB,
          float beta, unsigned seed)
      : m(m), n(n), k(k), transA(transA), transB(transB), beta(beta),
        a(randomFloats(m * k, seed)), b(randomFloats(k * n, seed + 1)),
        c(randomFloats(m * n, seed + 2)) {}

  GemmOperand opA() const { return {a.data(), transA ? m : k, transA}; }
  GemmOperand opB() const { return {b.data(), transB ? k : n, transB}; }

  /// C = op(A) op(B) + beta C in float64, and a bound on the f32 error.
  double expected(int64_t i, int64_t j, double *bound) const {
    double sum = 0.0, magnitude = 0.0;
    for (int64_t p = 0; p < k; ++p) {
      double x = transA ? a[p * m + i] : a[i * k + p];
      double y = transB ? b[j * k + p] : b[p * n + j];
      sum += x * y;
      magnitude += std::fabs(x * y);
    }
    *bound = 4.0 * (k + 2) * 6e-8 * (magnitude + std::fabs(c[i * n + j]));
    return sum + beta * static_cast<double>(c[i * n + j]);
  }

  std::vector<float> run() const {
    std::vector<float> out = c;
    sgemmSingleThread(m, n, k, opA(), opB(), out.data(), n, beta);
    return out;
  }
};

// Tests every ISA against the float64 reference: sizes around the register
// tiles (12 x 32, 6 x 16, 4 x 8) and the reduction block (kGemmKc), every
// transposition and the three kinds of beta.
TEST(CpuGemmTest, EveryIsaMatchesTheFloat64Reference) {
  IsaScope scope;
  unsigned seed = 1;
  for (GemmIsa isa : scope.supported()) {
    ASSERT_TRUE(setGemmIsa(isa));
    for (int64_t m : {1, 5, 13, 25, 200})
      for (int64_t n : {1, 7, 33, 70})
        for (int64_t k : {int64_t(1), int64_t(3), kGemmKc + 1, 2 * kGemmKc + 37})
          for (int trans = 0; trans < 4; ++trans)
            for (float beta : {0.0f, 1.0f, 0.5f}) {
              Problem problem(m, n, k, trans & 1, trans & 2, beta, seed++);
              std::vector<float> got = problem.run();
              for (int64_t i = 0; i < m; ++i)
                for (int64_t j = 0; j < n; ++j) {
                  double bound;
                  double want = problem.expected(i, j, &bound);
                  ASSERT_NEAR(got[i * n + j], want, bound)
                      << gemmIsaName(isa) << " m " << m << " n " << n << " k "
                      << k << " trans " << trans << " beta " << beta
                      << " at (" << i << ", " << j << ")";
                }
            }
  }
}

// Tests that beta == 0 ignores what C held, NaN included.
TEST(CpuGemmTest, BetaZeroOverwritesNaN) {
  Problem problem(13, 33, 300, false, false, 0.0f, 7);
  std::fill(problem.c.begin(), problem.c.end(), NAN);
  for (float v : problem.run())
    EXPECT_FALSE(std::isnan(v));
}

// Tests that every ISA gives the same bits (all use one fused multiply-add
// per term in the same order), so results agree across machines.
TEST(CpuGemmTest, IsasAgreeBitForBit) {
  IsaScope scope;
  std::vector<GemmIsa> isas = scope.supported();
  for (int trans = 0; trans < 4; ++trans) {
    Problem problem(37, 75, 3 * kGemmKc + 5, trans & 1, trans & 2, 0.5f,
                    100 + trans);
    ASSERT_TRUE(setGemmIsa(isas.front()));
    std::vector<float> first = problem.run();
    for (GemmIsa isa : isas) {
      ASSERT_TRUE(setGemmIsa(isa));
      EXPECT_EQ(problem.run(), first) << gemmIsaName(isa) << " trans " << trans;
    }
  }
}

// Tests B packed once ahead (packGemmB, in separate ranges of pieces, as
// threads pack it): the product over every sub-range of its columns that
// starts at a panel gives the bits of the product that packs its own
// panels, on every ISA, with k over several reduction blocks and both
// layouts of B.
TEST(CpuGemmTest, PrepackedBGivesTheSameBits) {
  IsaScope scope;
  for (GemmIsa isa : scope.supported()) {
    ASSERT_TRUE(setGemmIsa(isa));
    int64_t panel = gemmPanelColumns();
    for (int trans = 0; trans < 4; ++trans) {
      Problem problem(29, 3 * panel + 5, 2 * kGemmKc + 19, trans & 1, trans & 2,
                      0.5f, 300 + trans);
      std::vector<float> want = problem.run();
      int64_t pieces = packedGemmBPieces(problem.n, problem.k);
      std::vector<float> panels(packedGemmBFloats(problem.n, problem.k), NAN);
      packGemmB(problem.opB(), problem.n, problem.k, 0, pieces / 2,
                panels.data());
      packGemmB(problem.opB(), problem.n, problem.k, pieces / 2, pieces,
                panels.data());
      std::vector<float> zeros(problem.b.size(), 0.0f);
      for (int64_t column = 0; column < problem.n; column += panel) {
        int64_t cols = problem.n - column;
        // B's own values are zeros: only the panels give the product.
        GemmOperand b = problem.opB();
        b.data = zeros.data() + (trans & 2 ? column * b.ld : column);
        b.panels = panels.data();
        b.panelWidth = problem.n;
        b.panelColumn = column;
        std::vector<float> got = problem.c;
        sgemmSingleThread(problem.m, cols, problem.k, problem.opA(), b,
                          got.data() + column, problem.n, problem.beta);
        for (int64_t i = 0; i < problem.m; ++i)
          for (int64_t j = column; j < problem.n; ++j)
            ASSERT_EQ(got[i * problem.n + j], want[i * problem.n + j])
                << gemmIsaName(isa) << " trans " << trans << " column "
                << column << " at (" << i << ", " << j << ")";
      }
    }
  }
}

// Tests batch invariance: rows computed alone, in other sub-ranges or at
// other positions, and columns computed in other sub-ranges, give the bits
// of the whole product.
TEST(CpuGemmTest, RowsAndColumnsDoNotDependOnTheirNeighbours) {
  IsaScope scope;
  for (GemmIsa isa : scope.supported()) {
    ASSERT_TRUE(setGemmIsa(isa));
    for (int trans = 0; trans < 4; ++trans) {
      Problem problem(50, 70, 2 * kGemmKc + 11, trans & 1, trans & 2, 0.0f,
                      200 + trans);
      std::vector<float> whole = problem.run();
      for (auto [first, rows] : {std::pair<int64_t, int64_t>{0, 1},
                                 {7, 3}, {13, 1}, {20, 30}, {49, 1}}) {
        GemmOperand a = problem.opA();
        a.data += problem.transA ? first : first * problem.k;
        std::vector<float> part(rows * problem.n);
        sgemmSingleThread(rows, problem.n, problem.k, a, problem.opB(),
                          part.data(), problem.n, 0.0f);
        EXPECT_EQ(0, std::memcmp(part.data(), &whole[first * problem.n],
                                 part.size() * sizeof(float)))
            << gemmIsaName(isa) << " trans " << trans << " rows " << first
            << ".." << first + rows;
      }
      for (auto [first, cols] : {std::pair<int64_t, int64_t>{0, 1},
                                 {5, 17}, {33, 37}}) {
        GemmOperand b = problem.opB();
        b.data += problem.transB ? first * problem.k : first;
        std::vector<float> part(problem.m * problem.n, 0.0f);
        sgemmSingleThread(problem.m, cols, problem.k, problem.opA(), b,
                          part.data() + first, problem.n, 0.0f);
        for (int64_t i = 0; i < problem.m; ++i)
          for (int64_t j = first; j < first + cols; ++j)
            ASSERT_EQ(part[i * problem.n + j], whole[i * problem.n + j])
                << gemmIsaName(isa) << " trans " << trans << " at (" << i
                << ", " << j << ")";
      }
    }
  }
}

// Tests through the runtime's entry point that neither the thread count nor
// the batch a matrix is computed in changes its bits.
TEST(CpuGemmTest, ThreadsAndBatchDoNotChangeResults) {
  const int64_t m = 97, n = 130, k = 600, batch = 3;
  std::vector<float> a = randomFloats(batch * m * k, 11);
  std::vector<float> b = randomFloats(batch * k * n, 12);
  auto run = [&](int threads, int64_t count) {
    setCpuThreads(threads);
    std::vector<float> c(batch * m * n, 0.0f);
    uoe_sgemm_batched(count, m, n, k, address(a.data()), k, m * k, 0,
                      address(b.data()), n, k * n, 0, address(c.data()), n,
                      m * n, 0.0f);
    c.resize(count * m * n);
    return c;
  };
  std::vector<float> one = run(1, batch);
  for (int threads : {2, 3, 4}) {
    EXPECT_EQ(run(threads, batch), one) << threads << " threads";
    std::vector<float> single = run(threads, 1);
    EXPECT_EQ(0, std::memcmp(single.data(), one.data(),
                             single.size() * sizeof(float)))
        << threads << " threads, batch 1";
  }
  setCpuThreads(0);
  EXPECT_TRUE(takeCpuBlasError().ok());
}

// Tests that the process picked the best ISA it can run and names it.
TEST(CpuGemmTest, DetectsTheBestIsa) {
  GemmIsa detected = detectedGemmIsa();
  EXPECT_EQ(gemmIsa(), detected);
  if (__builtin_cpu_supports("avx512f"))
    EXPECT_EQ(detected, GemmIsa::Avx512);
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    EXPECT_EQ(detected, GemmIsa::Avx2);
  EXPECT_STRNE(gemmIsaName(detected), "unknown");
}

} // namespace

//===----------------------------------------------------------------------===//
// bf16 products with f32 accumulation
//===----------------------------------------------------------------------===//

namespace {

/// The bf16 ISAs this CPU can run, restoring the detected one afterwards.
class Bf16IsaScope {
public:
  ~Bf16IsaScope() { setBf16GemmIsa(detectedBf16GemmIsa()); }
  std::vector<Bf16GemmIsa> supported() const {
    std::vector<Bf16GemmIsa> isas;
    for (Bf16GemmIsa isa : {Bf16GemmIsa::Generic, Bf16GemmIsa::Avx512Bf16,
                            Bf16GemmIsa::Amx})
      if (setBf16GemmIsa(isa))
        isas.push_back(isa);
    setBf16GemmIsa(detectedBf16GemmIsa());
    return isas;
  }
};

} // namespace

TEST(Bf16GemmTest, EveryIsaMatchesTheFloat64ReferenceOfRoundedInputs) {
  Bf16IsaScope scope;
  for (Bf16GemmIsa isa : scope.supported()) {
    ASSERT_TRUE(setBf16GemmIsa(isa));
    SCOPED_TRACE(bf16GemmIsaName(isa));
    for (auto [m, n, k] : {std::array<int64_t, 3>{37, 45, 301},
                           std::array<int64_t, 3>{1, 70, 513},
                           std::array<int64_t, 3>{13, 33, 7},
                           std::array<int64_t, 3>{200, 3, 256}})
      for (bool transA : {false, true})
        for (bool transB : {false, true})
          for (float beta : {0.0f, 1.0f, 0.5f}) {
            Problem p(m, n, k, transA, transB, beta, 17);
            std::vector<float> c = p.c;
            bf16GemmSingleThread(m, n, k, p.opA(), p.opB(), c.data(), n, beta);
            for (int64_t i = 0; i < m; ++i)
              for (int64_t j = 0; j < n; ++j) {
                double sum = 0.0, magnitude = std::fabs(p.c[i * n + j]);
                for (int64_t q = 0; q < k; ++q) {
                  double x = bf16BitsToF32(f32ToBf16Bits(
                      transA ? p.a[q * m + i] : p.a[i * k + q]));
                  double y = bf16BitsToF32(f32ToBf16Bits(
                      transB ? p.b[j * k + q] : p.b[q * n + j]));
                  sum += x * y;
                  magnitude += std::fabs(x * y);
                }
                double expected = sum + beta * double(p.c[i * n + j]);
                double bound = 4.0 * (k + 2) * 6e-8 * magnitude;
                ASSERT_NEAR(c[i * n + j], expected, bound)
                    << "m " << m << " n " << n << " k " << k << " transA "
                    << transA << " transB " << transB << " beta " << beta
                    << " at (" << i << ", " << j << ")";
              }
          }
  }
}

TEST(Bf16GemmTest, RowsDoNotDependOnTheirNeighbours) {
  Bf16IsaScope scope;
  for (Bf16GemmIsa isa : scope.supported()) {
    ASSERT_TRUE(setBf16GemmIsa(isa));
    Problem p(29, 50, 300, false, false, 0.0f, 5);
    std::vector<float> all(p.m * p.n), some(p.m * p.n, 0.0f);
    bf16GemmSingleThread(p.m, p.n, p.k, p.opA(), p.opB(), all.data(), p.n,
                         0.0f);
    // Rows 7..20 alone, and columns 11..49 alone: the same bits.
    GemmOperand rows = p.opA();
    rows.data += 7 * p.k;
    bf16GemmSingleThread(14, p.n, p.k, rows, p.opB(), some.data() + 7 * p.n,
                         p.n, 0.0f);
    EXPECT_EQ(0, std::memcmp(all.data() + 7 * p.n, some.data() + 7 * p.n,
                             14 * p.n * sizeof(float)));
    GemmOperand cols = p.opB();
    cols.data += 11;
    std::vector<float> right(p.m * p.n, 0.0f);
    bf16GemmSingleThread(p.m, 39, p.k, p.opA(), cols, right.data() + 11, p.n,
                         0.0f);
    for (int64_t i = 0; i < p.m; ++i)
      EXPECT_EQ(0, std::memcmp(all.data() + i * p.n + 11,
                               right.data() + i * p.n + 11,
                               39 * sizeof(float)));
  }
}

TEST(Bf16GemmTest, BatchedEntryPointThreadsDoNotChangeTheBits) {
  Problem p(3 * 40, 64, 130, false, true, 0.0f, 9);
  std::vector<float> one(p.m * p.n), two(p.m * p.n);
  for (auto [threads, out] : {std::pair<int, float *>{1, one.data()},
                              std::pair<int, float *>{2, two.data()}}) {
    setCpuThreads(threads);
    // Three products of 40 x 64 x 130, B shared (stride 0).
    uoe_gemm_batched_bf16(3, 40, 64, 130, address(p.a.data()), 130, 40 * 130,
                          0, address(p.b.data()), 130, 0, 1, address(out), 64,
                          40 * 64, 0.0f);
  }
  setCpuThreads(0);
  EXPECT_TRUE(takeCpuBlasError().ok());
  EXPECT_EQ(0, std::memcmp(one.data(), two.data(), one.size() * sizeof(float)));
}
