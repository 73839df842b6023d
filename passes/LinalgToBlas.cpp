//===- LinalgToBlas.cpp - batch matmuls to runtime BLAS calls ------------===//
//
// GEMMs carry almost all of the FLOPs of a UoE layer. Rather than tiling
// and vectorising them ourselves, the CPU pipeline hands every f32
// `linalg.batch_matmul` on buffers to the runtime's `uoe_sgemm_batched`
// (the runtime's own GEMM, runtime/CpuGemm.h; see runtime/CpuBlas.h for the
// contract). Addresses,
// sizes and strides are read from the memrefs' strided metadata, so views
// with any offsets and leading strides work; only a unit innermost stride
// is required, which is checked statically.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/RuntimeCalls.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::uoe {
#define GEN_PASS_DEF_UOELINALGTOBLASPASS
#include "passes/Passes.h.inc"
} // namespace mlir::uoe

using namespace mlir;
using namespace mlir::uoe;

static constexpr StringLiteral kSgemm = "uoe_sgemm_batched";
static constexpr StringLiteral kBf16Gemm = "uoe_gemm_batched_bf16";

/// True when `type` is an f32 rank-3 memref with a unit innermost stride.
static bool isBlasOperand(Type type) {
  auto memref = dyn_cast<MemRefType>(type);
  if (!memref || memref.getRank() != 3 || !memref.getElementType().isF32())
    return false;
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(memref.getStridesAndOffset(strides, offset)))
    return false;
  return strides.back() == 1;
}

namespace {

/// The `linalg.fill` with 0 that initialises `c` right before `op`, if any:
/// only ops without memory effects, allocations and views may sit between
/// them (none of them can read `c`).
linalg::FillOp zeroFillBefore(linalg::BatchMatmulOp op, Value c) {
  for (Operation *prev = op->getPrevNode(); prev; prev = prev->getPrevNode()) {
    if (auto fill = dyn_cast<linalg::FillOp>(prev)) {
      if (fill.getOutputs()[0] != c)
        return {};
      FloatAttr value;
      if (!matchPattern(fill.getInputs()[0], m_Constant(&value)) ||
          !value.getValue().isZero())
        return {};
      return fill;
    }
    if (!isMemoryEffectFree(prev) &&
        !isa<memref::AllocOp, memref::AllocaOp, ViewLikeOpInterface>(prev))
      return {};
  }
  return {};
}

struct BatchMatmulToCall : OpRewritePattern<linalg::BatchMatmulOp> {
  BatchMatmulToCall(MLIRContext *context, StringRef callee)
      : OpRewritePattern(context), callee(callee) {}
  /// The runtime function called: kSgemm or kBf16Gemm.
  StringRef callee;

  LogicalResult matchAndRewrite(linalg::BatchMatmulOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureBufferSemantics())
      return rewriter.notifyMatchFailure(op, "not on buffers");
    if (!linalg::BatchMatmulOp::isDefaultIndexingMaps(op.getIndexingMapsAttr()))
      return rewriter.notifyMatchFailure(op, "unsupported: transposed maps");
    for (Value v : op->getOperands())
      if (!isBlasOperand(v.getType()))
        return rewriter.notifyMatchFailure(
            op, "unsupported: not f32 with unit innermost stride");

    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    BufferView a = describeBuffer(b, op.getDpsInputs()[0]),
               w = describeBuffer(b, op.getDpsInputs()[1]),
               c = describeBuffer(b, op.getDpsInits()[0]);
    Value no = arith::ConstantOp::create(b, b.getI64IntegerAttr(0));
    // linalg.batch_matmul accumulates into its output: beta = 1, unless the
    // output was just zero-filled: then the GEMM overwrites it (beta = 0)
    // and the fill, a whole pass over C, goes.
    float betaValue = 1.0f;
    if (linalg::FillOp fill = zeroFillBefore(op, op.getDpsInits()[0])) {
      rewriter.eraseOp(fill);
      betaValue = 0.0f;
    }
    Value beta = arith::ConstantOp::create(b, b.getF32FloatAttr(betaValue));
    // Rows are strides[1] apart, matrices strides[0].
    SmallVector<Value> args{a.sizes[0], a.sizes[1],   w.sizes[2],   a.sizes[2],
                            a.address,  a.strides[1], a.strides[0], no,
                            w.address,  w.strides[1], w.strides[0], no,
                            c.address,  c.strides[1], c.strides[0], beta};
    func::CallOp::create(b, callee, TypeRange{}, args);
    rewriter.eraseOp(op);
    return success();
  }
};

struct UoELinalgToBlasPass
    : uoe::impl::UoELinalgToBlasPassBase<UoELinalgToBlasPass> {
  using UoELinalgToBlasPassBase::UoELinalgToBlasPassBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (failed(checkCpuGemmPrecision(module, getArgument(), precision)))
      return signalPassFailure();
    StringRef callee = precision == "bf16" ? kBf16Gemm : kSgemm;
    RewritePatternSet patterns(&getContext());
    patterns.add<BatchMatmulToCall>(&getContext(), callee);
    if (failed(applyPatternsGreedily(module, std::move(patterns))))
      return signalPassFailure();

    // Declare the runtime function once, if anything calls it.
    Builder b(&getContext());
    SmallVector<Type> params(15, b.getI64Type());
    params.push_back(b.getF32Type());
    declareRuntimeFunctionIfCalled(module, callee, params);
  }
};

} // namespace
