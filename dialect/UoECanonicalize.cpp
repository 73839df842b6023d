//===- UoECanonicalize.cpp - canonicalization patterns of uoe ops --------===//
//
// Rewrites that are always profitable and live with their ops:
// - a data selection that keeps every patch has constant positions
//   0..L-1 (selection never reorders), which lets later passes turn the
//   dispatch into a broadcast;
// - a gated combine whose weights are the constant 1 is a union combine.
//
//===----------------------------------------------------------------------===//

#include "dialect/UoEOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::uoe;

namespace {

/// `positions` of a data selection with `L == N / P` is `0..L-1` in every
/// `(expert, row)`: all patches are kept and their indices sorted.
struct KeepAllPatchesIsIota : OpRewritePattern<DataSelectOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DataSelectOp op,
                                PatternRewriter &rewriter) const override {
    if (op.isDynamic())
      return rewriter.notifyMatchFailure(op, "dynamic capacity");
    RankedTensorType type = op.getPositions().getType();
    int64_t l = type.getShape()[2];
    if (l != op.getNumPatches())
      return rewriter.notifyMatchFailure(op, "keeps only some patches");
    if (op.getPositions().use_empty())
      return rewriter.notifyMatchFailure(op, "positions are unused");
    SmallVector<int64_t> values(type.getNumElements());
    for (auto [i, v] : llvm::enumerate(values))
      v = static_cast<int64_t>(i) % l;
    auto iota = arith::ConstantOp::create(
        rewriter, op.getLoc(), type,
        DenseElementsAttr::get(type, ArrayRef<int64_t>(values)));
    rewriter.replaceAllUsesWith(op.getPositions(), iota.getResult());
    return success();
  }
};

/// `combine ... weights %one gated` with `%one` a splat of 1.0 is `union`.
struct UnitWeightsAreUnion : OpRewritePattern<CombineOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(CombineOp op,
                                PatternRewriter &rewriter) const override {
    DenseFPElementsAttr weights;
    if (!op.getWeights() || !matchPattern(op.getWeights(), m_Constant(&weights)))
      return rewriter.notifyMatchFailure(op, "weights are not a constant");
    if (!weights.isSplat() || !weights.getSplatValue<APFloat>().isExactlyValue(1.0))
      return rewriter.notifyMatchFailure(op, "weights are not all 1");
    rewriter.replaceOpWithNewOp<CombineOp>(
        op, op.getType(), op.getInput(), op.getPositions(), Value(),
        CombineMode::Union, op.getPatch());
    return success();
  }
};

} // namespace

void DataSelectOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                               MLIRContext *context) {
  results.add<KeepAllPatchesIsIota>(context);
}

void CombineOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                            MLIRContext *context) {
  results.add<UnitWeightsAreUnion>(context);
}
