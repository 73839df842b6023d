//===- ModelImporterTest.cpp - descriptions around the blocks ------------===//
//
// The importer's side of embeddings and heads: defaults it fills in, the
// parameters it lists (names, shapes, order: docs/MODEL_FORMAT.md), the
// signature of the @forward it builds, and errors that name the field.
//
//===----------------------------------------------------------------------===//

#include "frontend/ModelImporter.h"

#include "dialect/UoEOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"

#include "gtest/gtest.h"

#include <string>
#include <utility>
#include <vector>

using namespace mlir;
using namespace mlir::uoe;

namespace {

/// One dense-MLP block of width 48, post-LN, plus `around`.
std::string describe(const std::string &around) {
  return "name: \"t\" d_model: 48 blocks { dense_mlp { hidden: 24 } } " +
         around;
}

/// Parses and resolves `text`; the error text when either fails.
llvm::Expected<model::Model> load(const std::string &text) {
  auto m = parseModelText(text, "test.pbtxt");
  if (!m)
    return m.takeError();
  if (auto err = resolveModel(*m))
    return std::move(err);
  return m;
}

/// The error message of resolving `text` (empty if it resolves).
std::string resolveError(const std::string &text) {
  auto m = load(text);
  if (m)
    return "";
  return llvm::toString(m.takeError());
}

using Params = std::vector<std::pair<std::string, std::vector<int64_t>>>;

Params paramsOf(const model::Model &m) {
  Params out;
  for (const ParamSpec &p : modelParameters(m))
    out.push_back({p.name, p.shape});
  return out;
}

} // namespace

TEST(ModelImporter, EmbeddingAndHeadDefaults) {
  auto untied = load(describe("embedding { vocab_size: 37 } lm_head { }"));
  ASSERT_TRUE(!!untied) << llvm::toString(untied.takeError());
  EXPECT_EQ(untied->embedding().position(), model::NO_POSITION);
  EXPECT_TRUE(untied->lm_head().bias());

  auto tied = load(describe(
      "embedding { vocab_size: 37 } lm_head { tie_embeddings: true }"));
  ASSERT_TRUE(!!tied) << llvm::toString(tied.takeError());
  EXPECT_FALSE(tied->lm_head().bias());

  auto tiedBias = load(describe("embedding { vocab_size: 37 } "
                                "lm_head { tie_embeddings: true bias: true }"));
  ASSERT_TRUE(!!tiedBias) << llvm::toString(tiedBias.takeError());
  EXPECT_TRUE(tiedBias->lm_head().bias());
}

TEST(ModelImporter, ParametersAroundTheBlocks) {
  auto m = load(describe("embedding { vocab_size: 37 position: LEARNED "
                         "max_positions: 9 } lm_head { }"));
  ASSERT_TRUE(!!m) << llvm::toString(m.takeError());
  Params want = {
      {"embedding.weight", {37, 48}},  {"position_embedding.weight", {9, 48}},
      {"blocks.0.mlp.w1", {48, 24}},   {"blocks.0.mlp.b1", {24}},
      {"blocks.0.mlp.w2", {24, 48}},   {"blocks.0.mlp.b2", {48}},
      {"blocks.0.norm2.weight", {48}}, {"blocks.0.norm2.bias", {48}},
      {"lm_head.weight", {37, 48}},    {"lm_head.bias", {37}}};
  EXPECT_EQ(paramsOf(*m), want);
}

TEST(ModelImporter, TiedHeadHasNoWeightOfItsOwn) {
  auto m = load(describe("layout: PRE_RMSNORM embedding { vocab_size: 37 } "
                         "lm_head { tie_embeddings: true }"));
  ASSERT_TRUE(!!m) << llvm::toString(m.takeError());
  Params got = paramsOf(*m);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.front(), (Params::value_type{"embedding.weight", {37, 48}}));
  EXPECT_EQ(got.back(), (Params::value_type{"final_norm.weight", {48}}));
  for (const auto &p : got)
    EXPECT_NE(p.first.rfind("lm_head", 0), 0u) << p.first;
}

TEST(ModelImporter, ClassifierParameters) {
  auto m = load(describe("classifier { classes: 3 }"));
  ASSERT_TRUE(!!m) << llvm::toString(m.takeError());
  Params got = paramsOf(*m);
  ASSERT_GE(got.size(), 2u);
  EXPECT_EQ(got[got.size() - 2],
            (Params::value_type{"classifier.weight", {3, 48}}));
  EXPECT_EQ(got.back(), (Params::value_type{"classifier.bias", {3}}));
}

namespace {

/// Imports `text` for [2, 5] and returns @forward (and keeps the module).
struct Imported {
  MLIRContext context;
  OwningOpRef<ModuleOp> module;
  func::FuncOp forward;
  std::string error;
};

void importText(Imported &out, const std::string &text, int64_t batch = 2,
                int64_t seq = 5) {
  auto m = load(text);
  if (!m) {
    out.error = llvm::toString(m.takeError());
    return;
  }
  auto module = importModel(out.context, *m, batch, seq);
  if (!module) {
    out.error = llvm::toString(module.takeError());
    return;
  }
  out.module = std::move(*module);
  out.forward = out.module->lookupSymbol<func::FuncOp>("forward");
}

std::string typeString(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << t;
  return s;
}

} // namespace

TEST(ModelImporter, LmForwardTakesTokenIds) {
  Imported im;
  importText(im, describe("embedding { vocab_size: 37 position: LEARNED "
                          "max_positions: 9 } lm_head { }"));
  ASSERT_TRUE(im.error.empty()) << im.error;
  ASSERT_TRUE(im.forward);
  FunctionType type = im.forward.getFunctionType();
  EXPECT_EQ(typeString(type.getInput(0)), "tensor<2x5xi64>");
  EXPECT_EQ(im.forward.getArgAttrOfType<StringAttr>(0, "uoe.input").getValue(),
            "tokens");
  EXPECT_EQ(typeString(type.getResult(0)), "tensor<2x5x37xf32>");
  EXPECT_EQ(
      im.forward.getResultAttrOfType<StringAttr>(0, "uoe.result").getValue(),
      "logits");
  int embeddings = 0;
  im.forward.walk([&](EmbeddingOp op) {
    ++embeddings;
    EXPECT_TRUE(op.getPositions() != nullptr);
  });
  EXPECT_EQ(embeddings, 1);
}

TEST(ModelImporter, ClassifierForwardReturnsClassLogits) {
  Imported im;
  importText(
      im, describe("embedding { vocab_size: 37 } classifier { classes: 3 }"));
  ASSERT_TRUE(im.error.empty()) << im.error;
  FunctionType type = im.forward.getFunctionType();
  EXPECT_EQ(typeString(type.getInput(0)), "tensor<2x5xi64>");
  EXPECT_EQ(typeString(type.getResult(0)), "tensor<2x3xf32>");
}

TEST(ModelImporter, WithoutEmbeddingTakesHiddenStates) {
  Imported im;
  importText(im, describe("classifier { classes: 3 }"));
  ASSERT_TRUE(im.error.empty()) << im.error;
  FunctionType type = im.forward.getFunctionType();
  EXPECT_EQ(typeString(type.getInput(0)), "tensor<2x5x48xf32>");
  EXPECT_EQ(im.forward.getArgAttrOfType<StringAttr>(0, "uoe.input").getValue(),
            "hidden");
  EXPECT_EQ(typeString(type.getResult(0)), "tensor<2x3xf32>");

  Imported plain;
  importText(plain, describe(""));
  ASSERT_TRUE(plain.error.empty()) << plain.error;
  EXPECT_EQ(typeString(plain.forward.getFunctionType().getResult(0)),
            "tensor<2x5x48xf32>");
  EXPECT_EQ(
      plain.forward.getResultAttrOfType<StringAttr>(0, "uoe.result").getValue(),
      "hidden");
}

TEST(ModelImporter, SequenceLongerThanMaxPositionsNamesTheField) {
  Imported im;
  importText(im,
             describe("embedding { vocab_size: 37 position: LEARNED "
                      "max_positions: 4 } lm_head { }"),
             /*batch=*/2, /*seq=*/5);
  EXPECT_EQ(im.error, "embedding.max_positions: the sequence length T = 5 "
                      "exceeds max_positions (4)");
  Imported fits;
  importText(fits,
             describe("embedding { vocab_size: 37 position: LEARNED "
                      "max_positions: 5 } lm_head { }"),
             2, 5);
  EXPECT_TRUE(fits.error.empty()) << fits.error;
}

/// A bad description and the start of the error it must give.
struct BadField {
  const char *around;
  const char *error;
};

class ModelImporterErrors : public ::testing::TestWithParam<BadField> {};

TEST_P(ModelImporterErrors, NamesTheField) {
  std::string error = resolveError(describe(GetParam().around));
  EXPECT_EQ(error.rfind(GetParam().error, 0), 0u)
      << "description: " << GetParam().around << "\nerror: " << error;
}

INSTANTIATE_TEST_SUITE_P(
    Fields, ModelImporterErrors,
    ::testing::Values(
        BadField{"embedding { }",
                 "embedding.vocab_size: required, must be positive"},
        BadField{"embedding { vocab_size: -3 }",
                 "embedding.vocab_size: required, must be positive"},
        BadField{"embedding { vocab_size: 37 position: LEARNED }",
                 "embedding.max_positions: required with 'position: "
                 "LEARNED', must be positive"},
        BadField{"embedding { vocab_size: 37 position: LEARNED "
                 "max_positions: -1 }",
                 "embedding.max_positions: required with 'position: LEARNED'"},
        BadField{"embedding { vocab_size: 37 max_positions: 8 }",
                 "embedding.max_positions: 8 is given, but there is no "
                 "learned position embedding"},
        BadField{"lm_head { }", "lm_head: a language-model head needs an "
                                "embedding"},
        BadField{"lm_head { tie_embeddings: true }",
                 "lm_head: a language-model head needs an embedding"},
        BadField{"classifier { }", "classifier.classes: required, must be "
                                   "positive"},
        BadField{"embedding { vocab_size: 37 } classifier { classes: -2 }",
                 "classifier.classes: required, must be positive"},
        BadField{"embedding { vocab: 37 }", "test.pbtxt:1:"}));
