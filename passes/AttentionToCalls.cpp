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
// and `uoe.selective_attention_grad` likewise a call of
// `uoe_selective_attention_grad` with the result's gradient and three
// fresh buffers for dq, dk, dv; `uoe.kv_attend` (decoding) a call of
// `uoe_kv_attend`. The argument lists are the ABI of runtime/CpuAttention.h
// and runtime/CpuKvCache.h.
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
static constexpr StringLiteral kAttentionGrad = "uoe_selective_attention_grad";
static constexpr StringLiteral kKvAttend = "uoe_kv_attend";
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

/// The parameter types of uoe_kv_attend: i64 but for the scale and the
/// rotary base (f64), arguments 8 and 9.
static SmallVector<Type> kvAttendParams(MLIRContext *context) {
  SmallVector<Type> params(30, IntegerType::get(context, 64));
  params[8] = params[9] = Float64Type::get(context);
  return params;
}
/// uoe_kv_attend's flags (runtime/CpuKvCache.h).
static constexpr int64_t kKvSelected = 1, kKvRopeOriginal = 2;

/// The parameter types of uoe_selective_attention_grad: those of the
/// forward but for `out`, then dOut and its three strides, dq, dk, dv.
static SmallVector<Type> attentionGradParams(MLIRContext *context) {
  SmallVector<Type> params = attentionParams(context);
  params.pop_back();
  params.append(7, IntegerType::get(context, 64));
  return params;
}

/// The scores' scale: `scale` when given, else 1 / sqrt(dh).
static double attentionScale(std::optional<APFloat> scale, int64_t dh) {
  return scale ? scale->convertToDouble()
               : 1.0 / std::sqrt(static_cast<double>(dh));
}

/// The 26 arguments that uoe_selective_attention and its gradient share
/// (flags, sizes, scale, rotary base, q, k, v, positions, key padding) for
/// `op`, either op; `q` the view of its query.
template <class AttentionOp>
static SmallVector<Value> sharedArguments(ImplicitLocOpBuilder &b,
                                          AttentionOp op, const BufferView &q) {
  auto type = cast<RankedTensorType>(op.getQuery().getType());
  ArrayRef<int64_t> shape = type.getShape();
  auto i64 = [&](int64_t v) { return constantI64(b, v); };
  auto f64 = [&](double v) {
    return arith::ConstantOp::create(b, b.getF64FloatAttr(v)).getResult();
  };
  BufferView k = viewTensorInPlace(b, op.getKey()),
             v = viewTensorInPlace(b, op.getValue()),
             positions = viewTensorInPlace(b, op.getPositions());
  Value zero = i64(0), padAddress = zero, padStride = zero, tokens = zero;
  if (Value padding = op.getKeyPadding()) {
    BufferView pad = viewTensorInPlace(b, padding);
    padAddress = pad.address;
    padStride = pad.strides[0];
    tokens = pad.sizes[1];
  }
  int64_t heads = op.getHeads(), dh = shape[3] / heads;
  int64_t flags = (op.getCausal() ? kCausal : 0) |
                  (op.getKeyPadding() ? kKeyPadding : 0) |
                  (op.getRope() == RopeMode::Compacted ? kRopeCompacted : 0) |
                  (op.getRope() == RopeMode::Original ? kRopeOriginal : 0);
  return {i64(flags),
          i64(shape[0]),
          i64(shape[1]),
          q.sizes[2],
          i64(shape[3]),
          i64(heads),
          tokens,
          f64(attentionScale(op.getScale(), dh)),
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
          padStride};
}

/// Whether the CPU kernels take attention on `type` ([E, B, L, D]).
static bool isKernelType(RankedTensorType type) {
  ArrayRef<int64_t> shape = type.getShape();
  return type.getElementType().isF32() && !ShapedType::isDynamic(shape[0]) &&
         !ShapedType::isDynamic(shape[1]) && !ShapedType::isDynamic(shape[3]);
}

/// A fresh dense buffer of `type`, its dynamic sizes those of `q`'s view
/// (the selection's L).
static Value allocLike(ImplicitLocOpBuilder &b, RankedTensorType type,
                       const BufferView &q) {
  SmallVector<Value> dynamicSizes;
  for (int64_t i = 0; i < type.getRank(); ++i)
    if (type.isDynamicDim(i))
      dynamicSizes.push_back(
          arith::IndexCastOp::create(b, b.getIndexType(), q.sizes[i]));
  return allocResultBuffer(b, type, dynamicSizes);
}

namespace {

struct SelectiveAttentionToCall : OpRewritePattern<SelectiveAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SelectiveAttentionOp op,
                                PatternRewriter &rewriter) const override {
    auto type = op.getType();
    if (!isKernelType(type))
      return rewriter.notifyMatchFailure(op, "unsupported: not f32, or a "
                                             "dynamic E, B or D");
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    BufferView q = viewTensorInPlace(b, op.getQuery());
    SmallVector<Value> args = sharedArguments(b, op, q);
    Value out = allocLike(b, type, q);
    args.push_back(describeBuffer(b, out).address);
    assert(args.size() == attentionParams(getContext()).size() &&
           "the runtime's ABI");
    func::CallOp::create(b, kAttention, TypeRange{}, args);
    rewriter.replaceOp(op, resultTensor(b, type, out));
    return success();
  }
};

/// The gradient: the shared arguments, the result's gradient (address and
/// strides), then fresh dq, dk, dv.
struct SelectiveAttentionGradToCall
    : OpRewritePattern<SelectiveAttentionGradOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SelectiveAttentionGradOp op,
                                PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getQuery().getType());
    if (!isKernelType(type))
      return rewriter.notifyMatchFailure(op, "unsupported: not f32, or a "
                                             "dynamic E, B or D");
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    BufferView q = viewTensorInPlace(b, op.getQuery());
    SmallVector<Value> args = sharedArguments(b, op, q);
    BufferView dOut = viewTensorInPlace(b, op.getResultGrad());
    args.append(
        {dOut.address, dOut.strides[0], dOut.strides[1], dOut.strides[2]});
    SmallVector<Value> grads;
    for (int i = 0; i < 3; ++i) {
      grads.push_back(allocLike(b, type, q));
      args.push_back(describeBuffer(b, grads.back()).address);
    }
    assert(args.size() == attentionGradParams(getContext()).size() &&
           "the runtime's ABI");
    func::CallOp::create(b, kAttentionGrad, TypeRange{}, args);
    rewriter.replaceOp(op, {resultTensor(b, type, grads[0]),
                            resultTensor(b, type, grads[1]),
                            resultTensor(b, type, grads[2])});
    return success();
  }
};

/// `uoe.kv_attend`: a call of uoe_kv_attend (runtime/CpuKvCache.h) with
/// the cache, the layer, the flags, the sizes, the scale and rotary base,
/// q, k, v, start, the selection's positions and key padding (addresses
/// and strides; 0 without `selected`), and a fresh result buffer.
struct KvAttendToCall : OpRewritePattern<KvAttendOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(KvAttendOp op,
                                PatternRewriter &rewriter) const override {
    auto type = op.getType();
    if (!type.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "unsupported: not f32");
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    ArrayRef<int64_t> shape = type.getShape();
    int64_t heads = op.getHeads();
    auto i64 = [&](int64_t v) { return constantI64(b, v); };
    auto f64 = [&](double v) {
      return arith::ConstantOp::create(b, b.getF64FloatAttr(v)).getResult();
    };
    bool selected = static_cast<bool>(op.getPositions());
    int64_t flags = (selected ? kKvSelected : 0) |
                    (op.getRope() == RopeMode::Original ? kKvRopeOriginal : 0);
    auto start = cast<RankedTensorType>(op.getStart().getType());
    BufferView q = viewTensorInPlace(b, op.getQuery());
    SmallVector<Value> args{
        op.getCache(),
        op.getLayer(),
        i64(flags),
        i64(start.getShape()[0]),
        i64(shape[0]),
        q.sizes[1],
        i64(shape[2]),
        i64(heads),
        f64(attentionScale(op.getScale(), shape[2] / heads)),
        f64(op.getRopeBase().convertToDouble())};
    for (const BufferView &view : {q, viewTensorInPlace(b, op.getKey()),
                                   viewTensorInPlace(b, op.getValue())})
      args.append(
          {view.address, view.strides[0], view.strides[1], view.strides[2]});
    BufferView startView = viewTensorInPlace(b, op.getStart());
    args.append({startView.address, startView.strides[0]});
    Value zero = i64(0);
    if (selected) {
      BufferView positions = viewTensorInPlace(b, op.getPositions()),
                 padding = viewTensorInPlace(b, op.getKeyPadding());
      args.append({positions.address, positions.strides[0], padding.address,
                   padding.strides[0], padding.sizes[1]});
    } else {
      args.append({zero, zero, zero, zero, zero});
    }
    Value out = allocLike(b, type, q);
    args.push_back(describeBuffer(b, out).address);
    assert(args.size() == kvAttendParams(getContext()).size() &&
           "the runtime's ABI");
    func::CallOp::create(b, kKvAttend, TypeRange{}, args);
    rewriter.replaceOp(op, resultTensor(b, type, out));
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
    patterns.add<SelectiveAttentionToCall, SelectiveAttentionGradToCall,
                 KvAttendToCall>(&getContext());
    if (failed(applyPatternsGreedily(module, std::move(patterns))))
      return signalPassFailure();
    declareRuntimeFunctionIfCalled(module, kAttention,
                                   attentionParams(&getContext()));
    declareRuntimeFunctionIfCalled(module, kAttentionGrad,
                                   attentionGradParams(&getContext()));
    declareRuntimeFunctionIfCalled(module, kKvAttend,
                                   kvAttendParams(&getContext()));
  }
};

} // namespace
