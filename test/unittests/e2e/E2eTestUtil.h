//===- E2eTestUtil.h - shared pieces of the end-to-end tests ----*- C++ -*-===//
//
// Conversions between the float64 reference's tensors and the harness's
// host buffers, random f32 inputs that both sides see bit for bit, the
// comparison (and its tolerance) every numeric test uses, MLIR type
// spelling, and the margin check that tells a genuine selection mismatch
// from a near-tie that f32 rounding may legitimately break either way.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_TEST_UNITTESTS_E2E_E2ETESTUTIL_H
#define UOE_TEST_UNITTESTS_E2E_E2ETESTUTIL_H

#include "CompileHarness.h"

#include "frontend/ModelParameters.h"
#include "runtime/Program.h"

#include "test/reference/Reference.h"

#include "gtest/gtest.h"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace uoe::e2e {

/// The tolerance of every f32-vs-float64 comparison: the compiled result
/// `got` matches the reference `want` when
///
///   max_i |got_i - want_i| <= kRelTol * max(1, max_i |want_i|)
///
/// i.e. a relative error of 1e-5 in the max norm, measured against the
/// largest reference value (an absolute floor of 1e-5 for tensors whose
/// values are all below 1). NaN or Inf anywhere fails.
inline constexpr double kRelTol = 1e-5;

/// `tensor<2x37x48xf32>`; -1 prints `?`.
std::string tensorType(const std::vector<int64_t> &shape,
                       const std::string &element = "f32");

/// Replaces every `${name}` in `text` by `vars[name]` (MLIR templates).
std::string fill(std::string text,
                 const std::map<std::string, std::string> &vars);

/// Uniform values in [-scale, scale) (ref::randomTensor), rounded to f32 so
/// that the reference and the compiled code see the same numbers.
ref::Tensor randomF32(std::vector<int64_t> shape, uint64_t seed,
                      double scale = 1.0);

/// Uniform values in [lo, hi), rounded to f32 (router-like probabilities
/// with lo > 0).
ref::Tensor uniformF32(std::vector<int64_t> shape, uint64_t seed, double lo,
                       double hi);

/// Values `k / 8` with `k` uniform in [0, levels): few distinct values, so
/// many exact ties, and every sum of a few of them exact in f32.
ref::Tensor quantizedScores(std::vector<int64_t> shape, uint64_t seed,
                            int levels);

/// Random weights for a layer with `fanIn` inputs: uniform in
/// [-2/sqrt(fanIn), 2/sqrt(fanIn)), so that activations stay of order 1.
ref::Tensor randomWeight(std::vector<int64_t> shape, uint64_t seed,
                         int64_t fanIn);

/// The seed of the `k`-th random tensor a test case draws for `seed`.
inline uint64_t subSeed(uint64_t seed, uint64_t k) { return seed * 1000 + k; }

/// Random weights for every parameter of `model` (modelParameters order,
/// sub-seeds of `seed`): norm gains around 1 (+-0.2), everything else
/// uniform in +-0.5, as host tensors to bind.
rt::NamedTensors randomModelWeights(const ::uoe::model::Model &model,
                                    uint64_t seed);

/// The router and expert MLP weights of a UoME or MoE layer with `e`
/// experts on width `d`: `wg: [e, d]`, `bg: [e]`, `w1: [e, d, f1]`,
/// `b1: [e, f1]`, `w2: [e, fe, d]`, `b2: [e, d]` (`f1 = 2 fe` for SwiGLU,
/// `fe` otherwise).
struct ExpertLayerWeights {
  ref::Tensor wg, bg, w1, b1, w2, b2;

  /// Host buffers of `x` and then of these weights, in the operand order
  /// of `uoe.uome` and `uoe.moe`.
  std::vector<HostBuffer> buffers(const ref::Tensor &x) const;
};

/// Random ExpertLayerWeights, drawn in the order of the fields with the
/// sub-seeds subSeed(seed, 1) to subSeed(seed, 6) (0 is the input's): the
/// router by randomWeight with fan-in `d / 4` (scores spread enough that
/// most routing decisions are clear), `w1` and `w2` with fan-ins `d` and
/// `fe`, the biases by randomF32 with scale 0.5.
ExpertLayerWeights randomExpertWeights(int64_t e, int64_t d, int64_t fe,
                                       int64_t f1, uint64_t seed);

/// A random key padding mask `[b, t]` (1 = padded): the keys whose
/// ref::randomTensor value (uniform in [-1, 1)) is below `below`, i.e.
/// about a fraction `(1 + below) / 2` of them.
ref::Tensor randomPadding(int64_t b, int64_t t, uint64_t seed, double below);

/// `t[i]` along the first dimension.
ref::Tensor sliceFirst(const ref::Tensor &t, int64_t i);
/// Stacks equally shaped tensors along a new first dimension.
ref::Tensor stack(const std::vector<ref::Tensor> &parts);
/// `[A, B, ...] -> [B, A, ...]`.
ref::Tensor swapFirstTwo(const ref::Tensor &t);

/// The query, key and value parts of stacked projections `wqkv: [3, ...]`
/// and `bqkv: [3, ...]`.
struct QkvWeights {
  ref::Tensor wq, wk, wv, bq, bk, bv;
};
/// Slices `wqkv` and `bqkv` along their first dimension.
QkvWeights splitQkv(const ref::Tensor &wqkv, const ref::Tensor &bqkv);

/// Reference tensor -> f32 host buffer (rounding each value).
HostBuffer toBuffer(const ref::Tensor &t);
/// Index tensor -> i64 host buffer.
HostBuffer toBuffer(const ref::IndexTensor &t);
/// Nonzero -> 1, as an i1 host buffer (key padding masks).
HostBuffer toMask(const ref::Tensor &t);
/// f32 host buffer -> reference tensor.
ref::Tensor toTensor(const HostBuffer &b);
/// i64 host buffer -> index tensor.
ref::IndexTensor toIndexTensor(const HostBuffer &b);

/// The comparison of kRelTol, as a gtest assertion with the worst element.
::testing::AssertionResult allClose(const HostBuffer &got,
                                    const ref::Tensor &want,
                                    double relTol = kRelTol);
/// Exact equality of shapes and values (selection indices).
::testing::AssertionResult allEqual(const HostBuffer &got,
                                    const ref::IndexTensor &want);

/// The relative gap at the decision boundary of a stable top-k of `k` out
/// of `row[0..n)`: `(a - b) / max(|a|, |b|)` for `a` the k-th and `b` the
/// (k+1)-th largest value; infinity when `k == n`, or when `a == b`
/// exactly at zero (ties of masked scores are exact in every precision).
double topKMargin(const double *row, int64_t n, int64_t k);

/// The smallest topKMargin of the routing of a UoME / SMHA layer on `x`:
/// over the token-choice of every token and the data selection of every
/// (expert, row), for static (`capacity`) or dynamic selection. A result
/// below about 1e-5 means that f32 rounding may pick the other side of a
/// near-tie, so that the seed does not test anything; tests assert it is
/// above kMinMargin.
double routingMargin(const ref::Tensor &x, const ref::Tensor &wg,
                     const ref::Tensor &bg, ref::RouterScore score,
                     int64_t kTok, double eps, double normCapacity,
                     int64_t patch, std::optional<double> capacity);
inline constexpr double kMinMargin = 1e-4;

/// Compiles `source` (function @name) once, failing the test on an error,
/// with the object emitter's default options (uoe-run's: the host CPU at
/// its default optimisation level), or at `optLevel` when given. Modules
/// whose compile alone would take seconds at the default level (attention
/// over T = 37 tokens: LLVM vectorises its gathers into tens of thousands
/// of instructions) use -O1; the default level is then covered by the
/// model tests (compileModel).
std::unique_ptr<CompiledFunction>
compileOrFail(const std::string &source, const std::string &name,
              std::optional<unsigned> optLevel = std::nullopt);

/// How many seeds every numeric test runs, and how many it may try.
inline constexpr int kSeedCount = 3;
inline constexpr uint64_t kMaxSeed = 12;

/// Calls `run(seed)` for seeds 1, 2, ... until kSeedCount of them ran;
/// `run` returns false when it skipped the seed because the reference puts
/// one of its routing decisions on a near-tie (margin below kMinMargin,
/// computed from the reference alone). Fails the test when fewer than
/// kSeedCount of the first kMaxSeed seeds are usable, and stops early when
/// the test has failed.
void forSeeds(const std::function<bool(uint64_t seed)> &run);

/// Calls `fn`, failing the test if the call is rejected or returns the
/// wrong number of results.
std::vector<HostBuffer> callOrFail(CompiledFunction &fn,
                                   std::vector<HostBuffer> args);

} // namespace uoe::e2e

#endif // UOE_TEST_UNITTESTS_E2E_E2ETESTUTIL_H
