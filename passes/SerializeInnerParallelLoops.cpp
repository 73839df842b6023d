//===- SerializeInnerParallelLoops.cpp - one parallel loop per nest ------===//
//
// See UoESerializeInnerParallelLoopsPass in Passes.td. On a few cores, one
// parallel dimension per loop nest is enough to fill them; making every
// dimension of a `linalg` op parallel (as convert-linalg-to-parallel-loops
// does) would collapse the whole nest into one OpenMP work-sharing loop,
// whose innermost body no longer vectorizes. So the outermost dimension of
// each outermost scf.parallel stays parallel and the rest become scf.for.
// Nests with little work (fewer than `min-parallel-work` innermost
// iterations, known statically) become sequential altogether: forking a team
// for them costs more than it saves, and much more when the machine is busy
// and a worker waits for a core.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

namespace mlir::uoe {
#define GEN_PASS_DEF_UOESERIALIZEINNERPARALLELLOOPSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::uoe

using namespace mlir;

void mlir::uoe::serializeParallelLoop(scf::ParallelOp op, bool keepOuter) {
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

namespace {

/// The static trip count of a loop dimension, if known.
std::optional<int64_t> tripCount(Value lb, Value ub, Value step) {
  std::optional<int64_t> l = getConstantIntValue(lb), u = getConstantIntValue(ub),
                         s = getConstantIntValue(step);
  if (!l || !u || !s || *s <= 0)
    return std::nullopt;
  return std::max<int64_t>(0, (*u - *l + *s - 1) / *s);
}

/// The iterations of the deepest chain of sequential loops in `block`
/// (1 without loops), or nullopt when a trip count is not static.
std::optional<int64_t> sequentialWork(Block &block) {
  int64_t most = 1;
  for (Operation &op : block) {
    auto loop = dyn_cast<scf::ForOp>(op);
    if (!loop)
      continue;
    std::optional<int64_t> trips = tripCount(
        loop.getLowerBound(), loop.getUpperBound(), loop.getStep());
    std::optional<int64_t> inner = sequentialWork(*loop.getBody());
    if (!trips || !inner)
      return std::nullopt;
    most = std::max(most, *trips * *inner);
  }
  return most;
}

/// The innermost iterations of `op`'s nest, or nullopt when not static.
std::optional<int64_t> staticWork(scf::ParallelOp op) {
  int64_t work = 1;
  for (auto [lb, ub, step] :
       llvm::zip(op.getLowerBound(), op.getUpperBound(), op.getStep())) {
    std::optional<int64_t> trips = tripCount(lb, ub, step);
    if (!trips)
      return std::nullopt;
    work *= *trips;
  }
  std::optional<int64_t> inner = sequentialWork(*op.getBody());
  if (!inner)
    return std::nullopt;
  return work * *inner;
}

struct UoESerializeInnerParallelLoopsPass
    : uoe::impl::UoESerializeInnerParallelLoopsPassBase<
          UoESerializeInnerParallelLoopsPass> {
  using Base::Base;

  void runOnOperation() override {
    // Post-order: inner loops are rewritten before the loops around them.
    SmallVector<scf::ParallelOp> loops;
    getOperation()->walk([&](scf::ParallelOp op) { loops.push_back(op); });
    for (scf::ParallelOp op : loops) {
      // Reductions keep their form; convert-scf-to-openmp handles them.
      if (op.getNumResults() != 0)
        continue;
      bool nested = op->getParentOfType<scf::ParallelOp>() != nullptr;
      std::optional<int64_t> work = staticWork(op);
      bool small = work && *work < minParallelWork;
      if (!nested && !small && op.getNumLoops() == 1)
        continue;
      uoe::serializeParallelLoop(op, /*keepOuter=*/!nested && !small);
    }
  }
};

} // namespace
