//===- HfImport.cpp - Hugging Face checkpoints to uoe models -------------===//
//
// Three steps. (1) Read config.json (llvm::json) and check every field the
// architecture depends on: anything we cannot reproduce exactly (another
// model_type, relative or rotary positions, a decoder BERT, cross
// attention, an activation we lack, GPT-2's per-layer attention scaling) is
// an error naming the field, never an approximation. (2) Read the tensors
// of model.safetensors (any dtype the runtime reads, converted to f32) into
// one dense layout: `x W` weights [in, out] (BERT's nn.Linear weights are
// transposed, GPT-2's Conv1D ones already are [in, out]; GPT-2's fused
// c_attn is split into Wq, Wk, Wv). Every tensor is either used or listed
// as ignored with a reason; a tensor we do not know is an error. (3) Emit
// the description and the weights in docs/MODEL_FORMAT.md's names, dense or
// decomposed as spec §1 says, and check them against modelParameters().
//
//===----------------------------------------------------------------------===//

#include "frontend/hf/HfImport.h"

#include "frontend/ModelImporter.h"
#include "formats/Safetensors.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <functional>
#include <map>
#include <numeric>
#include <set>
#include <sstream>

using namespace mlir::uoe;
using namespace mlir::uoe::hf;
namespace rt = ::uoe::rt;
using llvm::formatv;

namespace {

llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 message.str());
}

/// `v` as the shortest text that reads back the same (1.5, 0.5, 1e-12).
std::string str(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

/// A row-major f32 tensor.
struct Mat {
  std::vector<int64_t> shape;
  std::vector<float> v;
};

//===----------------------------------------------------------------------===//
// config.json
//===----------------------------------------------------------------------===//

/// The fields of config.json, read with defaults; errors name the file and
/// the field. A `null` value counts as absent (GPT-2's `n_inner: null`).
class Config {
public:
  static llvm::Expected<Config> load(const std::string &path) {
    auto buffer = llvm::MemoryBuffer::getFile(path);
    if (!buffer)
      return error("cannot read " + path + ": " + buffer.getError().message() +
                   " (a Hugging Face checkpoint directory holds config.json "
                   "and model.safetensors)");
    auto parsed = llvm::json::parse((*buffer)->getBuffer());
    if (!parsed)
      return error(path + ": malformed JSON: " +
                   llvm::toString(parsed.takeError()));
    if (!parsed->getAsObject())
      return error(path + ": malformed: the top level is not a JSON object");
    Config c;
    c.path = path;
    c.object = std::move(*parsed->getAsObject());
    return c;
  }

  bool has(llvm::StringRef key) const {
    const llvm::json::Value *v = object.get(key);
    return v && v->kind() != llvm::json::Value::Null;
  }

  llvm::Expected<int64_t> integer(llvm::StringRef key,
                                  std::optional<int64_t> def = std::nullopt,
                                  bool positive = true) const {
    if (!has(key)) {
      if (def)
        return *def;
      return missing(key);
    }
    std::optional<int64_t> i = object.get(key)->getAsInteger();
    if (!i)
      return error(formatv("{0}: {1} must be an integer, got {2}", path, key,
                           render(key)));
    if (positive && *i <= 0)
      return error(formatv("{0}: {1} must be positive, got {2}", path, key, *i));
    return *i;
  }

  llvm::Expected<double> number(llvm::StringRef key, double def) const {
    if (!has(key))
      return def;
    std::optional<double> d = object.get(key)->getAsNumber();
    if (!d || !(*d > 0.0))
      return error(formatv("{0}: {1} must be a positive number, got {2}", path,
                           key, render(key)));
    return *d;
  }

  llvm::Expected<std::string>
  string(llvm::StringRef key,
         std::optional<std::string> def = std::nullopt) const {
    if (!has(key)) {
      if (def)
        return *def;
      return missing(key);
    }
    std::optional<llvm::StringRef> s = object.get(key)->getAsString();
    if (!s)
      return error(formatv("{0}: {1} must be a string, got {2}", path, key,
                           render(key)));
    return s->str();
  }

  llvm::Expected<bool> boolean(llvm::StringRef key, bool def) const {
    if (!has(key))
      return def;
    std::optional<bool> b = object.get(key)->getAsBoolean();
    if (!b)
      return error(formatv("{0}: {1} must be true or false, got {2}", path,
                           key, render(key)));
    return *b;
  }

  /// An error for a field whose value we cannot import.
  llvm::Error unsupported(llvm::StringRef key, const llvm::Twine &why) const {
    return error(formatv("{0}: {1} {2} is not supported ({3})", path, key,
                         render(key), why.str()));
  }

  std::string path;

private:
  llvm::Error missing(llvm::StringRef key) const {
    return error(formatv("{0}: required field {1} is missing", path, key));
  }
  std::string render(llvm::StringRef key) const {
    std::string out;
    llvm::raw_string_ostream os(out);
    os << *object.get(key);
    return out;
  }
  llvm::json::Object object;
};

//===----------------------------------------------------------------------===//
// model.safetensors
//===----------------------------------------------------------------------===//

/// The checkpoint's tensors, taken by name (after the family's optional
/// prefix) and shape; remembers which were used.
class Checkpoint {
public:
  static llvm::Expected<Checkpoint> load(const std::string &dir) {
    std::string path = (llvm::Twine(dir) + "/model.safetensors").str();
    if (!llvm::sys::fs::exists(path)) {
      std::string index = path + ".index.json";
      if (llvm::sys::fs::exists(index))
        return error(index + ": sharded checkpoints are not supported; "
                             "merge the shards into one model.safetensors");
      if (llvm::sys::fs::exists(dir + "/pytorch_model.bin"))
        return error(path + " is missing: only safetensors checkpoints are "
                            "read (pytorch_model.bin is a pickle; convert it "
                            "with transformers' save_pretrained)");
      return error(path + " is missing");
    }
    auto contents = rt::readSafetensors(path);
    if (!contents.ok())
      return error(contents.status().toString());
    Checkpoint c;
    c.path = path;
    c.contents = std::move(*contents);
    return c;
  }

  /// Uses `prefix` when some tensor name starts with it.
  void choosePrefix(llvm::StringRef candidate) {
    for (const auto &entry : contents.tensors)
      if (llvm::StringRef(entry.first).starts_with(candidate)) {
        prefix = candidate.str();
        return;
      }
  }

  bool has(llvm::StringRef name) const {
    return contents.find(prefix + name.str()) != nullptr;
  }

  /// The tensor `prefix + name` as f32, checked against `shape`. BERT's
  /// old LayerNorm names (`gamma`, `beta`) are accepted for `weight`, `bias`.
  llvm::Expected<Mat> take(llvm::StringRef name,
                           const std::vector<int64_t> &shape) {
    std::string full = prefix + name.str();
    const rt::HostTensor *t = contents.find(full);
    if (!t && name.contains("LayerNorm.")) {
      std::string old = full;
      if (name.ends_with(".weight"))
        old = full.substr(0, full.size() - 6) + "gamma";
      else if (name.ends_with(".bias"))
        old = full.substr(0, full.size() - 4) + "beta";
      if ((t = contents.find(old)))
        full = old;
    }
    if (!t)
      return error(path + ": tensor '" + full + "' is missing");
    if (t->shape() != shape)
      return error(path + ": tensor '" + full + "' is " + t->typeString() +
                   ", expected shape " + rt::shapeToString(shape));
    auto f32 = t->toF32();
    if (!f32.ok())
      return error(path + ": tensor '" + full + "': " +
                   f32.status().toString());
    used.insert(full);
    Mat m;
    m.shape = shape;
    const float *data = f32->data<float>();
    m.v.assign(data, data + f32->numElements());
    return m;
  }

  /// The tensors not taken, sorted.
  std::vector<std::string> unused() const {
    std::vector<std::string> out;
    for (const auto &entry : contents.tensors)
      if (!used.count(entry.first))
        out.push_back(entry.first);
    return out;
  }

  std::string path, prefix;

private:
  rt::SafetensorsContents contents;
  std::set<std::string> used;
};

//===----------------------------------------------------------------------===//
// The dense model, in x W layouts
//===----------------------------------------------------------------------===//

struct DenseLayer {
  Mat wq, wk, wv, bq, bk, bv, wo, bo; // [d, d] (in, out), [d]
  Mat norm1Weight, norm1Bias;         // after attention (post-LN) / before
  Mat w1, b1, w2, b2;                 // [d, F], [F], [F, d], [d]
  Mat norm2Weight, norm2Bias;
};

struct DenseModel {
  std::string family;
  int64_t d = 0, heads = 0, hidden = 0, vocab = 0, positions = 0, types = 0;
  double eps = 1e-5;
  model::Activation activation = model::GELU;
  bool causal = false, postLn = false;
  Mat tokenTable, positionTable, typeTable, embNormWeight, embNormBias;
  std::vector<DenseLayer> layers;
  Mat finalWeight, finalBias;
  bool lmHead = false, tied = true;
  Mat lmHeadWeight; // untied only
};

/// `[out, in]` (nn.Linear) to `[in, out]`.
Mat transposed(Mat m) {
  int64_t rows = m.shape[0], cols = m.shape[1];
  Mat t;
  t.shape = {cols, rows};
  t.v.resize(m.v.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      t.v[c * rows + r] = m.v[r * cols + c];
  return t;
}

/// Columns `[start, start + width)` of `m: [rows, cols]` (or of a vector).
Mat columns(const Mat &m, int64_t start, int64_t width) {
  int64_t rows = m.shape.size() == 1 ? 1 : m.shape[0];
  int64_t cols = m.shape.back();
  Mat out;
  out.shape = m.shape.size() == 1 ? std::vector<int64_t>{width}
                                  : std::vector<int64_t>{rows, width};
  out.v.reserve(rows * width);
  for (int64_t r = 0; r < rows; ++r)
    out.v.insert(out.v.end(), m.v.begin() + r * cols + start,
                 m.v.begin() + r * cols + start + width);
  return out;
}

/// Maps a Hugging Face activation name to ours; error naming `key`.
llvm::Expected<model::Activation> activationOf(const Config &config,
                                               llvm::StringRef key,
                                               llvm::StringRef def) {
  auto name = config.string(key, def.str());
  if (!name)
    return name.takeError();
  if (*name == "gelu")
    return model::GELU;
  if (*name == "gelu_new" || *name == "gelu_pytorch_tanh")
    return model::GELU_TANH;
  if (*name == "relu")
    return model::RELU;
  if (*name == "silu" || *name == "swish")
    return model::SILU;
  return config.unsupported(
      key, "supported: gelu, gelu_new, gelu_pytorch_tanh, relu, silu, swish");
}

/// Checks the configuration fields that would change the architecture.
llvm::Error rejectIfSet(const Config &config, llvm::StringRef key,
                        const char *why) {
  auto b = config.boolean(key, false);
  if (!b)
    return b.takeError();
  if (*b)
    return config.unsupported(key, why);
  return llvm::Error::success();
}

#define TRY_ASSIGN(var, expr)                                                  \
  auto var##OrErr = (expr);                                                    \
  if (!var##OrErr)                                                             \
    return var##OrErr.takeError();                                             \
  auto var = std::move(*var##OrErr)

#define TRY(expr)                                                              \
  if (llvm::Error err = (expr))                                                \
  return err

llvm::Error checkHeads(const Config &config, llvm::StringRef dKey,
                       llvm::StringRef hKey, int64_t d, int64_t heads) {
  if (d % heads != 0)
    return error(formatv("{0}: {1} ({2}) does not divide {3} ({4})",
                         config.path, hKey, heads, dKey, d));
  return llvm::Error::success();
}

/// BERT (BertModel, BertForMaskedLM, BertFor*: the encoder only).
llvm::Expected<DenseModel> readBert(const Config &config, Checkpoint &ckpt) {
  DenseModel m;
  m.family = "bert";
  m.postLn = true;
  TRY_ASSIGN(d, config.integer("hidden_size"));
  TRY_ASSIGN(heads, config.integer("num_attention_heads"));
  TRY_ASSIGN(layers, config.integer("num_hidden_layers"));
  TRY_ASSIGN(hidden, config.integer("intermediate_size"));
  TRY_ASSIGN(vocab, config.integer("vocab_size"));
  TRY_ASSIGN(positions, config.integer("max_position_embeddings"));
  TRY_ASSIGN(types, config.integer("type_vocab_size", 2));
  TRY_ASSIGN(eps, config.number("layer_norm_eps", 1e-12));
  TRY_ASSIGN(act, activationOf(config, "hidden_act", "gelu"));
  TRY_ASSIGN(position, config.string("position_embedding_type", "absolute"));
  if (position != "absolute")
    return config.unsupported("position_embedding_type",
                              "only absolute (learned) positions are imported");
  TRY(rejectIfSet(config, "is_decoder",
                  "a decoder BERT (causal self-attention) is not imported"));
  TRY(rejectIfSet(config, "add_cross_attention",
                  "cross-attention is not imported"));
  TRY(checkHeads(config, "hidden_size", "num_attention_heads", d, heads));
  m.d = d;
  m.heads = heads;
  m.hidden = hidden;
  m.vocab = vocab;
  m.positions = positions;
  m.types = types;
  m.eps = eps;
  m.activation = act;

  ckpt.choosePrefix("bert.");
  std::string e = "embeddings.";
  TRY_ASSIGN(tokens, ckpt.take(e + "word_embeddings.weight", {vocab, d}));
  TRY_ASSIGN(pos, ckpt.take(e + "position_embeddings.weight", {positions, d}));
  TRY_ASSIGN(typ, ckpt.take(e + "token_type_embeddings.weight", {types, d}));
  TRY_ASSIGN(nw, ckpt.take(e + "LayerNorm.weight", {d}));
  TRY_ASSIGN(nb, ckpt.take(e + "LayerNorm.bias", {d}));
  m.tokenTable = std::move(tokens);
  m.positionTable = std::move(pos);
  m.typeTable = std::move(typ);
  m.embNormWeight = std::move(nw);
  m.embNormBias = std::move(nb);
  for (int64_t l = 0; l < layers; ++l) {
    std::string p = formatv("encoder.layer.{0}.", l).str();
    DenseLayer layer;
    auto linear = [&](const std::string &name, int64_t out, int64_t in,
                      Mat &w, Mat &b) -> llvm::Error {
      auto weight = ckpt.take(p + name + ".weight", {out, in});
      if (!weight)
        return weight.takeError();
      auto bias = ckpt.take(p + name + ".bias", {out});
      if (!bias)
        return bias.takeError();
      w = transposed(std::move(*weight));
      b = std::move(*bias);
      return llvm::Error::success();
    };
    auto norm = [&](const std::string &name, Mat &w, Mat &b) -> llvm::Error {
      auto weight = ckpt.take(p + name + ".weight", {d});
      if (!weight)
        return weight.takeError();
      auto bias = ckpt.take(p + name + ".bias", {d});
      if (!bias)
        return bias.takeError();
      w = std::move(*weight);
      b = std::move(*bias);
      return llvm::Error::success();
    };
    TRY(linear("attention.self.query", d, d, layer.wq, layer.bq));
    TRY(linear("attention.self.key", d, d, layer.wk, layer.bk));
    TRY(linear("attention.self.value", d, d, layer.wv, layer.bv));
    TRY(linear("attention.output.dense", d, d, layer.wo, layer.bo));
    TRY(norm("attention.output.LayerNorm", layer.norm1Weight,
             layer.norm1Bias));
    TRY(linear("intermediate.dense", hidden, d, layer.w1, layer.b1));
    TRY(linear("output.dense", d, hidden, layer.w2, layer.b2));
    TRY(norm("output.LayerNorm", layer.norm2Weight, layer.norm2Bias));
    m.layers.push_back(std::move(layer));
  }
  return m;
}

/// GPT-2 (GPT2Model, GPT2LMHeadModel): with an LM head, tied or not.
llvm::Expected<DenseModel> readGpt2(const Config &config, Checkpoint &ckpt) {
  DenseModel m;
  m.family = "gpt2";
  m.causal = true;
  m.lmHead = true;
  TRY_ASSIGN(d, config.integer("n_embd"));
  TRY_ASSIGN(heads, config.integer("n_head"));
  TRY_ASSIGN(layers, config.integer("n_layer"));
  TRY_ASSIGN(hidden, config.integer("n_inner", 4 * d));
  TRY_ASSIGN(vocab, config.integer("vocab_size"));
  TRY_ASSIGN(positions, config.integer("n_positions"));
  TRY_ASSIGN(eps, config.number("layer_norm_epsilon", 1e-5));
  TRY_ASSIGN(act, activationOf(config, "activation_function", "gelu_new"));
  TRY_ASSIGN(tied, config.boolean("tie_word_embeddings", true));
  TRY_ASSIGN(scaled, config.boolean("scale_attn_weights", true));
  if (!scaled)
    return config.unsupported("scale_attn_weights",
                              "attention scores are always divided by "
                              "sqrt(head width)");
  TRY(rejectIfSet(config, "scale_attn_by_inverse_layer_idx",
                  "per-layer attention scaling is not imported"));
  TRY(rejectIfSet(config, "add_cross_attention",
                  "cross-attention is not imported"));
  TRY(checkHeads(config, "n_embd", "n_head", d, heads));
  m.d = d;
  m.heads = heads;
  m.hidden = hidden;
  m.vocab = vocab;
  m.positions = positions;
  m.eps = eps;
  m.activation = act;
  m.tied = tied;

  ckpt.choosePrefix("transformer.");
  TRY_ASSIGN(wte, ckpt.take("wte.weight", {vocab, d}));
  TRY_ASSIGN(wpe, ckpt.take("wpe.weight", {positions, d}));
  m.tokenTable = std::move(wte);
  m.positionTable = std::move(wpe);
  for (int64_t l = 0; l < layers; ++l) {
    std::string p = formatv("h.{0}.", l).str();
    DenseLayer layer;
    // Conv1D: y = x W + b with W [in, out], our layout already.
    auto conv = [&](const std::string &name, int64_t in, int64_t out, Mat &w,
                    Mat &b) -> llvm::Error {
      auto weight = ckpt.take(p + name + ".weight", {in, out});
      if (!weight)
        return weight.takeError();
      auto bias = ckpt.take(p + name + ".bias", {out});
      if (!bias)
        return bias.takeError();
      w = std::move(*weight);
      b = std::move(*bias);
      return llvm::Error::success();
    };
    auto norm = [&](const std::string &name, Mat &w, Mat &b) -> llvm::Error {
      auto weight = ckpt.take(p + name + ".weight", {d});
      if (!weight)
        return weight.takeError();
      auto bias = ckpt.take(p + name + ".bias", {d});
      if (!bias)
        return bias.takeError();
      w = std::move(*weight);
      b = std::move(*bias);
      return llvm::Error::success();
    };
    Mat cAttn, cAttnBias;
    TRY(norm("ln_1", layer.norm1Weight, layer.norm1Bias));
    TRY(conv("attn.c_attn", d, 3 * d, cAttn, cAttnBias));
    TRY(conv("attn.c_proj", d, d, layer.wo, layer.bo));
    TRY(norm("ln_2", layer.norm2Weight, layer.norm2Bias));
    TRY(conv("mlp.c_fc", d, hidden, layer.w1, layer.b1));
    TRY(conv("mlp.c_proj", hidden, d, layer.w2, layer.b2));
    // c_attn's columns are [q | k | v].
    layer.wq = columns(cAttn, 0, d);
    layer.wk = columns(cAttn, d, d);
    layer.wv = columns(cAttn, 2 * d, d);
    layer.bq = columns(cAttnBias, 0, d);
    layer.bk = columns(cAttnBias, d, d);
    layer.bv = columns(cAttnBias, 2 * d, d);
    m.layers.push_back(std::move(layer));
  }
  TRY_ASSIGN(fw, ckpt.take("ln_f.weight", {d}));
  TRY_ASSIGN(fb, ckpt.take("ln_f.bias", {d}));
  m.finalWeight = std::move(fw);
  m.finalBias = std::move(fb);
  // The LM head sits outside the `transformer.` prefix.
  std::string prefix = ckpt.prefix;
  ckpt.prefix = "";
  if (!tied) {
    TRY_ASSIGN(head, ckpt.take("lm_head.weight", {vocab, d}));
    m.lmHeadWeight = std::move(head);
  }
  ckpt.prefix = prefix;
  return m;
}

/// Why a tensor the import does not use may be left out; empty when it may
/// not (an unknown tensor could change the model).
std::string ignoredReason(const DenseModel &m, llvm::StringRef name) {
  if (m.family == "bert") {
    if (name.starts_with("cls."))
      return "a pre-training head (the import's output is the encoder's "
             "last_hidden_state)";
    if (name.contains("pooler."))
      return "the pooler (out of scope: the output is last_hidden_state)";
    if (name.ends_with("embeddings.position_ids"))
      return "a buffer (positions are 0..T-1)";
    if (name.starts_with("classifier.") || name.starts_with("qa_outputs."))
      return "a task head (the output is last_hidden_state)";
    return "";
  }
  if (name.ends_with(".attn.bias") || name.ends_with(".attn.masked_bias"))
    return "the causal-mask buffer (attention is causal)";
  if (name == "lm_head.weight" && m.tied)
    return "tied to wte (tie_word_embeddings)";
  return "";
}

//===----------------------------------------------------------------------===//
// Emission
//===----------------------------------------------------------------------===//

Mat stack(std::vector<Mat> parts, std::vector<int64_t> shape) {
  Mat out;
  out.shape = std::move(shape);
  for (Mat &p : parts)
    out.v.insert(out.v.end(), p.v.begin(), p.v.end());
  return out;
}

Mat vec(std::vector<float> v, std::vector<int64_t> shape) {
  Mat m;
  m.shape = std::move(shape);
  m.v = std::move(v);
  return m;
}

/// Spec §1 for attention: expert e owns columns [e*De, (e+1)*De) of Wq,
/// Wk, Wv (and their biases) and rows [e*De, (e+1)*De) of Wo. Router as
/// splitMlp's, from the expert's query columns.
void splitAttention(const DenseLayer &l, int64_t d, int64_t experts,
                    std::map<std::string, Mat> &out, const std::string &p) {
  int64_t de = d / experts;
  std::vector<Mat> w, b;
  for (const Mat *m : {&l.wq, &l.wk, &l.wv})
    for (int64_t e = 0; e < experts; ++e)
      w.push_back(columns(*m, e * de, de));
  for (const Mat *m : {&l.bq, &l.bk, &l.bv})
    for (int64_t e = 0; e < experts; ++e)
      b.push_back(columns(*m, e * de, de));
  ExpertMlp router = splitMlp(l.wq.v, l.bq.v, l.wo.v, d, d, experts);
  out[p + "attn.router.weight"] = vec(router.routerWeight, {experts, d});
  out[p + "attn.router.bias"] = vec(router.routerBias, {experts});
  out[p + "attn.wqkv"] = stack(std::move(w), {3, experts, d, de});
  out[p + "attn.bqkv"] = stack(std::move(b), {3, experts, de});
  // Row blocks of Wo [d, d] are contiguous: [E, De, d] is the same data.
  out[p + "attn.wo"] = vec(l.wo.v, {experts, de, d});
  out[p + "attn.bo"] = l.bo;
}

/// The description and weights of `m` under `options`.
llvm::Expected<ImportedModel> emit(const DenseModel &m,
                                   const ImportOptions &options) {
  ImportedModel result;
  result.family = m.family;
  model::Model &desc = result.model;
  desc.set_name(options.name.empty() ? m.family : options.name);
  desc.set_d_model(m.d);
  desc.set_layout(m.postLn ? model::POST_LN : model::PRE_LN);
  desc.set_norm_eps(m.eps);
  desc.set_final_norm(!m.postLn);
  desc.set_attention_mask(options.attentionMask.value_or(m.family == "bert"));
  desc.set_token_type_ids(options.tokenTypeIds);
  if (options.tokenTypeIds && m.types == 0)
    return error("--inputs: token_type_ids, but a " + m.family +
                 " model has no token types");
  model::Embedding &emb = *desc.mutable_embedding();
  emb.set_vocab_size(m.vocab);
  emb.set_position(model::LEARNED);
  emb.set_max_positions(m.positions);
  emb.set_token_types(m.types);
  emb.set_norm(m.postLn);

  int64_t ea = options.attentionExperts, em = options.mlpExperts;
  if (ea > 0 && m.heads % ea != 0)
    return error(formatv("--attention-experts: {0} does not divide the {1} "
                         "attention heads",
                         ea, m.heads));
  if (em > 0 && m.hidden % em != 0)
    return error(formatv("--decompose: {0} does not divide the MLP width {1} "
                         "({2})",
                         em, m.family == "bert" ? "intermediate_size"
                                                : "n_inner",
                         m.hidden));
  if (ea == 0 && options.attentionTopK)
    return error("--attention-top-k: attention is not decomposed "
                 "(--attention-experts 0)");
  int64_t topM = options.topK ? options.topK : em;
  int64_t topA = options.attentionTopK ? options.attentionTopK : ea;
  if (em > 0 && (topM < 1 || topM > em))
    return error(formatv("--top-k: {0} must be between 1 and the experts ({1})",
                         topM, em));
  if (ea > 0 && (topA < 1 || topA > ea))
    return error(formatv("--attention-top-k: {0} must be between 1 and the "
                         "attention experts ({1})",
                         topA, ea));
  double capacity = options.capacity ? *options.capacity
                     : em > 0        ? static_cast<double>(topM) / em
                                     : 1.0;
  if (!(capacity > 0.0 && capacity <= 1.0))
    return error("--capacity: " + str(capacity) + " must be in (0, 1]");
  if (em > 0 && topM < em && capacity >= 1.0)
    return error(formatv("--top-k {0} with --capacity 1: every expert would "
                         "keep every token, so the model would equal the "
                         "dense one; give a capacity below 1 (without "
                         "--capacity: top_k / experts = {1})",
                         topM, str(static_cast<double>(topM) / em)));

  model::Block &block = *desc.add_blocks();
  block.set_repeat(static_cast<int64_t>(m.layers.size()));
  if (ea > 0) {
    model::Smha &a = *block.mutable_smha();
    a.set_heads(m.heads);
    a.set_experts(ea);
    a.set_top_k(topA);
    a.set_causal(m.causal);
    a.set_combine(options.combine);
    a.set_shared_output_bias(true);
  } else {
    model::DenseAttention &a = *block.mutable_dense_attention();
    a.set_heads(m.heads);
    a.set_causal(m.causal);
  }
  if (em > 0) {
    model::Uome &u = *block.mutable_uome();
    u.set_hidden(m.hidden);
    u.set_experts(em);
    u.set_top_k(topM);
    u.set_capacity(capacity);
    u.set_activation(m.activation);
    u.set_combine(options.combine);
    u.set_shared_output_bias(true);
  } else {
    model::DenseMlp &mlp = *block.mutable_dense_mlp();
    mlp.set_hidden(m.hidden);
    mlp.set_activation(m.activation);
  }
  if (m.lmHead) {
    model::LmHead &h = *desc.mutable_lm_head();
    h.set_tie_embeddings(m.tied);
    h.set_bias(false);
  }

  std::map<std::string, Mat> named;
  named["embedding.weight"] = m.tokenTable;
  named["position_embedding.weight"] = m.positionTable;
  if (m.types > 0)
    named["token_type_embedding.weight"] = m.typeTable;
  if (m.postLn) {
    named["embedding_norm.weight"] = m.embNormWeight;
    named["embedding_norm.bias"] = m.embNormBias;
  }
  for (size_t i = 0; i < m.layers.size(); ++i) {
    const DenseLayer &l = m.layers[i];
    std::string p = formatv("blocks.{0}.", i).str();
    if (ea > 0) {
      splitAttention(l, m.d, ea, named, p);
    } else {
      named[p + "attn.wqkv"] = stack({l.wq, l.wk, l.wv}, {3, m.d, m.d});
      named[p + "attn.bqkv"] = stack({l.bq, l.bk, l.bv}, {3, m.d});
      named[p + "attn.wo"] = l.wo;
      named[p + "attn.bo"] = l.bo;
    }
    named[p + "norm1.weight"] = l.norm1Weight;
    named[p + "norm1.bias"] = l.norm1Bias;
    if (em > 0) {
      ExpertMlp s = splitMlp(l.w1.v, l.b1.v, l.w2.v, m.d, m.hidden, em);
      int64_t fe = m.hidden / em;
      named[p + "mlp.router.weight"] = vec(s.routerWeight, {em, m.d});
      named[p + "mlp.router.bias"] = vec(s.routerBias, {em});
      named[p + "mlp.w1"] = vec(s.w1s, {em, m.d, fe});
      named[p + "mlp.b1"] = vec(s.b1s, {em, fe});
      named[p + "mlp.w2"] = vec(s.w2s, {em, fe, m.d});
      named[p + "mlp.b2"] = l.b2;
    } else {
      named[p + "mlp.w1"] = l.w1;
      named[p + "mlp.b1"] = l.b1;
      named[p + "mlp.w2"] = l.w2;
      named[p + "mlp.b2"] = l.b2;
    }
    named[p + "norm2.weight"] = l.norm2Weight;
    named[p + "norm2.bias"] = l.norm2Bias;
  }
  if (!m.postLn) {
    named["final_norm.weight"] = m.finalWeight;
    named["final_norm.bias"] = m.finalBias;
  }
  if (m.lmHead && !m.tied)
    named["lm_head.weight"] = m.lmHeadWeight;

  // The description must resolve and ask for exactly these tensors.
  model::Model resolved = desc;
  if (llvm::Error err = resolveModel(resolved))
    return error("internal error: the imported description does not "
                 "resolve: " +
                 llvm::toString(std::move(err)));
  std::vector<ParamSpec> specs = modelParameters(resolved);
  if (specs.size() != named.size())
    return error(formatv("internal error: the description takes {0} weights, "
                         "the import made {1}",
                         specs.size(), named.size()));
  for (const ParamSpec &spec : specs) {
    auto it = named.find(spec.name);
    if (it == named.end() || it->second.shape != spec.shape ||
        static_cast<int64_t>(it->second.v.size()) !=
            std::accumulate(spec.shape.begin(), spec.shape.end(), int64_t{1},
                            std::multiplies<int64_t>()))
      return error("internal error: weight '" + spec.name +
                   "' is missing or mis-shaped");
    auto t = rt::HostTensor::fromVector(rt::DType::F32, spec.shape,
                                        it->second.v);
    if (!t.ok())
      return error(t.status().toString());
    result.weights.emplace_back(spec.name, std::move(*t));
  }
  result.summary =
      formatv("{0}: {1} layers, d_model {2}, {3} heads, MLP width {4}, vocab "
              "{5}, {6} positions",
              m.family, m.layers.size(), m.d, m.heads, m.hidden, m.vocab,
              m.positions)
          .str();
  if (ea > 0 || em > 0)
    result.summary += formatv("; decomposed: attention into {0} head-group "
                              "experts (top {1}), MLP into {2} experts (top "
                              "{3}, capacity {4})",
                              ea, topA, em, topM, str(capacity))
                          .str();
  return result;
}

} // namespace

ExpertMlp mlir::uoe::hf::splitMlp(const std::vector<float> &w1,
                                  const std::vector<float> &b1,
                                  const std::vector<float> &w2, int64_t d,
                                  int64_t hidden, int64_t experts) {
  int64_t fe = hidden / experts;
  ExpertMlp out;
  out.w1s.reserve(experts * d * fe);
  out.routerWeight.assign(experts * d, 0.0f);
  out.routerBias.assign(experts, 0.0f);
  for (int64_t e = 0; e < experts; ++e) {
    for (int64_t i = 0; i < d; ++i) {
      double sum = 0.0;
      for (int64_t j = 0; j < fe; ++j) {
        float w = w1[i * hidden + e * fe + j];
        out.w1s.push_back(w);
        sum += w;
      }
      out.routerWeight[e * d + i] = static_cast<float>(sum / fe);
    }
    double bias = 0.0;
    for (int64_t j = 0; j < fe; ++j) {
      out.b1s.push_back(b1[e * fe + j]);
      bias += b1[e * fe + j];
    }
    out.routerBias[e] = static_cast<float>(bias / fe);
  }
  // Row blocks of W2 [F, d] are contiguous: [E, Fe, d] is the same data.
  out.w2s = w2;
  return out;
}

llvm::Expected<ImportedModel>
mlir::uoe::hf::importCheckpoint(llvm::StringRef dir,
                                const ImportOptions &options) {
  std::string configPath = (dir + "/config.json").str();
  auto config = Config::load(configPath);
  if (!config)
    return config.takeError();
  auto type = config->string("model_type");
  if (!type)
    return type.takeError();
  if (*type != "bert" && *type != "gpt2")
    return error(formatv("{0}: model_type \"{1}\" is not supported "
                         "(supported: bert, gpt2)",
                         configPath, *type));
  auto ckpt = Checkpoint::load(dir.str());
  if (!ckpt)
    return ckpt.takeError();
  auto dense = *type == "bert" ? readBert(*config, *ckpt)
                               : readGpt2(*config, *ckpt);
  if (!dense)
    return dense.takeError();
  std::vector<IgnoredTensor> ignored;
  for (const std::string &name : ckpt->unused()) {
    std::string reason = ignoredReason(*dense, name);
    if (reason.empty())
      return error(ckpt->path + ": tensor '" + name + "' is not part of a " +
                   *type +
                   " model as imported (an unsupported variant of the "
                   "architecture?)");
    ignored.push_back({name, reason});
  }
  auto result = emit(*dense, options);
  if (!result)
    return result.takeError();
  result->ignored = std::move(ignored);
  return result;
}
