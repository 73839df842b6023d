//===- FuseSelection.cpp - selection fused with the expert GEMMs ---------===//
//
// See UoEFuseSelectionPass in Passes.td. Two patterns, applied to a fixed
// point, so that an expert MLP (dispatch, two GEMMs, combine) becomes two
// `uoe.expert_gemm`s: the first gathers, the second combines; a single
// GEMM between a dispatch and a combine becomes one that does both.
//
// `uoe.expert_gemm` is the target-independent tiled form: its tiles are
// (expert, row, block of selected tokens), which the CPU kernel computes
// per thread and a GPU kernel would per thread block.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/RuntimeCalls.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::uoe {
#define GEN_PASS_DEF_UOEFUSESELECTIONPASS
#include "passes/Passes.h.inc"
} // namespace mlir::uoe

using namespace mlir;
using namespace mlir::uoe;

namespace {

/// expert_matmul(dispatch(x, pos)) -> expert_gemm(x gather pos), followed
/// by the activation where the kernel does not take it.
struct GatherIntoGemm : OpRewritePattern<ExpertMatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ExpertMatmulOp op,
                                PatternRewriter &rewriter) const override {
    auto dispatch = op.getLhs().getDefiningOp<DispatchOp>();
    if (!dispatch)
      return rewriter.notifyMatchFailure(op, "lhs is not a dispatch");
    Activation act = op.getActivation();
    if (isExactInCpuKernel(act)) {
      rewriter.replaceOpWithNewOp<ExpertGemmOp>(
          op, op.getType(), dispatch.getInput(), op.getRhs(), op.getBias(),
          dispatch.getPositions(), /*combine_positions=*/Value(),
          /*combine_weights=*/Value(), op.getActivationAttr(),
          dispatch.getPatchAttr());
      return success();
    }
    auto none = ActivationAttr::get(getContext(), Activation::None);
    Value product = ExpertGemmOp::create(
        rewriter, op.getLoc(), preActivationType(op), dispatch.getInput(),
        op.getRhs(), op.getBias(), dispatch.getPositions(), Value(), Value(),
        none, dispatch.getPatchAttr());
    rewriter.replaceOpWithNewOp<ActivationOp>(op, op.getType(), product,
                                              op.getActivationAttr());
    return success();
  }
};

/// combine(expert_matmul(h)) or combine(expert_gemm(x gather pos)), the
/// GEMM used only there -> expert_gemm(... combine pos [weights w]).
struct CombineIntoGemm : OpRewritePattern<CombineOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(CombineOp op,
                                PatternRewriter &rewriter) const override {
    Operation *producer = op.getInput().getDefiningOp();
    if (!producer || !producer->hasOneUse())
      return rewriter.notifyMatchFailure(
          op, "the input is not a GEMM used only by the combine");
    Value weights =
        op.getMode() == CombineMode::Gated ? op.getWeights() : Value();
    if (auto matmul = dyn_cast<ExpertMatmulOp>(producer)) {
      if (!isExactInCpuKernel(matmul.getActivation()))
        return rewriter.notifyMatchFailure(
            op, "the GEMM's activation stays compiled code");
      if (matmul.getLhs().getType().getRank() != 4)
        return rewriter.notifyMatchFailure(op, "lhs is not [E, R, M, K]");
      // A GEMM between a dispatch and a combine of one patch size does both.
      Value lhs = matmul.getLhs(), gather;
      auto dispatch = lhs.getDefiningOp<DispatchOp>();
      if (dispatch && dispatch.getPatch() == op.getPatch()) {
        lhs = dispatch.getInput();
        gather = dispatch.getPositions();
      }
      rewriter.replaceOpWithNewOp<ExpertGemmOp>(
          op, op.getType(), lhs, matmul.getRhs(), matmul.getBias(), gather,
          op.getPositions(), weights, matmul.getActivationAttr(),
          op.getPatchAttr());
      return success();
    }
    auto gemm = dyn_cast<ExpertGemmOp>(producer);
    if (!gemm || gemm.getCombinePositions() ||
        !isExactInCpuKernel(gemm.getActivation()) ||
        gemm.getPatch() != op.getPatch())
      return rewriter.notifyMatchFailure(
          op, "the input is no expert GEMM this combine can join");
    rewriter.replaceOpWithNewOp<ExpertGemmOp>(
        op, op.getType(), gemm.getLhs(), gemm.getRhs(), gemm.getBias(),
        gemm.getGatherPositions(), op.getPositions(), weights,
        gemm.getActivationAttr(), op.getPatchAttr());
    return success();
  }
};

/// Whether `v` is a GEMM's result, or a sum of them, used only once: what a
/// combine can take into fused GEMMs.
bool isSumOfGemms(Value v) {
  Operation *op = v.getDefiningOp();
  if (!op || !op->hasOneUse())
    return false;
  if (auto add = dyn_cast<arith::AddFOp>(op))
    return isSumOfGemms(add.getLhs()) && isSumOfGemms(add.getRhs());
  if (auto gemm = dyn_cast<ExpertGemmOp>(op))
    return !gemm.getCombinePositions();
  return isa<ExpertMatmulOp>(op);
}

/// combine(a + b), a and b GEMMs (or sums of them) used only there ->
/// combine(a) + combine(b), so that each combine fuses into its GEMM. A
/// backward pass makes these: the data gradient of an input that several
/// GEMMs read (SMHA's q, k and v projections of one dispatch). Regrouping
/// the sum changes its rounding, so the forward (whose combines never read
/// sums) is untouched.
struct CombineOfSum : OpRewritePattern<CombineOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(CombineOp op,
                                PatternRewriter &rewriter) const override {
    auto add = op.getInput().getDefiningOp<arith::AddFOp>();
    if (!add || !isSumOfGemms(add.getResult()))
      return rewriter.notifyMatchFailure(op, "the input is no sum of GEMMs");
    auto combine = [&](Value addend) {
      return CombineOp::create(rewriter, op.getLoc(), op.getType(), addend,
                               op.getPositions(), op.getWeights(),
                               op.getModeAttr(), op.getPatchAttr())
          .getResult();
    };
    rewriter.replaceOpWithNewOp<arith::AddFOp>(op, combine(add.getLhs()),
                                               combine(add.getRhs()));
    return success();
  }
};

struct UoEFuseSelectionPass
    : uoe::impl::UoEFuseSelectionPassBase<UoEFuseSelectionPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<GatherIntoGemm, CombineIntoGemm, CombineOfSum>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
