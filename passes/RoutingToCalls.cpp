//===- RoutingToCalls.cpp - data selection to the CPU kernel -------------===//
//
// See UoERoutingToCallsPass in Passes.td. One `uoe.data_select` on f32
// becomes the patch scores and the slot count L in linalg (the pieces of
// the portable lowering, passes/Lowerings.h), then
//
//   %ps = bufferization.to_buffer %scores read_only : ... to memref<...,
//   strided> %positions = memref.alloc(%l) : memref<ExRx?xi64> %weights =
//   memref.alloc(%l) : memref<ExRx?xf32> func.call @uoe_select_patches(E, R,
//   N/P, L, %ps address and strides,
//                                 %positions, %weights)
//
// and two `bufferization.to_tensor restrict writable`. The argument list is
// the ABI of runtime/CpuRouting.h.
//
// A `uoe.router` on f32 of rank 2 or 3 gets its logits from the runtime's
// `uoe_router_logits` (the compiled router's sums, bit for bit, 16 rows a
// vector) and its softmax or sigmoid from the same linalg as before.
//
//===----------------------------------------------------------------------===//

#include "passes/Lowerings.h"
#include "passes/Passes.h"
#include "passes/RuntimeCalls.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::uoe {
#define GEN_PASS_DEF_UOEROUTINGTOCALLSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::uoe

using namespace mlir;
using namespace mlir::uoe;

static constexpr StringLiteral kSelectPatches = "uoe_select_patches";
static constexpr int kSelectPatchesArguments = 9;
static constexpr StringLiteral kRouterLogits = "uoe_router_logits";
static constexpr int kRouterLogitsArguments = 11;

namespace {

struct DataSelectToCall : OpRewritePattern<DataSelectOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DataSelectOp op,
                                PatternRewriter &rewriter) const override {
    auto scoresType = op.getScores().getType();
    if (!scoresType.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "unsupported: not f32");
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value ps = dataSelectPatchScores(b, op);
    Value l = dataSelectLength(b, op, ps);
    BufferView scores = viewTensorInPlace(b, ps);

    auto alloc = [&](RankedTensorType type) {
      SmallVector<Value> dynamicSizes;
      if (type.isDynamicDim(2))
        dynamicSizes.push_back(
            arith::IndexCastOp::create(b, b.getIndexType(), l));
      return allocResultBuffer(b, type, dynamicSizes);
    };
    auto positionsType = op.getPositions().getType();
    auto weightsType = op.getWeights().getType();
    Value positions = alloc(positionsType), weights = alloc(weightsType);
    auto i64 = [&](int64_t v) { return constantI64(b, v); };
    ArrayRef<int64_t> shape = positionsType.getShape();
    SmallVector<Value> args{i64(shape[0]),
                            i64(shape[1]),
                            i64(op.getNumPatches()),
                            l,
                            scores.address,
                            scores.strides[0],
                            scores.strides[1],
                            describeBuffer(b, positions).address,
                            describeBuffer(b, weights).address};
    assert(args.size() == kSelectPatchesArguments && "the runtime's ABI");
    func::CallOp::create(b, kSelectPatches, TypeRange{}, args);
    rewriter.replaceOp(op, {resultTensor(b, positionsType, positions),
                            resultTensor(b, weightsType, weights)});
    return success();
  }
};

/// The router's logits by the runtime (the compiled router's bits, 16 rows
/// per vector), then its softmax or sigmoid in linalg as before.
struct RouterToCall : OpRewritePattern<RouterOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RouterOp op,
                                PatternRewriter &rewriter) const override {
    auto type = op.getType();
    if (!isKernelRowsType(type))
      return rewriter.notifyMatchFailure(op, "unsupported type");
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto i64 = [&](int64_t v) { return constantI64(b, v); };
    BufferView x = viewTensorInPlace(b, op.getInput());
    BufferView w = viewTensorInPlace(b, op.getWeight());
    BufferView bias = viewTensorInPlace(b, op.getBias());
    auto [outer, inner, experts] = rowShape(type);
    auto [xStrideO, xStrideI] = rowStrides(x, i64(0));
    Value logits = allocResultBuffer(b, type);
    SmallVector<Value> args{i64(outer),
                            i64(inner),
                            i64(op.getInput().getType().getShape().back()),
                            i64(experts),
                            x.address,
                            xStrideO,
                            xStrideI,
                            w.address,
                            w.strides[0],
                            bias.address,
                            describeBuffer(b, logits).address};
    assert(args.size() == kRouterLogitsArguments && "the runtime's ABI");
    func::CallOp::create(b, kRouterLogits, TypeRange{}, args);
    rewriter.replaceOp(
        op, routerScores(b, op.getScore(), resultTensor(b, type, logits)));
    return success();
  }
};

struct UoERoutingToCallsPass
    : uoe::impl::UoERoutingToCallsPassBase<UoERoutingToCallsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    RewritePatternSet patterns(&getContext());
    patterns.add<DataSelectToCall, RouterToCall>(&getContext());
    if (failed(applyPatternsGreedily(module, std::move(patterns))))
      return signalPassFailure();
    auto i64 = IntegerType::get(&getContext(), 64);
    declareRuntimeFunctionIfCalled(
        module, kSelectPatches,
        SmallVector<Type>(kSelectPatchesArguments, i64));
    declareRuntimeFunctionIfCalled(
        module, kRouterLogits, SmallVector<Type>(kRouterLogitsArguments, i64));
  }
};

} // namespace
