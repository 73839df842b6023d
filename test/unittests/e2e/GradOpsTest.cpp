//===- GradOpsTest.cpp - gradient and loss ops end to end ----------------===//
//
// Every op of dialect/UoEGradOps.td compiled alone for the CPU, in float64,
// on random inputs of odd sizes and several seeds. Each `*_grad` op is
// checked against central finite differences of its FORWARD op compiled the
// same way: for a random output weighting `dY` (the op's incoming
// gradient) and a random direction `v` of one input `x`,
//
//   <dx, v>  ~  (<dY, f(x + h v)> - <dY, f(x - h v)>) / 2h,
//
// with h = 1e-5 (1e-6 for the piecewise routing ops, whose inputs are built
// with clear top-k gaps so that no decision flips). In float64 the error of
// the difference is about 1e-10, so the tolerance (1e-6 relative to
// max(1, |difference|)) still catches any wrong term. Forward ops with a
// short closed form (activations, embedding scatter, cross-entropy) are
// also compared with a direct float64 computation, and every function is
// compiled in f32 as well (approximate exp/erf/tanh, batch matmuls as BLAS
// calls) and compared with its f64 build.
//
//===----------------------------------------------------------------------===//

#include "E2eTestUtil.h"
#include "runtime/CpuExpertGemm.h"

#include <cstring>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

using namespace uoe;
using namespace uoe::e2e;

namespace {

using Vec = std::vector<double>;

constexpr uint64_t kSeeds[] = {1, 2, 3};
/// The finite-difference tolerance (see the file comment).
constexpr double kFdTol = 1e-6;

Vec uniform(int64_t n, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  Vec v(static_cast<size_t>(n));
  for (double &x : v)
    x = dist(gen);
  return v;
}

int64_t numel(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t s : shape)
    n *= s;
  return n;
}

double dot(const Vec &a, const Vec &b) {
  EXPECT_EQ(a.size(), b.size());
  double s = 0.0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    s += a[i] * b[i];
  return s;
}

Vec axpy(const Vec &x, double h, const Vec &v) {
  Vec y(x);
  for (size_t i = 0; i < y.size(); ++i)
    y[i] += h * v[i];
  return y;
}

/// A function `@f` whose first results are the forward op's (weighted by
/// `weights`: result index and dY) and whose other results are gradients.
struct FdProblem {
  CompiledFunction *fn;
  std::vector<HostBuffer> args;
  std::vector<std::pair<size_t, Vec>> weights;

  /// `sum_k <dY_k, result_k>` at `at`.
  double objective(std::vector<HostBuffer> at) const {
    std::vector<HostBuffer> out = callOrFail(*fn, std::move(at));
    double s = 0.0;
    for (const auto &[index, w] : weights)
      if (index < out.size())
        s += dot(out[index].f64, w);
    return s;
  }

  /// The central difference along `dir` of argument `arg`.
  double difference(size_t arg, const Vec &dir, double h) const {
    std::vector<HostBuffer> plus = args, minus = args;
    plus[arg].f64 = axpy(args[arg].f64, h, dir);
    minus[arg].f64 = axpy(args[arg].f64, -h, dir);
    return (objective(plus) - objective(minus)) / (2.0 * h);
  }
};

/// Tracks the worst errors of a test, of the finite-difference checks and
/// of the comparisons, and prints them at the end (the numbers the report
/// quotes).
class ErrorLog {
public:
  explicit ErrorLog(std::string name) : name_(std::move(name)) {}
  ~ErrorLog() {
    std::printf("[ GradOps  ] %s: %d finite-difference checks, max error "
                "%.3g; %d comparisons, max error %.3g\n",
                name_.c_str(), fdCount_, fdWorst_, closeCount_, closeWorst_);
  }

  /// Expects `<grad, dir>` to match `numeric`:
  /// |analytic - numeric| <= tol * max(1, |numeric|).
  void check(const Vec &grad, const Vec &dir, double numeric,
             const std::string &what, double tol = kFdTol) {
    double analytic = dot(grad, dir);
    double err =
        std::abs(analytic - numeric) / std::max(1.0, std::abs(numeric));
    fdWorst_ = std::max(fdWorst_, err);
    ++fdCount_;
    EXPECT_LE(err, tol) << what << ": analytic " << analytic
                        << ", finite difference " << numeric;
  }

  /// Expects `got` to match `want` elementwise: max |got - want| <=
  /// tol * max(1, max |want|).
  void checkClose(const Vec &got, const Vec &want, double tol,
                  const std::string &what) {
    ASSERT_EQ(got.size(), want.size()) << what;
    double scale = 1.0, err = 0.0;
    for (double w : want)
      scale = std::max(scale, std::abs(w));
    for (size_t i = 0; i < got.size(); ++i)
      err = std::max(err, std::abs(got[i] - want[i]));
    err /= scale;
    closeWorst_ = std::max(closeWorst_, err);
    ++closeCount_;
    EXPECT_LE(err, tol) << what;
  }

private:
  std::string name_;
  double fdWorst_ = 0.0, closeWorst_ = 0.0;
  int fdCount_ = 0, closeCount_ = 0;
};

/// f32 copy of an f64 buffer.
HostBuffer toF32(const HostBuffer &b) {
  std::vector<float> v(b.f64.begin(), b.f64.end());
  return HostBuffer::ofF32(b.shape, v);
}

Vec fromF32(const HostBuffer &b) { return Vec(b.f32.begin(), b.f32.end()); }

/// Runs the f32 build `fn32` of a function on `args` (f64 arguments
/// rounded to f32) and compares every float result with `out64`, the f64
/// build's, within `tol` (f32 rounding and the f32 approximations of exp,
/// erf and tanh).
void checkF32(ErrorLog &log, CompiledFunction &fn32,
              const std::vector<HostBuffer> &args,
              const std::vector<HostBuffer> &out64, double tol = 1e-5) {
  std::vector<HostBuffer> args32;
  for (const HostBuffer &a : args)
    args32.push_back(a.kind == ElementKind::F64 ? toF32(a) : a);
  std::vector<HostBuffer> out32 = callOrFail(fn32, args32);
  ASSERT_EQ(out32.size(), out64.size());
  for (size_t r = 0; r < out64.size(); ++r)
    if (out64[r].kind == ElementKind::F64)
      log.checkClose(fromF32(out32[r]), out64[r].f64, tol,
                     "f32 result " + std::to_string(r));
}

//===----------------------------------------------------------------------===//
// activation, activation_grad
//===----------------------------------------------------------------------===//

/// The activations in float64, from the spec (§5).
double activationRef(const std::string &act, double x) {
  if (act == "gelu")
    return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
  if (act == "gelu_tanh")
    return 0.5 * x *
           (1.0 +
            std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
  if (act == "relu")
    return x > 0.0 ? x : 0.0;
  if (act == "silu")
    return x / (1.0 + std::exp(-x));
  return x;
}

class ActivationGradTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ActivationGradTest, MatchesReferenceAndFiniteDifferences) {
  std::string act = GetParam();
  bool swiglu = act == "swiglu";
  int64_t a = 3, m = 5, n = 14, w = swiglu ? n / 2 : n;
  // The middle dimension is dynamic, as after dynamic selection.
  auto source = [&](const std::string &elt) {
    return fill(R"mlir(
func.func @f(%x: ${X}, %dy: ${Y}) -> (${Y}, ${X}) attributes {llvm.emit_c_interface} {
  %y = uoe.activation %x ${ACT} : ${X} -> ${Y}
  %dx = uoe.activation_grad %x, %dy ${ACT} : ${X}, ${Y} -> ${X}
  return %y, %dx : ${Y}, ${X}
})mlir",
                {{"X", tensorType({a, -1, n}, elt)},
                 {"Y", tensorType({a, -1, w}, elt)},
                 {"ACT", act}});
  };
  auto fn = compileOrFail(source("f64"), "f");
  auto fn32 = compileOrFail(source("f32"), "f");
  ASSERT_TRUE(fn && fn32);
  ErrorLog log("activation " + act);
  for (uint64_t seed : kSeeds) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Vec xs = uniform(a * m * n, seed * 10 + 1, -3.0, 3.0);
    // Keep ReLU's kink out of reach of the difference.
    for (double &v : xs)
      if (std::abs(v) < 0.05)
        v += v < 0 ? -0.05 : 0.05;
    Vec dy = uniform(a * m * w, seed * 10 + 2);
    FdProblem p{
        fn.get(),
        {HostBuffer::ofF64({a, m, n}, xs), HostBuffer::ofF64({a, m, w}, dy)},
        {{0, dy}}};
    std::vector<HostBuffer> out = callOrFail(*fn, p.args);
    ASSERT_EQ(out.size(), 2u);
    Vec want(static_cast<size_t>(a * m * w));
    for (int64_t row = 0; row < a * m; ++row)
      for (int64_t c = 0; c < w; ++c) {
        const double *in = xs.data() + row * n;
        want[row * w + c] = swiglu ? activationRef("silu", in[c]) * in[c + w]
                                   : activationRef(act, in[c]);
      }
    log.checkClose(out[0].f64, want, 1e-12, "forward");
    Vec dir = uniform(a * m * n, seed * 10 + 3);
    log.check(out[1].f64, dir, p.difference(0, dir, 1e-5), "dx");
    checkF32(log, *fn32, p.args, out);
  }
}

INSTANTIATE_TEST_SUITE_P(Activations, ActivationGradTest,
                         ::testing::Values("gelu", "gelu_tanh", "relu", "silu",
                                           "swiglu", "none"));

//===----------------------------------------------------------------------===//
// layer_norm_grad, rms_norm_grad
//===----------------------------------------------------------------------===//

// The fused expert GEMM's GELU epilogue (runtime/CpuExpertGemm.cpp) is the
// compiled `uoe.activation gelu` operation for operation, so that fusing it
// (passes/FuseSelection.cpp) keeps a forward pass and its gradient's
// forward half equal bit for bit: compare every value, tails and zeros
// included.
TEST(GradOpsTest, GeluKernelHasTheBitsOfTheCompiledGelu) {
  std::vector<float> xs;
  for (double x = -12.0; x <= 12.0; x += 1.0 / 512)
    xs.push_back(static_cast<float>(x));
  for (float x : {-1e30f, -100.0f, -5.3f, -3.75f, -2.0f, -0.8f, -1e-30f, -0.0f,
                  0.0f, 1e-30f, 0.8f, 2.0f, 3.75f, 5.3f, 100.0f, 1e30f})
    xs.push_back(x);
  int64_t n = static_cast<int64_t>(xs.size());
  std::string type = "tensor<" + std::to_string(n) + "xf32>";
  auto fn = compileOrFail("func.func @f(%x: " + type + ") -> " + type +
                              " attributes {llvm.emit_c_interface} {\n"
                              "  %y = uoe.activation %x gelu : " +
                              type + " -> " + type + "\n  return %y : " + type +
                              "\n}",
                          "f");
  ASSERT_TRUE(fn);
  std::vector<HostBuffer> args{HostBuffer::ofF32({n}, xs)};
  std::vector<HostBuffer> out = callOrFail(*fn, args);
  ASSERT_EQ(out.size(), 1u);
  std::vector<float> kernel = xs;
  uoe::rt::applyExpertActivation(uoe::rt::ExpertActivation::Gelu, kernel.data(),
                                 n);
  for (int64_t i = 0; i < n; ++i)
    ASSERT_EQ(std::memcmp(&kernel[i], &out[0].f32[i], sizeof(float)), 0)
        << "gelu(" << xs[i] << "): kernel " << kernel[i] << ", compiled "
        << out[0].f32[i];
}

TEST(GradOpsTest, LayerNormGradMatchesFiniteDifferences) {
  int64_t a = 3, b = 7, d = 13;
  auto source = [&](const std::string &elt) {
    return fill(
        R"mlir(
func.func @f(%x: ${X}, %g: ${G}, %b: ${G}, %dy: ${X}) -> (${X}, ${X}, ${G}, ${G})
    attributes {llvm.emit_c_interface} {
  %y = uoe.layer_norm %x, %g, %b eps 1.0e-5 : ${X}, ${G}, ${G}
  %dx, %dg, %db = uoe.layer_norm_grad %x, %g, %dy eps 1.0e-5 : ${X}, ${G}
  return %y, %dx, %dg, %db : ${X}, ${X}, ${G}, ${G}
})mlir",
        {{"X", tensorType({a, b, d}, elt)}, {"G", tensorType({d}, elt)}});
  };
  auto fn = compileOrFail(source("f64"), "f");
  auto fn32 = compileOrFail(source("f32"), "f");
  ASSERT_TRUE(fn && fn32);
  ErrorLog log("layer_norm_grad");
  for (uint64_t seed : kSeeds) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Vec xs = uniform(a * b * d, seed * 10 + 1, -2.0, 3.0);
    Vec dy = uniform(a * b * d, seed * 10 + 4);
    FdProblem p{fn.get(),
                {HostBuffer::ofF64({a, b, d}, xs),
                 HostBuffer::ofF64({d}, uniform(d, seed * 10 + 2, 0.5, 1.5)),
                 HostBuffer::ofF64({d}, uniform(d, seed * 10 + 3)),
                 HostBuffer::ofF64({a, b, d}, dy)},
                {{0, dy}}};
    std::vector<HostBuffer> out = callOrFail(*fn, p.args);
    ASSERT_EQ(out.size(), 4u);
    const char *names[] = {"dx", "dgamma", "dbeta"};
    for (size_t arg = 0; arg < 3; ++arg) {
      Vec dir = uniform(numel(p.args[arg].shape), seed * 10 + 5 + arg);
      log.check(out[arg + 1].f64, dir, p.difference(arg, dir, 1e-5),
                names[arg]);
    }
    checkF32(log, *fn32, p.args, out);
  }
}

TEST(GradOpsTest, RmsNormGradMatchesFiniteDifferences) {
  int64_t a = 5, d = 11;
  auto source = [&](const std::string &elt) {
    return fill(R"mlir(
func.func @f(%x: ${X}, %g: ${G}, %dy: ${X}) -> (${X}, ${X}, ${G})
    attributes {llvm.emit_c_interface} {
  %y = uoe.rms_norm %x, %g eps 1.0e-6 : ${X}, ${G}
  %dx, %dg = uoe.rms_norm_grad %x, %g, %dy eps 1.0e-6 : ${X}, ${G}
  return %y, %dx, %dg : ${X}, ${X}, ${G}
})mlir",
                {{"X", tensorType({a, d}, elt)}, {"G", tensorType({d}, elt)}});
  };
  auto fn = compileOrFail(source("f64"), "f");
  auto fn32 = compileOrFail(source("f32"), "f");
  ASSERT_TRUE(fn && fn32);
  ErrorLog log("rms_norm_grad");
  for (uint64_t seed : kSeeds) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Vec dy = uniform(a * d, seed * 10 + 4);
    FdProblem p{
        fn.get(),
        {HostBuffer::ofF64({a, d}, uniform(a * d, seed * 10 + 1, -2.0, 2.0)),
         HostBuffer::ofF64({d}, uniform(d, seed * 10 + 2, 0.5, 1.5)),
         HostBuffer::ofF64({a, d}, dy)},
        {{0, dy}}};
    std::vector<HostBuffer> out = callOrFail(*fn, p.args);
    ASSERT_EQ(out.size(), 3u);
    const char *names[] = {"dx", "dgamma"};
    for (size_t arg = 0; arg < 2; ++arg) {
      Vec dir = uniform(numel(p.args[arg].shape), seed * 10 + 5 + arg);
      log.check(out[arg + 1].f64, dir, p.difference(arg, dir, 1e-5),
                names[arg]);
    }
    checkF32(log, *fn32, p.args, out);
  }
}

//===----------------------------------------------------------------------===//
// embedding_grad
//===----------------------------------------------------------------------===//

TEST(GradOpsTest, EmbeddingGradMatchesFiniteDifferences) {
  int64_t b = 2, t = 9, v = 11, d = 5;
  auto source = [&](const std::string &elt) {
    return fill(R"mlir(
func.func @f(%ids: ${I}, %t: ${T}, %dh: ${H}) -> (${H}, ${T})
    attributes {llvm.emit_c_interface} {
  %h = uoe.embedding %ids, %t : ${I}, ${T} -> ${H}
  %dt = uoe.embedding_grad %ids, %dh : ${I}, ${H} -> ${T}
  return %h, %dt : ${H}, ${T}
})mlir",
                {{"I", tensorType({b, t}, "i64")},
                 {"T", tensorType({v, d}, elt)},
                 {"H", tensorType({b, t, d}, elt)}});
  };
  auto fn = compileOrFail(source("f64"), "f");
  auto fn32 = compileOrFail(source("f32"), "f");
  ASSERT_TRUE(fn && fn32);
  ErrorLog log("embedding_grad");
  for (uint64_t seed : kSeeds) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    // Repeated ids, and ids outside [0, V) that the forward clamps.
    std::mt19937_64 gen(seed);
    std::vector<int64_t> idv(static_cast<size_t>(b * t));
    for (int64_t &id : idv)
      id = static_cast<int64_t>(gen() % (v + 4)) - 2;
    Vec dh = uniform(b * t * d, seed * 10 + 2);
    FdProblem p{fn.get(),
                {HostBuffer::ofI64({b, t}, idv),
                 HostBuffer::ofF64({v, d}, uniform(v * d, seed * 10 + 1)),
                 HostBuffer::ofF64({b, t, d}, dh)},
                {{0, dh}}};
    std::vector<HostBuffer> out = callOrFail(*fn, p.args);
    ASSERT_EQ(out.size(), 2u);
    // The direct scatter-add, in token order.
    Vec want(static_cast<size_t>(v * d), 0.0);
    for (int64_t i = 0; i < b * t; ++i) {
      int64_t row = std::min(std::max<int64_t>(idv[i], 0), v - 1);
      for (int64_t c = 0; c < d; ++c)
        want[row * d + c] += dh[i * d + c];
    }
    log.checkClose(out[1].f64, want, 1e-15, "table_grad");
    Vec dir = uniform(v * d, seed * 10 + 3);
    log.check(out[1].f64, dir, p.difference(1, dir, 1e-5), "table_grad");
    checkF32(log, *fn32, p.args, out);
  }
}

//===----------------------------------------------------------------------===//
// selective_attention_grad
//===----------------------------------------------------------------------===//

struct AttentionCase {
  std::string name;
  std::string options; // heads ... : the clauses after the operands
  bool padding;
};

class AttentionGradTest : public ::testing::TestWithParam<AttentionCase> {};

TEST_P(AttentionGradTest, MatchesFiniteDifferencesAndF32) {
  const AttentionCase &c = GetParam();
  int64_t e = 2, b = 3, l = 5, d = 12, t = 9;
  auto source = [&](const std::string &elt) {
    std::string q = tensorType({e, b, -1, d}, elt),
                pos = tensorType({e, b, -1}, "i64"),
                kp = tensorType({b, t}, "i1");
    std::string padArg = c.padding ? ", %kp: " + kp : "";
    std::string padUse = c.padding ? " key_padding %kp" : "";
    std::string padType = c.padding ? ", " + kp : "";
    return fill(R"mlir(
func.func @f(%q: ${Q}, %k: ${Q}, %v: ${Q}, %pos: ${P}${PADARG}, %do: ${Q})
    -> (${Q}, ${Q}, ${Q}, ${Q}) attributes {llvm.emit_c_interface} {
  %o = uoe.selective_attention %q, %k, %v, %pos${PADUSE} ${OPTS}
      : ${Q}, ${Q}, ${Q}, ${P}${PADTYPE} -> ${Q}
  %dq, %dk, %dv = uoe.selective_attention_grad %q, %k, %v, %pos${PADUSE}, %do ${OPTS}
      : ${Q}, ${P}${PADTYPE}
  return %o, %dq, %dk, %dv : ${Q}, ${Q}, ${Q}, ${Q}
})mlir",
                {{"Q", q},
                 {"P", pos},
                 {"PADARG", padArg},
                 {"PADUSE", padUse},
                 {"PADTYPE", padType},
                 {"OPTS", c.options}});
  };
  // -O1: at the default level LLVM spends seconds vectorising the gathers
  // of the rotary embedding and the masks (see compileOrFail).
  auto fn = compileOrFail(source("f64"), "f", 1);
  auto fn32 = compileOrFail(source("f32"), "f", 1);
  ASSERT_TRUE(fn && fn32);
  ErrorLog log("selective_attention_grad " + c.name);
  for (uint64_t seed : kSeeds) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    // Positions: a sorted random subset of [0, T) per (expert, row).
    std::mt19937_64 gen(seed);
    std::vector<int64_t> pos;
    for (int64_t i = 0; i < e * b; ++i) {
      std::vector<int64_t> all(static_cast<size_t>(t));
      for (int64_t j = 0; j < t; ++j)
        all[j] = j;
      std::shuffle(all.begin(), all.end(), gen);
      all.resize(static_cast<size_t>(l));
      std::sort(all.begin(), all.end());
      pos.insert(pos.end(), all.begin(), all.end());
    }
    std::vector<int64_t> qShape{e, b, l, d};
    int64_t n = numel(qShape);
    Vec dout = uniform(n, seed * 10 + 4);
    std::vector<HostBuffer> args{
        HostBuffer::ofF64(qShape, uniform(n, seed * 10 + 1, -1.5, 1.5)),
        HostBuffer::ofF64(qShape, uniform(n, seed * 10 + 2, -1.5, 1.5)),
        HostBuffer::ofF64(qShape, uniform(n, seed * 10 + 3)),
        HostBuffer::ofI64({e, b, l}, pos)};
    if (c.padding) {
      std::vector<uint8_t> mask(static_cast<size_t>(b * t));
      for (uint8_t &m : mask)
        m = gen() % 3 == 0;
      args.push_back(HostBuffer::ofI1({b, t}, mask));
    }
    args.push_back(HostBuffer::ofF64(qShape, dout));
    FdProblem p{fn.get(), args, {{0, dout}}};
    std::vector<HostBuffer> out = callOrFail(*fn, p.args);
    ASSERT_EQ(out.size(), 4u);
    const char *names[] = {"dq", "dk", "dv"};
    for (size_t arg = 0; arg < 3; ++arg) {
      Vec dir = uniform(n, seed * 10 + 5 + arg);
      log.check(out[arg + 1].f64, dir, p.difference(arg, dir, 1e-5),
                names[arg]);
    }
    // The f32 lowering (BLAS batch matmuls) against the f64 one.
    checkF32(log, *fn32, args, out);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Options, AttentionGradTest,
    ::testing::Values(
        AttentionCase{"causal_compacted", "heads 2 causal rope compacted",
                      false},
        AttentionCase{"causal_original_padding", "heads 2 causal rope original",
                      true},
        AttentionCase{"plain_scale_padding",
                      "heads 3 {scale = 3.000000e-01 : f64}", true},
        AttentionCase{"original_base",
                      "heads 1 rope original {rope_base = 1.000000e+02 : f64}",
                      false}),
    [](const ::testing::TestParamInfo<AttentionCase> &info) {
      return info.param.name;
    });

//===----------------------------------------------------------------------===//
// router_grad
//===----------------------------------------------------------------------===//

class RouterGradTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RouterGradTest, MatchesFiniteDifferencesAndF32) {
  std::string score = GetParam();
  int64_t a = 3, m = 7, d = 10, e = 5;
  auto source = [&](const std::string &elt) {
    return fill(R"mlir(
func.func @f(%x: ${X}, %w: ${W}, %b: ${B}, %dp: ${P}) -> (${P}, ${X}, ${W}, ${B})
    attributes {llvm.emit_c_interface} {
  %p = uoe.router %x, %w, %b score ${S} : ${X}, ${W}, ${B} -> ${P}
  %dx, %dw, %db = uoe.router_grad %x, %w, %p, %dp score ${S} : ${X}, ${W}, ${P} -> ${B}
  return %p, %dx, %dw, %db : ${P}, ${X}, ${W}, ${B}
})mlir",
                {{"X", tensorType({a, m, d}, elt)},
                 {"W", tensorType({e, d}, elt)},
                 {"B", tensorType({e}, elt)},
                 {"P", tensorType({a, m, e}, elt)},
                 {"S", score}});
  };
  auto fn = compileOrFail(source("f64"), "f");
  auto fn32 = compileOrFail(source("f32"), "f");
  ASSERT_TRUE(fn && fn32);
  ErrorLog log("router_grad " + score);
  for (uint64_t seed : kSeeds) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Vec dp = uniform(a * m * e, seed * 10 + 4);
    FdProblem p{
        fn.get(),
        {HostBuffer::ofF64({a, m, d}, uniform(a * m * d, seed * 10 + 1)),
         HostBuffer::ofF64({e, d}, uniform(e * d, seed * 10 + 2, -0.6, 0.6)),
         HostBuffer::ofF64({e}, uniform(e, seed * 10 + 3)),
         HostBuffer::ofF64({a, m, e}, dp)},
        {{0, dp}}};
    std::vector<HostBuffer> out = callOrFail(*fn, p.args);
    ASSERT_EQ(out.size(), 4u);
    const char *names[] = {"dx", "dweight", "dbias"};
    for (size_t arg = 0; arg < 3; ++arg) {
      Vec dir = uniform(numel(p.args[arg].shape), seed * 10 + 5 + arg);
      log.check(out[arg + 1].f64, dir, p.difference(arg, dir, 1e-5),
                names[arg]);
    }
    checkF32(log, *fn32, p.args, out);
  }
}

INSTANTIATE_TEST_SUITE_P(Scores, RouterGradTest,
                         ::testing::Values("softmax", "sigmoid"));

//===----------------------------------------------------------------------===//
// token_choice_grad
//===----------------------------------------------------------------------===//

struct TokenChoiceGradCase {
  std::string name;
  std::string options;
};

class TokenChoiceGradTest
    : public ::testing::TestWithParam<TokenChoiceGradCase> {};

TEST_P(TokenChoiceGradTest, MatchesFiniteDifferences) {
  const TokenChoiceGradCase &c = GetParam();
  int64_t a = 4, m = 7, e = 5;
  auto source = [&](const std::string &elt) {
    return fill(R"mlir(
func.func @f(%p: ${P}, %dg: ${P}) -> (${P}, ${P}) attributes {llvm.emit_c_interface} {
  %g = uoe.token_choice %p top 2 ${OPTS} : ${P}
  %dp = uoe.token_choice_grad %p, %dg top 2 ${OPTS} : ${P}
  return %g, %dp : ${P}, ${P}
})mlir",
                {{"P", tensorType({a, m, e}, elt)}, {"OPTS", c.options}});
  };
  auto fn = compileOrFail(source("f64"), "f");
  auto fn32 = compileOrFail(source("f32"), "f");
  ASSERT_TRUE(fn && fn32);
  ErrorLog log("token_choice_grad " + c.name);
  for (uint64_t seed : kSeeds) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    // Every row: a permutation of well separated levels plus small noise,
    // so that a perturbation of 1e-6 never changes the top-k.
    std::mt19937_64 gen(seed);
    Vec noise = uniform(a * m * e, seed * 10 + 1, 0.0, 0.02);
    Vec probs(static_cast<size_t>(a * m * e));
    for (int64_t row = 0; row < a * m; ++row) {
      std::vector<int> levels{0, 1, 2, 3, 4};
      std::shuffle(levels.begin(), levels.end(), gen);
      for (int64_t j = 0; j < e; ++j)
        probs[row * e + j] = 0.05 + 0.15 * levels[j] + noise[row * e + j];
    }
    Vec dg = uniform(a * m * e, seed * 10 + 2);
    FdProblem pr{
        fn.get(),
        {HostBuffer::ofF64({a, m, e}, probs), HostBuffer::ofF64({a, m, e}, dg)},
        {{0, dg}}};
    std::vector<HostBuffer> out = callOrFail(*fn, pr.args);
    ASSERT_EQ(out.size(), 2u);
    Vec dir = uniform(a * m * e, seed * 10 + 3);
    log.check(out[1].f64, dir, pr.difference(0, dir, 1e-6), "dprobs");
    checkF32(log, *fn32, pr.args, out);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Options, TokenChoiceGradTest,
    ::testing::Values(
        TokenChoiceGradCase{"mask", ""},
        TokenChoiceGradCase{"renormalize", "renormalize"},
        TokenChoiceGradCase{"normalize_axis0",
                            "normalize axis 0 eps 1.0e-06 capacity 1.0"},
        TokenChoiceGradCase{"both_axis1",
                            "renormalize normalize axis 1 eps 1.0e-03 "
                            "capacity 0.5"}),
    [](const ::testing::TestParamInfo<TokenChoiceGradCase> &info) {
      return info.param.name;
    });

//===----------------------------------------------------------------------===//
// data_select_grad
//===----------------------------------------------------------------------===//

struct DataSelectGradCase {
  std::string name;
  int64_t patch;
  bool dynamic;
};

class DataSelectGradTest : public ::testing::TestWithParam<DataSelectGradCase> {
};

TEST_P(DataSelectGradTest, MatchesFiniteDifferences) {
  const DataSelectGradCase &c = GetParam();
  int64_t r = 3, n = 12, e = 2, np = n / c.patch;
  int64_t staticL = np / 2;
  int64_t lDim = c.dynamic ? -1 : staticL;
  auto source = [&](const std::string &elt) {
    return fill(R"mlir(
func.func @f(%s: ${S}, %dw: ${W}) -> (${W}, ${S}) attributes {llvm.emit_c_interface} {
  %pos, %w = uoe.data_select %s patch ${PATCH} ${CAP} : ${S} -> ${POS}, ${W}
  %ds = uoe.data_select_grad %pos, %dw patch ${PATCH} : ${POS}, ${W} -> ${S}
  return %w, %ds : ${W}, ${S}
})mlir",
                {{"S", tensorType({r, n, e}, elt)},
                 {"W", tensorType({e, r, lDim}, elt)},
                 {"POS", tensorType({e, r, lDim}, "i64")},
                 {"PATCH", std::to_string(c.patch)},
                 {"CAP", c.dynamic ? "dynamic" : "capacity 5.000000e-01"}});
  };
  auto fn = compileOrFail(source("f64"), "f");
  auto fn32 = compileOrFail(source("f32"), "f");
  ASSERT_TRUE(fn && fn32);
  ErrorLog log("data_select_grad " + c.name);
  for (uint64_t seed : kSeeds) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    // Patch means on separated levels, none near zero (dynamic L counts
    // the positive ones), with small per-token noise.
    std::mt19937_64 gen(seed);
    Vec noise = uniform(r * n * e, seed * 10 + 1, -0.01, 0.01);
    Vec scores(static_cast<size_t>(r * n * e));
    int64_t maxPositive = 0;
    for (int64_t row = 0; row < r; ++row)
      for (int64_t ex = 0; ex < e; ++ex) {
        std::vector<int64_t> levels(static_cast<size_t>(np));
        for (int64_t j = 0; j < np; ++j)
          levels[j] = j;
        std::shuffle(levels.begin(), levels.end(), gen);
        int64_t shift = static_cast<int64_t>(gen() % 3); // vary the count
        int64_t positive = 0;
        for (int64_t j = 0; j < np; ++j) {
          double level =
              0.1 * static_cast<double>(levels[j] - np / 2 + shift) + 0.05;
          positive += level > 0;
          for (int64_t t = 0; t < c.patch; ++t) {
            int64_t tok = j * c.patch + t;
            scores[(row * n + tok) * e + ex] =
                level + noise[(row * n + tok) * e + ex];
          }
        }
        maxPositive = std::max(maxPositive, positive);
      }
    int64_t l = c.dynamic ? maxPositive : staticL;
    Vec dw = uniform(e * r * l, seed * 10 + 2);
    FdProblem p{fn.get(),
                {HostBuffer::ofF64({r, n, e}, scores),
                 HostBuffer::ofF64({e, r, l}, dw)},
                {{0, dw}}};
    std::vector<HostBuffer> out = callOrFail(*fn, p.args);
    ASSERT_EQ(out.size(), 2u);
    ASSERT_EQ(out[0].shape, (std::vector<int64_t>{e, r, l}));
    Vec dir = uniform(r * n * e, seed * 10 + 3);
    log.check(out[1].f64, dir, p.difference(0, dir, 1e-6), "dscores");
    checkF32(log, *fn32, p.args, out);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Options, DataSelectGradTest,
    ::testing::Values(DataSelectGradCase{"static", 1, false},
                      DataSelectGradCase{"static_patch3", 3, false},
                      DataSelectGradCase{"dynamic", 1, true},
                      DataSelectGradCase{"dynamic_patch2", 2, true}),
    [](const ::testing::TestParamInfo<DataSelectGradCase> &info) {
      return info.param.name;
    });

//===----------------------------------------------------------------------===//
// cross_entropy, cross_entropy_grad
//===----------------------------------------------------------------------===//

/// The mean cross-entropy over the valid targets, directly in float64.
double crossEntropyRef(const Vec &logits, const std::vector<int64_t> &targets,
                       int64_t v) {
  double total = 0.0;
  int64_t count = 0;
  for (size_t i = 0; i < targets.size(); ++i) {
    if (targets[i] < 0 || targets[i] >= v)
      continue;
    const double *row = logits.data() + i * v;
    double m = -INFINITY;
    for (int64_t j = 0; j < v; ++j)
      m = std::max(m, row[j]);
    double s = 0.0;
    for (int64_t j = 0; j < v; ++j)
      s += std::exp(row[j] - m);
    total += m + std::log(s) - row[targets[i]];
    ++count;
  }
  return count ? total / static_cast<double>(count) : 0.0;
}

TEST(GradOpsTest, CrossEntropyMatchesReferenceAndFiniteDifferences) {
  int64_t a = 3, m = 5, v = 11;
  auto source = [&](const std::string &elt) {
    return fill(R"mlir(
func.func @f(%l: ${L}, %t: ${T}, %dl: ${S}) -> (${S}, ${L}) attributes {llvm.emit_c_interface} {
  %loss = uoe.cross_entropy %l, %t : ${L}, ${T} -> ${S}
  %d = uoe.cross_entropy_grad %l, %t, %dl : ${L}, ${T}, ${S}
  return %loss, %d : ${S}, ${L}
})mlir",
                {{"L", tensorType({a, m, v}, elt)},
                 {"T", tensorType({a, m}, "i64")},
                 {"S", tensorType({}, elt)}});
  };
  auto fn = compileOrFail(source("f64"), "f");
  auto fn32 = compileOrFail(source("f32"), "f");
  ASSERT_TRUE(fn && fn32);
  ErrorLog log("cross_entropy");
  for (uint64_t seed : kSeeds) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 gen(seed);
    // Targets in [-1, V]: -1 and V are ignored.
    std::vector<int64_t> targets(static_cast<size_t>(a * m));
    for (int64_t &t : targets)
      t = static_cast<int64_t>(gen() % (v + 2)) - 1;
    // Large logits: the row maximum must be subtracted.
    Vec logits = uniform(a * m * v, seed * 10 + 1, -30.0, 30.0);
    double dl = uniform(1, seed * 10 + 2)[0];
    FdProblem p{fn.get(),
                {HostBuffer::ofF64({a, m, v}, logits),
                 HostBuffer::ofI64({a, m}, targets),
                 HostBuffer::ofF64({}, {dl})},
                {{0, {dl}}}};
    std::vector<HostBuffer> out = callOrFail(*fn, p.args);
    ASSERT_EQ(out.size(), 2u);
    double want = crossEntropyRef(logits, targets, v);
    log.checkClose(out[0].f64, {want}, 1e-13, "loss");
    Vec dir = uniform(a * m * v, seed * 10 + 3);
    log.check(out[1].f64, dir, p.difference(0, dir, 1e-5), "dlogits");

    // f32: the loss against the float64 reference, the gradient against
    // the f64 lowering.
    std::vector<HostBuffer> out32 =
        callOrFail(*fn32, {toF32(p.args[0]), p.args[1], toF32(p.args[2])});
    ASSERT_EQ(out32.size(), 2u);
    log.checkClose(fromF32(out32[0]), {want}, 1e-5, "f32 loss");
    log.checkClose(fromF32(out32[1]), out[1].f64, 1e-5, "f32 dlogits");
  }

  // No valid target: the loss and its gradient are 0.
  std::vector<int64_t> ignored(static_cast<size_t>(a * m), -1);
  std::vector<HostBuffer> none{
      HostBuffer::ofF64({a, m, v}, uniform(a * m * v, 7)),
      HostBuffer::ofI64({a, m}, ignored), HostBuffer::ofF64({}, {1.0})};
  std::vector<HostBuffer> out = callOrFail(*fn, none);
  ASSERT_EQ(out.size(), 2u);
  log.checkClose(out[0].f64, {0.0}, 0.0, "loss without targets");
  log.checkClose(out[1].f64, Vec(static_cast<size_t>(a * m * v), 0.0), 0.0,
                 "dlogits without targets");
}

} // namespace
