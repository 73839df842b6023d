//===- AttentionToCalls.cpp - selective attention to the CPU kernel ------===//
//
// See UoEAttentionToCallsPass in Passes.td. One `uoe.selective_attention`
// on f32 tensors becomes
//
//   %q = bufferization.to_buffer %query read_only : ... to memref<..., strided>
//   ... (key, value, positions, key padding likewise)
//   %out = memref.alloc(%l) : memref<ExBxLxDxf32>
//   func.call @uoe_selective_attention(flags, sizes, scale, rope base,
//                                      addresses and strides, %out)
//   %result = bufferization.to_tensor %out restrict writable
//
// The argument list is the ABI of runtime/CpuAttention.h.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/RuntimeCalls.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace mlir::uoe {
#define GEN_PASS_DEF_UOEATTENTIONTOCALLSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::uoe

using namespace mlir;
using namespace mlir::uoe;

static constexpr StringLiteral kAttention = "uoe_selective_attention";
/// The runtime's flags (runtime/CpuAttention.h).
static constexpr int64_t kCausal = 1, kKeyPadding = 2, kRopeCompacted = 4,
                         kRopeOriginal = 8;

/// The parameter types of uoe_selective_attention: i64 but for the scale
/// and the rotary base (f64), arguments 7 and 8.
static SmallVector<Type> attentionParams(MLIRContext *context) {
  SmallVector<Type> params(27, IntegerType::get(context, 64));
  params[7] = params[8] = Float64Type::get(context);
  return params;
}

namespace {

struct SelectiveAttentionToCall : OpRewritePattern<SelectiveAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SelectiveAttentionOp op,
                                PatternRewriter &rewriter) const override {
    auto type = op.getType();
    if (!type.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "unsupported: not f32");
    ArrayRef<int64_t> shape = type.getShape();
    if (ShapedType::isDynamic(shape[0]) || ShapedType::isDynamic(shape[1]) ||
        ShapedType::isDynamic(shape[3]))
      return rewriter.notifyMatchFailure(op, "unsupported: dynamic E, B or D");

    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto i64 = [&](int64_t v) {
      return arith::ConstantOp::create(b, b.getI64IntegerAttr(v)).getResult();
    };
    auto f64 = [&](double v) {
      return arith::ConstantOp::create(b, b.getF64FloatAttr(v)).getResult();
    };
    BufferView q = viewTensorInPlace(b, op.getQuery()),
               k = viewTensorInPlace(b, op.getKey()),
               v = viewTensorInPlace(b, op.getValue()),
               positions = viewTensorInPlace(b, op.getPositions());
    Value zero = i64(0), padAddress = zero, padStride = zero, tokens = zero;
    if (Value padding = op.getKeyPadding()) {
      BufferView pad = viewTensorInPlace(b, padding);
      padAddress = pad.address;
      padStride = pad.strides[0];
      tokens = pad.sizes[1];
    }

    SmallVector<Value> dynamicSizes;
    if (ShapedType::isDynamic(shape[2]))
      dynamicSizes.push_back(
          arith::IndexCastOp::create(b, b.getIndexType(), q.sizes[2]));
    Value out =
        memref::AllocOp::create(b, MemRefType::get(shape, type.getElementType()),
                                dynamicSizes, b.getI64IntegerAttr(64));

    int64_t heads = op.getHeads(), dh = shape[3] / heads;
    int64_t flags = (op.getCausal() ? kCausal : 0) |
                    (op.getKeyPadding() ? kKeyPadding : 0) |
                    (op.getRope() == RopeMode::Compacted ? kRopeCompacted : 0) |
                    (op.getRope() == RopeMode::Original ? kRopeOriginal : 0);
    double scale = op.getScale() ? op.getScale()->convertToDouble()
                                 : 1.0 / std::sqrt(static_cast<double>(dh));
    SmallVector<Value> args{i64(flags),
                            i64(shape[0]),
                            i64(shape[1]),
                            q.sizes[2],
                            i64(shape[3]),
                            i64(heads),
                            tokens,
                            f64(scale),
                            f64(op.getRopeBase().convertToDouble()),
                            q.address,
                            q.strides[0],
                            q.strides[1],
                            q.strides[2],
                            k.address,
                            k.strides[0],
                            k.strides[1],
                            k.strides[2],
                            v.address,
                            v.strides[0],
                            v.strides[1],
                            v.strides[2],
                            positions.address,
                            positions.strides[0],
                            positions.strides[1],
                            padAddress,
                            padStride,
                            describeBuffer(b, out).address};
    assert(args.size() == attentionParams(getContext()).size() &&
           "the runtime's ABI");
    func::CallOp::create(b, kAttention, TypeRange{}, args);
    rewriter.replaceOp(
        op, bufferization::ToTensorOp::create(b, type, out, /*restrict=*/true,
                                              /*writable=*/true));
    return success();
  }
};

struct UoEAttentionToCallsPass
    : uoe::impl::UoEAttentionToCallsPassBase<UoEAttentionToCallsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    RewritePatternSet patterns(&getContext());
    // Dense attention first becomes its selective form (one expert that
    // selects every token), as convert-uoe-to-linalg would rewrite it, so
    // that it runs on the kernel too; autodiff's forward_grad holds that
    // form already, and both must compute the same bits.
    populateDenseAttentionExpansionPatterns(patterns);
    patterns.add<SelectiveAttentionToCall>(&getContext());
    if (failed(applyPatternsGreedily(module, std::move(patterns))))
      return signalPassFailure();
    declareRuntimeFunctionIfCalled(module, kAttention,
                                   attentionParams(&getContext()));
  }
};

} // namespace
