//===- CpuExpertGemm.h - expert GEMMs fused with selection ------*- C++ -*-===//
//
// The CPU kernel behind `uoe.expert_gemm` (docs/SPEC.md §5, "Fused expert
// GEMMs"): one GEMM per expert whose rows are the tokens that expert
// selected, with the selection fused in:
//
//   prologue  the gather of the selected rows happens in the GEMM's packing
//             (GemmOperand::rows): no dispatched [E, R, L, K] copy;
//   epilogue  bias and activation on each tile while it is in cache;
//   combine   optionally, the ordered scatter-add into [R, N, width]:
//             y[r, token] += w * v, experts in order 0..E-1, slots in order,
//             on the tile just computed: no [E, R, L, width] expert output.
//
// Numerics: every product is the runtime's GEMM (CpuGemm.h), so a row's
// result depends on that row alone (batch-invariant, deterministic, the
// same for any thread count); the combine gives each output element to one
// thread, which adds the experts in order. `none`, `relu` and `gelu` give
// the bits of the compiled code (GELU runs the compiled erf polynomial
// operation for operation); the exp-based activations are this kernel's own
// (within 2e-6 of the exact functions), so the compiler fuses only the
// former (passes/FuseSelection.cpp) and the others serve other callers.
//
// The symbol is part of the ABI between the compiler (passes/
// ExpertGemmToCalls.cpp) and the runtime: change both together.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_RUNTIME_CPUEXPERTGEMM_H
#define UOE_RUNTIME_CPUEXPERTGEMM_H

#include <cstdint>

namespace uoe::rt {

/// `flags` bits of uoe_expert_gemm.
enum ExpertGemmFlags : int64_t {
  kExpertGemmGather = 1,  ///< A is x [R, N, K], rows chosen by positions.
  kExpertGemmCombine = 2, ///< out is y [R, N, width], scatter-added.
  kExpertGemmBf16 = 4,    ///< bf16 products, f32 sums (bf16GemmSingleThread).
  /// W is stored transposed, [experts, n, k] (strides wStrideE, wStrideK
  /// then name its expert and row strides): the product is a * W[e]^T, as
  /// a backward pass's `dy W^T` reads the forward's weights.
  kExpertGemmTransposedW = 8,
};

/// The activations, numbered as the dialect's Activation enum.
enum class ExpertActivation : int64_t {
  None = 0,
  Gelu = 1,     ///< 0.5 x (1 + erf(x / sqrt 2)), erf as compiled code's.
  GeluTanh = 2, ///< x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
  Relu = 3,
  Silu = 4,   ///< x / (1 + exp(-x)).
  SwiGlu = 5, ///< silu(gate) * up over the [gate | up] column halves.
};

/// Applies `act` in place to `count` values (not SwiGlu). Exposed for tests.
void applyExpertActivation(ExpertActivation act, float *values, int64_t count);

} // namespace uoe::rt

extern "C" {

/// For every expert e < experts, row r < rows and slot i < slots * patch
/// (the M = slots * patch GEMM rows of (e, r)):
///
///   a_i = gather ? x[r, positions[e, r, i / patch] * patch + i % patch, :]
///                : lhs[e, r, i, :]                            (K values)
///   v   = act(a_i * W[e] + bias[e])                           (width values)
///   combine: out[r, positions[e, r, i / patch] * patch + i % patch, :]
///              += (weights ? weights[e, r, i / patch] : 1) * v
///            (out starts at zero; experts and slots in order)
///   else:    out[e, r, i, :] = v
///
/// `n` is the GEMM's width; width = n / 2 for SwiGLU, else n. `a` holds x
/// [rows, tokens, k] (gather) or lhs [experts, rows, M, k], with element
/// strides aStrideE (lhs only), aStrideR and aStrideM and unit stride along
/// k. `w` is [experts, k, n] with strides wStrideE, wStrideK (with
/// kExpertGemmTransposedW: [experts, n, k], wStrideK the stride of its n
/// rows, unit stride along k); `bias` (0:
/// none) [experts, n] with stride biasStrideE. `positions` (int64) and
/// `weights` (f32, 0: none) are [experts, rows, slots] with strides
/// (posStrideE, posStrideR, 1) and (wtStrideE, wtStrideR, 1). `out` is
/// dense: [rows, tokens, width] with combine, else [experts, rows, M,
/// width]. Addresses are passed as integers, as uoe_sgemm_batched's.
///
/// A position outside [0, tokens / patch) is a compiler or routing bug: the
/// call then reads and writes nothing for that slot and records the error
/// for takeCpuBlasError().
void uoe_expert_gemm(int64_t flags, int64_t activation, int64_t experts,
                     int64_t rows, int64_t slots, int64_t patch, int64_t tokens,
                     int64_t k, int64_t n, int64_t a, int64_t aStrideE,
                     int64_t aStrideR, int64_t aStrideM, int64_t w,
                     int64_t wStrideE, int64_t wStrideK, int64_t bias,
                     int64_t biasStrideE, int64_t positions, int64_t posStrideE,
                     int64_t posStrideR, int64_t weights, int64_t wtStrideE,
                     int64_t wtStrideR, int64_t out);

} // extern "C"

#endif // UOE_RUNTIME_CPUEXPERTGEMM_H
