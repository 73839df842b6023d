//===- LinalgToBlas.cpp - batch matmuls to runtime BLAS calls ------------===//
//
// GEMMs carry almost all of the FLOPs of a UoE layer. Rather than tiling
// and vectorising them ourselves, the CPU pipeline hands every f32
// `linalg.batch_matmul` on buffers to the runtime's `uoe_sgemm_batched`
// (the runtime's own GEMM, runtime/CpuGemm.h; see runtime/CpuBlas.h for the
// contract). Addresses,
// sizes and strides are read from the memrefs' strided metadata, so views
// with any offsets and leading strides work; only a unit innermost stride
// is required, which is checked statically. An operand that a
// `linalg.transpose` (permutation [0, 2, 1]) materialised for this GEMM
// alone (the backward's X^T dY and dY W^T) is read in place as a transposed
// operand instead, and the transpose goes.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/RuntimeCalls.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
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

/// The buffer `v` is a view of (or itself), through view-like ops.
Value rootBuffer(Value v) {
  while (auto view = v.getDefiningOp<ViewLikeOpInterface>())
    v = view.getViewSource();
  return v;
}

/// Whether `op` may write memory that `root` is the allocation of: ops
/// without memory effects, allocations and views never do; linalg ops and
/// copies write only their outputs; anything else (calls, stores) might.
bool mayWrite(Operation *op, Value root) {
  if (isMemoryEffectFree(op) ||
      isa<memref::AllocOp, memref::AllocaOp, ViewLikeOpInterface>(op))
    return false;
  if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op))
    return llvm::any_of(linalgOp.getDpsInits(),
                        [&](Value init) { return rootBuffer(init) == root; });
  if (auto copy = dyn_cast<memref::CopyOp>(op))
    return rootBuffer(copy.getTarget()) == root;
  return true;
}

/// The `linalg.transpose` (permutation [0, 2, 1]) that alone writes the
/// fresh buffer `operand` of `op`, when `op` may read its source instead as
/// a transposed BLAS operand: the buffer has no other users than the two
/// ops and deallocations, and nothing between them may write the source.
linalg::TransposeOp transposedOperand(linalg::BatchMatmulOp op, Value operand) {
  if (!operand.getDefiningOp<memref::AllocOp>())
    return {};
  linalg::TransposeOp transpose;
  for (Operation *user : operand.getUsers()) {
    if (user == op.getOperation() || isa<memref::DeallocOp>(user))
      continue;
    auto t = dyn_cast<linalg::TransposeOp>(user);
    if (!t || transpose || t.getInit() != operand)
      return {};
    transpose = t;
  }
  if (!transpose || transpose->getBlock() != op->getBlock() ||
      !transpose->isBeforeInBlock(op) ||
      transpose.getPermutation() != ArrayRef<int64_t>{0, 2, 1} ||
      !isBlasOperand(transpose.getInput().getType()))
    return {};
  Value source = rootBuffer(transpose.getInput());
  for (Operation *between = transpose->getNextNode(); between != op;
       between = between->getNextNode())
    if (mayWrite(between, source))
      return {};
  return transpose;
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
    // A transposed operand that was materialised for this GEMM alone is read
    // in place as op(X) = X^T instead (the GEMM packs either layout).
    Value lhs = op.getDpsInputs()[0], rhs = op.getDpsInputs()[1];
    linalg::TransposeOp lhsT, rhsT;
    if (lhs != rhs) {
      lhsT = transposedOperand(op, lhs);
      rhsT = transposedOperand(op, rhs);
    }
    BufferView a = describeBuffer(b, lhsT ? lhsT.getInput() : lhs),
               w = describeBuffer(b, rhsT ? rhsT.getInput() : rhs),
               c = describeBuffer(b, op.getDpsInits()[0]);
    Value no = arith::ConstantOp::create(b, b.getI64IntegerAttr(0));
    Value yes = arith::ConstantOp::create(b, b.getI64IntegerAttr(1));
    // op(A) is [batch, m, k] and op(B) [batch, k, n] either way.
    Value m = lhsT ? a.sizes[2] : a.sizes[1],
          k = lhsT ? a.sizes[1] : a.sizes[2],
          n = rhsT ? w.sizes[1] : w.sizes[2];
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
    SmallVector<Value> args{a.sizes[0],
                            m,
                            n,
                            k,
                            a.address,
                            a.strides[1],
                            a.strides[0],
                            lhsT ? yes : no,
                            w.address,
                            w.strides[1],
                            w.strides[0],
                            rhsT ? yes : no,
                            c.address,
                            c.strides[1],
                            c.strides[0],
                            beta};
    func::CallOp::create(b, callee, TypeRange{}, args);
    rewriter.eraseOp(op);
    // The transposes, and their buffers once only deallocations use them.
    for (linalg::TransposeOp t : {lhsT, rhsT}) {
      if (!t)
        continue;
      Value buffer = t.getInit();
      rewriter.eraseOp(t);
      if (llvm::all_of(buffer.getUsers(), [](Operation *u) {
            return isa<memref::DeallocOp>(u);
          })) {
        for (Operation *u : llvm::make_early_inc_range(buffer.getUsers()))
          rewriter.eraseOp(u);
        rewriter.eraseOp(buffer.getDefiningOp());
      }
    }
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
