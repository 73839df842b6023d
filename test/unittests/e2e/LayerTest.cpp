//===- LayerTest.cpp - layer ops end to end against the reference -------===//
//
// Each layer op of spec §6 / §8 compiled alone for the CPU and run on
// random weights and inputs, compared with the float64 reference at the
// tolerance of E2eTestUtil.h: UoME (both layouts, i.e. selecting along T of
// [B, T, d] or along B of [T, B, d]; union and gated; patches; every
// activation), token-choice MoE, dense MLP, dense attention (causal, key
// padding, rotary), SMHA (causal, key padding, both rotary modes, union and
// gated, dynamic L) and the norms. The routing layers also return the
// selection their routing makes, which must equal the reference's exactly.
//
// A routing decision that sits on a near-tie (relative gap below
// kMinMargin) could legitimately go either way in f32; the tests assert
// that the seeds they use have none, so that a mismatch is always a bug.
//
//===----------------------------------------------------------------------===//

#include "E2eTestUtil.h"

#include <cmath>

using namespace uoe;
using namespace uoe::e2e;

namespace {

const char *keyword(ref::Activation act) {
  switch (act) {
  case ref::Activation::None:
    return "none";
  case ref::Activation::Gelu:
    return "gelu";
  case ref::Activation::GeluTanh:
    return "gelu_tanh";
  case ref::Activation::Relu:
    return "relu";
  case ref::Activation::Silu:
    return "silu";
  case ref::Activation::SwiGlu:
    return "swiglu";
  }
  return "?";
}

const char *keyword(ref::CombineMode mode) {
  return mode == ref::CombineMode::Gated ? "gated" : "union";
}

const char *keyword(ref::RouterScore score) {
  return score == ref::RouterScore::Sigmoid ? "sigmoid" : "softmax";
}

std::string str(int64_t v) { return std::to_string(v); }

/// The padding threshold of randomPadding: about a third of the keys.
constexpr double kPadBelow = -0.33;

/// The types `X` of `x: xShape` and `WG`, `BG`, `W1`, `B1`, `W2`, `B2` of
/// ExpertLayerWeights for `e` experts of hidden width `fe` (`f1` wide up).
std::map<std::string, std::string>
expertLayerTypes(const std::vector<int64_t> &xShape, int64_t e, int64_t fe,
                 int64_t f1) {
  int64_t d = xShape.back();
  return {{"X", tensorType(xShape)},   {"WG", tensorType({e, d})},
          {"BG", tensorType({e})},     {"W1", tensorType({e, d, f1})},
          {"B1", tensorType({e, f1})}, {"W2", tensorType({e, fe, d})},
          {"B2", tensorType({e, d})}};
}

//===----------------------------------------------------------------------===//
// uome
//===----------------------------------------------------------------------===//

struct UomeCase {
  int64_t n0, n1, d, e, fe, top;
  double capacity;
  int64_t patch;
  ref::Activation act;
  ref::CombineMode combine;
  ref::RouterScore score;
};

class UomeTest : public ::testing::TestWithParam<UomeCase> {};

TEST_P(UomeTest, LayerAndSelectionMatchReference) {
  const UomeCase &c = GetParam();
  int64_t f1 = c.act == ref::Activation::SwiGlu ? 2 * c.fe : c.fe;
  int64_t l = static_cast<int64_t>(std::floor(c.capacity * (c.n1 / c.patch)));
  std::map<std::string, std::string> vars =
      expertLayerTypes({c.n0, c.n1, c.d}, c.e, c.fe, f1);
  vars.insert({{"PR", tensorType({c.n0, c.n1, c.e})},
               {"POS", tensorType({c.e, c.n0, l}, "i64")},
               {"SW", tensorType({c.e, c.n0, l})},
               {"K", str(c.top)},
               {"C", std::to_string(c.capacity)},
               {"P", str(c.patch)},
               {"ACT", keyword(c.act)},
               {"COMB", keyword(c.combine)},
               {"S", keyword(c.score)}});
  auto fn = compileOrFail(fill(R"mlir(
func.func @f(%x: ${X}, %wg: ${WG}, %bg: ${BG}, %w1: ${W1}, %b1: ${B1},
             %w2: ${W2}, %b2: ${B2}) -> (${X}, ${POS})
    attributes {llvm.emit_c_interface} {
  %y = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2)
      top ${K} capacity ${C} patch ${P} activation ${ACT} ${COMB}
      {score = #uoe.score<${S}>}
      : ${X}, ${WG}, ${BG}, ${W1}, ${B1}, ${W2}, ${B2}
  %p = uoe.router %x, %wg, %bg score ${S} : ${X}, ${WG}, ${BG} -> ${PR}
  %g = uoe.token_choice %p top ${K} normalize axis 0 eps 1.0e-06 capacity 1.0 : ${PR}
  %pos, %w = uoe.data_select %g patch ${P} capacity ${C} : ${PR} -> ${POS}, ${SW}
  return %y, %pos : ${X}, ${POS}
})mlir",
                               vars),
                          "f");
  ASSERT_TRUE(fn);
  ref::UomeOptions options;
  options.kTok = c.top;
  options.capacity = c.capacity;
  options.patch = c.patch;
  options.act = c.act;
  options.combine = c.combine;
  options.score = c.score;
  forSeeds([&](uint64_t seed) {
    ref::Tensor x = randomF32({c.n0, c.n1, c.d}, subSeed(seed, 0));
    ExpertLayerWeights w = randomExpertWeights(c.e, c.d, c.fe, f1, seed);
    if (routingMargin(x, w.wg, w.bg, c.score, c.top, options.eps,
                      options.normCapacity, c.patch, c.capacity) < kMinMargin)
      return false;
    auto out = callOrFail(*fn, w.buffers(x));
    if (out.size() != 2)
      return true;
    EXPECT_TRUE(allClose(
        out[0], ref::uome(x, w.wg, w.bg, w.w1, w.b1, w.w2, w.b2, options)));
    ref::Tensor g = ref::normalizeScores(
        ref::tokenChoice(ref::router(x, w.wg, w.bg, c.score), c.top), 0,
        options.eps, options.normCapacity);
    EXPECT_TRUE(allEqual(out[1],
                         ref::dataSelect(g, c.patch, c.capacity).positions));
    return true;
  });
}

using ref::Activation;
using ref::CombineMode;
using ref::RouterScore;

INSTANTIATE_TEST_SUITE_P(
    Layouts, UomeTest,
    ::testing::Values(
        // Sequence layout [B, T, d]: every expert keeps tokens per sequence.
        UomeCase{2, 37, 48, 3, 16, 1, 0.5, 1, Activation::Gelu,
                 CombineMode::Union, RouterScore::Softmax},
        // Batch layout [T, B, d] (the authors' LM): sequences per position.
        UomeCase{37, 2, 48, 3, 16, 2, 0.5, 1, Activation::Gelu,
                 CombineMode::Gated, RouterScore::Softmax},
        UomeCase{3, 12, 20, 4, 6, 2, 0.5, 3, Activation::SwiGlu,
                 CombineMode::Gated, RouterScore::Sigmoid},
        UomeCase{2, 16, 24, 2, 10, 1, 0.75, 2, Activation::Silu,
                 CombineMode::Union, RouterScore::Softmax},
        UomeCase{4, 9, 33, 5, 7, 3, 0.4, 1, Activation::GeluTanh,
                 CombineMode::Union, RouterScore::Softmax},
        UomeCase{3, 10, 12, 3, 5, 2, 0.5, 5, Activation::Relu,
                 CombineMode::Gated, RouterScore::Softmax}));

//===----------------------------------------------------------------------===//
// moe
//===----------------------------------------------------------------------===//

struct MoeCase {
  int64_t b, t, d, e, fe, top;
  bool renormalize;
  ref::Activation act;
  ref::RouterScore score;
};

class MoeTest : public ::testing::TestWithParam<MoeCase> {};

TEST_P(MoeTest, LayerMatchesReference) {
  const MoeCase &c = GetParam();
  int64_t f1 = c.act == ref::Activation::SwiGlu ? 2 * c.fe : c.fe;
  std::map<std::string, std::string> vars =
      expertLayerTypes({c.b, c.t, c.d}, c.e, c.fe, f1);
  vars.insert({{"K", str(c.top)},
               {"RENORM", c.renormalize ? "renormalize" : ""},
               {"ACT", keyword(c.act)},
               {"S", keyword(c.score)}});
  auto fn = compileOrFail(fill(R"mlir(
func.func @f(%x: ${X}, %wg: ${WG}, %bg: ${BG}, %w1: ${W1}, %b1: ${B1},
             %w2: ${W2}, %b2: ${B2}) -> ${X}
    attributes {llvm.emit_c_interface} {
  %y = uoe.moe %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2)
      top ${K} ${RENORM} activation ${ACT} {score = #uoe.score<${S}>}
      : ${X}, ${WG}, ${BG}, ${W1}, ${B1}, ${W2}, ${B2}
  return %y : ${X}
})mlir",
                               vars),
                          "f");
  ASSERT_TRUE(fn);
  ref::MoeOptions options;
  options.kTok = c.top;
  options.renormalize = c.renormalize;
  options.act = c.act;
  options.score = c.score;
  forSeeds([&](uint64_t seed) {
    ref::Tensor x = randomF32({c.b, c.t, c.d}, subSeed(seed, 0));
    ExpertLayerWeights w = randomExpertWeights(c.e, c.d, c.fe, f1, seed);
    ref::Tensor p = ref::router(x, w.wg, w.bg, c.score);
    double margin = INFINITY;
    for (int64_t r = 0; r < c.b * c.t; ++r)
      margin = std::min(margin, topKMargin(&p.data[r * c.e], c.e, c.top));
    if (margin < kMinMargin)
      return false;
    auto out = callOrFail(*fn, w.buffers(x));
    if (out.size() != 1)
      return true;
    EXPECT_TRUE(allClose(
        out[0], ref::moe(x, w.wg, w.bg, w.w1, w.b1, w.w2, w.b2, options)));
    return true;
  });
}

INSTANTIATE_TEST_SUITE_P(
    Sizes, MoeTest,
    ::testing::Values(MoeCase{2, 37, 48, 3, 16, 2, false, Activation::Gelu,
                              RouterScore::Softmax},
                      MoeCase{1, 20, 24, 4, 12, 1, true, Activation::SwiGlu,
                              RouterScore::Softmax},
                      MoeCase{3, 7, 17, 5, 9, 2, true, Activation::Silu,
                              RouterScore::Sigmoid}));

//===----------------------------------------------------------------------===//
// dense_mlp
//===----------------------------------------------------------------------===//

struct DenseMlpCase {
  std::vector<int64_t> shape; // of x, last dimension d
  int64_t f;
};

class DenseMlpTest : public ::testing::TestWithParam<DenseMlpCase> {};

TEST_P(DenseMlpTest, EveryActivationMatchesReference) {
  const DenseMlpCase &c = GetParam();
  int64_t d = c.shape.back(), f = c.f;
  const ref::Activation acts[] = {Activation::None,     Activation::Gelu,
                                  Activation::GeluTanh, Activation::Relu,
                                  Activation::Silu,     Activation::SwiGlu};
  std::string x = tensorType(c.shape);
  std::string body, results, types;
  for (ref::Activation act : acts) {
    bool glu = act == Activation::SwiGlu;
    body += fill("  %y_${A} = uoe.dense_mlp %x, up(%w1${G}, %b1${G}), "
                 "down(%w2, %b2) activation ${A} : ${X}, ${W1}, ${B1}, ${W2}, "
                 "${B2}\n",
                 {{"A", keyword(act)},
                  {"G", glu ? "g" : ""},
                  {"X", x},
                  {"W1", tensorType({d, glu ? 2 * f : f})},
                  {"B1", tensorType({glu ? 2 * f : f})},
                  {"W2", tensorType({f, d})},
                  {"B2", tensorType({d})}});
    results += std::string(results.empty() ? "" : ", ") + "%y_" + keyword(act);
    types += std::string(types.empty() ? "" : ", ") + x;
  }
  auto fn = compileOrFail(
      fill(R"mlir(
func.func @f(%x: ${X}, %w1: ${W1}, %b1: ${B1}, %w1g: ${W1G}, %b1g: ${B1G},
             %w2: ${W2}, %b2: ${B2}) -> (${TYPES})
    attributes {llvm.emit_c_interface} {
${BODY}  return ${RESULTS} : ${TYPES}
})mlir",
           {{"X", x},
            {"W1", tensorType({d, f})},
            {"B1", tensorType({f})},
            {"W1G", tensorType({d, 2 * f})},
            {"B1G", tensorType({2 * f})},
            {"W2", tensorType({f, d})},
            {"B2", tensorType({d})},
            {"BODY", body},
            {"RESULTS", results},
            {"TYPES", types}}),
      "f");
  ASSERT_TRUE(fn);
  forSeeds([&](uint64_t seed) {
    ref::Tensor xs = randomF32(c.shape, subSeed(seed, 0));
    ref::Tensor w1 = randomWeight({d, f}, subSeed(seed, 1), d);
    ref::Tensor b1 = randomF32({f}, subSeed(seed, 2), 0.5);
    ref::Tensor w1g = randomWeight({d, 2 * f}, subSeed(seed, 3), d);
    ref::Tensor b1g = randomF32({2 * f}, subSeed(seed, 4), 0.5);
    ref::Tensor w2 = randomWeight({f, d}, subSeed(seed, 5), f);
    ref::Tensor b2 = randomF32({d}, subSeed(seed, 6), 0.5);
    auto out = callOrFail(*fn, {toBuffer(xs), toBuffer(w1), toBuffer(b1),
                                toBuffer(w1g), toBuffer(b1g), toBuffer(w2),
                                toBuffer(b2)});
    if (out.size() != std::size(acts))
      return true;
    for (size_t i = 0; i < std::size(acts); ++i) {
      bool glu = acts[i] == Activation::SwiGlu;
      EXPECT_TRUE(allClose(out[i], ref::denseMlp(xs, glu ? w1g : w1,
                                                 glu ? b1g : b1, w2, b2,
                                                 acts[i])))
          << keyword(acts[i]);
    }
    return true;
  });
}

INSTANTIATE_TEST_SUITE_P(Sizes, DenseMlpTest,
                         ::testing::Values(DenseMlpCase{{2, 37, 48}, 44},
                                           DenseMlpCase{{13, 20}, 36},
                                           DenseMlpCase{{3, 5, 7}, 9}));

//===----------------------------------------------------------------------===//
// attention
//===----------------------------------------------------------------------===//

struct AttentionCase {
  int64_t b, t, d, heads;
};

class AttentionTest : public ::testing::TestWithParam<AttentionCase> {};

TEST_P(AttentionTest, MasksAndRotaryMatchReference) {
  auto [b, t, d, heads] = GetParam();
  std::map<std::string, std::string> vars{
      {"X", tensorType({b, t, d})},      {"WQKV", tensorType({3, d, d})},
      {"BQKV", tensorType({3, d})},      {"WO", tensorType({d, d})},
      {"BO", tensorType({d})},           {"KP", tensorType({b, t}, "i1")},
      {"H", str(heads)}};
  auto fn = compileOrFail(fill(R"mlir(
func.func @f(%x: ${X}, %wqkv: ${WQKV}, %bqkv: ${BQKV}, %wo: ${WO}, %bo: ${BO},
             %kp: ${KP}) -> (${X}, ${X}, ${X}, ${X})
    attributes {llvm.emit_c_interface} {
  %a = uoe.attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) heads ${H}
      : ${X}, ${WQKV}, ${BQKV}, ${WO}, ${BO}
  %b = uoe.attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) heads ${H} causal
      : ${X}, ${WQKV}, ${BQKV}, ${WO}, ${BO}
  %c = uoe.attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) key_padding %kp
      heads ${H} rope original : ${X}, ${WQKV}, ${BQKV}, ${WO}, ${BO}, ${KP}
  %d = uoe.attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) key_padding %kp
      heads ${H} causal rope original {rope_base = 500.0 : f64}
      : ${X}, ${WQKV}, ${BQKV}, ${WO}, ${BO}, ${KP}
  return %a, %b, %c, %d : ${X}, ${X}, ${X}, ${X}
})mlir",
                               vars),
                          "f", /*optLevel=*/1);
  ASSERT_TRUE(fn);
  forSeeds([&](uint64_t seed) {
    ref::Tensor x = randomF32({b, t, d}, subSeed(seed, 0));
    ref::Tensor wqkv = randomWeight({3, d, d}, subSeed(seed, 1), d / 2);
    ref::Tensor bqkv = randomF32({3, d}, subSeed(seed, 2), 0.5);
    ref::Tensor wo = randomWeight({d, d}, subSeed(seed, 3), d);
    ref::Tensor bo = randomF32({d}, subSeed(seed, 4), 0.5);
    ref::Tensor padding = randomPadding(b, t, subSeed(seed, 5), kPadBelow);
    auto out = callOrFail(*fn, {toBuffer(x), toBuffer(wqkv), toBuffer(bqkv),
                                toBuffer(wo), toBuffer(bo), toMask(padding)});
    if (out.size() != 4)
      return true;
    QkvWeights q = splitQkv(wqkv, bqkv);
    auto attend = [&](bool causal, ref::RopeMode rope, double base,
                      const ref::Tensor *kp) {
      ref::AttentionOptions o;
      o.heads = heads;
      o.causal = causal;
      o.rope = rope;
      o.ropeBase = base;
      return ref::attention(x, q.wq, q.wk, q.wv, q.bq, q.bk, q.bv, wo, bo, o,
                            kp);
    };
    EXPECT_TRUE(allClose(out[0], attend(false, ref::RopeMode::None, 1e4,
                                        nullptr)))
        << "plain";
    EXPECT_TRUE(
        allClose(out[1], attend(true, ref::RopeMode::None, 1e4, nullptr)))
        << "causal";
    EXPECT_TRUE(allClose(out[2], attend(false, ref::RopeMode::Original, 1e4,
                                        &padding)))
        << "key padding, rope";
    EXPECT_TRUE(allClose(out[3], attend(true, ref::RopeMode::Original, 500.0,
                                        &padding)))
        << "causal, key padding, rope base 500";
    return true;
  });
}

INSTANTIATE_TEST_SUITE_P(Sizes, AttentionTest,
                         ::testing::Values(AttentionCase{2, 37, 48, 4},
                                           AttentionCase{3, 10, 16, 2},
                                           AttentionCase{1, 13, 30, 3}));

//===----------------------------------------------------------------------===//
// smha
//===----------------------------------------------------------------------===//

struct SmhaCase {
  int64_t b, t, d, e, heads, top;
};

class SmhaTest : public ::testing::TestWithParam<SmhaCase> {};

TEST_P(SmhaTest, MasksRotaryAndSelectionMatchReference) {
  auto [b, t, d, e, heads, top] = GetParam();
  int64_t de = d / e;
  std::map<std::string, std::string> vars{
      {"X", tensorType({b, t, d})},
      {"WG", tensorType({e, d})},
      {"BG", tensorType({e})},
      {"WQKV", tensorType({3, e, d, de})},
      {"BQKV", tensorType({3, e, de})},
      {"WO", tensorType({e, de, d})},
      {"BO", tensorType({e, d})},
      {"KP", tensorType({b, t}, "i1")},
      {"PR", tensorType({b, t, e})},
      {"POS", tensorType({e, b, -1}, "i64")},
      {"SW", tensorType({e, b, -1})},
      {"H", str(heads)},
      {"K", str(top)}};
  auto fn = compileOrFail(fill(R"mlir(
func.func @f(%x: ${X}, %wg: ${WG}, %bg: ${BG}, %wqkv: ${WQKV}, %bqkv: ${BQKV},
             %wo: ${WO}, %bo: ${BO}, %kp: ${KP})
    -> (${X}, ${X}, ${X}, ${X}, ${POS})
    attributes {llvm.emit_c_interface} {
  %a = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo)
      heads ${H} top ${K} causal rope compacted union
      : ${X}, ${WG}, ${BG}, ${WQKV}, ${BQKV}, ${WO}, ${BO}
  %b = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo)
      key_padding %kp heads ${H} top ${K} rope original gated
      : ${X}, ${WG}, ${BG}, ${WQKV}, ${BQKV}, ${WO}, ${BO}, ${KP}
  %c = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo)
      key_padding %kp heads ${H} top ${K} causal rope original union
      {rope_base = 500.0 : f64}
      : ${X}, ${WG}, ${BG}, ${WQKV}, ${BQKV}, ${WO}, ${BO}, ${KP}
  %d = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo)
      key_padding %kp heads ${H} top ${K} causal rope compacted gated
      {score = #uoe.score<sigmoid>}
      : ${X}, ${WG}, ${BG}, ${WQKV}, ${BQKV}, ${WO}, ${BO}, ${KP}
  %p = uoe.router %x, %wg, %bg score softmax : ${X}, ${WG}, ${BG} -> ${PR}
  %g = uoe.token_choice %p top ${K} normalize axis 0 eps 1.0e-06 capacity 1.0 : ${PR}
  %pos, %w = uoe.data_select %g patch 1 dynamic : ${PR} -> ${POS}, ${SW}
  return %a, %b, %c, %d, %pos : ${X}, ${X}, ${X}, ${X}, ${POS}
})mlir",
                               vars),
                          "f", /*optLevel=*/1);
  ASSERT_TRUE(fn);
  forSeeds([&](uint64_t seed) {
    ref::Tensor x = randomF32({b, t, d}, subSeed(seed, 0));
    ref::Tensor wg = randomWeight({e, d}, subSeed(seed, 1), d / 4);
    ref::Tensor bg = randomF32({e}, subSeed(seed, 2), 0.5);
    ref::Tensor wqkv = randomWeight({3, e, d, de}, subSeed(seed, 3), d / 2);
    ref::Tensor bqkv = randomF32({3, e, de}, subSeed(seed, 4), 0.5);
    ref::Tensor wo = randomWeight({e, de, d}, subSeed(seed, 5), de);
    ref::Tensor bo = randomF32({e, d}, subSeed(seed, 6), 0.5);
    ref::Tensor padding = randomPadding(b, t, subSeed(seed, 7), kPadBelow);
    for (ref::RouterScore score :
         {ref::RouterScore::Softmax, ref::RouterScore::Sigmoid})
      if (routingMargin(x, wg, bg, score, top, 1e-6, 1.0, 1, std::nullopt) <
          kMinMargin)
        return false;
    auto out = callOrFail(*fn, {toBuffer(x), toBuffer(wg), toBuffer(bg),
                                toBuffer(wqkv), toBuffer(bqkv), toBuffer(wo),
                                toBuffer(bo), toMask(padding)});
    if (out.size() != 5)
      return true;
    QkvWeights q = splitQkv(wqkv, bqkv);
    auto smha = [&](bool causal, ref::RopeMode rope, double base,
                    ref::CombineMode combine, ref::RouterScore score,
                    const ref::Tensor *kp) {
      ref::SmhaOptions o;
      o.heads = heads;
      o.kTok = top;
      o.causal = causal;
      o.rope = rope;
      o.ropeBase = base;
      o.combine = combine;
      o.score = score;
      return ref::smha(x, wg, bg, q.wq, q.wk, q.wv, q.bq, q.bk, q.bv, wo, bo, o,
                       kp);
    };
    EXPECT_TRUE(allClose(out[0], smha(true, ref::RopeMode::Compacted, 1e4,
                                      CombineMode::Union,
                                      RouterScore::Softmax, nullptr)))
        << "causal, compacted rope, union";
    EXPECT_TRUE(allClose(out[1], smha(false, ref::RopeMode::Original, 1e4,
                                      CombineMode::Gated,
                                      RouterScore::Softmax, &padding)))
        << "key padding, original rope, gated";
    EXPECT_TRUE(allClose(out[2], smha(true, ref::RopeMode::Original, 500.0,
                                      CombineMode::Union,
                                      RouterScore::Softmax, &padding)))
        << "causal, key padding, original rope base 500, union";
    EXPECT_TRUE(allClose(out[3], smha(true, ref::RopeMode::Compacted, 1e4,
                                      CombineMode::Gated,
                                      RouterScore::Sigmoid, &padding)))
        << "causal, key padding, compacted rope, gated, sigmoid";
    ref::Tensor g = ref::normalizeScores(
        ref::tokenChoice(ref::router(x, wg, bg), top), 0, 1e-6, 1.0);
    EXPECT_TRUE(
        allEqual(out[4], ref::dataSelect(g, 1, std::nullopt).positions));
    return true;
  });
}

INSTANTIATE_TEST_SUITE_P(Sizes, SmhaTest,
                         ::testing::Values(SmhaCase{2, 37, 48, 3, 6, 1},
                                           SmhaCase{3, 10, 16, 2, 4, 1},
                                           SmhaCase{2, 21, 24, 4, 4, 2},
                                           SmhaCase{1, 12, 32, 2, 2, 1}));

//===----------------------------------------------------------------------===//
// layer_norm, rms_norm
//===----------------------------------------------------------------------===//

class NormTest : public ::testing::TestWithParam<std::vector<int64_t>> {};

TEST_P(NormTest, LayerNormAndRmsNormMatchReference) {
  std::vector<int64_t> shape = GetParam();
  int64_t d = shape.back();
  std::map<std::string, std::string> vars{{"X", tensorType(shape)},
                                          {"G", tensorType({d})}};
  auto fn = compileOrFail(fill(R"mlir(
func.func @f(%x: ${X}, %g: ${G}, %b: ${G}) -> (${X}, ${X})
    attributes {llvm.emit_c_interface} {
  %l = uoe.layer_norm %x, %g, %b eps 1.0e-05 : ${X}, ${G}, ${G}
  %r = uoe.rms_norm %x, %g eps 1.0e-06 : ${X}, ${G}
  return %l, %r : ${X}, ${X}
})mlir",
                               vars),
                          "f");
  ASSERT_TRUE(fn);
  forSeeds([&](uint64_t seed) {
    // An offset and a spread, as residual streams have.
    ref::Tensor x = randomF32(shape, subSeed(seed, 0), 3.0);
    for (size_t i = 0; i < x.data.size(); ++i)
      x.data[i] = static_cast<float>(x.data[i] + 0.5 * (i % 7));
    ref::Tensor g = randomF32({d}, subSeed(seed, 1), 1.0);
    ref::Tensor beta = randomF32({d}, subSeed(seed, 2), 1.0);
    auto out = callOrFail(*fn, {toBuffer(x), toBuffer(g), toBuffer(beta)});
    if (out.size() != 2)
      return true;
    EXPECT_TRUE(allClose(out[0], ref::layerNorm(x, g, beta, 1e-5)));
    EXPECT_TRUE(allClose(out[1], ref::rmsNorm(x, g, 1e-6)));
    return true;
  });
}

INSTANTIATE_TEST_SUITE_P(Shapes, NormTest,
                         ::testing::Values(std::vector<int64_t>{2, 37, 48},
                                           std::vector<int64_t>{5, 33},
                                           std::vector<int64_t>{3, 4, 7}));

} // namespace
