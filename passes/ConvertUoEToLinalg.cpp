//===- ConvertUoEToLinalg.cpp - the uoe-to-linalg lowering pass ----------===//
//
// Runs the layer expansion and every *ToLinalg pattern set to a fixed point
// (patterns produce uoe ops that other patterns lower further: attention
// becomes selective_attention and expert_matmul, which become linalg), then
// reports any uoe op that is left.
//
//===----------------------------------------------------------------------===//

#include "passes/Lowerings.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::uoe {
#define GEN_PASS_DEF_UOECONVERTUOETOLINALGPASS
#include "passes/Passes.h.inc"
} // namespace mlir::uoe

using namespace mlir;
using namespace mlir::uoe;

void uoe::populateUoEToLinalgPatterns(RewritePatternSet &patterns) {
  populateExpandLayersPatterns(patterns);
  populateRoutingToLinalgPatterns(patterns);
  populateExpertComputeToLinalgPatterns(patterns);
  populateAttentionToLinalgPatterns(patterns);
  populateNormsToLinalgPatterns(patterns);
  populateEmbeddingToLinalgPatterns(patterns);
  populateLossToLinalgPatterns(patterns);
}

namespace {

struct UoEConvertUoEToLinalgPass
    : uoe::impl::UoEConvertUoEToLinalgPassBase<UoEConvertUoEToLinalgPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateUoEToLinalgPatterns(patterns);
    GreedyRewriteConfig config;
    config.setMaxIterations(GreedyRewriteConfig::kNoLimit);
    (void)applyPatternsGreedily(getOperation(), std::move(patterns), config);

    WalkResult left = getOperation()->walk([](Operation *op) {
      if (!isa<UoEDialect>(op->getDialect()))
        return WalkResult::advance();
      op->emitOpError() << "could not be lowered to linalg";
      return WalkResult::interrupt();
    });
    if (left.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
