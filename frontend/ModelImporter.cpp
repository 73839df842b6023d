//===- ModelImporter.cpp - model descriptions to uoe IR ------------------===//
//
// Three steps, each usable alone: parse the text format (strictly: unknown
// fields are errors), resolve defaults and check sizes against the spec
// (every error names its field path), then emit @forward as a chain of
// uoe layer ops, with one parameter per weight in modelParameters() order.
// The model around the blocks is emitted too: `uoe.embedding` for token
// ids, and the heads as upstream ops that the CPU pipeline and a later
// autodiff pass already handle (linalg.transpose, linalg.broadcast,
// linalg.batch_matmul of batch 1, so the GEMM goes to BLAS, and a
// linalg.reduce for the mean over T).
//
//===----------------------------------------------------------------------===//

#include "frontend/ModelImporter.h"

#include "dialect/UoEOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <cmath>
#include <map>
#include <cstdint>

using namespace mlir;
using namespace mlir::uoe;
namespace model = ::uoe::model;
using llvm::formatv;

//===----------------------------------------------------------------------===//
// Parsing
//===----------------------------------------------------------------------===//

namespace {
/// Collects the first text-format error with its position.
class ErrorCollector : public google::protobuf::io::ErrorCollector {
public:
  explicit ErrorCollector(llvm::StringRef file) : file(file.str()) {}
  void AddError(int line, int column, const std::string &message) override {
    if (first.empty())
      first = formatv("{0}:{1}:{2}: {3}", file, line + 1, column + 1, message);
  }
  std::string file, first;
};

llvm::Error fieldError(const std::string &field, const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 field + ": " + message);
}
} // namespace

llvm::Expected<model::Model> mlir::uoe::parseModelText(llvm::StringRef text,
                                                 llvm::StringRef fileName) {
  model::Model model;
  google::protobuf::TextFormat::Parser parser;
  ErrorCollector errors(fileName);
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text.str(), &model))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   errors.first.empty()
                                       ? fileName.str() + ": invalid model"
                                       : errors.first);
  return model;
}

llvm::Expected<model::Model> mlir::uoe::parseModelFile(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return llvm::createStringError(buffer.getError(),
                                   "cannot read model description '" + path +
                                       "': " + buffer.getError().message());
  return mlir::uoe::parseModelText((*buffer)->getBuffer(), path);
}

//===----------------------------------------------------------------------===//
// Defaults and checks
//===----------------------------------------------------------------------===//

namespace {

/// `top_k` default: half of the experts, at least one.
int64_t defaultTop(int64_t experts) { return std::max<int64_t>(1, experts / 2); }

llvm::Error checkHeads(const std::string &path, int64_t heads, int64_t d) {
  if (heads <= 0)
    return fieldError(path + ".heads", "required, must be positive");
  if (d % heads != 0)
    return fieldError(path + ".heads",
                      formatv("{0} does not divide d_model ({1})", heads, d));
  return llvm::Error::success();
}

llvm::Error checkRope(const std::string &path, model::RopeMode rope,
                      int64_t headWidth) {
  if (rope != model::NO_ROPE && headWidth % 2 != 0)
    return fieldError(path + ".rope",
                      formatv("rotary embedding needs an even head width, "
                              "but d_model / heads = {0}",
                              headWidth));
  return llvm::Error::success();
}

llvm::Error checkTop(const std::string &path, int64_t top, int64_t experts) {
  if (top < 1 || top > experts)
    return fieldError(path + ".top_k",
                      formatv("{0} must be between 1 and experts ({1})", top,
                              experts));
  return llvm::Error::success();
}

template <typename Msg> void defaultRouting(Msg &m) {
  if (m.combine() == model::COMBINE_DEFAULT)
    m.set_combine(model::UNION);
  if (m.score() == model::ROUTER_SCORE_DEFAULT)
    m.set_score(model::SOFTMAX);
  if (m.eps() == 0.0)
    m.set_eps(1e-6);
  if (m.norm_capacity() == 0.0)
    m.set_norm_capacity(1.0);
  if (m.routing() == model::ROUTING_DEFAULT)
    m.set_routing(model::REFERENCE);
}

llvm::Error resolveBlock(model::Block &block, int64_t d,
                         const std::string &path) {
  if (block.repeat() == 0)
    block.set_repeat(1);
  if (block.repeat() < 0)
    return fieldError(path + ".repeat", "must be positive");
  if (block.attention_case() == model::Block::ATTENTION_NOT_SET &&
      block.mlp_case() == model::Block::MLP_NOT_SET)
    return fieldError(path, "a block needs an attention or an MLP layer");

  if (block.has_dense_attention()) {
    auto &a = *block.mutable_dense_attention();
    std::string p = path + ".dense_attention";
    if (auto err = checkHeads(p, a.heads(), d))
      return err;
    if (a.rope() == model::ROPE_DEFAULT)
      a.set_rope(model::NO_ROPE);
    if (a.rope() == model::COMPACTED)
      return fieldError(p + ".rope", "'COMPACTED' needs selected tokens; "
                                     "dense attention takes NO_ROPE or ORIGINAL");
    if (a.rope_base() == 0.0)
      a.set_rope_base(10000.0);
    if (auto err = checkRope(p, a.rope(), d / a.heads()))
      return err;
  }
  if (block.has_smha()) {
    auto &a = *block.mutable_smha();
    std::string p = path + ".smha";
    if (auto err = checkHeads(p, a.heads(), d))
      return err;
    if (a.experts() == 0)
      a.set_experts(a.heads());
    if (a.experts() < 0 || a.heads() % a.experts() != 0)
      return fieldError(p + ".experts",
                        formatv("{0} does not divide heads ({1})", a.experts(),
                                a.heads()));
    if (a.top_k() == 0)
      a.set_top_k(defaultTop(a.experts()));
    if (auto err = checkTop(p, a.top_k(), a.experts()))
      return err;
    if (a.rope() == model::ROPE_DEFAULT)
      a.set_rope(model::NO_ROPE);
    if (a.rope_base() == 0.0)
      a.set_rope_base(10000.0);
    if (auto err = checkRope(p, a.rope(), d / a.heads()))
      return err;
    defaultRouting(a);
    if (a.routing() == model::CAUSAL_SAFE && a.rope() == model::COMPACTED)
      return fieldError(p + ".rope",
                        "'COMPACTED' cannot be used with 'routing: "
                        "CAUSAL_SAFE': a token's compacted index would "
                        "depend on later tokens (use ORIGINAL or NO_ROPE)");
  }
  if (block.has_dense_mlp()) {
    auto &m = *block.mutable_dense_mlp();
    if (m.hidden() <= 0)
      return fieldError(path + ".dense_mlp.hidden", "required, must be positive");
    if (m.activation() == model::ACTIVATION_DEFAULT)
      m.set_activation(model::GELU);
  }
  if (block.has_uome()) {
    auto &m = *block.mutable_uome();
    std::string p = path + ".uome";
    if (m.hidden() <= 0)
      return fieldError(p + ".hidden", "required, must be positive");
    if (m.experts() <= 0)
      return fieldError(p + ".experts", "required, must be positive");
    if (m.hidden() % m.experts() != 0)
      return fieldError(p + ".experts",
                        formatv("{0} does not divide hidden ({1})",
                                m.experts(), m.hidden()));
    if (m.top_k() == 0)
      m.set_top_k(defaultTop(m.experts()));
    if (auto err = checkTop(p, m.top_k(), m.experts()))
      return err;
    if (m.capacity() == 0.0)
      m.set_capacity(0.5);
    if (!(m.capacity() > 0.0 && m.capacity() <= 1.0))
      return fieldError(p + ".capacity",
                        formatv("{0} must be in (0, 1]", m.capacity()));
    if (m.patch_size() == 0)
      m.set_patch_size(1);
    if (m.patch_size() < 0)
      return fieldError(p + ".patch_size", "must be positive");
    if (m.activation() == model::ACTIVATION_DEFAULT)
      m.set_activation(model::GELU);
    if (m.layout() == model::UOME_LAYOUT_DEFAULT)
      m.set_layout(model::SEQUENCE);
    defaultRouting(m);
    if (m.routing() == model::CAUSAL_SAFE && m.patch_size() != 1)
      return fieldError(p + ".patch_size",
                        formatv("{0} cannot be used with 'routing: "
                                "CAUSAL_SAFE', which routes single tokens "
                                "(patch_size 1)",
                                m.patch_size()));
  }
  if (block.has_moe()) {
    auto &m = *block.mutable_moe();
    std::string p = path + ".moe";
    if (m.hidden() <= 0)
      return fieldError(p + ".hidden", "required, must be positive");
    if (m.experts() <= 0)
      return fieldError(p + ".experts", "required, must be positive");
    if (m.top_k() == 0)
      m.set_top_k(std::min<int64_t>(2, m.experts()));
    if (auto err = checkTop(p, m.top_k(), m.experts()))
      return err;
    if (m.activation() == model::ACTIVATION_DEFAULT)
      m.set_activation(model::GELU);
    if (m.score() == model::ROUTER_SCORE_DEFAULT)
      m.set_score(model::SOFTMAX);
  }
  return llvm::Error::success();
}

llvm::Error resolveEmbedding(model::Model &model) {
  if (!model.has_embedding())
    return llvm::Error::success();
  model::Embedding &e = *model.mutable_embedding();
  if (e.vocab_size() <= 0)
    return fieldError("embedding.vocab_size", "required, must be positive");
  if (e.position() == model::POSITION_DEFAULT)
    e.set_position(model::NO_POSITION);
  if (e.position() == model::LEARNED) {
    if (e.max_positions() <= 0)
      return fieldError("embedding.max_positions",
                        "required with 'position: LEARNED', must be positive");
  } else if (e.max_positions() != 0) {
    return fieldError("embedding.max_positions",
                      formatv("{0} is given, but there is no learned position "
                              "embedding (set 'position: LEARNED')",
                              e.max_positions()));
  }
  if (e.token_types() < 0)
    return fieldError("embedding.token_types", "must be positive (or 0: none)");
  return llvm::Error::success();
}

llvm::Error resolveHead(model::Model &model) {
  if (model.has_lm_head()) {
    model::LmHead &h = *model.mutable_lm_head();
    if (!model.has_embedding())
      return fieldError("lm_head",
                        "a language-model head needs an embedding (its "
                        "vocab_size is the number of logits): add "
                        "'embedding { vocab_size: V }'");
    if (!h.has_bias())
      h.set_bias(!h.tie_embeddings());
  }
  if (model.has_classifier() && model.classifier().classes() <= 0)
    return fieldError("classifier.classes", "required, must be positive");
  return llvm::Error::success();
}

/// A size field above kMaxModelDimension.
llvm::Error checkDimension(const std::string &field, int64_t value) {
  if (value > kMaxModelDimension)
    return fieldError(field, formatv("{0} exceeds the limit of {1} for any "
                                     "one size",
                                     value, kMaxModelDimension));
  return llvm::Error::success();
}

/// Every size field of the description, against kMaxModelDimension, and
/// the layers in all against kMaxModelLayers: before anything is expanded.
llvm::Error checkSizeFields(const model::Model &model) {
  std::vector<std::pair<std::string, int64_t>> fields = {
      {"d_model", model.d_model()}};
  if (model.has_embedding()) {
    const model::Embedding &e = model.embedding();
    fields.push_back({"embedding.vocab_size", e.vocab_size()});
    fields.push_back({"embedding.max_positions", e.max_positions()});
    fields.push_back({"embedding.token_types", e.token_types()});
  }
  if (model.has_classifier())
    fields.push_back({"classifier.classes", model.classifier().classes()});
  int64_t layers = 0;
  for (int i = 0; i < model.blocks_size(); ++i) {
    const model::Block &b = model.blocks(i);
    std::string path = formatv("blocks[{0}]", i).str();
    if (b.repeat() > kMaxModelLayers - layers)
      return fieldError(path + ".repeat",
                        formatv("{0} would make more than the limit of {1} "
                                "layers in all",
                                b.repeat(), kMaxModelLayers));
    layers += std::max<int64_t>(1, b.repeat());
    if (b.has_dense_attention())
      fields.push_back({path + ".dense_attention.heads",
                        b.dense_attention().heads()});
    if (b.has_smha()) {
      fields.push_back({path + ".smha.heads", b.smha().heads()});
      fields.push_back({path + ".smha.experts", b.smha().experts()});
    }
    if (b.has_dense_mlp())
      fields.push_back({path + ".dense_mlp.hidden", b.dense_mlp().hidden()});
    if (b.has_uome()) {
      fields.push_back({path + ".uome.hidden", b.uome().hidden()});
      fields.push_back({path + ".uome.experts", b.uome().experts()});
      fields.push_back({path + ".uome.patch_size", b.uome().patch_size()});
    }
    if (b.has_moe()) {
      fields.push_back({path + ".moe.hidden", b.moe().hidden()});
      fields.push_back({path + ".moe.experts", b.moe().experts()});
    }
  }
  for (const auto &[field, value] : fields)
    if (auto err = checkDimension(field, value))
      return err;
  return llvm::Error::success();
}

/// The parameters in all against kMaxModelParameters (sizes are bounded by
/// then, so the sums cannot overflow), naming the largest tensor.
llvm::Error checkParameterCount(const model::Model &model) {
  std::vector<ParamSpec> params = modelParameters(model);
  int64_t total = parameterCount(params), largest = 0;
  std::string largestName;
  for (const ParamSpec &p : params)
    if (int64_t n = parameterCount({p}); n > largest) {
      largest = n;
      largestName = p.name;
    }
  if (total > kMaxModelParameters)
    return fieldError("model",
                      formatv("{0} parameters exceed the limit of {1} (the "
                              "largest tensor, '{2}', has {3})",
                              total, kMaxModelParameters, largestName,
                              largest));
  return llvm::Error::success();
}

} // namespace

llvm::Error mlir::uoe::resolveModel(model::Model &model) {
  if (auto err = checkSizeFields(model))
    return err;
  int64_t d = model.d_model();
  if (d <= 0)
    return fieldError("d_model", "required, must be positive");
  if (model.blocks_size() == 0)
    return fieldError("blocks", "at least one block is required");
  if (auto err = resolveEmbedding(model))
    return err;
  if (auto err = resolveHead(model))
    return err;
  if (model.layout() == model::BLOCK_LAYOUT_DEFAULT)
    model.set_layout(model::POST_LN);
  if (!model.has_final_norm())
    model.set_final_norm(model.layout() != model::POST_LN);
  if (model.norm_eps() == 0.0)
    model.set_norm_eps(model.layout() == model::PRE_RMSNORM ? 1e-6 : 1e-5);
  if (!(model.norm_eps() > 0.0))
    return fieldError("norm_eps", "must be positive");
  if (!(model.dropout() >= 0.0 && model.dropout() < 1.0))
    return fieldError("dropout", "must lie in [0, 1)");
  if (model.token_type_ids() &&
      (!model.has_embedding() || model.embedding().token_types() == 0))
    return fieldError("token_type_ids",
                      "the model takes token type ids but has no token-type "
                      "table: set 'embedding { token_types: N }'");
  for (int i = 0; i < model.blocks_size(); ++i)
    if (auto err = resolveBlock(*model.mutable_blocks(i), d,
                                formatv("blocks[{0}]", i).str()))
      return err;
  return checkParameterCount(model);
}

//===----------------------------------------------------------------------===//
// Parameters
//===----------------------------------------------------------------------===//

namespace {

/// Width of the first GEMM's output: doubled for SwiGLU's [gate | up].
int64_t upWidth(int64_t hidden, model::Activation act) {
  return act == model::SWIGLU ? 2 * hidden : hidden;
}

/// Calls `fn(layerIndex, block)` for every layer, expanding `repeat`.
template <typename Fn> void forEachLayer(const model::Model &model, Fn fn) {
  int64_t layer = 0;
  for (const model::Block &block : model.blocks())
    for (int64_t r = 0; r < block.repeat(); ++r)
      fn(layer++, block);
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

//===----------------------------------------------------------------------===//
// IR
//===----------------------------------------------------------------------===//

namespace {

Activation toActivation(model::Activation a) {
  switch (a) {
  case model::GELU_TANH:
    return Activation::GeluTanh;
  case model::RELU:
    return Activation::Relu;
  case model::SILU:
    return Activation::Silu;
  case model::SWIGLU:
    return Activation::SwiGlu;
  default:
    return Activation::Gelu;
  }
}
CombineMode toCombine(model::CombineMode c) {
  return c == model::GATED ? CombineMode::Gated : CombineMode::Union;
}
RouterScore toScore(model::RouterScore s) {
  return s == model::SIGMOID ? RouterScore::Sigmoid : RouterScore::Softmax;
}
RoutingMode toRouting(model::RoutingMode r) {
  return r == model::CAUSAL_SAFE ? RoutingMode::CausalSafe
                                 : RoutingMode::Reference;
}
RopeMode toRope(model::RopeMode r) {
  switch (r) {
  case model::COMPACTED:
    return RopeMode::Compacted;
  case model::ORIGINAL:
    return RopeMode::Original;
  default:
    return RopeMode::None;
  }
}

/// Emits @forward's body, taking parameters in modelParameters() order.
class ForwardBuilder {
public:
  ForwardBuilder(OpBuilder &b, Location loc, const model::Model &model,
                 ValueRange params)
      : b(b), loc(loc), model(model), params(params) {}

  Value next() { return params[used++]; }

  /// Takes the `attention_mask` input (int64 [B, T], 1 = token): attention
  /// layers get `key_padding = (mask == 0)` and the classifier averages over
  /// the tokens, weighted by `keep = (mask != 0)` as f32.
  void setAttentionMask(Value mask) {
    auto type = cast<RankedTensorType>(mask.getType());
    Value zero = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, b.getI64IntegerAttr(0)));
    keyPadding =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, mask, zero);
    Value keepI1 =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, mask, zero);
    keep = arith::UIToFPOp::create(
        b, loc, RankedTensorType::get(type.getShape(), b.getF32Type()),
        keepI1);
  }

  /// The model's norm (LayerNorm, or RMSNorm for PRE_RMSNORM) of `x`.
  Value norm(Value x) {
    Value gamma = next();
    if (model.layout() != model::PRE_RMSNORM)
      return LayerNormOp::create(b, loc, x, gamma, next(),
                                 b.getF64FloatAttr(model.norm_eps()));
    return RmsNormOp::create(b, loc, x, gamma,
                             b.getF64FloatAttr(model.norm_eps()));
  }

  /// Zeros `[e, d]`: the per-expert output biases of a layer whose bias is
  /// shared (added once after the combine by addSharedBias).
  Value zeroExpertBias(int64_t e) {
    auto type = RankedTensorType::get({e, model.d_model()}, b.getF32Type());
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, b.getF32FloatAttr(0.0f)));
  }

  /// `y + bias` for `y: [N0, N1, d]`, `bias: [d]` broadcast over the rows.
  Value addSharedBias(Value y, Value bias) {
    auto type = cast<RankedTensorType>(y.getType());
    Value empty = tensor::EmptyOp::create(b, loc, type.getShape(),
                                          type.getElementType());
    Value broadcast = linalg::BroadcastOp::create(b, loc, bias, empty,
                                                  ArrayRef<int64_t>{0, 1})
                          .getResult()[0];
    return arith::AddFOp::create(b, loc, y, broadcast);
  }

  Value attention(const model::Block &block, Value x) {
    if (block.has_dense_attention()) {
      const auto &a = block.dense_attention();
      Value wqkv = next(), bqkv = next(), wo = next(), bo = next();
      return AttentionOp::create(
          b, loc, x.getType(), x, wqkv, bqkv, wo, bo, keyPadding,
          b.getI64IntegerAttr(a.heads()),
          a.causal() ? b.getUnitAttr() : nullptr,
          RopeModeAttr::get(b.getContext(), toRope(a.rope())),
          b.getF64FloatAttr(a.rope_base()));
    }
    const auto &a = block.smha();
    Value wg = next(), bg = next(), wqkv = next(), bqkv = next(), wo = next(),
          bo = next();
    Value shared;
    if (a.shared_output_bias()) {
      shared = bo;
      bo = zeroExpertBias(a.experts());
    }
    Value y = SmhaOp::create(
        b, loc, x.getType(), x, wg, bg, wqkv, bqkv, wo, bo, keyPadding,
        b.getI64IntegerAttr(a.heads()), b.getI64IntegerAttr(a.top_k()),
        a.causal() ? b.getUnitAttr() : nullptr,
        RopeModeAttr::get(b.getContext(), toRope(a.rope())),
        b.getF64FloatAttr(a.rope_base()),
        CombineModeAttr::get(b.getContext(), toCombine(a.combine())),
        RouterScoreAttr::get(b.getContext(), toScore(a.score())),
        b.getF64FloatAttr(a.eps()), b.getF64FloatAttr(a.norm_capacity()),
        RoutingModeAttr::get(b.getContext(), toRouting(a.routing())));
    return shared ? addSharedBias(y, shared) : y;
  }

  /// [B, T, d] <-> [T, B, d] for UoME's batch layout.
  Value swapBatchAndTime(Value x) {
    auto type = cast<RankedTensorType>(x.getType());
    auto shape = type.getShape();
    Value init = tensor::EmptyOp::create(
        b, loc, ArrayRef<int64_t>{shape[1], shape[0], shape[2]},
        type.getElementType());
    return linalg::TransposeOp::create(b, loc, x, init,
                                       ArrayRef<int64_t>{1, 0, 2})
        .getResult()[0];
  }

  Value mlp(const model::Block &block, Value x) {
    if (block.has_dense_mlp()) {
      Value w1 = next(), b1 = next(), w2 = next(), b2 = next();
      return DenseMlpOp::create(
          b, loc, x.getType(), x, w1, b1, w2, b2,
          ActivationAttr::get(b.getContext(),
                              toActivation(block.dense_mlp().activation())));
    }
    Value wg = next(), bg = next(), w1 = next(), b1 = next(), w2 = next(),
          b2 = next();
    if (block.has_moe()) {
      const auto &m = block.moe();
      return MoeOp::create(
          b, loc, x.getType(), x, wg, bg, w1, b1, w2, b2,
          b.getI64IntegerAttr(m.top_k()),
          m.renormalize() ? b.getUnitAttr() : nullptr,
          ActivationAttr::get(b.getContext(), toActivation(m.activation())),
          RouterScoreAttr::get(b.getContext(), toScore(m.score())));
    }
    const auto &m = block.uome();
    Value shared;
    if (m.shared_output_bias()) {
      shared = b2;
      b2 = zeroExpertBias(m.experts());
    }
    bool batchLayout = m.layout() == model::BATCH;
    Value in = batchLayout ? swapBatchAndTime(x) : x;
    Value y = UomeOp::create(
        b, loc, in.getType(), in, wg, bg, w1, b1, w2, b2,
        b.getI64IntegerAttr(m.top_k()), b.getF64FloatAttr(m.capacity()),
        b.getI64IntegerAttr(m.patch_size()),
        ActivationAttr::get(b.getContext(), toActivation(m.activation())),
        CombineModeAttr::get(b.getContext(), toCombine(m.combine())),
        RouterScoreAttr::get(b.getContext(), toScore(m.score())),
        b.getF64FloatAttr(m.eps()), b.getF64FloatAttr(m.norm_capacity()),
        RoutingModeAttr::get(b.getContext(), toRouting(m.routing())));
    if (batchLayout)
      y = swapBatchAndTime(y);
    return shared ? addSharedBias(y, shared) : y;
  }

  /// One sub-layer: post-LN `LN(x + f(x))`, or pre-norm `x + f(norm(x))`
  /// (PRE_LN, PRE_RMSNORM).
  Value sublayer(Value x, llvm::function_ref<Value(Value)> f) {
    if (model.layout() == model::POST_LN) {
      Value sum = arith::AddFOp::create(b, loc, x, dropoutPoint(f(x)));
      return norm(sum);
    }
    Value normed = norm(x);
    return arith::AddFOp::create(b, loc, x, dropoutPoint(f(normed)));
  }

  /// Marks `x` as a place for training dropout (`model.dropout`): a no-op
  /// `tensor.cast` carrying `uoe.dropout = rate`, which inference folds away
  /// and `--uoe-build-train-step` replaces by a random mask.
  Value dropoutPoint(Value x) {
    if (!(model.dropout() > 0.0))
      return x;
    auto cast = tensor::CastOp::create(b, loc, x.getType(), x);
    cast->setAttr("uoe.dropout", b.getF64FloatAttr(model.dropout()));
    return cast;
  }

  /// Token ids [B, T] to hidden states [B, T, d]: `uoe.embedding`, with the
  /// learned position table when there is one, plus the token-type rows
  /// (a second `uoe.embedding` of `types`, or of zeros without that input),
  /// then the embedding norm.
  Value embed(Value ids, Value types) {
    const model::Embedding &e = model.embedding();
    embeddingTable = next();
    Value positions = e.position() == model::LEARNED ? next() : Value();
    auto idsType = cast<RankedTensorType>(ids.getType());
    SmallVector<int64_t> shape(idsType.getShape());
    shape.push_back(model.d_model());
    auto hiddenType = RankedTensorType::get(shape, b.getF32Type());
    Value x = EmbeddingOp::create(b, loc, hiddenType, ids, embeddingTable,
                                  positions);
    if (e.token_types() > 0) {
      Value typeTable = next();
      if (!types)
        types = arith::ConstantOp::create(
            b, loc, DenseElementsAttr::get(idsType, b.getI64IntegerAttr(0)));
      Value rows =
          EmbeddingOp::create(b, loc, hiddenType, types, typeTable, Value());
      x = arith::AddFOp::create(b, loc, x, rows);
    }
    return dropoutPoint(e.norm() ? norm(x) : x);
  }

  /// A zero-filled tensor (`linalg.fill` of `tensor.empty`).
  Value zeros(ArrayRef<int64_t> shape, Type elementType) {
    Value zero =
        arith::ConstantOp::create(b, loc, b.getFloatAttr(elementType, 0.0));
    Value empty = tensor::EmptyOp::create(b, loc, shape, elementType);
    return linalg::FillOp::create(b, loc, zero, empty).getResult(0);
  }

  /// `x W^T (+ bias)` for `x: [N, K]`, `w: [M, K]`, `bias: [M]`: one
  /// linalg.batch_matmul of batch 1 (which the CPU pipeline hands to BLAS)
  /// of `x` and the transposed weight, accumulating into the bias broadcast
  /// over the rows (or into zeros). Result `[N, M]`.
  Value linearTransposed(Value x, Value w, Value bias) {
    auto xType = cast<RankedTensorType>(x.getType());
    auto wType = cast<RankedTensorType>(w.getType());
    Type f32 = xType.getElementType();
    int64_t n = xType.getShape()[0], k = xType.getShape()[1],
            m = wType.getShape()[0];
    SmallVector<ReassociationIndices> batchOne{{0, 1}, {2}};
    Value lhs = tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get({1, n, k}, f32), x, batchOne);
    Value wt =
        linalg::TransposeOp::create(
            b, loc, w,
            tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{k, m}, f32),
            ArrayRef<int64_t>{1, 0})
            .getResult()[0];
    Value rhs = tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get({1, k, m}, f32), wt, batchOne);
    Value init;
    if (bias) {
      Value empty =
          tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{1, n, m}, f32);
      init = linalg::BroadcastOp::create(b, loc, bias, empty,
                                         ArrayRef<int64_t>{0, 1})
                 .getResult()[0];
    } else {
      init = zeros({1, n, m}, f32);
    }
    Value product =
        linalg::BatchMatmulOp::create(b, loc, TypeRange{init.getType()},
                                      ValueRange{lhs, rhs}, ValueRange{init})
            .getResult(0);
    return tensor::CollapseShapeOp::create(
        b, loc, RankedTensorType::get({n, m}, f32), product, batchOne);
  }

  /// The mean over T of `x: [B, T, d]`: a linalg.reduce (sum, in order of t)
  /// then a division by T. Result `[B, d]`.
  Value meanOverTime(Value x) {
    auto type = cast<RankedTensorType>(x.getType());
    Type f32 = type.getElementType();
    int64_t batch = type.getShape()[0], seq = type.getShape()[1],
            d = type.getShape()[2];
    auto pooledType = RankedTensorType::get({batch, d}, f32);
    Value sum = linalg::ReduceOp::create(
                    b, loc, ValueRange{x}, ValueRange{zeros({batch, d}, f32)},
                    ArrayRef<int64_t>{1},
                    [](OpBuilder &nb, Location nloc, ValueRange args) {
                      Value s =
                          arith::AddFOp::create(nb, nloc, args[0], args[1]);
                      linalg::YieldOp::create(nb, nloc, s);
                    })
                    .getResult(0);
    Value count = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(pooledType, b.getFloatAttr(f32, seq)));
    return arith::DivFOp::create(b, loc, sum, count);
  }

  /// The mean over the tokens of `x: [B, T, d]` whose `keep` is 1: the sum
  /// over t (in order) of keep * x, divided by max(1, the number of tokens),
  /// so that an all-padding row pools to zeros.
  Value maskedMeanOverTime(Value x) {
    auto type = cast<RankedTensorType>(x.getType());
    Type f32 = type.getElementType();
    int64_t batch = type.getShape()[0], d = type.getShape()[2];
    // keep [B, T] -> [B, T, d]; sum[b, c] = sum over t of x * keep, and
    // count[b, c] the number of tokens of row b (upstream ops only, each
    // with a differentiation rule).
    Value empty = tensor::EmptyOp::create(b, loc, type.getShape(), f32);
    Value keep3 = linalg::BroadcastOp::create(b, loc, keep, empty,
                                              ArrayRef<int64_t>{2})
                      .getResult()[0];
    Value kept = arith::MulFOp::create(b, loc, x, keep3);
    auto sumOverTime = [&](Value v) {
      return linalg::ReduceOp::create(
                 b, loc, ValueRange{v}, ValueRange{zeros({batch, d}, f32)},
                 ArrayRef<int64_t>{1},
                 [](OpBuilder &nb, Location nloc, ValueRange a) {
                   Value s = arith::AddFOp::create(nb, nloc, a[0], a[1]);
                   linalg::YieldOp::create(nb, nloc, s);
                 })
          .getResult(0);
    };
    Value sum = sumOverTime(kept), count = sumOverTime(keep3);
    auto pooledType = RankedTensorType::get({batch, d}, f32);
    Value one = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(pooledType, b.getFloatAttr(f32, 1.0)));
    count = arith::MaximumFOp::create(b, loc, count, one);
    return arith::DivFOp::create(b, loc, sum, count);
  }

  /// The head after the last block (and final norm): LM logits [B, T, V],
  /// class logits [B, C] over the mean-pooled states, or `x` itself.
  Value head(Value x) {
    auto type = cast<RankedTensorType>(x.getType());
    Type f32 = type.getElementType();
    int64_t batch = type.getShape()[0], seq = type.getShape()[1],
            d = type.getShape()[2];
    if (model.has_lm_head()) {
      const model::LmHead &h = model.lm_head();
      Value w = h.tie_embeddings() ? embeddingTable : next();
      Value bias = h.bias() ? next() : Value();
      int64_t vocab = model.embedding().vocab_size();
      SmallVector<ReassociationIndices> rows{{0, 1}, {2}};
      Value flat = tensor::CollapseShapeOp::create(
          b, loc, RankedTensorType::get({batch * seq, d}, f32), x, rows);
      Value logits = linearTransposed(flat, w, bias);
      return tensor::ExpandShapeOp::create(
          b, loc, RankedTensorType::get({batch, seq, vocab}, f32), logits,
          rows);
    }
    if (model.has_classifier()) {
      Value w = next(), bias = next();
      return linearTransposed(keep ? maskedMeanOverTime(x) : meanOverTime(x),
                              w, bias);
    }
    return x;
  }

  size_t used = 0;

  /// The padding mask (i1 [B, T], true = padding) the attention layers
  /// take, or null: a block function takes it as an argument.
  Value padding() const { return keyPadding; }
  void setPadding(Value padding) { keyPadding = padding; }

  /// One layer of `block`: its attention and its MLP sub-layer.
  Value layer(const model::Block &block, Value x) {
    if (block.attention_case() != model::Block::ATTENTION_NOT_SET)
      x = sublayer(x, [&](Value in) { return attention(block, in); });
    if (block.mlp_case() != model::Block::MLP_NOT_SET)
      x = sublayer(x, [&](Value in) { return mlp(block, in); });
    return x;
  }

private:
  OpBuilder &b;
  Location loc;
  const model::Model &model;
  ValueRange params;
  /// `embedding.weight`, for a tied LM head.
  Value embeddingTable;
  /// From the attention mask, when the model takes one: i1 [B, T] (true =
  /// padding) and f32 [B, T] (1 = token).
  Value keyPadding, keep;
};

/// Checks the sequence-length constraints of UoME selection.
llvm::Error checkShapes(const model::Model &model, int64_t batch, int64_t seq) {
  if (model.has_embedding() && model.embedding().position() == model::LEARNED &&
      seq > model.embedding().max_positions())
    return fieldError("embedding.max_positions",
                      formatv("the sequence length T = {0} exceeds "
                              "max_positions ({1})",
                              seq, model.embedding().max_positions()));
  for (int i = 0; i < model.blocks_size(); ++i) {
    const model::Block &block = model.blocks(i);
    if (!block.has_uome())
      continue;
    const auto &m = block.uome();
    // Causal-safe routing has no static capacity (patch_size is 1).
    if (m.routing() == model::CAUSAL_SAFE)
      continue;
    int64_t n = m.layout() == model::BATCH ? batch : seq;
    std::string p = formatv("blocks[{0}].uome", i).str();
    if (n % m.patch_size() != 0)
      return fieldError(p + ".patch_size",
                        formatv("{0} does not divide the selection axis ({1})",
                                m.patch_size(), n));
    int64_t patches = n / m.patch_size();
    if (std::floor(m.capacity() * patches) < 1)
      return fieldError(p + ".capacity",
                        formatv("{0} of {1} patches selects none", m.capacity(),
                                patches));
  }
  return llvm::Error::success();
}

} // namespace

llvm::Expected<OwningOpRef<ModuleOp>>
mlir::uoe::importModel(MLIRContext &context, const model::Model &model,
                 int64_t batch, int64_t seq, bool outlineBlocks) {
  if (batch <= 0 || seq <= 0)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        formatv("input shape [{0}, {1}] (batch, sequence length) must be "
                "positive",
                batch, seq));
  if (auto err = checkShapes(model, batch, seq))
    return std::move(err);
  context.loadDialect<UoEDialect, func::FuncDialect, arith::ArithDialect,
                      linalg::LinalgDialect, tensor::TensorDialect>();
  Location loc = FileLineColLoc::get(&context, model.name().empty()
                                                   ? "model"
                                                   : model.name(),
                                     0, 0);
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  OpBuilder b(&context);
  b.setInsertionPointToEnd(module->getBody());

  Type f32 = b.getF32Type();
  int64_t d = model.d_model();
  auto hidden = RankedTensorType::get({batch, seq, d}, f32);
  bool tokens = model.has_embedding();
  Type inputType =
      tokens ? RankedTensorType::get({batch, seq}, b.getI64Type()) : hidden;
  Type resultType = hidden;
  if (model.has_lm_head())
    resultType = RankedTensorType::get(
        {batch, seq, model.embedding().vocab_size()}, f32);
  else if (model.has_classifier())
    resultType =
        RankedTensorType::get({batch, model.classifier().classes()}, f32);

  std::vector<ParamSpec> specs = mlir::uoe::modelParameters(model);
  SmallVector<Type> argTypes{inputType};
  bool masked = model.attention_mask();
  bool typed = model.token_type_ids();
  if (masked)
    argTypes.push_back(RankedTensorType::get({batch, seq}, b.getI64Type()));
  if (typed)
    argTypes.push_back(RankedTensorType::get({batch, seq}, b.getI64Type()));
  unsigned firstParam = 1 + (masked ? 1 : 0) + (typed ? 1 : 0);
  for (const ParamSpec &p : specs)
    argTypes.push_back(RankedTensorType::get(p.shape, f32));
  auto func = func::FuncOp::create(b, loc, "forward",
                                   b.getFunctionType(argTypes, {resultType}));
  func->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  func.setArgAttr(0, "uoe.input",
                  b.getStringAttr(tokens ? "tokens" : "hidden"));
  if (masked)
    func.setArgAttr(1, "uoe.input", b.getStringAttr("attention_mask"));
  if (typed)
    func.setArgAttr(firstParam - 1, "uoe.input",
                    b.getStringAttr("token_type_ids"));
  // Indices into a table: the runtime checks them against its rows.
  if (tokens)
    func.setArgAttr(0, "uoe.index_bound",
                    b.getI64IntegerAttr(model.embedding().vocab_size()));
  if (typed)
    func.setArgAttr(firstParam - 1, "uoe.index_bound",
                    b.getI64IntegerAttr(model.embedding().token_types()));
  for (auto [i, p] : llvm::enumerate(specs))
    func.setArgAttr(i + firstParam, "uoe.param", b.getStringAttr(p.name));
  func.setResultAttr(
      0, "uoe.result",
      b.getStringAttr(model.head_case() == model::Model::HEAD_NOT_SET
                          ? "hidden"
                          : "logits"));

  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  ForwardBuilder fb(b, loc, model, entry->getArguments().drop_front(firstParam));
  if (masked)
    fb.setAttentionMask(entry->getArgument(1));
  Value x = entry->getArgument(0);
  if (tokens)
    x = fb.embed(x, typed ? entry->getArgument(firstParam - 1) : Value());
  if (!outlineBlocks) {
    forEachLayer(model, [&](int64_t, const model::Block &block) {
      x = fb.layer(block, x);
    });
  } else {
    // One private function per block of the description, called once per
    // layer with that layer's parameters: code generation sees each block
    // once, however often it repeats (compile time linear in the blocks,
    // not the layers).
    std::map<const model::Block *, func::FuncOp> blockFunctions;
    size_t firstOfLayer = fb.used;
    forEachLayer(model, [&](int64_t layer, const model::Block &block) {
      std::string prefix = formatv("blocks.{0}.", layer).str();
      size_t count = 0;
      while (firstOfLayer + count < specs.size() &&
             llvm::StringRef(specs[firstOfLayer + count].name)
                 .starts_with(prefix))
        ++count;
      ValueRange layerParams = entry->getArguments().slice(
          firstParam + firstOfLayer, count);
      func::FuncOp &callee = blockFunctions[&block];
      if (!callee) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToEnd(module->getBody());
        SmallVector<Type> types{x.getType()};
        if (fb.padding())
          types.push_back(fb.padding().getType());
        for (Value p : layerParams)
          types.push_back(p.getType());
        callee = func::FuncOp::create(
            b, loc, formatv("block{0}", blockFunctions.size() - 1).str(),
            b.getFunctionType(types, {x.getType()}));
        callee.setPrivate();
        // Kept a call: inlining 16 copies back would undo the point.
        callee->setAttr("passthrough", b.getArrayAttr({b.getStringAttr(
                                           "noinline")}));
        // Static shapes: memrefs cross the call as bare pointers, not as
        // descriptors spread over a dozen scalars each (hundreds of stack
        // stores per call in @forward, which LLVM's code generation handles
        // in time quadratic in their number).
        callee->setAttr("llvm.bareptr", b.getUnitAttr());
        Block *body = callee.addEntryBlock();
        b.setInsertionPointToStart(body);
        unsigned skip = fb.padding() ? 2 : 1;
        ForwardBuilder inner(b, loc, model,
                             body->getArguments().drop_front(skip));
        if (fb.padding())
          inner.setPadding(body->getArgument(1));
        Value y = inner.layer(block, body->getArgument(0));
        func::ReturnOp::create(b, loc, y);
      }
      SmallVector<Value> args{x};
      if (fb.padding())
        args.push_back(fb.padding());
      args.append(layerParams.begin(), layerParams.end());
      x = func::CallOp::create(b, loc, callee, args).getResult(0);
      firstOfLayer += count;
    });
    fb.used = firstOfLayer;
  }
  if (model.final_norm())
    x = fb.norm(x);
  x = fb.head(x);
  func::ReturnOp::create(b, loc, x);
  if (fb.used != specs.size())
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        formatv("internal error: @forward used {0} of {1} parameters", fb.used,
                specs.size()));
  if (failed(mlir::verify(*module)))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "internal error: the imported model does "
                                   "not verify");
  return std::move(module);
}
