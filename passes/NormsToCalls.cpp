//===- NormsToCalls.cpp - norms and their residual add to the CPU kernel -===//
//
// See UoENormsToCallsPass in Passes.td. One `uoe.layer_norm` or
// `uoe.rms_norm` on an f32 tensor of rank 2 or 3 becomes a call of the
// runtime's `uoe_norm` (runtime/CpuNorm.h); when its input is an
// `arith.addf` (the residual add of a transformer block), the add is done by
// the kernel too, and written out only when something else reads it:
//
//   %s = arith.addf %x, %y            %out = memref.alloc() ...
//   %n = uoe.layer_norm %s, ...  ->   [%sum = memref.alloc() ...]
//                                     func.call @uoe_norm(flags, ..., %x, %y,
//                                                         ..., %out, %sum)
//
// Their gradients (`uoe.layer_norm_grad`, `uoe.rms_norm_grad`) become calls
// of `uoe_norm_grad`: dx per row in one visit, the column sums (dgamma,
// dbeta) over fixed blocks of rows.
//
// The argument lists are the ABI of runtime/CpuNorm.h.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/RuntimeCalls.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::uoe {
#define GEN_PASS_DEF_UOENORMSTOCALLSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::uoe

using namespace mlir;
using namespace mlir::uoe;

static constexpr StringLiteral kNorm = "uoe_norm";
static constexpr StringLiteral kNormGrad = "uoe_norm_grad";
/// The runtime's flags (runtime/CpuNorm.h).
static constexpr int64_t kRms = 1, kResidual = 2, kWriteSum = 4, kBeta = 8;

/// The parameter types of uoe_norm: i64 but for eps (f64), argument 4.
static SmallVector<Type> normParams(MLIRContext *context) {
  SmallVector<Type> params(15, IntegerType::get(context, 64));
  params[4] = Float64Type::get(context);
  return params;
}

namespace {

/// The arguments both kernels begin with: flags, the rows' shape (outer,
/// inner, width), eps as f64, and x's address and row strides.
SmallVector<Value> rowArguments(ImplicitLocOpBuilder &b, int64_t flags,
                                RankedTensorType type, const APFloat &eps,
                                const BufferView &x) {
  auto i64 = [&](int64_t v) { return constantI64(b, v); };
  auto [outer, inner, width] = rowShape(type);
  auto [strideO, strideI] = rowStrides(x, i64(0));
  return {
      i64(flags),
      i64(outer),
      i64(inner),
      i64(width),
      arith::ConstantOp::create(b, b.getF64FloatAttr(eps.convertToDouble())),
      x.address,
      strideO,
      strideI};
}

template <class NormOp> struct NormToCall : OpRewritePattern<NormOp> {
  using OpRewritePattern<NormOp>::OpRewritePattern;

  LogicalResult matchAndRewrite(NormOp op,
                                PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    if (!isKernelRowsType(type))
      return rewriter.notifyMatchFailure(op, "unsupported type");
    constexpr bool rms = std::is_same_v<NormOp, RmsNormOp>;
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto i64 = [&](int64_t v) { return constantI64(b, v); };
    Value zero = i64(0);

    Value input = op.getInput();
    auto add = input.template getDefiningOp<arith::AddFOp>();
    // The kernel's sum replaces the add's other uses, so they must come
    // after the norm (in its block), where the sum is defined.
    bool residual = add && add.getLhs().getType() == type &&
                    add.getRhs().getType() == type &&
                    llvm::all_of(add->getUsers(), [&](Operation *user) {
                      return user == op.getOperation() ||
                             (user->getBlock() == op->getBlock() &&
                              op->isBeforeInBlock(user));
                    });
    bool writeSum = residual && !add->hasOneUse();
    BufferView x = viewTensorInPlace(b, residual ? add.getLhs() : input);
    Value rAddress = zero, rStrideO = zero, rStrideI = zero;
    if (residual) {
      BufferView r = viewTensorInPlace(b, add.getRhs());
      rAddress = r.address;
      std::tie(rStrideO, rStrideI) = rowStrides(r, zero);
    }
    Value gamma = viewTensorInPlace(b, op.getGamma()).address, beta = zero;
    if constexpr (!rms)
      beta = viewTensorInPlace(b, op.getBeta()).address;
    Value out = allocResultBuffer(b, type),
          sum = writeSum ? allocResultBuffer(b, type) : Value();

    int64_t flags = (rms ? kRms : kBeta) | (residual ? kResidual : 0) |
                    (writeSum ? kWriteSum : 0);
    SmallVector<Value> args = rowArguments(b, flags, type, op.getEps(), x);
    args.append({rAddress, rStrideO, rStrideI, gamma, beta,
                 describeBuffer(b, out).address,
                 sum ? describeBuffer(b, sum).address : zero});
    assert(args.size() == normParams(b.getContext()).size() &&
           "the runtime's ABI");
    func::CallOp::create(b, kNorm, TypeRange{}, args);
    auto toTensor = [&](Value buffer) { return resultTensor(b, type, buffer); };
    if (writeSum)
      rewriter.replaceAllUsesExcept(add.getResult(), toTensor(sum), op);
    rewriter.replaceOp(op, toTensor(out));
    return success();
  }
};

/// `uoe.layer_norm_grad` / `uoe.rms_norm_grad` -> uoe_norm_grad.
template <class GradOp> struct NormGradToCall : OpRewritePattern<GradOp> {
  using OpRewritePattern<GradOp>::OpRewritePattern;

  LogicalResult matchAndRewrite(GradOp op,
                                PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getInput().getType());
    if (!isKernelRowsType(type))
      return rewriter.notifyMatchFailure(op, "unsupported type");
    constexpr bool rms = std::is_same_v<GradOp, RmsNormGradOp>;
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto i64 = [&](int64_t v) { return constantI64(b, v); };
    Value zero = i64(0);
    BufferView x = viewTensorInPlace(b, op.getInput());
    BufferView dy = viewTensorInPlace(b, op.getResultGrad());
    auto [dyStrideO, dyStrideI] = rowStrides(dy, zero);
    auto gammaType = cast<RankedTensorType>(op.getGamma().getType());
    Value dx = allocResultBuffer(b, type),
          dgamma = allocResultBuffer(b, gammaType),
          dbeta = rms ? Value() : allocResultBuffer(b, gammaType);
    SmallVector<Value> args =
        rowArguments(b, rms ? kRms : 0, type, op.getEps(), x);
    args.append({dy.address, dyStrideO, dyStrideI,
                 viewTensorInPlace(b, op.getGamma()).address,
                 describeBuffer(b, dx).address,
                 describeBuffer(b, dgamma).address,
                 dbeta ? describeBuffer(b, dbeta).address : zero});
    assert(args.size() == normParams(b.getContext()).size() &&
           "the runtime's ABI");
    func::CallOp::create(b, kNormGrad, TypeRange{}, args);
    SmallVector<Value> results{resultTensor(b, type, dx),
                               resultTensor(b, gammaType, dgamma)};
    if (dbeta)
      results.push_back(resultTensor(b, gammaType, dbeta));
    rewriter.replaceOp(op, results);
    return success();
  }
};

struct UoENormsToCallsPass
    : uoe::impl::UoENormsToCallsPassBase<UoENormsToCallsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    RewritePatternSet patterns(&getContext());
    patterns
        .add<NormToCall<LayerNormOp>, NormToCall<RmsNormOp>,
             NormGradToCall<LayerNormGradOp>, NormGradToCall<RmsNormGradOp>>(
            &getContext());
    if (failed(applyPatternsGreedily(module, std::move(patterns))))
      return signalPassFailure();
    declareRuntimeFunctionIfCalled(module, kNorm, normParams(&getContext()));
    // uoe_norm_grad has the same parameter types.
    declareRuntimeFunctionIfCalled(module, kNormGrad,
                                   normParams(&getContext()));
  }
};

} // namespace
