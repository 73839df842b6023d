//===- Reference.h - float64 reference of docs/SPEC.md ---------*- C++ -*-===//
//
// A plain, loop-by-loop float64 implementation of every layer of the UoE
// semantics contract (docs/SPEC.md), written from the spec alone. The
// end-to-end numeric tests compare the compiled code against it, so it
// favours obviousness over speed: no blocking, no vectorisation, one loop
// nest per formula, sums in a fixed order.
//
// Contracts shared by every function below:
//  - Tensors are row-major, values are owned (inputs by const reference,
//    results by value); nothing is shared or cached; every function is
//    re-entrant and thread-safe.
//  - Shapes are checked on entry; a bad shape, option or index prints a
//    message naming the function and the numbers and aborts (test-only
//    code: no exceptions, no error values).
//  - Weight layouts are those of the spec: `x W` with `W: [in, out]`, except
//    the router weight `Wg: [E, d]` which is used transposed (`x Wg^T`), and
//    the heads around the blocks, stored `[out, in]` (linearOutIn).
//  - "Stable" means ties are broken by the lower index (spec, notation).
//  - Depends on the C++17 standard library only (no LLVM / MLIR).
//
//===----------------------------------------------------------------------===//

#ifndef UOE_TEST_REFERENCE_REFERENCE_H
#define UOE_TEST_REFERENCE_REFERENCE_H

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace uoe::ref {

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

/// Prints `uoe::ref: <message>` to stderr and aborts.
[[noreturn]] void fail(const std::string &message);

/// Calls fail(message) when `condition` is false. Build the message only in
/// shape checks, never in inner loops.
inline void check(bool condition, const std::string &message) {
  if (!condition)
    fail(message);
}

/// "[2, 3, 4]": a shape for error messages.
std::string shapeToString(const std::vector<int64_t> &shape);

//===----------------------------------------------------------------------===//
// Tensor
//===----------------------------------------------------------------------===//

/// A row-major tensor that owns its values: `data.size()` is always the
/// product of `shape` (1 for rank 0). Members are public; the constructors
/// check the invariant, later edits must keep it.
template <typename T> struct TensorOf {
  std::vector<int64_t> shape;
  std::vector<T> data;

  TensorOf() : data(1) {}
  /// A tensor of `shape` filled with zeros.
  explicit TensorOf(std::vector<int64_t> shape) : shape(std::move(shape)) {
    data.assign(static_cast<size_t>(countOf(this->shape)), T());
  }
  /// A tensor of `shape` filled with `value` (a named factory, so that
  /// `Tensor({3}, {5.0})` is always a list of values, never a fill).
  static TensorOf filled(std::vector<int64_t> shape, T value) {
    TensorOf t(std::move(shape));
    t.data.assign(t.data.size(), value);
    return t;
  }
  /// A tensor of `shape` holding `values` (row-major).
  TensorOf(std::vector<int64_t> shape, std::vector<T> values)
      : shape(std::move(shape)), data(std::move(values)) {
    check(static_cast<int64_t>(data.size()) == countOf(this->shape),
          "tensor of shape " + shapeToString(this->shape) + " given " +
              std::to_string(data.size()) + " values");
  }

  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  /// The size of dimension `i`; negative `i` counts from the end.
  int64_t dim(int64_t i) const {
    int64_t j = i < 0 ? i + rank() : i;
    check(j >= 0 && j < rank(), "dimension " + std::to_string(i) +
                                    " of a rank-" + std::to_string(rank()) +
                                    " tensor");
    return shape[static_cast<size_t>(j)];
  }
  int64_t numel() const { return static_cast<int64_t>(data.size()); }

  /// The flat offset of a full index, bounds-checked.
  int64_t offsetOf(std::initializer_list<int64_t> index) const {
    if (static_cast<int64_t>(index.size()) != rank())
      fail("index of rank " + std::to_string(index.size()) +
           " into a tensor of shape " + shapeToString(shape));
    int64_t offset = 0;
    size_t i = 0;
    for (int64_t v : index) {
      if (v < 0 || v >= shape[i])
        fail("index " + std::to_string(v) + " out of range in dimension " +
             std::to_string(i) + " of shape " + shapeToString(shape));
      offset = offset * shape[i] + v;
      ++i;
    }
    return offset;
  }
  template <typename... Index> T &at(Index... index) {
    return data[static_cast<size_t>(
        offsetOf({static_cast<int64_t>(index)...}))];
  }
  template <typename... Index> const T &at(Index... index) const {
    return data[static_cast<size_t>(
        offsetOf({static_cast<int64_t>(index)...}))];
  }

  /// The product of `shape` (1 for rank 0); rejects negative sizes.
  static int64_t countOf(const std::vector<int64_t> &shape) {
    int64_t count = 1;
    for (int64_t s : shape) {
      if (s < 0)
        fail("negative size in shape " + shapeToString(shape));
      count *= s;
    }
    return count;
  }
};

using Tensor = TensorOf<double>;
/// Positions and expert indices.
using IndexTensor = TensorOf<int64_t>;

/// Uniform values in [-scale, scale) from a fixed generator (splitmix64), so
/// that a seed gives the same tensor on every platform and library.
Tensor randomTensor(std::vector<int64_t> shape, uint64_t seed,
                    double scale = 1.0);
/// max |a - b| over all elements; the shapes must match.
double maxAbsDiff(const Tensor &a, const Tensor &b);

//===----------------------------------------------------------------------===//
// Options (the enums mirror dialect/UoEBase.td)
//===----------------------------------------------------------------------===//

/// Router score function over the expert axis (spec §2).
enum class RouterScore { Softmax, Sigmoid };

/// Activation between the two MLP GEMMs (spec §5). `SwiGlu` consumes a first
/// GEMM output twice the hidden width, laid out `[gate | up]`:
/// `h = silu(gate) * up`, where gate is columns [0, F) and up [F, 2F).
enum class Activation { None, Gelu, GeluTanh, Relu, Silu, SwiGlu };

/// How expert outputs are summed back (spec §5): `Union` w = 1 (reference),
/// `Gated` w = the routing score.
enum class CombineMode { Union, Gated };

/// Positions fed to the rotary embedding (spec §6).
enum class RopeMode { None, Compacted, Original };

/// How SMHA and UoME route (spec §7): `Reference` normalises over axis 0
/// and ranks over the whole tensor; `CausalSafe` lets every token keep its
/// own top-k experts, with no normalisation across tokens, and every expert
/// processes exactly the tokens that chose it.
enum class RoutingMode { Reference, CausalSafe };

//===----------------------------------------------------------------------===//
// Elementwise pieces and norms (spec §5, §6 blocks)
//===----------------------------------------------------------------------===//

/// Exact GELU `x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2))`.
double gelu(double x);
/// `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`.
double geluTanh(double x);
double relu(double x);
/// `x * sigmoid(x)`.
double silu(double x);
double sigmoid(double x);

/// Applies `act` along the last dimension. With SwiGlu the last dimension
/// `2F` is split into `[gate | up]` and the result has `F` columns.
Tensor activate(const Tensor &h, Activation act);

/// Softmax over the last dimension (max-subtracted).
Tensor softmax(const Tensor &x);

/// `x W + b` for `x: [..., K]`, `W: [K, N]`, optional `b: [N]`.
Tensor linear(const Tensor &x, const Tensor &w, const Tensor *b = nullptr);

/// LayerNorm over the last dimension, biased variance:
/// `(x - mean) / sqrt(var + eps) * gamma + beta`.
Tensor layerNorm(const Tensor &x, const Tensor &gamma, const Tensor &beta,
                 double eps = 1e-5);
/// RMSNorm over the last dimension: `x / sqrt(mean(x^2) + eps) * gamma`.
Tensor rmsNorm(const Tensor &x, const Tensor &gamma, double eps = 1e-6);

//===----------------------------------------------------------------------===//
// Routing (spec §2, §3, §4)
//===----------------------------------------------------------------------===//

/// Spec §2: `p = score(x Wg^T + bg)` for `x: [..., d]`, `Wg: [E, d]`,
/// `bg: [E]`; result `[..., E]`.
Tensor router(const Tensor &x, const Tensor &wg, const Tensor &bg,
              RouterScore score = RouterScore::Softmax);

/// Spec §2: for every index of the leading axes of `p: [..., E]`, keeps the
/// `k` largest entries (stable) and zeroes the rest: `s = p * mask`. With
/// `renormalize`, the kept entries are then divided by their sum (token-
/// choice MoE gating; a zero sum leaves them unchanged). `1 <= k <= E`.
Tensor tokenChoice(const Tensor &p, int64_t k, bool renormalize = false);

/// Spec §2 reference normalisation over `axis` (`0 <= axis < rank`):
/// `g = s / (sum_axis(s) + eps) * floor(c * n_axis)`, with `floor(c * n)`
/// evaluated in double precision. `eps >= 0`, `c > 0`.
Tensor normalizeScores(const Tensor &s, int64_t axis, double eps = 1e-6,
                       double c = 1.0);

/// The result of data selection (spec §3).
struct Selection {
  /// `[E, R, L]`: kept patch indices, ascending per (expert, row).
  IndexTensor positions;
  /// `[E, R, L]`: the kept patches' scores (mean of their tokens' scores),
  /// in the order of `positions`; the gated combine's weights.
  Tensor scores;
  int64_t length() const { return positions.dim(2); }
};

/// Spec §3: expert-choice patch selection on `scores: [R, N, E]` with patches
/// of `patch` consecutive tokens. `patch` must divide `N` (rejected
/// otherwise: the spec has no partial patch). With `capacity`,
/// `L = floor(capacity * (N / patch))`, which must lie in [1, N / patch];
/// without (dynamic), `L` is the largest number of strictly positive patch
/// scores over all (expert, row) pairs (0 when there is none). Per (expert,
/// row) the `L` largest patch scores are kept, ties to the lower index, and
/// the kept indices are then sorted ascending.
Selection dataSelect(const Tensor &scores, int64_t patch,
                     std::optional<double> capacity);

/// The result of expert selection (spec §4).
struct ExpertChoice {
  /// `[..., k]`: expert indices, by descending probability, ties to the
  /// lower index.
  IndexTensor experts;
  /// `[..., k]`: their probabilities (renormalised to sum to 1 when asked).
  Tensor weights;
};

/// Spec §4: for every index of the leading axes of `p: [..., E]`, the `k`
/// experts with the largest probability (stable). `1 <= k <= E`.
ExpertChoice expertSelect(const Tensor &p, int64_t k, bool renormalize = false);

/// Spec §3: `Xs[e, r, j*P + t, :] = x[r, pos[e, r, j]*P + t, :]` for
/// `x: [R, N, d]`, `positions: [E, R, L]`; result `[E, R, L*P, d]`.
Tensor dispatch(const Tensor &x, const IndexTensor &positions, int64_t patch);

/// Spec §5: into zeros `[R, N, d]`,
/// `out[r, pos[e,r,j]*P + t, :] += w * Y[e, r, j*P + t, :]`, experts in
/// order 0..E-1, then rows, then j. `w = 1` without `weights` (union) and
/// `w = weights[e, r, j]` with `weights: [E, R, L]` (gated).
Tensor combine(const Tensor &y, const IndexTensor &positions, int64_t patch,
               int64_t n, const Tensor *weights = nullptr);

//===----------------------------------------------------------------------===//
// MLP layers (spec §1, §5, §6, §8)
//===----------------------------------------------------------------------===//

/// `act(x W1 + b1) W2 + b2` for `x: [..., d]`, `W1: [d, F1]`, `b1: [F1]`,
/// `W2: [F, d]`, `b2: [d]`; `F1 = F`, or `2F` laid out `[gate | up]` with
/// SwiGlu.
Tensor denseMlp(const Tensor &x, const Tensor &w1, const Tensor &b1,
                const Tensor &w2, const Tensor &b2,
                Activation act = Activation::Gelu);

/// One GEMM per expert: `result[e] = act(lhs[e] rhs[e] + bias[e])` for
/// `lhs: [E, ..., M, K]`, `rhs: [E, K, N]`, optional `bias: [E, N]`; result
/// `[E, ..., M, N]` (`N / 2` with SwiGlu).
Tensor expertMatmul(const Tensor &lhs, const Tensor &rhs,
                    const Tensor *bias = nullptr,
                    Activation act = Activation::None);

/// Options of the UoME layer (spec §6). Defaults are the spec's reference
/// behaviour; `kTok` has none and must be set.
struct UomeOptions {
  /// Experts kept per token by the token-choice mask, 1..E (required).
  int64_t kTok = 0;
  /// Static selection capacity: `L = floor(capacity * N1 / patch)`.
  double capacity = 0.5;
  /// Patch size `P` along axis 1; must divide N1.
  int64_t patch = 1;
  Activation act = Activation::Gelu;
  /// Union for imported authors' models (reference); Gated weights every
  /// expert output (bias included) by its selected patch score.
  CombineMode combine = CombineMode::Union;
  RouterScore score = RouterScore::Softmax;
  /// Normalisation eps and capacity `c` of spec §2.
  double eps = 1e-6;
  double normCapacity = 1.0;
  /// `b2s` is one bias `[d]` added once after the combine (neither gated
  /// nor counted per expert) instead of `[E, d]` per expert: spec §1's
  /// "after the combine" placement of a decomposed layer's bias.
  bool sharedOutputBias = false;
  /// CausalSafe: every token sums its `kTok` experts' outputs (w = 1, or its
  /// probability when Gated); `capacity`, `eps`, `normCapacity` are unused
  /// and `patch` must be 1.
  RoutingMode routing = RoutingMode::Reference;
};

/// Spec §6 UoME on `x: [N0, N1, d]`: router, token-choice mask (`kTok`),
/// normalisation over axis 0, selection along axis 1 with static `L`,
/// experts `Y_e = act(Xs_e W1s_e + b1s_e) W2s_e + b2s_e` and the combine of
/// §5. Weights: `W1s: [E, d, F1]`, `b1s: [E, F1]` (`F1 = Fe`, or `2Fe` as
/// `[gate | up]` per expert with SwiGlu), `W2s: [E, Fe, d]`, `b2s: [E, d]`
/// (each expert's own bias, added once per expert that processed a token),
/// or `[d]` with `sharedOutputBias`.
Tensor uome(const Tensor &x, const Tensor &wg, const Tensor &bg,
            const Tensor &w1s, const Tensor &b1s, const Tensor &w2s,
            const Tensor &b2s, const UomeOptions &options);

/// Options of the token-choice MoE layer (spec §4, §8).
struct MoeOptions {
  /// Experts per token, 1..E (required).
  int64_t kTok = 0;
  /// Divide the selected probabilities by their sum (Mixtral).
  bool renormalize = false;
  /// Gated (Switch / Mixtral, the default here): w = the (renormalised)
  /// probability; Union: w = 1 (spec §4 reference mode).
  CombineMode combine = CombineMode::Gated;
  Activation act = Activation::Gelu;
  RouterScore score = RouterScore::Softmax;
};

/// Token-choice top-k MoE on `x: [..., d]`: every token sums
/// `w_e * (act(x W1s_e + b1s_e) W2s_e + b2s_e)` over its `kTok` selected
/// experts (expertSelect), in expert order 0..E-1. Weights as in uome().
Tensor moe(const Tensor &x, const Tensor &wg, const Tensor &bg,
           const Tensor &w1s, const Tensor &b1s, const Tensor &w2s,
           const Tensor &b2s, const MoeOptions &options);

/// The stacked expert weights of a UoME / MoE layer.
struct ExpertMlpWeights {
  Tensor w1s, b1s, w2s, b2s;
};

/// Spec §1 equitant decomposition of a dense MLP into `E` experts of width
/// `Fe = F / E` (with SwiGlu each expert gets its slices of both halves,
/// `[gate_e | up_e]`). `b2` goes to expert 0 and the other experts get zero
/// output biases, so that UoME with every expert on every token is exact;
/// with `sharedBias`, `b2s` is `b2` itself (`[d]`, for sharedOutputBias).
ExpertMlpWeights splitMlp(const Tensor &w1, const Tensor &b1, const Tensor &w2,
                          const Tensor &b2, int64_t numExperts, Activation act,
                          bool sharedBias = false);

//===----------------------------------------------------------------------===//
// Attention layers (spec §1, §6)
//===----------------------------------------------------------------------===//

/// Rotates one head vector `v[0..dh)` in place, NeoX rotate-half: for
/// `i < dh/2`, `theta = pos * base^(-2i/dh)`,
/// `(v[i], v[i+dh/2]) <- (v[i] cos - v[i+dh/2] sin, v[i+dh/2] cos + v[i] sin)`.
/// `dh` must be even.
void applyRope(double *v, int64_t dh, double position, double base = 10000.0);

/// Options of dense multi-head attention.
struct AttentionOptions {
  /// Number of heads `H`; must divide the projection width `D`.
  int64_t heads = 1;
  /// Key `j` is masked for query `i` when `j > i`.
  bool causal = false;
  /// None or Original (positions 0..T-1); Compacted is rejected, as a dense
  /// layer has no compacted order.
  RopeMode rope = RopeMode::None;
  double ropeBase = 10000.0;
};

/// Dense multi-head attention on `x: [B, T, d]`: `q = x Wq + bq` (likewise
/// k, v) with `Wq, Wk, Wv: [d, D]`, `bq, bk, bv: [D]` (`D = d` for a usual
/// layer), `H` heads of width `dh = D / H`, scores `q k^T / sqrt(dh)`,
/// causal and key-padding masks (`keyPadding: [B, T]`, nonzero = padded,
/// ignored as a key), softmax over keys (a query whose keys are all masked
/// gets o = 0), `o = P v`, result `o Wo + bo` with `Wo: [D, d]`, `bo: [d]`.
Tensor attention(const Tensor &x, const Tensor &wq, const Tensor &wk,
                 const Tensor &wv, const Tensor &bq, const Tensor &bk,
                 const Tensor &bv, const Tensor &wo, const Tensor &bo,
                 const AttentionOptions &options,
                 const Tensor *keyPadding = nullptr);

/// Options of attention over selected tokens.
struct SelectiveAttentionOptions {
  /// Heads per expert; must divide the per-expert width `D`.
  int64_t heads = 1;
  bool causal = false;
  RopeMode rope = RopeMode::None;
  double ropeBase = 10000.0;
  /// Score scale; `1 / sqrt(dh)` when unset.
  std::optional<double> scale;
};

/// Spec §6, the attention step of SMHA: `q, k, v: [E, B, L, D]` are the
/// projections of the tokens expert `e` selected in row `b` (ascending
/// original order) and `positions: [E, B, L]` their original indices. Per
/// expert, row and head: rotary embedding with positions `0..L-1`
/// (Compacted) or `positions` (Original); scores `q k^T * scale`; with
/// `causal`, key j is masked for query i when `positions[j] > positions[i]`;
/// with `keyPadding: [B, T]`, key j is masked when
/// `keyPadding[b, positions[j]] != 0`; softmax over the keys (all masked:
/// the row of P is zero, so o = 0); result `P v`, `[E, B, L, D]`.
Tensor selectiveAttention(const Tensor &q, const Tensor &k, const Tensor &v,
                          const IndexTensor &positions,
                          const SelectiveAttentionOptions &options,
                          const Tensor *keyPadding = nullptr);

/// Options of the SMHA layer (spec §6). Defaults are the spec's reference
/// behaviour; `heads` and `kTok` have none and must be set.
struct SmhaOptions {
  /// Total heads `H`; `E` must divide `H` (each expert owns `H / E` heads
  /// of width `dh = d / H`).
  int64_t heads = 0;
  /// Head groups kept per token, 1..E (required; the spec's default is
  /// E / 2, i.e. H / 2 with one head per expert).
  int64_t kTok = 0;
  bool causal = false;
  /// Compacted is the reference mode, Original the corrected one.
  RopeMode rope = RopeMode::None;
  double ropeBase = 10000.0;
  CombineMode combine = CombineMode::Union;
  RouterScore score = RouterScore::Softmax;
  double eps = 1e-6;
  double normCapacity = 1.0;
  /// `bo` is one bias `[d]` added once after the combine (as
  /// UomeOptions::sharedOutputBias).
  bool sharedOutputBias = false;
  /// CausalSafe (spec §7): each token keeps its `kTok` experts by its own
  /// probability; expert e attends over exactly the tokens that chose it
  /// (causal by original position, key padding); every token sums its
  /// experts' outputs with w = 1 (Union) or its probability (Gated).
  /// `eps`, `normCapacity` are unused; `rope` must not be Compacted.
  RoutingMode routing = RoutingMode::Reference;
};

/// Spec §6 SMHA on `x: [B, T, d]`: router, token-choice mask, normalisation
/// over axis 0 (the batch), dynamic selection along T (patch 1), per expert
/// `q, k, v = Xs_e W*_e + b*_e` on its selected tokens only,
/// selectiveAttention() with `H / E` heads, `Y_e = o Wo_e + bo_e`, combine
/// of §5 (gated: w = the selected normalised score). Weights: `Wq, Wk, Wv:
/// [E, d, De]`, `bq, bk, bv: [E, De]`, `Wo: [E, De, d]`, `bo: [E, d]`,
/// `De = d / E` (`bo: [d]` with sharedOutputBias); `keyPadding: [B, T]`,
/// nonzero = padded.
Tensor smha(const Tensor &x, const Tensor &wg, const Tensor &bg,
            const Tensor &wq, const Tensor &wk, const Tensor &wv,
            const Tensor &bq, const Tensor &bk, const Tensor &bv,
            const Tensor &wo, const Tensor &bo, const SmhaOptions &options,
            const Tensor *keyPadding = nullptr);

/// The stacked head-group weights of an SMHA layer.
struct ExpertAttentionWeights {
  Tensor wq, wk, wv, bq, bk, bv, wo, bo;
};

/// Spec §1 decomposition of dense attention (`Wq, Wk, Wv, Wo: [d, d]`,
/// biases `[d]`, `heads` heads) into `E` head groups: expert e owns column
/// block e of `Wq, Wk, Wv` (and of their biases) and row block e of `Wo`,
/// `De = d / E`; `bo` goes to expert 0, zeros to the others (with
/// `sharedBias`: `bo` itself, `[d]`, for sharedOutputBias).
ExpertAttentionWeights splitAttention(const Tensor &wq, const Tensor &wk,
                                      const Tensor &wv, const Tensor &bq,
                                      const Tensor &bk, const Tensor &bv,
                                      const Tensor &wo, const Tensor &bo,
                                      int64_t numExperts, int64_t heads,
                                      bool sharedBias = false);

//===----------------------------------------------------------------------===//
// Blocks (spec §6)
//===----------------------------------------------------------------------===//

using Layer = std::function<Tensor(const Tensor &)>;

/// Post-LayerNorm block `LN(x + layer(x))` (authors' language model).
Tensor postLnBlock(const Tensor &x, const Layer &layer, const Tensor &gamma,
                   const Tensor &beta, double eps = 1e-5);
/// Pre-RMSNorm block `x + layer(RMSNorm(x))` (authors' LRA model).
Tensor preRmsBlock(const Tensor &x, const Layer &layer, const Tensor &gamma,
                   double eps = 1e-6);
/// Pre-LayerNorm block `x + layer(LN(x))` (GPT-2).
Tensor preLnBlock(const Tensor &x, const Layer &layer, const Tensor &gamma,
                  const Tensor &beta, double eps = 1e-5);

/// `x + bias` for `x: [..., d]`, `bias: [d]` (a shared output bias).
Tensor addBias(Tensor x, const Tensor &bias);

//===----------------------------------------------------------------------===//
// The model around the blocks (docs/MODEL_FORMAT.md)
//===----------------------------------------------------------------------===//

/// Token embedding (`uoe.embedding`): for `ids: [..., T]` and `table:
/// [V, d]`, `result[..., t, :] = table[clamp(ids[..., t], 0, V - 1), :]`
/// plus `positions[t, :]` when `positions: [P, d]` (`P >= T`) is given.
/// Result `[..., T, d]`.
Tensor embedding(const IndexTensor &ids, const Tensor &table,
                 const Tensor *positions = nullptr);

/// Token-type (segment) embeddings, BERT's: `x[..., t, :] +=
/// table[clamp(types[..., t], 0, N - 1), :]` for `x: [..., T, d]`, `types`
/// of `x`'s leading shape and `table: [N, d]`.
Tensor addTokenTypes(Tensor x, const IndexTensor &types, const Tensor &table);

/// The mean over tokens of `x: [B, T, d]` (sum in order of t, then / T):
/// what a classifier head reads. Result `[B, d]`.
Tensor meanOverTokens(const Tensor &x);

/// `x W^T + b` for `x: [..., K]`, `W: [N, K]` (stored `[out, in]`, as the
/// LM head, the classifier and a tied embedding table are), optional
/// `b: [N]`; result `[..., N]`.
Tensor linearOutIn(const Tensor &x, const Tensor &w, const Tensor *b = nullptr);

} // namespace uoe::ref

#endif // UOE_TEST_REFERENCE_REFERENCE_H
