//===- ModelCompileTest.cpp - embeddings and heads, compiled -------------===//
//
// Small whole models with an embedding and a head, compiled for the CPU the
// way uoe-run compiles them (compileModel, then CpuProgram on the
// OrcLoader) and compared with the float64 reference (test/reference/) on
// random weights and ids, several seeds, odd sizes (V = 37, T = 5, d = 48).
// Also: the entry point's signature, clamping of out-of-range ids (the
// defined behaviour of uoe.embedding) and the runtime's input checks.
//
//===----------------------------------------------------------------------===//

#include "test/unittests/frontend/CompiledModel.h"

#include "test/reference/Reference.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace mlir::uoe;
namespace rt = ::uoe::rt;
namespace ref = ::uoe::ref;
namespace frontend_test = ::uoe::frontend_test;
using frontend_test::toHost;

namespace {

constexpr int64_t kBatch = 2, kSeq = 5, kWidth = 48, kVocab = 37;

/// The comparison of every numeric test here (as the other numeric tests):
/// max |got - want| <= 1e-5 * max(1, max |want|), no NaN or Inf.
::testing::AssertionResult allClose(const rt::HostTensor &got,
                                    const ref::Tensor &want) {
  if (got.dtype() != rt::DType::F32 || got.shape() != want.shape)
    return ::testing::AssertionFailure()
           << "got " << got.typeString() << ", want f32"
           << ref::shapeToString(want.shape);
  double scale = 1.0, worst = 0.0;
  int64_t at = 0;
  for (double v : want.data)
    scale = std::max(scale, std::fabs(v));
  const float *g = got.data<float>();
  for (int64_t i = 0; i < got.numElements(); ++i) {
    double err = std::fabs(static_cast<double>(g[i]) - want.data[i]);
    if (!std::isfinite(g[i]) || !(err <= worst)) {
      if (!std::isfinite(g[i]))
        return ::testing::AssertionFailure()
               << "element " << i << " is " << g[i];
      worst = err;
      at = i;
    }
  }
  if (worst <= 1e-5 * scale)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "max error " << worst << " at element " << at << " (got " << g[at]
         << ", want " << want.data[at] << "), tolerance " << 1e-5 * scale;
}

/// Random weights for every parameter of `model`, rounded to f32 so that
/// both sides see the same numbers: norm weights near 1, everything else
/// uniform in [-0.5, 0.5).
std::map<std::string, ref::Tensor> randomWeights(const model::Model &model,
                                                 uint64_t seed) {
  std::map<std::string, ref::Tensor> weights;
  uint64_t n = 0;
  for (const ParamSpec &p : modelParameters(model)) {
    ref::Tensor t = ref::randomTensor(p.shape, seed * 1000 + n++, 0.5);
    bool normWeight = p.name.find("norm") != std::string::npos &&
                      p.name.size() > 7 &&
                      p.name.compare(p.name.size() - 7, 7, ".weight") == 0;
    for (double &v : t.data)
      v = static_cast<float>(normWeight ? 1.0 + 0.2 * v : v);
    weights.emplace(p.name, std::move(t));
  }
  return weights;
}

/// Token ids uniform in [0, vocab).
ref::IndexTensor randomIds(std::vector<int64_t> shape, int64_t vocab,
                           uint64_t seed) {
  ref::Tensor u = ref::randomTensor(shape, seed, 1.0);
  ref::IndexTensor ids(shape);
  for (size_t i = 0; i < u.data.size(); ++i)
    ids.data[i] = std::min<int64_t>(
        vocab - 1, static_cast<int64_t>((u.data[i] + 1.0) / 2.0 * vocab));
  return ids;
}

/// The float64 forward pass of the models these tests describe: blocks of
/// a dense MLP and/or a UoME layer (post-LN or pre-RMSNorm) between the
/// embedding and the head.
ref::Tensor referenceForward(const model::Model &model,
                             const std::map<std::string, ref::Tensor> &w,
                             const ref::IndexTensor *ids,
                             const ref::Tensor *hidden) {
  auto at = [&](const std::string &name) -> const ref::Tensor & {
    auto it = w.find(name);
    if (it == w.end())
      ref::fail("no weight " + name);
    return it->second;
  };
  ref::Tensor x;
  if (model.has_embedding())
    x = ref::embedding(*ids, at("embedding.weight"),
                       model.embedding().position() == model::LEARNED
                           ? &at("position_embedding.weight")
                           : nullptr);
  else
    x = *hidden;
  bool postLn = model.layout() == model::POST_LN;
  auto norm = [&](const ref::Tensor &v, const std::string &prefix) {
    return postLn ? ref::layerNorm(v, at(prefix + ".weight"),
                                   at(prefix + ".bias"), 1e-5)
                  : ref::rmsNorm(v, at(prefix + ".weight"), 1e-6);
  };
  int64_t layer = 0;
  for (const model::Block &block : model.blocks())
    for (int64_t r = 0; r < block.repeat(); ++r, ++layer) {
      std::string p = "blocks." + std::to_string(layer) + ".";
      ref::Layer mlp = [&](const ref::Tensor &in) {
        if (block.has_dense_mlp())
          return ref::denseMlp(in, at(p + "mlp.w1"), at(p + "mlp.b1"),
                               at(p + "mlp.w2"), at(p + "mlp.b2"));
        ref::UomeOptions o;
        o.kTok = block.uome().top_k();
        o.capacity = block.uome().capacity();
        return ref::uome(in, at(p + "mlp.router.weight"),
                         at(p + "mlp.router.bias"), at(p + "mlp.w1"),
                         at(p + "mlp.b1"), at(p + "mlp.w2"), at(p + "mlp.b2"),
                         o);
      };
      auto plus = [](ref::Tensor a, const ref::Tensor &b) {
        for (size_t i = 0; i < a.data.size(); ++i)
          a.data[i] += b.data[i];
        return a;
      };
      x = postLn ? norm(plus(mlp(x), x), p + "norm2")
                 : plus(mlp(norm(x, p + "norm2")), x);
    }
  if (model.final_norm())
    x = norm(x, "final_norm");
  if (model.has_lm_head()) {
    const model::LmHead &h = model.lm_head();
    return ref::linearOutIn(
        x, at(h.tie_embeddings() ? "embedding.weight" : "lm_head.weight"),
        h.bias() ? &at("lm_head.bias") : nullptr);
  }
  if (model.has_classifier())
    return ref::linearOutIn(ref::meanOverTokens(x), at("classifier.weight"),
                            &at("classifier.bias"));
  return x;
}

/// A model description compiled once for [kBatch, kSeq] and loaded.
struct CompiledModel : frontend_test::CompiledModel {
  explicit CompiledModel(const std::string &text)
      : frontend_test::CompiledModel(text, kBatch, kSeq) {}

  /// Binds `weights` and runs forward on `input`; the single result.
  rt::StatusOr<rt::HostTensor>
  run(const std::map<std::string, ref::Tensor> &weights, rt::HostTensor input) {
    std::vector<rt::HostTensor> inputs;
    inputs.push_back(std::move(input));
    return frontend_test::CompiledModel::run(weights, std::move(inputs));
  }
};

/// Compiles `text` and compares it with the reference on `seeds`.
void checkAgainstReference(const std::string &text,
                           std::vector<uint64_t> seeds = {1, 2, 3}) {
  CompiledModel compiled(text);
  ASSERT_TRUE(compiled.error.empty()) << compiled.error;
  for (uint64_t seed : seeds) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    auto weights = randomWeights(compiled.model, seed);
    ref::Tensor want;
    rt::StatusOr<rt::HostTensor> got = rt::HostTensor();
    if (compiled.model.has_embedding()) {
      ref::IndexTensor ids = randomIds(
          {kBatch, kSeq}, compiled.model.embedding().vocab_size(), seed + 100);
      want = referenceForward(compiled.model, weights, &ids, nullptr);
      got = compiled.run(weights, toHost(ids));
    } else {
      ref::Tensor hidden =
          ref::randomTensor({kBatch, kSeq, kWidth}, seed + 100);
      for (double &v : hidden.data)
        v = static_cast<float>(v);
      want = referenceForward(compiled.model, weights, nullptr, &hidden);
      got = compiled.run(weights, toHost(hidden));
    }
    ASSERT_TRUE(got.ok()) << got.status().toString();
    EXPECT_TRUE(allClose(*got, want));
  }
}

const char *kMlpBlock = "blocks { dense_mlp { hidden: 24 } } ";

} // namespace

TEST(ModelCompile, LmHeadWithLearnedPositionsPostLn) {
  checkAgainstReference(
      std::string("d_model: 48 layout: POST_LN ") + kMlpBlock +
      "embedding { vocab_size: 37 position: LEARNED max_positions: 9 } "
      "lm_head { }");
}

TEST(ModelCompile, TiedLmHeadPreRmsNorm) {
  checkAgainstReference(
      std::string("d_model: 48 layout: PRE_RMSNORM ") + kMlpBlock +
      "embedding { vocab_size: 37 } lm_head { tie_embeddings: true }");
}

TEST(ModelCompile, TiedLmHeadWithBias) {
  checkAgainstReference(
      std::string("d_model: 48 ") + kMlpBlock +
          "embedding { vocab_size: 37 position: LEARNED max_positions: 5 } "
          "lm_head { tie_embeddings: true bias: true }",
      {4});
}

TEST(ModelCompile, ClassifierOverTokenEmbeddings) {
  checkAgainstReference(
      std::string("d_model: 48 layout: PRE_RMSNORM ") + kMlpBlock +
      "embedding { vocab_size: 37 position: LEARNED max_positions: 7 } "
      "classifier { classes: 3 }");
}

TEST(ModelCompile, ClassifierOverHiddenStates) {
  checkAgainstReference(std::string("d_model: 48 ") + kMlpBlock +
                        "classifier { classes: 5 }");
}

TEST(ModelCompile, LmHeadOverUomeBlocks) {
  checkAgainstReference(
      "d_model: 48 blocks { uome { hidden: 24 experts: 3 top_k: 2 } } "
      "blocks { dense_mlp { hidden: 24 } } "
      "embedding { vocab_size: 37 } lm_head { }",
      {1, 2});
}

TEST(ModelCompile, EntryPointSignature) {
  CompiledModel compiled(
      std::string("d_model: 48 ") + kMlpBlock +
      "embedding { vocab_size: 37 position: LEARNED max_positions: 9 } "
      "lm_head { tie_embeddings: true }");
  ASSERT_TRUE(compiled.error.empty()) << compiled.error;
  ASSERT_EQ(compiled.executable.entry_points_size(), 1);
  const auto &entry = compiled.executable.entry_points(0);
  ASSERT_EQ(entry.inputs_size(), 1);
  EXPECT_EQ(entry.inputs(0).name(), "tokens");
  EXPECT_EQ(entry.inputs(0).dtype(), "i64");
  EXPECT_EQ(std::vector<int64_t>(entry.inputs(0).shape().begin(),
                                 entry.inputs(0).shape().end()),
            (std::vector<int64_t>{kBatch, kSeq}));
  ASSERT_EQ(entry.results_size(), 1);
  EXPECT_EQ(entry.results(0).name(), "logits");
  EXPECT_EQ(entry.results(0).dtype(), "f32");
  EXPECT_EQ(std::vector<int64_t>(entry.results(0).shape().begin(),
                                 entry.results(0).shape().end()),
            (std::vector<int64_t>{kBatch, kSeq, kVocab}));
  std::vector<std::string> names;
  for (const auto &p : entry.parameters())
    names.push_back(p.name());
  std::vector<std::string> want;
  for (const ParamSpec &p : modelParameters(compiled.model))
    want.push_back(p.name);
  EXPECT_EQ(names, want);
  EXPECT_EQ(names.front(), "embedding.weight");
}

// Tests that ids outside the vocabulary are an error of the runtime's input
// check (every front end goes through it) naming the input and position,
// and that the ids at both ends of the vocabulary run.
TEST(ModelCompile, OutOfRangeIdsAreErrors) {
  CompiledModel compiled(
      std::string("d_model: 48 ") + kMlpBlock +
      "embedding { vocab_size: 37 position: LEARNED max_positions: 5 } "
      "lm_head { }");
  ASSERT_TRUE(compiled.error.empty()) << compiled.error;
  auto weights = randomWeights(compiled.model, 7);
  for (int64_t wild : {int64_t(-5), int64_t(37), int64_t(1000), INT64_MIN,
                       INT64_MAX}) {
    ref::IndexTensor ids({kBatch, kSeq}, {0, 0, 36, 2, 1, //
                                          0, 12, 5, wild, 3});
    auto got = compiled.run(weights, toHost(ids));
    ASSERT_FALSE(got.ok()) << wild;
    EXPECT_EQ(got.status().code(), rt::StatusCode::OutOfRange);
    EXPECT_NE(got.status().message().find(
                  "input 'tokens': " + std::to_string(wild) +
                  " at [1, 3] is outside [0, 37)"),
              std::string::npos)
        << got.status().toString();
  }
  ref::IndexTensor edges({kBatch, kSeq}, {0, 0, 36, 36, 36, //
                                          0, 12, 0, 36, 3});
  auto inRange = compiled.run(weights, toHost(edges));
  ASSERT_TRUE(inRange.ok()) << inRange.status().toString();
  EXPECT_TRUE(allClose(
      *inRange, referenceForward(compiled.model, weights, &edges, nullptr)));
}

TEST(ModelCompile, RuntimeChecksTheInputDtypeAndShape) {
  CompiledModel compiled(std::string("d_model: 48 ") + kMlpBlock +
                         "embedding { vocab_size: 37 } lm_head { }");
  ASSERT_TRUE(compiled.error.empty()) << compiled.error;
  auto weights = randomWeights(compiled.model, 1);
  auto hidden = compiled.run(
      weights, toHost(ref::randomTensor({kBatch, kSeq, kWidth}, 1)));
  ASSERT_FALSE(hidden.ok());
  EXPECT_EQ(hidden.status().code(), rt::StatusCode::InvalidArgument);
  EXPECT_NE(hidden.status().message().find(
                "input 'tokens' must be i64 [2, 5], but it is f32 [2, 5, 48]"),
            std::string::npos)
      << hidden.status().toString();
  auto shorter = compiled.run(weights, toHost(ref::IndexTensor({kBatch, 4})));
  ASSERT_FALSE(shorter.ok());
  EXPECT_NE(shorter.status().message().find(
                "input 'tokens' must be i64 [2, 5], but it is i64 [2, 4]"),
            std::string::npos)
      << shorter.status().toString();
}
