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
// function, and emits the adjoints of its float operands: either a `*_grad`
// op of UoEGradOps.td (norms, attention, routing, embedding, loss) or a
// short chain of ops that already exist (the transpose of `uoe.dispatch`
// is a union `uoe.combine`, and the other way round; a GEMM's gradients
// are GEMMs).
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

class Differentiator {
public:
  explicit Differentiator(ImplicitLocOpBuilder &b) : b(b) {}

  /// Adds `adjoint` to the adjoint of `v` (a float value).
  void accumulate(Value v, Value adjoint) {
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
  Value zerosLike(Value v) {
    Type elt = getElementTypeOrSelf(v.getType());
    if (!isa<RankedTensorType>(v.getType()))
      return constFloat(b, elt, 0.0);
    return filledTensor(b, tensorSizes(b, v), elt, b.getFloatAttr(elt, 0.0));
  }

  LogicalResult visit(Operation *op);

private:
  // Helpers.
  Value sumOver(Value v, ArrayRef<int64_t> reducedDims);
  Value broadcastMul(Value x, Value w, ArrayRef<int64_t> wDims);

  // Rules, one per op family.
  LogicalResult visitArith(Operation *op, Value dy);
  LogicalResult visitTensor(Operation *op, Value dy);
  LogicalResult visitLinalg(Operation *op, Value dy);
  LogicalResult visitExpertMatmul(ExpertMatmulOp op, Value dy);
  LogicalResult visitCombine(CombineOp op, Value dy);
  LogicalResult visitEmbedding(EmbeddingOp op, Value dy);

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
        Value zeros = zerosLike(slice.getSource());
        accumulate(slice.getSource(),
                   tensor::InsertSliceOp::create(
                       b, dy, zeros, slice.getMixedOffsets(),
                       slice.getMixedSizes(), slice.getMixedStrides()));
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
        accumulate(t.getInput(), transpose(b, dy, inverse));
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
        accumulate(lhs, batchMatmul(b, dy, transpose(b, rhs, {0, 2, 1})));
        accumulate(rhs, batchMatmul(b, transpose(b, lhs, {0, 2, 1}), dy));
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

LogicalResult Differentiator::visitExpertMatmul(ExpertMatmulOp op, Value dy) {
  if (op.getActivation() != Activation::None)
    return op.emitOpError("cannot be differentiated with a fused activation "
                          "(prepareForAutodiff splits it out)");
  // Flatten [E, ..., M, K] to [E, S, K]: dlhs = dy rhs^T, drhs = lhs^T dy,
  // dbias = the column sums of dy.
  Value lhs = op.getLhs();
  auto lhsType = cast<RankedTensorType>(lhs.getType());
  int64_t rank = lhsType.getRank();
  auto flatten = [&](Value v) {
    if (rank == 3)
      return v;
    ReassociationIndices rows;
    for (int64_t i = 1; i < rank - 1; ++i)
      rows.push_back(i);
    return collapse(b, v, {{0}, rows, {rank - 1}});
  };
  Value lhs3 = flatten(lhs), dy3 = flatten(dy);
  Value dlhs = batchMatmul(b, dy3, transpose(b, op.getRhs(), {0, 2, 1}));
  if (rank != 3) {
    ReassociationIndices rows;
    for (int64_t i = 1; i < rank - 1; ++i)
      rows.push_back(i);
    dlhs = expand(b, dlhs, lhsType, {{0}, rows, {rank - 1}},
                  tensorSizes(b, lhs));
  }
  accumulate(lhs, dlhs);
  accumulate(op.getRhs(), batchMatmul(b, transpose(b, lhs3, {0, 2, 1}), dy3));
  if (Value bias = op.getBias())
    accumulate(bias, sumOver(dy3, {1}));
  return success();
}

LogicalResult Differentiator::visitCombine(CombineOp op, Value dy) {
  // The transpose of the scatter is the gather of the same positions.
  Value ys = op.getInput();
  Value gathered = DispatchOp::create(b, ys.getType(), dy, op.getPositions(),
                                      op.getPatchAttr());
  Value weights = op.getWeights();
  if (!weights) {
    accumulate(ys, gathered);
    return success();
  }
  // Gated: out += w * y, so dy_e = w * gathered and dw = <gathered, y> over
  // the patch's rows and the channels. View [E, R, L*P, d] as
  // [E, R, L, P, d] to line the rows up with their patch's weight.
  auto ysType = cast<RankedTensorType>(ys.getType());
  int64_t patch = op.getPatch(), d = ysType.getShape()[3];
  SmallVector<OpFoldResult> posSizes = tensorSizes(b, op.getPositions());
  SmallVector<OpFoldResult> viewSizes(posSizes);
  viewSizes.push_back(b.getIndexAttr(patch));
  viewSizes.push_back(b.getIndexAttr(d));
  SmallVector<int64_t> viewShape(
      cast<RankedTensorType>(op.getPositions().getType()).getShape());
  viewShape.push_back(patch);
  viewShape.push_back(d);
  auto viewType = RankedTensorType::get(viewShape, ysType.getElementType());
  SmallVector<ReassociationIndices> groups{{0}, {1}, {2, 3}, {4}};
  Value gatheredView = expand(b, gathered, viewType, groups, viewSizes);
  Value ysView = expand(b, ys, viewType, groups, viewSizes);
  Value scaled = broadcastMul(gatheredView, weights, {0, 1, 2});
  accumulate(ys, collapse(b, scaled, groups));
  Value product = arith::MulFOp::create(b, gatheredView, ysView);
  accumulate(weights, sumOver(product, {3, 4}));
  return success();
}

LogicalResult Differentiator::visitEmbedding(EmbeddingOp op, Value dy) {
  accumulate(op.getTable(),
             EmbeddingGradOp::create(b, op.getTable().getType(), op.getIds(),
                                     dy));
  Value positions = op.getPositions();
  if (!positions)
    return success();
  // Row t of the position table is added at position t of every sequence.
  auto dyType = cast<RankedTensorType>(dy.getType());
  SmallVector<int64_t> leading;
  for (int64_t i = 0; i + 2 < dyType.getRank(); ++i)
    leading.push_back(i);
  Value perPosition = leading.empty() ? dy : sumOver(dy, leading);
  int64_t t = dyType.getShape()[dyType.getRank() - 2],
          d = dyType.getShape().back();
  SmallVector<OpFoldResult> offsets(2, b.getIndexAttr(0)),
      sizes{b.getIndexAttr(t), b.getIndexAttr(d)},
      strides(2, b.getIndexAttr(1));
  accumulate(positions,
             tensor::InsertSliceOp::create(b, perPosition, zerosLike(positions),
                                           offsets, sizes, strides));
  return success();
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
  Value dy = resultAdjoints.front();
  MLIRContext *ctx = op->getContext();

  LogicalResult handled =
      llvm::TypeSwitch<Operation *, LogicalResult>(op)
          .Case([&](ExpertMatmulOp mm) { return visitExpertMatmul(mm, dy); })
          .Case([&](ActivationOp act) {
            accumulate(act.getInput(),
                       ActivationGradOp::create(b, act.getInput().getType(),
                                                act.getInput(), dy,
                                                act.getActivationAttr()));
            return success();
          })
          .Case([&](DispatchOp dispatch) {
            accumulate(dispatch.getInput(),
                       CombineOp::create(
                           b, dispatch.getInput().getType(), dy,
                           dispatch.getPositions(), Value(),
                           CombineModeAttr::get(ctx, CombineMode::Union),
                           dispatch.getPatchAttr()));
            return success();
          })
          .Case([&](CombineOp combine) { return visitCombine(combine, dy); })
          .Case([&](DataSelectOp select) {
            // Only the weights are differentiable; the positions are not.
            if (Value dw = resultAdjoints[1])
              accumulate(select.getScores(),
                         DataSelectGradOp::create(
                             b, select.getScores().getType(),
                             select.getPositions(), dw, select.getPatchAttr()));
            return success();
          })
          .Case([&](TokenChoiceOp choice) {
            accumulate(choice.getProbs(),
                       TokenChoiceGradOp::create(
                           b, choice.getProbs().getType(), choice.getProbs(),
                           dy, choice.getTopAttr(), choice.getRenormalizeAttr(),
                           choice.getAxisAttr(), choice.getEpsAttr(),
                           choice.getCapacityAttr()));
            return success();
          })
          .Case([&](RouterOp router) {
            auto grads = RouterGradOp::create(
                b, router.getInput().getType(), router.getWeight().getType(),
                router.getBias().getType(), router.getInput(),
                router.getWeight(), router.getProbs(), dy,
                router.getScoreAttr());
            accumulate(router.getInput(), grads.getInputGrad());
            accumulate(router.getWeight(), grads.getWeightGrad());
            accumulate(router.getBias(), grads.getBiasGrad());
            return success();
          })
          .Case([&](SelectiveAttentionOp attn) {
            Type type = attn.getQuery().getType();
            auto grads = SelectiveAttentionGradOp::create(
                b, type, type, type, attn.getQuery(), attn.getKey(),
                attn.getValue(), attn.getPositions(), attn.getKeyPadding(), dy,
                attn.getHeadsAttr(), attn.getCausalAttr(), attn.getRopeAttr(),
                attn.getRopeBaseAttr(), attn.getScaleAttr());
            accumulate(attn.getQuery(), grads.getQueryGrad());
            accumulate(attn.getKey(), grads.getKeyGrad());
            accumulate(attn.getValue(), grads.getValueGrad());
            return success();
          })
          .Case([&](LayerNormOp norm) {
            Type gammaType = norm.getGamma().getType();
            auto grads = LayerNormGradOp::create(
                b, norm.getInput().getType(), gammaType, gammaType,
                norm.getInput(), norm.getGamma(), dy, norm.getEpsAttr());
            accumulate(norm.getInput(), grads.getInputGrad());
            accumulate(norm.getGamma(), grads.getGammaGrad());
            accumulate(norm.getBeta(), grads.getBetaGrad());
            return success();
          })
          .Case([&](RmsNormOp norm) {
            auto grads = RmsNormGradOp::create(
                b, norm.getInput().getType(), norm.getGamma().getType(),
                norm.getInput(), norm.getGamma(), dy, norm.getEpsAttr());
            accumulate(norm.getInput(), grads.getInputGrad());
            accumulate(norm.getGamma(), grads.getGammaGrad());
            return success();
          })
          .Case([&](EmbeddingOp embedding) {
            return visitEmbedding(embedding, dy);
          })
          .Case([&](CrossEntropyOp loss) {
            accumulate(loss.getLogits(),
                       CrossEntropyGradOp::create(
                           b, loss.getLogits().getType(), loss.getLogits(),
                           loss.getTargets(), dy));
            return success();
          })
          .Default([&](Operation *op) -> LogicalResult {
            Dialect *dialect = op->getDialect();
            if (isa_and_nonnull<arith::ArithDialect>(dialect))
              return visitArith(op, dy);
            if (isa_and_nonnull<tensor::TensorDialect>(dialect))
              return visitTensor(op, dy);
            if (isa_and_nonnull<linalg::LinalgDialect>(dialect))
              return visitLinalg(op, dy);
            return failure();
          });
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
