//===- IdentityTest.cpp - "all experts selected = dense layer" ----------===//
//
// Spec §1: with every expert selected for every token, a UoE layer is the
// dense layer it decomposes (up to float rounding). Split a random dense
// MLP / attention with the reference's splitMlp / splitAttention, run the
// compiled UoME (top = E, capacity 1) / SMHA (top = E: dynamic L = T) on
// the expert weights, and compare with the float64 dense layer, and with
// the compiled dense op on the undivided weights. SMHA's compacted rotary
// positions are then the original ones, so SMHA with `rope compacted`
// equals dense attention with `rope original`.
//
//===----------------------------------------------------------------------===//

#include "E2eTestUtil.h"

#include <cmath>

using namespace uoe;
using namespace uoe::e2e;

namespace {

std::string str(int64_t v) { return std::to_string(v); }

//===----------------------------------------------------------------------===//
// UoME = dense MLP
//===----------------------------------------------------------------------===//

struct MlpIdentityCase {
  int64_t n0, n1, d, e, f, patch;
  ref::Activation act;
  const char *actKeyword;
};

class UomeIdentityTest : public ::testing::TestWithParam<MlpIdentityCase> {};

TEST_P(UomeIdentityTest, EveryExpertOnEveryTokenIsTheDenseMlp) {
  const MlpIdentityCase &c = GetParam();
  bool glu = c.act == ref::Activation::SwiGlu;
  int64_t fe = c.f / c.e, f1 = glu ? 2 * c.f : c.f, f1e = glu ? 2 * fe : fe;
  std::map<std::string, std::string> vars{
      {"X", tensorType({c.n0, c.n1, c.d})},
      {"WG", tensorType({c.e, c.d})},
      {"BG", tensorType({c.e})},
      {"W1S", tensorType({c.e, c.d, f1e})},
      {"B1S", tensorType({c.e, f1e})},
      {"W2S", tensorType({c.e, fe, c.d})},
      {"B2S", tensorType({c.e, c.d})},
      {"W1", tensorType({c.d, f1})},
      {"B1", tensorType({f1})},
      {"W2", tensorType({c.f, c.d})},
      {"B2", tensorType({c.d})},
      {"E", str(c.e)},
      {"P", str(c.patch)},
      {"ACT", c.actKeyword}};
  auto fn = compileOrFail(fill(R"mlir(
func.func @f(%x: ${X}, %wg: ${WG}, %bg: ${BG}, %w1s: ${W1S}, %b1s: ${B1S},
             %w2s: ${W2S}, %b2s: ${B2S}, %w1: ${W1}, %b1: ${B1}, %w2: ${W2},
             %b2: ${B2}) -> (${X}, ${X})
    attributes {llvm.emit_c_interface} {
  %u = uoe.uome %x, router(%wg, %bg), up(%w1s, %b1s), down(%w2s, %b2s)
      top ${E} capacity 1.0 patch ${P} activation ${ACT} union
      : ${X}, ${WG}, ${BG}, ${W1S}, ${B1S}, ${W2S}, ${B2S}
  %d = uoe.dense_mlp %x, up(%w1, %b1), down(%w2, %b2) activation ${ACT}
      : ${X}, ${W1}, ${B1}, ${W2}, ${B2}
  return %u, %d : ${X}, ${X}
})mlir",
                               vars),
                          "f");
  ASSERT_TRUE(fn);
  forSeeds([&](uint64_t seed) {
    ref::Tensor x = randomF32({c.n0, c.n1, c.d}, subSeed(seed, 0));
    ref::Tensor wg = randomWeight({c.e, c.d}, subSeed(seed, 1), c.d);
    ref::Tensor bg = randomF32({c.e}, subSeed(seed, 2));
    ref::Tensor w1 = randomWeight({c.d, f1}, subSeed(seed, 3), c.d);
    ref::Tensor b1 = randomF32({f1}, subSeed(seed, 4), 0.5);
    ref::Tensor w2 = randomWeight({c.f, c.d}, subSeed(seed, 5), c.f);
    ref::Tensor b2 = randomF32({c.d}, subSeed(seed, 6), 0.5);
    ref::ExpertMlpWeights split = ref::splitMlp(w1, b1, w2, b2, c.e, c.act);
    ref::Tensor dense = ref::denseMlp(x, w1, b1, w2, b2, c.act);

    // The identity holds in the reference itself (float64 rounding only).
    ref::UomeOptions options;
    options.kTok = c.e;
    options.capacity = 1.0;
    options.patch = c.patch;
    options.act = c.act;
    EXPECT_LT(ref::maxAbsDiff(ref::uome(x, wg, bg, split.w1s, split.b1s,
                                        split.w2s, split.b2s, options),
                              dense),
              1e-12);

    auto out = callOrFail(
        *fn, {toBuffer(x), toBuffer(wg), toBuffer(bg), toBuffer(split.w1s),
              toBuffer(split.b1s), toBuffer(split.w2s), toBuffer(split.b2s),
              toBuffer(w1), toBuffer(b1), toBuffer(w2), toBuffer(b2)});
    if (out.size() != 2)
      return true;
    EXPECT_TRUE(allClose(out[0], dense)) << "compiled UoME vs dense MLP";
    EXPECT_TRUE(allClose(out[1], dense)) << "compiled dense MLP";
    EXPECT_TRUE(allClose(out[0], toTensor(out[1])))
        << "compiled UoME vs compiled dense MLP";
    return true;
  });
}

INSTANTIATE_TEST_SUITE_P(
    Sizes, UomeIdentityTest,
    ::testing::Values(
        MlpIdentityCase{2, 37, 48, 3, 48, 1, ref::Activation::Gelu, "gelu"},
        MlpIdentityCase{37, 2, 48, 3, 36, 1, ref::Activation::Relu, "relu"},
        MlpIdentityCase{3, 8, 20, 4, 24, 2, ref::Activation::SwiGlu,
                        "swiglu"}));

//===----------------------------------------------------------------------===//
// SMHA = dense attention
//===----------------------------------------------------------------------===//

struct AttentionIdentityCase {
  int64_t b, t, d, e, heads;
};

class SmhaIdentityTest
    : public ::testing::TestWithParam<AttentionIdentityCase> {};

TEST_P(SmhaIdentityTest, EveryHeadGroupOnEveryTokenIsDenseAttention) {
  auto [b, t, d, e, heads] = GetParam();
  int64_t de = d / e;
  std::map<std::string, std::string> vars{
      {"X", tensorType({b, t, d})},
      {"WG", tensorType({e, d})},
      {"BG", tensorType({e})},
      {"WQKVS", tensorType({3, e, d, de})},
      {"BQKVS", tensorType({3, e, de})},
      {"WOS", tensorType({e, de, d})},
      {"BOS", tensorType({e, d})},
      {"WQKV", tensorType({3, d, d})},
      {"BQKV", tensorType({3, d})},
      {"WO", tensorType({d, d})},
      {"BO", tensorType({d})},
      {"KP", tensorType({b, t}, "i1")},
      {"E", str(e)},
      {"H", str(heads)}};
  // Causal with key padding and rotary embedding, and plain; SMHA's
  // compacted positions are the original ones when every token is kept.
  auto fn = compileOrFail(fill(R"mlir(
func.func @f(%x: ${X}, %wg: ${WG}, %bg: ${BG}, %wqkvs: ${WQKVS},
             %bqkvs: ${BQKVS}, %wos: ${WOS}, %bos: ${BOS}, %wqkv: ${WQKV},
             %bqkv: ${BQKV}, %wo: ${WO}, %bo: ${BO}, %kp: ${KP})
    -> (${X}, ${X}, ${X}, ${X})
    attributes {llvm.emit_c_interface} {
  %s = uoe.smha %x, router(%wg, %bg), qkv(%wqkvs, %bqkvs), out(%wos, %bos)
      key_padding %kp heads ${H} top ${E} causal rope compacted union
      : ${X}, ${WG}, ${BG}, ${WQKVS}, ${BQKVS}, ${WOS}, ${BOS}, ${KP}
  %a = uoe.attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) key_padding %kp
      heads ${H} causal rope original : ${X}, ${WQKV}, ${BQKV}, ${WO}, ${BO}, ${KP}
  %s2 = uoe.smha %x, router(%wg, %bg), qkv(%wqkvs, %bqkvs), out(%wos, %bos)
      heads ${H} top ${E} union {score = #uoe.score<sigmoid>}
      : ${X}, ${WG}, ${BG}, ${WQKVS}, ${BQKVS}, ${WOS}, ${BOS}
  %a2 = uoe.attention %x, qkv(%wqkv, %bqkv), out(%wo, %bo) heads ${H}
      : ${X}, ${WQKV}, ${BQKV}, ${WO}, ${BO}
  return %s, %a, %s2, %a2 : ${X}, ${X}, ${X}, ${X}
})mlir",
                               vars),
                          "f", /*optLevel=*/1);
  ASSERT_TRUE(fn);
  forSeeds([&](uint64_t seed) {
    ref::Tensor x = randomF32({b, t, d}, subSeed(seed, 0));
    ref::Tensor wg = randomWeight({e, d}, subSeed(seed, 1), d);
    ref::Tensor bg = randomF32({e}, subSeed(seed, 2));
    ref::Tensor wqkv = randomWeight({3, d, d}, subSeed(seed, 3), d / 2);
    ref::Tensor bqkv = randomF32({3, d}, subSeed(seed, 4), 0.5);
    ref::Tensor wo = randomWeight({d, d}, subSeed(seed, 5), d);
    ref::Tensor bo = randomF32({d}, subSeed(seed, 6), 0.5);
    ref::Tensor padding = randomPadding(b, t, subSeed(seed, 7), -0.5);
    QkvWeights q = splitQkv(wqkv, bqkv);
    ref::ExpertAttentionWeights split = ref::splitAttention(
        q.wq, q.wk, q.wv, q.bq, q.bk, q.bv, wo, bo, e, heads);
    ref::Tensor wqkvs = stack({split.wq, split.wk, split.wv});
    ref::Tensor bqkvs = stack({split.bq, split.bk, split.bv});

    ref::AttentionOptions masked;
    masked.heads = heads;
    masked.causal = true;
    masked.rope = ref::RopeMode::Original;
    ref::AttentionOptions plain;
    plain.heads = heads;
    ref::Tensor denseMasked = ref::attention(x, q.wq, q.wk, q.wv, q.bq, q.bk,
                                             q.bv, wo, bo, masked, &padding);
    ref::Tensor densePlain =
        ref::attention(x, q.wq, q.wk, q.wv, q.bq, q.bk, q.bv, wo, bo, plain);

    // The identity holds in the reference itself.
    ref::SmhaOptions options;
    options.heads = heads;
    options.kTok = e;
    options.causal = true;
    options.rope = ref::RopeMode::Compacted;
    EXPECT_LT(ref::maxAbsDiff(ref::smha(x, wg, bg, split.wq, split.wk,
                                        split.wv, split.bq, split.bk, split.bv,
                                        split.wo, split.bo, options, &padding),
                              denseMasked),
              1e-12);

    auto out = callOrFail(
        *fn, {toBuffer(x), toBuffer(wg), toBuffer(bg), toBuffer(wqkvs),
              toBuffer(bqkvs), toBuffer(split.wo), toBuffer(split.bo),
              toBuffer(wqkv), toBuffer(bqkv), toBuffer(wo), toBuffer(bo),
              toMask(padding)});
    if (out.size() != 4)
      return true;
    EXPECT_TRUE(allClose(out[0], denseMasked)) << "compiled SMHA, masked";
    EXPECT_TRUE(allClose(out[1], denseMasked)) << "compiled attention, masked";
    EXPECT_TRUE(allClose(out[0], toTensor(out[1])))
        << "compiled SMHA vs compiled attention, masked";
    EXPECT_TRUE(allClose(out[2], densePlain)) << "compiled SMHA, plain";
    EXPECT_TRUE(allClose(out[3], densePlain)) << "compiled attention, plain";
    return true;
  });
}

INSTANTIATE_TEST_SUITE_P(Sizes, SmhaIdentityTest,
                         ::testing::Values(AttentionIdentityCase{2, 37, 48, 3,
                                                                 6},
                                           AttentionIdentityCase{3, 10, 16, 2,
                                                                 4}));

} // namespace
