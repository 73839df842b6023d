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
static constexpr int64_t kGather = 1, kCombine = 2, kBf16 = 4;
/// The number of i64 arguments of uoe_expert_gemm.
static constexpr int kExpertGemmArguments = 25;

namespace {

struct ExpertGemmToCall : OpRewritePattern<ExpertGemmOp> {
  ExpertGemmToCall(MLIRContext *context, bool bf16)
      : OpRewritePattern(context), bf16(bf16) {}
  bool bf16;

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
    auto view = [&](Value tensor) { return viewTensorInPlace(b, tensor); };
    auto constant = [&](int64_t v) { return constantI64(b, v); };
    Value zero = constant(0);

    BufferView a = view(op.getLhs()), w = view(op.getRhs());
    BufferView positions = view(gather ? gather : combine);
    Value biasAddress = zero, biasStride = zero;
    if (Value bias = op.getBias()) {
      BufferView v = view(bias);
      biasAddress = v.address;
      biasStride = v.strides[0];
    }
    Value weightsAddress = zero, weightsStrideE = zero, weightsStrideR = zero;
    if (Value weights = op.getCombineWeights()) {
      BufferView v = view(weights);
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
    BufferView result = describeBuffer(b, out);

    int64_t flags =
        (gather ? kGather : 0) | (combine ? kCombine : 0) | (bf16 ? kBf16 : 0);
    Value rows = gather ? a.sizes[0] : a.sizes[1];
    Value tokens = combine ? constant(type.getShape()[1]) : a.sizes[1];
    SmallVector<Value> args{constant(flags),
                            constant(static_cast<int64_t>(op.getActivation())),
                            w.sizes[0],
                            rows,
                            slots,
                            constant(patch),
                            tokens,
                            w.sizes[1],
                            w.sizes[2],
                            a.address,
                            gather ? zero : a.strides[0],
                            gather ? a.strides[0] : a.strides[1],
                            gather ? a.strides[1] : a.strides[2],
                            w.address,
                            w.strides[0],
                            w.strides[1],
                            biasAddress,
                            biasStride,
                            positions.address,
                            positions.strides[0],
                            positions.strides[1],
                            weightsAddress,
                            weightsStrideE,
                            weightsStrideR,
                            result.address};
    assert(args.size() == kExpertGemmArguments && "the runtime's ABI");
    func::CallOp::create(b, kExpertGemm, TypeRange{}, args);
    rewriter.replaceOp(op, resultTensor(b, type, out));
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
    patterns.add<ExpertGemmToCall>(&getContext(), precision == "bf16");
    if (failed(applyPatternsGreedily(module, std::move(patterns))))
      return signalPassFailure();
    declareRuntimeFunctionIfCalled(
        module, kExpertGemm,
        SmallVector<Type>(kExpertGemmArguments,
                          IntegerType::get(&getContext(), 64)));
  }
};

} // namespace
