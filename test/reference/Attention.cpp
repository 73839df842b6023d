//===- Attention.cpp - dense attention, SMHA and rotary embedding --------===//
//
// Spec §6 SMHA and the dense multi-head attention it decomposes (§1). The
// dense layer and the selective one are written separately on purpose
// (they share only applyRope): the equitant identity test compares them,
// and that comparison is worth little if both run the same code.
//
// Masked softmax: masked keys get probability 0; a query whose keys are
// all masked (every key padded, say) has an all-zero probability row, so
// its `o` is 0 and the layer output there is just the output bias. The
// spec does not say; this is the choice that never produces NaN.
//
//===----------------------------------------------------------------------===//

#include "test/reference/Reference.h"

#include <algorithm>
#include <cmath>

namespace uoe::ref {
namespace {

/// Softmax over the unmasked entries of `scores` into `probs`; all masked
/// gives all zeros (see the file comment).
void maskedSoftmax(const std::vector<double> &scores,
                   const std::vector<bool> &masked,
                   std::vector<double> &probs) {
  size_t n = scores.size();
  probs.assign(n, 0.0);
  double max = -INFINITY;
  for (size_t j = 0; j < n; ++j)
    if (!masked[j])
      max = std::max(max, scores[j]);
  if (max == -INFINITY)
    return;
  double sum = 0.0;
  for (size_t j = 0; j < n; ++j)
    if (!masked[j])
      sum += probs[j] = std::exp(scores[j] - max);
  for (size_t j = 0; j < n; ++j)
    probs[j] /= sum;
}

void checkKeyPadding(const char *who, const Tensor *keyPadding, int64_t b,
                     int64_t t) {
  check(!keyPadding || keyPadding->shape == std::vector<int64_t>{b, t},
        std::string(who) + ": key padding " +
            (keyPadding ? shapeToString(keyPadding->shape) : "") +
            " is not [B = " + std::to_string(b) + ", T = " + std::to_string(t) +
            "]");
}

} // namespace

// Spec §6: NeoX rotate-half rotary embedding of one head vector.
void applyRope(double *v, int64_t dh, double position, double base) {
  check(dh % 2 == 0,
        "applyRope: head width " + std::to_string(dh) + " must be even");
  int64_t half = dh / 2;
  for (int64_t i = 0; i < half; ++i) {
    double invFreq =
        std::pow(base, -2.0 * static_cast<double>(i) / static_cast<double>(dh));
    double theta = position * invFreq;
    double c = std::cos(theta), s = std::sin(theta);
    double a = v[i], b = v[i + half];
    v[i] = a * c - b * s;
    v[i + half] = b * c + a * s;
  }
}

// Spec §1 / §6: dense multi-head attention, the layer SMHA decomposes.
Tensor attention(const Tensor &x, const Tensor &wq, const Tensor &wk,
                 const Tensor &wv, const Tensor &bq, const Tensor &bk,
                 const Tensor &bv, const Tensor &wo, const Tensor &bo,
                 const AttentionOptions &options, const Tensor *keyPadding) {
  check(x.rank() == 3,
        "attention: input " + shapeToString(x.shape) + " is not [B, T, d]");
  int64_t b = x.dim(0), t = x.dim(1), d = x.dim(2);
  check(wq.rank() == 2 && wq.dim(0) == d && wk.shape == wq.shape &&
            wv.shape == wq.shape,
        "attention: Wq, Wk, Wv " + shapeToString(wq.shape) + ", " +
            shapeToString(wk.shape) + ", " + shapeToString(wv.shape) +
            " are not all [d = " + std::to_string(d) + ", D]");
  int64_t width = wq.dim(1), heads = options.heads;
  check(heads >= 1 && width % heads == 0,
        "attention: " + std::to_string(heads) +
            " heads do not divide the width " + std::to_string(width));
  int64_t dh = width / heads;
  check(options.rope != RopeMode::Compacted,
        "attention: a dense layer has no compacted order (rope must be None "
        "or Original)");
  check(options.rope == RopeMode::None || dh % 2 == 0,
        "attention: rotary embedding needs an even head width, got " +
            std::to_string(dh));
  check(wo.rank() == 2 && wo.dim(0) == width,
        "attention: Wo " + shapeToString(wo.shape) +
            " is not [D = " + std::to_string(width) + ", d]");
  checkKeyPadding("attention", keyPadding, b, t);

  Tensor q = linear(x, wq, &bq), k = linear(x, wk, &bk), v = linear(x, wv, &bv);
  if (options.rope == RopeMode::Original)
    for (int64_t bi = 0; bi < b; ++bi)
      for (int64_t i = 0; i < t; ++i)
        for (int64_t h = 0; h < heads; ++h) {
          applyRope(&q.at(bi, i, h * dh), dh, static_cast<double>(i),
                    options.ropeBase);
          applyRope(&k.at(bi, i, h * dh), dh, static_cast<double>(i),
                    options.ropeBase);
        }

  double scale = 1.0 / std::sqrt(static_cast<double>(dh));
  Tensor o({b, t, width});
  std::vector<double> scores(static_cast<size_t>(t)), probs;
  std::vector<bool> masked(static_cast<size_t>(t));
  for (int64_t bi = 0; bi < b; ++bi)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < t; ++i) {
        for (int64_t j = 0; j < t; ++j) {
          double dot = 0.0;
          for (int64_t c = 0; c < dh; ++c)
            dot += q.at(bi, i, h * dh + c) * k.at(bi, j, h * dh + c);
          scores[j] = dot * scale;
          masked[j] = (options.causal && j > i) ||
                      (keyPadding && keyPadding->at(bi, j) != 0.0);
        }
        maskedSoftmax(scores, masked, probs);
        for (int64_t c = 0; c < dh; ++c) {
          double acc = 0.0;
          for (int64_t j = 0; j < t; ++j)
            acc += probs[j] * v.at(bi, j, h * dh + c);
          o.at(bi, i, h * dh + c) = acc;
        }
      }
  return linear(o, wo, &bo);
}

// Spec §6: attention among each expert's selected tokens, masks and rotary
// positions taken from the original token positions (or the compacted
// order for the reference rotary mode).
Tensor selectiveAttention(const Tensor &q, const Tensor &k, const Tensor &v,
                          const IndexTensor &positions,
                          const SelectiveAttentionOptions &options,
                          const Tensor *keyPadding) {
  check(q.rank() == 4 && k.shape == q.shape && v.shape == q.shape,
        "selectiveAttention: q, k, v " + shapeToString(q.shape) + ", " +
            shapeToString(k.shape) + ", " + shapeToString(v.shape) +
            " are not all [E, B, L, D]");
  int64_t e = q.dim(0), b = q.dim(1), l = q.dim(2), width = q.dim(3);
  check(positions.shape == std::vector<int64_t>{e, b, l},
        "selectiveAttention: positions " + shapeToString(positions.shape) +
            " are not [E, B, L] = " + shapeToString({e, b, l}));
  int64_t heads = options.heads;
  check(heads >= 1 && width % heads == 0,
        "selectiveAttention: " + std::to_string(heads) +
            " heads do not divide the width " + std::to_string(width));
  int64_t dh = width / heads;
  check(options.rope == RopeMode::None || dh % 2 == 0,
        "selectiveAttention: rotary embedding needs an even head width, got " +
            std::to_string(dh));
  check(!keyPadding || (keyPadding->rank() == 2 && keyPadding->dim(0) == b),
        "selectiveAttention: key padding " +
            (keyPadding ? shapeToString(keyPadding->shape) : "") +
            " is not [B = " + std::to_string(b) + ", T]");
  for (int64_t pos : positions.data)
    if (pos < 0 || (keyPadding && pos >= keyPadding->dim(1)))
      fail("selectiveAttention: position " + std::to_string(pos) +
           " is negative or outside the key padding " +
           (keyPadding ? shapeToString(keyPadding->shape) : ""));

  Tensor qr = q, kr = k;
  if (options.rope != RopeMode::None)
    for (int64_t ex = 0; ex < e; ++ex)
      for (int64_t bi = 0; bi < b; ++bi)
        for (int64_t j = 0; j < l; ++j) {
          double pos = options.rope == RopeMode::Compacted
                           ? static_cast<double>(j)
                           : static_cast<double>(positions.at(ex, bi, j));
          for (int64_t h = 0; h < heads; ++h) {
            applyRope(&qr.at(ex, bi, j, h * dh), dh, pos, options.ropeBase);
            applyRope(&kr.at(ex, bi, j, h * dh), dh, pos, options.ropeBase);
          }
        }

  double scale =
      options.scale ? *options.scale : 1.0 / std::sqrt(static_cast<double>(dh));
  Tensor o(q.shape);
  std::vector<double> scores(static_cast<size_t>(l)), probs;
  std::vector<bool> masked(static_cast<size_t>(l));
  for (int64_t ex = 0; ex < e; ++ex)
    for (int64_t bi = 0; bi < b; ++bi)
      for (int64_t h = 0; h < heads; ++h)
        for (int64_t i = 0; i < l; ++i) {
          int64_t queryPos = positions.at(ex, bi, i);
          for (int64_t j = 0; j < l; ++j) {
            int64_t keyPos = positions.at(ex, bi, j);
            double dot = 0.0;
            for (int64_t c = 0; c < dh; ++c)
              dot +=
                  qr.at(ex, bi, i, h * dh + c) * kr.at(ex, bi, j, h * dh + c);
            scores[j] = dot * scale;
            masked[j] = (options.causal && keyPos > queryPos) ||
                        (keyPadding && keyPadding->at(bi, keyPos) != 0.0);
          }
          maskedSoftmax(scores, masked, probs);
          for (int64_t c = 0; c < dh; ++c) {
            double acc = 0.0;
            for (int64_t j = 0; j < l; ++j)
              acc += probs[j] * v.at(ex, bi, j, h * dh + c);
            o.at(ex, bi, i, h * dh + c) = acc;
          }
        }
  return o;
}

namespace {

/// Spec §7 causal-safe SMHA, written directly from its definition (not
/// through dataSelect's padding): for every row b and expert e, the list of
/// the tokens that chose e (in order) is attended over on its own, with
/// the original positions for the causal mask and rotary embedding; every
/// token then sums `w * (o Wo_e + bo_e)` over its chosen experts in order
/// e = 0..E-1, w = 1 (Union) or its probability (Gated).
Tensor causalSafeSmha(const Tensor &x, const Tensor &wg, const Tensor &bg,
                      const Tensor &wq, const Tensor &wk, const Tensor &wv,
                      const Tensor &bq, const Tensor &bk, const Tensor &bv,
                      const Tensor &wo, const Tensor &bo,
                      const SmhaOptions &options, const Tensor *keyPadding) {
  check(options.rope != RopeMode::Compacted,
        "smha: causal-safe routing cannot use compacted rotary positions");
  int64_t b = x.dim(0), t = x.dim(1), d = x.dim(2), e = wg.dim(0);
  int64_t de = d / e, headsPerExpert = options.heads / e;
  Tensor p = router(x, wg, bg, options.score);
  Tensor s = tokenChoice(p, options.kTok);
  Tensor out({b, t, d});
  SelectiveAttentionOptions attn;
  attn.heads = headsPerExpert;
  attn.causal = options.causal;
  attn.rope = options.rope;
  attn.ropeBase = options.ropeBase;
  for (int64_t ex = 0; ex < e; ++ex)
    for (int64_t bi = 0; bi < b; ++bi) {
      std::vector<int64_t> chosen;
      for (int64_t ti = 0; ti < t; ++ti)
        if (s.at(bi, ti, ex) > 0.0)
          chosen.push_back(ti);
      int64_t l = static_cast<int64_t>(chosen.size());
      if (l == 0)
        continue;
      // q, k, v [1, 1, l, De] of this expert on its tokens.
      Tensor q({1, 1, l, de}), k({1, 1, l, de}), v({1, 1, l, de});
      IndexTensor positions({1, 1, l});
      for (int64_t j = 0; j < l; ++j) {
        positions.data[j] = chosen[j];
        for (int64_t c = 0; c < de; ++c) {
          double aq = bq.at(ex, c), ak = bk.at(ex, c), av = bv.at(ex, c);
          for (int64_t i = 0; i < d; ++i) {
            double xi = x.at(bi, chosen[j], i);
            aq += xi * wq.at(ex, i, c);
            ak += xi * wk.at(ex, i, c);
            av += xi * wv.at(ex, i, c);
          }
          q.at(0, 0, j, c) = aq;
          k.at(0, 0, j, c) = ak;
          v.at(0, 0, j, c) = av;
        }
      }
      Tensor padding;
      const Tensor *rowPadding = nullptr;
      if (keyPadding) {
        padding = Tensor({1, t});
        for (int64_t ti = 0; ti < t; ++ti)
          padding.at(0, ti) = keyPadding->at(bi, ti);
        rowPadding = &padding;
      }
      Tensor o = selectiveAttention(q, k, v, positions, attn, rowPadding);
      for (int64_t j = 0; j < l; ++j) {
        double w = options.combine == CombineMode::Gated
                       ? s.at(bi, chosen[j], ex)
                       : 1.0;
        for (int64_t c = 0; c < d; ++c) {
          double acc = bo.at(ex, c);
          for (int64_t i = 0; i < de; ++i)
            acc += o.at(0, 0, j, i) * wo.at(ex, i, c);
          out.at(bi, chosen[j], c) += w * acc;
        }
      }
    }
  return out;
}

} // namespace

// Spec §6 SMHA: route (§2), normalise over axis 0 (the batch), dynamic
// selection along T (§3), per-expert attention on the selected tokens,
// output projection with the expert's own bias, combine (§5).
Tensor smha(const Tensor &x, const Tensor &wg, const Tensor &bg,
            const Tensor &wq, const Tensor &wk, const Tensor &wv,
            const Tensor &bq, const Tensor &bk, const Tensor &bv,
            const Tensor &wo, const Tensor &bo, const SmhaOptions &options,
            const Tensor *keyPadding) {
  check(x.rank() == 3,
        "smha: input " + shapeToString(x.shape) + " is not [B, T, d]");
  int64_t b = x.dim(0), t = x.dim(1), d = x.dim(2);
  check(wg.rank() == 2 && wg.dim(1) == d && wg.dim(0) >= 1,
        "smha: Wg " + shapeToString(wg.shape) +
            " is not [E, d = " + std::to_string(d) + "]");
  int64_t e = wg.dim(0), heads = options.heads;
  check(heads >= 1 && heads % e == 0 && d % heads == 0,
        "smha: heads = " + std::to_string(heads) +
            " must be a multiple of E = " + std::to_string(e) +
            " and divide d = " + std::to_string(d) + " (it has no default)");
  int64_t de = d / e;
  for (const Tensor *w : {&wq, &wk, &wv})
    check(w->shape == std::vector<int64_t>{e, d, de},
          "smha: a q/k/v weight " + shapeToString(w->shape) +
              " is not [E, d, De] = " + shapeToString({e, d, de}));
  for (const Tensor *bias : {&bq, &bk, &bv})
    check(bias->shape == std::vector<int64_t>{e, de},
          "smha: a q/k/v bias " + shapeToString(bias->shape) +
              " is not [E, De] = " + shapeToString({e, de}));
  check(wo.shape == std::vector<int64_t>{e, de, d},
        "smha: Wo " + shapeToString(wo.shape) +
            " is not [E, De, d] = " + shapeToString({e, de, d}));
  if (options.sharedOutputBias) {
    // Every expert's own bias is zero; the one bias comes after the combine.
    check(bo.shape == std::vector<int64_t>{d},
          "smha: shared bo " + shapeToString(bo.shape) + " is not [d]");
    SmhaOptions perExpert = options;
    perExpert.sharedOutputBias = false;
    return addBias(smha(x, wg, bg, wq, wk, wv, bq, bk, bv, wo, Tensor({e, d}),
                        perExpert, keyPadding),
                   bo);
  }
  check(bo.shape == std::vector<int64_t>{e, d},
        "smha: bo " + shapeToString(bo.shape) + " is not [E, d]");
  check(options.kTok >= 1 && options.kTok <= e,
        "smha: kTok = " + std::to_string(options.kTok) + " is not in [1, E = " +
            std::to_string(e) + "] (it has no default)");
  checkKeyPadding("smha", keyPadding, b, t);

  if (options.routing == RoutingMode::CausalSafe)
    return causalSafeSmha(x, wg, bg, wq, wk, wv, bq, bk, bv, wo, bo, options,
                          keyPadding);
  Tensor p = router(x, wg, bg, options.score);
  Tensor s = tokenChoice(p, options.kTok);
  Tensor g = normalizeScores(s, /*axis=*/0, options.eps, options.normCapacity);
  Selection sel = dataSelect(g, /*patch=*/1, /*capacity=*/std::nullopt);
  Tensor xs = dispatch(x, sel.positions, 1);
  Tensor q = expertMatmul(xs, wq, &bq), k = expertMatmul(xs, wk, &bk),
         v = expertMatmul(xs, wv, &bv);
  SelectiveAttentionOptions attn;
  attn.heads = heads / e;
  attn.causal = options.causal;
  attn.rope = options.rope;
  attn.ropeBase = options.ropeBase;
  Tensor o = selectiveAttention(q, k, v, sel.positions, attn, keyPadding);
  Tensor y = expertMatmul(o, wo, &bo);
  bool gated = options.combine == CombineMode::Gated;
  return combine(y, sel.positions, 1, t, gated ? &sel.scores : nullptr);
}

// Spec §1: expert e owns column block e of Wq, Wk, Wv (heads
// e*H/E .. (e+1)*H/E - 1) and row block e of Wo; bo goes to expert 0, or
// stays whole to be added after the combine.
ExpertAttentionWeights splitAttention(const Tensor &wq, const Tensor &wk,
                                      const Tensor &wv, const Tensor &bq,
                                      const Tensor &bk, const Tensor &bv,
                                      const Tensor &wo, const Tensor &bo,
                                      int64_t numExperts, int64_t heads,
                                      bool sharedBias) {
  check(wq.rank() == 2 && wq.dim(0) == wq.dim(1),
        "splitAttention: Wq " + shapeToString(wq.shape) + " is not [d, d]");
  int64_t d = wq.dim(0), e = numExperts;
  for (const Tensor *w : {&wq, &wk, &wv, &wo})
    check(w->shape == std::vector<int64_t>{d, d}, "splitAttention: a weight " +
                                                      shapeToString(w->shape) +
                                                      " is not [d, d]");
  for (const Tensor *bias : {&bq, &bk, &bv, &bo})
    check(bias->shape == std::vector<int64_t>{d},
          "splitAttention: a bias " + shapeToString(bias->shape) +
              " is not [d]");
  check(e >= 1 && heads >= 1 && heads % e == 0 && d % heads == 0,
        "splitAttention: E = " + std::to_string(e) +
            " must divide heads = " + std::to_string(heads) +
            ", which must divide d = " + std::to_string(d));
  int64_t de = d / e;
  ExpertAttentionWeights w{Tensor({e, d, de}), Tensor({e, d, de}),
                           Tensor({e, d, de}), Tensor({e, de}),
                           Tensor({e, de}),    Tensor({e, de}),
                           Tensor({e, de, d}), Tensor({e, d})};
  for (int64_t ex = 0; ex < e; ++ex)
    for (int64_t c = 0; c < de; ++c) {
      int64_t col = ex * de + c;
      for (int64_t i = 0; i < d; ++i) {
        w.wq.at(ex, i, c) = wq.at(i, col);
        w.wk.at(ex, i, c) = wk.at(i, col);
        w.wv.at(ex, i, c) = wv.at(i, col);
        w.wo.at(ex, c, i) = wo.at(col, i);
      }
      w.bq.at(ex, c) = bq.at(col);
      w.bk.at(ex, c) = bk.at(col);
      w.bv.at(ex, c) = bv.at(col);
    }
  if (sharedBias) {
    w.bo = bo;
    return w;
  }
  for (int64_t j = 0; j < d; ++j)
    w.bo.at(0, j) = bo.at(j);
  return w;
}

} // namespace uoe::ref
