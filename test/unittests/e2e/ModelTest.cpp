//===- ModelTest.cpp - whole models end to end against the reference ----===//
//
// Model descriptions go the way `uoe-run infer` takes them: parseModelText,
// resolveModel, compileModel (the CPU pipeline and the object emitter
// at its default level), CpuProgram::load with the ORC loader, bindParameters and run.
// The same weights then go through a chain of the float64 reference's
// layers and blocks (postLnBlock / preRmsBlock, and the final RMSNorm of
// the pre-norm layout), written here from docs/MODEL_FORMAT.md: weight
// names, stacked layouts, `repeat`, UoME's sequence and batch layouts.
//
//===----------------------------------------------------------------------===//

#include "E2eTestUtil.h"

#include "driver/CompileModel.h"
#include "driver/OrcLoader.h"
#include "frontend/ModelImporter.h"
#include "runtime/CpuDevice.h"

#include <cmath>
#include <functional>

using namespace uoe;
using namespace uoe::e2e;
namespace model = ::uoe::model;

namespace {

/// A stable seed per weight name.
uint64_t nameSeed(const std::string &name, uint64_t seed) {
  uint64_t h = 1469598103934665603ULL ^ seed;
  for (char c : name)
    h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ULL;
  return h;
}

bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// Random weights for every parameter, scaled by role so that the
/// activations stay of order one through the blocks.
std::map<std::string, ref::Tensor>
randomParameters(const std::vector<mlir::uoe::ParamSpec> &specs, int64_t d,
                 uint64_t seed) {
  std::map<std::string, ref::Tensor> params;
  for (const mlir::uoe::ParamSpec &p : specs) {
    uint64_t s = nameSeed(p.name, seed);
    const std::vector<int64_t> &shape = p.shape;
    bool norm = p.name.find("norm") != std::string::npos;
    ref::Tensor t;
    if (norm && endsWith(p.name, ".weight")) {
      t = randomF32(shape, s, 0.25);
      for (double &v : t.data)
        v = static_cast<float>(1.0 + v);
    } else if (norm || endsWith(p.name, ".bias") ||
               endsWith(p.name, "bqkv") || endsWith(p.name, ".bo") ||
               endsWith(p.name, ".b1") || endsWith(p.name, ".b2")) {
      t = randomF32(shape, s, 0.25);
    } else if (endsWith(p.name, "router.weight")) {
      t = randomWeight(shape, s, std::max<int64_t>(1, d / 4));
    } else if (endsWith(p.name, "wqkv")) {
      t = randomWeight(shape, s, std::max<int64_t>(1, d / 2));
    } else {
      // wo, w1, w2: [..., in, out].
      t = randomWeight(shape, s, shape[shape.size() - 2]);
    }
    params.emplace(p.name, std::move(t));
  }
  return params;
}

/// The float64 forward pass of a resolved `model` on `x: [B, T, d]`. Every
/// routing layer reports the margin of its decisions (E2eTestUtil.h) on
/// the reference's own activations; `*margin` gets the smallest.
ref::Tensor referenceForward(const model::Model &m,
                             const std::map<std::string, ref::Tensor> &params,
                             ref::Tensor x, double *margin) {
  auto at = [&](const std::string &name) -> const ref::Tensor & {
    auto it = params.find(name);
    if (it == params.end())
      ADD_FAILURE() << "no parameter " << name;
    return it->second;
  };
  bool postLn = m.layout() == model::POST_LN;
  auto block = [&](const ref::Tensor &in, const std::string &norm,
                   const ref::Layer &layer) {
    return postLn ? ref::postLnBlock(in, layer, at(norm + ".weight"),
                                     at(norm + ".bias"), 1e-5)
                  : ref::preRmsBlock(in, layer, at(norm + ".weight"), 1e-6);
  };
  auto scoreOf = [](model::RouterScore s) {
    return s == model::SIGMOID ? ref::RouterScore::Sigmoid
                               : ref::RouterScore::Softmax;
  };
  auto actOf = [](model::Activation a) {
    switch (a) {
    case model::GELU_TANH:
      return ref::Activation::GeluTanh;
    case model::RELU:
      return ref::Activation::Relu;
    case model::SILU:
      return ref::Activation::Silu;
    case model::SWIGLU:
      return ref::Activation::SwiGlu;
    default:
      return ref::Activation::Gelu;
    }
  };
  auto ropeOf = [](model::RopeMode r) {
    return r == model::COMPACTED  ? ref::RopeMode::Compacted
           : r == model::ORIGINAL ? ref::RopeMode::Original
                                  : ref::RopeMode::None;
  };
  auto combineOf = [](model::CombineMode c) {
    return c == model::GATED ? ref::CombineMode::Gated
                             : ref::CombineMode::Union;
  };

  *margin = INFINITY;
  int64_t layer = 0;
  for (const model::Block &b : m.blocks())
    for (int64_t r = 0; r < b.repeat(); ++r, ++layer) {
      std::string pre = "blocks." + std::to_string(layer) + ".";
      if (b.has_dense_attention()) {
        const auto &a = b.dense_attention();
        x = block(x, pre + "norm1", [&](const ref::Tensor &in) {
          QkvWeights q = splitQkv(at(pre + "attn.wqkv"), at(pre + "attn.bqkv"));
          ref::AttentionOptions o;
          o.heads = a.heads();
          o.causal = a.causal();
          o.rope = ropeOf(a.rope());
          o.ropeBase = a.rope_base();
          return ref::attention(in, q.wq, q.wk, q.wv, q.bq, q.bk, q.bv,
                                at(pre + "attn.wo"), at(pre + "attn.bo"), o);
        });
      } else if (b.has_smha()) {
        const auto &a = b.smha();
        x = block(x, pre + "norm1", [&](const ref::Tensor &in) {
          const ref::Tensor &wg = at(pre + "attn.router.weight"),
                            &bg = at(pre + "attn.router.bias");
          QkvWeights q = splitQkv(at(pre + "attn.wqkv"), at(pre + "attn.bqkv"));
          *margin = std::min(*margin,
                             routingMargin(in, wg, bg, scoreOf(a.score()),
                                           a.top_k(), a.eps(),
                                           a.norm_capacity(), 1, std::nullopt));
          ref::SmhaOptions o;
          o.heads = a.heads();
          o.kTok = a.top_k();
          o.causal = a.causal();
          o.rope = ropeOf(a.rope());
          o.ropeBase = a.rope_base();
          o.combine = combineOf(a.combine());
          o.score = scoreOf(a.score());
          o.eps = a.eps();
          o.normCapacity = a.norm_capacity();
          return ref::smha(in, wg, bg, q.wq, q.wk, q.wv, q.bq, q.bk, q.bv,
                           at(pre + "attn.wo"), at(pre + "attn.bo"), o);
        });
      }
      if (b.has_dense_mlp()) {
        x = block(x, pre + "norm2", [&](const ref::Tensor &in) {
          return ref::denseMlp(in, at(pre + "mlp.w1"), at(pre + "mlp.b1"),
                               at(pre + "mlp.w2"), at(pre + "mlp.b2"),
                               actOf(b.dense_mlp().activation()));
        });
      } else if (b.has_uome() || b.has_moe()) {
        x = block(x, pre + "norm2", [&](const ref::Tensor &in) {
          const ref::Tensor &wg = at(pre + "mlp.router.weight"),
                            &bg = at(pre + "mlp.router.bias"),
                            &w1 = at(pre + "mlp.w1"), &b1 = at(pre + "mlp.b1"),
                            &w2 = at(pre + "mlp.w2"), &b2 = at(pre + "mlp.b2");
          if (b.has_moe()) {
            const auto &mo = b.moe();
            ref::Tensor p = ref::router(in, wg, bg, scoreOf(mo.score()));
            int64_t e = p.dim(-1);
            for (int64_t i = 0; i < p.numel() / e; ++i)
              *margin = std::min(
                  *margin, topKMargin(&p.data[i * e], e, mo.top_k()));
            ref::MoeOptions o;
            o.kTok = mo.top_k();
            o.renormalize = mo.renormalize();
            o.act = actOf(mo.activation());
            o.score = scoreOf(mo.score());
            return ref::moe(in, wg, bg, w1, b1, w2, b2, o);
          }
          const auto &u = b.uome();
          bool batchLayout = u.layout() == model::BATCH;
          ref::Tensor routed = batchLayout ? swapFirstTwo(in) : in;
          *margin = std::min(
              *margin, routingMargin(routed, wg, bg, scoreOf(u.score()),
                                     u.top_k(), u.eps(), u.norm_capacity(),
                                     u.patch_size(), u.capacity()));
          ref::UomeOptions o;
          o.kTok = u.top_k();
          o.capacity = u.capacity();
          o.patch = u.patch_size();
          o.act = actOf(u.activation());
          o.combine = combineOf(u.combine());
          o.score = scoreOf(u.score());
          o.eps = u.eps();
          o.normCapacity = u.norm_capacity();
          ref::Tensor y = ref::uome(routed, wg, bg, w1, b1, w2, b2, o);
          return batchLayout ? swapFirstTwo(y) : y;
        });
      }
    }
  if (m.final_norm())
    x = postLn ? ref::layerNorm(x, at("final_norm.weight"),
                                at("final_norm.bias"), 1e-5)
               : ref::rmsNorm(x, at("final_norm.weight"), 1e-6);
  return x;
}

struct ModelCase {
  const char *name;
  const char *text;
  int64_t batch, seq;
};

class ModelTest : public ::testing::TestWithParam<ModelCase> {};

/// Compiles case `c` for `target` (the host CPU, or the GPU emulation) and
/// checks it against the chain of reference layers on several seeds.
void checkAgainstReference(const ModelCase &c,
                           const mlir::uoe::CompileTarget &target) {
  auto parsed = mlir::uoe::parseModelText(c.text, c.name);
  ASSERT_TRUE(static_cast<bool>(parsed)) << llvm::toString(parsed.takeError());
  model::Model m = std::move(*parsed);
  llvm::Error resolved = mlir::uoe::resolveModel(m);
  ASSERT_FALSE(static_cast<bool>(resolved)) << llvm::toString(std::move(resolved));
  int64_t d = m.d_model();

  mlir::uoe::CompileArtifacts artifacts;
  artifacts.target = target;
  auto exe = mlir::uoe::compileModel(m, c.batch, c.seq, artifacts);
  ASSERT_TRUE(static_cast<bool>(exe)) << llvm::toString(exe.takeError());
  mlir::uoe::cpu::OrcLoader loader;
  auto program = rt::CpuProgram::load(*exe, loader);
  ASSERT_TRUE(program.ok()) << program.status().toString();

  std::vector<mlir::uoe::ParamSpec> specs = mlir::uoe::modelParameters(m);
  forSeeds([&](uint64_t seed) {
    std::map<std::string, ref::Tensor> params =
        randomParameters(specs, d, seed);
    ref::Tensor x = randomF32({c.batch, c.seq, d}, seed * 7919);
    double margin;
    ref::Tensor want = referenceForward(m, params, x, &margin);
    if (margin < kMinMargin)
      return false;

    auto hostTensor = [](const ref::Tensor &t) {
      HostBuffer b = toBuffer(t);
      return rt::HostTensor::fromVector(rt::DType::F32, b.shape, b.f32);
    };
    rt::NamedTensors named;
    for (const auto &[name, t] : params) {
      auto host = hostTensor(t);
      EXPECT_TRUE(host.ok()) << host.status().toString();
      if (!host.ok())
        return true;
      named.emplace(name, std::move(*host));
    }
    rt::Status bound = (*program)->bindParameters("forward", std::move(named));
    EXPECT_TRUE(bound.ok()) << bound.toString();
    auto input = hostTensor(x);
    EXPECT_TRUE(input.ok());
    if (!bound.ok() || !input.ok())
      return true;
    std::vector<rt::HostTensor> inputs;
    inputs.push_back(std::move(*input));
    auto out = (*program)->run("forward", inputs);
    EXPECT_TRUE(out.ok()) << out.status().toString();
    if (!out.ok() || out->size() != 1)
      return true;
    const rt::HostTensor &y = (*out)[0];
    const float *values = y.data<float>();
    EXPECT_TRUE(allClose(
        HostBuffer::ofF32(y.shape(),
                          std::vector<float>(values, values + y.numElements())),
        want));
    return true;
  });
}

TEST_P(ModelTest, CompiledModelMatchesReferenceChain) {
  checkAgainstReference(GetParam(), {});
}

// The GPU pipeline's mapping of every loop nest to a kernel (linearised
// iterations, guarded blocks, host memory copied for kernels), run as CPU
// loops: it must compute what the CPU pipeline computes.
TEST_P(ModelTest, GpuMappingMatchesReferenceChain) {
  mlir::uoe::CompileTarget target;
  target.gpuEmulation = true;
  checkAgainstReference(GetParam(), target);
}

INSTANTIATE_TEST_SUITE_P(
    Models, ModelTest,
    ::testing::Values(
        // The authors' LM block: post-LN, SMHA (causal, compacted rotary),
        // UoME over the tokens of each sequence.
        ModelCase{"post_ln", R"pb(
          d_model: 48
          layout: POST_LN
          blocks {
            smha { heads: 6 experts: 3 top_k: 1 causal: true rope: COMPACTED }
            uome { hidden: 96 experts: 3 top_k: 2 capacity: 0.5 }
          }
        )pb",
                  2, 37},
        // Their LRA block: pre-RMSNorm with a final RMSNorm; dense causal
        // attention with rotary positions, token-choice MoE with SwiGLU.
        ModelCase{"pre_rmsnorm", R"pb(
          d_model: 48
          layout: PRE_RMSNORM
          blocks {
            dense_attention { heads: 4 causal: true rope: ORIGINAL }
            moe { hidden: 20 experts: 3 top_k: 2 renormalize: true
                  activation: SWIGLU }
          }
        )pb",
                  2, 37},
        // Four layers through `repeat`: gated SMHA with original rotary
        // positions and UoME in the batch layout (sequences per position,
        // the authors' LM), then a dense layer and an MLP-only block.
        ModelCase{"four_layers", R"pb(
          d_model: 24
          layout: PRE_RMSNORM
          blocks {
            smha { heads: 4 experts: 2 top_k: 1 causal: true rope: ORIGINAL
                   combine: GATED }
            uome { hidden: 48 experts: 4 top_k: 2 layout: BATCH
                   combine: GATED activation: SILU }
            repeat: 2
          }
          blocks {
            dense_attention { heads: 2 }
            dense_mlp { hidden: 40 activation: GELU_TANH }
          }
          blocks { dense_mlp { hidden: 36 activation: RELU } }
        )pb",
                  4, 10}),
    [](const ::testing::TestParamInfo<ModelCase> &info) {
      return std::string(info.param.name);
    });

} // namespace
