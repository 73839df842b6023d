//===- ModelDescription.cpp - parsing, defaults and checks ---------------===//
//
// See ModelDescription.h. Parsing is strict (unknown fields are errors);
// defaults follow docs/MODEL_FORMAT.md; every check names the field at
// fault, so that a user fixes the description, not the IR.
//
//===----------------------------------------------------------------------===//

#include "frontend/ModelDescription.h"

#include "frontend/ModelParameters.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cmath>
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

} // namespace

llvm::Error mlir::uoe::fieldError(const std::string &field,
                                  const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 field + ": " + message);
}

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
