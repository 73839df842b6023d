//===- ModelParameters.h - the weights a description needs ------*- C++ -*-===//
//
// The names and shapes of a resolved description's weights
// (docs/MODEL_FORMAT.md, "Weights"), in the order in which @forward takes
// them; `uoe-run init` creates them, checkpoints and safetensors files name
// them so.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_FRONTEND_MODELPARAMETERS_H
#define UOE_FRONTEND_MODELPARAMETERS_H

#include "frontend/ModelDescription.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::uoe {

/// One weight of a model: its name and shape (f32 in the compiled code).
struct ParamSpec {
  std::string name;
  std::vector<int64_t> shape;
};

/// The weights of a resolved model, in the order of @forward's parameters
/// (the order in which it uses them): embeddings, then per layer its
/// sub-layers (a post-LN norm after its layer, a pre-RMSNorm norm before),
/// the final norm, the head.
std::vector<ParamSpec> modelParameters(const model::Model &model);

/// The number of values in `params` (saturating at INT64_MAX rather than
/// overflowing), e.g. the parameters of a model.
int64_t parameterCount(const std::vector<ParamSpec> &params);

} // namespace mlir::uoe

#endif // UOE_FRONTEND_MODELPARAMETERS_H
