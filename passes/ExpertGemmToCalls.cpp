//===- ExpertGemmToCalls.cpp - fused expert GEMMs to the CPU kernel ------===//
//
// See UoEExpertGemmToCallsPass in Passes.td. One `uoe.expert_gemm` on f32
// tensors becomes
//
//   %a = bufferization.to_buffer %lhs read_only : ... to memref<..., strided>
//   ... (rhs, bias, positions, weights likewise)
//   %out = memref.alloc(...) : memref<...>
//   func.call @uoe_expert_gemm(flags, activation, sizes, addresses, strides)
//   %result = bufferization.to_tensor %out restrict writable
//
// The argument list is the ABI of runtime/CpuExpertGemm.h; the activation
// is passed as its dialect enum value, which the runtime numbers alike.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/RuntimeCalls.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::uoe {
#define GEN_PASS_DEF_UOEEXPERTGEMMTOCALLSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::uoe

using namespace mlir;
using namespace mlir::uoe;

static constexpr StringLiteral kExpertGemm = "uoe_expert_gemm";
/// The runtime's flags (runtime/CpuExpertGemm.h).
static constexpr int64_t kGather = 1, kCombine = 2, kBf16 = 4, kTransposedW = 8;
/// The number of i64 arguments of uoe_expert_gemm.
static constexpr int kExpertGemmArguments = 25;

namespace {

/// The weights as the kernel reads them: `rhs` itself, or, when `rhs` is
/// a `linalg.transpose` [0, 2, 1] of stored weights W (a backward pass's
/// `dy W^T`), W in place, read transposed by the kernel: no copy.
struct WeightsView {
  BufferView view;
  bool transposed;
  /// The contraction size K and the GEMM's width N.
  Value k() const { return view.sizes[transposed ? 2 : 1]; }
  Value n() const { return view.sizes[transposed ? 1 : 2]; }
};
WeightsView viewWeights(ImplicitLocOpBuilder &b, Value rhs) {
  if (auto transpose = rhs.getDefiningOp<linalg::TransposeOp>())
    if (transpose.getPermutation() == ArrayRef<int64_t>{0, 2, 1})
      return {viewTensorInPlace(b, transpose.getInput()), true};
  return {viewTensorInPlace(b, rhs), false};
}

/// What one uoe_expert_gemm call takes besides the operands' views: the
/// ABI's scalar arguments in their order.
struct ExpertGemmCall {
  int64_t flags;
  Activation activation;
  Value experts, rows, slots, patch, tokens, k, n;
  BufferView a;
  Value aStrideE, aStrideR, aStrideM;
  WeightsView w;
  Value biasAddress, biasStride;
  Value positionsAddress, positionsStrideE, positionsStrideR;
  Value weightsAddress, weightsStrideE, weightsStrideR;
};

/// Emits the call of uoe_expert_gemm writing `out` (a fresh buffer).
void emitExpertGemmCall(ImplicitLocOpBuilder &b, const ExpertGemmCall &c,
                        Value out) {
  BufferView result = describeBuffer(b, out);
  SmallVector<Value> args{constantI64(b, c.flags),
                          constantI64(b, static_cast<int64_t>(c.activation)),
                          c.experts,
                          c.rows,
                          c.slots,
                          c.patch,
                          c.tokens,
                          c.k,
                          c.n,
                          c.a.address,
                          c.aStrideE,
                          c.aStrideR,
                          c.aStrideM,
                          c.w.view.address,
                          c.w.view.strides[0],
                          c.w.view.strides[1],
                          c.biasAddress,
                          c.biasStride,
                          c.positionsAddress,
                          c.positionsStrideE,
                          c.positionsStrideR,
                          c.weightsAddress,
                          c.weightsStrideE,
                          c.weightsStrideR,
                          result.address};
  assert(args.size() == kExpertGemmArguments && "the runtime's ABI");
  func::CallOp::create(b, kExpertGemm, TypeRange{}, args);
}

/// The bias operand's address and expert stride (zeros when absent).
std::pair<Value, Value> viewBias(ImplicitLocOpBuilder &b, Value bias) {
  if (!bias) {
    Value zero = constantI64(b, 0);
    return {zero, zero};
  }
  BufferView v = viewTensorInPlace(b, bias);
  return {v.address, v.strides[0]};
}

/// A pattern of this pass: `bf16` selects the kernel's bf16 products.
template <class Op> struct KernelPattern : OpRewritePattern<Op> {
  KernelPattern(MLIRContext *context, bool bf16)
      : OpRewritePattern<Op>(context), bf16(bf16) {}
  bool bf16;
};

struct ExpertGemmToCall : KernelPattern<ExpertGemmOp> {
  using KernelPattern::KernelPattern;

  LogicalResult matchAndRewrite(ExpertGemmOp op,
                                PatternRewriter &rewriter) const override {
    auto type = op.getType();
    if (!type.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "unsupported: not f32");
    Value gather = op.getGatherPositions(), combine = op.getCombinePositions();
    auto lhsType = op.getLhs().getType();
    // The kernel takes one positions array and one token count.
    if (gather && combine &&
        (gather != combine || lhsType.getShape()[1] != type.getShape()[1]))
      return rewriter.notifyMatchFailure(
          op, "unsupported: gather and combine of different selections");

    for (auto [i, dim] : llvm::enumerate(type.getShape()))
      if (ShapedType::isDynamic(dim) && (combine || i != 2))
        return rewriter.notifyMatchFailure(op, "unsupported: dynamic size");

    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto constant = [&](int64_t v) { return constantI64(b, v); };
    Value zero = constant(0);

    BufferView a = viewTensorInPlace(b, op.getLhs());
    WeightsView w = viewWeights(b, op.getRhs());
    BufferView positions = viewTensorInPlace(b, gather ? gather : combine);
    auto [biasAddress, biasStride] = viewBias(b, op.getBias());
    Value weightsAddress = zero, weightsStrideE = zero, weightsStrideR = zero;
    if (Value weights = op.getCombineWeights()) {
      BufferView v = viewTensorInPlace(b, weights);
      weightsAddress = v.address;
      weightsStrideE = v.strides[0];
      weightsStrideR = v.strides[1];
    }

    // The result: [R, N, width] with combine, else [E, R, L*P, width] with
    // L*P dynamic when the slot count is.
    int64_t patch = op.getPatch();
    SmallVector<Value> dynamicSizes;
    Value slots = positions.sizes[2];
    if (!combine && ShapedType::isDynamic(type.getShape()[2])) {
      Value rows = gather ? arith::MulIOp::create(b, slots, constant(patch))
                          : a.sizes[2];
      dynamicSizes.push_back(
          arith::IndexCastOp::create(b, b.getIndexType(), rows));
    }
    Value out = allocResultBuffer(b, type, dynamicSizes);
    ExpertGemmCall call{(gather ? kGather : 0) | (combine ? kCombine : 0) |
                            (bf16 ? kBf16 : 0) |
                            (w.transposed ? kTransposedW : 0),
                        op.getActivation(),
                        w.view.sizes[0],
                        gather ? a.sizes[0] : a.sizes[1],
                        slots,
                        constant(patch),
                        combine ? constant(type.getShape()[1]) : a.sizes[1],
                        w.k(),
                        w.n(),
                        a,
                        gather ? zero : a.strides[0],
                        gather ? a.strides[0] : a.strides[1],
                        gather ? a.strides[1] : a.strides[2],
                        w,
                        biasAddress,
                        biasStride,
                        positions.address,
                        positions.strides[0],
                        positions.strides[1],
                        weightsAddress,
                        weightsStrideE,
                        weightsStrideR};
    emitExpertGemmCall(b, call, out);
    rewriter.replaceOp(op, resultTensor(b, type, out));
    return success();
  }
};

/// A plain `uoe.expert_matmul` (no selection around it: dense layers'
/// projections and MLPs as one expert, SMHA's and UoME's GEMMs on
/// unselected operands) is the same kernel without gather and combine:
/// lhs [E, M, K] or [E, R, M, K] with bias and activation in the epilogue.
/// An activation the kernel does not compute exactly stays a
/// `uoe.activation` after it.
struct ExpertMatmulToCall : KernelPattern<ExpertMatmulOp> {
  using KernelPattern::KernelPattern;

  LogicalResult matchAndRewrite(ExpertMatmulOp op,
                                PatternRewriter &rewriter) const override {
    auto lhsType = op.getLhs().getType();
    if (!op.getType().getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "unsupported: not f32");
    int64_t rank = lhsType.getRank();
    if (rank != 3 && rank != 4)
      return rewriter.notifyMatchFailure(
          op, "lhs is not [E, M, K] or [E, R, M, K]");
    Activation act = op.getActivation();
    bool exact = isExactInCpuKernel(act);
    RankedTensorType type = exact ? op.getType() : preActivationType(op);

    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto constant = [&](int64_t v) { return constantI64(b, v); };
    Value zero = constant(0), one = constant(1);
    BufferView a = viewTensorInPlace(b, op.getLhs());
    WeightsView w = viewWeights(b, op.getRhs());
    auto [biasAddress, biasStride] = viewBias(b, op.getBias());
    SmallVector<Value> dynamicSizes;
    for (auto [i, dim] : llvm::enumerate(type.getShape().drop_back()))
      if (ShapedType::isDynamic(dim))
        dynamicSizes.push_back(
            arith::IndexCastOp::create(b, b.getIndexType(), a.sizes[i]));
    Value out = allocResultBuffer(b, type, dynamicSizes);
    bool hasRows = rank == 4;
    Value m = a.sizes[rank - 2];
    ExpertGemmCall call{(bf16 ? kBf16 : 0) | (w.transposed ? kTransposedW : 0),
                        exact ? act : Activation::None,
                        w.view.sizes[0],
                        hasRows ? a.sizes[1] : one,
                        m,
                        one,
                        m,
                        w.k(),
                        w.n(),
                        a,
                        a.strides[0],
                        hasRows ? a.strides[1] : zero,
                        a.strides[rank - 2],
                        w,
                        biasAddress,
                        biasStride,
                        zero,
                        zero,
                        zero,
                        zero,
                        zero,
                        zero};
    emitExpertGemmCall(b, call, out);
    Value result = resultTensor(b, type, out);
    if (!exact)
      result =
          ActivationOp::create(b, op.getType(), result, op.getActivationAttr());
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct UoEExpertGemmToCallsPass
    : uoe::impl::UoEExpertGemmToCallsPassBase<UoEExpertGemmToCallsPass> {
  using UoEExpertGemmToCallsPassBase::UoEExpertGemmToCallsPassBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (failed(checkCpuGemmPrecision(module, getArgument(), precision)))
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    patterns.add<ExpertGemmToCall, ExpertMatmulToCall>(&getContext(),
                                                       precision == "bf16");
    if (failed(applyPatternsGreedily(module, std::move(patterns))))
      return signalPassFailure();
    declareRuntimeFunctionIfCalled(
        module, kExpertGemm,
        SmallVector<Type>(kExpertGemmArguments,
                          IntegerType::get(&getContext(), 64)));
  }
};

} // namespace
