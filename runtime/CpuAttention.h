//===- CpuAttention.h - fused selective attention on the CPU ----*- C++ -*-===//
//
// The CPU kernel behind `uoe.selective_attention` (docs/SPEC.md §6, "Fused
// attention"): for every (expert, row, head), over the tokens that expert
// selected in that row,
//
//   rotary embedding  applied to q and k while they are packed (the cos/sin
//                     table computed in float64 and rounded once, as the
//                     compiled code computes it);
//   scores            q k^T * scale, a block of 4 queries by 128 keys at a
//                     time, in registers and on the stack;
//   masks             causal by original position and key padding, applied
//                     to the block (keys past a causal query's last visible
//                     key are skipped when the positions ascend);
//   online softmax    a running max and sum per query (no [L, L] score or
//                     probability matrix in memory), then P v into the
//                     query's output accumulator.
//
// A query whose keys are all masked yields zeros, as the unfused softmax.
// The gradient (uoe_selective_attention_grad) recomputes the same scores per
// block of 4 queries (4 rows of L), then P, dS, dq, and adds dk and dv over
// the query blocks in order.
//
// Numerics: each (expert, row, head) is one task computed by one thread in
// a fixed order, so a query's result depends only on its own row's tokens
// (batch-invariant, deterministic, the same for any thread count). The
// exponential is this kernel's own (within 2 ulp of expf); results agree
// with the unfused lowering to float rounding, not bit for bit. On one CPU
// they are reproducible bit for bit; the AVX-512, AVX2 and plain x86-64
// code paths may differ in the last bits (fused multiply-add or not).
//
// The symbol is part of the ABI between the compiler (passes/
// AttentionToCalls.cpp) and the runtime: change both together.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_RUNTIME_CPUATTENTION_H
#define UOE_RUNTIME_CPUATTENTION_H

#include <cstdint>
#include <memory>
#include <vector>

namespace uoe::rt {

/// The rotary table: cos and sin of pos * base^(-2f/dh) for pos < count,
/// f < dh/2, as [count][dh/2][2], computed in float64 and rounded once (the
/// expression of passes/AttentionToLinalg.cpp's ropeTable, so that the
/// tables agree bit for bit). Cached per (dh, base) and never changed once
/// made; `count` may exceed the one asked for.
struct RopeTable {
  int64_t dh;
  double base;
  int64_t count;
  std::vector<float> values;
};

/// The table for (dh, base) with at least `count` positions. Thread-safe.
std::shared_ptr<const RopeTable> ropeTable(int64_t dh, double base,
                                           int64_t count);

/// dst[c * dstStride] for c < dh: the NeoX (rotate-half) rotation of the
/// head `src` (src[c * srcStride]) by the table's row `cosSin` of one
/// position: first half x cos - x' sin, second half x cos + x' sin (x' the
/// partner channel), as the unfused lowering computes them.
inline void rotateHead(const float *cosSin, int64_t dh, const float *src,
                       int64_t srcStride, float *dst, int64_t dstStride) {
  int64_t half = dh / 2;
  for (int64_t f = 0; f < half; ++f) {
    float cos = cosSin[2 * f], sin = cosSin[2 * f + 1];
    float x = src[f * srcStride], partner = src[(f + half) * srcStride];
    dst[f * dstStride] = x * cos - partner * sin;
    dst[(f + half) * dstStride] = partner * cos + x * sin;
  }
}

/// `flags` bits of uoe_selective_attention.
enum AttentionFlags : int64_t {
  kAttentionCausal = 1,        ///< Key j hidden from query i if pos j > pos i.
  kAttentionKeyPadding = 2,    ///< `padding` [rows, tokens] hides keys.
  kAttentionRopeCompacted = 4, ///< Rotary positions 0..slots-1.
  kAttentionRopeOriginal = 8,  ///< Rotary positions `positions`.
};

/// exp(x) for each of `count` values as the kernel computes it (0 for x
/// below about -87.3, so exp(-inf) = 0). Exposed for tests.
void attentionExp(const float *x, float *result, int64_t count);

} // namespace uoe::rt

extern "C" {

/// For every expert e < experts, row r < rows and head h < heads, with
/// dh = width / heads, the head's columns [h*dh, (h+1)*dh) of
/// q, k, v [experts, rows, slots, width] and p_i = positions[e, r, i]:
///
///   q_i, k_i  rotated by the rotary embedding (NeoX rotate-half, base
///             ropeBase) at position i (compacted) or p_i (original)
///   s_ij      = (q_i . k_j) * scale, hidden when causal and p_j > p_i, or
///             when key padding and padding[r, p_j]
///   out[e, r, i, head h] = sum_j softmax_j(s_ij) v_j (zeros when every
///             key of query i is hidden)
///
/// q, k and v have element strides (E, R, slot) each and unit stride along
/// width; positions (int64) strides (E, R, 1); padding (one byte per
/// element, nonzero = padding, 0: none) [rows, tokens] stride padStrideR.
/// `out` is dense [experts, rows, slots, width]. Addresses are passed as
/// integers, as uoe_expert_gemm's.
///
/// A position below 0, or not below `tokens` with key padding, is a
/// compiler or routing bug: the call then writes nothing and records the
/// error for takeCpuBlasError().
void uoe_selective_attention(int64_t flags, int64_t experts, int64_t rows,
                             int64_t slots, int64_t width, int64_t heads,
                             int64_t tokens, double scale, double ropeBase,
                             int64_t q, int64_t qStrideE, int64_t qStrideR,
                             int64_t qStrideL, int64_t k, int64_t kStrideE,
                             int64_t kStrideR, int64_t kStrideL, int64_t v,
                             int64_t vStrideE, int64_t vStrideR,
                             int64_t vStrideL, int64_t positions,
                             int64_t posStrideE, int64_t posStrideR,
                             int64_t padding, int64_t padStrideR, int64_t out);

/// The gradients of uoe_selective_attention for the result's gradient dOut
/// (strides like q's): dq, dk and dv (dense like `out`) with
///
///   P = softmax(s) per query, dP_ij = dOut_i . v_j, D_i = sum_j P_ij dP_ij,
///   dS_ij = P_ij (dP_ij - D_i),
///   dq_i = R_i^T (scale sum_j dS_ij k~_j), dk_j = R_j^T (scale sum_i dS_ij
///   q~_i), dv_j = sum_i P_ij dOut_i
///
/// (q~, k~ rotated; R^T rotates back). Per (expert, row, head) one task
/// recomputes the scores of a block of 4 queries at a time (4 rows of L, never
/// [L, L]) and accumulates dk and dv over the query blocks in order: the
/// same bits for any thread count, a row's gradients from its own row alone.
void uoe_selective_attention_grad(
    int64_t flags, int64_t experts, int64_t rows, int64_t slots, int64_t width,
    int64_t heads, int64_t tokens, double scale, double ropeBase, int64_t q,
    int64_t qStrideE, int64_t qStrideR, int64_t qStrideL, int64_t k,
    int64_t kStrideE, int64_t kStrideR, int64_t kStrideL, int64_t v,
    int64_t vStrideE, int64_t vStrideR, int64_t vStrideL, int64_t positions,
    int64_t posStrideE, int64_t posStrideR, int64_t padding, int64_t padStrideR,
    int64_t dOut, int64_t dStrideE, int64_t dStrideR, int64_t dStrideL,
    int64_t dq, int64_t dk, int64_t dv);

} // extern "C"

#endif // UOE_RUNTIME_CPUATTENTION_H
