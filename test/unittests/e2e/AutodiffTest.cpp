//===- AutodiffTest.cpp - gradient checks of --uoe-autodiff --------------===//
//
// For every layer (and a few chains of upstream ops), `@f_grad` built by
// `--uoe-autodiff` and compiled for the CPU agrees with central finite
// differences of the compiled `@f`, in float64: for the objective
// `L = <w, f(args)>` with a random cotangent `w`, and a random direction `v`
// per float argument, `<dL/da, v>` must equal `(L(a + h v) - L(a - h v)) / 2h`
// to 1e-6 relative (the finite difference's own error is about 1e-9 at
// h = 1e-5). Routing decisions are piecewise constant: random continuous
// inputs keep them away from ties, so that the perturbation never flips a
// selection, and in union mode the router's gradient must be exactly zero
// (the spec: the router receives no gradient).
//
//===----------------------------------------------------------------------===//

#include "E2eTestUtil.h"

#include "passes/Passes.h"

#include <cmath>
#include <map>
#include <random>

using namespace uoe::e2e;

namespace {

/// `tensor<2x3xf64>`.
std::string t64(const std::vector<int64_t> &shape,
                const std::string &elt = "f64") {
  return tensorType(shape, elt);
}

/// Runs `--uoe-autodiff=function=<function>` on `source`; returns the
/// module's text, or an empty string with the diagnostics in `*error`.
std::string differentiate(const std::string &source,
                          const std::string &function, std::string *error) {
  return transformModule(
      source,
      [&](mlir::OpPassManager &pm) {
        mlir::uoe::UoEAutodiffPassOptions options;
        options.function = function;
        pm.addPass(mlir::uoe::createUoEAutodiffPass(options));
      },
      error);
}

HostBuffer randomF64(const std::vector<int64_t> &shape, std::mt19937_64 &rng,
                     double scale = 1.0) {
  std::uniform_real_distribution<double> dist(-scale, scale);
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  std::vector<double> v(static_cast<size_t>(n));
  for (double &x : v)
    x = dist(rng);
  return HostBuffer::ofF64(shape, std::move(v));
}

double dot(const HostBuffer &a, const HostBuffer &b) {
  double s = 0;
  for (size_t i = 0; i < a.f64.size(); ++i)
    s += a.f64[i] * b.f64[i];
  return s;
}

/// One gradient check: `source` defines `@f` (f64 floats, with
/// llvm.emit_c_interface); `args` are its arguments. `zeroGrad` lists the
/// arguments whose gradient must be exactly zero.
void checkGradients(const std::string &source, std::vector<HostBuffer> args,
                    uint64_t seed, std::vector<size_t> zeroGrad = {}) {
  std::string error;
  std::string differentiated = differentiate(source, "f", &error);
  ASSERT_FALSE(differentiated.empty()) << error;
  auto f = compileFunction(differentiated, "f", &error);
  ASSERT_TRUE(f) << error;
  auto grad = compileFunction(differentiated, "f_grad", &error);
  ASSERT_TRUE(grad) << error;

  std::mt19937_64 rng(seed * 7919 + 1);
  std::vector<HostBuffer> y = f->call(args, &error);
  ASSERT_FALSE(y.empty()) << error;
  ASSERT_EQ(y.size(), 1u);
  HostBuffer w = randomF64(y[0].shape, rng);

  // @f_grad(inputs..., w, params...): the seed goes before the first
  // parameter. The test sources name their inputs `%in_*` and give every
  // parameter an attribute dictionary, so the inputs are the `%in_`
  // arguments before the first `{`.
  size_t firstParam = 0;
  size_t at = source.find("func.func @f(");
  for (size_t i = at; i < source.size() && source[i] != '{'; ++i)
    if (source.compare(i, 4, "%in_") == 0)
      ++firstParam;
  std::vector<HostBuffer> gradArgs;
  for (size_t i = 0; i < firstParam; ++i)
    gradArgs.push_back(args[i]);
  gradArgs.push_back(w);
  for (size_t i = firstParam; i < args.size(); ++i)
    gradArgs.push_back(args[i]);
  std::vector<HostBuffer> out = grad->call(gradArgs, &error);
  ASSERT_FALSE(out.empty()) << error;

  // The forward result of @f_grad is @f's.
  ASSERT_EQ(out[0].f64, y[0].f64);

  // One gradient per float argument, in order.
  size_t g = 1;
  const double h = 1e-5;
  for (size_t a = 0; a < args.size(); ++a) {
    if (args[a].kind != ElementKind::F64)
      continue;
    ASSERT_LT(g, out.size());
    const HostBuffer &gradient = out[g++];
    ASSERT_EQ(gradient.shape, args[a].shape) << "argument " << a;
    if (std::find(zeroGrad.begin(), zeroGrad.end(), a) != zeroGrad.end()) {
      for (double x : gradient.f64)
        ASSERT_EQ(x, 0.0) << "argument " << a << " must get no gradient";
      continue;
    }
    HostBuffer v = randomF64(args[a].shape, rng);
    auto objective = [&](double sign) {
      std::vector<HostBuffer> shifted = args;
      for (size_t i = 0; i < v.f64.size(); ++i)
        shifted[a].f64[i] += sign * h * v.f64[i];
      std::vector<HostBuffer> r = f->call(shifted, &error);
      EXPECT_FALSE(r.empty()) << error;
      return r.empty() ? 0.0 : dot(w, r[0]);
    };
    double fd = (objective(1.0) - objective(-1.0)) / (2 * h);
    double analytic = dot(gradient, v);
    EXPECT_NEAR(analytic, fd, 1e-6 * std::max(1.0, std::fabs(fd)))
        << "argument " << a << " (seed " << seed << ")";
  }
  EXPECT_EQ(g, out.size());
}

const char *kNormsSource = R"(
func.func @f(%in_x: ${X}, %g: ${D} {uoe.param = "g"}, %b: ${D} {uoe.param = "b"},
             %g2: ${D} {uoe.param = "g2"}) -> ${X} attributes {llvm.emit_c_interface} {
  %y = uoe.layer_norm %in_x, %g, %b eps 1.0e-05 : ${X}, ${D}, ${D}
  %s = arith.mulf %y, %in_x : ${X}
  %z = uoe.rms_norm %s, %g2 eps 1.0e-06 : ${X}, ${D}
  %r = arith.subf %z, %y : ${X}
  return %r : ${X}
}
)";

TEST(AutodiffTest, NormsAndElementwise) {
  for (uint64_t seed : {1, 2}) {
    std::mt19937_64 rng(seed);
    std::vector<int64_t> x{3, 5, 12};
    checkGradients(fill(kNormsSource, {{"X", t64(x)}, {"D", t64({12})}}),
                   {randomF64(x, rng), randomF64({12}, rng),
                    randomF64({12}, rng), randomF64({12}, rng)},
                   seed);
  }
}

const char *kDenseMlpSource = R"(
func.func @f(%in_x: ${X}, %w1: ${W1} {uoe.param = "w1"}, %b1: ${B1} {uoe.param = "b1"},
             %w2: ${W2} {uoe.param = "w2"}, %b2: ${D} {uoe.param = "b2"}) -> ${X}
    attributes {llvm.emit_c_interface} {
  %y = uoe.dense_mlp %in_x, up(%w1, %b1), down(%w2, %b2) activation ${ACT}
      : ${X}, ${W1}, ${B1}, ${W2}, ${D}
  return %y : ${X}
}
)";

TEST(AutodiffTest, DenseMlp) {
  for (std::string act : {"gelu", "gelu_tanh", "silu", "swiglu"}) {
    std::mt19937_64 rng(3);
    int64_t d = 10, f = 14, f1 = act == "swiglu" ? 2 * f : f;
    std::vector<int64_t> x{2, 7, d};
    SCOPED_TRACE(act);
    checkGradients(fill(kDenseMlpSource, {{"X", t64(x)},
                                          {"W1", t64({d, f1})},
                                          {"B1", t64({f1})},
                                          {"W2", t64({f, d})},
                                          {"D", t64({d})},
                                          {"ACT", act}}),
                   {randomF64(x, rng), randomF64({d, f1}, rng),
                    randomF64({f1}, rng), randomF64({f, d}, rng),
                    randomF64({d}, rng)},
                   3);
  }
}

const char *kUomeSource = R"(
func.func @f(%in_x: ${X}, %wg: ${WG} {uoe.param = "wg"}, %bg: ${BG} {uoe.param = "bg"},
             %w1: ${W1} {uoe.param = "w1"}, %b1: ${B1} {uoe.param = "b1"},
             %w2: ${W2} {uoe.param = "w2"}, %b2: ${B2} {uoe.param = "b2"}) -> ${X}
    attributes {llvm.emit_c_interface} {
  %y = uoe.uome %in_x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2)
      top 2 capacity 5.000000e-01 patch ${P} activation gelu ${MODE}
      : ${X}, ${WG}, ${BG}, ${W1}, ${B1}, ${W2}, ${B2}
  return %y : ${X}
}
)";

/// Checks the gradients of a UoME layer in `mode` (the combine, then the
/// routing if not the reference's) with `patch`-token patches; in union mode
/// the router (arguments 1 and 2) gets exactly zero.
void checkUome(const std::string &mode, int64_t patch, uint64_t seed,
               std::vector<int64_t> x) {
  std::mt19937_64 rng(seed);
  int64_t e = 3, d = x.back(), fe = 6;
  std::vector<size_t> zero;
  if (mode.rfind("union", 0) == 0)
    zero = {1, 2}; // the router
  checkGradients(fill(kUomeSource, {{"X", t64(x)},
                                    {"WG", t64({e, d})},
                                    {"BG", t64({e})},
                                    {"W1", t64({e, d, fe})},
                                    {"B1", t64({e, fe})},
                                    {"W2", t64({e, fe, d})},
                                    {"B2", t64({e, d})},
                                    {"P", std::to_string(patch)},
                                    {"MODE", mode}}),
                 {randomF64(x, rng), randomF64({e, d}, rng),
                  randomF64({e}, rng), randomF64({e, d, fe}, rng),
                  randomF64({e, fe}, rng), randomF64({e, fe, d}, rng),
                  randomF64({e, d}, rng)},
                 5, zero);
}

TEST(AutodiffTest, Uome) {
  for (std::string mode : {"union", "gated"})
    for (int64_t patch : {1, 2}) {
      SCOPED_TRACE(mode + " patch " + std::to_string(patch));
      checkUome(mode, patch, 5 + patch, {3, 10, 8});
    }
}

const char *kSmhaSource = R"(
func.func @f(%in_x: ${X}, %wg: ${WG} {uoe.param = "wg"}, %bg: ${BG} {uoe.param = "bg"},
             %wqkv: ${WQKV} {uoe.param = "wqkv"}, %bqkv: ${BQKV} {uoe.param = "bqkv"},
             %wo: ${WO} {uoe.param = "wo"}, %bo: ${BO} {uoe.param = "bo"}) -> ${X}
    attributes {llvm.emit_c_interface} {
  %y = uoe.smha %in_x, router(%wg, %bg), qkv(%wqkv, %bqkv), out(%wo, %bo)
      heads 4 top 1 causal rope ${ROPE} ${MODE}
      : ${X}, ${WG}, ${BG}, ${WQKV}, ${BQKV}, ${WO}, ${BO}
  return %y : ${X}
}
)";

/// Checks the gradients of an SMHA layer (2 experts of 2 heads, causal) in
/// `mode` with `rope` positions; in union mode the router gets zero.
void checkSmha(const std::string &mode, const std::string &rope,
               uint64_t seed) {
  std::mt19937_64 rng(seed);
  int64_t e = 2, d = 16, de = d / e;
  std::vector<int64_t> x{2, 9, d};
  std::vector<size_t> zero;
  if (mode.rfind("union", 0) == 0)
    zero = {1, 2};
  checkGradients(fill(kSmhaSource, {{"X", t64(x)},
                                    {"WG", t64({e, d})},
                                    {"BG", t64({e})},
                                    {"WQKV", t64({3, e, d, de})},
                                    {"BQKV", t64({3, e, de})},
                                    {"WO", t64({e, de, d})},
                                    {"BO", t64({e, d})},
                                    {"ROPE", rope},
                                    {"MODE", mode}}),
                 {randomF64(x, rng), randomF64({e, d}, rng),
                  randomF64({e}, rng), randomF64({3, e, d, de}, rng),
                  randomF64({3, e, de}, rng), randomF64({e, de, d}, rng),
                  randomF64({e, d}, rng)},
                 11, zero);
}

TEST(AutodiffTest, Smha) {
  // Union with the reference's compacted positions, gated with the
  // original ones (the variants cost a compilation each).
  for (auto [mode, rope] :
       {std::pair<std::string, std::string>{"union", "compacted"},
        {"gated", "original"}}) {
    SCOPED_TRACE(mode + " " + rope);
    checkSmha(mode, rope, 11);
  }
}

const char *kAttentionSource = R"(
func.func @f(%in_x: ${X}, %wqkv: ${WQKV} {uoe.param = "wqkv"}, %bqkv: ${BQKV} {uoe.param = "bqkv"},
             %wo: ${WO} {uoe.param = "wo"}, %bo: ${D} {uoe.param = "bo"}) -> ${X}
    attributes {llvm.emit_c_interface} {
  %y = uoe.attention %in_x, qkv(%wqkv, %bqkv), out(%wo, %bo) heads 2 causal rope original
      : ${X}, ${WQKV}, ${BQKV}, ${WO}, ${D}
  return %y : ${X}
}
)";

TEST(AutodiffTest, DenseAttention) {
  std::mt19937_64 rng(13);
  int64_t d = 12;
  std::vector<int64_t> x{2, 7, d};
  checkGradients(fill(kAttentionSource, {{"X", t64(x)},
                                         {"WQKV", t64({3, d, d})},
                                         {"BQKV", t64({3, d})},
                                         {"WO", t64({d, d})},
                                         {"D", t64({d})}}),
                 {randomF64(x, rng), randomF64({3, d, d}, rng),
                  randomF64({3, d}, rng), randomF64({d, d}, rng),
                  randomF64({d}, rng)},
                 13);
}

const char *kMoeSource = R"(
func.func @f(%in_x: ${X}, %wg: ${WG} {uoe.param = "wg"}, %bg: ${BG} {uoe.param = "bg"},
             %w1: ${W1} {uoe.param = "w1"}, %b1: ${B1} {uoe.param = "b1"},
             %w2: ${W2} {uoe.param = "w2"}, %b2: ${B2} {uoe.param = "b2"}) -> ${X}
    attributes {llvm.emit_c_interface} {
  %y = uoe.moe %in_x, router(%wg, %bg), up(%w1, %b1), down(%w2, %b2)
      top 2 renormalize activation silu : ${X}, ${WG}, ${BG}, ${W1}, ${B1}, ${W2}, ${B2}
  return %y : ${X}
}
)";

TEST(AutodiffTest, Moe) {
  std::mt19937_64 rng(17);
  int64_t e = 4, d = 8, fe = 6;
  std::vector<int64_t> x{2, 5, d};
  checkGradients(fill(kMoeSource, {{"X", t64(x)},
                                   {"WG", t64({e, d})},
                                   {"BG", t64({e})},
                                   {"W1", t64({e, d, fe})},
                                   {"B1", t64({e, fe})},
                                   {"W2", t64({e, fe, d})},
                                   {"B2", t64({e, d})}}),
                 {randomF64(x, rng), randomF64({e, d}, rng),
                  randomF64({e}, rng), randomF64({e, d, fe}, rng),
                  randomF64({e, fe}, rng), randomF64({e, fe, d}, rng),
                  randomF64({e, d}, rng)},
                 17);
}

/// Embedding, learned positions, a tied LM head written with upstream ops
/// (as the frontend emits it) and the cross-entropy loss.
const char *kLmSource = R"(
func.func @f(%in_ids: ${IDS}, %in_targets: ${IDS}, %table: ${TABLE} {uoe.param = "table"},
             %pos: ${POS} {uoe.param = "pos"}) -> tensor<f64>
    attributes {llvm.emit_c_interface} {
  %h = uoe.embedding %in_ids, %table positions %pos : ${IDS}, ${TABLE}, ${POS} -> ${H}
  %flat = tensor.collapse_shape %h [[0, 1], [2]] : ${H} into ${H2}
  %lhs = tensor.expand_shape %flat [[0, 1], [2]] output_shape [1, ${N}, ${D}] : ${H2} into ${H3}
  %e = tensor.empty() : ${TT}
  %wt = linalg.transpose ins(%table : ${TABLE}) outs(%e : ${TT}) permutation = [1, 0]
  %rhs = tensor.expand_shape %wt [[0, 1], [2]] output_shape [1, ${D}, ${V}] : ${TT} into ${TT3}
  %z = tensor.empty() : ${L3}
  %c0 = arith.constant 0.0 : f64
  %zero = linalg.fill ins(%c0 : f64) outs(%z : ${L3}) -> ${L3}
  %l = linalg.batch_matmul ins(%lhs, %rhs : ${H3}, ${TT3}) outs(%zero : ${L3}) -> ${L3}
  %l2 = tensor.collapse_shape %l [[0, 1], [2]] : ${L3} into ${L2}
  %logits = tensor.expand_shape %l2 [[0, 1], [2]] output_shape [${B}, ${T}, ${V}] : ${L2} into ${L}
  %loss = uoe.cross_entropy %logits, %in_targets : ${L}, ${IDS} -> tensor<f64>
  return %loss : tensor<f64>
}
)";

TEST(AutodiffTest, EmbeddingHeadAndLoss) {
  std::mt19937_64 rng(19);
  int64_t b = 2, t = 5, v = 11, d = 6, p = 8, n = b * t;
  std::vector<int64_t> ids, targets;
  std::uniform_int_distribution<int64_t> id(0, v - 1);
  for (int64_t i = 0; i < n; ++i) {
    ids.push_back(id(rng));
    targets.push_back(i == 3 ? -1 : id(rng)); // one ignored target
  }
  checkGradients(
      fill(kLmSource, {{"IDS", t64({b, t}, "i64")},
                       {"TABLE", t64({v, d})},
                       {"POS", t64({p, d})},
                       {"H", t64({b, t, d})},
                       {"H2", t64({n, d})},
                       {"H3", t64({1, n, d})},
                       {"TT", t64({d, v})},
                       {"TT3", t64({1, d, v})},
                       {"L3", t64({1, n, v})},
                       {"L2", t64({n, v})},
                       {"L", t64({b, t, v})},
                       {"N", std::to_string(n)},
                       {"D", std::to_string(d)},
                       {"V", std::to_string(v)},
                       {"B", std::to_string(b)},
                       {"T", std::to_string(t)}}),
      {HostBuffer::ofI64({b, t}, ids), HostBuffer::ofI64({b, t}, targets),
       randomF64({v, d}, rng), randomF64({p, d}, rng)},
      19);
}

// Causal-safe routing (spec §7): the same gradients checks with the routing
// of `uoe-run generate --causal-safe`, in both combine modes.
TEST(AutodiffTest, CausalSafeUomeAndSmha) {
  for (std::string mode :
       {"union routing causal_safe", "gated routing causal_safe"}) {
    SCOPED_TRACE(mode);
    checkUome(mode, 1, 17, {2, 10, 8});
    checkSmha(mode, "original", 19);
  }
}

} // namespace
