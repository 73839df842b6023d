//===- RouterLogitsTest.cpp - the router's logits kernel -----------------===//
//
// uoe_router_logits (runtime/CpuRouting.h) against the compiled router's
// definition, bit for bit (bias, then each product rounded and added in k
// order), and a float64 reference; row counts that leave a partial block
// of 16, more experts than one pass (64), strided rank-3 views, any thread
// count, and bad arguments.
//
//===----------------------------------------------------------------------===//

#include "runtime/CpuBlas.h"
#include "runtime/CpuRouting.h"

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
  int64_t outer = 2, inner = 21, d = 37, experts = 4;
  int64_t pad = 3, wPad = 5; // row strides d + pad, d + wPad
  std::vector<float> x, w, bias;

  int64_t rows() const { return outer * inner; }
  int64_t ld() const { return d + pad; }

  void fill(unsigned seed) {
    std::mt19937 gen(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    x.resize(rows() * ld());
    w.resize(experts * (d + wPad));
    bias.resize(experts);
    for (auto *v : {&x, &w, &bias})
      for (float &value : *v)
        value = normal(gen);
  }

  std::vector<float> run() const {
    std::vector<float> out(rows() * experts, NAN);
    uoe_router_logits(outer, inner, d, experts, address(x.data()), inner * ld(),
                      ld(), address(w.data()), d + wPad, address(bias.data()),
                      address(out.data()));
    return out;
  }

  /// The compiled router's sums: f32, k in order, no fused multiply-add
  /// (this file is compiled for baseline x86-64, which has none).
  std::vector<float> compiledDefinition() const {
    std::vector<float> out(rows() * experts);
    for (int64_t r = 0; r < rows(); ++r)
      for (int64_t e = 0; e < experts; ++e) {
        float acc = bias[e];
        for (int64_t k = 0; k < d; ++k) {
          float product = x[r * ld() + k] * w[e * (d + wPad) + k];
          acc = acc + product;
        }
        out[r * experts + e] = acc;
      }
    return out;
  }
};

} // namespace

TEST(RouterLogitsTest, CompiledRoutersBitsForEverySize) {
  unsigned seed = 1;
  for (int64_t experts : {1, 3, 4, 16, 70})
    for (int64_t inner : {1, 15, 16, 37})
      for (int64_t d : {0, 5, 64}) {
        Case c;
        c.experts = experts, c.inner = inner, c.d = d;
        c.fill(seed++);
        std::vector<float> got = c.run(), want = c.compiledDefinition();
        ASSERT_EQ(
            std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0)
            << "experts " << experts << " inner " << inner << " d " << d;
        // And the exact sums within float rounding.
        for (int64_t r = 0; r < c.rows(); ++r)
          for (int64_t e = 0; e < experts; ++e) {
            double sum = c.bias[e];
            for (int64_t k = 0; k < d; ++k)
              sum += double(c.x[r * c.ld() + k]) * c.w[e * (d + c.wPad) + k];
            EXPECT_NEAR(got[r * experts + e], sum, 1e-4 * (1 + std::abs(sum)));
          }
        EXPECT_TRUE(takeCpuBlasError().ok());
      }
}

TEST(RouterLogitsTest, SameBitsForAnyThreadCount) {
  Case c;
  c.outer = 3, c.inner = 333, c.d = 128, c.experts = 8;
  c.fill(9);
  setCpuThreads(1);
  std::vector<float> one = c.run();
  setCpuThreads(3);
  std::vector<float> three = c.run();
  setCpuThreads(0);
  EXPECT_EQ(std::memcmp(one.data(), three.data(), one.size() * sizeof(float)),
            0);
}

TEST(RouterLogitsTest, RejectsBadArguments) {
  Case c;
  c.fill(2);
  std::vector<float> out(c.rows() * c.experts);
  uoe_router_logits(c.outer, c.inner, c.d, 0, address(c.x.data()), 0, c.ld(),
                    address(c.w.data()), c.d, address(c.bias.data()),
                    address(out.data()));
  Status s = takeCpuBlasError();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("uoe_router_logits: bad arguments"),
            std::string::npos)
      << s.message();
}
