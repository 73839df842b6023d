//===- UoEOps.cpp - verifiers and folders of the uoe ops -----------------===//
//
// Verifiers for every op of the `uoe` dialect. Each check carries the label
// of the constraint it implements (`// data_select_c3`), as numbered in the
// op's description in the .td files; test/dialect/<op>-invalid.mlir has one
// `expected-error` case per label. Messages name the offending operand, the
// symbolic shape it must have and the type it has.
//
//===----------------------------------------------------------------------===//

#include "dialect/UoEOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace mlir;
using namespace mlir::uoe;

//===----------------------------------------------------------------------===//
// Shape-check helpers
//===----------------------------------------------------------------------===//

namespace {

/// A named value being checked, for messages: "w1 (tensor<4x32x16xf32>)".
struct Named {
  StringRef name;
  Value value;
  RankedTensorType type() const {
    return cast<RankedTensorType>(value.getType());
  }
  ArrayRef<int64_t> shape() const { return type().getShape(); }
};

/// Writes a shape as `[3, 4, ?]`.
std::string formatShape(ArrayRef<int64_t> shape) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "[";
  llvm::interleaveComma(shape, os, [&](int64_t dim) {
    if (ShapedType::isDynamic(dim))
      os << "?";
    else
      os << dim;
  });
  os << "]";
  return text;
}

/// Checks that `v` has exactly the shape `expected` (a `?` in `expected`
/// requires a `?`); `symbolic` spells the expected shape in the spec's
/// letters, e.g. "[E, d]".
LogicalResult expectShape(Operation *op, const Named &v, StringRef symbolic,
                          ArrayRef<int64_t> expected) {
  if (v.shape() == expected)
    return success();
  return op->emitOpError()
         << v.name << " must be " << symbolic << " = " << formatShape(expected)
         << ", but it is " << v.value.getType();
}

/// Checks that all values have the same element type.
LogicalResult expectSameElementType(Operation *op, ArrayRef<Named> values) {
  Type first = values.front().type().getElementType();
  for (const Named &v : values.drop_front()) {
    if (v.type().getElementType() != first)
      return op->emitOpError()
             << "element types differ: " << values.front().name << " has "
             << first << " but " << v.name << " has "
             << v.type().getElementType();
  }
  return success();
}

/// Checks that `v` has rank `rank`.
LogicalResult expectRank(Operation *op, const Named &v, int64_t rank,
                         StringRef symbolic) {
  if (v.type().getRank() == rank)
    return success();
  return op->emitOpError() << v.name << " must have rank " << rank << " ("
                           << symbolic << "), but it is " << v.value.getType();
}

/// Checks that `v` has a static shape (only the capacity `L` of dynamic
/// data selection may be `?`, and only where an op says so).
LogicalResult expectStatic(Operation *op, const Named &v) {
  if (v.type().hasStaticShape())
    return success();
  return op->emitOpError() << v.name << " must have a static shape, but it is "
                           << v.value.getType();
}

/// Checks `1 <= top <= experts`.
LogicalResult expectTopK(Operation *op, int64_t top, int64_t experts) {
  if (top >= 1 && top <= experts)
    return success();
  return op->emitOpError() << "top (" << top << ") must be between 1 and the "
                           << "number of experts (" << experts << ")";
}

/// Checks the router weights `wg: [E, d]`, `bg: [E]` against the model
/// width `d` and returns `E`.
FailureOr<int64_t> verifyRouterWeights(Operation *op, int64_t d, Named wg,
                                       Named bg) {
  if (failed(expectRank(op, wg, 2, "[E, d]")) || failed(expectStatic(op, wg)))
    return failure();
  int64_t experts = wg.shape()[0];
  if (experts < 1)
    return op->emitOpError() << "wg must have at least one expert, but it is "
                             << wg.value.getType();
  if (failed(expectShape(op, wg, "[E, d]", {experts, d})) ||
      failed(expectShape(op, bg, "[E]", {experts})))
    return failure();
  return experts;
}

/// The expert (or dense) MLP width: `F1 / 2` for SwiGLU, whose first GEMM
/// produces the [gate | up] halves, else `F1`.
FailureOr<int64_t> hiddenWidth(Operation *op, StringRef name, int64_t f1,
                               Activation act) {
  if (act != Activation::SwiGlu)
    return f1;
  if (f1 % 2 != 0)
    return op->emitOpError() << "swiglu needs an even width of " << name
                             << " ([gate | up] halves), but it is " << f1;
  return f1 / 2;
}

/// Checks stacked expert weights `w1: [E, d, F1]`, `b1: [E, F1]`,
/// `w2: [E, Fe, d]`, `b2: [E, d]` (uome_c3, moe_c3).
LogicalResult verifyExpertMlpWeights(Operation *op, int64_t experts, int64_t d,
                                     Named w1, Named b1, Named w2, Named b2,
                                     Activation act) {
  if (failed(expectRank(op, w1, 3, "[E, d, F1]")) ||
      failed(expectStatic(op, w1)))
    return failure();
  int64_t f1 = w1.shape()[2];
  FailureOr<int64_t> fe = hiddenWidth(op, "w1", f1, act);
  if (failed(fe))
    return failure();
  if (failed(expectShape(op, w1, "[E, d, F1]", {experts, d, f1})) ||
      failed(expectShape(op, b1, "[E, F1]", {experts, f1})) ||
      failed(expectShape(op, w2, "[E, Fe, d]", {experts, *fe, d})) ||
      failed(expectShape(op, b2, "[E, d]", {experts, d})))
    return failure();
  return success();
}

/// Checks an optional key padding mask `[B, T]`.
LogicalResult verifyKeyPadding(Operation *op, Value mask, int64_t b,
                               int64_t t) {
  if (!mask)
    return success();
  return expectShape(op, {"key_padding", mask}, "[B, T]", {b, t});
}

/// Multiplies a dimension that may be dynamic.
int64_t mulDim(int64_t dim, int64_t factor) {
  return ShapedType::isDynamic(dim) ? ShapedType::kDynamic : dim * factor;
}

/// Checks `1 <= patch` dividing `n` (data_select_c2, dispatch_c3, ...).
LogicalResult expectPatchDivides(Operation *op, int64_t patch, int64_t n,
                                 StringRef what) {
  if (patch < 1)
    return op->emitOpError() << "patch size (" << patch
                             << ") must be at least 1";
  if (n % patch != 0)
    return op->emitOpError() << "patch size (" << patch << ") must divide "
                             << what << " (" << n << ")";
  return success();
}

/// The static capacity `floor(capacity * patches)` and its bounds
/// (data_select_c3, uome_c5).
FailureOr<int64_t> staticCapacity(Operation *op, double capacity,
                                  int64_t patches) {
  if (!(capacity > 0.0))
    return op->emitOpError() << "capacity (" << capacity
                             << ") must be positive";
  auto selected = static_cast<int64_t>(std::floor(capacity * patches));
  if (selected < 1)
    return op->emitOpError() << "capacity (" << capacity << ") selects no patch of "
                             << patches;
  if (selected > patches)
    return op->emitOpError() << "capacity (" << capacity << ") selects "
                             << selected << " patches, more than the " << patches
                             << " patches there are";
  return selected;
}

} // namespace

//===----------------------------------------------------------------------===//
// custom<EnumKeyword>: an enum attribute as a bare keyword (`gelu`)
//===----------------------------------------------------------------------===//

template <typename AttrT>
static ParseResult parseEnumKeyword(OpAsmParser &parser, AttrT &attr) {
  using EnumT = decltype(std::declval<AttrT>().getValue());
  SMLoc loc = parser.getCurrentLocation();
  StringRef keyword;
  if (parser.parseKeyword(&keyword))
    return failure();
  std::optional<EnumT> value = symbolizeEnum<EnumT>(keyword);
  if (!value)
    return parser.emitError(loc) << "unknown " << AttrT::getMnemonic()
                                 << " '" << keyword << "'";
  attr = AttrT::get(parser.getContext(), *value);
  return success();
}

template <typename AttrT>
static void printEnumKeyword(OpAsmPrinter &printer, Operation *,
                             AttrT attr) {
  printer << stringifyEnum(attr.getValue());
}

//===----------------------------------------------------------------------===//
// Layer ops
//===----------------------------------------------------------------------===//

LogicalResult DenseMlpOp::verify() {
  Named x{"input", getInput()}, w1{"w1", getW1()}, b1{"b1", getB1()},
      w2{"w2", getW2()}, b2{"b2", getB2()}, y{"result", getResult()};
  if (x.type().getRank() < 1)
    return emitOpError() << "input must have rank at least 1 ([..., d])";
  int64_t d = x.shape().back();
  // dense_mlp_c1
  if (failed(expectStatic(*this, x)) ||
      failed(expectRank(*this, w1, 2, "[d, F]")) ||
      failed(expectStatic(*this, w1)))
    return failure();
  int64_t f1 = w1.shape()[1];
  if (failed(expectShape(*this, w1, "[d, F]", {d, f1})) ||
      failed(expectShape(*this, b1, "[F]", {f1})))
    return failure();
  // dense_mlp_c2
  FailureOr<int64_t> f = hiddenWidth(*this, "w1", f1, getActivation());
  if (failed(f) || failed(expectShape(*this, w2, "[F, d]", {*f, d})))
    return failure();
  // dense_mlp_c3
  if (failed(expectShape(*this, b2, "[d]", {d})))
    return failure();
  // dense_mlp_c4
  return expectSameElementType(*this, {x, w1, b1, w2, b2, y});
}

/// `heads >= 1` divides the width `d`.
static LogicalResult expectHeadsDivide(Operation *op, int64_t heads,
                                       int64_t d) {
  if (heads >= 1 && d % heads == 0)
    return success();
  return op->emitOpError() << "heads (" << heads
                           << ") must be positive and divide the width d (" << d
                           << ")";
}

/// The dense attention weights: `wqkv [3, d, d]`, `bqkv [3, d]`, `wo [d,
/// d]`, `bo [d]`.
static LogicalResult expectAttentionWeights(Operation *op, int64_t d,
                                            const Named &wqkv,
                                            const Named &bqkv, const Named &wo,
                                            const Named &bo) {
  return success(succeeded(expectShape(op, wqkv, "[3, d, d]", {3, d, d})) &&
                 succeeded(expectShape(op, bqkv, "[3, d]", {3, d})) &&
                 succeeded(expectShape(op, wo, "[d, d]", {d, d})) &&
                 succeeded(expectShape(op, bo, "[d]", {d})));
}

LogicalResult AttentionOp::verify() {
  Named x{"input", getInput()}, wqkv{"wqkv", getWqkv()},
      bqkv{"bqkv", getBqkv()}, wo{"wo", getWo()}, bo{"bo", getBo()},
      y{"result", getResult()};
  // attention_c1
  if (failed(expectStatic(*this, x)) || failed(expectRank(*this, x, 3, "[B, T, d]")))
    return failure();
  int64_t b = x.shape()[0], t = x.shape()[1], d = x.shape()[2];
  int64_t heads = getHeads();
  // attention_c2
  if (failed(expectHeadsDivide(*this, heads, d)))
    return failure();
  if (getRope() != RopeMode::None && (d / heads) % 2 != 0)
    return emitOpError() << "rotary embedding needs an even head width, but "
                         << "d / heads = " << d / heads;
  // attention_c3
  if (failed(expectAttentionWeights(*this, d, wqkv, bqkv, wo, bo)))
    return failure();
  // attention_c4
  if (failed(verifyKeyPadding(*this, getKeyPadding(), b, t)))
    return failure();
  // attention_c5
  if (getRope() == RopeMode::Compacted)
    return emitOpError() << "rope 'compacted' needs selected tokens; dense "
                         << "attention takes 'none' or 'original'";
  // attention_c6
  return expectSameElementType(*this, {x, wqkv, bqkv, wo, bo, y});
}

LogicalResult CachedAttentionOp::verify() {
  Named x{"input", getInput()}, wqkv{"wqkv", getWqkv()},
      bqkv{"bqkv", getBqkv()}, wo{"wo", getWo()}, bo{"bo", getBo()},
      y{"result", getResult()};
  // cached_attention_c1
  if (failed(expectStatic(*this, x)) ||
      failed(expectRank(*this, x, 3, "[B, T, d]")))
    return failure();
  int64_t d = x.shape()[2];
  // cached_attention_c2, cached_attention_c3, cached_attention_c4
  if (failed(expectHeadsDivide(*this, getHeads(), d)) ||
      failed(expectAttentionWeights(*this, d, wqkv, bqkv, wo, bo)) ||
      failed(expectShape(*this, Named{"start", getStart()}, "[B]",
                         {x.shape()[0]})))
    return failure();
  // cached_attention_c5
  return expectSameElementType(*this, {x, wqkv, bqkv, wo, bo, y});
}

LogicalResult KvAttendOp::verify() {
  Named q{"query", getQuery()};
  bool selected = static_cast<bool>(getPositions());
  // kv_attend_c1 (one type: AllTypesMatch)
  if (failed(expectRank(*this, q, 3, "[R, L, D]")))
    return failure();
  if (ShapedType::isDynamic(q.shape()[0]) ||
      ShapedType::isDynamic(q.shape()[2]) ||
      (!selected && ShapedType::isDynamic(q.shape()[1])))
    return emitOpError() << "query must be static but for L with selected, "
                         << "but it is " << q.value.getType();
  // kv_attend_c2
  int64_t d = q.shape()[2], rows = q.shape()[0];
  if (failed(expectHeadsDivide(*this, getHeads(), d)))
    return failure();
  if (getRope() != RopeMode::None && (d / getHeads()) % 2 != 0)
    return emitOpError() << "rotary embedding needs an even head width, but "
                         << "D / heads = " << d / getHeads();
  // kv_attend_c3
  auto startType = cast<RankedTensorType>(getStart().getType());
  if (startType.getRank() != 1 || startType.isDynamicDim(0))
    return emitOpError() << "start must be [B], but it is " << startType;
  int64_t batch = startType.getShape()[0];
  if (!selected &&
      failed(expectShape(*this, Named{"start", getStart()}, "[B]", {rows})))
    return failure();
  // kv_attend_c4
  if (selected) {
    if (!getKeyPadding())
      return emitOpError() << "selected needs positions and key_padding";
    if (rows % batch != 0)
      return emitOpError() << "rows (" << rows << ") must be a multiple of B ("
                           << batch << ")";
    Named positions{"positions", getPositions()},
        padding{"key_padding", getKeyPadding()};
    if (positions.type().getRank() != 2 || positions.shape()[0] != rows ||
        positions.shape()[1] != q.shape()[1])
      return emitOpError() << "positions must be [R, L] = "
                           << formatShape({rows, q.shape()[1]})
                           << ", but it is " << positions.value.getType();
    if (padding.type().getRank() != 2 || padding.shape()[0] != rows)
      return emitOpError() << "key_padding must be [R, T] with R = " << rows
                           << ", but it is " << padding.value.getType();
  }
  // kv_attend_c5
  if (getRope() == RopeMode::Compacted)
    return emitOpError() << "rope 'compacted' counts slots, not positions; "
                         << "decoding takes 'none' or 'original'";
  return success();
}

int64_t UomeOp::getNumExperts() { return getWg().getType().getShape()[0]; }

int64_t UomeOp::getSelectedPatches() {
  int64_t patches = getInput().getType().getShape()[1] / getPatch();
  return static_cast<int64_t>(
      std::floor(getCapacity().convertToDouble() * patches));
}

LogicalResult UomeOp::verify() {
  Named x{"input", getInput()}, wg{"wg", getWg()}, bg{"bg", getBg()},
      w1{"w1", getW1()}, b1{"b1", getB1()}, w2{"w2", getW2()},
      b2{"b2", getB2()}, y{"result", getResult()};
  // uome_c1
  if (failed(expectStatic(*this, x)) || failed(expectRank(*this, x, 3, "[N0, N1, d]")))
    return failure();
  int64_t n1 = x.shape()[1], d = x.shape()[2];
  // uome_c2
  FailureOr<int64_t> experts = verifyRouterWeights(*this, d, wg, bg);
  if (failed(experts))
    return failure();
  // uome_c3
  if (failed(verifyExpertMlpWeights(*this, *experts, d, w1, b1, w2, b2,
                                    getActivation())))
    return failure();
  // uome_c4
  if (failed(expectTopK(*this, getTop(), *experts)))
    return failure();
  // uome_c5 (the capacity is unused by causal-safe routing)
  bool causalSafe = getRouting() == RoutingMode::CausalSafe;
  if (failed(
          expectPatchDivides(*this, getPatch(), n1, "the selection axis N1")) ||
      (!causalSafe &&
       failed(staticCapacity(*this, getCapacity().convertToDouble(),
                             n1 / getPatch()))))
    return failure();
  // uome_c6
  if (failed(expectSameElementType(*this, {x, wg, bg, w1, b1, w2, b2, y})))
    return failure();
  // uome_c7
  if (causalSafe && getPatch() != 1)
    return emitOpError() << "causal-safe routing needs patch 1, but patch = "
                         << getPatch()
                         << " (a patch's score mixes in later tokens)";
  return success();
}

int64_t SmhaOp::getNumExperts() { return getWg().getType().getShape()[0]; }

/// SMHA's router, heads, weights and top (smha_c2 to smha_c5, and the
/// same constraints of cached_smha): the expert count, or failure.
static FailureOr<int64_t>
verifySmhaLayer(Operation *op, int64_t d, const Named &wg, const Named &bg,
                const Named &wqkv, const Named &bqkv, const Named &wo,
                const Named &bo, int64_t heads, int64_t top, RopeMode rope) {
  FailureOr<int64_t> experts = verifyRouterWeights(op, d, wg, bg);
  if (failed(experts) || failed(expectHeadsDivide(op, heads, d)))
    return failure();
  if (heads % *experts != 0)
    return op->emitOpError()
           << "the " << *experts << " experts must split the heads (" << heads
           << ") into equal groups";
  if (rope != RopeMode::None && (d / heads) % 2 != 0)
    return op->emitOpError()
           << "rotary embedding needs an even head width, but "
           << "d / heads = " << d / heads;
  int64_t de = d / *experts;
  if (failed(expectShape(op, wqkv, "[3, E, d, De]", {3, *experts, d, de})) ||
      failed(expectShape(op, bqkv, "[3, E, De]", {3, *experts, de})) ||
      failed(expectShape(op, wo, "[E, De, d]", {*experts, de, d})) ||
      failed(expectShape(op, bo, "[E, d]", {*experts, d})) ||
      failed(expectTopK(op, top, *experts)))
    return failure();
  return experts;
}

LogicalResult SmhaOp::verify() {
  Named x{"input", getInput()}, wg{"wg", getWg()}, bg{"bg", getBg()},
      wqkv{"wqkv", getWqkv()}, bqkv{"bqkv", getBqkv()}, wo{"wo", getWo()},
      bo{"bo", getBo()}, y{"result", getResult()};
  // smha_c1
  if (failed(expectStatic(*this, x)) || failed(expectRank(*this, x, 3, "[B, T, d]")))
    return failure();
  int64_t b = x.shape()[0], t = x.shape()[1], d = x.shape()[2];
  // smha_c2, smha_c3, smha_c4, smha_c5
  if (failed(verifySmhaLayer(*this, d, wg, bg, wqkv, bqkv, wo, bo, getHeads(),
                             getTop(), getRope())))
    return failure();
  // smha_c6
  if (failed(verifyKeyPadding(*this, getKeyPadding(), b, t)))
    return failure();
  // smha_c7
  if (failed(expectSameElementType(*this, {x, wg, bg, wqkv, bqkv, wo, bo, y})))
    return failure();
  // smha_c8
  if (getRouting() == RoutingMode::CausalSafe &&
      getRope() == RopeMode::Compacted)
    return emitOpError() << "causal-safe routing cannot use rope compacted: "
                            "a token's compacted index counts padding slots "
                            "that depend on later tokens (use original or "
                            "none)";
  return success();
}

int64_t CachedSmhaOp::getNumExperts() {
  return getWg().getType().getShape()[0];
}

LogicalResult CachedSmhaOp::verify() {
  Named x{"input", getInput()}, wg{"wg", getWg()}, bg{"bg", getBg()},
      wqkv{"wqkv", getWqkv()}, bqkv{"bqkv", getBqkv()}, wo{"wo", getWo()},
      bo{"bo", getBo()}, y{"result", getResult()};
  // cached_smha_c1
  if (failed(expectStatic(*this, x)) ||
      failed(expectRank(*this, x, 3, "[B, T, d]")))
    return failure();
  int64_t b = x.shape()[0], t = x.shape()[1], d = x.shape()[2];
  // cached_smha_c2, cached_smha_c3, cached_smha_c4, cached_smha_c5
  if (failed(verifySmhaLayer(*this, d, wg, bg, wqkv, bqkv, wo, bo, getHeads(),
                             getTop(), getRope())))
    return failure();
  // cached_smha_c6
  if (failed(expectShape(*this, Named{"key_padding", getKeyPadding()}, "[B, T]",
                         {b, t})) ||
      failed(expectShape(*this, Named{"start", getStart()}, "[B]", {b})))
    return failure();
  // cached_smha_c7
  if (getRope() == RopeMode::Compacted)
    return emitOpError() << "rope 'compacted' counts slots, not positions; "
                         << "decoding takes 'none' or 'original'";
  return expectSameElementType(*this, {x, wg, bg, wqkv, bqkv, wo, bo, y});
}

int64_t MoeOp::getNumExperts() { return getWg().getType().getShape()[0]; }

LogicalResult MoeOp::verify() {
  Named x{"input", getInput()}, wg{"wg", getWg()}, bg{"bg", getBg()},
      w1{"w1", getW1()}, b1{"b1", getB1()}, w2{"w2", getW2()},
      b2{"b2", getB2()}, y{"result", getResult()};
  // moe_c1
  if (failed(expectStatic(*this, x)))
    return failure();
  if (x.type().getRank() < 2)
    return emitOpError() << "input must have rank at least 2 ([..., N, d]), "
                         << "but it is " << x.value.getType();
  int64_t d = x.shape().back();
  // moe_c2
  FailureOr<int64_t> experts = verifyRouterWeights(*this, d, wg, bg);
  if (failed(experts))
    return failure();
  // moe_c3
  if (failed(verifyExpertMlpWeights(*this, *experts, d, w1, b1, w2, b2,
                                    getActivation())))
    return failure();
  // moe_c4
  if (failed(expectTopK(*this, getTop(), *experts)))
    return failure();
  // moe_c5
  return expectSameElementType(*this, {x, wg, bg, w1, b1, w2, b2, y});
}

/// Shared by the two norms and their gradients: `gamma` (and `beta`) are
/// `[d]`, `eps > 0`, one element type (`y` is the result, or the incoming
/// gradient of a `*_grad` op).
static LogicalResult verifyNorm(Operation *op, Named x, ArrayRef<Named> params,
                                double eps, Named y) {
  if (x.type().getRank() < 1)
    return op->emitOpError() << "input must have rank at least 1 ([..., d])";
  if (failed(expectStatic(op, x)))
    return failure();
  int64_t d = x.shape().back();
  // layer_norm_c1, rms_norm_c1, layer_norm_grad_c1, rms_norm_grad_c1
  for (const Named &p : params)
    if (failed(expectShape(op, p, "[d]", {d})))
      return failure();
  // layer_norm_c2, rms_norm_c2, layer_norm_grad_c2, rms_norm_grad_c2
  if (!(eps > 0.0))
    return op->emitOpError() << "eps (" << eps << ") must be positive";
  // layer_norm_c3, rms_norm_c3 (the gradients' operands too)
  SmallVector<Named> all{x};
  all.append(params.begin(), params.end());
  all.push_back(y);
  return expectSameElementType(op, all);
}

LogicalResult LayerNormOp::verify() {
  return verifyNorm(*this, {"input", getInput()},
                    {{"gamma", getGamma()}, {"beta", getBeta()}},
                    getEps().convertToDouble(), {"result", getResult()});
}

LogicalResult RmsNormOp::verify() {
  return verifyNorm(*this, {"input", getInput()}, {{"gamma", getGamma()}},
                    getEps().convertToDouble(), {"result", getResult()});
}

LogicalResult EmbeddingOp::verify() {
  Named ids{"ids", getIds()}, table{"table", getTable()},
      y{"result", getResult()};
  // embedding_c1
  if (ids.type().getRank() < 1)
    return emitOpError() << "ids must have rank at least 1 ([..., T]), but it "
                            "is "
                         << ids.value.getType();
  if (failed(expectStatic(*this, ids)))
    return failure();
  // embedding_c2
  if (failed(expectRank(*this, table, 2, "[V, d]")) ||
      failed(expectStatic(*this, table)))
    return failure();
  int64_t vocab = table.shape()[0], d = table.shape()[1];
  if (vocab < 1)
    return emitOpError() << "table must have at least one row (V >= 1), but "
                            "it is "
                         << table.value.getType();
  int64_t t = ids.shape().back();
  SmallVector<Named> floats{table};
  // embedding_c3
  if (Value positions = getPositions()) {
    Named pos{"positions", positions};
    if (failed(expectRank(*this, pos, 2, "[P, d]")) ||
        failed(expectStatic(*this, pos)))
      return failure();
    int64_t p = pos.shape()[0];
    if (failed(expectShape(*this, pos, "[P, d]", {p, d})))
      return failure();
    if (p < t)
      return emitOpError() << "positions has " << p
                           << " rows, fewer than the sequence length T = " << t
                           << " (the last dimension of ids)";
    floats.push_back(pos);
  }
  // embedding_c4
  SmallVector<int64_t> expected(ids.shape());
  expected.push_back(d);
  if (failed(expectShape(*this, y, "[..., T, d]", expected)))
    return failure();
  // embedding_c5
  floats.push_back(y);
  return expectSameElementType(*this, floats);
}

//===----------------------------------------------------------------------===//
// Routing ops
//===----------------------------------------------------------------------===//

LogicalResult RouterOp::verify() {
  Named x{"input", getInput()}, wg{"weight", getWeight()},
      bg{"bias", getBias()}, p{"probs", getProbs()};
  if (x.type().getRank() < 1)
    return emitOpError() << "input must have rank at least 1 ([..., d])";
  if (failed(expectStatic(*this, x)))
    return failure();
  int64_t d = x.shape().back();
  // router_c1, router_c2
  FailureOr<int64_t> experts = verifyRouterWeights(*this, d, wg, bg);
  if (failed(experts))
    return failure();
  // router_c3
  SmallVector<int64_t> expected(x.shape().drop_back());
  expected.push_back(*experts);
  if (failed(expectShape(*this, p, "[..., E]", expected)))
    return failure();
  // router_c4
  return expectSameElementType(*this, {x, wg, bg, p});
}

/// The constraints of `uoe.token_choice`, shared with its gradient.
static LogicalResult verifyTokenChoice(Operation *op, Value probs, int64_t top,
                                       std::optional<int64_t> axis, double eps,
                                       double capacity) {
  auto type = cast<RankedTensorType>(probs.getType());
  if (type.getRank() < 1)
    return op->emitOpError() << "probs must have rank at least 1 ([..., E])";
  if (failed(expectStatic(op, {"probs", probs})))
    return failure();
  // token_choice_c1
  if (failed(expectTopK(op, top, type.getShape().back())))
    return failure();
  if (axis) {
    // token_choice_c2
    if (*axis < 0 || *axis >= type.getRank() - 1)
      return op->emitOpError() << "normalisation axis (" << *axis
                               << ") must be a leading axis of probs, in [0, "
                               << type.getRank() - 1 << ")";
    // token_choice_c3
    if (!(eps >= 0.0) || !(capacity > 0.0))
      return op->emitOpError()
             << "normalisation needs eps >= 0 and capacity > 0, but eps = "
             << eps << " and capacity = " << capacity;
  }
  return success();
}

LogicalResult TokenChoiceOp::verify() {
  return verifyTokenChoice(*this, getProbs(), getTop(), getAxis(),
                           getEps().convertToDouble(),
                           getCapacity().convertToDouble());
}

OpFoldResult TokenChoiceOp::fold(FoldAdaptor) {
  // Keeping every expert without normalisation leaves the scores unchanged.
  if (!getAxis() && !getRenormalize() &&
      static_cast<int64_t>(getTop()) == getProbs().getType().getShape().back())
    return getProbs();
  return {};
}

int64_t DataSelectOp::getNumPatches() {
  return getScores().getType().getShape()[1] / getPatch();
}

LogicalResult DataSelectOp::verify() {
  Named s{"scores", getScores()}, pos{"positions", getPositions()},
      w{"weights", getWeights()};
  // data_select_c1
  if (failed(expectRank(*this, s, 3, "[R, N, E]")) ||
      failed(expectStatic(*this, s)))
    return failure();
  int64_t r = s.shape()[0], n = s.shape()[1], e = s.shape()[2];
  // data_select_c2
  if (failed(expectPatchDivides(*this, getPatch(), n, "the token count N")))
    return failure();
  int64_t l = ShapedType::kDynamic;
  if (std::optional<APFloat> capacity = getCapacity()) {
    // data_select_c3
    FailureOr<int64_t> selected =
        staticCapacity(*this, capacity->convertToDouble(), n / getPatch());
    if (failed(selected))
      return failure();
    l = *selected;
  }
  // data_select_c4
  if (failed(expectRank(*this, pos, 3, "[E, R, L]")))
    return failure();
  int64_t resultL = pos.shape()[2];
  if (isDynamic() && !ShapedType::isDynamic(resultL))
    return emitOpError() << "dynamic capacity needs a dynamic L ('?'), but "
                         << "positions is " << pos.value.getType();
  if (!isDynamic() && resultL != l)
    return emitOpError() << "capacity selects L = floor(capacity * N / P) = "
                         << l << " patches, but positions is "
                         << pos.value.getType();
  // data_select_c5
  if (failed(expectShape(*this, pos, "[E, R, L]", {e, r, l})) ||
      failed(expectShape(*this, w, "[E, R, L]", {e, r, l})))
    return failure();
  return expectSameElementType(*this, {s, w});
}

LogicalResult ExpertSelectOp::verify() {
  Named p{"probs", getProbs()}, idx{"experts", getExperts()},
      w{"weights", getWeights()};
  // expert_select_c1
  if (p.type().getRank() < 1)
    return emitOpError() << "probs must have rank at least 1 ([..., E])";
  if (failed(expectStatic(*this, p)))
    return failure();
  // expert_select_c2
  if (failed(expectTopK(*this, getTop(), p.shape().back())))
    return failure();
  // expert_select_c3
  SmallVector<int64_t> expected(p.shape().drop_back());
  expected.push_back(getTop());
  if (failed(expectShape(*this, idx, "[..., top]", expected)) ||
      failed(expectShape(*this, w, "[..., top]", expected)))
    return failure();
  return expectSameElementType(*this, {p, w});
}

LogicalResult DispatchOp::verify() {
  Named x{"input", getInput()}, pos{"positions", getPositions()},
      y{"result", getResult()};
  // dispatch_c1
  if (failed(expectRank(*this, x, 3, "[R, N, d]")) ||
      failed(expectRank(*this, pos, 3, "[E, R, L]")) ||
      failed(expectStatic(*this, x)))
    return failure();
  int64_t r = x.shape()[0], n = x.shape()[1], d = x.shape()[2];
  int64_t e = pos.shape()[0], l = pos.shape()[2];
  // dispatch_c2
  if (pos.shape()[1] != r)
    return emitOpError() << "positions has " << pos.shape()[1]
                         << " rows but input has " << r << " (input: "
                         << x.value.getType()
                         << ", positions: " << pos.value.getType() << ")";
  // dispatch_c3
  if (failed(expectPatchDivides(*this, getPatch(), n, "the token count N")))
    return failure();
  // dispatch_c4
  if (failed(expectShape(*this, y, "[E, R, L*P, d]",
                         {e, r, mulDim(l, getPatch()), d})))
    return failure();
  return expectSameElementType(*this, {x, y});
}

LogicalResult ExpertMatmulOp::verify() {
  Named a{"lhs", getLhs()}, w{"rhs", getRhs()}, y{"result", getResult()};
  // expert_matmul_c1
  if (a.type().getRank() < 3)
    return emitOpError() << "lhs must have rank at least 3 ([E, ..., M, K]), "
                         << "but it is " << a.value.getType();
  if (failed(expectRank(*this, w, 3, "[E, K, N]")) ||
      failed(expectStatic(*this, w)))
    return failure();
  ArrayRef<int64_t> lhs = a.shape(), rhs = w.shape();
  // expert_matmul_c2
  if (lhs.front() != rhs[0])
    return emitOpError() << "expert counts differ: lhs has " << lhs.front()
                         << " experts (" << a.value.getType() << ") but rhs has "
                         << rhs[0] << " (" << w.value.getType() << ")";
  // expert_matmul_c3
  if (lhs.back() != rhs[1])
    return emitOpError() << "contraction sizes differ: lhs has K = "
                         << lhs.back() << " (" << a.value.getType()
                         << ") but rhs has K = " << rhs[1] << " ("
                         << w.value.getType() << ")";
  int64_t e = rhs[0], n = rhs[2];
  SmallVector<Named> all{a, w, y};
  // expert_matmul_c4
  if (Value bias = getBias()) {
    Named b{"bias", bias};
    if (failed(expectShape(*this, b, "[E, N]", {e, n})))
      return failure();
    all.push_back(b);
  }
  // expert_matmul_c5
  FailureOr<int64_t> width = hiddenWidth(*this, "rhs", n, getActivation());
  if (failed(width))
    return failure();
  // expert_matmul_c6
  SmallVector<int64_t> expected(lhs.drop_back());
  expected.push_back(*width);
  if (failed(expectShape(*this, y, "[E, ..., M, N]", expected)))
    return failure();
  return expectSameElementType(*this, all);
}

LogicalResult ExpertGemmOp::verify() {
  Named a{"lhs", getLhs()}, w{"rhs", getRhs()}, y{"result", getResult()};
  int64_t patch = getPatch();
  // expert_gemm_c4
  if (!getGatherPositions() && !getCombinePositions())
    return emitOpError() << "needs gather or combine positions (without "
                            "either it is a uoe.expert_matmul)";
  if (patch < 1)
    return emitOpError() << "patch size (" << patch << ") must be at least 1";
  // expert_gemm_c1
  if (failed(expectRank(*this, w, 3, "[E, K, Nw]")) ||
      failed(expectStatic(*this, w)))
    return failure();
  int64_t e = w.shape()[0], k = w.shape()[1], nw = w.shape()[2];
  SmallVector<Named> all{a, w, y};
  if (Value bias = getBias()) {
    Named b{"bias", bias};
    if (failed(expectShape(*this, b, "[E, Nw]", {e, nw})))
      return failure();
    all.push_back(b);
  }
  FailureOr<int64_t> width = hiddenWidth(*this, "rhs", nw, getActivation());
  if (failed(width))
    return failure();
  // expert_gemm_c2
  int64_t r = ShapedType::kDynamic, l = ShapedType::kDynamic;
  if (Value gather = getGatherPositions()) {
    Named pos{"gather positions", gather};
    if (failed(expectRank(*this, a, 3, "[R, N, K]")) ||
        failed(expectRank(*this, pos, 3, "[E, R, L]")))
      return failure();
    r = a.shape()[0];
    l = pos.shape()[2];
    if (failed(expectShape(*this, a, "[R, N, K]", {r, a.shape()[1], k})) ||
        failed(expectShape(*this, pos, "[E, R, L]", {e, r, l})) ||
        failed(expectPatchDivides(*this, patch, a.shape()[1],
                                  "the token count N of lhs")))
      return failure();
  } else {
    if (failed(expectRank(*this, a, 4, "[E, R, M, K]")))
      return failure();
    r = a.shape()[1];
    if (failed(expectShape(*this, a, "[E, R, M, K]", {e, r, a.shape()[2], k})))
      return failure();
  }
  // expert_gemm_c3
  if (Value combine = getCombinePositions()) {
    Named pos{"combine positions", combine};
    if (failed(expectRank(*this, pos, 3, "[E, R, L]")))
      return failure();
    if (ShapedType::isDynamic(l))
      l = pos.shape()[2];
    if (failed(expectShape(*this, pos, "[E, R, L]", {e, r, l})))
      return failure();
    if (!getGatherPositions() &&
        failed(expectShape(*this, a, "[E, R, L*P, K]",
                           {e, r, mulDim(l, patch), k})))
      return failure();
    if (Value weights = getCombineWeights()) {
      Named wt{"weights", weights};
      if (failed(expectShape(*this, wt, "[E, R, L]", pos.shape())))
        return failure();
      all.push_back(wt);
    }
    if (failed(expectRank(*this, y, 3, "[R, N, width]")))
      return failure();
    int64_t n = y.shape()[1];
    if (failed(expectShape(*this, y, "[R, N, width]", {r, n, *width})) ||
        failed(expectPatchDivides(*this, patch, n, "the token count N")))
      return failure();
  } else {
    if (getCombineWeights())
      return emitOpError() << "weights need combine positions";
    int64_t m = getGatherPositions() ? mulDim(l, patch) : a.shape()[2];
    if (failed(expectShape(*this, y, "[E, R, L*P, width]", {e, r, m, *width})))
      return failure();
  }
  // expert_gemm_c5
  return expectSameElementType(*this, all);
}

/// The constraints `selective_attention_c1` to `_c4` of
/// `uoe.selective_attention`, shared with its gradient.
static LogicalResult verifySelectiveAttention(Operation *op, Named q, Named k,
                                              Named v, Named pos,
                                              Value keyPadding, int64_t heads,
                                              RopeMode rope) {
  // selective_attention_c1
  if (failed(expectRank(op, q, 4, "[E, B, L, D]")))
    return failure();
  if (k.value.getType() != q.value.getType() ||
      v.value.getType() != q.value.getType())
    return op->emitOpError()
           << "query, key and value must have one type, but they are "
           << q.value.getType() << ", " << k.value.getType() << " and "
           << v.value.getType();
  int64_t e = q.shape()[0], b = q.shape()[1], l = q.shape()[2],
          dim = q.shape()[3];
  // selective_attention_c2
  if (heads < 1 || dim % heads != 0)
    return op->emitOpError()
           << "heads (" << heads
           << ") must be positive and divide the expert width D (" << dim
           << ")";
  if (rope != RopeMode::None && (dim / heads) % 2 != 0)
    return op->emitOpError() << "rotary embedding needs an even head width, "
                             << "but D / heads = " << dim / heads;
  // selective_attention_c3
  if (failed(expectShape(op, pos, "[E, B, L]", {e, b, l})))
    return failure();
  // selective_attention_c4
  if (keyPadding) {
    Named m{"key_padding", keyPadding};
    if (failed(expectRank(op, m, 2, "[B, T]")) ||
        failed(expectShape(op, m, "[B, T]", {b, m.shape()[1]})))
      return failure();
  }
  return success();
}

/// Checks that `v` has the type of `query` (selective_attention_c5,
/// selective_attention_grad_c6).
static LogicalResult expectTypeOfQuery(Operation *op, Named q, Named v) {
  if (v.value.getType() == q.value.getType())
    return success();
  return op->emitOpError() << v.name << " must have the type of query ("
                           << q.value.getType() << "), but it is "
                           << v.value.getType();
}

LogicalResult SelectiveAttentionOp::verify() {
  Named q{"query", getQuery()};
  if (failed(verifySelectiveAttention(*this, q, {"key", getKey()},
                                      {"value", getValue()},
                                      {"positions", getPositions()},
                                      getKeyPadding(), getHeads(), getRope())))
    return failure();
  // selective_attention_c5
  return expectTypeOfQuery(*this, q, {"result", getResult()});
}

LogicalResult CombineOp::verify() {
  Named x{"input", getInput()}, pos{"positions", getPositions()},
      y{"result", getResult()};
  // combine_c1
  if (failed(expectRank(*this, x, 4, "[E, R, L*P, d]")) ||
      failed(expectRank(*this, pos, 3, "[E, R, L]")))
    return failure();
  int64_t e = pos.shape()[0], r = pos.shape()[1], l = pos.shape()[2];
  int64_t d = x.shape()[3];
  // combine_c5 (first, since the shapes below depend on the patch size)
  if (getPatch() < 1)
    return emitOpError() << "patch size (" << getPatch()
                         << ") must be at least 1";
  // combine_c2
  if (failed(expectShape(*this, x, "[E, R, L*P, d]",
                         {e, r, mulDim(l, getPatch()), d})))
    return failure();
  // combine_c3
  bool gated = getMode() == CombineMode::Gated;
  if (gated && !getWeights())
    return emitOpError() << "gated mode needs weights";
  if (!gated && getWeights())
    return emitOpError() << "union mode takes no weights (every expert output "
                         << "is added with weight 1)";
  SmallVector<Named> all{x, y};
  // combine_c4
  if (Value weights = getWeights()) {
    Named w{"weights", weights};
    if (failed(expectShape(*this, w, "[E, R, L]", pos.shape())))
      return failure();
    all.push_back(w);
  }
  // combine_c5
  if (failed(expectRank(*this, y, 3, "[R, N, d]")))
    return failure();
  int64_t n = y.shape()[1];
  if (failed(expectShape(*this, y, "[R, N, d]", {r, n, d})) ||
      failed(expectPatchDivides(*this, getPatch(), n, "the token count N")))
    return failure();
  return expectSameElementType(*this, all);
}

//===----------------------------------------------------------------------===//
// Gradient and loss ops
//===----------------------------------------------------------------------===//

/// The shape `uoe.activation` gives `input` (the last dimension halved for
/// SwiGLU, which needs it even and static).
static FailureOr<SmallVector<int64_t>>
activationShape(Operation *op, Named input, Activation act) {
  SmallVector<int64_t> shape(input.shape());
  if (act != Activation::SwiGlu)
    return shape;
  if (ShapedType::isDynamic(shape.back()))
    return op->emitOpError()
           << "swiglu needs a static last dimension of " << input.name
           << " ([gate | up] halves), but it is " << input.value.getType();
  FailureOr<int64_t> width =
      hiddenWidth(op, input.name, shape.back(), Activation::SwiGlu);
  if (failed(width))
    return failure();
  shape.back() = *width;
  return shape;
}

/// `uoe.activation` and its gradient: `input` has rank at least 1
/// ([..., N]) and `output` (the result, or the result's gradient) is
/// [..., N], or [..., N / 2] for SwiGLU, of the same element type.
static LogicalResult verifyActivationShapes(Operation *op, Named input,
                                            Named output, Activation act) {
  if (input.type().getRank() < 1)
    return op->emitOpError()
           << "input must have rank at least 1 ([..., N]), but it is "
           << input.value.getType();
  FailureOr<SmallVector<int64_t>> expected = activationShape(op, input, act);
  if (failed(expected) ||
      failed(expectShape(op, output,
                         act == Activation::SwiGlu ? "[..., N / 2]"
                                                   : "[..., N]",
                         *expected)))
    return failure();
  return expectSameElementType(op, {input, output});
}

LogicalResult ActivationOp::verify() {
  // activation_c1, activation_c2
  return verifyActivationShapes(*this, {"input", getInput()},
                                {"result", getResult()}, getActivation());
}

LogicalResult ActivationGradOp::verify() {
  // activation_grad_c1
  return verifyActivationShapes(*this, {"input", getInput()},
                                {"result_grad", getResultGrad()},
                                getActivation());
}

LogicalResult LayerNormGradOp::verify() {
  return verifyNorm(*this, {"input", getInput()}, {{"gamma", getGamma()}},
                    getEps().convertToDouble(),
                    {"result_grad", getResultGrad()});
}

LogicalResult RmsNormGradOp::verify() {
  return verifyNorm(*this, {"input", getInput()}, {{"gamma", getGamma()}},
                    getEps().convertToDouble(),
                    {"result_grad", getResultGrad()});
}

LogicalResult EmbeddingGradOp::verify() {
  Named ids{"ids", getIds()}, dy{"result_grad", getResultGrad()},
      dt{"table_grad", getTableGrad()};
  // embedding_grad_c1
  if (ids.type().getRank() < 1)
    return emitOpError() << "ids must have rank at least 1 ([..., T]), but it "
                         << "is " << ids.value.getType();
  if (failed(expectStatic(*this, ids)) ||
      failed(expectRank(*this, dy, ids.type().getRank() + 1, "[..., T, d]")) ||
      failed(expectStatic(*this, dy)))
    return failure();
  int64_t d = dy.shape().back();
  SmallVector<int64_t> expected(ids.shape());
  expected.push_back(d);
  if (failed(expectShape(*this, dy, "[..., T, d]", expected)))
    return failure();
  // embedding_grad_c2
  if (failed(expectRank(*this, dt, 2, "[V, d]")) ||
      failed(expectStatic(*this, dt)))
    return failure();
  int64_t vocab = dt.shape()[0];
  if (vocab < 1)
    return emitOpError() << "table_grad must have at least one row (V >= 1), "
                         << "but it is " << dt.value.getType();
  if (failed(expectShape(*this, dt, "[V, d]", {vocab, d})))
    return failure();
  return expectSameElementType(*this, {dy, dt});
}

LogicalResult SelectiveAttentionGradOp::verify() {
  Named q{"query", getQuery()};
  if (failed(verifySelectiveAttention(*this, q, {"key", getKey()},
                                      {"value", getValue()},
                                      {"positions", getPositions()},
                                      getKeyPadding(), getHeads(), getRope())))
    return failure();
  // selective_attention_grad_c6 (the op's type traits check it first; kept
  // so that the rule stands in one place)
  for (Named v :
       {Named{"result_grad", getResultGrad()},
        Named{"query_grad", getQueryGrad()}, Named{"key_grad", getKeyGrad()},
        Named{"value_grad", getValueGrad()}})
    if (failed(expectTypeOfQuery(*this, q, v)))
      return failure();
  return success();
}

LogicalResult RouterGradOp::verify() {
  Named x{"input", getInput()}, wg{"weight", getWeight()},
      p{"probs", getProbs()}, db{"bias_grad", getBiasGrad()};
  if (x.type().getRank() < 1)
    return emitOpError() << "input must have rank at least 1 ([..., d])";
  if (failed(expectStatic(*this, x)))
    return failure();
  int64_t d = x.shape().back();
  // router_grad_c1, router_grad_c3 (the shape of bias_grad)
  FailureOr<int64_t> experts = verifyRouterWeights(*this, d, wg, db);
  if (failed(experts))
    return failure();
  // router_grad_c2
  SmallVector<int64_t> expected(x.shape().drop_back());
  expected.push_back(*experts);
  if (failed(expectShape(*this, p, "[..., E]", expected)))
    return failure();
  // router_grad_c3 (the element type of bias_grad, and of every operand)
  return expectSameElementType(*this, {x, wg, p, db});
}

LogicalResult TokenChoiceGradOp::verify() {
  return verifyTokenChoice(*this, getProbs(), getTop(), getAxis(),
                           getEps().convertToDouble(),
                           getCapacity().convertToDouble());
}

LogicalResult DataSelectGradOp::verify() {
  Named pos{"positions", getPositions()}, dw{"weights_grad", getWeightsGrad()},
      ds{"scores_grad", getScoresGrad()};
  // data_select_grad_c2 (the shape of scores_grad, read first: it gives E
  // and R)
  if (failed(expectRank(*this, ds, 3, "[R, N, E]")) ||
      failed(expectStatic(*this, ds)))
    return failure();
  int64_t r = ds.shape()[0], n = ds.shape()[1], e = ds.shape()[2];
  // data_select_grad_c1
  if (failed(expectRank(*this, pos, 3, "[E, R, L]")))
    return failure();
  int64_t l = pos.shape()[2];
  if (failed(expectShape(*this, pos, "[E, R, L]", {e, r, l})) ||
      failed(expectShape(*this, dw, "[E, R, L]", {e, r, l})))
    return failure();
  // data_select_grad_c2
  if (failed(expectPatchDivides(*this, getPatch(), n, "the token count N")))
    return failure();
  return expectSameElementType(*this, {dw, ds});
}

/// The constraints of `uoe.cross_entropy`, shared with its gradient, where
/// `loss` is the incoming `loss_grad`.
static LogicalResult verifyCrossEntropy(Operation *op, Named logits,
                                        Named targets, Named loss) {
  // cross_entropy_c1
  if (logits.type().getRank() < 2)
    return op->emitOpError()
           << "logits must have rank at least 2 ([..., V]), but it is "
           << logits.value.getType();
  if (failed(expectShape(op, targets, "[...] (logits without V)",
                         logits.shape().drop_back())))
    return failure();
  // cross_entropy_c2
  if (failed(expectRank(op, loss, 0, "a scalar []")))
    return failure();
  return expectSameElementType(op, {logits, loss});
}

LogicalResult CrossEntropyOp::verify() {
  return verifyCrossEntropy(*this, {"logits", getLogits()},
                            {"targets", getTargets()}, {"loss", getLoss()});
}

LogicalResult CrossEntropyGradOp::verify() {
  return verifyCrossEntropy(*this, {"logits", getLogits()},
                            {"targets", getTargets()},
                            {"loss_grad", getLossGrad()});
}

#define GET_OP_CLASSES
#include "dialect/UoEOps.cpp.inc"
