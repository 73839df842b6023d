//===- EmbeddingToLinalg.cpp - token embeddings and their gradient -------===//
//
// `uoe.embedding` is a gather of table rows: one parallel `linalg.generic`
// over the result `[..., T, d]` whose body clamps the token id to
// `[0, V - 1]` (the op's defined behaviour for out-of-range ids, so the
// load below never leaves the table) and reads `table[id, j]` with
// `tensor.extract`. A learned position table is an ordinary input of the
// same generic, indexed by (t, j) through its first T rows, so the sum
// costs no extra pass over the result.
//
// `uoe.embedding_grad` is the transposed gather, a scatter-add of rows
// into a zero table, one token after the other (an `scf.for` carrying the
// table): deterministic, and linear in the number of tokens. (The position
// table's gradient is a plain sum over the batch, which autodiff builds
// with linalg directly.)
//
//===----------------------------------------------------------------------===//

#include "passes/LinalgBuilder.h"
#include "passes/Lowerings.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::uoe;

namespace {

/// The gather of the file comment.
struct EmbeddingToLinalg : OpRewritePattern<EmbeddingOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(EmbeddingOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto idsType = cast<RankedTensorType>(op.getIds().getType());
    auto tableType = cast<RankedTensorType>(op.getTable().getType());
    RankedTensorType type = op.getType();
    int64_t rank = type.getRank(), vocab = tableType.getShape()[0];
    int64_t t = idsType.getShape().back(), d = tableType.getShape()[1];

    // Loops (i_0, ..., i_{r-1}, j) over the result; ids use all but j, the
    // position table (t, j) = the last two.
    SmallVector<int64_t> all, leading;
    for (int64_t i = 0; i < rank; ++i)
      all.push_back(i);
    leading.assign(all.begin(), all.end() - 1);
    SmallVector<Value> inputs{op.getIds()};
    SmallVector<SmallVector<int64_t>> maps{leading};
    if (Value positions = op.getPositions()) {
      auto posType = cast<RankedTensorType>(positions.getType());
      if (posType.getShape()[0] != t)
        positions = tensor::ExtractSliceOp::create(
            b, RankedTensorType::get({t, d}, posType.getElementType()),
            positions,
            ArrayRef<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(0)},
            ArrayRef<OpFoldResult>{b.getIndexAttr(t), b.getIndexAttr(d)},
            ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
      inputs.push_back(positions);
      maps.push_back({rank - 2, rank - 1});
    }
    maps.push_back(all);

    Value table = op.getTable();
    bool hasPositions = op.getPositions() != nullptr;
    SmallVector<OpFoldResult> sizes;
    for (int64_t dim : type.getShape())
      sizes.push_back(b.getIndexAttr(dim));
    Value result = buildGeneric(
        b, inputs, emptyTensor(b, sizes, type.getElementType()), maps,
        SmallVector<IteratorType>(rank, kPar),
        [&](ImplicitLocOpBuilder &b, ValueRange a) {
          Type i64 = b.getI64Type();
          Value id = a[0];
          if (id.getType() != i64)
            id = arith::ExtSIOp::create(b, i64, id);
          // Clamp to [0, V - 1]: signed max then min.
          id = arith::MaxSIOp::create(b, id, constInt(b, i64, 0));
          id = arith::MinSIOp::create(b, id, constInt(b, i64, vocab - 1));
          Value row = arith::IndexCastOp::create(b, b.getIndexType(), id);
          Value v = tensor::ExtractOp::create(
              b, table, ValueRange{row, loopIndex(b, rank - 1)});
          if (hasPositions)
            v = arith::AddFOp::create(b, v, a[1]);
          return SmallVector<Value>{v};
        })[0];
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// `table_grad[clamp(id_i)] += dy[i]` for i = 0, 1, ... in order: a loop
/// over the tokens carrying the table, each step adding one row in place.
/// (A linalg formulation needs a pass over the whole table per token or a
/// sort; the loop is linear in the tokens and keeps the order.)
struct EmbeddingGradToLinalg : OpRewritePattern<EmbeddingGradOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(EmbeddingGradOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto type = op.getType();
    Type elt = type.getElementType(), i64 = b.getI64Type();
    int64_t vocab = type.getShape()[0], d = type.getShape()[1];
    Value ids = op.getIds(), dy = op.getResultGrad();
    int64_t rank = op.getIds().getType().getRank();
    // ids: [..., T] -> [N]; dy: [..., T, d] -> [N, d].
    if (rank > 1) {
      ReassociationIndices all;
      for (int64_t i = 0; i < rank; ++i)
        all.push_back(i);
      ids = collapse(b, ids, {all});
      dy = collapse(b, dy, {all, {rank}});
    }
    int64_t n = cast<RankedTensorType>(ids.getType()).getShape()[0];
    Value table = filledTensor(b, {b.getIndexAttr(vocab), b.getIndexAttr(d)},
                               elt, b.getFloatAttr(elt, 0.0));
    auto rowType = RankedTensorType::get({1, d}, elt);
    auto loop = scf::ForOp::create(
        b, constIndex(b, 0), constIndex(b, n), constIndex(b, 1),
        ValueRange{table},
        [&](OpBuilder &nested, Location loc, Value i, ValueRange iter) {
          ImplicitLocOpBuilder b(loc, nested);
          Value id = tensor::ExtractOp::create(b, ids, ValueRange{i});
          if (id.getType() != i64)
            id = arith::ExtSIOp::create(b, i64, id);
          // The forward's clamp to [0, V - 1].
          id = arith::MaxSIOp::create(b, id, constInt(b, i64, 0));
          id = arith::MinSIOp::create(b, id, constInt(b, i64, vocab - 1));
          Value row = arith::IndexCastOp::create(b, b.getIndexType(), id);
          SmallVector<OpFoldResult> sizes{b.getIndexAttr(1), b.getIndexAttr(d)},
              strides(2, b.getIndexAttr(1));
          SmallVector<OpFoldResult> at{row, b.getIndexAttr(0)},
              from{i, b.getIndexAttr(0)};
          Value acc = tensor::ExtractSliceOp::create(b, rowType, iter[0], at,
                                                     sizes, strides);
          Value g = tensor::ExtractSliceOp::create(b, rowType, dy, from, sizes,
                                                   strides);
          Value sum = buildGeneric(b, g, acc, {{0, 1}, {0, 1}}, {kPar, kPar},
                                   [](ImplicitLocOpBuilder &b, ValueRange a) {
                                     return SmallVector<Value>{
                                         arith::AddFOp::create(b, a[1], a[0])};
                                   })[0];
          Value updated = tensor::InsertSliceOp::create(b, sum, iter[0], at,
                                                        sizes, strides);
          scf::YieldOp::create(b, updated);
        });
    rewriter.replaceOp(op, loop.getResult(0));
    return success();
  }
};

} // namespace

void uoe::populateEmbeddingToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<EmbeddingToLinalg, EmbeddingGradToLinalg>(patterns.getContext());
}
