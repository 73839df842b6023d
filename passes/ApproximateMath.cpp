//===- ApproximateMath.cpp - vectorizable f32 transcendental functions ---===//
//
// See UoEApproximateMathPass in Passes.td: exp, erf and tanh on f32 become
// MLIR's polynomial approximations so that loops over them vectorize.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Math/Transforms/Approximation.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::uoe {
#define GEN_PASS_DEF_UOEAPPROXIMATEMATHPASS
#include "passes/Passes.h.inc"
} // namespace mlir::uoe

using namespace mlir;

namespace {

struct UoEApproximateMathPass
    : uoe::impl::UoEApproximateMathPassBase<UoEApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(
        patterns, [](StringRef name) {
          return llvm::is_contained({"exp", "erf", "tanh"},
                                    name.drop_front(name.starts_with("math.")
                                                        ? 5
                                                        : 0));
        });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
