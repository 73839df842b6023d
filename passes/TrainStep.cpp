//===- TrainStep.cpp - assemble the training and evaluation entry points -===//
//
// `--uoe-build-train-step` turns a model's `@forward(inputs..., params...)
// -> logits` into the two functions training needs
// (driver/CompileTraining.h documents their signatures):
//
//   @eval_loss(inputs..., targets, params...) -> loss
//   @train_step(inputs..., targets, step, params..., state...)
//       -> (loss, grad_norm, lr, params'..., state'...)
//
// `@train_step` is the forward, the cross-entropy, the reverse sweep of
// Autodiff.h, the global gradient norm and clipping, the learning-rate
// schedule and one optimizer update (AdamW, optionally AMSGrad, or SGD with
// momentum), all in one function, so the whole step is compiled as one
// kernel. The optimizer follows PyTorch's single-tensor implementations
// operation for operation, so that a few steps agree with them to float
// rounding. Scalars of the update (bias corrections, the schedule, the
// clipping factor) are computed in f64 and rounded once.
//
//===----------------------------------------------------------------------===//

#include "passes/Autodiff.h"
#include "passes/LinalgBuilder.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/Support/Format.h"

namespace mlir::uoe {
#define GEN_PASS_DEF_UOEBUILDTRAINSTEPPASS
#include "passes/Passes.h.inc"
} // namespace mlir::uoe

using namespace mlir;
using namespace mlir::uoe;

namespace {

/// Index of the first `uoe.param` argument (the number of arguments if none).
unsigned firstParameter(func::FuncOp func) {
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    if (func.getArgAttr(i, "uoe.param"))
      return i;
  return func.getNumArguments();
}

DictionaryAttr namedAttrs(MLIRContext *ctx,
                          ArrayRef<std::pair<StringRef, std::string>> attrs) {
  SmallVector<NamedAttribute> named;
  for (auto &[key, value] : attrs)
    named.push_back(NamedAttribute(StringAttr::get(ctx, key),
                                   StringAttr::get(ctx, value)));
  return DictionaryAttr::get(ctx, named);
}

/// Clones `forward` as `name` after `after`, with a `targets` input after
/// its inputs and the loss `cross_entropy(logits, targets)` as its only
/// result. Returns the clone and its loss value.
FailureOr<std::pair<func::FuncOp, Value>>
cloneWithLoss(func::FuncOp forward, StringRef name, Operation *after) {
  auto func = cast<func::FuncOp>(forward->clone());
  func.setSymName(name);
  ModuleOp module = forward->getParentOfType<ModuleOp>();
  module.insert(std::next(Block::iterator(after)), func);
  Block &body = func.getBody().front();
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  if (ret.getNumOperands() != 1) {
    forward.emitError("--uoe-build-train-step needs a function with one "
                      "result (the logits)");
    return failure();
  }
  Value logits = ret.getOperand(0);
  auto logitsType = dyn_cast<RankedTensorType>(logits.getType());
  if (!logitsType || logitsType.getRank() < 2 ||
      !isa<FloatType>(logitsType.getElementType())) {
    forward.emitError() << "--uoe-build-train-step needs float logits of "
                           "rank 2 or more ([..., classes]), not "
                        << logits.getType();
    return failure();
  }
  MLIRContext *ctx = func.getContext();
  auto targetsType = RankedTensorType::get(logitsType.getShape().drop_back(),
                                           IntegerType::get(ctx, 64));
  unsigned at = firstParameter(func);
  if (failed(func.insertArgument(at, targetsType,
                                 namedAttrs(ctx, {{"uoe.input", "targets"}}),
                                 func.getLoc())))
    return failure();
  ImplicitLocOpBuilder b(func.getLoc(), ret);
  Value loss = CrossEntropyOp::create(
      b, RankedTensorType::get({}, logitsType.getElementType()), logits,
      body.getArgument(at));
  func::ReturnOp::create(b, loss);
  ret.erase();
  func.setFunctionType(
      b.getFunctionType(body.getArgumentTypes(), {loss.getType()}));
  SmallVector<DictionaryAttr> resultAttrs{
      namedAttrs(ctx, {{"uoe.result", "loss"}})};
  func.setAllResultAttrs(resultAttrs);
  return std::make_pair(func, loss);
}

struct UoEBuildTrainStepPass
    : uoe::impl::UoEBuildTrainStepPassBase<UoEBuildTrainStepPass> {
  using UoEBuildTrainStepPassBase::UoEBuildTrainStepPassBase;

  LogicalResult checkOptions(ModuleOp module) {
    if (optimizer != "adamw" && optimizer != "sgd")
      return module.emitError() << "--uoe-build-train-step: unknown optimizer '"
                                << optimizer << "' (adamw or sgd)";
    if (schedule != "constant" && schedule != "warmup" && schedule != "cosine")
      return module.emitError() << "--uoe-build-train-step: unknown schedule '"
                                << schedule
                                << "' (constant, warmup or cosine)";
    if (schedule != "constant" && warmupSteps < 0)
      return module.emitError("--uoe-build-train-step: warmup-steps must not "
                              "be negative");
    if (schedule == "cosine" && totalSteps < 1)
      return module.emitError("--uoe-build-train-step: the cosine schedule "
                              "needs total-steps >= 1");
    if (loadBalance < 0.0)
      return module.emitError("--uoe-build-train-step: load-balance must not "
                              "be negative");
    return success();
  }

  /// The learning rate of step `t` (f64).
  Value learningRate(ImplicitLocOpBuilder &b, Value t) {
    Type f64 = b.getF64Type();
    Value peak = constFloat(b, f64, lr);
    if (schedule == "constant")
      return peak;
    Value one = constFloat(b, f64, 1.0);
    Value warm = one;
    if (warmupSteps > 0)
      warm = arith::MinimumFOp::create(
          b, one,
          arith::DivFOp::create(b, t, constFloat(b, f64, warmupSteps)));
    Value warmLr = arith::MulFOp::create(b, peak, warm);
    if (schedule == "warmup")
      return warmLr;
    // Cosine from the end of the warm-up to totalSteps, then minLr.
    Value span = constFloat(
        b, f64, std::max<int64_t>(1, totalSteps - warmupSteps));
    Value progress = arith::DivFOp::create(
        b,
        arith::MaximumFOp::create(
            b, constFloat(b, f64, 0.0),
            arith::SubFOp::create(b, t, constFloat(b, f64, warmupSteps))),
        span);
    progress = arith::MinimumFOp::create(b, one, progress);
    Value cosine = math::CosOp::create(
        b, arith::MulFOp::create(b, constFloat(b, f64, 3.14159265358979323846),
                                 progress));
    Value minimum = constFloat(b, f64, minLr);
    Value decayed = arith::AddFOp::create(
        b, minimum,
        arith::MulFOp::create(
            b,
            arith::MulFOp::create(b, constFloat(b, f64, 0.5),
                                  arith::SubFOp::create(b, peak, minimum)),
            arith::AddFOp::create(b, one, cosine)));
    Value inWarmup = arith::CmpFOp::create(
        b, arith::CmpFPredicate::OLT, t, constFloat(b, f64, warmupSteps));
    return arith::SelectOp::create(b, inWarmup, warmLr, decayed);
  }

  /// The sum of squares of `g` as an f64 scalar.
  static Value sumOfSquares(ImplicitLocOpBuilder &b, Value g) {
    auto type = cast<RankedTensorType>(g.getType());
    Type elt = type.getElementType();
    SmallVector<int64_t> all;
    for (int64_t i = 0; i < type.getRank(); ++i)
      all.push_back(i);
    Value init = filledTensor(b, {}, elt, b.getFloatAttr(elt, 0.0));
    Value sum = buildGeneric(
        b, g, init, {all, {}},
        SmallVector<IteratorType>(type.getRank(), kRed),
        [](ImplicitLocOpBuilder &b, ValueRange a) {
          return SmallVector<Value>{arith::AddFOp::create(
              b, a[1], arith::MulFOp::create(b, a[0], a[0]))};
        })[0];
    Value scalar = tensor::ExtractOp::create(b, sum, ValueRange{});
    if (elt.isF64())
      return scalar;
    return arith::ExtFOp::create(b, b.getF64Type(), scalar);
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (failed(checkOptions(module)))
      return signalPassFailure();
    auto forward = module.lookupSymbol<func::FuncOp>(function);
    if (!forward || forward.isExternal() || !forward.getBody().hasOneBlock()) {
      module.emitError() << "--uoe-build-train-step: no function @" << function
                         << " of one block";
      return signalPassFailure();
    }
    for (StringRef name : {"eval_loss", "train_step"})
      if (module.lookupSymbol(name)) {
        module.emitError() << "--uoe-build-train-step: @" << name
                           << " exists already";
        return signalPassFailure();
      }

    auto eval = cloneWithLoss(forward, "eval_loss", forward);
    if (failed(eval))
      return signalPassFailure();
    auto cloned = cloneWithLoss(forward, "train_step", eval->first);
    if (failed(cloned))
      return signalPassFailure();
    auto [train, loss] = *cloned;
    // The dropout points become masks in the step; inference folds them.
    applyDropout(train);
    if (failed(prepareForAutodiff(train)))
      return signalPassFailure();
    buildUpdate(train, loss);
  }

  /// Replaces every dropout point of `train` (a `tensor.cast` with
  /// `uoe.dropout = rate`, frontend/ModelImporter.cpp) by `x * mask`,
  /// `mask = keep / (1 - rate)`: element `i` of point `k` is kept when
  /// `u >= rate`, `u` in [0, 1) from the splitmix64 finaliser of
  /// `i * golden + mix(seed, k, step)`. The mask depends on nothing else
  /// (not on threads or on other values), so a step with the same seed and
  /// step number drops the same elements, and it has no float inputs: the
  /// backward multiplies by the same mask.
  void applyDropout(func::FuncOp train) {
    SmallVector<tensor::CastOp> points;
    train.walk([&](tensor::CastOp cast) {
      if (cast->hasAttr("uoe.dropout"))
        points.push_back(cast);
    });
    if (points.empty())
      return;
    Block &body = train.getBody().front();
    // The step input is added later (buildUpdate); the mask reads it through
    // a placeholder argument that buildUpdate takes over.
    MLIRContext *ctx = &getContext();
    auto i64Scalar = RankedTensorType::get({}, IntegerType::get(ctx, 64));
    unsigned at = firstParameter(train);
    (void)train.insertArgument(at, i64Scalar,
                               namedAttrs(ctx, {{"uoe.input", "step"}}),
                               train.getLoc());
    Value stepArg = body.getArgument(at);
    for (auto [k, point] : llvm::enumerate(points)) {
      ImplicitLocOpBuilder b(point.getLoc(), point);
      double rate =
          point->getAttrOfType<FloatAttr>("uoe.dropout").getValueAsDouble();
      Value x = point.getSource();
      auto type = cast<RankedTensorType>(x.getType());
      Type i64 = b.getI64Type(), elt = type.getElementType();
      auto c = [&](uint64_t v) {
        return constInt(b, i64, static_cast<int64_t>(v));
      };
      Value step = tensor::ExtractOp::create(b, stepArg, ValueRange{});
      // base = (seed * golden) ^ ((k + 1) * C1) ^ (step * C2).
      Value base = arith::XOrIOp::create(
          b,
          c(static_cast<uint64_t>(seed) * 0x9E3779B97F4A7C15ULL ^
            (static_cast<uint64_t>(k) + 1) * 0xD1B54A32D192ED03ULL),
          arith::MulIOp::create(b, step, c(0xA0761D6478BD642FULL)));
      SmallVector<int64_t> all;
      for (int64_t i = 0; i < type.getRank(); ++i)
        all.push_back(i);
      ArrayRef<int64_t> shape = type.getShape();
      double scale = 1.0 / (1.0 - rate);
      Value mask = buildGeneric(
          b, ValueRange{}, emptyTensor(b, tensorSizes(b, x), elt), {all},
          SmallVector<IteratorType>(type.getRank(), kPar),
          [&](ImplicitLocOpBuilder &b, ValueRange) {
            Value index = c(0);
            for (int64_t i = 0; i < type.getRank(); ++i) {
              index = arith::MulIOp::create(b, index, c(shape[i]));
              index = arith::AddIOp::create(
                  b, index,
                  arith::IndexCastOp::create(b, i64, loopIndex(b, i)));
            }
            Value z = arith::AddIOp::create(
                b, arith::MulIOp::create(b, index, c(0x9E3779B97F4A7C15ULL)),
                base);
            auto mix = [&](Value z, int shift, uint64_t mul) {
              Value s = arith::ShRUIOp::create(b, z, c(shift));
              Value x = arith::XOrIOp::create(b, z, s);
              return mul ? arith::MulIOp::create(b, x, c(mul)).getResult() : x;
            };
            z = mix(z, 30, 0xBF58476D1CE4E5B9ULL);
            z = mix(z, 27, 0x94D049BB133111EBULL);
            z = mix(z, 31, 0);
            // 24 random bits -> u in [0, 1).
            Value bits = arith::ShRUIOp::create(b, z, c(40));
            Value u = arith::MulFOp::create(
                b, arith::UIToFPOp::create(b, elt, bits),
                constFloat(b, elt, 1.0 / 16777216.0));
            Value keep = arith::CmpFOp::create(b, arith::CmpFPredicate::OGE,
                                               u, constFloat(b, elt, rate));
            return SmallVector<Value>{arith::SelectOp::create(
                b, keep, constFloat(b, elt, scale), constFloat(b, elt, 0.0))};
          })[0];
      Value dropped = arith::MulFOp::create(b, x, mask);
      point.replaceAllUsesWith(dropped);
      point.erase();
    }
  }

  void buildUpdate(func::FuncOp train, Value loss) {
    MLIRContext *ctx = &getContext();
    Block &body = train.getBody().front();
    auto ret = cast<func::ReturnOp>(body.getTerminator());

    // The step input after `targets` (applyDropout may have added it), the
    // state after the parameters.
    unsigned firstParam = firstParameter(train);
    auto i64Scalar = RankedTensorType::get({}, IntegerType::get(ctx, 64));
    auto stepName = train.getArgAttrOfType<StringAttr>(firstParam - 1,
                                                       "uoe.input");
    if (!stepName || stepName.getValue() != "step") {
      (void)train.insertArgument(firstParam, i64Scalar,
                                 namedAttrs(ctx, {{"uoe.input", "step"}}),
                                 train.getLoc());
      ++firstParam;
    }
    Value stepArg = body.getArgument(firstParam - 1);
    SmallVector<Value> params;
    SmallVector<std::string> names;
    for (unsigned i = firstParam; i < train.getNumArguments(); ++i) {
      params.push_back(body.getArgument(i));
      names.push_back(
          train.getArgAttrOfType<StringAttr>(i, "uoe.param").str());
    }
    SmallVector<std::string> slots;
    if (optimizer == "adamw") {
      slots = {"m", "v"};
      if (amsgrad)
        slots.push_back("vmax");
    } else {
      slots = {"momentum"};
    }
    // state[s][p]: slot s of parameter p.
    SmallVector<SmallVector<Value>> state(slots.size());
    for (auto [s, slot] : llvm::enumerate(slots))
      for (auto [param, name] : llvm::zip(params, names)) {
        unsigned at = train.getNumArguments();
        (void)train.insertArgument(
            at, param.getType(),
            namedAttrs(ctx, {{"uoe.param", "opt." + slot + "." + name}}),
            train.getLoc());
        state[s].push_back(body.getArgument(at));
      }

    // Backward.
    ImplicitLocOpBuilder b(train.getLoc(), ret);
    Type lossElt = cast<RankedTensorType>(loss.getType()).getElementType();
    Value seed = filledTensor(b, {}, lossElt, b.getFloatAttr(lossElt, 1.0));
    SmallVector<std::pair<Value, Value>> seeds{{loss, seed}};
    Value balance;
    if (loadBalance > 0.0) {
      balance = addBalanceSeeds(b, body, seeds);
      if (!balance) {
        std::string weight;
        llvm::raw_string_ostream(weight)
            << llvm::format("%g", static_cast<double>(loadBalance));
        train.emitError()
            << "load-balance is " << weight << " but the model has no router feeding a top-k expert "
               "choice (UoME, SMHA or MoE layers) to balance";
        return signalPassFailure();
      }
    }
    FailureOr<SmallVector<Value>> grads =
        buildAdjoints(b, body, seeds, params);
    if (failed(grads))
      return signalPassFailure();
    if (balance) {
      // The reported loss includes the weighted balance term.
      Value ce = tensor::ExtractOp::create(b, loss, ValueRange{});
      Value total = arith::AddFOp::create(
          b, ce,
          arith::MulFOp::create(b, constFloat(b, lossElt, loadBalance),
                                balance));
      loss = tensor::FromElementsOp::create(b, loss.getType(),
                                            ValueRange{total});
    }

    // Scalars, in f64.
    Type f64 = b.getF64Type();
    Value t = arith::SIToFPOp::create(
        b, f64, tensor::ExtractOp::create(b, stepArg, ValueRange{}));
    Value sumSq = constFloat(b, f64, 0.0);
    for (Value g : *grads)
      sumSq = arith::AddFOp::create(b, sumSq, sumOfSquares(b, g));
    Value norm = math::SqrtOp::create(b, sumSq);
    Value scale = constFloat(b, f64, 1.0);
    if (clipNorm > 0.0)
      scale = arith::MinimumFOp::create(
          b, scale,
          arith::DivFOp::create(
              b, constFloat(b, f64, clipNorm),
              arith::AddFOp::create(b, norm, constFloat(b, f64, 1e-6))));
    Value rate = learningRate(b, t);

    SmallVector<Value> newParams;
    SmallVector<SmallVector<Value>> newState(slots.size());
    for (auto [p, param] : llvm::enumerate(params)) {
      SmallVector<Value> slotValues;
      for (auto &s : state)
        slotValues.push_back(s[p]);
      SmallVector<Value> updated =
          optimizer == "adamw"
              ? adamw(b, param, (*grads)[p], slotValues, t, rate, scale)
              : sgd(b, param, (*grads)[p], slotValues.front(), rate, scale);
      newParams.push_back(updated[0]);
      for (size_t s = 0; s < slots.size(); ++s)
        newState[s].push_back(updated[1 + s]);
    }

    // Results: loss, grad_norm, lr, then every updated tensor.
    // f64 (or f32) scalar -> tensor<f32>.
    auto scalarTensor = [&](Value v) {
      Value f = v.getType().isF32()
                    ? v
                    : arith::TruncFOp::create(b, b.getF32Type(), v).getResult();
      return tensor::FromElementsOp::create(
                 b, RankedTensorType::get({}, b.getF32Type()), ValueRange{f})
          .getResult();
    };
    Value loss32 = loss;
    if (!lossElt.isF32())
      loss32 = scalarTensor(tensor::ExtractOp::create(b, loss, ValueRange{}));
    SmallVector<Value> results{loss32, scalarTensor(norm), scalarTensor(rate)};
    SmallVector<DictionaryAttr> attrs{
        namedAttrs(ctx, {{"uoe.result", "loss"}}),
        namedAttrs(ctx, {{"uoe.result", "grad_norm"}}),
        namedAttrs(ctx, {{"uoe.result", "lr"}})};
    auto addUpdate = [&](Value v, const std::string &name) {
      results.push_back(v);
      attrs.push_back(
          namedAttrs(ctx, {{"uoe.result", name}, {"uoe.updates", name}}));
    };
    for (auto [v, name] : llvm::zip(newParams, names))
      addUpdate(v, name);
    for (auto [s, slot] : llvm::enumerate(slots))
      for (auto [v, name] : llvm::zip(newState[s], names))
        addUpdate(v, "opt." + slot + "." + name);
    func::ReturnOp::create(b, results);
    ret.erase();
    train.setFunctionType(b.getFunctionType(body.getArgumentTypes(),
                                            ValueRange(results).getTypes()));
    train.setAllResultAttrs(attrs);
  }

  /// The Switch-style load-balancing loss (spec §5): for every router
  /// whose probabilities `p: [..., E]` feed a token choice `s`,
  /// `E * sum_e f_e * P_e` with `f_e` the fraction of the router's items
  /// that keep expert `e` (`s > 0`; piecewise constant, no gradient) and
  /// `P_e` the mean of `p[..., e]`. Its gradient with respect to `p` is
  /// `loadBalance * E * f_e / N` everywhere, which this adds to `seeds`
  /// (the routers then train even in union mode). Returns the unweighted
  /// sum over the routers (a scalar), or null if there is no router.
  Value addBalanceSeeds(ImplicitLocOpBuilder &b, Block &body,
                        SmallVector<std::pair<Value, Value>> &seeds) {
    Value total;
    for (RouterOp router : body.getOps<RouterOp>()) {
      TokenChoiceOp choice;
      for (Operation *user : router->getUsers())
        if (auto tc = dyn_cast<TokenChoiceOp>(user)) {
          choice = tc;
          break;
        }
      if (!choice)
        continue;
      Value probs = router.getProbs();
      auto type = cast<RankedTensorType>(probs.getType());
      Type elt = type.getElementType();
      int64_t rank = type.getRank(), experts = type.getShape().back();
      double items = static_cast<double>(type.getNumElements() / experts);
      SmallVector<int64_t> all, last{rank - 1};
      SmallVector<IteratorType> reduce(rank, kRed);
      for (int64_t i = 0; i < rank; ++i)
        all.push_back(i);
      reduce.back() = kPar;
      SmallVector<OpFoldResult> perExpert{b.getIndexAttr(experts)};
      Value zeros = filledTensor(b, perExpert, elt, b.getFloatAttr(elt, 0.0));
      // Sums over the items of (s > 0) and of p, per expert.
      SmallVector<Value> sums = buildGeneric(
          b, ValueRange{choice.getResult(), probs}, ValueRange{zeros, zeros},
          {all, all, last, last}, reduce,
          [&](ImplicitLocOpBuilder &b, ValueRange a) {
            Value kept = arith::CmpFOp::create(b, arith::CmpFPredicate::OGT,
                                               a[0], constFloat(b, elt, 0.0));
            Value one = arith::SelectOp::create(b, kept, constFloat(b, elt, 1.0),
                                                constFloat(b, elt, 0.0));
            return SmallVector<Value>{arith::AddFOp::create(b, a[2], one),
                                      arith::AddFOp::create(b, a[3], a[1])};
          });
      // E * sum_e f_e P_e = E / N^2 * sum_e count_e * psum_e.
      Value init = filledTensor(b, {}, elt, b.getFloatAttr(elt, 0.0));
      Value dotProduct = buildGeneric(
          b, ValueRange{sums[0], sums[1]}, init, {{0}, {0}, {}}, {kRed},
          [](ImplicitLocOpBuilder &b, ValueRange a) {
            return SmallVector<Value>{arith::AddFOp::create(
                b, a[2], arith::MulFOp::create(b, a[0], a[1]))};
          })[0];
      Value term = arith::MulFOp::create(
          b, tensor::ExtractOp::create(b, dotProduct, ValueRange{}),
          constFloat(b, elt, experts / (items * items)));
      total = total ? arith::AddFOp::create(b, total, term).getResult() : term;
      // d/dp[..., e] = loadBalance * E * count_e / N^2.
      double factor = loadBalance * experts / (items * items);
      Value seed = buildGeneric(
          b, sums[0], emptyTensor(b, tensorSizes(b, probs), elt), {last, all},
          SmallVector<IteratorType>(rank, kPar),
          [&](ImplicitLocOpBuilder &b, ValueRange a) {
            return SmallVector<Value>{
                arith::MulFOp::create(b, a[0], constFloat(b, elt, factor))};
          })[0];
      seeds.push_back({probs, seed});
    }
    return total;
  }

  /// An elementwise update over `param`'s shape: `body` maps the elements
  /// of `inputs` to those of the results (one per init, of `param`'s type).
  static SmallVector<Value> elementwise(ImplicitLocOpBuilder &b, Value param,
                                        ValueRange inputs, unsigned results,
                                        GenericBody body) {
    auto type = cast<RankedTensorType>(param.getType());
    SmallVector<int64_t> all;
    for (int64_t i = 0; i < type.getRank(); ++i)
      all.push_back(i);
    SmallVector<Value> inits;
    for (unsigned i = 0; i < results; ++i)
      inits.push_back(
          emptyTensor(b, tensorSizes(b, param), type.getElementType()));
    SmallVector<SmallVector<int64_t>> maps(inputs.size() + results, all);
    return buildGeneric(b, inputs, inits, maps,
                        SmallVector<IteratorType>(type.getRank(), kPar), body);
  }

  /// PyTorch's AdamW (torch.optim.adamw, single tensor): decoupled weight
  /// decay, then the bias-corrected step; AMSGrad keeps the running max of
  /// the second moment.
  SmallVector<Value> adamw(ImplicitLocOpBuilder &b, Value param, Value grad,
                           ArrayRef<Value> slots, Value t, Value rate,
                           Value scale) {
    Type elt = cast<RankedTensorType>(param.getType()).getElementType();
    Type f64 = b.getF64Type();
    auto pow = [&](double base) {
      return math::PowFOp::create(b, constFloat(b, f64, base), t);
    };
    Value one = constFloat(b, f64, 1.0);
    Value bc1 = arith::SubFOp::create(b, one, pow(beta1));
    Value bc2Sqrt =
        math::SqrtOp::create(b, arith::SubFOp::create(b, one, pow(beta2)));
    Value stepSize = arith::DivFOp::create(b, rate, bc1);
    Value decay = arith::SubFOp::create(
        b, one, arith::MulFOp::create(b, rate, constFloat(b, f64, weightDecay)));
    auto narrow = [&](Value v) -> Value {
      return elt.isF64() ? v : arith::TruncFOp::create(b, elt, v).getResult();
    };
    Value stepSizeE = narrow(stepSize), decayE = narrow(decay),
          bc2SqrtE = narrow(bc2Sqrt), scaleE = narrow(scale);
    Value b1 = constFloat(b, elt, 1.0 - beta1), b2 = constFloat(b, elt, beta2),
          oneMinusB2 = constFloat(b, elt, 1.0 - beta2),
          eps = constFloat(b, elt, adamEps);
    bool useMax = amsgrad;
    SmallVector<Value> inputs{param, grad};
    llvm::append_range(inputs, slots);
    return elementwise(
        b, param, inputs, 1 + slots.size(),
        [&](ImplicitLocOpBuilder &b, ValueRange a) {
          Value p = a[0], g = arith::MulFOp::create(b, a[1], scaleE);
          Value m = a[2], v = a[3];
          p = arith::MulFOp::create(b, p, decayE);
          // m.lerp_(g, 1 - beta1); v = v * beta2 + (1 - beta2) g^2.
          m = arith::AddFOp::create(
              b, m, arith::MulFOp::create(b, b1, arith::SubFOp::create(b, g, m)));
          v = arith::AddFOp::create(
              b, arith::MulFOp::create(b, v, b2),
              arith::MulFOp::create(b, oneMinusB2,
                                    arith::MulFOp::create(b, g, g)));
          Value second = v, vmax;
          if (useMax) {
            vmax = arith::MaximumFOp::create(b, a[4], v);
            second = vmax;
          }
          Value denom = arith::AddFOp::create(
              b,
              arith::DivFOp::create(b, math::SqrtOp::create(b, second),
                                    bc2SqrtE),
              eps);
          p = arith::SubFOp::create(
              b, p,
              arith::MulFOp::create(b, stepSizeE,
                                    arith::DivFOp::create(b, m, denom)));
          SmallVector<Value> out{p, m, v};
          if (useMax)
            out.push_back(vmax);
          return out;
        });
  }

  /// PyTorch's SGD: L2 weight decay into the gradient, momentum buffer
  /// (dampening 0; the first step's buffer is the gradient, as PyTorch's).
  SmallVector<Value> sgd(ImplicitLocOpBuilder &b, Value param, Value grad,
                         Value buffer, Value rate, Value scale) {
    Type elt = cast<RankedTensorType>(param.getType()).getElementType();
    auto narrow = [&](Value v) -> Value {
      return elt.isF64() ? v : arith::TruncFOp::create(b, elt, v).getResult();
    };
    Value rateE = narrow(rate), scaleE = narrow(scale);
    Value wd = constFloat(b, elt, weightDecay),
          mu = constFloat(b, elt, momentum);
    return elementwise(
        b, param, {param, grad, buffer}, 2,
        [&](ImplicitLocOpBuilder &b, ValueRange a) {
          Value p = a[0], g = arith::MulFOp::create(b, a[1], scaleE);
          g = arith::AddFOp::create(b, g, arith::MulFOp::create(b, wd, p));
          Value buf = arith::AddFOp::create(
              b, arith::MulFOp::create(b, mu, a[2]), g);
          p = arith::SubFOp::create(b, p, arith::MulFOp::create(b, rateE, buf));
          return SmallVector<Value>{p, buf};
        });
  }
};

} // namespace
