//===- ModelParameters.cpp - the weights a description needs -------------===//
//
// See ModelParameters.h. The names and shapes are those of
// docs/MODEL_FORMAT.md; the order is the order in which @forward takes them
// (ModelImporter.cpp builds the layers in the same walk).
//
//===----------------------------------------------------------------------===//

#include "frontend/ModelParameters.h"

#include "llvm/Support/FormatVariadic.h"

#include <cstdint>

using namespace mlir::uoe;
namespace model = ::uoe::model;
using llvm::formatv;

//===----------------------------------------------------------------------===//
// Parameters
//===----------------------------------------------------------------------===//

namespace {

/// Width of the first GEMM's output: doubled for SwiGLU's [gate | up].
int64_t upWidth(int64_t hidden, model::Activation act) {
  return act == model::SWIGLU ? 2 * hidden : hidden;
}

void addNorm(std::vector<ParamSpec> &params, const std::string &prefix,
             const model::Model &model) {
  int64_t d = model.d_model();
  params.push_back({prefix + ".weight", {d}});
  if (model.layout() != model::PRE_RMSNORM)
    params.push_back({prefix + ".bias", {d}});
}

} // namespace

int64_t mlir::uoe::parameterCount(const std::vector<ParamSpec> &params) {
  int64_t total = 0;
  for (const ParamSpec &p : params) {
    int64_t n = 1;
    for (int64_t dim : p.shape)
      if (__builtin_mul_overflow(n, dim, &n))
        n = INT64_MAX;
    total = n > INT64_MAX - total ? INT64_MAX : total + n;
  }
  return total;
}

std::vector<ParamSpec> mlir::uoe::modelParameters(const model::Model &model) {
  std::vector<ParamSpec> params;
  int64_t d = model.d_model();
  if (model.has_embedding()) {
    const model::Embedding &e = model.embedding();
    params.push_back({"embedding.weight", {e.vocab_size(), d}});
    if (e.position() == model::LEARNED)
      params.push_back({"position_embedding.weight", {e.max_positions(), d}});
    if (e.token_types() > 0)
      params.push_back({"token_type_embedding.weight", {e.token_types(), d}});
    if (e.norm())
      addNorm(params, "embedding_norm", model);
  }
  // Parameters are listed in the order @forward uses them: a post-LN
  // sub-layer's norm after its layer, a pre-norm one's before.
  bool normFirst = model.layout() != model::POST_LN;
  forEachLayer(model, [&](int64_t layer, const model::Block &block) {
    std::string prefix = formatv("blocks.{0}.", layer).str();
    bool hasAttention =
        block.attention_case() != model::Block::ATTENTION_NOT_SET;
    bool hasMlp = block.mlp_case() != model::Block::MLP_NOT_SET;
    if (hasAttention && normFirst)
      addNorm(params, prefix + "norm1", model);
    if (block.has_dense_attention()) {
      params.push_back({prefix + "attn.wqkv", {3, d, d}});
      params.push_back({prefix + "attn.bqkv", {3, d}});
      params.push_back({prefix + "attn.wo", {d, d}});
      params.push_back({prefix + "attn.bo", {d}});
    } else if (block.has_smha()) {
      int64_t e = block.smha().experts(), de = d / e;
      params.push_back({prefix + "attn.router.weight", {e, d}});
      params.push_back({prefix + "attn.router.bias", {e}});
      params.push_back({prefix + "attn.wqkv", {3, e, d, de}});
      params.push_back({prefix + "attn.bqkv", {3, e, de}});
      params.push_back({prefix + "attn.wo", {e, de, d}});
      if (block.smha().shared_output_bias())
        params.push_back({prefix + "attn.bo", {d}});
      else
        params.push_back({prefix + "attn.bo", {e, d}});
    }
    if (hasAttention && !normFirst)
      addNorm(params, prefix + "norm1", model);

    if (hasMlp && normFirst)
      addNorm(params, prefix + "norm2", model);
    if (block.has_dense_mlp()) {
      const auto &m = block.dense_mlp();
      int64_t f = m.hidden(), up = upWidth(f, m.activation());
      params.push_back({prefix + "mlp.w1", {d, up}});
      params.push_back({prefix + "mlp.b1", {up}});
      params.push_back({prefix + "mlp.w2", {f, d}});
      params.push_back({prefix + "mlp.b2", {d}});
    } else if (block.has_uome() || block.has_moe()) {
      int64_t e, fe;
      model::Activation act;
      bool sharedBias = block.has_uome() && block.uome().shared_output_bias();
      if (block.has_uome()) {
        e = block.uome().experts();
        fe = block.uome().hidden() / e;
        act = block.uome().activation();
      } else {
        e = block.moe().experts();
        fe = block.moe().hidden();
        act = block.moe().activation();
      }
      int64_t up = upWidth(fe, act);
      params.push_back({prefix + "mlp.router.weight", {e, d}});
      params.push_back({prefix + "mlp.router.bias", {e}});
      params.push_back({prefix + "mlp.w1", {e, d, up}});
      params.push_back({prefix + "mlp.b1", {e, up}});
      params.push_back({prefix + "mlp.w2", {e, fe, d}});
      if (sharedBias)
        params.push_back({prefix + "mlp.b2", {d}});
      else
        params.push_back({prefix + "mlp.b2", {e, d}});
    }
    if (hasMlp && !normFirst)
      addNorm(params, prefix + "norm2", model);
  });
  if (model.final_norm())
    addNorm(params, "final_norm", model);
  if (model.has_lm_head()) {
    int64_t vocab = model.embedding().vocab_size();
    if (!model.lm_head().tie_embeddings())
      params.push_back({"lm_head.weight", {vocab, d}});
    if (model.lm_head().bias())
      params.push_back({"lm_head.bias", {vocab}});
  } else if (model.has_classifier()) {
    int64_t classes = model.classifier().classes();
    params.push_back({"classifier.weight", {classes, d}});
    params.push_back({"classifier.bias", {classes}});
  }
  return params;
}
