//===- ModelImporter.cpp - model descriptions to uoe IR ------------------===//
//
// Emits @forward of a resolved description (ModelDescription.h) as a chain
// of uoe layer ops, with one parameter per weight in modelParameters()
// order (ModelParameters.h).
// The model around the blocks is emitted too: `uoe.embedding` for token
// ids, and the heads as upstream ops that the CPU pipeline and a later
// autodiff pass already handle (linalg.transpose, linalg.broadcast,
// linalg.batch_matmul of batch 1, so the GEMM goes to BLAS, and a
// linalg.reduce for the mean over T).
//
//===----------------------------------------------------------------------===//

#include "frontend/ModelImporter.h"

#include "frontend/ModelDescription.h"
#include "frontend/ModelParameters.h"

#include "dialect/UoEOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <map>
#include <cstdint>

using namespace mlir;
using namespace mlir::uoe;
namespace model = ::uoe::model;
using llvm::formatv;

//===----------------------------------------------------------------------===//
// IR
//===----------------------------------------------------------------------===//

namespace {

Activation toActivation(model::Activation a) {
  switch (a) {
  case model::GELU_TANH:
    return Activation::GeluTanh;
  case model::RELU:
    return Activation::Relu;
  case model::SILU:
    return Activation::Silu;
  case model::SWIGLU:
    return Activation::SwiGlu;
  default:
    return Activation::Gelu;
  }
}
CombineMode toCombine(model::CombineMode c) {
  return c == model::GATED ? CombineMode::Gated : CombineMode::Union;
}
RouterScore toScore(model::RouterScore s) {
  return s == model::SIGMOID ? RouterScore::Sigmoid : RouterScore::Softmax;
}
RoutingMode toRouting(model::RoutingMode r) {
  return r == model::CAUSAL_SAFE ? RoutingMode::CausalSafe
                                 : RoutingMode::Reference;
}
RopeMode toRope(model::RopeMode r) {
  switch (r) {
  case model::COMPACTED:
    return RopeMode::Compacted;
  case model::ORIGINAL:
    return RopeMode::Original;
  default:
    return RopeMode::None;
  }
}

/// Emits @forward's body, taking parameters in modelParameters() order.
class ForwardBuilder {
public:
  ForwardBuilder(OpBuilder &b, Location loc, const model::Model &model,
                 ValueRange params)
      : b(b), loc(loc), model(model), params(params) {}

  Value next() { return params[used++]; }

  /// Takes the `attention_mask` input (int64 [B, T], 1 = token): attention
  /// layers get `key_padding = (mask == 0)` and the classifier averages over
  /// the tokens, weighted by `keep = (mask != 0)` as f32.
  void setAttentionMask(Value mask) {
    auto type = cast<RankedTensorType>(mask.getType());
    Value zero = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, b.getI64IntegerAttr(0)));
    keyPadding =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, mask, zero);
    Value keepI1 =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, mask, zero);
    keep = arith::UIToFPOp::create(
        b, loc, RankedTensorType::get(type.getShape(), b.getF32Type()),
        keepI1);
  }

  /// The model's norm (LayerNorm, or RMSNorm for PRE_RMSNORM) of `x`.
  Value norm(Value x) {
    Value gamma = next();
    if (model.layout() != model::PRE_RMSNORM)
      return LayerNormOp::create(b, loc, x, gamma, next(),
                                 b.getF64FloatAttr(model.norm_eps()));
    return RmsNormOp::create(b, loc, x, gamma,
                             b.getF64FloatAttr(model.norm_eps()));
  }

  /// Zeros `[e, d]`: the per-expert output biases of a layer whose bias is
  /// shared (added once after the combine by addSharedBias).
  Value zeroExpertBias(int64_t e) {
    auto type = RankedTensorType::get({e, model.d_model()}, b.getF32Type());
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, b.getF32FloatAttr(0.0f)));
  }

  /// `y + bias` for `y: [N0, N1, d]`, `bias: [d]` broadcast over the rows.
  Value addSharedBias(Value y, Value bias) {
    auto type = cast<RankedTensorType>(y.getType());
    Value empty = tensor::EmptyOp::create(b, loc, type.getShape(),
                                          type.getElementType());
    Value broadcast = linalg::BroadcastOp::create(b, loc, bias, empty,
                                                  ArrayRef<int64_t>{0, 1})
                          .getResult()[0];
    return arith::AddFOp::create(b, loc, y, broadcast);
  }

  /// Decoding (importDecoder): tokens at positions `start[b] + t`, dense
  /// attention over the key/value cache `cache`, as layer `layer` of it.
  void setDecoding(Value start, Value cache, Value layer) {
    decodeStart = start;
    decodeCache = cache;
    decodeLayer = layer;
  }

  Value attention(const model::Block &block, Value x) {
    if (block.has_dense_attention()) {
      const auto &a = block.dense_attention();
      Value wqkv = next(), bqkv = next(), wo = next(), bo = next();
      if (decodeCache)
        return CachedAttentionOp::create(
            b, loc, x.getType(), x, wqkv, bqkv, wo, bo, decodeStart,
            decodeCache, decodeLayer, b.getI64IntegerAttr(a.heads()));
      return AttentionOp::create(
          b, loc, x.getType(), x, wqkv, bqkv, wo, bo, keyPadding,
          b.getI64IntegerAttr(a.heads()),
          a.causal() ? b.getUnitAttr() : nullptr,
          RopeModeAttr::get(b.getContext(), toRope(a.rope())),
          b.getF64FloatAttr(a.rope_base()));
    }
    const auto &a = block.smha();
    Value wg = next(), bg = next(), wqkv = next(), bqkv = next(), wo = next(),
          bo = next();
    Value shared;
    if (a.shared_output_bias()) {
      shared = bo;
      bo = zeroExpertBias(a.experts());
    }
    if (decodeCache) {
      // Decoding: causal-safe routing (checkDecodable), the padding of
      // shorter prompts as key padding.
      Value y = CachedSmhaOp::create(
          b, loc, x.getType(), x, wg, bg, wqkv, bqkv, wo, bo, keyPadding,
          decodeStart, decodeCache, decodeLayer, b.getI64IntegerAttr(a.heads()),
          b.getI64IntegerAttr(a.top_k()),
          RopeModeAttr::get(b.getContext(), toRope(a.rope())),
          b.getF64FloatAttr(a.rope_base()),
          CombineModeAttr::get(b.getContext(), toCombine(a.combine())),
          RouterScoreAttr::get(b.getContext(), toScore(a.score())));
      return shared ? addSharedBias(y, shared) : y;
    }
    Value y = SmhaOp::create(
        b, loc, x.getType(), x, wg, bg, wqkv, bqkv, wo, bo, keyPadding,
        b.getI64IntegerAttr(a.heads()), b.getI64IntegerAttr(a.top_k()),
        a.causal() ? b.getUnitAttr() : nullptr,
        RopeModeAttr::get(b.getContext(), toRope(a.rope())),
        b.getF64FloatAttr(a.rope_base()),
        CombineModeAttr::get(b.getContext(), toCombine(a.combine())),
        RouterScoreAttr::get(b.getContext(), toScore(a.score())),
        b.getF64FloatAttr(a.eps()), b.getF64FloatAttr(a.norm_capacity()),
        RoutingModeAttr::get(b.getContext(), toRouting(a.routing())));
    return shared ? addSharedBias(y, shared) : y;
  }

  /// [B, T, d] <-> [T, B, d] for UoME's batch layout.
  Value swapBatchAndTime(Value x) {
    auto type = cast<RankedTensorType>(x.getType());
    auto shape = type.getShape();
    Value init = tensor::EmptyOp::create(
        b, loc, ArrayRef<int64_t>{shape[1], shape[0], shape[2]},
        type.getElementType());
    return linalg::TransposeOp::create(b, loc, x, init,
                                       ArrayRef<int64_t>{1, 0, 2})
        .getResult()[0];
  }

  Value mlp(const model::Block &block, Value x) {
    if (block.has_dense_mlp()) {
      Value w1 = next(), b1 = next(), w2 = next(), b2 = next();
      return DenseMlpOp::create(
          b, loc, x.getType(), x, w1, b1, w2, b2,
          ActivationAttr::get(b.getContext(),
                              toActivation(block.dense_mlp().activation())));
    }
    Value wg = next(), bg = next(), w1 = next(), b1 = next(), w2 = next(),
          b2 = next();
    if (block.has_moe()) {
      const auto &m = block.moe();
      return MoeOp::create(
          b, loc, x.getType(), x, wg, bg, w1, b1, w2, b2,
          b.getI64IntegerAttr(m.top_k()),
          m.renormalize() ? b.getUnitAttr() : nullptr,
          ActivationAttr::get(b.getContext(), toActivation(m.activation())),
          RouterScoreAttr::get(b.getContext(), toScore(m.score())));
    }
    const auto &m = block.uome();
    Value shared;
    if (m.shared_output_bias()) {
      shared = b2;
      b2 = zeroExpertBias(m.experts());
    }
    bool batchLayout = m.layout() == model::BATCH;
    Value in = batchLayout ? swapBatchAndTime(x) : x;
    Value y = UomeOp::create(
        b, loc, in.getType(), in, wg, bg, w1, b1, w2, b2,
        b.getI64IntegerAttr(m.top_k()), b.getF64FloatAttr(m.capacity()),
        b.getI64IntegerAttr(m.patch_size()),
        ActivationAttr::get(b.getContext(), toActivation(m.activation())),
        CombineModeAttr::get(b.getContext(), toCombine(m.combine())),
        RouterScoreAttr::get(b.getContext(), toScore(m.score())),
        b.getF64FloatAttr(m.eps()), b.getF64FloatAttr(m.norm_capacity()),
        RoutingModeAttr::get(b.getContext(), toRouting(m.routing())));
    if (batchLayout)
      y = swapBatchAndTime(y);
    return shared ? addSharedBias(y, shared) : y;
  }

  /// One sub-layer: post-LN `LN(x + f(x))`, or pre-norm `x + f(norm(x))`
  /// (PRE_LN, PRE_RMSNORM).
  Value sublayer(Value x, llvm::function_ref<Value(Value)> f) {
    if (model.layout() == model::POST_LN) {
      Value sum = arith::AddFOp::create(b, loc, x, dropoutPoint(f(x)));
      return norm(sum);
    }
    Value normed = norm(x);
    return arith::AddFOp::create(b, loc, x, dropoutPoint(f(normed)));
  }

  /// Marks `x` as a place for training dropout (`model.dropout`): a no-op
  /// `tensor.cast` carrying `uoe.dropout = rate`, which inference folds away
  /// and `--uoe-build-train-step` replaces by a random mask.
  Value dropoutPoint(Value x) {
    if (!(model.dropout() > 0.0))
      return x;
    auto cast = tensor::CastOp::create(b, loc, x.getType(), x);
    cast->setAttr("uoe.dropout", b.getF64FloatAttr(model.dropout()));
    return cast;
  }

  /// Token ids [B, T] to hidden states [B, T, d]: `uoe.embedding`, with the
  /// learned position table when there is one, plus the token-type rows
  /// (a second `uoe.embedding` of `types`, or of zeros without that input),
  /// then the embedding norm.
  Value embed(Value ids, Value types) {
    const model::Embedding &e = model.embedding();
    embeddingTable = next();
    Value positions = e.position() == model::LEARNED ? next() : Value();
    auto idsType = cast<RankedTensorType>(ids.getType());
    SmallVector<int64_t> shape(idsType.getShape());
    shape.push_back(model.d_model());
    auto hiddenType = RankedTensorType::get(shape, b.getF32Type());
    Value x;
    if (positions && decodeStart) {
      // Rows start[b] + t of the position table, added as uoe.embedding
      // adds its positions.
      Value tokens =
          EmbeddingOp::create(b, loc, hiddenType, ids, embeddingTable, Value());
      Value rows = EmbeddingOp::create(b, loc, hiddenType, positionIds(idsType),
                                       positions, Value());
      x = arith::AddFOp::create(b, loc, tokens, rows);
    } else {
      x = EmbeddingOp::create(b, loc, hiddenType, ids, embeddingTable,
                              positions);
    }
    if (e.token_types() > 0) {
      Value typeTable = next();
      if (!types)
        types = arith::ConstantOp::create(
            b, loc, DenseElementsAttr::get(idsType, b.getI64IntegerAttr(0)));
      Value rows =
          EmbeddingOp::create(b, loc, hiddenType, types, typeTable, Value());
      x = arith::AddFOp::create(b, loc, x, rows);
    }
    return dropoutPoint(e.norm() ? norm(x) : x);
  }

  /// A linalg.generic over every element of `resultType` ([B, ...]) whose
  /// one input is `perRow` ([B]): `body(builder, loc, perRow[b])` yields
  /// each element (linalg.index gives its indices).
  Value byRow(RankedTensorType resultType, Value perRow,
              function_ref<Value(OpBuilder &, Location, Value)> body) {
    unsigned rank = resultType.getRank();
    MLIRContext *ctx = b.getContext();
    Value empty = tensor::EmptyOp::create(b, loc, resultType.getShape(),
                                          resultType.getElementType());
    AffineMap row = AffineMap::get(rank, 0, {getAffineDimExpr(0, ctx)}, ctx);
    AffineMap all = AffineMap::getMultiDimIdentityMap(rank, ctx);
    return linalg::GenericOp::create(
               b, loc, TypeRange{resultType}, ValueRange{perRow},
               ValueRange{empty}, ArrayRef<AffineMap>{row, all},
               SmallVector<utils::IteratorType>(rank,
                                                utils::IteratorType::parallel),
               [&](OpBuilder &nb, Location nloc, ValueRange args) {
                 linalg::YieldOp::create(nb, nloc, body(nb, nloc, args[0]));
               })
        .getResult(0);
  }

  /// `start[b] + t` as `ids`' type [B, T]: the positions of decoding's
  /// tokens.
  Value positionIds(RankedTensorType idsType) {
    return byRow(idsType, decodeStart,
                 [](OpBuilder &nb, Location nloc, Value start) -> Value {
                   Value t = arith::IndexCastOp::create(
                       nb, nloc, nb.getI64Type(),
                       linalg::IndexOp::create(nb, nloc, 1));
                   return arith::AddIOp::create(nb, nloc, start, t);
                 });
  }

  /// Row `last[b]` of `x: [B, T, d]` for every b: `[B, 1, d]`.
  Value rowsAt(Value x, Value last) {
    auto type = cast<RankedTensorType>(x.getType());
    auto resultType = RankedTensorType::get(
        {type.getShape()[0], 1, type.getShape()[2]}, type.getElementType());
    return byRow(resultType, last,
                 [x](OpBuilder &nb, Location nloc, Value position) -> Value {
                   Value t = arith::IndexCastOp::create(
                       nb, nloc, nb.getIndexType(), position);
                   return tensor::ExtractOp::create(
                       nb, nloc, x,
                       ValueRange{linalg::IndexOp::create(nb, nloc, 0), t,
                                  linalg::IndexOp::create(nb, nloc, 2)});
                 });
  }

  /// A zero-filled tensor (`linalg.fill` of `tensor.empty`).
  Value zeros(ArrayRef<int64_t> shape, Type elementType) {
    Value zero =
        arith::ConstantOp::create(b, loc, b.getFloatAttr(elementType, 0.0));
    Value empty = tensor::EmptyOp::create(b, loc, shape, elementType);
    return linalg::FillOp::create(b, loc, zero, empty).getResult(0);
  }

  /// `x W^T (+ bias)` for `x: [N, K]`, `w: [M, K]`, `bias: [M]`, computed
  /// as `(W x^T)^T`: one linalg.batch_matmul of batch 1 (which the CPU
  /// pipeline hands to our GEMM) of the weight as it is stored and the
  /// transposed (small) input, accumulating into the bias broadcast over
  /// the columns (or into zeros), then a transpose of the [M, N] product.
  /// The weight is read in place: an LM head's [V, d] table is never
  /// transposed or copied, which at one token per step (decoding) would
  /// cost more than the product. Every element is the same sum, in the
  /// same order, as that of `x` times the transposed weight (the products
  /// of a fused multiply-add do not depend on the operands' order).
  /// Result `[N, M]`.
  Value linearTransposed(Value x, Value w, Value bias) {
    auto xType = cast<RankedTensorType>(x.getType());
    auto wType = cast<RankedTensorType>(w.getType());
    Type f32 = xType.getElementType();
    int64_t n = xType.getShape()[0], k = xType.getShape()[1],
            m = wType.getShape()[0];
    SmallVector<ReassociationIndices> batchOne{{0, 1}, {2}};
    Value lhs = tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get({1, m, k}, f32), w, batchOne);
    auto transpose = [&](Value v, int64_t rows, int64_t cols) {
      return linalg::TransposeOp::create(
                 b, loc, v,
                 tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{cols, rows},
                                         f32),
                 ArrayRef<int64_t>{1, 0})
          .getResult()[0];
    };
    Value rhs = tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get({1, k, n}, f32), transpose(x, n, k),
        batchOne);
    Value init;
    if (bias) {
      Value empty =
          tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{1, m, n}, f32);
      init = linalg::BroadcastOp::create(b, loc, bias, empty,
                                         ArrayRef<int64_t>{0, 2})
                 .getResult()[0];
    } else {
      init = zeros({1, m, n}, f32);
    }
    Value product =
        linalg::BatchMatmulOp::create(b, loc, TypeRange{init.getType()},
                                      ValueRange{lhs, rhs}, ValueRange{init})
            .getResult(0);
    Value flat = tensor::CollapseShapeOp::create(
        b, loc, RankedTensorType::get({m, n}, f32), product, batchOne);
    return transpose(flat, m, n);
  }

  /// The mean over T of `x: [B, T, d]`: a linalg.reduce (sum, in order of t)
  /// then a division by T. Result `[B, d]`.
  Value meanOverTime(Value x) {
    auto type = cast<RankedTensorType>(x.getType());
    Type f32 = type.getElementType();
    int64_t batch = type.getShape()[0], seq = type.getShape()[1],
            d = type.getShape()[2];
    auto pooledType = RankedTensorType::get({batch, d}, f32);
    Value sum = linalg::ReduceOp::create(
                    b, loc, ValueRange{x}, ValueRange{zeros({batch, d}, f32)},
                    ArrayRef<int64_t>{1},
                    [](OpBuilder &nb, Location nloc, ValueRange args) {
                      Value s =
                          arith::AddFOp::create(nb, nloc, args[0], args[1]);
                      linalg::YieldOp::create(nb, nloc, s);
                    })
                    .getResult(0);
    Value count = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(pooledType, b.getFloatAttr(f32, seq)));
    return arith::DivFOp::create(b, loc, sum, count);
  }

  /// The mean over the tokens of `x: [B, T, d]` whose `keep` is 1: the sum
  /// over t (in order) of keep * x, divided by max(1, the number of tokens),
  /// so that an all-padding row pools to zeros.
  Value maskedMeanOverTime(Value x) {
    auto type = cast<RankedTensorType>(x.getType());
    Type f32 = type.getElementType();
    int64_t batch = type.getShape()[0], d = type.getShape()[2];
    // keep [B, T] -> [B, T, d]; sum[b, c] = sum over t of x * keep, and
    // count[b, c] the number of tokens of row b (upstream ops only, each
    // with a differentiation rule).
    Value empty = tensor::EmptyOp::create(b, loc, type.getShape(), f32);
    Value keep3 = linalg::BroadcastOp::create(b, loc, keep, empty,
                                              ArrayRef<int64_t>{2})
                      .getResult()[0];
    Value kept = arith::MulFOp::create(b, loc, x, keep3);
    auto sumOverTime = [&](Value v) {
      return linalg::ReduceOp::create(
                 b, loc, ValueRange{v}, ValueRange{zeros({batch, d}, f32)},
                 ArrayRef<int64_t>{1},
                 [](OpBuilder &nb, Location nloc, ValueRange a) {
                   Value s = arith::AddFOp::create(nb, nloc, a[0], a[1]);
                   linalg::YieldOp::create(nb, nloc, s);
                 })
          .getResult(0);
    };
    Value sum = sumOverTime(kept), count = sumOverTime(keep3);
    auto pooledType = RankedTensorType::get({batch, d}, f32);
    Value one = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(pooledType, b.getFloatAttr(f32, 1.0)));
    count = arith::MaximumFOp::create(b, loc, count, one);
    return arith::DivFOp::create(b, loc, sum, count);
  }

  /// The head after the last block (and final norm): LM logits [B, T, V],
  /// class logits [B, C] over the mean-pooled states, or `x` itself.
  Value head(Value x) {
    auto type = cast<RankedTensorType>(x.getType());
    Type f32 = type.getElementType();
    int64_t batch = type.getShape()[0], seq = type.getShape()[1],
            d = type.getShape()[2];
    if (model.has_lm_head()) {
      const model::LmHead &h = model.lm_head();
      Value w = h.tie_embeddings() ? embeddingTable : next();
      Value bias = h.bias() ? next() : Value();
      int64_t vocab = model.embedding().vocab_size();
      SmallVector<ReassociationIndices> rows{{0, 1}, {2}};
      Value flat = tensor::CollapseShapeOp::create(
          b, loc, RankedTensorType::get({batch * seq, d}, f32), x, rows);
      Value logits = linearTransposed(flat, w, bias);
      return tensor::ExpandShapeOp::create(
          b, loc, RankedTensorType::get({batch, seq, vocab}, f32), logits,
          rows);
    }
    if (model.has_classifier()) {
      Value w = next(), bias = next();
      return linearTransposed(keep ? maskedMeanOverTime(x) : meanOverTime(x),
                              w, bias);
    }
    return x;
  }

  size_t used = 0;

  /// The padding mask (i1 [B, T], true = padding) the attention layers
  /// take, or null: a block function takes it as an argument.
  Value padding() const { return keyPadding; }
  void setPadding(Value padding) { keyPadding = padding; }

  /// One layer of `block`: its attention and its MLP sub-layer.
  Value layer(const model::Block &block, Value x) {
    if (block.attention_case() != model::Block::ATTENTION_NOT_SET)
      x = sublayer(x, [&](Value in) { return attention(block, in); });
    if (block.mlp_case() != model::Block::MLP_NOT_SET)
      x = sublayer(x, [&](Value in) { return mlp(block, in); });
    return x;
  }

private:
  OpBuilder &b;
  Location loc;
  const model::Model &model;
  ValueRange params;
  /// `embedding.weight`, for a tied LM head.
  Value embeddingTable;
  /// From the attention mask, when the model takes one: i1 [B, T] (true =
  /// padding) and f32 [B, T] (1 = token).
  Value keyPadding, keep;
  /// Decoding's positions, cache and cache layer (setDecoding).
  Value decodeStart, decodeCache, decodeLayer;
};

/// Checks the sequence-length constraints of UoME selection.
llvm::Error checkShapes(const model::Model &model, int64_t batch, int64_t seq) {
  if (model.has_embedding() && model.embedding().position() == model::LEARNED &&
      seq > model.embedding().max_positions())
    return fieldError("embedding.max_positions",
                      formatv("the sequence length T = {0} exceeds "
                              "max_positions ({1})",
                              seq, model.embedding().max_positions()));
  for (int i = 0; i < model.blocks_size(); ++i) {
    const model::Block &block = model.blocks(i);
    if (!block.has_uome())
      continue;
    const auto &m = block.uome();
    // Causal-safe routing has no static capacity (patch_size is 1).
    if (m.routing() == model::CAUSAL_SAFE)
      continue;
    int64_t n = m.layout() == model::BATCH ? batch : seq;
    std::string p = formatv("blocks[{0}].uome", i).str();
    if (n % m.patch_size() != 0)
      return fieldError(p + ".patch_size",
                        formatv("{0} does not divide the selection axis ({1})",
                                m.patch_size(), n));
    int64_t patches = n / m.patch_size();
    if (std::floor(m.capacity() * patches) < 1)
      return fieldError(p + ".capacity",
                        formatv("{0} of {1} patches selects none", m.capacity(),
                                patches));
  }
  return llvm::Error::success();
}

/// The layers of `model` after `x` as calls of one private function per
/// block of the description, called once per layer with that layer's
/// parameters (from `params`, the entry's parameter arguments, at
/// fb.used): code generation sees each block once, however often it
/// repeats (compile time linear in the blocks, not the layers). A block
/// function takes `x`, then `context` (the padding mask; for decoding the
/// positions `start`, the cache and the padding of shorter prompts), for
/// decoding the layer's index in the cache, then the layer's parameters.
/// Advances fb.used.
Value callBlocks(OpBuilder &b, Location loc, ModuleOp module,
                 const model::Model &model, ForwardBuilder &fb,
                 ValueRange params, Value x, ValueRange context, bool decoding,
                 StringRef prefix) {
  std::vector<ParamSpec> specs = mlir::uoe::modelParameters(model);
  std::map<const model::Block *, func::FuncOp> blockFunctions;
  size_t firstOfLayer = fb.used;
  int64_t cacheLayer = 0;
  forEachLayer(model, [&](int64_t layer, const model::Block &block) {
    std::string paramPrefix = formatv("blocks.{0}.", layer).str();
    size_t count = 0;
    while (firstOfLayer + count < specs.size() &&
           llvm::StringRef(specs[firstOfLayer + count].name)
               .starts_with(paramPrefix))
      ++count;
    ValueRange layerParams = params.slice(firstOfLayer, count);
    SmallVector<Value> args{x};
    args.append(context.begin(), context.end());
    if (decoding)
      args.push_back(
          arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(cacheLayer)));
    args.append(layerParams.begin(), layerParams.end());
    func::FuncOp &callee = blockFunctions[&block];
    if (!callee) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToEnd(module.getBody());
      callee = func::FuncOp::create(
          b, loc, formatv("{0}{1}", prefix, blockFunctions.size() - 1).str(),
          b.getFunctionType(ValueRange(args).getTypes(), {x.getType()}));
      callee.setPrivate();
      // Kept a call: inlining 16 copies back would undo the point.
      callee->setAttr("passthrough",
                      b.getArrayAttr({b.getStringAttr("noinline")}));
      // Static shapes: memrefs cross the call as bare pointers, not as
      // descriptors spread over a dozen scalars each (hundreds of stack
      // stores per call in @forward, which LLVM's code generation handles
      // in time quadratic in their number).
      callee->setAttr("llvm.bareptr", b.getUnitAttr());
      Block *body = callee.addEntryBlock();
      b.setInsertionPointToStart(body);
      size_t skip = 1 + context.size() + (decoding ? 1 : 0);
      ForwardBuilder inner(b, loc, model,
                           body->getArguments().drop_front(skip));
      if (decoding) {
        inner.setDecoding(body->getArgument(1), body->getArgument(2),
                          body->getArgument(4));
        inner.setPadding(body->getArgument(3));
      } else if (!context.empty()) {
        inner.setPadding(body->getArgument(1));
      }
      Value y = inner.layer(block, body->getArgument(0));
      func::ReturnOp::create(b, loc, y);
    }
    x = func::CallOp::create(b, loc, callee, args).getResult(0);
    firstOfLayer += count;
    if (block.attention_case() != model::Block::ATTENTION_NOT_SET)
      ++cacheLayer;
  });
  fb.used = firstOfLayer;
  return x;
}

} // namespace

llvm::Expected<OwningOpRef<ModuleOp>>
mlir::uoe::importModel(MLIRContext &context, const model::Model &model,
                 int64_t batch, int64_t seq, bool outlineBlocks) {
  if (batch <= 0 || seq <= 0)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        formatv("input shape [{0}, {1}] (batch, sequence length) must be "
                "positive",
                batch, seq));
  if (auto err = checkShapes(model, batch, seq))
    return std::move(err);
  context.loadDialect<UoEDialect, func::FuncDialect, arith::ArithDialect,
                      linalg::LinalgDialect, tensor::TensorDialect>();
  Location loc = FileLineColLoc::get(&context, model.name().empty()
                                                   ? "model"
                                                   : model.name(),
                                     0, 0);
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  OpBuilder b(&context);
  b.setInsertionPointToEnd(module->getBody());

  Type f32 = b.getF32Type();
  int64_t d = model.d_model();
  auto hidden = RankedTensorType::get({batch, seq, d}, f32);
  bool tokens = model.has_embedding();
  Type inputType =
      tokens ? RankedTensorType::get({batch, seq}, b.getI64Type()) : hidden;
  Type resultType = hidden;
  if (model.has_lm_head())
    resultType = RankedTensorType::get(
        {batch, seq, model.embedding().vocab_size()}, f32);
  else if (model.has_classifier())
    resultType =
        RankedTensorType::get({batch, model.classifier().classes()}, f32);

  std::vector<ParamSpec> specs = mlir::uoe::modelParameters(model);
  SmallVector<Type> argTypes{inputType};
  bool masked = model.attention_mask();
  bool typed = model.token_type_ids();
  if (masked)
    argTypes.push_back(RankedTensorType::get({batch, seq}, b.getI64Type()));
  if (typed)
    argTypes.push_back(RankedTensorType::get({batch, seq}, b.getI64Type()));
  unsigned firstParam = 1 + (masked ? 1 : 0) + (typed ? 1 : 0);
  for (const ParamSpec &p : specs)
    argTypes.push_back(RankedTensorType::get(p.shape, f32));
  auto func = func::FuncOp::create(b, loc, "forward",
                                   b.getFunctionType(argTypes, {resultType}));
  func->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  func.setArgAttr(0, "uoe.input",
                  b.getStringAttr(tokens ? "tokens" : "hidden"));
  if (masked)
    func.setArgAttr(1, "uoe.input", b.getStringAttr("attention_mask"));
  if (typed)
    func.setArgAttr(firstParam - 1, "uoe.input",
                    b.getStringAttr("token_type_ids"));
  // Indices into a table: the runtime checks them against its rows.
  if (tokens)
    func.setArgAttr(0, "uoe.index_bound",
                    b.getI64IntegerAttr(model.embedding().vocab_size()));
  if (typed)
    func.setArgAttr(firstParam - 1, "uoe.index_bound",
                    b.getI64IntegerAttr(model.embedding().token_types()));
  for (auto [i, p] : llvm::enumerate(specs))
    func.setArgAttr(i + firstParam, "uoe.param", b.getStringAttr(p.name));
  func.setResultAttr(
      0, "uoe.result",
      b.getStringAttr(model.head_case() == model::Model::HEAD_NOT_SET
                          ? "hidden"
                          : "logits"));

  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  ForwardBuilder fb(b, loc, model, entry->getArguments().drop_front(firstParam));
  if (masked)
    fb.setAttentionMask(entry->getArgument(1));
  Value x = entry->getArgument(0);
  if (tokens)
    x = fb.embed(x, typed ? entry->getArgument(firstParam - 1) : Value());
  if (!outlineBlocks) {
    forEachLayer(model, [&](int64_t, const model::Block &block) {
      x = fb.layer(block, x);
    });
  } else {
    SmallVector<Value> context;
    if (fb.padding())
      context.push_back(fb.padding());
    x = callBlocks(b, loc, *module, model, fb,
                   entry->getArguments().drop_front(firstParam), x, context,
                   /*decoding=*/false, "block");
  }
  if (model.final_norm())
    x = fb.norm(x);
  x = fb.head(x);
  func::ReturnOp::create(b, loc, x);
  if (fb.used != specs.size())
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        formatv("internal error: @forward used {0} of {1} parameters", fb.used,
                specs.size()));
  if (failed(mlir::verify(*module)))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "internal error: the imported model does "
                                   "not verify");
  return std::move(module);
}

llvm::Error mlir::uoe::checkDecodable(const model::Model &model) {
  if (!model.has_embedding() || !model.has_lm_head())
    return fieldError("lm_head", "decoding needs a language model (token "
                                 "ids in, an embedding and an lm_head)");
  llvm::Error error = llvm::Error::success();
  forEachLayer(model, [&](int64_t layer, const model::Block &block) {
    if (error)
      return;
    std::string p = formatv("blocks[{0}]", layer).str();
    if (block.has_smha() && (block.smha().routing() != model::CAUSAL_SAFE ||
                             !block.smha().causal()))
      error = fieldError(p + ".smha",
                         "decoding over per-expert key/value caches needs "
                         "`causal: true` and `routing: CAUSAL_SAFE` (with "
                         "reference routing a later token changes which "
                         "tokens an expert attends)");
    else if (block.has_dense_attention() && !block.dense_attention().causal())
      error = fieldError(p + ".dense_attention.causal",
                         "decoding needs causal attention");
    else if (block.has_dense_attention() &&
             block.dense_attention().rope() != model::ROPE_DEFAULT &&
             block.dense_attention().rope() != model::NO_ROPE)
      error = fieldError(p + ".dense_attention.rope",
                         "decoding does not apply rotary embedding yet");
    else if (block.has_uome() &&
             (block.uome().routing() != model::CAUSAL_SAFE ||
              block.uome().layout() == model::BATCH))
      error = fieldError(p + ".uome.routing",
                         "a UoME layer that routes in reference mode (or "
                         "along the batch) selects tokens across the "
                         "sequence, so it cannot decode one token at a time; "
                         "`routing: CAUSAL_SAFE` routes each token alone");
  });
  return error;
}

llvm::Expected<OwningOpRef<ModuleOp>>
mlir::uoe::importDecoder(MLIRContext &context, const model::Model &model,
                         int64_t batch, int64_t prefill) {
  if (batch <= 0 || prefill <= 0)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        formatv("decoding shape: batch ({0}) and prompt length ({1}) must "
                "be positive",
                batch, prefill));
  if (auto err = checkDecodable(model))
    return std::move(err);
  if (auto err = checkShapes(model, batch, prefill))
    return std::move(err);
  context.loadDialect<UoEDialect, func::FuncDialect, arith::ArithDialect,
                      linalg::LinalgDialect, tensor::TensorDialect>();
  Location loc = FileLineColLoc::get(
      &context, model.name().empty() ? "model" : model.name(), 0, 0);
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  OpBuilder b(&context);
  b.setInsertionPointToEnd(module->getBody());
  Type i64 = b.getI64Type(), f32 = b.getF32Type();
  int64_t vocab = model.embedding().vocab_size();
  std::vector<ParamSpec> specs = mlir::uoe::modelParameters(model);
  for (auto [name, seq] : {std::pair<StringRef, int64_t>{"prefill", prefill},
                           {"decode_step", 1}}) {
    auto ids = RankedTensorType::get({batch, seq}, i64);
    auto perRow = RankedTensorType::get({batch}, i64);
    SmallVector<Type> argTypes{ids, perRow, perRow,
                               RankedTensorType::get({}, i64)};
    for (const ParamSpec &p : specs)
      argTypes.push_back(RankedTensorType::get(p.shape, f32));
    auto result = RankedTensorType::get({batch, vocab}, f32);
    auto func = func::FuncOp::create(b, loc, name,
                                     b.getFunctionType(argTypes, {result}));
    func->setAttr("llvm.emit_c_interface", b.getUnitAttr());
    const char *inputs[] = {"tokens", "start", "last", "kv_cache"};
    for (unsigned i = 0; i < 4; ++i)
      func.setArgAttr(i, "uoe.input", b.getStringAttr(inputs[i]));
    func.setArgAttr(0, "uoe.index_bound", b.getI64IntegerAttr(vocab));
    func.setArgAttr(2, "uoe.index_bound", b.getI64IntegerAttr(seq));
    for (auto [i, p] : llvm::enumerate(specs))
      func.setArgAttr(i + 4, "uoe.param", b.getStringAttr(p.name));
    func.setResultAttr(0, "uoe.result", b.getStringAttr("logits"));

    Block *entry = func.addEntryBlock();
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(entry);
    ValueRange params = entry->getArguments().drop_front(4);
    Value start = entry->getArgument(1), last = entry->getArgument(2);
    Value cache =
        tensor::ExtractOp::create(b, loc, entry->getArgument(3), ValueRange{});
    ForwardBuilder fb(b, loc, model, params);
    fb.setDecoding(start, cache, Value());
    Value x = fb.embed(entry->getArgument(0), Value());
    // Tokens after `last` are a shorter prompt's padding: SMHA neither
    // caches nor attends them (dense attention overwrites them later).
    Value padding = fb.byRow(
        RankedTensorType::get({batch, seq}, b.getI1Type()), last,
        [](OpBuilder &nb, Location nloc, Value lastOfRow) -> Value {
          Value t = arith::IndexCastOp::create(
              nb, nloc, nb.getI64Type(), linalg::IndexOp::create(nb, nloc, 1));
          return arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::sgt, t,
                                       lastOfRow);
        });
    x = callBlocks(b, loc, *module, model, fb, params, x,
                   {start, cache, padding}, /*decoding=*/true,
                   (name + "_block").str());
    // Only the rows whose logits are wanted go through the final norm and
    // the head (both per row).
    x = fb.rowsAt(x, last);
    if (model.final_norm())
      x = fb.norm(x);
    x = fb.head(x);
    x = tensor::CollapseShapeOp::create(
        b, loc, result, x, SmallVector<ReassociationIndices>{{0, 1}, {2}});
    func::ReturnOp::create(b, loc, x);
    if (fb.used != specs.size())
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          formatv("internal error: @{0} used {1} of {2} parameters", name,
                  fb.used, specs.size()));
  }
  if (failed(mlir::verify(*module)))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "internal error: the imported decoder "
                                   "does not verify");
  return std::move(module);
}
