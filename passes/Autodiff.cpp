//===- Autodiff.cpp - reverse-mode differentiation of uoe functions ------===//
//
// `--uoe-autodiff` builds, next to a function `@f`, its vector-Jacobian
// product `@f_grad`: the forward computation followed by the reverse
// sweep, returning `@f`'s results and the gradient of every float argument.
//
// The sweep works on the level-2 form of the IR (prepareForAutodiff): the
// layer ops are expanded, so rules exist for the routing and expert ops,
// the norms, the embedding, the loss, and the upstream ops that the
// frontend and the expansions emit (elementwise arith, reshapes, slices,
// transposes, broadcasts, batch matmuls, sum reductions). Each rule reads
// the forward op's operands and results, which stay live in the same
// function, and emits the adjoints of its float operands.
//
// A uoe op states its rule where it is defined: it declares
// `UoE_DifferentiableOpInterface` in ODS and implements `buildGradient` in
// dialect/UoEGradients.cpp, emitting either a `*_grad` op of UoEGradOps.td
// or a short chain of ops that already exist. The sweep (`Differentiator`)
// is the `AdjointBuilder` those rules build with: it sums the adjoints and
// builds the few linalg pieces they share with passes/LinalgBuilder.h, so
// that the dialect does not depend on the passes. The upstream ops, which
// we cannot annotate, keep their rules here, one TypeSwitch per dialect.
//
// Routing decisions (positions, top-k masks) are integers or piecewise
// constant and carry no gradient: in union mode the router receives none
// (its adjoint is zero), in gated mode it receives the gradient of the
// combine weights (spec §5).
//
//===----------------------------------------------------------------------===//

#include "passes/Autodiff.h"

#include "passes/LinalgBuilder.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mlir::uoe {
#define GEN_PASS_DEF_UOEAUTODIFFPASS
#include "passes/Passes.h.inc"
} // namespace mlir::uoe

using namespace mlir;
using namespace mlir::uoe;

//===----------------------------------------------------------------------===//
// The differentiable form
//===----------------------------------------------------------------------===//

namespace {

/// `act(lhs rhs + bias)` -> `uoe.activation(lhs rhs + bias)`, so that the
/// pre-activation is a value the backward can read.
struct SplitActivation : OpRewritePattern<ExpertMatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ExpertMatmulOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getActivation() == Activation::None)
      return failure();
    auto type = cast<RankedTensorType>(op.getType());
    SmallVector<int64_t> shape(type.getShape());
    shape.back() = cast<RankedTensorType>(op.getRhs().getType()).getShape()[2];
    Value z = ExpertMatmulOp::create(
        rewriter, op.getLoc(),
        RankedTensorType::get(shape, type.getElementType()), op.getLhs(),
        op.getRhs(), op.getBias(),
        ActivationAttr::get(getContext(), Activation::None));
    rewriter.replaceOpWithNewOp<ActivationOp>(op, type, z,
                                              op.getActivationAttr());
    return success();
  }
};

} // namespace

LogicalResult uoe::prepareForAutodiff(func::FuncOp func) {
  RewritePatternSet patterns(func.getContext());
  populateExpandLayersPatterns(patterns);
  populateDenseLayerExpansionPatterns(patterns);
  patterns.add<SplitActivation>(func.getContext());
  GreedyRewriteConfig config;
  config.setMaxIterations(GreedyRewriteConfig::kNoLimit);
  if (failed(applyPatternsGreedily(func, std::move(patterns), config)))
    return func.emitError("could not expand the layers for differentiation");
  return success();
}

//===----------------------------------------------------------------------===//
// The reverse sweep
//===----------------------------------------------------------------------===//

namespace {

bool isFloatValue(Value v) {
  return isa<FloatType>(getElementTypeOrSelf(v.getType()));
}

/// The reverse sweep over one block: the adjoint of every forward value
/// that the objective depends on, built op by op in reverse order. The uoe
/// ops state their gradients themselves (DifferentiableOpInterface, rules
/// in dialect/UoEGradients.cpp) and build with this class as their
/// `AdjointBuilder`; the upstream ops, which we cannot annotate, have their
/// rules here (`visitArith`, `visitTensor`, `visitLinalg`).
class Differentiator : public AdjointBuilder {
public:
  explicit Differentiator(ImplicitLocOpBuilder &b) : b(b) {}

  ImplicitLocOpBuilder &builder() override { return b; }

  /// Adds `adjoint` to the adjoint of `v` (a float value).
  void accumulate(Value v, Value adjoint) override {
    if (!v || !adjoint || !isFloatValue(v))
      return;
    auto [it, inserted] = adjoints.try_emplace(v, adjoint);
    if (!inserted)
      it->second = arith::AddFOp::create(b, it->second, adjoint);
  }

  /// The adjoint of `v`, or null where nothing depends on it.
  Value adjoint(Value v) const { return adjoints.lookup(v); }

  /// Zeros of `v`'s type (a fresh tensor, never a constant: adjoints may be
  /// returned, and returned buffers must be owned).
  Value zerosLike(Value v) override {
    Type elt = getElementTypeOrSelf(v.getType());
    if (!isa<RankedTensorType>(v.getType()))
      return constFloat(b, elt, 0.0);
    return filledTensor(b, tensorSizes(b, v), elt, b.getFloatAttr(elt, 0.0));
  }

  SmallVector<OpFoldResult> sizes(Value tensor) override {
    return tensorSizes(b, tensor);
  }
  Value sumOver(Value v, ArrayRef<int64_t> reducedDims) override;
  Value broadcastMul(Value x, Value w, ArrayRef<int64_t> wDims) override;
  Value batchMatmul(Value lhs, Value rhs) override {
    return uoe::batchMatmul(b, lhs, rhs);
  }
  Value transpose(Value tensor, ArrayRef<int64_t> permutation) override {
    return uoe::transpose(b, tensor, permutation);
  }

  LogicalResult visit(Operation *op);

private:
  // The rules of the upstream ops, one per dialect.
  LogicalResult visitArith(Operation *op, Value dy);
  LogicalResult visitTensor(Operation *op, Value dy);
  LogicalResult visitLinalg(Operation *op, Value dy);

  ImplicitLocOpBuilder &b;
  DenseMap<Value, Value> adjoints;
};

/// Sum of `v` over `reducedDims` (the kept dimensions in order).
Value Differentiator::sumOver(Value v, ArrayRef<int64_t> reducedDims) {
  auto type = cast<RankedTensorType>(v.getType());
  Type elt = type.getElementType();
  SmallVector<int64_t> all, kept;
  SmallVector<IteratorType> iterators;
  SmallVector<OpFoldResult> sizes = tensorSizes(b, v), keptSizes;
  for (int64_t i = 0; i < type.getRank(); ++i) {
    all.push_back(i);
    bool reduced = llvm::is_contained(reducedDims, i);
    iterators.push_back(reduced ? kRed : kPar);
    if (!reduced) {
      kept.push_back(i);
      keptSizes.push_back(sizes[i]);
    }
  }
  Value init = filledTensor(b, keptSizes, elt, b.getFloatAttr(elt, 0.0));
  return buildGeneric(b, v, init, {all, kept}, iterators,
                      [](ImplicitLocOpBuilder &b, ValueRange a) {
                        return SmallVector<Value>{
                            arith::AddFOp::create(b, a[1], a[0])};
                      })[0];
}

/// `x * w` with `w` broadcast along the dimensions of `x` not in `wDims`.
Value Differentiator::broadcastMul(Value x, Value w, ArrayRef<int64_t> wDims) {
  auto type = cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> all;
  for (int64_t i = 0; i < type.getRank(); ++i)
    all.push_back(i);
  return buildGeneric(
      b, ValueRange{x, w}, emptyTensor(b, tensorSizes(b, x), type.getElementType()),
      {all, SmallVector<int64_t>(wDims), all},
      SmallVector<IteratorType>(type.getRank(), kPar),
      [](ImplicitLocOpBuilder &b, ValueRange a) {
        return SmallVector<Value>{arith::MulFOp::create(b, a[0], a[1])};
      })[0];
}

LogicalResult Differentiator::visitArith(Operation *op, Value dy) {
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](arith::AddFOp add) {
        accumulate(add.getLhs(), dy);
        accumulate(add.getRhs(), dy);
        return success();
      })
      .Case([&](arith::SubFOp sub) {
        accumulate(sub.getLhs(), dy);
        accumulate(sub.getRhs(), arith::NegFOp::create(b, dy));
        return success();
      })
      .Case([&](arith::MulFOp mul) {
        accumulate(mul.getLhs(), arith::MulFOp::create(b, dy, mul.getRhs()));
        accumulate(mul.getRhs(), arith::MulFOp::create(b, dy, mul.getLhs()));
        return success();
      })
      .Case([&](arith::DivFOp div) {
        // d(a/b) = da / b - (a/b) db / b.
        accumulate(div.getLhs(), arith::DivFOp::create(b, dy, div.getRhs()));
        if (isFloatValue(div.getRhs()))
          accumulate(div.getRhs(),
                     arith::NegFOp::create(
                         b, arith::DivFOp::create(
                                b, arith::MulFOp::create(b, dy, div.getResult()),
                                div.getRhs())));
        return success();
      })
      .Case([&](arith::NegFOp neg) {
        accumulate(neg.getOperand(), arith::NegFOp::create(b, dy));
        return success();
      })
      .Case([&](arith::MaximumFOp max) {
        // The larger operand takes the gradient (the left one on a tie).
        Value left = arith::CmpFOp::create(b, arith::CmpFPredicate::OGE,
                                           max.getLhs(), max.getRhs());
        Value zero = zerosLike(dy);
        accumulate(max.getLhs(), arith::SelectOp::create(b, left, dy, zero));
        accumulate(max.getRhs(), arith::SelectOp::create(b, left, zero, dy));
        return success();
      })
      .Default([&](Operation *) { return failure(); });
}

LogicalResult Differentiator::visitTensor(Operation *op, Value dy) {
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](tensor::ExpandShapeOp expand) {
        accumulate(expand.getSrc(),
                   tensor::CollapseShapeOp::create(
                       b, expand.getSrcType(), dy,
                       expand.getReassociationIndices()));
        return success();
      })
      .Case([&](tensor::CollapseShapeOp collapseOp) {
        accumulate(collapseOp.getSrc(),
                   expand(b, dy, collapseOp.getSrcType(),
                          collapseOp.getReassociationIndices(),
                          tensorSizes(b, collapseOp.getSrc())));
        return success();
      })
      .Case([&](tensor::CastOp cast) {
        accumulate(cast.getSource(),
                   tensor::CastOp::create(b, cast.getSource().getType(), dy));
        return success();
      })
      .Case([&](tensor::ExtractSliceOp slice) {
        Value source = slice.getSource();
        auto offsets = slice.getMixedOffsets();
        auto sizes = slice.getMixedSizes();
        auto strides = slice.getMixedStrides();
        // A later slice of an adjoint already started (the q, k and v
        // blocks of one stacked weight) adds into its own window only:
        // the same sums as adding `dy` padded with zeros, without passes
        // over the whole tensor.
        if (Value existing = adjoint(source);
            existing && isFloatValue(source)) {
          Value window = tensor::ExtractSliceOp::create(
              b, slice.getType(), existing, offsets, sizes, strides);
          Value sum = arith::AddFOp::create(b, window, dy);
          adjoints[source] = tensor::InsertSliceOp::create(
              b, sum, existing, offsets, sizes, strides);
          return success();
        }
        Value zeros = zerosLike(source);
        accumulate(source, tensor::InsertSliceOp::create(b, dy, zeros, offsets,
                                                         sizes, strides));
        return success();
      })
      .Default([&](Operation *) { return failure(); });
}

LogicalResult Differentiator::visitLinalg(Operation *op, Value dy) {
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](linalg::FillOp) { return success(); })
      .Case([&](linalg::GenericOp generic) {
        // A generic that reads no float value (its inputs are integers or
        // indices, its outputs fresh) is constant: e.g. a dropout mask.
        bool constant =
            llvm::none_of(generic.getDpsInputs(), isFloatValue) &&
            llvm::all_of(generic.getDpsInits(), [](Value init) {
              return init.getDefiningOp<tensor::EmptyOp>() != nullptr;
            });
        return success(constant);
      })
      .Case([&](linalg::TransposeOp t) {
        ArrayRef<int64_t> perm = t.getPermutation();
        SmallVector<int64_t> inverse(perm.size());
        for (auto [i, p] : llvm::enumerate(perm))
          inverse[p] = static_cast<int64_t>(i);
        accumulate(t.getInput(), uoe::transpose(b, dy, inverse));
        return success();
      })
      .Case([&](linalg::BroadcastOp bc) {
        accumulate(bc.getInput(), sumOver(dy, bc.getDimensions()));
        return success();
      })
      .Case([&](linalg::BatchMatmulOp mm) -> LogicalResult {
        if (mm.hasUserDefinedMaps())
          return mm.emitOpError("cannot be differentiated: its indexing maps "
                                "are not the default ones");
        Value lhs = mm.getDpsInputs()[0], rhs = mm.getDpsInputs()[1];
        accumulate(lhs,
                   uoe::batchMatmul(b, dy, uoe::transpose(b, rhs, {0, 2, 1})));
        accumulate(rhs,
                   uoe::batchMatmul(b, uoe::transpose(b, lhs, {0, 2, 1}), dy));
        accumulate(mm.getDpsInits()[0], dy);
        return success();
      })
      .Case([&](linalg::ReduceOp reduce) -> LogicalResult {
        Block &body = reduce.getCombiner().front();
        if (reduce.getInputs().size() != 1 ||
            !isa<arith::AddFOp>(body.front()))
          return reduce.emitOpError(
              "cannot be differentiated: only single-input sum reductions are");
        Value input = reduce.getInputs()[0];
        Value init = emptyTensor(b, tensorSizes(b, input),
                                 getElementTypeOrSelf(input.getType()));
        accumulate(input, linalg::BroadcastOp::create(b, dy, init,
                                                      reduce.getDimensions())
                              .getResult()[0]);
        accumulate(reduce.getInits()[0], dy);
        return success();
      })
      .Default([&](Operation *) { return failure(); });
}

LogicalResult Differentiator::visit(Operation *op) {
  // Only ops some result of which the objective depends on.
  SmallVector<Value> resultAdjoints;
  bool any = false;
  for (Value r : op->getResults()) {
    resultAdjoints.push_back(adjoint(r));
    any |= static_cast<bool>(resultAdjoints.back());
  }
  if (!any)
    return success();
  // Ops without float operands (constants, integer casts, comparisons)
  // have nothing to propagate to.
  if (llvm::none_of(op->getOperands(), isFloatValue))
    return success();
  // A uoe op states its own rule; an upstream op goes to the rules of its
  // dialect here. Any other op (a uoe op without a gradient among them)
  // has none.
  LogicalResult handled = failure();
  if (auto differentiable = dyn_cast<DifferentiableOpInterface>(op)) {
    handled = differentiable.buildGradient(*this, resultAdjoints);
  } else {
    Value dy = resultAdjoints.front();
    Dialect *dialect = op->getDialect();
    if (isa_and_nonnull<arith::ArithDialect>(dialect))
      handled = visitArith(op, dy);
    else if (isa_and_nonnull<tensor::TensorDialect>(dialect))
      handled = visitTensor(op, dy);
    else if (isa_and_nonnull<linalg::LinalgDialect>(dialect))
      handled = visitLinalg(op, dy);
  }
  if (succeeded(handled))
    return success();
  return op->emitOpError()
         << "has no differentiation rule (--uoe-autodiff supports the uoe "
            "ops, elementwise arith, reshapes, slices, transposes, "
            "broadcasts, batch matmuls and sum reductions)";
}

} // namespace

FailureOr<SmallVector<Value>>
uoe::buildAdjoints(ImplicitLocOpBuilder &b, Block &block,
                   ArrayRef<std::pair<Value, Value>> seeds,
                   ArrayRef<Value> wrt) {
  // The forward ops, before the sweep appends to the block.
  SmallVector<Operation *> forward;
  for (Operation &op : block.without_terminator())
    forward.push_back(&op);

  Differentiator diff(b);
  for (auto [value, seed] : seeds)
    diff.accumulate(value, seed);
  for (Operation *op : llvm::reverse(forward))
    if (failed(diff.visit(op)))
      return failure();

  SmallVector<Value> result;
  for (Value v : wrt) {
    Value adjoint = diff.adjoint(v);
    result.push_back(adjoint ? adjoint : diff.zerosLike(v));
  }
  return result;
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

namespace {

/// The name an argument or result is known by in an Executable.
std::string nameOf(func::FuncOp func, unsigned index, bool isResult) {
  if (isResult) {
    if (auto name = func.getResultAttrOfType<StringAttr>(index, "uoe.result"))
      return name.str();
    return "result" + std::to_string(index);
  }
  for (StringRef attr : {"uoe.param", "uoe.input"})
    if (auto name = func.getArgAttrOfType<StringAttr>(index, attr))
      return name.str();
  return "arg" + std::to_string(index);
}

struct UoEAutodiffPass : uoe::impl::UoEAutodiffPassBase<UoEAutodiffPass> {
  using UoEAutodiffPassBase::UoEAutodiffPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto forward = module.lookupSymbol<func::FuncOp>(function);
    if (!forward || forward.isExternal()) {
      module.emitError() << "--uoe-autodiff: no function @" << function
                         << " with a body to differentiate";
      return signalPassFailure();
    }
    if (!forward.getBody().hasOneBlock()) {
      forward.emitError("--uoe-autodiff needs a function of one block");
      return signalPassFailure();
    }
    std::string gradName = function + "_grad";
    if (module.lookupSymbol(gradName)) {
      module.emitError() << "--uoe-autodiff: @" << gradName
                         << " exists already";
      return signalPassFailure();
    }

    auto grad = cast<func::FuncOp>(forward->clone());
    grad.setSymName(gradName);
    module.insert(std::next(Block::iterator(forward)), grad);
    if (failed(prepareForAutodiff(grad)))
      return signalPassFailure();

    // Arguments: the inputs, one seed per float result (named d_<result>),
    // then the parameters, so that inputs still precede parameters.
    Block &body = grad.getBody().front();
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    unsigned firstParam = grad.getNumArguments();
    for (unsigned i = 0; i < grad.getNumArguments(); ++i)
      if (grad.getArgAttr(i, "uoe.param")) {
        firstParam = i;
        break;
      }
    SmallVector<Value> wrt;
    SmallVector<std::string> wrtNames;
    for (unsigned i = 0; i < grad.getNumArguments(); ++i)
      if (isFloatValue(grad.getArgument(i))) {
        wrt.push_back(grad.getArgument(i));
        wrtNames.push_back("d_" + nameOf(grad, i, /*isResult=*/false));
      }
    SmallVector<std::pair<Value, Value>> seeds;
    unsigned at = firstParam;
    for (auto [i, result] : llvm::enumerate(ret.getOperands())) {
      if (!isFloatValue(result))
        continue;
      MLIRContext *ctx = &getContext();
      auto attrs = DictionaryAttr::get(
          ctx, {NamedAttribute(
                   StringAttr::get(ctx, "uoe.input"),
                   StringAttr::get(ctx, "d_" + nameOf(grad, i, true)))});
      if (failed(grad.insertArgument(at, result.getType(), attrs,
                                     grad.getLoc())))
        return signalPassFailure();
      seeds.push_back({result, body.getArgument(at)});
      ++at;
    }

    ImplicitLocOpBuilder b(grad.getLoc(), ret);
    FailureOr<SmallVector<Value>> adjoints = buildAdjoints(b, body, seeds, wrt);
    if (failed(adjoints))
      return signalPassFailure();

    // Results: the forward's, then one gradient per float argument.
    SmallVector<Value> results(ret.getOperands());
    SmallVector<DictionaryAttr> resultAttrs;
    for (unsigned i = 0; i < results.size(); ++i)
      resultAttrs.push_back(grad.getResultAttrDict(i));
    for (auto [adjoint, name] : llvm::zip(*adjoints, wrtNames)) {
      results.push_back(adjoint);
      resultAttrs.push_back(b.getDictionaryAttr(
          {b.getNamedAttr("uoe.result", b.getStringAttr(name))}));
    }
    func::ReturnOp::create(b, results);
    ret.erase();
    grad.setFunctionType(b.getFunctionType(body.getArgumentTypes(),
                                           ValueRange(results).getTypes()));
    grad.setAllResultAttrs(resultAttrs);
  }
};

} // namespace
