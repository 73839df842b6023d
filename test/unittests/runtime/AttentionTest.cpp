//===- AttentionTest.cpp - fused selective attention on the CPU -----------===//
//
// uoe_selective_attention (runtime/CpuAttention.h) against a float64
// reference of the op's definition (rotary embedding with exact cos/sin,
// scores, causal and key-padding masks by position, softmax, P v), for
// every combination of causal, key padding and rotary mode, odd head
// widths, several key blocks, strided operands and every ISA this CPU
// runs; fully masked queries; positions that do not ascend; the kernel's
// exponential; and the promises: the same bits for any thread count and for
// a row alone or among others, and a clear error for a bad position.
//
//===----------------------------------------------------------------------===//

#include "runtime/CpuAttention.h"
#include "runtime/CpuBlas.h"
#include "runtime/CpuGemm.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

using namespace uoe::rt;

namespace {

int64_t address(const void *p) {
  return static_cast<int64_t>(reinterpret_cast<intptr_t>(p));
}

/// One attention problem with its inputs, and the float64 reference.
struct Case {
  int64_t experts = 2, rows = 3, slots = 9, width = 12, heads = 2, tokens = 20;
  bool causal = true, padding = true;
  int64_t rope = kAttentionRopeOriginal; // 0, compacted or original
  bool ascending = true;
  double base = 10000.0;
  // q, k, v rows are `width + rowPad` apart (strided operands).
  int64_t rowPad = 3;
  std::vector<float> q, k, v;
  std::vector<int64_t> positions;
  std::vector<uint8_t> pad;

  int64_t dh() const { return width / heads; }
  int64_t ld() const { return width + rowPad; }
  int64_t flags() const {
    return (causal ? kAttentionCausal : 0) |
           (padding ? kAttentionKeyPadding : 0) | rope;
  }

  void fill(unsigned seed) {
    std::mt19937 gen(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    auto randomized = [&](std::vector<float> &x) {
      x.resize(experts * rows * slots * ld());
      for (float &value : x)
        value = normal(gen);
    };
    randomized(q), randomized(k), randomized(v);
    positions.clear();
    std::vector<int64_t> all(tokens);
    for (int64_t i = 0; i < tokens; ++i)
      all[i] = i;
    for (int64_t er = 0; er < experts * rows; ++er) {
      std::shuffle(all.begin(), all.end(), gen);
      std::vector<int64_t> chosen(all.begin(), all.begin() + slots);
      if (ascending)
        std::sort(chosen.begin(), chosen.end());
      positions.insert(positions.end(), chosen.begin(), chosen.end());
    }
    pad.assign(rows * tokens, 0);
    std::bernoulli_distribution hidden(0.25);
    for (uint8_t &p : pad)
      p = hidden(gen);
  }

  std::vector<float> run() const {
    std::vector<float> out(experts * rows * slots * width,
                           std::numeric_limits<float>::quiet_NaN());
    int64_t strideR = slots * ld(), strideE = rows * strideR;
    uoe_selective_attention(
        flags(), experts, rows, slots, width, heads, tokens,
        1.0 / std::sqrt(static_cast<double>(dh())), base, address(q.data()),
        strideE, strideR, ld(), address(k.data()), strideE, strideR, ld(),
        address(v.data()), strideE, strideR, ld(), address(positions.data()),
        rows * slots, slots, padding ? address(pad.data()) : 0, tokens,
        address(out.data()));
    return out;
  }

  /// Head vector x (dh values) rotated at rotary position `pos` in float64,
  /// with exact cos and sin (by R^T when `inverse`); unchanged without rope.
  template <class T>
  std::vector<double> rotated(const T *x, int64_t pos,
                              bool inverse = false) const {
    int64_t d = dh(), half = d / 2;
    std::vector<double> r(x, x + d);
    if (!rope)
      return r;
    for (int64_t f = 0; f < half; ++f) {
      double angle = pos * std::pow(base, -2.0 * f / d);
      double c = std::cos(angle), s = std::sin(angle) * (inverse ? -1 : 1);
      r[f] = x[f] * c - x[f + half] * s;
      r[f + half] = x[f + half] * c + x[f] * s;
    }
    return r;
  }

  /// The rotary position of slot i of a row with positions `pos`.
  int64_t ropePosition(const int64_t *pos, int64_t i) const {
    return rope == kAttentionRopeOriginal ? pos[i] : i;
  }

  /// Whether query i of row r (positions `pos`) sees key j.
  bool visible(const int64_t *pos, int64_t r, int64_t i, int64_t j) const {
    return !(causal && pos[j] > pos[i]) &&
           !(padding && pad[r * tokens + pos[j]]);
  }

  /// dq, dk, dv of uoe_selective_attention_grad for the result gradient
  /// `g` (laid out like q), concatenated.
  std::vector<float> runGrad(const std::vector<float> &g) const {
    size_t n = experts * rows * slots * width;
    std::vector<float> d(3 * n, std::numeric_limits<float>::quiet_NaN());
    int64_t strideR = slots * ld(), strideE = rows * strideR;
    uoe_selective_attention_grad(
        flags(), experts, rows, slots, width, heads, tokens,
        1.0 / std::sqrt(static_cast<double>(dh())), base, address(q.data()),
        strideE, strideR, ld(), address(k.data()), strideE, strideR, ld(),
        address(v.data()), strideE, strideR, ld(), address(positions.data()),
        rows * slots, slots, padding ? address(pad.data()) : 0, tokens,
        address(g.data()), strideE, strideR, ld(), address(d.data()),
        address(d.data() + n), address(d.data() + 2 * n));
    return d;
  }

  /// The gradients' definition in float64 (the forward's below, then
  /// dP, D, dS, and the rotations transposed), concatenated like runGrad.
  std::vector<double> referenceGrad(const std::vector<float> &g) const {
    size_t n = experts * rows * slots * width;
    std::vector<double> d(3 * n, 0.0);
    int64_t dh_ = dh();
    double scale = 1.0 / std::sqrt(static_cast<double>(dh_));
    for (int64_t e = 0; e < experts; ++e)
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t h = 0; h < heads; ++h) {
          const int64_t *pos = positions.data() + (e * rows + r) * slots;
          auto at = [&](const std::vector<float> &x, int64_t i) {
            return x.data() + ((e * rows + r) * slots + i) * ld() + h * dh_;
          };
          std::vector<std::vector<double>> qs, ks, dqs(slots), dks(slots),
              dvs(slots);
          for (int64_t i = 0; i < slots; ++i) {
            qs.push_back(rotated(at(q, i), ropePosition(pos, i)));
            ks.push_back(rotated(at(k, i), ropePosition(pos, i)));
            dqs[i].assign(dh_, 0.0), dks[i].assign(dh_, 0.0),
                dvs[i].assign(dh_, 0.0);
          }
          for (int64_t i = 0; i < slots; ++i) {
            std::vector<double> s(slots), prob(slots, 0.0), dp(slots);
            double m = -INFINITY, sum = 0.0, dsum = 0.0;
            for (int64_t j = 0; j < slots; ++j) {
              double dot = 0.0;
              for (int64_t c = 0; c < dh_; ++c)
                dot += qs[i][c] * ks[j][c];
              s[j] = visible(pos, r, i, j) ? dot * scale : -INFINITY;
              m = std::max(m, s[j]);
            }
            if (m == -INFINITY)
              continue;
            for (int64_t j = 0; j < slots; ++j)
              sum += std::exp(s[j] - m);
            for (int64_t j = 0; j < slots; ++j) {
              prob[j] = std::exp(s[j] - m) / sum;
              dp[j] = 0.0;
              for (int64_t c = 0; c < dh_; ++c)
                dp[j] += at(g, i)[c] * double(at(v, j)[c]);
              dsum += prob[j] * dp[j];
            }
            for (int64_t j = 0; j < slots; ++j) {
              double ds = prob[j] * (dp[j] - dsum);
              for (int64_t c = 0; c < dh_; ++c) {
                dqs[i][c] += scale * ds * ks[j][c];
                dks[j][c] += scale * ds * qs[i][c];
                dvs[j][c] += prob[j] * at(g, i)[c];
              }
            }
          }
          for (int64_t i = 0; i < slots; ++i) {
            size_t o = ((e * rows + r) * slots + i) * width + h * dh_;
            std::vector<double> dq =
                                    rotated(dqs[i].data(), ropePosition(pos, i),
                                            /*inverse=*/true),
                                dk =
                                    rotated(dks[i].data(), ropePosition(pos, i),
                                            /*inverse=*/true);
            for (int64_t c = 0; c < dh_; ++c) {
              d[o + c] = dq[c];
              d[n + o + c] = dk[c];
              d[2 * n + o + c] = dvs[i][c];
            }
          }
        }
    return d;
  }

  /// The op's definition in float64.
  std::vector<double> reference() const {
    std::vector<double> out(experts * rows * slots * width, 0.0);
    int64_t d = dh();
    double scale = 1.0 / std::sqrt(static_cast<double>(d));
    for (int64_t e = 0; e < experts; ++e)
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t *pos = positions.data() + (e * rows + r) * slots;
        auto at = [&](const std::vector<float> &x, int64_t i, int64_t h) {
          return x.data() + ((e * rows + r) * slots + i) * ld() + h * d;
        };
        for (int64_t h = 0; h < heads; ++h)
          for (int64_t i = 0; i < slots; ++i) {
            auto qi = rotated(at(q, i, h), ropePosition(pos, i));
            std::vector<double> s(slots);
            std::vector<bool> sees(slots);
            double m = -INFINITY;
            for (int64_t j = 0; j < slots; ++j) {
              auto kj = rotated(at(k, j, h), ropePosition(pos, j));
              double dot = 0.0;
              for (int64_t c = 0; c < d; ++c)
                dot += qi[c] * kj[c];
              s[j] = dot * scale;
              sees[j] = visible(pos, r, i, j);
              if (sees[j])
                m = std::max(m, s[j]);
            }
            double sum = 0.0;
            for (int64_t j = 0; j < slots; ++j)
              sum += sees[j] ? std::exp(s[j] - m) : 0.0;
            double *o =
                out.data() + ((e * rows + r) * slots + i) * width + h * d;
            for (int64_t j = 0; j < slots; ++j)
              if (sees[j])
                for (int64_t c = 0; c < d; ++c)
                  o[c] += std::exp(s[j] - m) / sum * at(v, j, h)[c];
          }
      }
    return out;
  }
};

/// The ISAs this CPU runs, restoring the detected one afterwards.
struct IsaScope {
  std::vector<GemmIsa> isas;
  IsaScope() {
    for (GemmIsa isa : {GemmIsa::Generic, GemmIsa::Avx2, GemmIsa::Avx512})
      if (setGemmIsa(isa))
        isas.push_back(isa);
    setGemmIsa(detectedGemmIsa());
  }
  ~IsaScope() { setGemmIsa(detectedGemmIsa()); }
};

void expectNear(const Case &c, const std::vector<float> &got,
                const std::string &what) {
  std::vector<double> want = c.reference();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], 2e-5 * (1.0 + std::fabs(want[i])))
        << what << " at " << i;
}

TEST(AttentionTest, ExpMatchesLibm) {
  std::vector<float> x, got;
  for (float v = -100.0f; v <= 0.0f; v += 0.013f)
    x.push_back(v);
  x.push_back(-std::numeric_limits<float>::infinity());
  got.resize(x.size());
  attentionExp(x.data(), got.data(), x.size());
  for (size_t i = 0; i + 1 < x.size(); ++i) {
    double want = x[i] < -87.0f ? 0.0 : std::exp(static_cast<double>(x[i]));
    ASSERT_NEAR(got[i], want, 3e-7 * want) << "exp(" << x[i] << ")";
  }
  EXPECT_EQ(got.back(), 0.0f) << "exp(-inf)";
}

TEST(AttentionTest, MatchesFloat64ReferenceInEveryForm) {
  IsaScope scope;
  for (GemmIsa isa : scope.isas) {
    ASSERT_TRUE(setGemmIsa(isa));
    for (int64_t rope : {int64_t(0), int64_t(kAttentionRopeCompacted),
                         int64_t(kAttentionRopeOriginal)})
      for (bool causal : {false, true})
        for (bool padding : {false, true}) {
          Case c;
          c.rope = rope;
          c.causal = causal;
          c.padding = padding;
          c.fill(7 + rope + causal * 2 + padding);
          std::string what = std::string(gemmIsaName(isa)) + " rope " +
                             std::to_string(rope) + " causal " +
                             std::to_string(causal) + " padding " +
                             std::to_string(padding);
          expectNear(c, c.run(), what);
          EXPECT_TRUE(takeCpuBlasError().ok()) << what;
        }
  }
}

TEST(AttentionTest, OddWidthsAndSeveralKeyBlocks) {
  IsaScope scope;
  struct Size {
    int64_t slots, width, heads, tokens;
  };
  // dh 6 (one padded vector), dh 72 (a 64-column tile and a remainder),
  // dh 32 and 96 (two-vector value tiles; 150 slots: wide score tiles and a
  // short last block), 150 and 301 slots (two and three blocks of 128
  // keys, rescaled online), one slot.
  for (Size s : {Size{9, 18, 3, 20}, Size{37, 144, 2, 41},
                 Size{150, 32, 2, 300}, Size{150, 64, 2, 160},
                 Size{70, 192, 2, 90}, Size{301, 16, 1, 301}, Size{1, 8, 1, 3}})
    for (GemmIsa isa : scope.isas) {
      ASSERT_TRUE(setGemmIsa(isa));
      Case c;
      c.slots = s.slots, c.width = s.width, c.heads = s.heads,
      c.tokens = s.tokens;
      c.fill(static_cast<unsigned>(s.slots + s.width));
      expectNear(c, c.run(),
                 std::string(gemmIsaName(isa)) + " slots " +
                     std::to_string(s.slots) + " width " +
                     std::to_string(s.width));
    }
}

/// A random result gradient laid out like q.
std::vector<float> randomLike(const std::vector<float> &x, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> g(x.size());
  for (float &value : g)
    value = normal(gen);
  return g;
}

void expectGradNear(const Case &c, unsigned seed, const std::string &what) {
  std::vector<float> g = randomLike(c.q, seed);
  std::vector<float> got = c.runGrad(g);
  std::vector<double> want = c.referenceGrad(g);
  ASSERT_TRUE(takeCpuBlasError().ok()) << what;
  ASSERT_EQ(got.size(), want.size());
  const char *names[] = {"dq", "dk", "dv"};
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], 5e-5 * (1.0 + std::fabs(want[i])))
        << what << " " << names[i * 3 / got.size()] << " at "
        << i % (got.size() / 3);
}

TEST(AttentionTest, GradientsMatchFloat64Reference) {
  IsaScope scope;
  for (GemmIsa isa : scope.isas) {
    ASSERT_TRUE(setGemmIsa(isa));
    for (int64_t rope : {int64_t(0), int64_t(kAttentionRopeCompacted),
                         int64_t(kAttentionRopeOriginal)})
      for (bool causal : {false, true})
        for (bool padding : {false, true}) {
          Case c;
          c.rope = rope, c.causal = causal, c.padding = padding;
          c.fill(23 + rope + causal * 2 + padding);
          expectGradNear(c, 29,
                         std::string(gemmIsaName(isa)) + " rope " +
                             std::to_string(rope) + " causal " +
                             std::to_string(causal) + " padding " +
                             std::to_string(padding));
        }
    // Odd widths, several key blocks, positions that do not ascend.
    Case wide;
    wide.slots = 150, wide.width = 144, wide.heads = 2, wide.tokens = 200;
    wide.fill(31);
    expectGradNear(wide, 37, std::string(gemmIsaName(isa)) + " 150 slots");
    Case narrow; // dh 32: wide score tiles, two-vector value tiles
    narrow.slots = 140, narrow.width = 64, narrow.heads = 2,
    narrow.tokens = 150;
    narrow.fill(33);
    expectGradNear(narrow, 35, std::string(gemmIsaName(isa)) + " dh 32");
    Case shuffled;
    shuffled.ascending = false, shuffled.slots = 30, shuffled.tokens = 40;
    shuffled.fill(41);
    expectGradNear(shuffled, 43,
                   std::string(gemmIsaName(isa)) + " shuffled positions");
  }
}

TEST(AttentionTest, GradientsSameBitsForAnyThreadCount) {
  Case c;
  c.experts = 3, c.rows = 4, c.slots = 60, c.width = 64, c.tokens = 80;
  c.fill(47);
  std::vector<float> g = randomLike(c.q, 53);
  setCpuThreads(1);
  std::vector<float> one = c.runGrad(g);
  setCpuThreads(3);
  std::vector<float> three = c.runGrad(g);
  setCpuThreads(0);
  EXPECT_EQ(std::memcmp(one.data(), three.data(), one.size() * 4), 0);
}

TEST(AttentionTest, PositionsThatDoNotAscend) {
  Case c;
  c.ascending = false;
  c.slots = 40;
  c.tokens = 50;
  c.fill(11);
  expectNear(c, c.run(), "shuffled positions");
}

TEST(AttentionTest, FullyMaskedQueriesGiveZeros) {
  Case c;
  c.causal = false;
  c.fill(13);
  std::fill(c.pad.begin(), c.pad.end(), 1); // every key is padding
  std::vector<float> out = c.run();
  for (float v : out)
    ASSERT_EQ(v, 0.0f);
}

TEST(AttentionTest, SameBitsForAnyThreadCountAndAlone) {
  Case c;
  c.experts = 3;
  c.rows = 5;
  c.slots = 70;
  c.width = 64;
  c.heads = 2;
  c.tokens = 90;
  c.fill(17);
  setCpuThreads(1);
  std::vector<float> one = c.run();
  setCpuThreads(3);
  std::vector<float> three = c.run();
  setCpuThreads(0);
  ASSERT_EQ(std::memcmp(one.data(), three.data(), one.size() * sizeof(float)),
            0);

  // Row 2 alone: rows = 1 over row 2's inputs.
  Case alone = c;
  alone.rows = 1;
  int64_t rowFloats = c.slots * c.ld();
  auto take = [&](const std::vector<float> &x) {
    std::vector<float> part;
    for (int64_t e = 0; e < c.experts; ++e) {
      auto at = x.begin() + (e * c.rows + 2) * rowFloats;
      part.insert(part.end(), at, at + rowFloats);
    }
    return part;
  };
  alone.q = take(c.q), alone.k = take(c.k), alone.v = take(c.v);
  alone.positions.clear();
  for (int64_t e = 0; e < c.experts; ++e) {
    auto at = c.positions.begin() + (e * c.rows + 2) * c.slots;
    alone.positions.insert(alone.positions.end(), at, at + c.slots);
  }
  alone.pad.assign(c.pad.begin() + 2 * c.tokens, c.pad.begin() + 3 * c.tokens);
  std::vector<float> single = alone.run();
  int64_t outRow = c.slots * c.width;
  for (int64_t e = 0; e < c.experts; ++e)
    EXPECT_EQ(std::memcmp(single.data() + e * outRow,
                          one.data() + (e * c.rows + 2) * outRow,
                          outRow * sizeof(float)),
              0)
        << "expert " << e;
}

TEST(AttentionTest, RejectsPositionsOutOfRange) {
  Case c;
  c.fill(19);
  c.positions[4] = c.tokens; // past the key padding's columns
  (void)takeCpuBlasError();
  (void)c.run();
  uoe::rt::Status error = takeCpuBlasError();
  ASSERT_FALSE(error.ok());
  EXPECT_NE(error.message().find("uoe_selective_attention: position"),
            std::string::npos)
      << error.message();
  // The gradient names itself.
  (void)c.runGrad(c.q);
  error = takeCpuBlasError();
  ASSERT_FALSE(error.ok());
  EXPECT_NE(error.message().find("uoe_selective_attention_grad: position"),
            std::string::npos)
      << error.message();
}

} // namespace
