//===- CpuAttention.cpp - fused selective attention on the CPU ------------===//
//
// uoe_selective_attention (CpuAttention.h). One task per (expert, row,
// head), shared out over OpenMP's thread pool. A task packs its head:
//
//   Q  [L4, dh]  rotated queries, rows past L zero (L4 = L rounded up to 4);
//   Kt [dh, Lp]  rotated keys, transposed, columns past L zero (Lp = L
//                rounded up to 16), so that scores vectorize over keys;
//   V  [Lp, dhp] values, zero-padded to dhp = dh rounded up to 16;
//
// then walks blocks of kQueries queries; for each, blocks of kKeys keys up
// to the last key any of its queries may see:
//
//   S = Q_blk Kt_blk               register tile 4 queries x 32 keys
//   S = S * scale, masked to -inf  key padding as an additive -inf bias,
//                                  causal as a per-query key limit
//   online softmax per query       m' = max(m, max S); alpha = exp(m - m');
//                                  P = exp(S - m'); l = l alpha + sum P;
//                                  O = O alpha
//   O += P V_blk                   register tile 4 queries x 64 columns
//
// and writes O / l. The microkernels use GCC's vector extensions on
// 16-float vectors, compiled three times (AVX-512, AVX2+FMA, plain x86-64)
// and chosen by the GEMM's ISA (CpuGemm.h), never by environment variables.
//
//===----------------------------------------------------------------------===//

#include "runtime/CpuAttention.h"
#include "runtime/CpuBlas.h"
#include "runtime/CpuGemm.h"
#include "runtime/CpuMath.h"
#include "runtime/ScratchBuffer.h"
#include "support/Status.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <vector>

using namespace uoe::rt;

namespace {

constexpr int64_t kQueries = 4; ///< Queries per block (the register tile).
constexpr int64_t kKeys = 128;  ///< Keys per block of scores.
constexpr int64_t kLanes = 16;  ///< Floats per vector.
constexpr float kMinusInf = -std::numeric_limits<float>::infinity();

/// The largest rotary position the kernel builds a table for.
constexpr int64_t kMaxRopePosition = int64_t(1) << 24;

int64_t roundUp(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

//===----------------------------------------------------------------------===//
// The rotary table, cached per (head width, base)
//===----------------------------------------------------------------------===//

} // namespace

std::shared_ptr<const RopeTable> uoe::rt::ropeTable(int64_t dh, double base,
                                                    int64_t count) {
  static std::mutex mutex;
  static std::vector<std::shared_ptr<const RopeTable>> tables;
  std::lock_guard<std::mutex> lock(mutex);
  auto found = std::find_if(tables.begin(), tables.end(), [&](auto &t) {
    return t->dh == dh && std::memcmp(&t->base, &base, sizeof(base)) == 0;
  });
  if (found != tables.end() && (*found)->count >= count)
    return *found;
  auto table = std::make_shared<RopeTable>();
  table->dh = dh;
  table->base = base;
  // Grown geometrically, so that growing sequences rebuild it rarely.
  table->count = std::max<int64_t>(
      count, found != tables.end() ? 2 * (*found)->count : int64_t(256));
  int64_t half = dh / 2;
  table->values.resize(table->count * half * 2);
  double exponentScale = -2.0 * std::log(base) / dh;
  for (int64_t f = 0; f < half; ++f) {
    double frequency = std::exp(static_cast<double>(f) * exponentScale);
    for (int64_t pos = 0; pos < table->count; ++pos) {
      double angle = static_cast<double>(pos) * frequency;
      table->values[(pos * half + f) * 2] = static_cast<float>(std::cos(angle));
      table->values[(pos * half + f) * 2 + 1] =
          static_cast<float>(std::sin(angle));
    }
  }
  if (found != tables.end())
    *found = table;
  else
    tables.push_back(table);
  return table;
}

namespace {

//===----------------------------------------------------------------------===//
// The problem
//===----------------------------------------------------------------------===//

struct Operand {
  const float *data;
  int64_t strideE, strideR, strideL;
  const float *row(int64_t e, int64_t r, int64_t i) const {
    return data + e * strideE + r * strideR + i * strideL;
  }
};

struct Problem {
  bool causal, rope, ropeOriginal;
  int64_t experts, rows, slots, width, heads, tokens, dh;
  float scale;
  Operand q, k, v;
  const int64_t *positions;
  int64_t posStrideE, posStrideR;
  const uint8_t *padding;
  int64_t padStrideR;
  float *out;
  const float *table; ///< [position][dh/2][2], or null without rope.
  // The gradient's (uoe_selective_attention_grad): dOut like q; dq, dk, dv
  // dense like out.
  Operand dOut;
  float *dq, *dk, *dv;
};

/// The first problem with the arguments (named after the entry point
/// `name`), or OK; sets `maxPosition`.
Status check(const Problem &p, int64_t flags, const char *name,
             int64_t &maxPosition) {
  auto bad = [name](auto... parts) {
    return invalidArgumentError(strCat(name, ": ", parts...));
  };
  if (flags & ~int64_t(kAttentionCausal | kAttentionKeyPadding |
                       kAttentionRopeCompacted | kAttentionRopeOriginal) ||
      (flags & kAttentionRopeCompacted && flags & kAttentionRopeOriginal))
    return bad("unknown flags ", flags);
  if (p.experts < 0 || p.rows < 0 || p.slots < 0 || p.heads < 1 ||
      p.width < 0 || p.width % p.heads != 0 || (p.rope && p.dh % 2 != 0) ||
      p.tokens < 0)
    return bad("bad sizes (experts ", p.experts, ", rows ", p.rows, ", slots ",
               p.slots, ", width ", p.width, ", heads ", p.heads, ", tokens ",
               p.tokens, ")");
  bool empty = p.experts * p.rows * p.slots == 0;
  if (!empty && (!p.positions || !p.q.data || !p.k.data || !p.v.data || !p.out))
    return bad("null operand");
  maxPosition = 0;
  for (int64_t e = 0; e < p.experts; ++e)
    for (int64_t r = 0; r < p.rows; ++r)
      for (int64_t i = 0; i < p.slots; ++i) {
        int64_t pos = p.positions[e * p.posStrideE + r * p.posStrideR + i];
        bool outside = pos < 0 || (p.padding && pos >= p.tokens) ||
                       (p.ropeOriginal && pos >= kMaxRopePosition);
        if (outside)
          return bad("position ", pos, " of expert ", e, ", row ", r, ", slot ",
                     i, " is outside [0, ",
                     p.padding ? p.tokens : kMaxRopePosition, ")");
        maxPosition = std::max(maxPosition, pos);
      }
  return Status();
}

//===----------------------------------------------------------------------===//
// Microkernels on 16-float vectors
//===----------------------------------------------------------------------===//

typedef float Vec __attribute__((vector_size(64)));
#define UOE_INLINE inline __attribute__((always_inline))

UOE_INLINE Vec load(const float *p) {
  Vec v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
UOE_INLINE void store(float *p, Vec v) { std::memcpy(p, &v, sizeof(v)); }
UOE_INLINE Vec splat(float s) { return Vec{} + s; }

/// S[r][j] = sum_c Q[r][c] Kt[c][j] for r < 4, j < 16 * vectors; Q rows
/// of dh, Kt rows of `ldk`, S rows of `lds`. With `wide` (32 vector
/// registers: AVX-512), 64 keys at a time: 16 accumulators, and 4 key loads
/// and 4 broadcasts per 16 multiply-adds instead of 2 and 4 per 8. Every
/// score sums over c in order either way: the same bits.
UOE_INLINE void scoreBlock(bool wide, const float *Q, int64_t dh,
                           const float *Kt, int64_t ldk, int64_t vectors,
                           float *S, int64_t lds = kKeys) {
  int64_t jv = 0;
  if (wide)
    for (; jv + 4 <= vectors; jv += 4) {
      Vec a[kQueries][4] = {};
      const float *kt = Kt + jv * kLanes;
      for (int64_t c = 0; c < dh; ++c) {
        Vec k[4];
        for (int x = 0; x < 4; ++x)
          k[x] = load(kt + c * ldk + x * kLanes);
        for (int r = 0; r < kQueries; ++r) {
          Vec q = splat(Q[r * dh + c]);
          for (int x = 0; x < 4; ++x)
            a[r][x] += q * k[x];
        }
      }
      for (int r = 0; r < kQueries; ++r)
        for (int x = 0; x < 4; ++x)
          store(S + r * lds + (jv + x) * kLanes, a[r][x]);
    }
  for (; jv + 2 <= vectors; jv += 2) {
    Vec a00{}, a01{}, a10{}, a11{}, a20{}, a21{}, a30{}, a31{};
    const float *kt = Kt + jv * kLanes;
    for (int64_t c = 0; c < dh; ++c) {
      Vec k0 = load(kt + c * ldk), k1 = load(kt + c * ldk + kLanes);
      Vec b0 = splat(Q[c]), b1 = splat(Q[dh + c]), b2 = splat(Q[2 * dh + c]),
          b3 = splat(Q[3 * dh + c]);
      a00 += b0 * k0, a01 += b0 * k1, a10 += b1 * k0, a11 += b1 * k1;
      a20 += b2 * k0, a21 += b2 * k1, a30 += b3 * k0, a31 += b3 * k1;
    }
    float *s = S + jv * kLanes;
    store(s, a00), store(s + kLanes, a01);
    store(s + lds, a10), store(s + lds + kLanes, a11);
    store(s + 2 * lds, a20), store(s + 2 * lds + kLanes, a21);
    store(s + 3 * lds, a30), store(s + 3 * lds + kLanes, a31);
  }
  if (jv < vectors) {
    Vec a0{}, a1{}, a2{}, a3{};
    const float *kt = Kt + jv * kLanes;
    for (int64_t c = 0; c < dh; ++c) {
      Vec k0 = load(kt + c * ldk);
      a0 += splat(Q[c]) * k0, a1 += splat(Q[dh + c]) * k0;
      a2 += splat(Q[2 * dh + c]) * k0, a3 += splat(Q[3 * dh + c]) * k0;
    }
    float *s = S + jv * kLanes;
    store(s, a0), store(s + lds, a1), store(s + 2 * lds, a2),
        store(s + 3 * lds, a3);
  }
}

/// O[r][c] += sum_{j < keys} P[r][j] V[j][c] for r < 4, c < dhp; P rows of
/// `ldp`, V and O rows of dhp (a multiple of 16).
UOE_INLINE void valueBlock(const float *P, int64_t keys, const float *V,
                           int64_t dhp, float *O, int64_t ldp = kKeys) {
  int64_t c = 0;
  for (; c + 4 * kLanes <= dhp; c += 4 * kLanes) {
    Vec o[kQueries][4];
    for (int r = 0; r < kQueries; ++r)
      for (int x = 0; x < 4; ++x)
        o[r][x] = load(O + r * dhp + c + x * kLanes);
    for (int64_t j = 0; j < keys; ++j) {
      const float *v = V + j * dhp + c;
      Vec v0 = load(v), v1 = load(v + kLanes), v2 = load(v + 2 * kLanes),
          v3 = load(v + 3 * kLanes);
      for (int r = 0; r < kQueries; ++r) {
        Vec p = splat(P[r * ldp + j]);
        o[r][0] += p * v0, o[r][1] += p * v1, o[r][2] += p * v2,
            o[r][3] += p * v3;
      }
    }
    for (int r = 0; r < kQueries; ++r)
      for (int x = 0; x < 4; ++x)
        store(O + r * dhp + c + x * kLanes, o[r][x]);
  }
  // Two vectors per key where they are left (dh 32: one load per 4
  // multiply-adds instead of one per 2); each O element still sums over j
  // in order.
  for (; c + 2 * kLanes <= dhp; c += 2 * kLanes) {
    Vec o[kQueries][2];
    for (int r = 0; r < kQueries; ++r)
      for (int x = 0; x < 2; ++x)
        o[r][x] = load(O + r * dhp + c + x * kLanes);
    for (int64_t j = 0; j < keys; ++j) {
      const float *v = V + j * dhp + c;
      Vec v0 = load(v), v1 = load(v + kLanes);
      for (int r = 0; r < kQueries; ++r) {
        Vec p = splat(P[r * ldp + j]);
        o[r][0] += p * v0, o[r][1] += p * v1;
      }
    }
    for (int r = 0; r < kQueries; ++r)
      for (int x = 0; x < 2; ++x)
        store(O + r * dhp + c + x * kLanes, o[r][x]);
  }
  for (; c < dhp; c += kLanes) {
    Vec o[kQueries];
    for (int r = 0; r < kQueries; ++r)
      o[r] = load(O + r * dhp + c);
    for (int64_t j = 0; j < keys; ++j) {
      Vec v = load(V + j * dhp + c);
      for (int r = 0; r < kQueries; ++r)
        o[r] += splat(P[r * ldp + j]) * v;
    }
    for (int r = 0; r < kQueries; ++r)
      store(O + r * dhp + c, o[r]);
  }
}

/// exp(x) with exp(x) = 0 below -87 (so that masked scores give 0).
UOE_INLINE float expOrZero(float x) { return x < -87.0f ? 0.0f : expApprox(x); }

//===----------------------------------------------------------------------===//
// One (expert, row, head)
//===----------------------------------------------------------------------===//

thread_local ScratchBuffer<float> packBuffer;
thread_local ScratchBuffer<int64_t> limitBuffer;

/// Writes the head's rotated `src` (dh values at rotary position `pos`)
/// to dst[c * stride] for c < dh.
UOE_INLINE void rotate(const Problem &p, const float *src, int64_t pos,
                       float *dst, int64_t stride) {
  if (!p.rope) {
    for (int64_t c = 0; c < p.dh; ++c)
      dst[c * stride] = src[c];
    return;
  }
  rotateHead(p.table + pos * p.dh, p.dh, src, 1, dst, stride);
}

/// dst[c] = (R^T src)[c] for c < dh: the inverse rotation at `pos` (the
/// rotation is orthogonal), times `scale`.
UOE_INLINE void rotateBack(const Problem &p, const float *src, int64_t pos,
                           float scale, float *dst) {
  if (!p.rope) {
    for (int64_t c = 0; c < p.dh; ++c)
      dst[c] = src[c] * scale;
    return;
  }
  int64_t half = p.dh / 2;
  const float *cs = p.table + pos * half * 2;
  for (int64_t f = 0; f < half; ++f) {
    float cos = cs[2 * f], sin = cs[2 * f + 1];
    float x = src[f] * scale, y = src[f + half] * scale;
    dst[f] = x * cos + y * sin;
    dst[f + half] = y * cos - x * sin;
  }
}

/// The key bias (-inf for key padding and for the keys past L, 0 else) of
/// one (expert, row) with positions `pos`, and each query's key limit:
/// query i sees only keys j < limit[i]. With causal masking and ascending
/// positions that is the first key after query i's position; otherwise
/// every key. Returns whether causal masking must then be done per score
/// (causal, positions not ascending).
UOE_INLINE bool keyMasks(const Problem &p, int64_t r, const int64_t *pos,
                         int64_t L, int64_t Lp, float *bias, int64_t *limit) {
  const uint8_t *pad = p.padding ? p.padding + r * p.padStrideR : nullptr;
  for (int64_t j = 0; j < Lp; ++j)
    bias[j] = j >= L || (pad && pad[pos[j]]) ? kMinusInf : 0.0f;
  bool maskEachScore = p.causal && !std::is_sorted(pos, pos + L);
  for (int64_t i = 0, j = 0; i < L; ++i) {
    if (!p.causal || maskEachScore) {
      limit[i] = L;
      continue;
    }
    while (j < L && pos[j] <= pos[i])
      ++j;
    limit[i] = j;
  }
  return maskEachScore;
}

/// Scales query i's scores s[0, padded) of the keys j0.. and masks them to
/// -inf (the key bias, keys from `visible` on, and per score when
/// `maskEachScore`); returns their maximum.
UOE_INLINE float maskScores(const Problem &p, float *s, const float *bias,
                            int64_t padded, int64_t visible, bool maskEachScore,
                            const int64_t *pos, int64_t L, int64_t j0,
                            int64_t i) {
  float rowMax = kMinusInf;
#pragma omp simd reduction(max : rowMax)
  for (int64_t j = 0; j < padded; ++j) {
    float v = s[j] * p.scale + bias[j];
    v = j < visible ? v : kMinusInf;
    s[j] = v;
    rowMax = std::max(rowMax, v);
  }
  if (maskEachScore) {
    rowMax = kMinusInf;
    for (int64_t j = 0; j < padded; ++j) {
      if (pos[std::min(j0 + j, L - 1)] > pos[i])
        s[j] = kMinusInf;
      rowMax = std::max(rowMax, s[j]);
    }
  }
  return rowMax;
}

/// The sizes of one (expert e, row r, head h) task, forward or gradient:
/// L slots, head width dh at column col, L rounded up to the query block
/// (L4) and to a vector (Lp), dh rounded up to a vector (dhp), and the
/// slots' positions.
struct HeadTask {
  int64_t L, dh, col, L4, Lp, dhp;
  const int64_t *pos;

  static HeadTask of(const Problem &p, int64_t e, int64_t r, int64_t h) {
    return {p.slots,
            p.dh,
            h * p.dh,
            roundUp(p.slots, kQueries),
            roundUp(p.slots, kLanes),
            roundUp(p.dh, kLanes),
            p.positions + e * p.posStrideE + r * p.posStrideR};
  }
};

/// Computes out[e, r, :, head h]; false when out of memory.
UOE_INLINE bool attendHead(bool wide, const Problem &p, int64_t e, int64_t r,
                           int64_t h) {
  auto [L, dh, col, L4, Lp, dhp, pos] = HeadTask::of(p, e, r, h);
  auto ropePosition = [&](int64_t i) { return p.ropeOriginal ? pos[i] : i; };
  // Q, Kt, V, the key bias, the output block, and the score block.
  int64_t floats =
      L4 * dh + dh * Lp + Lp * dhp + Lp + kQueries * dhp + kQueries * kKeys;
  float *Q = packBuffer.get(floats);
  int64_t *limit = limitBuffer.get(std::max<int64_t>(L, 1));
  if (!Q || !limit)
    return false;
  float *Kt = Q + L4 * dh, *V = Kt + dh * Lp, *bias = V + Lp * dhp,
        *O = bias + Lp, *S = O + kQueries * dhp;

  for (int64_t i = 0; i < L; ++i) {
    rotate(p, p.q.row(e, r, i) + col, ropePosition(i), Q + i * dh, 1);
    rotate(p, p.k.row(e, r, i) + col, ropePosition(i), Kt + i, Lp);
    const float *v = p.v.row(e, r, i) + col;
    std::memcpy(V + i * dhp, v, dh * sizeof(float));
    std::fill(V + i * dhp + dh, V + (i + 1) * dhp, 0.0f);
  }
  std::fill(Q + L * dh, Q + L4 * dh, 0.0f);
  for (int64_t c = 0; c < dh; ++c)
    std::fill(Kt + c * Lp + L, Kt + (c + 1) * Lp, 0.0f);
  std::fill(V + L * dhp, V + Lp * dhp, 0.0f);
  bool maskEachScore = keyMasks(p, r, pos, L, Lp, bias, limit);

  float *out = p.out + ((e * p.rows + r) * L) * p.width + col;
  for (int64_t i0 = 0; i0 < L; i0 += kQueries) {
    int64_t queries = std::min(kQueries, L - i0);
    float m[kQueries], l[kQueries];
    std::fill(m, m + kQueries, kMinusInf);
    std::fill(l, l + kQueries, 0.0f);
    std::fill(O, O + kQueries * dhp, 0.0f);
    // The limits ascend with i, so the block's last query sees the most.
    int64_t keyEnd = limit[i0 + queries - 1];
    for (int64_t j0 = 0; j0 < keyEnd; j0 += kKeys) {
      int64_t keys = std::min(kKeys, keyEnd - j0);
      int64_t vectors = (keys + kLanes - 1) / kLanes, padded = vectors * kLanes;
      scoreBlock(wide, Q + i0 * dh, dh, Kt + j0, Lp, vectors, S);
      for (int64_t t = 0; t < kQueries; ++t) {
        float *s = S + t * kKeys;
        if (t >= queries) {
          std::fill(s, s + padded, 0.0f);
          continue;
        }
        int64_t i = i0 + t;
        int64_t visible = std::clamp<int64_t>(limit[i] - j0, 0, padded);
        float blockMax = maskScores(p, s, bias + j0, padded, visible,
                                    maskEachScore, pos, L, j0, i);
        float mNew = std::max(m[t], blockMax);
        if (mNew == kMinusInf) { // Every key so far is hidden.
          std::fill(s, s + padded, 0.0f);
          continue;
        }
        float alpha = expOrZero(m[t] - mNew), sum = 0.0f;
#pragma omp simd reduction(+ : sum)
        for (int64_t j = 0; j < padded; ++j) {
          float e = expOrZero(s[j] - mNew);
          s[j] = e;
          sum += e;
        }
        if (alpha != 1.0f)
          for (int64_t c = 0; c < dhp; ++c)
            O[t * dhp + c] *= alpha;
        l[t] = l[t] * alpha + sum;
        m[t] = mNew;
      }
      valueBlock(S, keys, V + j0 * dhp, dhp, O);
    }
    for (int64_t t = 0; t < queries; ++t) {
      float *o = out + (i0 + t) * p.width;
      if (l[t] == 0.0f) {
        std::fill(o, o + dh, 0.0f);
        continue;
      }
      for (int64_t c = 0; c < dh; ++c)
        o[c] = O[t * dhp + c] / l[t];
    }
  }
  return true;
}

/// The gradients of (expert e, row r, head h): dq, dk, dv at their place.
/// Per block of 4 queries, the scores and dP = dO V^T of every key it sees
/// are kept as 4 rows of L (never [L, L]); then P, D = rowsum(P * dP),
/// dS = P (dP - D), dQ = dS K, and dK += dS^T Q, dV += P^T dO into the
/// task's own [L, dh] accumulators, query blocks in order. dq and dk are
/// scaled and rotated back (R^T) at the end. False when out of memory.
UOE_INLINE bool attendHeadGrad(bool wide, const Problem &p, int64_t e,
                               int64_t r, int64_t h) {
  auto [L, dh, col, L4, Lp, dhp, pos] = HeadTask::of(p, e, r, h);
  auto ropePosition = [&](int64_t i) { return p.ropeOriginal ? pos[i] : i; };
  // Q, dO [L4, dh]; Kt, Vt [dh, Lp]; K, dK, dV [Lp, dhp]; the key bias
  // [Lp]; the rows of S (then P) and dP (then dS) [4, Lp]; dQ [4, dhp].
  int64_t floats = 2 * L4 * dh + 2 * dh * Lp + 3 * Lp * dhp + Lp +
                   2 * kQueries * Lp + kQueries * dhp;
  float *Q = packBuffer.get(floats);
  int64_t *limit = limitBuffer.get(std::max<int64_t>(L, 1));
  if (!Q || !limit)
    return false;
  float *dO = Q + L4 * dh, *Kt = dO + L4 * dh, *Vt = Kt + dh * Lp,
        *K = Vt + dh * Lp, *dK = K + Lp * dhp, *dV = dK + Lp * dhp,
        *bias = dV + Lp * dhp, *P = bias + Lp, *dS = P + kQueries * Lp,
        *dQ = dS + kQueries * Lp;

  std::fill(Q, Q + floats, 0.0f);
  for (int64_t i = 0; i < L; ++i) {
    rotate(p, p.q.row(e, r, i) + col, ropePosition(i), Q + i * dh, 1);
    rotate(p, p.k.row(e, r, i) + col, ropePosition(i), K + i * dhp, 1);
    const float *v = p.v.row(e, r, i) + col, *g = p.dOut.row(e, r, i) + col;
    for (int64_t c = 0; c < dh; ++c) {
      Kt[c * Lp + i] = K[i * dhp + c];
      Vt[c * Lp + i] = v[c];
    }
    std::memcpy(dO + i * dh, g, dh * sizeof(float));
  }
  bool maskEachScore = keyMasks(p, r, pos, L, Lp, bias, limit);

  for (int64_t i0 = 0; i0 < L; i0 += kQueries) {
    int64_t queries = std::min(kQueries, L - i0);
    int64_t keyEnd = limit[i0 + queries - 1];
    int64_t padded = roundUp(keyEnd, kLanes);
    for (int64_t j0 = 0; j0 < keyEnd; j0 += kKeys) {
      int64_t vectors = (std::min(kKeys, keyEnd - j0) + kLanes - 1) / kLanes;
      scoreBlock(wide, Q + i0 * dh, dh, Kt + j0, Lp, vectors, P + j0, Lp);
      scoreBlock(wide, dO + i0 * dh, dh, Vt + j0, Lp, vectors, dS + j0, Lp);
    }
    for (int64_t t = 0; t < kQueries; ++t) {
      float *pr = P + t * Lp, *ds = dS + t * Lp;
      int64_t i = i0 + t;
      float rowMax = kMinusInf;
      if (t < queries)
        rowMax = maskScores(p, pr, bias, padded, std::min(limit[i], padded),
                            maskEachScore, pos, L, 0, i);
      if (rowMax == kMinusInf) { // padding rows and fully masked queries
        std::fill(pr, pr + padded, 0.0f);
        std::fill(ds, ds + padded, 0.0f);
        continue;
      }
      float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
      for (int64_t j = 0; j < padded; ++j) {
        float v = expOrZero(pr[j] - rowMax);
        pr[j] = v;
        sum += v;
      }
      float d = 0.0f;
#pragma omp simd reduction(+ : d)
      for (int64_t j = 0; j < padded; ++j) {
        pr[j] = pr[j] / sum;
        d += pr[j] * ds[j];
      }
#pragma omp simd
      for (int64_t j = 0; j < padded; ++j)
        ds[j] = pr[j] * (ds[j] - d);
    }
    std::fill(dQ, dQ + kQueries * dhp, 0.0f);
    valueBlock(dS, keyEnd, K, dhp, dQ, Lp);
    const float *q0 = Q + i0 * dh, *g0 = dO + i0 * dh;
    for (int64_t j = 0; j < keyEnd; ++j) {
      float s0 = dS[j], s1 = dS[Lp + j], s2 = dS[2 * Lp + j],
            s3 = dS[3 * Lp + j];
      float p0 = P[j], p1 = P[Lp + j], p2 = P[2 * Lp + j], p3 = P[3 * Lp + j];
      float *dk = dK + j * dhp, *dv = dV + j * dhp;
#pragma omp simd
      for (int64_t c = 0; c < dh; ++c) {
        dk[c] += s0 * q0[c] + s1 * q0[dh + c] + s2 * q0[2 * dh + c] +
                 s3 * q0[3 * dh + c];
        dv[c] += p0 * g0[c] + p1 * g0[dh + c] + p2 * g0[2 * dh + c] +
                 p3 * g0[3 * dh + c];
      }
    }
    for (int64_t t = 0; t < queries; ++t) {
      int64_t i = i0 + t;
      rotateBack(p, dQ + t * dhp, ropePosition(i), p.scale,
                 p.dq + ((e * p.rows + r) * L + i) * p.width + col);
    }
  }
  for (int64_t j = 0; j < L; ++j) {
    int64_t at = ((e * p.rows + r) * L + j) * p.width + col;
    rotateBack(p, dK + j * dhp, ropePosition(j), p.scale, p.dk + at);
    std::memcpy(p.dv + at, dV + j * dhp, dh * sizeof(float));
  }
  return true;
}

// One task, forward or gradient, compiled per ISA. (The parallel loop stays
// outside them: GCC outlines an `omp parallel` region before inlining, with
// the default ISA.)
using TaskFn = bool (*)(const Problem &, bool gradient, int64_t e, int64_t r,
                        int64_t h);
/// `wide`: the ISA has 32 vector registers for scoreBlock's wide tile.
UOE_INLINE bool attendTask(bool wide, const Problem &p, bool gradient,
                           int64_t e, int64_t r, int64_t h) {
  return gradient ? attendHeadGrad(wide, p, e, r, h)
                  : attendHead(wide, p, e, r, h);
}
__attribute__((target("avx512f,avx2,fma"))) bool
attendAvx512(const Problem &p, bool gradient, int64_t e, int64_t r, int64_t h) {
  return attendTask(true, p, gradient, e, r, h);
}
__attribute__((target("avx2,fma"))) bool
attendAvx2(const Problem &p, bool gradient, int64_t e, int64_t r, int64_t h) {
  return attendTask(false, p, gradient, e, r, h);
}
bool attendGeneric(const Problem &p, bool gradient, int64_t e, int64_t r,
                   int64_t h) {
  return attendTask(false, p, gradient, e, r, h);
}

TaskFn taskFunction() {
  switch (gemmIsa()) {
  case GemmIsa::Avx512:
    return attendAvx512;
  case GemmIsa::Avx2:
    return attendAvx2;
  default:
    return attendGeneric;
  }
}

} // namespace

void uoe::rt::attentionExp(const float *x, float *result, int64_t count) {
  for (int64_t i = 0; i < count; ++i)
    result[i] = expOrZero(x[i]);
}

namespace {

/// Checks `p`, builds its rotary table and runs every (expert, row, head)
/// task, the forward's or (gradient) the backward's; errors are recorded
/// under `name`.
void runAttention(Problem &p, int64_t flags, double ropeBase, bool gradient,
                  const char *name) {
  int64_t maxPosition = 0;
  if (Status status = check(p, flags, name, maxPosition); !status.ok()) {
    recordCpuKernelError(status.message());
    return;
  }
  std::shared_ptr<const RopeTable> table;
  if (p.rope) {
    table =
        ropeTable(p.dh, ropeBase, p.ropeOriginal ? maxPosition + 1 : p.slots);
    p.table = table->values.data();
  }
  int64_t tasks = p.experts * p.rows * p.heads;
  int threads = omp_get_max_threads();
  bool parallel = threads > 1 && tasks > 1 &&
                  tasks * p.slots * p.slots * std::max<int64_t>(1, p.dh) >=
                      (int64_t(1) << 16);
  TaskFn attend = taskFunction();
  bool ok = true;
  int64_t heads = p.heads, rows = p.rows;
#pragma omp parallel for schedule(static) if (parallel) reduction(&& : ok)
  for (int64_t task = 0; task < tasks; ++task) {
    int64_t h = task % heads, er = task / heads;
    ok = attend(p, gradient, er / rows, er % rows, h) && ok;
  }
  if (!ok)
    recordCpuKernelError(strCat(name, ": out of memory"));
}

/// The problem of both entry points (without the gradient's operands).
Problem makeProblem(int64_t flags, int64_t experts, int64_t rows, int64_t slots,
                    int64_t width, int64_t heads, int64_t tokens, double scale,
                    int64_t q, int64_t qStrideE, int64_t qStrideR,
                    int64_t qStrideL, int64_t k, int64_t kStrideE,
                    int64_t kStrideR, int64_t kStrideL, int64_t v,
                    int64_t vStrideE, int64_t vStrideR, int64_t vStrideL,
                    int64_t positions, int64_t posStrideE, int64_t posStrideR,
                    int64_t padding, int64_t padStrideR) {
  auto floats = [](int64_t a) { return reinterpret_cast<const float *>(a); };
  Problem p{};
  p.causal = (flags & kAttentionCausal) != 0;
  p.rope = (flags & (kAttentionRopeCompacted | kAttentionRopeOriginal)) != 0;
  p.ropeOriginal = (flags & kAttentionRopeOriginal) != 0;
  p.experts = experts, p.rows = rows, p.slots = slots, p.width = width;
  p.heads = heads, p.tokens = tokens, p.dh = heads > 0 ? width / heads : 0;
  p.scale = static_cast<float>(scale);
  p.q = {floats(q), qStrideE, qStrideR, qStrideL};
  p.k = {floats(k), kStrideE, kStrideR, kStrideL};
  p.v = {floats(v), vStrideE, vStrideR, vStrideL};
  p.positions = reinterpret_cast<const int64_t *>(positions);
  p.posStrideE = posStrideE, p.posStrideR = posStrideR;
  p.padding = (flags & kAttentionKeyPadding)
                  ? reinterpret_cast<const uint8_t *>(padding)
                  : nullptr;
  p.padStrideR = padStrideR;
  return p;
}

} // namespace

extern "C" void uoe_selective_attention(
    int64_t flags, int64_t experts, int64_t rows, int64_t slots, int64_t width,
    int64_t heads, int64_t tokens, double scale, double ropeBase, int64_t q,
    int64_t qStrideE, int64_t qStrideR, int64_t qStrideL, int64_t k,
    int64_t kStrideE, int64_t kStrideR, int64_t kStrideL, int64_t v,
    int64_t vStrideE, int64_t vStrideR, int64_t vStrideL, int64_t positions,
    int64_t posStrideE, int64_t posStrideR, int64_t padding, int64_t padStrideR,
    int64_t out) {
  Problem p =
      makeProblem(flags, experts, rows, slots, width, heads, tokens, scale, q,
                  qStrideE, qStrideR, qStrideL, k, kStrideE, kStrideR, kStrideL,
                  v, vStrideE, vStrideR, vStrideL, positions, posStrideE,
                  posStrideR, padding, padStrideR);
  p.out = reinterpret_cast<float *>(out);
  runAttention(p, flags, ropeBase, /*gradient=*/false,
               "uoe_selective_attention");
}

extern "C" void uoe_selective_attention_grad(
    int64_t flags, int64_t experts, int64_t rows, int64_t slots, int64_t width,
    int64_t heads, int64_t tokens, double scale, double ropeBase, int64_t q,
    int64_t qStrideE, int64_t qStrideR, int64_t qStrideL, int64_t k,
    int64_t kStrideE, int64_t kStrideR, int64_t kStrideL, int64_t v,
    int64_t vStrideE, int64_t vStrideR, int64_t vStrideL, int64_t positions,
    int64_t posStrideE, int64_t posStrideR, int64_t padding, int64_t padStrideR,
    int64_t dOut, int64_t dStrideE, int64_t dStrideR, int64_t dStrideL,
    int64_t dq, int64_t dk, int64_t dv) {
  Problem p =
      makeProblem(flags, experts, rows, slots, width, heads, tokens, scale, q,
                  qStrideE, qStrideR, qStrideL, k, kStrideE, kStrideR, kStrideL,
                  v, vStrideE, vStrideR, vStrideL, positions, posStrideE,
                  posStrideR, padding, padStrideR);
  p.dOut = {reinterpret_cast<const float *>(dOut), dStrideE, dStrideR,
            dStrideL};
  p.dq = reinterpret_cast<float *>(dq);
  p.dk = reinterpret_cast<float *>(dk);
  p.dv = reinterpret_cast<float *>(dv);
  // `out` is not written by the gradient; the check wants it non-null.
  p.out = p.dq;
  bool empty = experts * rows * slots == 0;
  if (!empty && (!p.dOut.data || !p.dk || !p.dv)) {
    recordCpuKernelError("uoe_selective_attention_grad: null operand");
    return;
  }
  runAttention(p, flags, ropeBase, /*gradient=*/true,
               "uoe_selective_attention_grad");
}
