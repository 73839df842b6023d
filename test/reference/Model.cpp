//===- Model.cpp - the model around the blocks: embeddings and heads -----===//
//
// What frontend/model.proto puts before the first block and after the last
// one (docs/MODEL_FORMAT.md): the token embedding with optional learned
// positions (the semantics of `uoe.embedding`, out-of-range ids clamped),
// BERT's token-type rows, the mean over tokens that feeds a classifier, and the heads' linear map
// `x W^T + b` with the weight stored `[out, in]` (PyTorch's nn.Linear, and
// the layout that lets an LM head share the embedding table).
//
//===----------------------------------------------------------------------===//

#include "test/reference/Reference.h"

#include <algorithm>

namespace uoe::ref {

Tensor embedding(const IndexTensor &ids, const Tensor &table,
                 const Tensor *positions) {
  check(ids.rank() >= 1, "embedding: ids must have rank at least 1, got " +
                             shapeToString(ids.shape));
  check(table.rank() == 2 && table.dim(0) >= 1,
        "embedding: table " + shapeToString(table.shape) +
            " is not [V, d] with V >= 1");
  int64_t vocab = table.dim(0), d = table.dim(1), t = ids.dim(-1);
  if (positions)
    check(positions->rank() == 2 && positions->dim(1) == d &&
              positions->dim(0) >= t,
          "embedding: positions " + shapeToString(positions->shape) +
              " is not [P, d = " + std::to_string(d) +
              "] with P >= T = " + std::to_string(t));
  std::vector<int64_t> shape = ids.shape;
  shape.push_back(d);
  Tensor out(shape);
  for (int64_t i = 0; i < ids.numel(); ++i) {
    int64_t row = std::clamp<int64_t>(ids.data[i], 0, vocab - 1);
    int64_t pos = i % t;
    for (int64_t j = 0; j < d; ++j) {
      double v = table.data[row * d + j];
      if (positions)
        v += positions->data[pos * d + j];
      out.data[i * d + j] = v;
    }
  }
  return out;
}

Tensor addTokenTypes(Tensor x, const IndexTensor &types, const Tensor &table) {
  check(table.rank() == 2 && table.dim(0) >= 1 && table.dim(1) == x.dim(-1),
        "addTokenTypes: table " + shapeToString(table.shape) +
            " is not [N, d] with N >= 1 for x " + shapeToString(x.shape));
  std::vector<int64_t> lead(x.shape.begin(), x.shape.end() - 1);
  check(types.shape == lead, "addTokenTypes: types " +
                                 shapeToString(types.shape) + " is not " +
                                 shapeToString(lead));
  int64_t n = table.dim(0), d = table.dim(1);
  for (int64_t i = 0; i < types.numel(); ++i) {
    int64_t row = std::clamp<int64_t>(types.data[i], 0, n - 1);
    for (int64_t j = 0; j < d; ++j)
      x.data[i * d + j] += table.data[row * d + j];
  }
  return x;
}

Tensor meanOverTokens(const Tensor &x) {
  check(x.rank() == 3,
        "meanOverTokens: x " + shapeToString(x.shape) + " is not [B, T, d]");
  int64_t b = x.dim(0), t = x.dim(1), d = x.dim(2);
  Tensor out({b, d});
  for (int64_t i = 0; i < b; ++i)
    for (int64_t j = 0; j < d; ++j) {
      double sum = 0.0;
      for (int64_t k = 0; k < t; ++k)
        sum += x.at(i, k, j);
      out.at(i, j) = sum / static_cast<double>(t);
    }
  return out;
}

Tensor linearOutIn(const Tensor &x, const Tensor &w, const Tensor *b) {
  check(x.rank() >= 1, "linearOutIn: x must have rank at least 1");
  int64_t k = x.dim(-1);
  check(w.rank() == 2 && w.dim(1) == k,
        "linearOutIn: W " + shapeToString(w.shape) +
            " is not [N, K = " + std::to_string(k) + "]");
  int64_t n = w.dim(0);
  if (b)
    check(b->shape == std::vector<int64_t>{n},
          "linearOutIn: b " + shapeToString(b->shape) + " is not [N]");
  std::vector<int64_t> shape = x.shape;
  shape.back() = n;
  Tensor out(shape);
  int64_t rows = x.numel() / std::max<int64_t>(k, 1);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < n; ++o) {
      double sum = b ? b->data[o] : 0.0;
      for (int64_t i = 0; i < k; ++i)
        sum += x.data[r * k + i] * w.data[o * k + i];
      out.data[r * n + o] = sum;
    }
  return out;
}

} // namespace uoe::ref
