//===- ModelFeaturesTest.cpp - the features pretrained imports need ------===//
//
// The description features that `uoe-run import --hf` relies on, each
// compiled for the CPU as uoe-run compiles it and compared with the float64
// reference (test/reference/) on several seeds (1e-5 relative): the PRE_LN
// layout with its final LayerNorm, `norm_eps`, BERT's token-type embeddings
// (the `token_type_ids` input, or type 0 without it) and embedding norm,
// and the shared output bias of SMHA and UoME (`shared_output_bias`). Also
// the exact decomposition (spec §1) with shared biases: the dense model and
// its UoE form with every expert selected give the same outputs. And the
// importer's side: defaults, parameter lists, errors naming the field.
//
//===----------------------------------------------------------------------===//

#include "frontend/ModelImporter.h"
#include "frontend/hf/HfImport.h"
#include "test/unittests/frontend/CompiledModel.h"

#include "test/reference/Reference.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"

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

constexpr int64_t kBatch = 2, kSeq = 7, kVocab = 37;

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
    if (!std::isfinite(g[i]))
      return ::testing::AssertionFailure() << "element " << i << " is " << g[i];
    double err = std::fabs(static_cast<double>(g[i]) - want.data[i]);
    if (err > worst) {
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

using Weights = std::map<std::string, ref::Tensor>;

/// Random weights for every parameter, rounded to f32: norm weights near 1,
/// matrices scaled by 1/sqrt(fan-in) so that activations stay of order one.
Weights randomWeights(const model::Model &model, uint64_t seed) {
  Weights weights;
  uint64_t n = 0;
  for (const ParamSpec &p : modelParameters(model)) {
    bool normWeight = p.name.find("norm") != std::string::npos &&
                      p.name.size() > 7 &&
                      p.name.compare(p.name.size() - 7, 7, ".weight") == 0;
    double scale = 0.5;
    if (p.shape.size() >= 2 && p.name.find("embedding") == std::string::npos &&
        p.name.find("lm_head") == std::string::npos)
      scale = 1.5 / std::sqrt(static_cast<double>(p.shape[p.shape.size() - 2]));
    ref::Tensor t = ref::randomTensor(p.shape, seed * 1000 + n++, scale);
    for (double &v : t.data)
      v = static_cast<float>(normWeight ? 1.0 + 0.4 * v : v);
    weights.emplace(p.name, std::move(t));
  }
  return weights;
}

/// Ids uniform in [0, n).
ref::IndexTensor randomIds(int64_t n, uint64_t seed) {
  ref::Tensor u = ref::randomTensor({kBatch, kSeq}, seed, 1.0);
  ref::IndexTensor ids({kBatch, kSeq});
  for (size_t i = 0; i < u.data.size(); ++i)
    ids.data[i] = std::min<int64_t>(
        n - 1, static_cast<int64_t>((u.data[i] + 1.0) / 2.0 * n));
  return ids;
}

/// The inputs of one run: ids, and the optional mask and token types.
struct Inputs {
  ref::IndexTensor ids, mask, types;
};

ref::Activation actOf(model::Activation a) {
  switch (a) {
  case model::GELU_TANH:
    return ref::Activation::GeluTanh;
  case model::RELU:
    return ref::Activation::Relu;
  case model::SILU:
    return ref::Activation::Silu;
  default:
    return ref::Activation::Gelu;
  }
}

ref::CombineMode combineOf(model::CombineMode c) {
  return c == model::GATED ? ref::CombineMode::Gated : ref::CombineMode::Union;
}

/// Slice `i` of `[3, ...]` (wqkv, bqkv) as a tensor of the remaining shape.
ref::Tensor third(const ref::Tensor &t, int64_t i) {
  std::vector<int64_t> shape(t.shape.begin() + 1, t.shape.end());
  ref::Tensor out(shape);
  int64_t n = out.numel();
  std::copy(t.data.begin() + i * n, t.data.begin() + (i + 1) * n,
            out.data.begin());
  return out;
}

/// The float64 forward pass of a resolved model with an embedding, written
/// from docs/MODEL_FORMAT.md.
ref::Tensor referenceForward(const model::Model &m, const Weights &w,
                             const Inputs &in) {
  auto at = [&](const std::string &name) -> const ref::Tensor & {
    auto it = w.find(name);
    if (it == w.end())
      ref::fail("no weight " + name);
    return it->second;
  };
  const model::Embedding &e = m.embedding();
  ref::Tensor x = ref::embedding(in.ids, at("embedding.weight"),
                                 e.position() == model::LEARNED
                                     ? &at("position_embedding.weight")
                                     : nullptr);
  if (e.token_types() > 0)
    x = ref::addTokenTypes(x,
                           m.token_type_ids() ? in.types
                                              : ref::IndexTensor({kBatch, kSeq}),
                           at("token_type_embedding.weight"));
  double eps = m.norm_eps();
  bool rms = m.layout() == model::PRE_RMSNORM;
  auto norm = [&](const ref::Tensor &v, const std::string &prefix) {
    return rms ? ref::rmsNorm(v, at(prefix + ".weight"), eps)
               : ref::layerNorm(v, at(prefix + ".weight"),
                                at(prefix + ".bias"), eps);
  };
  if (e.norm())
    x = norm(x, "embedding_norm");
  auto block = [&](const ref::Tensor &v, const std::string &prefix,
                   const ref::Layer &layer) {
    switch (m.layout()) {
    case model::POST_LN:
      return ref::postLnBlock(v, layer, at(prefix + ".weight"),
                              at(prefix + ".bias"), eps);
    case model::PRE_LN:
      return ref::preLnBlock(v, layer, at(prefix + ".weight"),
                             at(prefix + ".bias"), eps);
    default:
      return ref::preRmsBlock(v, layer, at(prefix + ".weight"), eps);
    }
  };
  ref::Tensor padding;
  const ref::Tensor *keyPadding = nullptr;
  if (m.attention_mask()) {
    padding = ref::Tensor({kBatch, kSeq});
    for (int64_t i = 0; i < padding.numel(); ++i)
      padding.data[i] = in.mask.data[i] == 0 ? 1.0 : 0.0;
    keyPadding = &padding;
  }
  int64_t layer = 0;
  for (const model::Block &b : m.blocks())
    for (int64_t r = 0; r < b.repeat(); ++r, ++layer) {
      std::string p = "blocks." + std::to_string(layer) + ".";
      if (b.attention_case() != model::Block::ATTENTION_NOT_SET)
      x = block(x, p + "norm1", [&](const ref::Tensor &v) {
        const ref::Tensor &wqkv = at(p + "attn.wqkv"), &bqkv = at(p + "attn.bqkv");
        if (b.has_dense_attention()) {
          ref::AttentionOptions o;
          o.heads = b.dense_attention().heads();
          o.causal = b.dense_attention().causal();
          return ref::attention(v, third(wqkv, 0), third(wqkv, 1),
                                third(wqkv, 2), third(bqkv, 0), third(bqkv, 1),
                                third(bqkv, 2), at(p + "attn.wo"),
                                at(p + "attn.bo"), o, keyPadding);
        }
        const model::Smha &a = b.smha();
        ref::SmhaOptions o;
        o.heads = a.heads();
        o.kTok = a.top_k();
        o.causal = a.causal();
        o.combine = combineOf(a.combine());
        o.sharedOutputBias = a.shared_output_bias();
        return ref::smha(v, at(p + "attn.router.weight"),
                         at(p + "attn.router.bias"), third(wqkv, 0),
                         third(wqkv, 1), third(wqkv, 2), third(bqkv, 0),
                         third(bqkv, 1), third(bqkv, 2), at(p + "attn.wo"),
                         at(p + "attn.bo"), o, keyPadding);
      });
      if (b.mlp_case() != model::Block::MLP_NOT_SET)
      x = block(x, p + "norm2", [&](const ref::Tensor &v) {
        if (b.has_dense_mlp())
          return ref::denseMlp(v, at(p + "mlp.w1"), at(p + "mlp.b1"),
                               at(p + "mlp.w2"), at(p + "mlp.b2"),
                               actOf(b.dense_mlp().activation()));
        const model::Uome &u = b.uome();
        ref::UomeOptions o;
        o.kTok = u.top_k();
        o.capacity = u.capacity();
        o.act = actOf(u.activation());
        o.combine = combineOf(u.combine());
        o.sharedOutputBias = u.shared_output_bias();
        return ref::uome(v, at(p + "mlp.router.weight"),
                         at(p + "mlp.router.bias"), at(p + "mlp.w1"),
                         at(p + "mlp.b1"), at(p + "mlp.w2"), at(p + "mlp.b2"),
                         o);
      });
    }
  if (m.final_norm())
    x = norm(x, "final_norm");
  if (m.has_lm_head())
    return ref::linearOutIn(x,
                            at(m.lm_head().tie_embeddings() ? "embedding.weight"
                                                            : "lm_head.weight"),
                            m.lm_head().bias() ? &at("lm_head.bias") : nullptr);
  return x;
}

/// A description compiled once for [kBatch, kSeq] and loaded.
struct CompiledModel : frontend_test::CompiledModel {
  explicit CompiledModel(const std::string &text)
      : frontend_test::CompiledModel(text, kBatch, kSeq) {}

  /// Binds `weights` and runs forward on the inputs the model takes.
  rt::StatusOr<rt::HostTensor> run(const Weights &weights, const Inputs &in) {
    std::vector<rt::HostTensor> inputs;
    inputs.push_back(toHost(in.ids));
    if (model.attention_mask())
      inputs.push_back(toHost(in.mask));
    if (model.token_type_ids())
      inputs.push_back(toHost(in.types));
    return frontend_test::CompiledModel::run(weights, std::move(inputs));
  }
};

/// Random inputs: ids, a mask that pads the last tokens of row 1, types.
Inputs randomInputs(uint64_t seed, int64_t types) {
  Inputs in{randomIds(kVocab, seed + 100),
            ref::IndexTensor::filled({kBatch, kSeq}, 1),
            randomIds(std::max<int64_t>(types, 1), seed + 200)};
  in.mask.data.assign(in.mask.data.size(), 1);
  for (int64_t t = kSeq - 3; t < kSeq; ++t)
    in.mask.data[kSeq + t] = 0;
  return in;
}

/// Compiles `text` and compares it with the reference on `seeds`.
void checkAgainstReference(const std::string &text,
                           std::vector<uint64_t> seeds = {1, 2, 3}) {
  CompiledModel compiled(text);
  ASSERT_TRUE(compiled.error.empty()) << compiled.error;
  for (uint64_t seed : seeds) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Weights weights = randomWeights(compiled.model, seed);
    Inputs in = randomInputs(seed, compiled.model.embedding().token_types());
    auto got = compiled.run(weights, in);
    ASSERT_TRUE(got.ok()) << got.status().toString();
    EXPECT_TRUE(allClose(*got, referenceForward(compiled.model, weights, in)));
  }
}

const char *kEmbedding =
    "embedding { vocab_size: 37 position: LEARNED max_positions: 9 } ";

} // namespace

TEST(ModelFeatures, PreLnCausalTiedLmHead) {
  // GPT-2's shape: pre-LN blocks, a final LayerNorm (on by default), a
  // causal dense attention, tanh GELU, a tied head.
  checkAgainstReference(
      std::string("d_model: 24 layout: PRE_LN ") +
      "blocks { dense_attention { heads: 4 causal: true } "
      "dense_mlp { hidden: 40 activation: GELU_TANH } repeat: 2 } " +
      kEmbedding + "lm_head { tie_embeddings: true }");
}

TEST(ModelFeatures, PostLnBertEmbeddingsWithTypesMaskAndTinyEps) {
  // BERT's shape: token types given as an input, an embedding LayerNorm,
  // post-LN blocks with LayerNorm eps 1e-12, padding masked.
  checkAgainstReference(
      "d_model: 24 layout: POST_LN norm_eps: 1e-12 attention_mask: true "
      "token_type_ids: true "
      "blocks { dense_attention { heads: 3 } dense_mlp { hidden: 40 } "
      "repeat: 2 } "
      "embedding { vocab_size: 37 position: LEARNED max_positions: 9 "
      "token_types: 3 norm: true }");
}

TEST(ModelFeatures, TokenTypeZeroWithoutTheInput) {
  checkAgainstReference(
      "d_model: 24 blocks { dense_mlp { hidden: 40 } } "
      "embedding { vocab_size: 37 token_types: 2 } lm_head { }");
}

TEST(ModelFeatures, NormEpsReachesEveryNorm) {
  // A large eps changes every norm's output visibly: a norm that ignored
  // norm_eps would miss the tolerance by far.
  checkAgainstReference(
      std::string("d_model: 24 layout: PRE_LN norm_eps: 0.75 "
                  "blocks { dense_mlp { hidden: 40 } repeat: 2 } ") +
          "embedding { vocab_size: 37 norm: true } lm_head { }",
      {1, 2});
  checkAgainstReference(
      "d_model: 24 layout: PRE_RMSNORM norm_eps: 0.5 "
      "blocks { dense_mlp { hidden: 40 } } "
      "embedding { vocab_size: 37 norm: true } lm_head { }",
      {1});
  checkAgainstReference("d_model: 24 layout: POST_LN norm_eps: 0.5 "
                        "blocks { dense_mlp { hidden: 40 } } "
                        "embedding { vocab_size: 37 }",
                        {1});
}

TEST(ModelFeatures, SharedOutputBiasUnionAndGated) {
  // Every expert selects every token (top_k = E, capacity 1), so no routing
  // decision is close to a tie; the bias is added once after the combine
  // (gated: not weighted by the scores).
  for (const char *combine : {"UNION", "GATED"}) {
    SCOPED_TRACE(combine);
    checkAgainstReference(
        std::string("d_model: 24 layout: PRE_LN attention_mask: true ") +
            "blocks { smha { heads: 4 experts: 2 top_k: 2 causal: true "
            "combine: " +
            combine +
            " shared_output_bias: true } "
            "uome { hidden: 40 experts: 4 top_k: 4 capacity: 1.0 combine: " +
            combine + " shared_output_bias: true } } " + kEmbedding +
            "lm_head { tie_embeddings: true }",
        {1, 2});
  }
}

TEST(ModelFeatures, SharedOutputBiasSparse) {
  // Top-1 of 3 UoME experts at capacity 0.5 (the shared bias reaches every
  // token, selected or not).
  checkAgainstReference(
      std::string("d_model: 24 layout: PRE_LN ") +
          "blocks { uome { hidden: 48 experts: 3 top_k: 1 capacity: 0.5 "
          "shared_output_bias: true } } " +
          kEmbedding,
      {1, 2, 3});
}

TEST(ModelFeatures, ExactDecompositionWithSharedBiases) {
  // Spec §1: split a dense model's weights (hf::splitMlp for the MLP and
  // its router, ref::splitAttention for the heads) and run the UoE model
  // with every expert selected: the outputs are the dense model's.
  CompiledModel dense(
      std::string("d_model: 24 layout: POST_LN norm_eps: 1e-12 "
                  "attention_mask: true "
                  "blocks { dense_attention { heads: 4 } dense_mlp { hidden: "
                  "48 } repeat: 2 } ") +
      "embedding { vocab_size: 37 position: LEARNED max_positions: 9 "
      "token_types: 2 norm: true }");
  CompiledModel split(
      std::string("d_model: 24 layout: POST_LN norm_eps: 1e-12 "
                  "attention_mask: true "
                  "blocks { smha { heads: 4 experts: 2 top_k: 2 "
                  "shared_output_bias: true } "
                  "uome { hidden: 48 experts: 4 top_k: 4 capacity: 1.0 "
                  "shared_output_bias: true } repeat: 2 } ") +
      "embedding { vocab_size: 37 position: LEARNED max_positions: 9 "
      "token_types: 2 norm: true }");
  ASSERT_TRUE(dense.error.empty()) << dense.error;
  ASSERT_TRUE(split.error.empty()) << split.error;
  for (uint64_t seed : {1, 2}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Weights w = randomWeights(dense.model, seed);
    Weights s;
    for (const auto &[name, t] : w)
      if (name.find("attn.") == std::string::npos &&
          name.find("mlp.") == std::string::npos)
        s.emplace(name, t);
    for (int layer = 0; layer < 2; ++layer) {
      std::string p = "blocks." + std::to_string(layer) + ".";
      const ref::Tensor &wqkv = w.at(p + "attn.wqkv"), &bqkv = w.at(p + "attn.bqkv");
      ref::ExpertAttentionWeights a = ref::splitAttention(
          third(wqkv, 0), third(wqkv, 1), third(wqkv, 2), third(bqkv, 0),
          third(bqkv, 1), third(bqkv, 2), w.at(p + "attn.wo"),
          w.at(p + "attn.bo"), 2, 4, /*sharedBias=*/true);
      ref::Tensor sq({3, 2, 24, 12}), sb({3, 2, 12});
      for (int i = 0; i < 3; ++i) {
        const ref::Tensor &wi = i == 0 ? a.wq : i == 1 ? a.wk : a.wv;
        const ref::Tensor &bi = i == 0 ? a.bq : i == 1 ? a.bk : a.bv;
        std::copy(wi.data.begin(), wi.data.end(),
                  sq.data.begin() + i * wi.numel());
        std::copy(bi.data.begin(), bi.data.end(),
                  sb.data.begin() + i * bi.numel());
      }
      s[p + "attn.router.weight"] = ref::randomTensor({2, 24}, seed + 7, 0.3);
      s[p + "attn.router.bias"] = ref::Tensor({2});
      s[p + "attn.wqkv"] = sq;
      s[p + "attn.bqkv"] = sb;
      s[p + "attn.wo"] = a.wo;
      s[p + "attn.bo"] = a.bo;
      const ref::Tensor &w1 = w.at(p + "mlp.w1"), &b1 = w.at(p + "mlp.b1"),
                        &w2 = w.at(p + "mlp.w2");
      std::vector<float> fw1(w1.data.begin(), w1.data.end()),
          fb1(b1.data.begin(), b1.data.end()), fw2(w2.data.begin(), w2.data.end());
      hf::ExpertMlp m = hf::splitMlp(fw1, fb1, fw2, 24, 48, 4);
      auto tensor = [](std::vector<int64_t> shape, const std::vector<float> &v) {
        return ref::Tensor(std::move(shape), std::vector<double>(v.begin(), v.end()));
      };
      s[p + "mlp.router.weight"] = tensor({4, 24}, m.routerWeight);
      s[p + "mlp.router.bias"] = tensor({4}, m.routerBias);
      s[p + "mlp.w1"] = tensor({4, 24, 12}, m.w1s);
      s[p + "mlp.b1"] = tensor({4, 12}, m.b1s);
      s[p + "mlp.w2"] = tensor({4, 12, 24}, m.w2s);
      s[p + "mlp.b2"] = w.at(p + "mlp.b2");
    }
    Inputs in = randomInputs(seed, 2);
    ref::Tensor want = referenceForward(dense.model, w, in);
    auto gotDense = dense.run(w, in);
    auto gotSplit = split.run(s, in);
    ASSERT_TRUE(gotDense.ok()) << gotDense.status().toString();
    ASSERT_TRUE(gotSplit.ok()) << gotSplit.status().toString();
    EXPECT_TRUE(allClose(*gotDense, want));
    EXPECT_TRUE(allClose(*gotSplit, want));
    // The float64 reference of the decomposed model agrees as well.
    EXPECT_LT(ref::maxAbsDiff(referenceForward(split.model, s, in), want),
              1e-9);
  }
}

TEST(ModelFeatures, SplitMlpLayoutAndRouterRule) {
  // W1 [2, 4], W2 [4, 2], 2 experts of width 2.
  std::vector<float> w1{1, 2, 3, 4, 5, 6, 7, 8}, b1{1, 3, 5, 9},
      w2{1, 2, 3, 4, 5, 6, 7, 8};
  hf::ExpertMlp m = hf::splitMlp(w1, b1, w2, 2, 4, 2);
  EXPECT_EQ(m.w1s, (std::vector<float>{1, 2, 5, 6, 3, 4, 7, 8}));
  EXPECT_EQ(m.b1s, (std::vector<float>{1, 3, 5, 9}));
  EXPECT_EQ(m.w2s, w2);
  // Router row e: the mean of the expert's W1 columns; bias: of its b1.
  EXPECT_EQ(m.routerWeight, (std::vector<float>{1.5, 5.5, 3.5, 7.5}));
  EXPECT_EQ(m.routerBias, (std::vector<float>{2, 7}));
}

//===----------------------------------------------------------------------===//
// The importer: defaults, parameters, errors
//===----------------------------------------------------------------------===//

namespace {

llvm::Expected<model::Model> load(const std::string &text) {
  auto m = parseModelText(text, "test.pbtxt");
  if (!m)
    return m.takeError();
  if (auto err = resolveModel(*m))
    return std::move(err);
  return m;
}

std::string resolveError(const std::string &text) {
  auto m = load(text);
  if (m)
    return "";
  return llvm::toString(m.takeError());
}

using Params = std::vector<std::pair<std::string, std::vector<int64_t>>>;

Params paramsOf(const model::Model &m) {
  Params out;
  for (const ParamSpec &p : modelParameters(m))
    out.push_back({p.name, p.shape});
  return out;
}

} // namespace

TEST(ModelFeaturesImport, Defaults) {
  auto preLn = load("d_model: 8 layout: PRE_LN blocks { dense_mlp { hidden: 4 } }");
  ASSERT_TRUE(!!preLn) << llvm::toString(preLn.takeError());
  EXPECT_TRUE(preLn->final_norm());
  EXPECT_EQ(preLn->norm_eps(), 1e-5);
  EXPECT_FALSE(preLn->token_type_ids());
  auto rms = load("d_model: 8 layout: PRE_RMSNORM blocks { dense_mlp { hidden: 4 } }");
  ASSERT_TRUE(!!rms) << llvm::toString(rms.takeError());
  EXPECT_EQ(rms->norm_eps(), 1e-6);
  auto post = load("d_model: 8 blocks { dense_mlp { hidden: 4 } }");
  ASSERT_TRUE(!!post) << llvm::toString(post.takeError());
  EXPECT_FALSE(post->final_norm());
  EXPECT_EQ(post->norm_eps(), 1e-5);
}

TEST(ModelFeaturesImport, ParametersOfABertLikeModel) {
  auto m = load("d_model: 8 layout: POST_LN "
                "blocks { smha { heads: 4 experts: 2 shared_output_bias: true } "
                "uome { hidden: 12 experts: 3 shared_output_bias: true } } "
                "embedding { vocab_size: 5 position: LEARNED max_positions: 6 "
                "token_types: 2 norm: true }");
  ASSERT_TRUE(!!m) << llvm::toString(m.takeError());
  Params want{{"embedding.weight", {5, 8}},
              {"position_embedding.weight", {6, 8}},
              {"token_type_embedding.weight", {2, 8}},
              {"embedding_norm.weight", {8}},
              {"embedding_norm.bias", {8}},
              {"blocks.0.attn.router.weight", {2, 8}},
              {"blocks.0.attn.router.bias", {2}},
              {"blocks.0.attn.wqkv", {3, 2, 8, 4}},
              {"blocks.0.attn.bqkv", {3, 2, 4}},
              {"blocks.0.attn.wo", {2, 4, 8}},
              {"blocks.0.attn.bo", {8}},
              {"blocks.0.norm1.weight", {8}},
              {"blocks.0.norm1.bias", {8}},
              {"blocks.0.mlp.router.weight", {3, 8}},
              {"blocks.0.mlp.router.bias", {3}},
              {"blocks.0.mlp.w1", {3, 8, 4}},
              {"blocks.0.mlp.b1", {3, 4}},
              {"blocks.0.mlp.w2", {3, 4, 8}},
              {"blocks.0.mlp.b2", {8}},
              {"blocks.0.norm2.weight", {8}},
              {"blocks.0.norm2.bias", {8}}};
  EXPECT_EQ(paramsOf(*m), want);
}

TEST(ModelFeaturesImport, PreLnNormsComeFirstWithBiases) {
  auto m = load("d_model: 8 layout: PRE_LN "
                "blocks { dense_mlp { hidden: 4 } }");
  ASSERT_TRUE(!!m) << llvm::toString(m.takeError());
  Params want{{"blocks.0.norm2.weight", {8}}, {"blocks.0.norm2.bias", {8}},
              {"blocks.0.mlp.w1", {8, 4}},    {"blocks.0.mlp.b1", {4}},
              {"blocks.0.mlp.w2", {4, 8}},    {"blocks.0.mlp.b2", {8}},
              {"final_norm.weight", {8}},     {"final_norm.bias", {8}}};
  EXPECT_EQ(paramsOf(*m), want);
}

TEST(ModelFeaturesImport, Errors) {
  EXPECT_EQ(resolveError("d_model: 8 norm_eps: -1 blocks { dense_mlp { "
                         "hidden: 4 } }"),
            "norm_eps: must be positive");
  EXPECT_EQ(resolveError("d_model: 8 token_type_ids: true blocks { dense_mlp "
                         "{ hidden: 4 } } embedding { vocab_size: 5 }"),
            "token_type_ids: the model takes token type ids but has no "
            "token-type table: set 'embedding { token_types: N }'");
  EXPECT_EQ(resolveError("d_model: 8 token_type_ids: true blocks { dense_mlp "
                         "{ hidden: 4 } }"),
            "token_type_ids: the model takes token type ids but has no "
            "token-type table: set 'embedding { token_types: N }'");
  EXPECT_EQ(resolveError("d_model: 8 blocks { dense_mlp { hidden: 4 } } "
                         "embedding { vocab_size: 5 token_types: -2 }"),
            "embedding.token_types: must be positive (or 0: none)");
}

TEST(ModelFeaturesImport, TokenTypeIdsInputAfterTheMask) {
  auto m = load("d_model: 8 attention_mask: true token_type_ids: true "
                "blocks { dense_attention { heads: 2 } } "
                "embedding { vocab_size: 5 token_types: 2 }");
  ASSERT_TRUE(!!m) << llvm::toString(m.takeError());
  mlir::MLIRContext context;
  auto module = importModel(context, *m, 2, 3);
  ASSERT_TRUE(!!module) << llvm::toString(module.takeError());
  auto func = (*module)->lookupSymbol<mlir::func::FuncOp>("forward");
  ASSERT_TRUE(func);
  auto name = [&](unsigned i) {
    auto attr = func.getArgAttrOfType<mlir::StringAttr>(i, "uoe.input");
    return attr ? attr.str() : std::string();
  };
  EXPECT_EQ(name(0), "tokens");
  EXPECT_EQ(name(1), "attention_mask");
  EXPECT_EQ(name(2), "token_type_ids");
  EXPECT_EQ(name(3), "");
}
