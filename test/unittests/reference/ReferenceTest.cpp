//===- ReferenceTest.cpp - tests of the float64 reference -----------------===//
//
// The float64 reference (test/reference) is what every numeric test trusts,
// so it is checked three ways: hand-computed cases for each function (known
// softmax values, stable ties with exact expected positions, dynamic L,
// patch means, masks), the spec §1 equitant identity (a dense MLP / dense
// attention equals UoME / SMHA with every expert on every token, to 1e-12,
// at odd sizes such as T = 37, d = 48, E = 3), and layer-level cross-checks
// that rebuild UoME, SMHA and MoE outputs token by token from the dense
// layers on the selected tokens.
//
//===----------------------------------------------------------------------===//

#include "test/reference/Reference.h"

#include "gtest/gtest.h"

#include <cmath>
#include <string>
#include <vector>

namespace uoe::ref {
namespace {

constexpr double kExact = 1e-12;

std::vector<int64_t> values(const IndexTensor &t) { return t.data; }

/// `stacked[e]`: expert e's weight from a stacked `[E, ...]` tensor.
Tensor slice(const Tensor &stacked, int64_t e) {
  Tensor out(
      std::vector<int64_t>(stacked.shape.begin() + 1, stacked.shape.end()));
  std::copy(stacked.data.begin() + e * out.numel(),
            stacked.data.begin() + (e + 1) * out.numel(), out.data.begin());
  return out;
}

void expectAllNear(const Tensor &actual, const std::vector<double> &expected,
                   double tol = kExact) {
  ASSERT_EQ(actual.data.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(actual.data[i], expected[i], tol) << "at flat index " << i;
}

//===----------------------------------------------------------------------===//
// Tensor
//===----------------------------------------------------------------------===//

TEST(TensorTest, RowMajorAt) {
  Tensor t({2, 3}, {0, 1, 2, 3, 4, 5});
  EXPECT_EQ(t.at(1, 0), 3.0);
  EXPECT_EQ(t.at(0, 2), 2.0);
  EXPECT_EQ(t.dim(-1), 3);
  t.at(1, 2) = 9.0;
  EXPECT_EQ(t.data[5], 9.0);
  Tensor f = Tensor::filled({2, 2}, 7.0);
  EXPECT_EQ(f.data, std::vector<double>(4, 7.0));
  // A one-element list is a value, never a fill.
  Tensor one({1}, {5.0});
  EXPECT_EQ(one.data, std::vector<double>{5.0});
}

TEST(TensorTest, RandomIsReproducibleAndInRange) {
  Tensor a = randomTensor({5, 7}, 42, 0.5), b = randomTensor({5, 7}, 42, 0.5);
  Tensor c = randomTensor({5, 7}, 43, 0.5);
  EXPECT_EQ(a.data, b.data);
  EXPECT_NE(a.data, c.data);
  for (double v : a.data) {
    EXPECT_GE(v, -0.5);
    EXPECT_LT(v, 0.5);
  }
  EXPECT_EQ(maxAbsDiff(a, b), 0.0);
  EXPECT_GT(maxAbsDiff(a, c), 0.0);
}

TEST(TensorDeathTest, RejectsBadIndexAndValueCount) {
  Tensor t({2, 3});
  EXPECT_DEATH(t.at(2, 0), "index 2 out of range in dimension 0");
  EXPECT_DEATH(t.at(0), "index of rank 1");
  EXPECT_DEATH(Tensor({2, 2}, {1.0, 2.0, 3.0}), "given 3 values");
}

//===----------------------------------------------------------------------===//
// Elementwise pieces and norms
//===----------------------------------------------------------------------===//

TEST(ActivationTest, KnownValues) {
  EXPECT_NEAR(gelu(1.0), 0.8413447460685429, 1e-15);
  EXPECT_NEAR(gelu(-1.0), -0.15865525393145707, 1e-15);
  EXPECT_NEAR(geluTanh(1.0), 0.8411919906082768, 1e-15);
  EXPECT_NEAR(geluTanh(-2.0), -0.04540230591222494, 1e-15);
  EXPECT_NEAR(silu(1.0), 0.7310585786300049, 1e-15);
  EXPECT_NEAR(silu(-3.0), -0.14227761953270035, 1e-15);
  EXPECT_EQ(relu(-2.0), 0.0);
  EXPECT_EQ(relu(2.5), 2.5);
  EXPECT_EQ(sigmoid(0.0), 0.5);
  EXPECT_FALSE(std::isnan(sigmoid(-800.0)));
  EXPECT_EQ(sigmoid(800.0), 1.0);
}

TEST(ActivationTest, SwiGluUsesGateThenUpHalves) {
  Tensor h({2, 4}, {1, 2, 3, 4, -1, 0.5, 2, -2});
  Tensor y = activate(h, Activation::SwiGlu);
  EXPECT_EQ(y.shape, (std::vector<int64_t>{2, 2}));
  expectAllNear(y, {silu(1) * 3, silu(2) * 4, silu(-1) * 2, silu(0.5) * -2});
}

TEST(SoftmaxTest, KnownValuesAndLargeLogits) {
  Tensor p = softmax(
      Tensor({2, 3}, {0, std::log(2.0), std::log(3.0), 1000, 1000, -INFINITY}));
  expectAllNear(p, {1.0 / 6, 2.0 / 6, 3.0 / 6, 0.5, 0.5, 0.0}, 1e-15);
}

TEST(NormTest, LayerNormHandComputed) {
  Tensor x({1, 3}, {1, 2, 3});
  double inv = 1.0 / std::sqrt(2.0 / 3.0 + 1e-5);
  expectAllNear(layerNorm(x, Tensor({3}, {1, 1, 1}), Tensor({3})),
                {-inv, 0.0, inv});
  expectAllNear(layerNorm(x, Tensor({3}, {2, 3, 4}), Tensor({3}, {1, 1, 1})),
                {1 - 2 * inv, 1.0, 1 + 4 * inv});
  // eps is a parameter.
  double inv1 = 1.0 / std::sqrt(2.0 / 3.0 + 1.0);
  expectAllNear(layerNorm(x, Tensor({3}, {1, 1, 1}), Tensor({3}), 1.0),
                {-inv1, 0.0, inv1});
}

TEST(NormTest, RmsNormHandComputed) {
  Tensor x({2, 2}, {3, 4, 0, -2});
  double inv0 = 1.0 / std::sqrt(12.5 + 1e-6), inv1 = 1.0 / std::sqrt(2 + 1e-6);
  expectAllNear(rmsNorm(x, Tensor({2}, {1, 2})),
                {3 * inv0, 8 * inv0, 0.0, -4 * inv1});
}

TEST(MlpTest, DenseHandComputed) {
  // d = 1, F = 2: h = relu([x, -x]), y = 2 h0 + 3 h1 + 1.
  Tensor w1({1, 2}, {1, -1}), b1({2}), w2({2, 1}, {2, 3}), b2({1}, {1});
  Tensor y =
      denseMlp(Tensor({2, 1}, {2, -1}), w1, b1, w2, b2, Activation::Relu);
  expectAllNear(y, {5.0, 4.0});
  // b1 shifts before the activation.
  Tensor y2 = denseMlp(Tensor({1, 1}, {2}), w1, Tensor({2}, {-3, 5}), w2, b2,
                       Activation::Relu);
  expectAllNear(y2, {2 * 0 + 3 * 3 + 1.0});
}

TEST(MlpTest, ExpertMatmulPerExpert) {
  // lhs [E=2, 1, M=1, K=2], rhs [2, 2, 1]: expert e uses its own matrix.
  Tensor lhs({2, 1, 1, 2}, {1, 2, 3, 4}), rhs({2, 2, 1}, {1, 1, 10, -1});
  Tensor bias({2, 1}, {0.5, -0.5});
  expectAllNear(expertMatmul(lhs, rhs, &bias), {3.5, 25.5});
  expectAllNear(expertMatmul(lhs, rhs, nullptr, Activation::Relu), {3, 26});
}

//===----------------------------------------------------------------------===//
// Routing
//===----------------------------------------------------------------------===//

TEST(RouterTest, SoftmaxHandComputed) {
  // Two tokens, d = 2, E = 3: logits [1, 0, ln 2] and [0, 1, ln 2].
  Tensor x({1, 2, 2}, {1, 0, 0, 1});
  Tensor wg({3, 2}, {1, 0, 0, 1, 0, 0}), bg({3}, {0, 0, std::log(2.0)});
  Tensor p = router(x, wg, bg);
  EXPECT_EQ(p.shape, (std::vector<int64_t>{1, 2, 3}));
  double e = std::exp(1.0), z = e + 3;
  expectAllNear(p, {e / z, 1 / z, 2 / z, 1 / z, e / z, 2 / z}, 1e-15);
}

TEST(RouterTest, SigmoidHandComputed) {
  Tensor x({1, 2}, {2, -1});
  Tensor wg({2, 2}, {1, 1, 0, 3}), bg({2}, {0.5, 0});
  // logits: 2 - 1 + 0.5 = 1.5 and -3.
  expectAllNear(router(x, wg, bg, RouterScore::Sigmoid),
                {1 / (1 + std::exp(-1.5)), 1 / (1 + std::exp(3.0))}, 1e-15);
}

TEST(TokenChoiceTest, StableTies) {
  Tensor p({3, 4}, {0.3, 0.3, 0.3, 0.1, //
                    0.1, 0.3, 0.2, 0.3, //
                    0.25, 0.25, 0.25, 0.25});
  expectAllNear(tokenChoice(p, 2),
                {0.3, 0.3, 0, 0, //
                 0, 0.3, 0, 0.3, //
                 0.25, 0.25, 0, 0},
                0.0);
  expectAllNear(tokenChoice(p, 1),
                {0.3, 0, 0, 0, //
                 0, 0.3, 0, 0, //
                 0.25, 0, 0, 0},
                0.0);
  expectAllNear(tokenChoice(p, 3),
                {0.3, 0.3, 0.3, 0, //
                 0, 0.3, 0.2, 0.3, //
                 0.25, 0.25, 0.25, 0},
                0.0);
}

TEST(TokenChoiceTest, Renormalize) {
  Tensor p({1, 4}, {0.1, 0.3, 0.2, 0.4});
  expectAllNear(tokenChoice(p, 2, /*renormalize=*/true),
                {0, 0.3 / 0.7, 0, 0.4 / 0.7});
}

TEST(NormalizeTest, HandComputedAxis0) {
  // s: [2, 1, 2], normalised over axis 0 (n = 2).
  Tensor s({2, 1, 2}, {0.25, 0.75, 0.5, 0.0});
  // eps 0, c 1: floor(2) = 2; expert 0 sum 0.75, expert 1 sum 0.75.
  expectAllNear(normalizeScores(s, 0, 0.0, 1.0),
                {0.25 / 0.75 * 2, 0.75 / 0.75 * 2, 0.5 / 0.75 * 2, 0.0});
  // c = 0.7: floor(1.4) = 1.
  expectAllNear(normalizeScores(s, 0, 0.0, 0.7),
                {0.25 / 0.75, 1.0, 0.5 / 0.75, 0.0});
  // eps enters the denominator.
  expectAllNear(normalizeScores(s, 0, 0.25, 1.0),
                {0.25 * 2, 0.75 * 2, 0.5 * 2, 0.0});
  // c = 0.4: floor(0.8) = 0 zeroes everything.
  expectAllNear(normalizeScores(s, 0, 1e-6, 0.4), {0, 0, 0, 0}, 0.0);
}

TEST(NormalizeTest, HandComputedAxis1) {
  // s: [1, 3, 1] over axis 1 (n = 3), c = 1: floor(3) = 3.
  Tensor s({1, 3, 1}, {1, 2, 5});
  expectAllNear(normalizeScores(s, 1, 0.0, 1.0), {0.375, 0.75, 1.875});
}

TEST(DataSelectTest, StaticStableTiesThenAscending) {
  // R = 1, N = 6, E = 1, capacity 0.5 -> L = 3: 0.9 (3), 0.5 (1), then the
  // tie among the 0.2s at 0, 2, 4 goes to 0.
  Tensor scores({1, 6, 1}, {0.2, 0.5, 0.2, 0.9, 0.2, 0.1});
  Selection sel = dataSelect(scores, 1, 0.5);
  EXPECT_EQ(sel.positions.shape, (std::vector<int64_t>{1, 1, 3}));
  EXPECT_EQ(values(sel.positions), (std::vector<int64_t>{0, 1, 3}));
  expectAllNear(sel.scores, {0.2, 0.5, 0.9}, 0.0);
}

TEST(DataSelectTest, PerExpertAndRow) {
  // R = 2, N = 4, E = 2, capacity 0.5 -> L = 2.
  Tensor scores({2, 4, 2}, {// row 0: (e0, e1) per token
                            0.1, 0.0, 0.4, 0.0, 0.4, 0.0, 0.2, 0.0,
                            // row 1
                            0.3, 0.5, 0.1, 0.5, 0.3, 0.6, 0.3, 0.1});
  Selection sel = dataSelect(scores, 1, 0.5);
  // [E, R, L]: e0 r0 {1, 2}; e0 r1 ties 0.3 at 0, 2, 3 -> {0, 2};
  // e1 r0 all zero -> {0, 1}; e1 r1 0.6 (2), then the 0.5 at 0 before the
  // one at 1 -> {0, 2}.
  EXPECT_EQ(values(sel.positions),
            (std::vector<int64_t>{1, 2, 0, 2, 0, 1, 0, 2}));
  expectAllNear(sel.scores, {0.4, 0.4, 0.3, 0.3, 0, 0, 0.5, 0.6}, 0.0);
}

TEST(DataSelectTest, PatchMeans) {
  // N = 6, P = 2: patch means 0.5, 0.75, 0.5 (exact in binary).
  Tensor scores({1, 6, 1}, {0.25, 0.75, 0.5, 1.0, 0.0, 1.0});
  Selection one = dataSelect(scores, 2, 0.5); // floor(1.5) = 1
  EXPECT_EQ(values(one.positions), (std::vector<int64_t>{1}));
  expectAllNear(one.scores, {0.75}, 0.0);
  Selection two = dataSelect(scores, 2, 0.7); // floor(2.1) = 2, tie -> 0
  EXPECT_EQ(values(two.positions), (std::vector<int64_t>{0, 1}));
  expectAllNear(two.scores, {0.5, 0.75}, 0.0);
  // Dispatch gathers whole patches.
  Tensor x({1, 6, 1}, {0, 1, 2, 3, 4, 5});
  expectAllNear(dispatch(x, two.positions, 2), {0, 1, 2, 3}, 0.0);
}

TEST(DataSelectTest, DynamicLength) {
  // R = 2, N = 5, E = 2. Positive counts: (e0,r0) 3, (e0,r1) 1, (e1,r0) 0,
  // (e1,r1) 2, so L = 3 and rows with fewer positives keep zero-score
  // tokens, lowest index first.
  Tensor scores({2, 5, 2});
  const double e0r0[5] = {0, 0.4, 0, 0.2, 0.1}, e0r1[5] = {0.3, 0, 0, 0, 0},
               e1r1[5] = {0, 0, 0.5, 0.5, 0};
  for (int n = 0; n < 5; ++n) {
    scores.at(0, n, 0) = e0r0[n];
    scores.at(1, n, 0) = e0r1[n];
    scores.at(1, n, 1) = e1r1[n];
  }
  Selection sel = dataSelect(scores, 1, std::nullopt);
  EXPECT_EQ(sel.length(), 3);
  EXPECT_EQ(values(sel.positions),
            (std::vector<int64_t>{1, 3, 4, 0, 1, 2, 0, 1, 2, 0, 2, 3}));
  expectAllNear(sel.scores, {0.4, 0.2, 0.1, 0.3, 0, 0, 0, 0, 0, 0, 0.5, 0.5},
                0.0);
  // Negative scores do not count as positive: (e0, r0) drops to 2.
  scores.at(0, 4, 0) = -0.1;
  EXPECT_EQ(dataSelect(scores, 1, std::nullopt).length(), 2);
}

TEST(DataSelectTest, DynamicLengthOfPatchesAndOfNothing) {
  // P = 2: token scores (0.5, 0) make a positive patch; L counts patches.
  Tensor scores({1, 6, 1}, {0.5, 0, 0, 0, 0, 0.25});
  Selection sel = dataSelect(scores, 2, std::nullopt);
  EXPECT_EQ(values(sel.positions), (std::vector<int64_t>{0, 2}));
  expectAllNear(sel.scores, {0.25, 0.125}, 0.0);
  Selection none = dataSelect(Tensor({2, 4, 3}), 1, std::nullopt);
  EXPECT_EQ(none.positions.shape, (std::vector<int64_t>{3, 2, 0}));
}

TEST(DataSelectDeathTest, RejectsBadPatchAndCapacity) {
  Tensor scores({1, 6, 1});
  EXPECT_DEATH(dataSelect(scores, 4, 0.5), "patch 4 must be >= 1 and divide N");
  EXPECT_DEATH(dataSelect(scores, 1, 0.1), "L = floor");
  EXPECT_DEATH(dataSelect(scores, 1, 1.5), "is not in \\[1, 6\\]");
}

TEST(ExpertSelectTest, StableDescending) {
  Tensor p({2, 4}, {0.1, 0.4, 0.1, 0.4, 0.7, 0.1, 0.1, 0.1});
  ExpertChoice c = expertSelect(p, 3);
  EXPECT_EQ(values(c.experts), (std::vector<int64_t>{1, 3, 0, 0, 1, 2}));
  expectAllNear(c.weights, {0.4, 0.4, 0.1, 0.7, 0.1, 0.1}, 0.0);
  ExpertChoice r = expertSelect(p, 2, /*renormalize=*/true);
  EXPECT_EQ(values(r.experts), (std::vector<int64_t>{1, 3, 0, 1}));
  expectAllNear(r.weights, {0.5, 0.5, 0.7 / 0.8, 0.1 / 0.8});
}

TEST(DispatchCombineTest, HandComputed) {
  // R = 1, N = 4, d = 1, P = 2; expert 0 keeps patch 1, expert 1 patch 0.
  Tensor x({1, 4, 1}, {10, 20, 30, 40});
  IndexTensor pos({2, 1, 1}, {1, 0});
  Tensor xs = dispatch(x, pos, 2);
  EXPECT_EQ(xs.shape, (std::vector<int64_t>{2, 1, 2, 1}));
  expectAllNear(xs, {30, 40, 10, 20}, 0.0);
  expectAllNear(combine(xs, pos, 2, 4), {10, 20, 30, 40}, 0.0);
  Tensor w({2, 1, 1}, {0.5, 2});
  expectAllNear(combine(xs, pos, 2, 4, &w), {20, 40, 15, 20}, 0.0);
  // Two experts on one patch sum; untouched patches stay zero.
  IndexTensor same({2, 1, 1}, {0, 0});
  expectAllNear(combine(dispatch(x, same, 2), same, 2, 4), {20, 40, 0, 0}, 0.0);
}

//===----------------------------------------------------------------------===//
// Equitant identity (spec §1)
//===----------------------------------------------------------------------===//

struct DenseMlp {
  Tensor w1, b1, w2, b2;
};

DenseMlp randomMlp(int64_t d, int64_t f, Activation act, uint64_t seed) {
  int64_t f1 = act == Activation::SwiGlu ? 2 * f : f;
  return {randomTensor({d, f1}, seed + 1, 0.3), randomTensor({f1}, seed + 2),
          randomTensor({f, d}, seed + 3, 0.3), randomTensor({d}, seed + 4)};
}

UomeOptions allTokensAllExperts(int64_t e, Activation act, int64_t patch) {
  UomeOptions o;
  o.kTok = e;
  o.capacity = 1.0;
  o.patch = patch;
  o.act = act;
  o.combine = CombineMode::Union;
  return o;
}

TEST(EquitantTest, UomeWithEveryExpertEqualsDenseMlp) {
  const Activation acts[] = {Activation::Gelu,   Activation::GeluTanh,
                             Activation::Relu,   Activation::Silu,
                             Activation::SwiGlu, Activation::None};
  const int64_t n0 = 4, n1 = 37, d = 48, e = 3, f = 96;
  for (uint64_t seed : {1u, 2u, 3u})
    for (Activation act : acts) {
      SCOPED_TRACE("seed " + std::to_string(seed) + " activation " +
                   std::to_string(static_cast<int>(act)));
      DenseMlp m = randomMlp(d, f, act, 100 * seed);
      ExpertMlpWeights w = splitMlp(m.w1, m.b1, m.w2, m.b2, e, act);
      Tensor x = randomTensor({n0, n1, d}, seed);
      Tensor wg = randomTensor({e, d}, seed + 7), bg = randomTensor({e}, 9);
      Tensor dense = denseMlp(x, m.w1, m.b1, m.w2, m.b2, act);
      Tensor y = uome(x, wg, bg, w.w1s, w.b1s, w.w2s, w.b2s,
                      allTokensAllExperts(e, act, 1));
      EXPECT_LT(maxAbsDiff(y, dense), kExact);
      // The identity holds for any score function and patch size.
      UomeOptions sig = allTokensAllExperts(e, act, 1);
      sig.score = RouterScore::Sigmoid;
      EXPECT_LT(
          maxAbsDiff(uome(x, wg, bg, w.w1s, w.b1s, w.w2s, w.b2s, sig), dense),
          kExact);
    }
}

TEST(EquitantTest, UomeWithPatchesEqualsDenseMlp) {
  const int64_t n0 = 3, n1 = 36, d = 20, e = 4, f = 28;
  DenseMlp m = randomMlp(d, f, Activation::Gelu, 7);
  ExpertMlpWeights w = splitMlp(m.w1, m.b1, m.w2, m.b2, e, Activation::Gelu);
  Tensor x = randomTensor({n0, n1, d}, 11);
  Tensor wg = randomTensor({e, d}, 12), bg = randomTensor({e}, 13);
  Tensor dense = denseMlp(x, m.w1, m.b1, m.w2, m.b2, Activation::Gelu);
  for (int64_t patch : {2, 3, 4, 12})
    EXPECT_LT(maxAbsDiff(uome(x, wg, bg, w.w1s, w.b1s, w.w2s, w.b2s,
                              allTokensAllExperts(e, Activation::Gelu, patch)),
                         dense),
              kExact)
        << "patch " << patch;
}

TEST(EquitantTest, IdentityBreaksWithoutFullSelection) {
  // The negative control: the identity test above can fail.
  const int64_t n0 = 2, n1 = 10, d = 8, e = 2, f = 16;
  DenseMlp m = randomMlp(d, f, Activation::Gelu, 5);
  ExpertMlpWeights w = splitMlp(m.w1, m.b1, m.w2, m.b2, e, Activation::Gelu);
  Tensor x = randomTensor({n0, n1, d}, 6);
  Tensor wg = randomTensor({e, d}, 7), bg = randomTensor({e}, 8);
  Tensor dense = denseMlp(x, m.w1, m.b1, m.w2, m.b2, Activation::Gelu);
  UomeOptions half = allTokensAllExperts(e, Activation::Gelu, 1);
  half.capacity = 0.5;
  EXPECT_GT(
      maxAbsDiff(uome(x, wg, bg, w.w1s, w.b1s, w.w2s, w.b2s, half), dense),
      1e-3);
  UomeOptions gated = allTokensAllExperts(e, Activation::Gelu, 1);
  gated.combine = CombineMode::Gated;
  EXPECT_GT(
      maxAbsDiff(uome(x, wg, bg, w.w1s, w.b1s, w.w2s, w.b2s, gated), dense),
      1e-3);
}

TEST(SplitTest, SwiGluExpertsTakeBothHalves) {
  // d = 1, F = 4, E = 2: W1 = [gate 0..3 | up 0..3] = 0..7.
  Tensor w1({1, 8}, {0, 1, 2, 3, 4, 5, 6, 7}),
      b1({8}, {0, 1, 2, 3, 4, 5, 6, 7});
  Tensor w2({4, 1}, {10, 11, 12, 13}), b2({1}, {9});
  ExpertMlpWeights w = splitMlp(w1, b1, w2, b2, 2, Activation::SwiGlu);
  EXPECT_EQ(w.w1s.shape, (std::vector<int64_t>{2, 1, 4}));
  expectAllNear(w.w1s, {0, 1, 4, 5, 2, 3, 6, 7}, 0.0);
  expectAllNear(w.b1s, {0, 1, 4, 5, 2, 3, 6, 7}, 0.0);
  expectAllNear(w.w2s, {10, 11, 12, 13}, 0.0);
  expectAllNear(w.b2s, {9, 0}, 0.0);
}

TEST(SplitTest, AttentionHeadGroups) {
  const int64_t d = 6, e = 3; // De = 2
  Tensor wq = randomTensor({d, d}, 1), wo = randomTensor({d, d}, 2);
  Tensor bq = randomTensor({d}, 3), bo = randomTensor({d}, 4);
  ExpertAttentionWeights w =
      splitAttention(wq, wq, wq, bq, bq, bq, wo, bo, e, /*heads=*/6);
  EXPECT_EQ(w.wq.shape, (std::vector<int64_t>{3, 6, 2}));
  EXPECT_EQ(w.wq.at(2, 4, 1), wq.at(4, 5));
  EXPECT_EQ(w.bq.at(1, 0), bq.at(2));
  EXPECT_EQ(w.wo.at(1, 1, 5), wo.at(3, 5));
  EXPECT_EQ(w.bo.at(0, 3), bo.at(3));
  EXPECT_EQ(w.bo.at(2, 3), 0.0);
}

struct DenseAttention {
  Tensor wq, wk, wv, bq, bk, bv, wo, bo;
};

DenseAttention randomAttention(int64_t d, uint64_t seed) {
  double s = 1.0 / std::sqrt(static_cast<double>(d));
  return {randomTensor({d, d}, seed + 1, 2 * s),
          randomTensor({d, d}, seed + 2, 2 * s),
          randomTensor({d, d}, seed + 3, s),
          randomTensor({d}, seed + 4, 0.1),
          randomTensor({d}, seed + 5, 0.1),
          randomTensor({d}, seed + 6, 0.1),
          randomTensor({d, d}, seed + 7, s),
          randomTensor({d}, seed + 8, 0.1)};
}

TEST(EquitantTest, SmhaWithEveryHeadGroupEqualsDenseAttention) {
  const int64_t b = 2, t = 37, d = 48, heads = 6, e = 3;
  Tensor x = randomTensor({b, t, d}, 21);
  Tensor wg = randomTensor({e, d}, 22), bg = randomTensor({e}, 23);
  DenseAttention a = randomAttention(d, 30);
  ExpertAttentionWeights w =
      splitAttention(a.wq, a.wk, a.wv, a.bq, a.bk, a.bv, a.wo, a.bo, e, heads);
  // Row 1 pads its last five keys.
  Tensor padding({b, t});
  for (int64_t j = t - 5; j < t; ++j)
    padding.at(1, j) = 1.0;
  for (bool causal : {false, true})
    for (bool padded : {false, true})
      for (RopeMode rope :
           {RopeMode::None, RopeMode::Compacted, RopeMode::Original}) {
        SCOPED_TRACE(std::string("causal ") + (causal ? "1" : "0") +
                     " padded " + (padded ? "1" : "0") + " rope " +
                     std::to_string(static_cast<int>(rope)));
        AttentionOptions ao;
        ao.heads = heads;
        ao.causal = causal;
        // With every token selected the compacted order is the original.
        ao.rope = rope == RopeMode::None ? RopeMode::None : RopeMode::Original;
        const Tensor *pad = padded ? &padding : nullptr;
        Tensor dense = attention(x, a.wq, a.wk, a.wv, a.bq, a.bk, a.bv, a.wo,
                                 a.bo, ao, pad);
        SmhaOptions so;
        so.heads = heads;
        so.kTok = e;
        so.causal = causal;
        so.rope = rope;
        Tensor y = smha(x, wg, bg, w.wq, w.wk, w.wv, w.bq, w.bk, w.bv, w.wo,
                        w.bo, so, pad);
        EXPECT_LT(maxAbsDiff(y, dense), kExact);
      }
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

Tensor identity(int64_t d) {
  Tensor t({d, d});
  for (int64_t i = 0; i < d; ++i)
    t.at(i, i) = 1.0;
  return t;
}

TEST(AttentionTest, HandComputedTwoTokens) {
  // q = k = v = x = I (two tokens, d = 2, one head), scores I / sqrt 2.
  Tensor x({1, 2, 2}, {1, 0, 0, 1}), z({2}), i2 = identity(2);
  AttentionOptions o;
  double a = std::exp(1 / std::sqrt(2.0)), hi = a / (a + 1), lo = 1 / (a + 1);
  expectAllNear(attention(x, i2, i2, i2, z, z, z, i2, z, o), {hi, lo, lo, hi});
  o.causal = true;
  expectAllNear(attention(x, i2, i2, i2, z, z, z, i2, z, o), {1, 0, lo, hi});
  // Output bias and projection apply after attention.
  Tensor wo({2, 2}, {0, 1, 1, 0}), bo({2}, {1, -1});
  expectAllNear(attention(x, i2, i2, i2, z, z, z, wo, bo, o),
                {1, 0, 1 + hi, lo - 1});
}

TEST(AttentionTest, CausalOutputsIgnoreLaterTokens) {
  const int64_t t = 9, d = 12;
  DenseAttention a = randomAttention(d, 40);
  Tensor x = randomTensor({1, t, d}, 41), x2 = x;
  for (int64_t i = 0; i < d; ++i)
    x2.at(0, t - 1, i) += 1.0;
  for (bool causal : {true, false}) {
    AttentionOptions o;
    o.heads = 3;
    o.causal = causal;
    o.rope = RopeMode::Original;
    Tensor y = attention(x, a.wq, a.wk, a.wv, a.bq, a.bk, a.bv, a.wo, a.bo, o);
    Tensor y2 =
        attention(x2, a.wq, a.wk, a.wv, a.bq, a.bk, a.bv, a.wo, a.bo, o);
    double prefixDiff = 0.0;
    for (int64_t i = 0; i < (t - 1) * d; ++i)
      prefixDiff = std::max(prefixDiff, std::fabs(y.data[i] - y2.data[i]));
    if (causal) {
      EXPECT_EQ(prefixDiff, 0.0);
    } else {
      EXPECT_GT(prefixDiff, 1e-6);
    }
  }
}

TEST(AttentionTest, AllKeysPaddedGivesTheOutputBias) {
  const int64_t t = 5, d = 4;
  DenseAttention a = randomAttention(d, 50);
  Tensor x = randomTensor({2, t, d}, 51);
  Tensor pad({2, t});
  for (int64_t j = 0; j < t; ++j)
    pad.at(1, j) = 1.0;
  pad.at(0, 2) = 1.0;
  AttentionOptions o;
  o.heads = 2;
  Tensor y =
      attention(x, a.wq, a.wk, a.wv, a.bq, a.bk, a.bv, a.wo, a.bo, o, &pad);
  for (int64_t j = 0; j < t; ++j)
    for (int64_t i = 0; i < d; ++i) {
      EXPECT_EQ(y.at(1, j, i), a.bo.at(i));
      EXPECT_FALSE(std::isnan(y.at(0, j, i)));
    }
  // Padding key 2 of row 0 is the same as removing token 2 from the keys:
  // query 0 then matches attention over tokens {0, 1, 3, 4}.
  Tensor xr({1, t - 1, d});
  for (int64_t j = 0, k = 0; j < t; ++j)
    if (j != 2) {
      for (int64_t i = 0; i < d; ++i)
        xr.at(0, k, i) = x.at(0, j, i);
      ++k;
    }
  Tensor yr = attention(xr, a.wq, a.wk, a.wv, a.bq, a.bk, a.bv, a.wo, a.bo, o);
  for (int64_t i = 0; i < d; ++i)
    EXPECT_NEAR(y.at(0, 0, i), yr.at(0, 0, i), kExact);
}

TEST(RopeTest, HandComputed) {
  double v2[2] = {1, 0};
  applyRope(v2, 2, 0.7);
  EXPECT_NEAR(v2[0], std::cos(0.7), 1e-15);
  EXPECT_NEAR(v2[1], std::sin(0.7), 1e-15);
  // dh = 4: pair (1, 3) turns at base^(-1/2) = 0.01 per position.
  double v4[4] = {0, 1, 0, 0};
  applyRope(v4, 4, 3.0);
  EXPECT_NEAR(v4[0], 0.0, 1e-15);
  EXPECT_NEAR(v4[1], std::cos(0.03), 1e-15);
  EXPECT_NEAR(v4[2], 0.0, 1e-15);
  EXPECT_NEAR(v4[3], std::sin(0.03), 1e-15);
  // Another base.
  double vb[4] = {0, 2, 0, 0};
  applyRope(vb, 4, 1.0, 100.0);
  EXPECT_NEAR(vb[1], 2 * std::cos(0.1), 1e-15);
  EXPECT_NEAR(vb[3], 2 * std::sin(0.1), 1e-15);
}

TEST(SelectiveAttentionTest, RopeDependsOnRelativePositionsOnly) {
  // Shifting every original position leaves q.k unchanged (rotary), so
  // Original-mode outputs match; Compacted ignores positions altogether.
  const int64_t l = 6, width = 8;
  Tensor q = randomTensor({1, 1, l, width}, 60);
  Tensor k = randomTensor({1, 1, l, width}, 61);
  Tensor v = randomTensor({1, 1, l, width}, 62);
  IndexTensor pos({1, 1, l}, {0, 2, 3, 7, 8, 11});
  IndexTensor shifted({1, 1, l}, {5, 7, 8, 12, 13, 16});
  SelectiveAttentionOptions o;
  o.heads = 2;
  o.rope = RopeMode::Original;
  Tensor y = selectiveAttention(q, k, v, pos, o);
  EXPECT_LT(maxAbsDiff(y, selectiveAttention(q, k, v, shifted, o)), kExact);
  SelectiveAttentionOptions compacted = o;
  compacted.rope = RopeMode::Compacted;
  Tensor yc = selectiveAttention(q, k, v, pos, compacted);
  EXPECT_GT(maxAbsDiff(y, yc), 1e-6);
  IndexTensor dense({1, 1, l}, {0, 1, 2, 3, 4, 5});
  EXPECT_LT(maxAbsDiff(yc, selectiveAttention(q, k, v, dense, o)), kExact);
}

TEST(SelectiveAttentionTest, MasksByOriginalPosition) {
  // One expert, one head: positions 2, 5, 9 of a row of T = 10.
  const int64_t l = 3, width = 2;
  Tensor q = randomTensor({1, 1, l, width}, 70);
  Tensor k = randomTensor({1, 1, l, width}, 71);
  Tensor v({1, 1, l, width}, {1, 2, 30, 40, 500, 600});
  IndexTensor pos({1, 1, l}, {2, 5, 9});
  SelectiveAttentionOptions o;
  o.causal = true;
  Tensor pad({1, 10});
  pad.at(0, 5) = 1.0; // the second selected token is padding
  Tensor y = selectiveAttention(q, k, v, pos, o, &pad);
  // Query 0 sees key 0 only; query 1 sees key 0 (key 1 is padded).
  EXPECT_NEAR(y.at(0, 0, 0, 0), 1, kExact);
  EXPECT_NEAR(y.at(0, 0, 1, 1), 2, kExact);
  // Query 2 mixes keys 0 and 2 with the softmax of their scores.
  double s0 = (q.at(0, 0, 2, 0) * k.at(0, 0, 0, 0) +
               q.at(0, 0, 2, 1) * k.at(0, 0, 0, 1)) /
              std::sqrt(2.0);
  double s2 = (q.at(0, 0, 2, 0) * k.at(0, 0, 2, 0) +
               q.at(0, 0, 2, 1) * k.at(0, 0, 2, 1)) /
              std::sqrt(2.0);
  double p0 = std::exp(s0) / (std::exp(s0) + std::exp(s2));
  EXPECT_NEAR(y.at(0, 0, 2, 0), p0 * 1 + (1 - p0) * 500, 1e-11);
  // The causal mask compares original positions, not indices: with the
  // tokens in the order (pos 5, pos 2), query 1 (pos 2) sees only itself
  // and query 0 sees both.
  Tensor q2 = randomTensor({1, 1, 2, width}, 72);
  Tensor k2 = randomTensor({1, 1, 2, width}, 73);
  Tensor v2({1, 1, 2, width}, {1, 2, 30, 40});
  SelectiveAttentionOptions causal;
  causal.causal = true;
  Tensor yu =
      selectiveAttention(q2, k2, v2, IndexTensor({1, 1, 2}, {5, 2}), causal);
  EXPECT_NEAR(yu.at(0, 0, 1, 0), 30, kExact);
  EXPECT_GT(std::fabs(yu.at(0, 0, 0, 0) - 1), 1e-6);
  // An explicit scale replaces 1/sqrt(dh).
  o.scale = 0.0;
  Tensor flat = selectiveAttention(q, k, v, pos, o, &pad);
  EXPECT_NEAR(flat.at(0, 0, 2, 1), (2 + 600) / 2.0, kExact);
}

//===----------------------------------------------------------------------===//
// Layers rebuilt token by token
//===----------------------------------------------------------------------===//

TEST(UomeTest, EqualsSelectedExpertsTokenByToken) {
  const int64_t n0 = 3, n1 = 12, d = 8, e = 4, fe = 6;
  Tensor x = randomTensor({n0, n1, d}, 80);
  Tensor wg = randomTensor({e, d}, 81), bg = randomTensor({e}, 82);
  Tensor w1s = randomTensor({e, d, fe}, 83), b1s = randomTensor({e, fe}, 84);
  Tensor w2s = randomTensor({e, fe, d}, 85), b2s = randomTensor({e, d}, 86);
  for (int64_t patch : {1, 2, 3})
    for (CombineMode mode : {CombineMode::Union, CombineMode::Gated}) {
      SCOPED_TRACE("patch " + std::to_string(patch));
      UomeOptions o;
      o.kTok = 2;
      o.patch = patch;
      o.combine = mode;
      Tensor y = uome(x, wg, bg, w1s, b1s, w2s, b2s, o);
      // The same routing, step by step with the public pieces.
      Tensor g = normalizeScores(tokenChoice(router(x, wg, bg), 2), 0);
      Selection sel = dataSelect(g, patch, 0.5);
      ASSERT_EQ(sel.length(), n1 / patch / 2);
      Tensor expected({n0, n1, d});
      std::vector<bool> seen(static_cast<size_t>(n0 * n1));
      for (int64_t ex = 0; ex < e; ++ex)
        for (int64_t r = 0; r < n0; ++r)
          for (int64_t j = 0; j < sel.length(); ++j)
            for (int64_t t = 0; t < patch; ++t) {
              int64_t n = sel.positions.at(ex, r, j) * patch + t;
              Tensor token({1, d});
              for (int64_t i = 0; i < d; ++i)
                token.at(0, i) = x.at(r, n, i);
              Tensor out = denseMlp(token, slice(w1s, ex), slice(b1s, ex),
                                    slice(w2s, ex), slice(b2s, ex));
              double w =
                  mode == CombineMode::Gated ? sel.scores.at(ex, r, j) : 1.0;
              for (int64_t i = 0; i < d; ++i)
                expected.at(r, n, i) += w * out.at(0, i);
              seen[r * n1 + n] = true;
            }
      EXPECT_LT(maxAbsDiff(y, expected), kExact);
      // With L = half the patches per expert, some tokens are left out;
      // their output is exactly zero (no residual inside the layer).
      for (int64_t r = 0; r < n0; ++r)
        for (int64_t n = 0; n < n1; ++n)
          if (!seen[r * n1 + n]) {
            EXPECT_EQ(y.at(r, n, 0), 0.0);
          }
    }
}

TEST(SmhaTest, EqualsDenseAttentionOverEachExpertsTokens) {
  // k_tok = 1 of E = 2 head groups, so each expert keeps a strict subset
  // (dynamic L < T); its output is dense attention over its selected
  // tokens (compacted positions 0..L-1 = the dense layer's positions).
  const int64_t b = 2, t = 13, d = 16, heads = 4, e = 2, de = d / e;
  Tensor x = randomTensor({b, t, d}, 90);
  Tensor wg = randomTensor({e, d}, 91, 2.0), bg = randomTensor({e}, 92);
  Tensor wq = randomTensor({e, d, de}, 93, 0.5);
  Tensor wk = randomTensor({e, d, de}, 94, 0.5);
  Tensor wv = randomTensor({e, d, de}, 95, 0.5);
  Tensor bq = randomTensor({e, de}, 96), bk = randomTensor({e, de}, 97);
  Tensor bv = randomTensor({e, de}, 98);
  Tensor wo = randomTensor({e, de, d}, 99, 0.5), bo = randomTensor({e, d}, 100);
  Tensor pad({b, t});
  pad.at(0, 4) = pad.at(1, 11) = pad.at(1, 12) = 1.0;

  Tensor g = normalizeScores(tokenChoice(router(x, wg, bg), 1), 0);
  Selection sel = dataSelect(g, 1, std::nullopt);
  ASSERT_LT(sel.length(), t);
  ASSERT_GT(sel.length(), 1);

  for (CombineMode mode : {CombineMode::Union, CombineMode::Gated}) {
    SmhaOptions so;
    so.heads = heads;
    so.kTok = 1;
    so.causal = true;
    so.rope = RopeMode::Compacted;
    so.combine = mode;
    Tensor y = smha(x, wg, bg, wq, wk, wv, bq, bk, bv, wo, bo, so, &pad);

    Tensor expected({b, t, d});
    int64_t l = sel.length();
    for (int64_t ex = 0; ex < e; ++ex)
      for (int64_t r = 0; r < b; ++r) {
        Tensor xs({1, l, d}), ps({1, l});
        for (int64_t j = 0; j < l; ++j) {
          int64_t n = sel.positions.at(ex, r, j);
          ps.at(0, j) = pad.at(r, n);
          for (int64_t i = 0; i < d; ++i)
            xs.at(0, j, i) = x.at(r, n, i);
        }
        AttentionOptions ao;
        ao.heads = heads / e;
        ao.causal = true;
        ao.rope = RopeMode::Original;
        Tensor ys = attention(xs, slice(wq, ex), slice(wk, ex), slice(wv, ex),
                              slice(bq, ex), slice(bk, ex), slice(bv, ex),
                              slice(wo, ex), slice(bo, ex), ao, &ps);
        for (int64_t j = 0; j < l; ++j) {
          double w = mode == CombineMode::Gated ? sel.scores.at(ex, r, j) : 1.0;
          for (int64_t i = 0; i < d; ++i)
            expected.at(r, sel.positions.at(ex, r, j), i) += w * ys.at(0, j, i);
        }
      }
    EXPECT_LT(maxAbsDiff(y, expected), kExact);
  }
}

TEST(SmhaTest, RopeModesDifferOnlyWhenSelectionCompacts) {
  const int64_t b = 2, t = 11, d = 16, heads = 4, e = 2, de = d / e;
  Tensor x = randomTensor({b, t, d}, 110);
  Tensor wg = randomTensor({e, d}, 111, 2.0), bg = randomTensor({e}, 112);
  Tensor wq = randomTensor({e, d, de}, 113), wk = randomTensor({e, d, de}, 114);
  Tensor wv = randomTensor({e, d, de}, 115), wo = randomTensor({e, de, d}, 116);
  Tensor bias = randomTensor({e, de}, 117), bo = randomTensor({e, d}, 118);
  auto run = [&](int64_t kTok, RopeMode rope) {
    SmhaOptions so;
    so.heads = heads;
    so.kTok = kTok;
    so.rope = rope;
    return smha(x, wg, bg, wq, wk, wv, bias, bias, bias, wo, bo, so);
  };
  EXPECT_GT(maxAbsDiff(run(1, RopeMode::Compacted), run(1, RopeMode::Original)),
            1e-6);
  EXPECT_LT(maxAbsDiff(run(2, RopeMode::Compacted), run(2, RopeMode::Original)),
            kExact);
}

TEST(MoeTest, WeightsAndExpertsPerToken) {
  const int64_t s = 7, d = 6, e = 4, fe = 5;
  Tensor x = randomTensor({s, d}, 120);
  Tensor wg = randomTensor({e, d}, 121, 2.0), bg = randomTensor({e}, 122);
  Tensor w1s = randomTensor({e, d, 2 * fe}, 123);
  Tensor b1s = randomTensor({e, 2 * fe}, 124);
  Tensor w2s = randomTensor({e, fe, d}, 125), b2s = randomTensor({e, d}, 126);
  Tensor p = router(x, wg, bg);
  for (bool renormalize : {false, true})
    for (CombineMode mode : {CombineMode::Gated, CombineMode::Union}) {
      MoeOptions o;
      o.kTok = 2;
      o.renormalize = renormalize;
      o.combine = mode;
      o.act = Activation::SwiGlu;
      Tensor y = moe(x, wg, bg, w1s, b1s, w2s, b2s, o);
      Tensor expected({s, d});
      for (int64_t r = 0; r < s; ++r) {
        // The two most probable experts, found here by a plain scan.
        int64_t first = 0;
        for (int64_t ex = 1; ex < e; ++ex)
          if (p.at(r, ex) > p.at(r, first))
            first = ex;
        int64_t second = first == 0 ? 1 : 0;
        for (int64_t ex = 0; ex < e; ++ex)
          if (ex != first && p.at(r, ex) > p.at(r, second))
            second = ex;
        double sum = p.at(r, first) + p.at(r, second);
        Tensor token({1, d});
        for (int64_t i = 0; i < d; ++i)
          token.at(0, i) = x.at(r, i);
        for (int64_t ex : {first, second}) {
          double w = mode == CombineMode::Union ? 1.0
                     : renormalize              ? p.at(r, ex) / sum
                                                : p.at(r, ex);
          Tensor out =
              denseMlp(token, slice(w1s, ex), slice(b1s, ex), slice(w2s, ex),
                       slice(b2s, ex), Activation::SwiGlu);
          for (int64_t i = 0; i < d; ++i)
            expected.at(r, i) += w * out.at(0, i);
        }
      }
      EXPECT_LT(maxAbsDiff(y, expected), kExact);
    }
}

TEST(MoeTest, AllExpertsSoftmaxNeedsNoRenormalisation) {
  const int64_t d = 6, e = 3, fe = 4;
  Tensor x = randomTensor({2, 5, d}, 130);
  Tensor wg = randomTensor({e, d}, 131), bg = randomTensor({e}, 132);
  Tensor w1s = randomTensor({e, d, fe}, 133), b1s = randomTensor({e, fe}, 134);
  Tensor w2s = randomTensor({e, fe, d}, 135), b2s = randomTensor({e, d}, 136);
  MoeOptions o;
  o.kTok = e;
  Tensor plain = moe(x, wg, bg, w1s, b1s, w2s, b2s, o);
  o.renormalize = true;
  EXPECT_LT(maxAbsDiff(plain, moe(x, wg, bg, w1s, b1s, w2s, b2s, o)), kExact);
  // Sigmoid scores do not sum to one: renormalising changes the output.
  o.score = RouterScore::Sigmoid;
  Tensor renormalized = moe(x, wg, bg, w1s, b1s, w2s, b2s, o);
  o.renormalize = false;
  EXPECT_GT(maxAbsDiff(renormalized, moe(x, wg, bg, w1s, b1s, w2s, b2s, o)),
            1e-6);
}

TEST(BlockTest, PostLnAndPreRms) {
  Tensor x = randomTensor({2, 3, 5}, 140);
  Tensor gamma = randomTensor({5}, 141), beta = randomTensor({5}, 142);
  Layer twice = [](const Tensor &t) {
    Tensor out = t;
    for (double &v : out.data)
      v *= 2.0;
    return out;
  };
  Tensor x3 = x;
  for (double &v : x3.data)
    v *= 3.0;
  EXPECT_LT(maxAbsDiff(postLnBlock(x, twice, gamma, beta),
                       layerNorm(x3, gamma, beta)),
            kExact);
  Tensor expected = rmsNorm(x, gamma);
  for (size_t i = 0; i < expected.data.size(); ++i)
    expected.data[i] = x.data[i] + 2.0 * expected.data[i];
  EXPECT_LT(maxAbsDiff(preRmsBlock(x, twice, gamma), expected), kExact);
}

TEST(LayerDeathTest, RequiredOptionsAndShapes) {
  Tensor x({1, 4, 2}), wg({2, 2}), bg({2}), w1s({2, 2, 3}), b1s({2, 3});
  Tensor w2s({2, 3, 2}), b2s({2, 2});
  EXPECT_DEATH(uome(x, wg, bg, w1s, b1s, w2s, b2s, UomeOptions()),
               "kTok = 0 is not in \\[1, E = 2\\]");
  UomeOptions o;
  o.kTok = 1;
  o.patch = 3;
  EXPECT_DEATH(uome(x, wg, bg, w1s, b1s, w2s, b2s, o), "divide N = 4");
  EXPECT_DEATH(uome(x, wg, bg, w1s, b1s, w1s, b2s, UomeOptions()),
               "W2s \\[2, 2, 3\\] is not \\[E, Fe = 3, d\\]");
  AttentionOptions ao;
  ao.rope = RopeMode::Compacted;
  Tensor w({2, 2}), b({2});
  EXPECT_DEATH(attention(x, w, w, w, b, b, b, w, b, ao), "compacted");
}

} // namespace
} // namespace uoe::ref
