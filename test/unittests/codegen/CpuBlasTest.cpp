//===- CpuBlasTest.cpp - the runtime's GEMM entry point ------------------===//
//
// uoe_sgemm_batched called directly (no compiled code): edge cases of
// the contract in runtime/CpuBlas.h, thread settings and the symbol map.
// The full matrix of transpositions runs through compiled code in
// CpuKernelTest.
//
//===----------------------------------------------------------------------===//

#include "CpuTestUtil.h"

#include <cmath>
#include <limits>

using namespace ::uoe::test;

namespace {

int64_t address(const float *p) {
  return static_cast<int64_t>(reinterpret_cast<intptr_t>(p));
}

// Tests a plain batched GEMM against the reference, with beta 1.
TEST(CpuBlasTest, BatchedGemmMatchesTheReference) {
  const int64_t batch = 4, m = 5, n = 3, k = 7;
  std::vector<float> a = randomFloats(batch * m * k, 1);
  std::vector<float> b = randomFloats(batch * k * n, 2);
  std::vector<float> c = randomFloats(batch * m * n, 3);
  std::vector<float> expected = c;
  for (int64_t i = 0; i < batch; ++i)
    referenceGemm(m, n, k, &a[i * m * k], k, false, &b[i * k * n], n, false,
                  &expected[i * m * n], n, 1.0f);
  uoe_sgemm_batched(batch, m, n, k, address(a.data()), k, m * k, 0,
                    address(b.data()), n, k * n, 0, address(c.data()), n, m * n,
                    1.0f);
  for (size_t i = 0; i < c.size(); ++i)
    EXPECT_NEAR(c[i], expected[i], 1e-5) << i;
  EXPECT_TRUE(::uoe::rt::takeCpuBlasError().ok());
}

// Tests that beta 0 ignores NaN in C, and that k == 0 scales C by beta.
TEST(CpuBlasTest, BetaZeroAndEmptyInnerDimension) {
  const int64_t m = 3, n = 4, k = 2;
  std::vector<float> a = randomFloats(m * k, 4), b = randomFloats(k * n, 5);
  std::vector<float> c(m * n, std::numeric_limits<float>::quiet_NaN());
  std::vector<float> expected(m * n);
  referenceGemm(m, n, k, a.data(), k, false, b.data(), n, false,
                expected.data(), n, 0.0f);
  uoe_sgemm_batched(1, m, n, k, address(a.data()), k, 0, 0, address(b.data()),
                    n, 0, 0, address(c.data()), n, 0, 0.0f);
  for (int64_t i = 0; i < m * n; ++i)
    EXPECT_NEAR(c[i], expected[i], 1e-5) << i;

  // k == 0 with zero strides (what strided metadata gives for empty A, B).
  std::vector<float> d(m * n, 2.0f);
  uoe_sgemm_batched(1, m, n, 0, address(a.data()), 0, 0, 0, address(b.data()),
                    0, 0, 0, address(d.data()), n, 0, 0.5f);
  for (float v : d)
    EXPECT_EQ(v, 1.0f);
  std::fill(d.begin(), d.end(), std::numeric_limits<float>::quiet_NaN());
  uoe_sgemm_batched(1, m, n, 0, 0, 0, 0, 0, 0, 0, 0, 0, address(d.data()), n, 0,
                    0.0f);
  for (float v : d)
    EXPECT_EQ(v, 0.0f);
  EXPECT_TRUE(::uoe::rt::takeCpuBlasError().ok());
}

// Tests that a single-row matrix may have any leading dimension (strided
// metadata of a unit dimension says nothing useful).
TEST(CpuBlasTest, SingleRowIgnoresTheLeadingDimension) {
  const int64_t n = 6, k = 5;
  std::vector<float> a = randomFloats(k, 6), b = randomFloats(k * n, 7);
  std::vector<float> c(n), expected(n);
  referenceGemm(1, n, k, a.data(), k, false, b.data(), n, false,
                expected.data(), n, 0.0f);
  uoe_sgemm_batched(1, 1, n, k, address(a.data()), 1, 0, 0, address(b.data()),
                    n, 0, 0, address(c.data()), 0, 0, 0.0f);
  for (int64_t i = 0; i < n; ++i)
    EXPECT_NEAR(c[i], expected[i], 1e-5) << i;
  EXPECT_TRUE(::uoe::rt::takeCpuBlasError().ok());
}

// Tests that arguments breaking the contract leave C alone and are
// recorded for takeCpuBlasError, which then resets.
TEST(CpuBlasTest, BadArgumentsAreRecordedNotFatal) {
  std::vector<float> a(16, 1.0f), b(16, 1.0f), c(16, 7.0f);
  // lda 2 < k 4 for a 4x4 A.
  uoe_sgemm_batched(1, 4, 4, 4, address(a.data()), 2, 0, 0, address(b.data()),
                    4, 0, 0, address(c.data()), 4, 0, 0.0f);
  uoe_sgemm_batched(1, -1, 4, 4, address(a.data()), 4, 0, 0, address(b.data()),
                    4, 0, 0, address(c.data()), 4, 0, 0.0f);
  uoe_sgemm_batched(1, 4, 4, 4, address(a.data()), 4, 0, 2, address(b.data()),
                    4, 0, 0, address(c.data()), 4, 0, 0.0f);
  for (float v : c)
    EXPECT_EQ(v, 7.0f);
  ::uoe::rt::Status status = ::uoe::rt::takeCpuBlasError();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), ::uoe::rt::StatusCode::Internal);
  EXPECT_NE(status.message().find("lda = 2"), std::string::npos)
      << status.toString();
  EXPECT_NE(status.message().find("3 call(s) rejected"), std::string::npos)
      << status.toString();
  EXPECT_TRUE(::uoe::rt::takeCpuBlasError().ok());
}

// Tests the thread setting and the symbol map the loader gets.
TEST(CpuBlasTest, ThreadsAndSymbols) {
  ::uoe::rt::setCpuThreads(1);
  EXPECT_EQ(::uoe::rt::cpuThreads(), 1);
  ::uoe::rt::setCpuThreads(0);
  EXPECT_GE(::uoe::rt::cpuThreads(), 1);
  const ::uoe::rt::SymbolMap &symbols = ::uoe::rt::cpuRuntimeSymbols();
  auto it = symbols.find("uoe_sgemm_batched");
  ASSERT_NE(it, symbols.end());
  EXPECT_EQ(it->second, reinterpret_cast<void *>(&uoe_sgemm_batched));
}

} // namespace
