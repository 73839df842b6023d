//===- Routing.cpp - router, selection and data movement ----------------===//
//
// Spec §2 (router, token-choice mask, reference normalisation), §3 (patch-
// wise expert-choice selection), §4 (expert selection) and the data
// movement of §3 / §5 (dispatch and combine). Every ranking here goes
// through stableTopK, so "stable" means one thing: equal scores are ranked
// by the lower index, as the spec requires (and torch.topk does not, §7).
//
//===----------------------------------------------------------------------===//

#include "test/reference/Reference.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace uoe::ref {
namespace {

/// The indices of the `k` largest of `values[0..n)`, largest first, equal
/// values ordered by the lower index.
std::vector<int64_t> stableTopK(const double *values, int64_t n, int64_t k,
                                const char *who) {
  for (int64_t i = 0; i < n; ++i)
    if (std::isnan(values[i]))
      fail(std::string(who) + ": NaN score at index " + std::to_string(i));
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return values[a] > values[b]; });
  order.resize(static_cast<size_t>(k));
  return order;
}

/// The product of the leading dimensions of `t` (all but the last).
int64_t leadingCount(const Tensor &t) {
  int64_t count = 1;
  for (int64_t i = 0; i + 1 < t.rank(); ++i)
    count *= t.dim(i);
  return count;
}

} // namespace

// Spec §2: logits = x Wg^T + bg, then the score function over experts.
Tensor router(const Tensor &x, const Tensor &wg, const Tensor &bg,
              RouterScore score) {
  check(x.rank() >= 1, "router: input must have rank >= 1");
  check(wg.rank() == 2 && wg.dim(1) == x.dim(-1),
        "router: Wg " + shapeToString(wg.shape) + " is not [E, d] for input " +
            shapeToString(x.shape));
  int64_t e = wg.dim(0), d = wg.dim(1);
  check(bg.shape == std::vector<int64_t>{e},
        "router: bg " + shapeToString(bg.shape) + " is not [" +
            std::to_string(e) + "]");
  std::vector<int64_t> shape = x.shape;
  shape.back() = e;
  Tensor logits(shape);
  for (int64_t r = 0, rows = leadingCount(x); r < rows; ++r)
    for (int64_t j = 0; j < e; ++j) {
      double acc = 0.0;
      for (int64_t i = 0; i < d; ++i)
        acc += x.data[r * d + i] * wg.data[j * d + i];
      logits.data[r * e + j] = acc + bg.data[j];
    }
  if (score == RouterScore::Softmax)
    return softmax(logits);
  for (double &v : logits.data)
    v = sigmoid(v);
  return logits;
}

// Spec §2: s = p * mask, the mask keeping each token's k largest (stable).
Tensor tokenChoice(const Tensor &p, int64_t k, bool renormalize) {
  check(p.rank() >= 1, "tokenChoice: probabilities must have rank >= 1");
  int64_t e = p.dim(-1);
  check(k >= 1 && k <= e, "tokenChoice: k = " + std::to_string(k) +
                              " is not in [1, E = " + std::to_string(e) + "]");
  Tensor s(p.shape);
  for (int64_t r = 0, rows = leadingCount(p); r < rows; ++r) {
    const double *row = p.data.data() + r * e;
    double sum = 0.0;
    for (int64_t j : stableTopK(row, e, k, "tokenChoice")) {
      s.data[r * e + j] = row[j];
      sum += row[j];
    }
    if (renormalize && sum != 0.0)
      for (int64_t j = 0; j < e; ++j)
        s.data[r * e + j] /= sum;
  }
  return s;
}

// Spec §2: g = s / (sum_axis(s) + eps) * floor(c * n_axis).
Tensor normalizeScores(const Tensor &s, int64_t axis, double eps, double c) {
  check(axis >= 0 && axis < s.rank(),
        "normalizeScores: axis " + std::to_string(axis) +
            " is not in [0, rank = " + std::to_string(s.rank()) + ")");
  check(eps >= 0.0, "normalizeScores: eps must be >= 0");
  check(c > 0.0, "normalizeScores: capacity c must be > 0");
  // View s as [outer, n, inner] around the axis.
  int64_t n = s.dim(axis), outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i)
    outer *= s.dim(i);
  for (int64_t i = axis + 1; i < s.rank(); ++i)
    inner *= s.dim(i);
  double factor = std::floor(c * static_cast<double>(n));
  Tensor g(s.shape);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      double sum = 0.0;
      for (int64_t i = 0; i < n; ++i)
        sum += s.data[(o * n + i) * inner + in];
      for (int64_t i = 0; i < n; ++i) {
        int64_t at = (o * n + i) * inner + in;
        g.data[at] = s.data[at] / (sum + eps) * factor;
      }
    }
  return g;
}

// Spec §3: patch scores, the L best per (expert, row), positions ascending.
Selection dataSelect(const Tensor &scores, int64_t patch,
                     std::optional<double> capacity) {
  check(scores.rank() == 3, "dataSelect: scores " +
                                shapeToString(scores.shape) +
                                " is not [R, N, E]");
  int64_t r = scores.dim(0), n = scores.dim(1), e = scores.dim(2);
  check(patch >= 1 && n % patch == 0,
        "dataSelect: patch " + std::to_string(patch) +
            " must be >= 1 and divide N = " + std::to_string(n));
  int64_t numPatches = n / patch;

  // patchScores[(e * R + r) * numPatches + j]: the mean of the patch's
  // token scores, summed in token order and divided once.
  std::vector<double> patchScores(static_cast<size_t>(e * r * numPatches));
  for (int64_t ex = 0; ex < e; ++ex)
    for (int64_t row = 0; row < r; ++row)
      for (int64_t j = 0; j < numPatches; ++j) {
        double sum = 0.0;
        for (int64_t t = 0; t < patch; ++t)
          sum += scores.at(row, j * patch + t, ex);
        patchScores[(ex * r + row) * numPatches + j] =
            sum / static_cast<double>(patch);
      }

  int64_t length = 0;
  if (capacity) {
    check(*capacity > 0.0, "dataSelect: capacity must be > 0");
    length = static_cast<int64_t>(
        std::floor(*capacity * static_cast<double>(numPatches)));
    check(length >= 1 && length <= numPatches,
          "dataSelect: L = floor(" + std::to_string(*capacity) + " * " +
              std::to_string(numPatches) + ") = " + std::to_string(length) +
              " is not in [1, " + std::to_string(numPatches) + "]");
  } else {
    // Dynamic: the largest count of strictly positive patch scores.
    for (int64_t pair = 0; pair < e * r; ++pair) {
      const double *row = patchScores.data() + pair * numPatches;
      length = std::max<int64_t>(
          length, std::count_if(row, row + numPatches,
                                [](double v) { return v > 0.0; }));
    }
  }

  Selection sel{IndexTensor({e, r, length}), Tensor({e, r, length})};
  for (int64_t pair = 0; pair < e * r; ++pair) {
    const double *row = patchScores.data() + pair * numPatches;
    std::vector<int64_t> kept =
        stableTopK(row, numPatches, length, "dataSelect");
    std::sort(kept.begin(), kept.end());
    for (int64_t j = 0; j < length; ++j) {
      sel.positions.data[pair * length + j] = kept[j];
      sel.scores.data[pair * length + j] = row[kept[j]];
    }
  }
  return sel;
}

// Spec §4: each input's k most probable experts, largest first (stable).
ExpertChoice expertSelect(const Tensor &p, int64_t k, bool renormalize) {
  check(p.rank() >= 1, "expertSelect: probabilities must have rank >= 1");
  int64_t e = p.dim(-1);
  check(k >= 1 && k <= e, "expertSelect: k = " + std::to_string(k) +
                              " is not in [1, E = " + std::to_string(e) + "]");
  std::vector<int64_t> shape = p.shape;
  shape.back() = k;
  ExpertChoice choice{IndexTensor(shape), Tensor(shape)};
  for (int64_t r = 0, rows = leadingCount(p); r < rows; ++r) {
    const double *row = p.data.data() + r * e;
    std::vector<int64_t> best = stableTopK(row, e, k, "expertSelect");
    double sum = 0.0;
    for (int64_t j = 0; j < k; ++j)
      sum += row[best[j]];
    for (int64_t j = 0; j < k; ++j) {
      choice.experts.data[r * k + j] = best[j];
      double w = row[best[j]];
      choice.weights.data[r * k + j] = renormalize && sum != 0.0 ? w / sum : w;
    }
  }
  return choice;
}

// Spec §3: gather every expert's selected patches.
Tensor dispatch(const Tensor &x, const IndexTensor &positions, int64_t patch) {
  check(x.rank() == 3,
        "dispatch: input " + shapeToString(x.shape) + " is not [R, N, d]");
  check(positions.rank() == 3 && positions.dim(1) == x.dim(0),
        "dispatch: positions " + shapeToString(positions.shape) +
            " is not [E, R, L] for input " + shapeToString(x.shape));
  int64_t r = x.dim(0), n = x.dim(1), d = x.dim(2);
  int64_t e = positions.dim(0), l = positions.dim(2);
  check(patch >= 1 && n % patch == 0,
        "dispatch: patch " + std::to_string(patch) +
            " must be >= 1 and divide N = " + std::to_string(n));
  Tensor xs({e, r, l * patch, d});
  for (int64_t ex = 0; ex < e; ++ex)
    for (int64_t row = 0; row < r; ++row)
      for (int64_t j = 0; j < l; ++j) {
        int64_t pos = positions.at(ex, row, j);
        if (pos < 0 || pos >= n / patch)
          fail("dispatch: position " + std::to_string(pos) + " outside [0, " +
               std::to_string(n / patch) + ")");
        for (int64_t t = 0; t < patch; ++t)
          for (int64_t i = 0; i < d; ++i)
            xs.at(ex, row, j * patch + t, i) = x.at(row, pos * patch + t, i);
      }
  return xs;
}

// Spec §5: scatter-add every expert's outputs back, experts in order.
Tensor combine(const Tensor &y, const IndexTensor &positions, int64_t patch,
               int64_t n, const Tensor *weights) {
  check(positions.rank() == 3, "combine: positions " +
                                   shapeToString(positions.shape) +
                                   " is not [E, R, L]");
  int64_t e = positions.dim(0), r = positions.dim(1), l = positions.dim(2);
  check(patch >= 1 && n % patch == 0,
        "combine: patch " + std::to_string(patch) +
            " must be >= 1 and divide N = " + std::to_string(n));
  check(
      y.rank() == 4 && y.dim(0) == e && y.dim(1) == r && y.dim(2) == l * patch,
      "combine: expert outputs " + shapeToString(y.shape) +
          " are not [E, R, L*P, d] for positions " +
          shapeToString(positions.shape) + " and P = " + std::to_string(patch));
  check(!weights || weights->shape == positions.shape,
        "combine: weights " + (weights ? shapeToString(weights->shape) : "") +
            " are not [E, R, L] = " + shapeToString(positions.shape));
  int64_t d = y.dim(3);
  Tensor out({r, n, d});
  for (int64_t ex = 0; ex < e; ++ex)
    for (int64_t row = 0; row < r; ++row)
      for (int64_t j = 0; j < l; ++j) {
        int64_t pos = positions.at(ex, row, j);
        if (pos < 0 || pos >= n / patch)
          fail("combine: position " + std::to_string(pos) + " outside [0, " +
               std::to_string(n / patch) + ")");
        double w = weights ? weights->at(ex, row, j) : 1.0;
        for (int64_t t = 0; t < patch; ++t)
          for (int64_t i = 0; i < d; ++i)
            out.at(row, pos * patch + t, i) +=
                w * y.at(ex, row, j * patch + t, i);
      }
  return out;
}

} // namespace uoe::ref
