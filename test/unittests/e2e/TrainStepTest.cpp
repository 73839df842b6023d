//===- TrainStepTest.cpp - the compiled optimizer step against a plain one -===//
//
// `--uoe-build-train-step` on a small language model (embedding, learned
// positions, tied head; float64), compiled for the CPU and run for a few
// steps, feeding each step's updated tensors back in, agrees with a plain
// C++ implementation of the same step: the analytic gradient of the mean
// token cross-entropy, global-norm clipping, the learning-rate schedule and
// PyTorch's AdamW (with and without AMSGrad) or SGD with momentum, to 1e-6
// relative after every step.
//
//===----------------------------------------------------------------------===//

#include "CompileHarness.h"

#include "passes/Passes.h"

#include "gtest/gtest.h"

#include <cmath>
#include <random>

using namespace uoe::e2e;

namespace {

constexpr int64_t kB = 2, kT = 5, kV = 9, kD = 4, kP = 6, kN = kB * kT;

/// logits = (E[ids] + P[0..T)) E^T.
const char *kForward = R"(
func.func @forward(%ids: tensor<2x5xi64> {uoe.input = "tokens"},
                   %table: tensor<9x4xf64> {uoe.param = "embedding.weight"},
                   %pos: tensor<6x4xf64> {uoe.param = "position_embedding.weight"})
    -> tensor<2x5x9xf64> attributes {llvm.emit_c_interface} {
  %h = uoe.embedding %ids, %table positions %pos
      : tensor<2x5xi64>, tensor<9x4xf64>, tensor<6x4xf64> -> tensor<2x5x4xf64>
  %flat = tensor.collapse_shape %h [[0, 1], [2]] : tensor<2x5x4xf64> into tensor<10x4xf64>
  %lhs = tensor.expand_shape %flat [[0, 1], [2]] output_shape [1, 10, 4]
      : tensor<10x4xf64> into tensor<1x10x4xf64>
  %e = tensor.empty() : tensor<4x9xf64>
  %wt = linalg.transpose ins(%table : tensor<9x4xf64>) outs(%e : tensor<4x9xf64>) permutation = [1, 0]
  %rhs = tensor.expand_shape %wt [[0, 1], [2]] output_shape [1, 4, 9]
      : tensor<4x9xf64> into tensor<1x4x9xf64>
  %z = tensor.empty() : tensor<1x10x9xf64>
  %c0 = arith.constant 0.0 : f64
  %zero = linalg.fill ins(%c0 : f64) outs(%z : tensor<1x10x9xf64>) -> tensor<1x10x9xf64>
  %l = linalg.batch_matmul ins(%lhs, %rhs : tensor<1x10x4xf64>, tensor<1x4x9xf64>)
      outs(%zero : tensor<1x10x9xf64>) -> tensor<1x10x9xf64>
  %l2 = tensor.collapse_shape %l [[0, 1], [2]] : tensor<1x10x9xf64> into tensor<10x9xf64>
  %logits = tensor.expand_shape %l2 [[0, 1], [2]] output_shape [2, 5, 9]
      : tensor<10x9xf64> into tensor<2x5x9xf64>
  return %logits : tensor<2x5x9xf64>
}
)";

struct Options {
  std::string optimizer = "adamw";
  double lr = 0.05, weightDecay = 0.1, beta1 = 0.9, beta2 = 0.99, eps = 1e-8;
  bool amsgrad = false;
  double momentum = 0.9;
  std::string schedule = "constant";
  int64_t warmup = 0, total = 0;
  double minLr = 0.0, clip = 0.0;
};

std::string buildTrainStep(const Options &o, std::string *error) {
  mlir::uoe::UoEBuildTrainStepPassOptions p;
  p.optimizer = o.optimizer;
  p.lr = o.lr;
  p.weightDecay = o.weightDecay;
  p.beta1 = o.beta1;
  p.beta2 = o.beta2;
  p.adamEps = o.eps;
  p.amsgrad = o.amsgrad;
  p.momentum = o.momentum;
  p.schedule = o.schedule;
  p.warmupSteps = o.warmup;
  p.totalSteps = o.total;
  p.minLr = o.minLr;
  p.clipNorm = o.clip;
  return transformModule(
      kForward,
      [&](mlir::OpPassManager &pm) {
        pm.addPass(mlir::uoe::createUoEBuildTrainStepPass(p));
      },
      error);
}

/// The plain implementation: parameters E [V, D] and P [P, D] as one
/// vector each, with their optimizer state.
struct Plain {
  Options o;
  std::vector<double> params[2];
  std::vector<double> state[2][3]; // [param][slot]

  /// Mean cross-entropy and the gradients of the two tables.
  double lossAndGrad(const std::vector<int64_t> &ids,
                     const std::vector<int64_t> &targets,
                     std::vector<double> grads[2]) const {
    const std::vector<double> &e = params[0], &p = params[1];
    grads[0].assign(e.size(), 0.0);
    grads[1].assign(p.size(), 0.0);
    int64_t count = 0;
    for (int64_t target : targets)
      count += target >= 0 && target < kV;
    double loss = 0;
    for (int64_t i = 0; i < kN; ++i) {
      int64_t t = i % kT;
      double h[kD];
      for (int64_t c = 0; c < kD; ++c)
        h[c] = e[ids[i] * kD + c] + p[t * kD + c];
      double logits[kV], mx = -1e300;
      for (int64_t v = 0; v < kV; ++v) {
        logits[v] = 0;
        for (int64_t c = 0; c < kD; ++c)
          logits[v] += h[c] * e[v * kD + c];
        mx = std::max(mx, logits[v]);
      }
      if (targets[i] < 0 || targets[i] >= kV)
        continue;
      double sum = 0;
      for (double l : logits)
        sum += std::exp(l - mx);
      loss += std::log(sum) + mx - logits[targets[i]];
      for (int64_t v = 0; v < kV; ++v) {
        double dl = (std::exp(logits[v] - mx) / sum - (v == targets[i])) /
                    static_cast<double>(count);
        for (int64_t c = 0; c < kD; ++c) {
          // logits[v] = h . E[v]: into the head's row and into h.
          grads[0][v * kD + c] += dl * h[c];
          double dh = dl * e[v * kD + c];
          grads[0][ids[i] * kD + c] += dh;
          grads[1][t * kD + c] += dh;
        }
      }
    }
    return count ? loss / static_cast<double>(count) : 0.0;
  }

  double rate(int64_t step) const {
    double t = static_cast<double>(step);
    if (o.schedule == "constant")
      return o.lr;
    double warm = o.warmup > 0 ? std::min(1.0, t / o.warmup) : 1.0;
    if (o.schedule == "warmup" || t < o.warmup)
      return o.lr * warm;
    double progress =
        std::min(1.0, std::max(0.0, t - o.warmup) /
                          std::max<int64_t>(1, o.total - o.warmup));
    return o.minLr +
           0.5 * (o.lr - o.minLr) * (1.0 + std::cos(M_PI * progress));
  }

  /// One step; returns the loss.
  double step(int64_t stepNumber, const std::vector<int64_t> &ids,
              const std::vector<int64_t> &targets) {
    std::vector<double> grads[2];
    double loss = lossAndGrad(ids, targets, grads);
    double sq = 0;
    for (auto &g : grads)
      for (double x : g)
        sq += x * x;
    double scale = o.clip > 0 ? std::min(1.0, o.clip / (std::sqrt(sq) + 1e-6))
                              : 1.0;
    double lr = rate(stepNumber);
    for (int k = 0; k < 2; ++k)
      for (size_t i = 0; i < params[k].size(); ++i) {
        double g = grads[k][i] * scale;
        double &p = params[k][i];
        if (o.optimizer == "sgd") {
          g += o.weightDecay * p;
          double &buf = state[k][0][i];
          buf = o.momentum * buf + g;
          p -= lr * buf;
          continue;
        }
        double &m = state[k][0][i], &v = state[k][1][i];
        p *= 1.0 - lr * o.weightDecay;
        m += (1.0 - o.beta1) * (g - m);
        v = v * o.beta2 + (1.0 - o.beta2) * g * g;
        double second = v;
        if (o.amsgrad) {
          double &vmax = state[k][2][i];
          vmax = std::max(vmax, v);
          second = vmax;
        }
        double bc1 = 1.0 - std::pow(o.beta1, stepNumber);
        double bc2 = 1.0 - std::pow(o.beta2, stepNumber);
        double denom = std::sqrt(second) / std::sqrt(bc2) + o.eps;
        p -= lr / bc1 * m / denom;
      }
    return loss;
  }
};

void checkSteps(const Options &o, uint64_t seed) {
  std::string error;
  std::string module = buildTrainStep(o, &error);
  ASSERT_FALSE(module.empty()) << error;
  auto train = compileFunction(module, "train_step", &error);
  ASSERT_TRUE(train) << error;

  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  std::uniform_int_distribution<int64_t> token(0, kV - 1);
  Plain plain{o, {}, {}};
  plain.params[0].resize(kV * kD);
  plain.params[1].resize(kP * kD);
  for (auto &p : plain.params)
    for (double &x : p)
      x = uniform(rng);
  size_t slots = o.optimizer == "sgd" ? 1 : (o.amsgrad ? 3 : 2);
  for (int k = 0; k < 2; ++k)
    for (size_t s = 0; s < slots; ++s)
      plain.state[k][s].assign(plain.params[k].size(), 0.0);

  // The compiled step's tensors, fed back after every step.
  std::vector<double> params[2] = {plain.params[0], plain.params[1]};
  std::vector<std::vector<double>> state;
  for (size_t s = 0; s < slots; ++s)
    for (int k = 0; k < 2; ++k)
      state.push_back(plain.state[k][s]);

  for (int64_t step = 1; step <= 4; ++step) {
    std::vector<int64_t> ids, targets;
    for (int64_t i = 0; i < kN; ++i) {
      ids.push_back(token(rng));
      targets.push_back(i == 2 ? -1 : token(rng));
    }
    std::vector<HostBuffer> args{HostBuffer::ofI64({kB, kT}, ids),
                                 HostBuffer::ofI64({kB, kT}, targets),
                                 HostBuffer::ofI64({}, {step}),
                                 HostBuffer::ofF64({kV, kD}, params[0]),
                                 HostBuffer::ofF64({kP, kD}, params[1])};
    for (size_t i = 0; i < state.size(); ++i)
      args.push_back(HostBuffer::ofF64(i % 2 ? std::vector<int64_t>{kP, kD}
                                             : std::vector<int64_t>{kV, kD},
                                       state[i]));
    std::vector<HostBuffer> out = train->call(args, &error);
    ASSERT_EQ(out.size(), 3 + 2 + state.size()) << error;
    double loss = plain.step(step, ids, targets);
    EXPECT_NEAR(out[0].f32[0], loss, 1e-6 * std::max(1.0, std::fabs(loss)))
        << "loss at step " << step;
    EXPECT_NEAR(out[2].f32[0], plain.rate(step), 1e-7 * plain.rate(step) + 1e-12)
        << "learning rate at step " << step;
    for (int k = 0; k < 2; ++k) {
      params[k] = out[3 + k].f64;
      for (size_t i = 0; i < params[k].size(); ++i)
        ASSERT_NEAR(params[k][i], plain.params[k][i],
                    1e-6 * std::max(1.0, std::fabs(plain.params[k][i])))
            << "parameter " << k << " element " << i << " after step " << step;
    }
    for (size_t i = 0; i < state.size(); ++i)
      state[i] = out[5 + i].f64;
  }
}

TEST(TrainStepTest, AdamW) { checkSteps(Options{}, 1); }

TEST(TrainStepTest, AmsGradWithClippingAndCosine) {
  Options o;
  o.amsgrad = true;
  o.clip = 0.5;
  o.schedule = "cosine";
  o.warmup = 2;
  o.total = 4;
  o.minLr = 0.001;
  checkSteps(o, 2);
}

TEST(TrainStepTest, SgdWithMomentumAndWarmup) {
  Options o;
  o.optimizer = "sgd";
  o.lr = 0.3;
  o.weightDecay = 0.01;
  o.schedule = "warmup";
  o.warmup = 3;
  checkSteps(o, 3);
}

} // namespace
