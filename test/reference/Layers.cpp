//===- Layers.cpp - activations, norms, MLP layers and blocks ------------===//
//
// Spec §5 (activations, expert compute), §6 (UoME layer and the two block
// forms), §1 (the equitant split of a dense MLP) and the token-choice MoE
// of §4 / §8. Layers are compositions of the Routing.cpp pieces, in the
// order the spec states them, so a mismatch with compiled code points at
// one step.
//
//===----------------------------------------------------------------------===//

#include "test/reference/Reference.h"

#include <algorithm>
#include <cmath>

namespace uoe::ref {
namespace {

/// The product of the leading dimensions of `t` (all but the last).
int64_t leadingCount(const Tensor &t) {
  int64_t count = 1;
  for (int64_t i = 0; i + 1 < t.rank(); ++i)
    count *= t.dim(i);
  return count;
}

/// `stacked[e]`: the sub-tensor of expert `e` of a stacked weight.
Tensor expertSlice(const Tensor &stacked, int64_t e) {
  std::vector<int64_t> shape(stacked.shape.begin() + 1, stacked.shape.end());
  Tensor slice(shape);
  int64_t size = slice.numel();
  std::copy(stacked.data.begin() + e * size,
            stacked.data.begin() + (e + 1) * size, slice.data.begin());
  return slice;
}

/// Checks the stacked expert MLP weights of spec §5 against `d` and returns
/// the number of experts.
int64_t checkExpertMlp(const char *who, int64_t d, const Tensor &wg,
                       const Tensor &bg, const Tensor &w1s, const Tensor &b1s,
                       const Tensor &w2s, const Tensor &b2s, Activation act) {
  std::string name = who;
  check(wg.rank() == 2 && wg.dim(1) == d,
        name + ": Wg " + shapeToString(wg.shape) +
            " is not [E, d = " + std::to_string(d) + "]");
  int64_t e = wg.dim(0);
  check(bg.shape == std::vector<int64_t>{e},
        name + ": bg " + shapeToString(bg.shape) + " is not [E]");
  check(w1s.rank() == 3 && w1s.dim(0) == e && w1s.dim(1) == d,
        name + ": W1s " + shapeToString(w1s.shape) + " is not [E, d, F1]");
  int64_t f1 = w1s.dim(2);
  check(act != Activation::SwiGlu || f1 % 2 == 0,
        name + ": SwiGlu needs an even W1s width, got " + std::to_string(f1));
  int64_t fe = act == Activation::SwiGlu ? f1 / 2 : f1;
  check(b1s.shape == std::vector<int64_t>{e, f1},
        name + ": b1s " + shapeToString(b1s.shape) + " is not [E, F1]");
  check(w2s.shape == std::vector<int64_t>{e, fe, d},
        name + ": W2s " + shapeToString(w2s.shape) +
            " is not [E, Fe = " + std::to_string(fe) + ", d]");
  check(b2s.shape == std::vector<int64_t>{e, d},
        name + ": b2s " + shapeToString(b2s.shape) + " is not [E, d]");
  return e;
}

} // namespace

//===----------------------------------------------------------------------===//
// Elementwise pieces and norms
//===----------------------------------------------------------------------===//

double gelu(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }

double geluTanh(double x) {
  const double pi = 3.14159265358979323846;
  const double k = std::sqrt(2.0 / pi);
  return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
}

double relu(double x) { return x > 0.0 ? x : 0.0; }

double sigmoid(double x) {
  // Two forms so that exp never overflows.
  if (x >= 0.0)
    return 1.0 / (1.0 + std::exp(-x));
  double z = std::exp(x);
  return z / (1.0 + z);
}

double silu(double x) { return x * sigmoid(x); }

// Spec §5: the activation between the two GEMMs.
Tensor activate(const Tensor &h, Activation act) {
  if (act != Activation::SwiGlu) {
    Tensor out = h;
    for (double &v : out.data) {
      switch (act) {
      case Activation::None:
        break;
      case Activation::Gelu:
        v = gelu(v);
        break;
      case Activation::GeluTanh:
        v = geluTanh(v);
        break;
      case Activation::Relu:
        v = relu(v);
        break;
      case Activation::Silu:
        v = silu(v);
        break;
      case Activation::SwiGlu:
        break;
      }
    }
    return out;
  }
  // SwiGlu: [gate | up] halves of the last dimension.
  check(h.rank() >= 1 && h.dim(-1) % 2 == 0,
        "activate: SwiGlu needs an even last dimension, got " +
            shapeToString(h.shape));
  int64_t width = h.dim(-1), half = width / 2;
  std::vector<int64_t> shape = h.shape;
  shape.back() = half;
  Tensor out(shape);
  for (int64_t r = 0, rows = leadingCount(h); r < rows; ++r)
    for (int64_t j = 0; j < half; ++j)
      out.data[r * half + j] =
          silu(h.data[r * width + j]) * h.data[r * width + half + j];
  return out;
}

Tensor softmax(const Tensor &x) {
  check(x.rank() >= 1, "softmax: input must have rank >= 1");
  int64_t n = x.dim(-1);
  Tensor out(x.shape);
  for (int64_t r = 0, rows = leadingCount(x); r < rows; ++r) {
    const double *in = x.data.data() + r * n;
    double *o = out.data.data() + r * n;
    double max = -INFINITY;
    for (int64_t j = 0; j < n; ++j)
      max = std::max(max, in[j]);
    double sum = 0.0;
    for (int64_t j = 0; j < n; ++j)
      sum += o[j] = std::exp(in[j] - max);
    for (int64_t j = 0; j < n; ++j)
      o[j] /= sum;
  }
  return out;
}

Tensor linear(const Tensor &x, const Tensor &w, const Tensor *b) {
  check(x.rank() >= 1 && w.rank() == 2 && w.dim(0) == x.dim(-1),
        "linear: weight " + shapeToString(w.shape) +
            " is not [K, N] for input " + shapeToString(x.shape));
  int64_t k = w.dim(0), n = w.dim(1);
  check(!b || b->shape == std::vector<int64_t>{n},
        "linear: bias " + (b ? shapeToString(b->shape) : "") + " is not [" +
            std::to_string(n) + "]");
  std::vector<int64_t> shape = x.shape;
  shape.back() = n;
  Tensor out(shape);
  for (int64_t r = 0, rows = leadingCount(x); r < rows; ++r)
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0.0;
      for (int64_t i = 0; i < k; ++i)
        acc += x.data[r * k + i] * w.data[i * n + j];
      out.data[r * n + j] = acc + (b ? b->data[j] : 0.0);
    }
  return out;
}

// Spec §6 blocks: LayerNorm with a biased variance.
Tensor layerNorm(const Tensor &x, const Tensor &gamma, const Tensor &beta,
                 double eps) {
  check(x.rank() >= 1, "layerNorm: input must have rank >= 1");
  int64_t d = x.dim(-1);
  check(gamma.shape == std::vector<int64_t>{d} &&
            beta.shape == std::vector<int64_t>{d},
        "layerNorm: gamma " + shapeToString(gamma.shape) + " and beta " +
            shapeToString(beta.shape) + " are not [" + std::to_string(d) + "]");
  check(eps > 0.0, "layerNorm: eps must be > 0");
  Tensor out(x.shape);
  for (int64_t r = 0, rows = leadingCount(x); r < rows; ++r) {
    const double *in = x.data.data() + r * d;
    double mean = 0.0, var = 0.0;
    for (int64_t j = 0; j < d; ++j)
      mean += in[j];
    mean /= static_cast<double>(d);
    for (int64_t j = 0; j < d; ++j)
      var += (in[j] - mean) * (in[j] - mean);
    var /= static_cast<double>(d);
    double inv = 1.0 / std::sqrt(var + eps);
    for (int64_t j = 0; j < d; ++j)
      out.data[r * d + j] = (in[j] - mean) * inv * gamma.data[j] + beta.data[j];
  }
  return out;
}

// Spec §6 blocks: RMSNorm (the authors' LRA model, eps 1e-6).
Tensor rmsNorm(const Tensor &x, const Tensor &gamma, double eps) {
  check(x.rank() >= 1, "rmsNorm: input must have rank >= 1");
  int64_t d = x.dim(-1);
  check(gamma.shape == std::vector<int64_t>{d},
        "rmsNorm: gamma " + shapeToString(gamma.shape) + " is not [" +
            std::to_string(d) + "]");
  check(eps > 0.0, "rmsNorm: eps must be > 0");
  Tensor out(x.shape);
  for (int64_t r = 0, rows = leadingCount(x); r < rows; ++r) {
    const double *in = x.data.data() + r * d;
    double meanSquare = 0.0;
    for (int64_t j = 0; j < d; ++j)
      meanSquare += in[j] * in[j];
    meanSquare /= static_cast<double>(d);
    double inv = 1.0 / std::sqrt(meanSquare + eps);
    for (int64_t j = 0; j < d; ++j)
      out.data[r * d + j] = in[j] * inv * gamma.data[j];
  }
  return out;
}

//===----------------------------------------------------------------------===//
// MLP layers
//===----------------------------------------------------------------------===//

// Spec §1: y = act(x W1 + b1) W2 + b2.
Tensor denseMlp(const Tensor &x, const Tensor &w1, const Tensor &b1,
                const Tensor &w2, const Tensor &b2, Activation act) {
  Tensor h = activate(linear(x, w1, &b1), act);
  check(w2.rank() == 2 && w2.dim(0) == h.dim(-1),
        "denseMlp: W2 " + shapeToString(w2.shape) +
            " is not [F = " + std::to_string(h.dim(-1)) + ", d]");
  return linear(h, w2, &b2);
}

// Spec §5: one GEMM per expert over the stacked weights.
Tensor expertMatmul(const Tensor &lhs, const Tensor &rhs, const Tensor *bias,
                    Activation act) {
  check(lhs.rank() >= 3 && rhs.rank() == 3 && lhs.dim(0) == rhs.dim(0) &&
            lhs.dim(-1) == rhs.dim(1),
        "expertMatmul: lhs " + shapeToString(lhs.shape) + " and rhs " +
            shapeToString(rhs.shape) + " are not [E, ..., M, K] and [E, K, N]");
  int64_t e = rhs.dim(0), k = rhs.dim(1), n = rhs.dim(2);
  check(!bias || bias->shape == std::vector<int64_t>{e, n},
        "expertMatmul: bias " + (bias ? shapeToString(bias->shape) : "") +
            " is not [E, N]");
  std::vector<int64_t> shape = lhs.shape;
  shape.back() = n;
  Tensor pre(shape);
  check(e >= 1, "expertMatmul: no experts");
  int64_t rowsPerExpert = leadingCount(lhs) / e;
  for (int64_t ex = 0; ex < e; ++ex)
    for (int64_t r = 0; r < rowsPerExpert; ++r) {
      const double *row = lhs.data.data() + (ex * rowsPerExpert + r) * k;
      double *out = pre.data.data() + (ex * rowsPerExpert + r) * n;
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0.0;
        for (int64_t i = 0; i < k; ++i)
          acc += row[i] * rhs.data[(ex * k + i) * n + j];
        out[j] = acc + (bias ? bias->data[ex * n + j] : 0.0);
      }
    }
  return activate(pre, act);
}

// Spec §6 UoME: route (§2), normalise over axis 0, select along axis 1
// (§3), expert compute and combine (§5).
Tensor uome(const Tensor &x, const Tensor &wg, const Tensor &bg,
            const Tensor &w1s, const Tensor &b1s, const Tensor &w2s,
            const Tensor &b2s, const UomeOptions &options) {
  check(x.rank() == 3,
        "uome: input " + shapeToString(x.shape) + " is not [N0, N1, d]");
  int64_t n1 = x.dim(1);
  if (options.sharedOutputBias) {
    // Every expert's own bias is zero; the one bias comes after the combine.
    check(wg.rank() == 2 && b2s.shape == std::vector<int64_t>{x.dim(2)},
          "uome: shared b2 " + shapeToString(b2s.shape) + " is not [d]");
    UomeOptions perExpert = options;
    perExpert.sharedOutputBias = false;
    return addBias(uome(x, wg, bg, w1s, b1s, w2s,
                        Tensor({wg.dim(0), x.dim(2)}), perExpert),
                   b2s);
  }
  int64_t e =
      checkExpertMlp("uome", x.dim(2), wg, bg, w1s, b1s, w2s, b2s, options.act);
  check(options.kTok >= 1 && options.kTok <= e,
        "uome: kTok = " + std::to_string(options.kTok) + " is not in [1, E = " +
            std::to_string(e) + "] (it has no default)");
  if (options.routing == RoutingMode::CausalSafe) {
    // Spec §7: every token on its own: the sum over its kTok experts, which
    // is the token-choice MoE without renormalisation.
    check(options.patch == 1, "uome: causal-safe routing needs patch 1");
    MoeOptions perToken;
    perToken.kTok = options.kTok;
    perToken.combine = options.combine;
    perToken.act = options.act;
    perToken.score = options.score;
    return moe(x, wg, bg, w1s, b1s, w2s, b2s, perToken);
  }
  Tensor p = router(x, wg, bg, options.score);
  Tensor s = tokenChoice(p, options.kTok);
  Tensor g = normalizeScores(s, /*axis=*/0, options.eps, options.normCapacity);
  Selection sel = dataSelect(g, options.patch, options.capacity);
  Tensor xs = dispatch(x, sel.positions, options.patch);
  Tensor h = expertMatmul(xs, w1s, &b1s, options.act);
  Tensor y = expertMatmul(h, w2s, &b2s, Activation::None);
  bool gated = options.combine == CombineMode::Gated;
  return combine(y, sel.positions, options.patch, n1,
                 gated ? &sel.scores : nullptr);
}

// Spec §4 / §8: token-choice top-k MoE. Every expert is evaluated on every
// token (a reference may waste work) and only the selected ones are summed.
Tensor moe(const Tensor &x, const Tensor &wg, const Tensor &bg,
           const Tensor &w1s, const Tensor &b1s, const Tensor &w2s,
           const Tensor &b2s, const MoeOptions &options) {
  check(x.rank() >= 2,
        "moe: input " + shapeToString(x.shape) + " must have rank >= 2");
  int64_t d = x.dim(-1);
  int64_t e = checkExpertMlp("moe", d, wg, bg, w1s, b1s, w2s, b2s, options.act);
  check(options.kTok >= 1 && options.kTok <= e,
        "moe: kTok = " + std::to_string(options.kTok) + " is not in [1, E = " +
            std::to_string(e) + "] (it has no default)");
  ExpertChoice choice = expertSelect(router(x, wg, bg, options.score),
                                     options.kTok, options.renormalize);
  int64_t k = options.kTok;
  Tensor out(x.shape);
  for (int64_t ex = 0; ex < e; ++ex) {
    Tensor y =
        denseMlp(x, expertSlice(w1s, ex), expertSlice(b1s, ex),
                 expertSlice(w2s, ex), expertSlice(b2s, ex), options.act);
    for (int64_t r = 0, rows = leadingCount(x); r < rows; ++r)
      for (int64_t j = 0; j < k; ++j) {
        if (choice.experts.data[r * k + j] != ex)
          continue;
        double w = options.combine == CombineMode::Gated
                       ? choice.weights.data[r * k + j]
                       : 1.0;
        for (int64_t i = 0; i < d; ++i)
          out.data[r * d + i] += w * y.data[r * d + i];
      }
  }
  return out;
}

// Spec §1: expert e takes column block e of W1 (of both halves with SwiGlu)
// and row block e of W2; b2 stays whole, in expert 0 (or, shared, after
// the combine).
ExpertMlpWeights splitMlp(const Tensor &w1, const Tensor &b1, const Tensor &w2,
                          const Tensor &b2, int64_t numExperts,
                          Activation act, bool sharedBias) {
  check(w1.rank() == 2 && w2.rank() == 2 && w2.dim(1) == w1.dim(0),
        "splitMlp: W1 " + shapeToString(w1.shape) + " and W2 " +
            shapeToString(w2.shape) + " are not [d, F1] and [F, d]");
  int64_t d = w1.dim(0), f1 = w1.dim(1), f = w2.dim(0);
  bool swiglu = act == Activation::SwiGlu;
  check(f1 == (swiglu ? 2 * f : f), "splitMlp: W1 width " + std::to_string(f1) +
                                        " does not match W2 rows " +
                                        std::to_string(f) +
                                        (swiglu ? " (SwiGlu: 2F)" : ""));
  check(b1.shape == std::vector<int64_t>{f1} &&
            b2.shape == std::vector<int64_t>{d},
        "splitMlp: b1 or b2 has the wrong shape");
  check(numExperts >= 1 && f % numExperts == 0,
        "splitMlp: E = " + std::to_string(numExperts) +
            " does not divide F = " + std::to_string(f));
  int64_t e = numExperts, fe = f / e, f1e = swiglu ? 2 * fe : fe;
  // Column c of expert ex's first GEMM in the dense W1.
  auto denseColumn = [&](int64_t ex, int64_t c) {
    return c < fe ? ex * fe + c : f + ex * fe + (c - fe);
  };
  ExpertMlpWeights w{Tensor({e, d, f1e}), Tensor({e, f1e}), Tensor({e, fe, d}),
                     Tensor({e, d})};
  for (int64_t ex = 0; ex < e; ++ex) {
    for (int64_t c = 0; c < f1e; ++c) {
      for (int64_t i = 0; i < d; ++i)
        w.w1s.at(ex, i, c) = w1.at(i, denseColumn(ex, c));
      w.b1s.at(ex, c) = b1.at(denseColumn(ex, c));
    }
    for (int64_t c = 0; c < fe; ++c)
      for (int64_t j = 0; j < d; ++j)
        w.w2s.at(ex, c, j) = w2.at(ex * fe + c, j);
  }
  if (sharedBias) {
    w.b2s = b2;
    return w;
  }
  for (int64_t j = 0; j < d; ++j)
    w.b2s.at(0, j) = b2.at(j);
  return w;
}

//===----------------------------------------------------------------------===//
// Blocks
//===----------------------------------------------------------------------===//

Tensor postLnBlock(const Tensor &x, const Layer &layer, const Tensor &gamma,
                   const Tensor &beta, double eps) {
  Tensor sum = layer(x);
  check(sum.shape == x.shape, "postLnBlock: the layer changed the shape " +
                                  shapeToString(x.shape) + " to " +
                                  shapeToString(sum.shape));
  for (size_t i = 0; i < sum.data.size(); ++i)
    sum.data[i] += x.data[i];
  return layerNorm(sum, gamma, beta, eps);
}

Tensor preRmsBlock(const Tensor &x, const Layer &layer, const Tensor &gamma,
                   double eps) {
  Tensor out = layer(rmsNorm(x, gamma, eps));
  check(out.shape == x.shape, "preRmsBlock: the layer changed the shape " +
                                  shapeToString(x.shape) + " to " +
                                  shapeToString(out.shape));
  for (size_t i = 0; i < out.data.size(); ++i)
    out.data[i] += x.data[i];
  return out;
}

Tensor preLnBlock(const Tensor &x, const Layer &layer, const Tensor &gamma,
                  const Tensor &beta, double eps) {
  Tensor out = layer(layerNorm(x, gamma, beta, eps));
  check(out.shape == x.shape, "preLnBlock: the layer changed the shape " +
                                  shapeToString(x.shape) + " to " +
                                  shapeToString(out.shape));
  for (size_t i = 0; i < out.data.size(); ++i)
    out.data[i] += x.data[i];
  return out;
}

Tensor addBias(Tensor x, const Tensor &bias) {
  int64_t d = x.dim(-1);
  check(bias.shape == std::vector<int64_t>{d},
        "addBias: bias " + shapeToString(bias.shape) + " is not [" +
            std::to_string(d) + "]");
  for (size_t i = 0; i < x.data.size(); ++i)
    x.data[i] += bias.data[i % d];
  return x;
}

} // namespace uoe::ref
