//===- DecodeTest.cpp - incremental decoding over a key/value cache -------===//
//
// importDecoder's `prefill` and `decode_step` (docs/SPEC.md, "Decoding")
// against the model's own `forward` on the whole sequence: the logits of
// every position, reached by a prefill and then one step per token, equal
// the forward pass's at that position (to float rounding: the cached
// attention sums in its own order), for sequences of different lengths in
// one batch (right-padded prompts, a start per sequence), whatever the
// cache's capacity; and the runtime's errors for a cache that does not fit.
//
//===----------------------------------------------------------------------===//

#include "E2eTestUtil.h"

#include "driver/CompileModel.h"
#include "driver/OrcLoader.h"
#include "frontend/ModelImporter.h"
#include "runtime/CpuDevice.h"
#include "runtime/CpuKvCache.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace uoe;
using namespace uoe::e2e;
namespace model = ::uoe::model;

namespace {

/// GPT-2's shape in miniature, with the MLP of `MLP`.
const char *kDecoderModel = R"pb(
name: "decode_lm"
d_model: 32
layout: LAYOUT
final_norm: FINAL
embedding { vocab_size: 97 position: LEARNED max_positions: 24 }
blocks {
  ATTENTION
  MLP
  repeat: 2
}
lm_head { tie_embeddings: true }
)pb";

struct Variant {
  const char *name, *layout, *finalNorm, *attention, *mlp;
};

constexpr const char *kDense = "dense_attention { heads: 4 causal: true }";

const Variant kVariants[] = {
    {"gpt2", "PRE_LN", "true", kDense, "dense_mlp { hidden: 64 }"},
    {"post_ln", "POST_LN", "false", kDense,
     "dense_mlp { hidden: 48 activation: RELU }"},
    {"moe", "PRE_RMSNORM", "true", kDense,
     "moe { hidden: 16 experts: 4 top_k: 2 activation: SILU }"},
    {"uome_causal_safe", "PRE_LN", "true", kDense,
     "uome { hidden: 64 experts: 4 top_k: 2 routing: CAUSAL_SAFE }"},
    // Causal-safe SMHA over per-expert caches: rotary positions, gated and
    // union combines, one and two experts per token.
    {"smha_rope_gated", "PRE_LN", "true",
     "smha { heads: 4 experts: 2 top_k: 1 causal: true rope: ORIGINAL "
     "combine: GATED routing: CAUSAL_SAFE }",
     "uome { hidden: 64 experts: 4 top_k: 2 routing: CAUSAL_SAFE }"},
    {"smha_union", "POST_LN", "false",
     "smha { heads: 8 experts: 4 top_k: 2 causal: true routing: CAUSAL_SAFE }",
     "dense_mlp { hidden: 64 }"},
};

std::string replaced(std::string text, const std::string &what,
                     const std::string &with) {
  for (size_t at; (at = text.find(what)) != std::string::npos;)
    text.replace(at, what.size(), with);
  return text;
}

model::Model describe(const Variant &v) {
  std::string text = replaced(kDecoderModel, "LAYOUT", v.layout);
  text = replaced(text, "ATTENTION", v.attention);
  text = replaced(text, "FINAL", v.finalNorm);
  text = replaced(text, "MLP", v.mlp);
  auto parsed = mlir::uoe::parseModelText(text, v.name);
  EXPECT_TRUE(static_cast<bool>(parsed)) << llvm::toString(parsed.takeError());
  model::Model m = parsed ? std::move(*parsed) : model::Model();
  llvm::Error resolved = mlir::uoe::resolveModel(m);
  EXPECT_FALSE(static_cast<bool>(resolved))
      << llvm::toString(std::move(resolved));
  return m;
}

/// A compiled Executable with every entry point bound to the same weights.
struct Loaded {
  mlir::uoe::cpu::OrcLoader loader;
  std::unique_ptr<rt::CpuProgram> program;
};

std::unique_ptr<Loaded> load(const model::Model &m, int64_t batch, int64_t seq,
                             bool decoding, uint64_t seed) {
  mlir::uoe::CompileArtifacts artifacts;
  artifacts.decoding = decoding;
  auto exe = mlir::uoe::compileModel(m, batch, seq, artifacts);
  EXPECT_TRUE(static_cast<bool>(exe)) << llvm::toString(exe.takeError());
  if (!exe)
    return nullptr;
  auto loaded = std::make_unique<Loaded>();
  auto program = rt::CpuProgram::load(*exe, loaded->loader);
  EXPECT_TRUE(program.ok()) << program.status().toString();
  if (!program.ok())
    return nullptr;
  loaded->program = std::move(*program);
  for (const auto &entry : exe->entry_points()) {
    rt::Status bound = loaded->program->bindParameters(
        entry.name(), randomModelWeights(m, seed));
    EXPECT_TRUE(bound.ok()) << bound.toString();
    if (!bound.ok())
      return nullptr;
  }
  return loaded;
}

rt::HostTensor ints(std::vector<int64_t> shape, std::vector<int64_t> values) {
  auto t = rt::HostTensor::fromVector(rt::DType::I64, std::move(shape), values);
  EXPECT_TRUE(t.ok());
  return std::move(*t);
}

/// Runs a decoding entry point; the logits [B, V], or the error.
rt::StatusOr<std::vector<float>>
decode(Loaded &l, const char *entry, int64_t batch, int64_t t,
       const std::vector<int64_t> &ids, const std::vector<int64_t> &start,
       const std::vector<int64_t> &last, int64_t cache) {
  std::vector<rt::HostTensor> inputs;
  inputs.push_back(ints({batch, t}, ids));
  inputs.push_back(ints({batch}, start));
  inputs.push_back(ints({batch}, last));
  inputs.push_back(ints({}, {cache}));
  UOE_ASSIGN_OR_RETURN(std::vector<rt::HostTensor> out,
                       l.program->run(entry, inputs));
  const float *v = out[0].data<float>();
  return std::vector<float>(v, v + out[0].numElements());
}

class DecodeTest : public ::testing::TestWithParam<Variant> {};

// Tests that prefill plus one decode_step per token gives, at every
// position, the forward pass's logits there: three sequences of different
// prompt lengths in one batch (right-padded with other tokens, which the
// later steps overwrite), each then continued from its own position.
TEST_P(DecodeTest, StepsMatchTheForwardPass) {
  model::Model m = describe(GetParam());
  const int64_t batch = 3, seq = 12, prompt = 5, vocab = 97;
  const int64_t lengths[batch] = {5, 2, 4};
  auto forward = load(m, batch, seq, /*decoding=*/false, 7);
  auto decoder = load(m, batch, prompt, /*decoding=*/true, 7);
  ASSERT_TRUE(forward && decoder);
  ref::Tensor noise = ref::randomTensor({batch, seq}, 11);
  std::vector<int64_t> ids(batch * seq);
  for (int64_t i = 0; i < batch * seq; ++i)
    ids[i] = static_cast<int64_t>((noise.data[i] + 1.0) * 48.0) % vocab;
  std::vector<rt::HostTensor> inputs;
  inputs.push_back(ints({batch, seq}, ids));
  auto full = forward->program->run("forward", inputs);
  ASSERT_TRUE(full.ok()) << full.status().toString();
  const float *want = (*full)[0].data<float>();
  auto expectRowsMatch = [&](const std::vector<float> &got,
                             const std::vector<int64_t> &position,
                             const char *what) {
    for (int64_t r = 0; r < batch; ++r) {
      const float *expected = want + (r * seq + position[r]) * vocab;
      for (int64_t c = 0; c < vocab; ++c)
        ASSERT_NEAR(got[r * vocab + c], expected[c],
                    2e-5 * std::max(1.0f, std::fabs(expected[c])))
            << GetParam().name << " " << what << ": row " << r << ", position "
            << position[r] << ", logit " << c;
    }
  };
  // The prompts: each row's first lengths[r] tokens, padded with the
  // tokens of another row.
  std::vector<int64_t> prompts(batch * prompt);
  for (int64_t r = 0; r < batch; ++r)
    for (int64_t i = 0; i < prompt; ++i)
      prompts[r * prompt + i] =
          i < lengths[r] ? ids[r * seq + i] : ids[((r + 1) % batch) * seq + i];
  auto cache = rt::KvCache::create(2, batch, seq, 32);
  ASSERT_TRUE(cache.ok()) << cache.status().toString();
  std::vector<int64_t> position(batch), zeros(batch, 0);
  for (int64_t r = 0; r < batch; ++r)
    position[r] = lengths[r] - 1;
  auto logits = decode(*decoder, "prefill", batch, prompt, prompts, zeros,
                       position, (*cache)->address());
  ASSERT_TRUE(logits.ok()) << logits.status().toString();
  expectRowsMatch(*logits, position, "prefill");
  // Every row continues with its own next tokens from its own position.
  for (int64_t step = 0; step < seq - prompt; ++step) {
    std::vector<int64_t> next(batch), start(batch);
    for (int64_t r = 0; r < batch; ++r) {
      start[r] = lengths[r] + step;
      next[r] = ids[r * seq + start[r]];
    }
    logits = decode(*decoder, "decode_step", batch, 1, next, start, zeros,
                    (*cache)->address());
    ASSERT_TRUE(logits.ok()) << logits.status().toString();
    expectRowsMatch(*logits, start, "decode_step");
  }
}

INSTANTIATE_TEST_SUITE_P(Models, DecodeTest, ::testing::ValuesIn(kVariants),
                         [](const auto &info) { return info.param.name; });

// Tests that nothing about a step depends on the cache's capacity (the
// maximum length is the cache's, not the compiled code's): caches of 8 and
// of 4096 positions give the same bits.
TEST(DecodeCacheTest, CapacityDoesNotChangeTheResult) {
  model::Model m = describe(kVariants[0]);
  auto decoder = load(m, 1, 3, /*decoding=*/true, 5);
  ASSERT_TRUE(decoder);
  std::vector<std::vector<float>> results;
  for (int64_t capacity : {8, 4096}) {
    auto cache = rt::KvCache::create(2, 1, capacity, 32);
    ASSERT_TRUE(cache.ok());
    auto prefill = decode(*decoder, "prefill", 1, 3, {4, 8, 15}, {0}, {2},
                          (*cache)->address());
    ASSERT_TRUE(prefill.ok()) << prefill.status().toString();
    auto step = decode(*decoder, "decode_step", 1, 1, {16}, {3}, {0},
                       (*cache)->address());
    ASSERT_TRUE(step.ok()) << step.status().toString();
    results.push_back(*step);
  }
  EXPECT_EQ(results[0], results[1]);
}

// Tests that prefill and decode_step (the same parameters) share one
// binding: binding one binds both, and binding again replaces both.
TEST(DecodeCacheTest, EntryPointsShareTheirWeights) {
  model::Model m = describe(kVariants[0]);
  mlir::uoe::CompileArtifacts artifacts;
  artifacts.decoding = true;
  auto exe = mlir::uoe::compileModel(m, 1, 3, artifacts);
  ASSERT_TRUE(static_cast<bool>(exe)) << llvm::toString(exe.takeError());
  mlir::uoe::cpu::OrcLoader loader;
  auto program = rt::CpuProgram::load(*exe, loader);
  ASSERT_TRUE(program.ok()) << program.status().toString();
  auto stepLogits = [&](uint64_t seed) {
    rt::Status bound =
        (*program)->bindParameters("prefill", randomModelWeights(m, seed));
    EXPECT_TRUE(bound.ok()) << bound.toString();
    auto cache = rt::KvCache::create(2, 1, 8, 32);
    EXPECT_TRUE(cache.ok());
    std::vector<rt::HostTensor> inputs;
    inputs.push_back(ints({1, 1}, {5}));
    inputs.push_back(ints({1}, {0}));
    inputs.push_back(ints({1}, {0}));
    inputs.push_back(ints({}, {(*cache)->address()}));
    auto out = (*program)->run("decode_step", inputs);
    EXPECT_TRUE(out.ok()) << out.status().toString();
    auto weight =
        (*program)->boundParameter("decode_step", "blocks.0.attn.wqkv");
    EXPECT_TRUE(weight.ok());
    auto same = (*program)->boundParameter("prefill", "blocks.0.attn.wqkv");
    EXPECT_EQ(std::memcmp(weight->rawData(), same->rawData(),
                          weight->sizeInBytes()),
              0);
    const float *v = (*out)[0].data<float>();
    return std::vector<float>(v, v + (*out)[0].numElements());
  };
  std::vector<float> first = stepLogits(1), second = stepLogits(2);
  EXPECT_NE(first, second) << "binding prefill again rebinds decode_step";
  EXPECT_EQ(stepLogits(1), first);
}

// Tests the runtime's errors: a position past the cache's capacity, a
// cache of another width, and an address that names no cache, each naming
// the problem; a failed step writes nothing to the cache.
TEST(DecodeCacheTest, ErrorsNameTheProblem) {
  model::Model m = describe(kVariants[0]);
  auto decoder = load(m, 1, 3, /*decoding=*/true, 5);
  ASSERT_TRUE(decoder);
  auto small = rt::KvCache::create(2, 1, 4, 32);
  ASSERT_TRUE(small.ok());
  auto full =
      decode(*decoder, "decode_step", 1, 1, {3}, {4}, {0}, (*small)->address());
  ASSERT_FALSE(full.ok());
  EXPECT_NE(full.status().message().find(
                "writes position 4, outside the cache's 4 positions"),
            std::string::npos)
      << full.status().message();
  auto narrow = rt::KvCache::create(2, 1, 8, 16);
  ASSERT_TRUE(narrow.ok());
  auto wrong = decode(*decoder, "prefill", 1, 3, {1, 2, 3}, {0}, {2},
                      (*narrow)->address());
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("do not fit the cache"),
            std::string::npos)
      << wrong.status().message();
  int64_t notACache[8] = {};
  auto bogus = decode(*decoder, "prefill", 1, 3, {1, 2, 3}, {0}, {2},
                      reinterpret_cast<intptr_t>(notACache));
  ASSERT_FALSE(bogus.ok());
  EXPECT_NE(bogus.status().message().find(
                "the kv_cache input does not name a key/value cache"),
            std::string::npos)
      << bogus.status().message();
  auto last = decode(*decoder, "prefill", 1, 3, {1, 2, 3}, {0}, {3},
                     (*small)->address());
  ASSERT_FALSE(last.ok()) << "last 3 of 3 tokens";
}

// Tests that models that cannot decode incrementally are refused with the
// field that prevents it.
TEST(DecodeCacheTest, UndecodableModelsNameTheField) {
  model::Model reference = describe(kVariants[4]);
  reference.mutable_blocks(0)->mutable_smha()->set_routing(model::REFERENCE);
  llvm::Error why0 = mlir::uoe::checkDecodable(reference);
  ASSERT_TRUE(static_cast<bool>(why0));
  EXPECT_NE(llvm::toString(std::move(why0)).find("blocks[0].smha"),
            std::string::npos);
  model::Model m = describe(kVariants[3]);
  m.mutable_blocks(0)->mutable_uome()->set_routing(model::REFERENCE);
  llvm::Error why = mlir::uoe::checkDecodable(m);
  ASSERT_TRUE(static_cast<bool>(why));
  EXPECT_NE(llvm::toString(std::move(why)).find("blocks[0].uome.routing"),
            std::string::npos);
  model::Model nonCausal = describe(kVariants[0]);
  nonCausal.mutable_blocks(0)->mutable_dense_attention()->set_causal(false);
  llvm::Error why2 = mlir::uoe::checkDecodable(nonCausal);
  ASSERT_TRUE(static_cast<bool>(why2));
  EXPECT_NE(
      llvm::toString(std::move(why2)).find("blocks[0].dense_attention.causal"),
      std::string::npos);
}

} // namespace
