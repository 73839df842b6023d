//===- CausalSafeTest.cpp - causal-safe routing end to end ----------------===//
//
// Spec §7's causal-safe routing (`routing causal_safe` on uoe.smha and
// uoe.uome): the compiled layers against the float64 reference, which
// writes the mode from its definition (every token's own top-k, every
// expert attending over exactly the tokens that chose it), not through the
// padded selection the compiler uses; and the property that makes
// `uoe-run generate` exact: in a compiled causal language model with
// causal-safe routing, the logits at position t do not depend on the
// tokens after t (padding or real), while reference routing does depend
// on them.
//
//===----------------------------------------------------------------------===//

#include "E2eTestUtil.h"

#include "driver/CompileModel.h"
#include "driver/OrcLoader.h"
#include "frontend/ModelImporter.h"
#include "runtime/CpuBlas.h"
#include "runtime/CpuDevice.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace uoe;
using namespace uoe::e2e;
namespace model = ::uoe::model;

namespace {

std::string str(int64_t v) { return std::to_string(v); }

/// The smallest top-k margin of the token choice alone: causal-safe
/// routing makes no other decision.
double tokenChoiceMargin(const ref::Tensor &x, const ref::Tensor &wg,
                         const ref::Tensor &bg, ref::RouterScore score,
                         int64_t top) {
  ref::Tensor p = ref::router(x, wg, bg, score);
  int64_t e = p.dim(-1);
  double margin = std::numeric_limits<double>::infinity();
  for (int64_t r = 0; r < p.numel() / e; ++r)
    margin = std::min(margin, topKMargin(p.data.data() + r * e, e, top));
  return margin;
}

//===----------------------------------------------------------------------===//
// smha
//===----------------------------------------------------------------------===//

struct SmhaCase {
  int64_t b, t, d, e, heads, top;
};

class CausalSafeSmhaTest : public ::testing::TestWithParam<SmhaCase> {};

TEST_P(CausalSafeSmhaTest, MatchesPerTokenReference) {
  auto [b, t, d, e, heads, top] = GetParam();
  int64_t de = d / e;
  std::map<std::string, std::string> vars{{"X", tensorType({b, t, d})},
                                          {"WG", tensorType({e, d})},
                                          {"BG", tensorType({e})},
                                          {"WQKV", tensorType({3, e, d, de})},
                                          {"BQKV", tensorType({3, e, de})},
                                          {"WO", tensorType({e, de, d})},
                                          {"BO", tensorType({e, d})},
                                          {"KP", tensorType({b, t}, "i1")},
                                          {"H", str(heads)},
                                          {"K", str(top)}};
  auto fn = compileOrFail(fill(R"mlir(
func.func @f(%x: ${X}, %wg: ${WG}, %bg: ${BG}, %wqkv: ${WQKV}, %bqkv: ${BQKV},
             %wo: ${WO}, %bo: ${BO}, %kp: ${KP})
    -> (${X}, ${X}, ${X}, ${X})
    attributes {llvm.emit_c_interface} {
  %a = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo)
      heads ${H} top ${K} causal rope original union routing causal_safe
      : ${X}, ${WG}, ${BG}, ${WQKV}, ${BQKV}, ${WO}, ${BO}
  %b = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo)
      key_padding %kp heads ${H} top ${K} causal rope original gated
      routing causal_safe
      : ${X}, ${WG}, ${BG}, ${WQKV}, ${BQKV}, ${WO}, ${BO}, ${KP}
  %c = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo)
      key_padding %kp heads ${H} top ${K} union routing causal_safe
      : ${X}, ${WG}, ${BG}, ${WQKV}, ${BQKV}, ${WO}, ${BO}, ${KP}
  %d = uoe.smha %x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo)
      heads ${H} top ${K} causal gated routing causal_safe
      {score = #uoe.score<sigmoid>}
      : ${X}, ${WG}, ${BG}, ${WQKV}, ${BQKV}, ${WO}, ${BO}
  return %a, %b, %c, %d : ${X}, ${X}, ${X}, ${X}
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
    ref::Tensor padding = randomPadding(b, t, subSeed(seed, 7), -0.5);
    for (ref::RouterScore score :
         {ref::RouterScore::Softmax, ref::RouterScore::Sigmoid})
      if (tokenChoiceMargin(x, wg, bg, score, top) < kMinMargin)
        return false;
    auto out = callOrFail(*fn, {toBuffer(x), toBuffer(wg), toBuffer(bg),
                                toBuffer(wqkv), toBuffer(bqkv), toBuffer(wo),
                                toBuffer(bo), toMask(padding)});
    if (out.size() != 4)
      return true;
    QkvWeights q = splitQkv(wqkv, bqkv);
    auto smha = [&](bool causal, ref::RopeMode rope, ref::CombineMode combine,
                    ref::RouterScore score, const ref::Tensor *kp) {
      ref::SmhaOptions o;
      o.heads = heads;
      o.kTok = top;
      o.causal = causal;
      o.rope = rope;
      o.combine = combine;
      o.score = score;
      o.routing = ref::RoutingMode::CausalSafe;
      return ref::smha(x, wg, bg, q.wq, q.wk, q.wv, q.bq, q.bk, q.bv, wo, bo, o,
                       kp);
    };
    EXPECT_TRUE(allClose(out[0], smha(true, ref::RopeMode::Original,
                                      ref::CombineMode::Union,
                                      ref::RouterScore::Softmax, nullptr)))
        << "causal, original rope, union";
    EXPECT_TRUE(allClose(out[1], smha(true, ref::RopeMode::Original,
                                      ref::CombineMode::Gated,
                                      ref::RouterScore::Softmax, &padding)))
        << "causal, key padding, original rope, gated";
    EXPECT_TRUE(allClose(out[2], smha(false, ref::RopeMode::None,
                                      ref::CombineMode::Union,
                                      ref::RouterScore::Softmax, &padding)))
        << "not causal, key padding, union";
    EXPECT_TRUE(allClose(out[3], smha(true, ref::RopeMode::None,
                                      ref::CombineMode::Gated,
                                      ref::RouterScore::Sigmoid, nullptr)))
        << "causal, gated, sigmoid";
    return true;
  });
}

INSTANTIATE_TEST_SUITE_P(Sizes, CausalSafeSmhaTest,
                         ::testing::Values(SmhaCase{2, 13, 24, 3, 6, 1},
                                           SmhaCase{3, 10, 16, 2, 4, 1},
                                           SmhaCase{2, 9, 24, 4, 4, 2}));

//===----------------------------------------------------------------------===//
// uome
//===----------------------------------------------------------------------===//

struct UomeCase {
  int64_t n0, n1, d, e, fe, top;
};

class CausalSafeUomeTest : public ::testing::TestWithParam<UomeCase> {};

TEST_P(CausalSafeUomeTest, MatchesPerTokenReference) {
  auto [n0, n1, d, e, fe, top] = GetParam();
  std::map<std::string, std::string> vars{
      {"X", tensorType({n0, n1, d})}, {"WG", tensorType({e, d})},
      {"BG", tensorType({e})},        {"W1", tensorType({e, d, fe})},
      {"B1", tensorType({e, fe})},    {"W2", tensorType({e, fe, d})},
      {"B2", tensorType({e, d})},     {"K", str(top)}};
  auto fn = compileOrFail(fill(R"mlir(
func.func @f(%x: ${X}, %wg: ${WG}, %bg: ${BG}, %w1: ${W1}, %b1: ${B1},
             %w2: ${W2}, %b2: ${B2}) -> (${X}, ${X})
    attributes {llvm.emit_c_interface} {
  %u = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2)
      top ${K} capacity 0.5 activation gelu union routing causal_safe
      : ${X}, ${WG}, ${BG}, ${W1}, ${B1}, ${W2}, ${B2}
  %g = uoe.uome %x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2)
      top ${K} capacity 0.5 activation silu gated routing causal_safe
      : ${X}, ${WG}, ${BG}, ${W1}, ${B1}, ${W2}, ${B2}
  return %u, %g : ${X}, ${X}
})mlir",
                               vars),
                          "f");
  ASSERT_TRUE(fn);
  forSeeds([&](uint64_t seed) {
    ref::Tensor x = randomF32({n0, n1, d}, subSeed(seed, 0));
    ExpertLayerWeights w = randomExpertWeights(e, d, fe, fe, seed);
    if (tokenChoiceMargin(x, w.wg, w.bg, ref::RouterScore::Softmax, top) <
        kMinMargin)
      return false;
    auto out = callOrFail(*fn, w.buffers(x));
    if (out.size() != 2)
      return true;
    ref::UomeOptions o;
    o.kTok = top;
    o.routing = ref::RoutingMode::CausalSafe;
    EXPECT_TRUE(
        allClose(out[0], ref::uome(x, w.wg, w.bg, w.w1, w.b1, w.w2, w.b2, o)))
        << "union, gelu";
    o.combine = ref::CombineMode::Gated;
    o.act = ref::Activation::Silu;
    EXPECT_TRUE(
        allClose(out[1], ref::uome(x, w.wg, w.bg, w.w1, w.b1, w.w2, w.b2, o)))
        << "gated, silu";
    return true;
  });
}

INSTANTIATE_TEST_SUITE_P(Sizes, CausalSafeUomeTest,
                         ::testing::Values(UomeCase{2, 13, 16, 4, 8, 2},
                                           UomeCase{3, 7, 24, 3, 12, 1},
                                           UomeCase{1, 16, 8, 5, 4, 3}));

//===----------------------------------------------------------------------===//
// Prefix invariance of a compiled language model
//===----------------------------------------------------------------------===//

/// A byte-level LM as `uoe-run generate` runs it: causal SMHA and UoME
/// with the routing `ROUTING`, learned positions, a tied head.
const char *kLanguageModel = R"pb(
name: "prefix_lm"
d_model: 24
layout: POST_LN
embedding { vocab_size: 256 position: LEARNED max_positions: 20 }
blocks {
  smha { heads: 4 experts: 2 top_k: 1 causal: true rope: ORIGINAL combine: GATED routing: ROUTING }
  uome { hidden: 48 experts: 4 top_k: 2 capacity: 0.5 combine: GATED routing: ROUTING }
  repeat: 2
}
lm_head { tie_embeddings: true }
)pb";

/// kLanguageModel with `routing`, compiled for [1, T]: binds random weights
/// and maps token ids to logits [T, V].
struct CompiledLm {
  model::Model description;
  std::unique_ptr<rt::CpuProgram> program;
  mlir::uoe::cpu::OrcLoader loader;
  int64_t seq = 0, vocab = 0;

  /// Binds random weights drawn with `seed` (randomModelWeights).
  bool bind(uint64_t seed) {
    rt::NamedTensors named = randomModelWeights(description, seed);
    rt::Status bound = program->bindParameters("forward", std::move(named));
    EXPECT_TRUE(bound.ok()) << bound.toString();
    return bound.ok();
  }

  int64_t batch = 1;

  std::vector<float> run(const std::vector<int64_t> &ids) {
    auto input = rt::HostTensor::fromVector(rt::DType::I64, {batch, seq}, ids);
    EXPECT_TRUE(input.ok());
    std::vector<rt::HostTensor> inputs;
    inputs.push_back(std::move(*input));
    auto out = program->run("forward", inputs);
    EXPECT_TRUE(out.ok()) << out.status().toString();
    if (!out.ok())
      return std::vector<float>(batch * seq * vocab, NAN);
    const float *v = (*out)[0].data<float>();
    return std::vector<float>(v, v + batch * seq * vocab);
  }
};

std::unique_ptr<CompiledLm> compileLm(const std::string &routing,
                                      int64_t batch = 1) {
  std::string text = kLanguageModel;
  for (size_t at; (at = text.find("ROUTING")) != std::string::npos;)
    text.replace(at, 7, routing);
  auto parsed = mlir::uoe::parseModelText(text, "prefix_lm");
  EXPECT_TRUE(static_cast<bool>(parsed)) << llvm::toString(parsed.takeError());
  if (!parsed)
    return nullptr;
  auto lm = std::make_unique<CompiledLm>();
  lm->description = std::move(*parsed);
  llvm::Error resolved = mlir::uoe::resolveModel(lm->description);
  EXPECT_FALSE(static_cast<bool>(resolved))
      << llvm::toString(std::move(resolved));
  lm->seq = lm->description.embedding().max_positions();
  lm->vocab = lm->description.embedding().vocab_size();
  lm->batch = batch;
  auto exe = mlir::uoe::compileModel(lm->description, batch, lm->seq);
  EXPECT_TRUE(static_cast<bool>(exe)) << llvm::toString(exe.takeError());
  if (!exe)
    return nullptr;
  auto program = rt::CpuProgram::load(*exe, lm->loader);
  EXPECT_TRUE(program.ok()) << program.status().toString();
  if (!program.ok())
    return nullptr;
  lm->program = std::move(*program);
  return lm;
}

/// The largest difference of the logits at positions 0..last.
double prefixDifference(const std::vector<float> &a,
                        const std::vector<float> &b, int64_t last,
                        int64_t vocab) {
  double worst = 0.0;
  for (int64_t i = 0; i < (last + 1) * vocab; ++i)
    worst = std::max(worst, std::fabs(static_cast<double>(a[i]) - b[i]));
  return worst;
}

TEST(CausalSafePrefixTest, LogitsOfAPrefixIgnoreTheTail) {
  auto lm = compileLm("CAUSAL_SAFE");
  ASSERT_TRUE(lm);
  for (uint64_t seed : {1, 2, 3}) {
    ASSERT_TRUE(lm->bind(seed));
    ref::Tensor noise = ref::randomTensor({3, lm->seq}, subSeed(seed, 99));
    auto byte = [&](int64_t row, int64_t i) {
      return static_cast<int64_t>((noise.at(row, i) + 1.0) * 128.0) & 255;
    };
    std::vector<int64_t> full(lm->seq);
    for (int64_t i = 0; i < lm->seq; ++i)
      full[i] = byte(0, i);
    std::vector<float> want = lm->run(full);
    for (int64_t last : {0, 4, 11, 18}) {
      // The tail after `last` as padding (byte 0) and as other real bytes.
      std::vector<int64_t> padded = full, other = full;
      for (int64_t i = last + 1; i < lm->seq; ++i) {
        padded[i] = 0;
        other[i] = byte(1, i);
      }
      EXPECT_EQ(prefixDifference(want, lm->run(padded), last, lm->vocab), 0.0)
          << "seed " << seed << ", positions 0.." << last << ", padded tail";
      EXPECT_EQ(prefixDifference(want, lm->run(other), last, lm->vocab), 0.0)
          << "seed " << seed << ", positions 0.." << last << ", other tail";
    }
  }
}

// Tests that a whole compiled model computes the same bits whatever the
// thread count (both routing modes), and, with causal-safe routing, whatever
// else is in the batch: each sequence of a batch of 3 gets the logits it
// gets alone (every kernel reduces a row in a fixed order, whoever computes
// it). Reference routing normalises its router over the batch axis
// (docs/SPEC.md §6), so there a sequence depends on its batch by definition.
TEST(CausalSafePrefixTest, BatchAndThreadsDoNotChangeTheBits) {
  for (const char *routing : {"CAUSAL_SAFE", "REFERENCE"}) {
    auto single = compileLm(routing, 1), triple = compileLm(routing, 3);
    ASSERT_TRUE(single && triple);
    ASSERT_TRUE(single->bind(5) && triple->bind(5));
    int64_t seq = single->seq, vocab = single->vocab;
    std::vector<int64_t> ids(3 * seq);
    for (int64_t i = 0; i < 3 * seq; ++i)
      ids[i] = (i * 97 + 31) % 256;
    rt::setCpuThreads(2);
    std::vector<float> together = triple->run(ids);
    rt::setCpuThreads(1);
    EXPECT_EQ(triple->run(ids), together) << routing << ": 1 thread vs 2";
    rt::setCpuThreads(0);
    if (std::string(routing) != "CAUSAL_SAFE")
      continue;
    for (int64_t b = 0; b < 3; ++b) {
      std::vector<int64_t> alone(ids.begin() + b * seq,
                                 ids.begin() + (b + 1) * seq);
      std::vector<float> logits = single->run(alone);
      EXPECT_TRUE(std::equal(logits.begin(), logits.end(),
                             together.begin() + b * seq * vocab))
          << routing << ": sequence " << b << " alone vs in a batch of 3";
    }
  }
}

// The same test catches reference routing, whose selection ranks every
// position: some prefix's logits change with the tail.
TEST(CausalSafePrefixTest, ReferenceRoutingDependsOnTheTail) {
  auto lm = compileLm("REFERENCE");
  ASSERT_TRUE(lm && lm->bind(1));
  std::vector<int64_t> full(lm->seq), padded(lm->seq, 0);
  for (int64_t i = 0; i < lm->seq; ++i)
    full[i] = (37 * i + 11) & 255;
  std::copy(full.begin(), full.begin() + 6, padded.begin());
  EXPECT_GT(prefixDifference(lm->run(full), lm->run(padded), 5, lm->vocab),
            1e-4);
}

} // namespace
