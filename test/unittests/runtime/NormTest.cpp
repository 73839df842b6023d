//===- NormTest.cpp - LayerNorm and RMSNorm fused with the residual -------===//
//
// uoe_norm (runtime/CpuNorm.h) against a float64 reference, for LayerNorm
// (with and without beta) and RMSNorm, with and without the residual add,
// widths below, at and past the 16 lanes, strided rows of rank-2 and rank-3
// views; the sum it writes is bit for bit the f32 addition; and the same
// bits for any thread count and for a row alone.
//
//===----------------------------------------------------------------------===//

#include "runtime/CpuBlas.h"
#include "runtime/CpuNorm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

using namespace uoe::rt;

namespace {

int64_t address(const void *p) {
  return static_cast<int64_t>(reinterpret_cast<intptr_t>(p));
}

struct Case {
  int64_t outer = 3, inner = 5, width = 37, pad = 3; // rows `width + pad` apart
  int64_t flags = kNormBeta | kNormResidual | kNormWriteSum;
  double eps = 1e-5;
  std::vector<float> x, r, gamma, beta;

  int64_t ld() const { return width + pad; }
  int64_t rows() const { return outer * inner; }

  void fill(unsigned seed) {
    std::mt19937 gen(seed);
    std::normal_distribution<float> normal(0.5f, 2.0f);
    auto randomized = [&](std::vector<float> &v, int64_t n) {
      v.resize(n);
      for (float &value : v)
        value = normal(gen);
    };
    randomized(x, rows() * ld());
    randomized(r, rows() * ld());
    randomized(gamma, width);
    randomized(beta, width);
  }

  void run(std::vector<float> &out, std::vector<float> &sum) const {
    out.assign(rows() * width, NAN);
    sum.assign(rows() * width, NAN);
    uoe_norm(flags, outer, inner, width, eps, address(x.data()), inner * ld(),
             ld(), address(r.data()), inner * ld(), ld(), address(gamma.data()),
             address(beta.data()), address(out.data()), address(sum.data()));
  }

  void expectMatchesReference(const std::vector<float> &out,
                              const std::vector<float> &sum) const {
    bool rms = flags & kNormRms, residual = flags & kNormResidual;
    for (int64_t row = 0; row < rows(); ++row) {
      std::vector<double> s(width);
      for (int64_t c = 0; c < width; ++c) {
        float v = residual ? x[row * ld() + c] + r[row * ld() + c]
                           : x[row * ld() + c];
        s[c] = v;
        if (flags & kNormWriteSum)
          ASSERT_EQ(std::memcmp(&sum[row * width + c], &v, 4), 0);
      }
      double mean = 0, second = 0;
      for (double v : s)
        mean += v / width;
      for (double v : s)
        second += (rms ? v * v : (v - mean) * (v - mean)) / width;
      double scale = 1.0 / std::sqrt(second + eps);
      for (int64_t c = 0; c < width; ++c) {
        double want = rms ? s[c] * scale * gamma[c]
                          : (s[c] - mean) * scale * gamma[c] +
                                (flags & kNormBeta ? beta[c] : 0.0);
        ASSERT_NEAR(out[row * width + c], want, 2e-5 * (1 + std::fabs(want)))
            << "flags " << flags << " width " << width << " row " << row
            << " column " << c;
      }
    }
  }
};

TEST(NormTest, MatchesFloat64Reference) {
  for (int64_t flags :
       {int64_t(kNormBeta), int64_t(0), int64_t(kNormBeta | kNormResidual),
        int64_t(kNormBeta | kNormResidual | kNormWriteSum), int64_t(kNormRms),
        int64_t(kNormRms | kNormResidual | kNormWriteSum)})
    for (int64_t width : {1, 7, 16, 37, 512}) {
      Case c;
      c.flags = flags;
      c.width = width;
      c.fill(static_cast<unsigned>(flags * 1000 + width));
      std::vector<float> out, sum;
      c.run(out, sum);
      ASSERT_TRUE(takeCpuBlasError().ok());
      c.expectMatchesReference(out, sum);
    }
}

TEST(NormTest, RankTwoViewsUseOneOuterRow) {
  Case c;
  c.outer = 1;
  c.inner = 9;
  c.fill(3);
  std::vector<float> out, sum;
  c.run(out, sum);
  c.expectMatchesReference(out, sum);
}

TEST(NormTest, SameBitsForAnyThreadCountAndAlone) {
  Case c;
  c.outer = 8;
  c.inner = 64;
  c.width = 200;
  c.fill(5);
  std::vector<float> one, three, sum;
  setCpuThreads(1);
  c.run(one, sum);
  setCpuThreads(3);
  c.run(three, sum);
  setCpuThreads(0);
  ASSERT_EQ(std::memcmp(one.data(), three.data(), one.size() * 4), 0);
  Case alone = c;
  alone.outer = alone.inner = 1;
  int64_t row = 77;
  alone.x.assign(c.x.begin() + row * c.ld(), c.x.begin() + (row + 1) * c.ld());
  alone.r.assign(c.r.begin() + row * c.ld(), c.r.begin() + (row + 1) * c.ld());
  std::vector<float> single;
  alone.run(single, sum);
  EXPECT_EQ(std::memcmp(single.data(), one.data() + row * c.width, c.width * 4),
            0);
}

TEST(NormTest, RejectsBadArguments) {
  (void)takeCpuBlasError();
  uoe_norm(kNormResidual, 1, 1, 4, 1e-5, 0, 0, 0, /*residual=*/0, 0, 0, 0, 0, 0,
           0);
  Status error = takeCpuBlasError();
  ASSERT_FALSE(error.ok());
  EXPECT_NE(error.message().find("uoe_norm: bad arguments"), std::string::npos);
}

} // namespace

namespace {

/// uoe_norm_grad on x and dy with rows `width + pad` apart, and its float64
/// reference.
struct GradCase {
  bool rms = false;
  int64_t outer = 3, inner = 50, width = 37, pad = 5;
  double eps = 1e-5;
  std::vector<float> x, dy, gamma;

  int64_t ld() const { return width + pad; }
  int64_t rows() const { return outer * inner; }

  void fill(unsigned seed) {
    std::mt19937 gen(seed);
    std::normal_distribution<float> normal(0.3f, 1.5f);
    for (auto *v : {&x, &dy})
      v->resize(rows() * ld());
    gamma.resize(width);
    for (auto *v : {&x, &dy, &gamma})
      for (float &value : *v)
        value = normal(gen);
  }

  struct Result {
    std::vector<float> dx, dgamma, dbeta;
  };

  Result run() const {
    Result r{std::vector<float>(rows() * width, NAN),
             std::vector<float>(width, NAN), std::vector<float>(width, NAN)};
    uoe_norm_grad(rms ? kNormRms : 0, outer, inner, width, eps,
                  address(x.data()), inner * ld(), ld(), address(dy.data()),
                  inner * ld(), ld(), address(gamma.data()),
                  address(r.dx.data()), address(r.dgamma.data()),
                  rms ? 0 : address(r.dbeta.data()));
    return r;
  }

  void expectMatchesReference(const Result &got) const {
    std::vector<double> dgamma(width, 0.0), dbeta(width, 0.0);
    double worst = 0;
    for (int64_t row = 0; row < rows(); ++row) {
      const float *xr = x.data() + row * ld(), *dyr = dy.data() + row * ld();
      double mean = 0, var = 0;
      for (int64_t c = 0; c < width; ++c)
        mean += rms ? 0.0 : xr[c];
      mean /= width;
      for (int64_t c = 0; c < width; ++c)
        var += (xr[c] - mean) * (xr[c] - mean);
      double scale = 1.0 / std::sqrt(var / width + eps);
      double meanG = 0, meanGXhat = 0;
      for (int64_t c = 0; c < width; ++c) {
        double g = double(dyr[c]) * gamma[c], xhat = (xr[c] - mean) * scale;
        meanG += rms ? 0.0 : g / width;
        meanGXhat += g * xhat / width;
        dgamma[c] += dyr[c] * xhat;
        dbeta[c] += dyr[c];
      }
      for (int64_t c = 0; c < width; ++c) {
        double g = double(dyr[c]) * gamma[c], xhat = (xr[c] - mean) * scale;
        double want = scale * (g - meanG - xhat * meanGXhat);
        worst = std::max(worst, std::abs(got.dx[row * width + c] - want) /
                                    (1.0 + std::abs(want)));
      }
    }
    EXPECT_LT(worst, 2e-5) << "dx, rms " << rms;
    for (int64_t c = 0; c < width; ++c) {
      EXPECT_NEAR(got.dgamma[c], dgamma[c], 1e-4 * (1 + std::abs(dgamma[c])));
      if (!rms)
        EXPECT_NEAR(got.dbeta[c], dbeta[c], 1e-4 * (1 + std::abs(dbeta[c])));
    }
  }
};

} // namespace

TEST(NormGradTest, MatchesFloat64Reference) {
  unsigned seed = 20;
  for (bool rms : {false, true})
    for (int64_t width : {1, 16, 37, 515})
      for (int64_t inner : {1, 64, 150}) { // one block, exactly one, several
        GradCase c;
        c.rms = rms;
        c.width = width;
        c.inner = inner;
        c.outer = inner == 150 ? 2 : 1;
        c.fill(seed++);
        c.expectMatchesReference(c.run());
        EXPECT_TRUE(takeCpuBlasError().ok());
      }
}

TEST(NormGradTest, SameBitsForAnyThreadCount) {
  for (bool rms : {false, true}) {
    GradCase c;
    c.rms = rms;
    c.width = 300;
    c.inner = 333;
    c.fill(rms ? 1 : 2);
    setCpuThreads(1);
    GradCase::Result one = c.run();
    setCpuThreads(3);
    GradCase::Result three = c.run();
    setCpuThreads(0);
    auto same = [](const std::vector<float> &a, const std::vector<float> &b) {
      return std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
    };
    EXPECT_TRUE(same(one.dx, three.dx));
    EXPECT_TRUE(same(one.dgamma, three.dgamma));
    if (!rms)
      EXPECT_TRUE(same(one.dbeta, three.dbeta));
  }
}

TEST(NormGradTest, RejectsBadArguments) {
  GradCase c;
  c.fill(3);
  std::vector<float> dx(c.rows() * c.width), dg(c.width);
  // LayerNorm without dbeta, then an unknown flag.
  uoe_norm_grad(0, c.outer, c.inner, c.width, c.eps, address(c.x.data()),
                c.inner * c.ld(), c.ld(), address(c.dy.data()),
                c.inner * c.ld(), c.ld(), address(c.gamma.data()),
                address(dx.data()), address(dg.data()), 0);
  Status s = takeCpuBlasError();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("uoe_norm_grad: bad arguments"), std::string::npos)
      << s.message();
  uoe_norm_grad(16, c.outer, c.inner, c.width, c.eps, address(c.x.data()),
                c.inner * c.ld(), c.ld(), address(c.dy.data()),
                c.inner * c.ld(), c.ld(), address(c.gamma.data()),
                address(dx.data()), address(dg.data()), address(dg.data()));
  EXPECT_FALSE(takeCpuBlasError().ok());
}
