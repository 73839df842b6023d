//===- SerializeInnerParallelLoops.cpp - one parallel loop per nest ------===//
//
// See UoESerializeInnerParallelLoopsPass in Passes.td. On a few cores, one
// parallel dimension per loop nest is enough to fill them; making every
// dimension of a `linalg` op parallel (as convert-linalg-to-parallel-loops
// does) would collapse the whole nest into one OpenMP work-sharing loop,
// whose innermost body no longer vectorizes. So the outermost dimension of
// each outermost scf.parallel stays parallel and the rest become scf.for.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::uoe {
#define GEN_PASS_DEF_UOESERIALIZEINNERPARALLELLOOPSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::uoe

using namespace mlir;

namespace {

/// Rewrites `op` into a nest: an scf.parallel over its first dimension
/// (when `keepOuter`) around scf.for loops over the others.
void serialize(scf::ParallelOp op, bool keepOuter) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  unsigned rank = op.getNumLoops();
  SmallVector<Value> ivs;
  unsigned first = 0;
  if (keepOuter) {
    auto outer = scf::ParallelOp::create(
        b, loc, op.getLowerBound().take_front(), op.getUpperBound().take_front(),
        op.getStep().take_front());
    ivs.push_back(outer.getInductionVars()[0]);
    b.setInsertionPointToStart(outer.getBody());
    first = 1;
  }
  for (unsigned i = first; i < rank; ++i) {
    auto loop = scf::ForOp::create(b, loc, op.getLowerBound()[i],
                                   op.getUpperBound()[i], op.getStep()[i]);
    ivs.push_back(loop.getInductionVar());
    b.setInsertionPointToStart(loop.getBody());
  }
  Block &body = op.getRegion().front();
  body.getTerminator()->erase();
  for (auto [arg, iv] : llvm::zip(body.getArguments(), ivs))
    arg.replaceAllUsesWith(iv);
  b.getInsertionBlock()->getOperations().splice(b.getInsertionPoint(),
                                                body.getOperations());
  op.erase();
}

struct UoESerializeInnerParallelLoopsPass
    : uoe::impl::UoESerializeInnerParallelLoopsPassBase<
          UoESerializeInnerParallelLoopsPass> {
  void runOnOperation() override {
    // Post-order: inner loops are rewritten before the loops around them.
    SmallVector<scf::ParallelOp> loops;
    getOperation()->walk([&](scf::ParallelOp op) { loops.push_back(op); });
    for (scf::ParallelOp op : loops) {
      // Reductions keep their form; convert-scf-to-openmp handles them.
      if (op.getNumResults() != 0)
        continue;
      bool nested = op->getParentOfType<scf::ParallelOp>() != nullptr;
      if (!nested && op.getNumLoops() == 1)
        continue;
      serialize(op, /*keepOuter=*/!nested);
    }
  }
};

} // namespace
