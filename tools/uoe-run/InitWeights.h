//===- InitWeights.h - fresh weights for a model description ----*- C++ -*-===//
//
// The initialisation of `uoe-run init`, shared with `uoe-run train` (which
// starts from it when not resuming): matrices and embedding tables
// ~ N(0, 0.02) from a std::mt19937_64 seeded with the seed, biases 0, norm
// weights 1, drawn in the order of modelParameters(), so that one seed
// gives the same weights in both commands.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_TOOLS_UOE_RUN_INITWEIGHTS_H
#define UOE_TOOLS_UOE_RUN_INITWEIGHTS_H

#include "frontend/ModelImporter.h"
#include "support/HostTensor.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mlir::uoe {

/// Freshly initialised f32 weights of the resolved `model`, named and
/// ordered as modelParameters(model). Errors only if allocation fails.
::uoe::rt::StatusOr<std::vector<std::pair<std::string, ::uoe::rt::HostTensor>>>
initialWeights(const model::Model &model, uint64_t seed);

} // namespace mlir::uoe

#endif // UOE_TOOLS_UOE_RUN_INITWEIGHTS_H
