//===- HfImport.h - Hugging Face checkpoints to uoe models -----*- C++ -*-===//
//
// Reads a Hugging Face-style checkpoint directory (`config.json` +
// `model.safetensors`) of a dense transformer of the BERT family (post-LN
// encoder) or the GPT-2 family (pre-LN causal decoder with a tied LM head)
// and produces the equivalent uoe model description (frontend/model.proto)
// and its weights, in the layouts of docs/MODEL_FORMAT.md. Optionally
// decomposes it exactly into Union-of-Experts layers (spec §1): every MLP
// into UoME experts, every attention layer into SMHA head-group experts,
// with the output biases shared after the combine. docs/EMBEDDING.md,
// "Importing Hugging Face checkpoints", lists what is supported.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_FRONTEND_HF_HFIMPORT_H
#define UOE_FRONTEND_HF_HFIMPORT_H

#include "frontend/model.pb.h"
#include "support/HostTensor.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mlir::uoe::hf {

namespace model = ::uoe::model;

/// What to import and how to decompose. The defaults import the dense model.
struct ImportOptions {
  /// UoME experts per MLP (spec §1: `hidden % experts == 0`); 0 keeps the
  /// MLPs dense.
  int64_t mlpExperts = 0;
  /// SMHA head-group experts per attention layer (divides the heads); 0
  /// keeps attention dense.
  int64_t attentionExperts = 0;
  /// Experts kept per token (UoME); 0 = all of them (the exact model).
  int64_t topK = 0;
  /// Head groups kept per token (SMHA); 0 = all of them.
  int64_t attentionTopK = 0;
  /// UoME capacity, the fraction of tokens each expert keeps; 1.0 keeps
  /// every token (the exact model). Unset: topK / experts, the load of an
  /// expert when each token keeps topK of them (1.0 without --top-k). With
  /// topK below the experts, 1.0 is refused: every expert would keep every
  /// token and the "top k" model would be the dense one.
  std::optional<double> capacity;
  model::CombineMode combine = model::UNION;
  /// The model's extra inputs; unset: the family's default (BERT takes an
  /// attention mask, GPT-2 nothing but ids).
  std::optional<bool> attentionMask;
  bool tokenTypeIds = false;
  /// The description's `name`; empty: the family ("bert", "gpt2").
  std::string name;
};

/// A checkpoint tensor the import does not use, and why.
struct IgnoredTensor {
  std::string name;
  std::string reason;
};

/// An imported model: its description (resolved-ready, defaults left out
/// where they are the importer's), its weights as f32 in modelParameters()
/// order, and what was left out of the checkpoint.
struct ImportedModel {
  std::string family; // "bert" or "gpt2"
  model::Model model;
  std::vector<std::pair<std::string, ::uoe::rt::HostTensor>> weights;
  std::vector<IgnoredTensor> ignored;
  /// One line on the architecture, for the tool to print.
  std::string summary;
};

/// Imports the checkpoint in `dir`. Errors name the file and the field or
/// tensor at fault: `DIR/config.json: model_type "gpt_neox" is not
/// supported (supported: bert, gpt2)`, `DIR/model.safetensors: tensor
/// 'h.0.attn.c_attn.weight' is missing`, an option that does not fit the
/// model (`--decompose 3 does not divide intermediate_size (64)`), ...
llvm::Expected<ImportedModel> importCheckpoint(llvm::StringRef dir,
                                               const ImportOptions &options);

/// The exact decomposition of spec §1 applied to dense weights, exposed for
/// tests. `w1 [d, F]`, `b1 [F]`, `w2 [F, d]` -> `w1s [E, d, Fe]`,
/// `b1s [E, Fe]`, `w2s [E, Fe, d]` plus the router (`[E, d]`, `[E]`): row e
/// of the router weight is the mean of the expert's W1 columns, its bias the
/// mean of the expert's b1 entries (the router's logit is the mean
/// pre-activation of the expert's hidden units).
struct ExpertMlp {
  std::vector<float> w1s, b1s, w2s, routerWeight, routerBias;
};
ExpertMlp splitMlp(const std::vector<float> &w1, const std::vector<float> &b1,
                   const std::vector<float> &w2, int64_t d, int64_t hidden,
                   int64_t experts);

} // namespace mlir::uoe::hf

#endif // UOE_FRONTEND_HF_HFIMPORT_H
