//===- ElfLoaderCompileTest.cpp - the runtime's ELF loader against ORC ----===//
//
// Real compiled models linked twice, by LLVM's ORC (driver/OrcLoader.h)
// and by the runtime's own loader (runtime/ElfObjectLoader.h), then run
// through CpuProgram on the same weights and inputs: the results must be
// bit for bit the same (the code is the same, only its address differs).
// Covered: a UoE language model (embedding, SMHA + UoME with OpenMP parallel
// loops, GEMM calls into the runtime, libm, a tied head), and the training
// entry points of compileTraining (train_step with in-place updates
// and the load-balancing loss, eval_loss, forward) over several steps.
//
// Also the generator and guard of the runtime-only build's committed
// Executable (test/unittests/runtime/SavedExecutable.h): the layer is
// compiled for the generic x86-64 CPU and checked against the committed
// expected output; with UOE_WRITE_SAVED_EXECUTABLE=<dir> in the
// environment the test writes the .uoex and the expected .npy to <dir>
// (test/unittests/runtime/Inputs/README.md).
//
//===----------------------------------------------------------------------===//

#include "driver/CompileModel.h"
#include "driver/CompileTraining.h"
#include "codegen/cpu/ObjectEmitter.h"
#include "driver/OrcLoader.h"
#include "frontend/ModelImporter.h"
#include "runtime/CpuDevice.h"
#include "runtime/CudaRuntime.h"
#include "runtime/ElfObjectLoader.h"
#include "formats/Executable.h"
#include "formats/Npy.h"
#include "test/unittests/runtime/SavedExecutable.h"

#include "mlir/Dialect/DLTI/DLTI.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include "llvm/Support/Error.h"

#include "gtest/gtest.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace uoe;
namespace model = ::uoe::model;

#define ASSERT_OK(expr)                                                        \
  do {                                                                         \
    const ::uoe::rt::Status uoeTestStatus = ::uoe::rt::detail::asStatus(expr); \
    ASSERT_TRUE(uoeTestStatus.ok()) << uoeTestStatus.toString();               \
  } while (false)

namespace {

const char *kLanguageModel = R"(
name: "elf_loader_lm"
d_model: 32
layout: POST_LN
embedding { vocab_size: 40 position: LEARNED max_positions: 16 }
lm_head { tie_embeddings: true }
blocks {
  smha { heads: 4 experts: 2 top_k: 1 causal: true rope: COMPACTED }
  uome { hidden: 64 experts: 4 top_k: 2 capacity: 0.5 }
  repeat: 2
}
)";
/// The training test's model: one layer, to keep the compile short.
const char *kTrainingModel = R"(
name: "elf_loader_train"
d_model: 16
layout: POST_LN
embedding { vocab_size: 40 position: LEARNED max_positions: 16 }
lm_head { tie_embeddings: true }
blocks {
  smha { heads: 4 experts: 2 top_k: 1 causal: true rope: COMPACTED }
  uome { hidden: 32 experts: 4 top_k: 2 capacity: 0.5 }
}
)";
constexpr int64_t kB = 2, kT = 12;

model::Model parse(const char *text, const char *name) {
  auto parsed = mlir::uoe::parseModelText(text, name);
  EXPECT_TRUE(static_cast<bool>(parsed)) << llvm::toString(parsed.takeError());
  if (!parsed)
    return {};
  model::Model m = std::move(*parsed);
  llvm::Error resolved = mlir::uoe::resolveModel(m);
  EXPECT_FALSE(static_cast<bool>(resolved))
      << llvm::toString(std::move(resolved));
  return m;
}

const rt::proto::EntryPoint &entryPoint(const rt::proto::Executable &exe,
                                        const std::string &name) {
  auto entry = rt::findEntryPoint(exe, name);
  if (!entry.ok())
    rt::fatalUsageError(entry.status().toString());
  return **entry;
}

/// Weights for every parameter of `entry` (SavedExecutable.h's), with the
/// optimizer state (`opt.*`) zero.
rt::NamedTensors weightsFor(const rt::proto::EntryPoint &entry) {
  rt::NamedTensors tensors = rt::test::savedParameters(entry);
  for (auto &[name, tensor] : tensors)
    if (name.rfind("opt.", 0) == 0)
      std::memset(tensor.rawData(), 0, tensor.sizeInBytes());
  return tensors;
}

rt::HostTensor tokens(int64_t shift) {
  std::vector<int64_t> ids;
  for (int64_t b = 0; b < kB; ++b)
    for (int64_t i = 0; i < kT; ++i)
      ids.push_back((5 * b + 3 * i + shift) % 40);
  return std::move(*rt::HostTensor::fromVector(rt::DType::I64, {kB, kT}, ids));
}

std::vector<rt::HostTensor> clones(const std::vector<rt::HostTensor> &from) {
  std::vector<rt::HostTensor> to;
  for (const rt::HostTensor &t : from)
    to.push_back(std::move(*t.clone()));
  return to;
}

/// Loads `exe` with ORC and with the ELF loader.
struct TwoPrograms {
  mlir::uoe::cpu::OrcLoader orc;
  rt::ElfObjectLoader elf;
  std::unique_ptr<rt::CpuProgram> byOrc, byElf;
};

void loadBoth(const rt::proto::Executable &exe, TwoPrograms &p) {
  auto byOrc = rt::CpuProgram::load(exe, p.orc);
  ASSERT_OK(byOrc);
  auto byElf = rt::CpuProgram::load(exe, p.elf);
  ASSERT_OK(byElf);
  p.byOrc = std::move(*byOrc);
  p.byElf = std::move(*byElf);
}

/// Runs `entry` on both programs; expects bit-identical results.
void expectSameRun(TwoPrograms &p, const std::string &entry,
                   const std::vector<rt::HostTensor> &inputs) {
  auto a = p.byOrc->run(entry, inputs);
  auto b = p.byElf->run(entry, inputs);
  ASSERT_OK(a);
  ASSERT_OK(b);
  ASSERT_EQ(a->size(), b->size());
  for (size_t i = 0; i < a->size(); ++i)
    EXPECT_TRUE((*a)[i].bitwiseEqual((*b)[i]))
        << entry << ": result " << i << " differs";
}

TEST(ElfLoaderCompileTest, LanguageModelMatchesOrcBitForBit) {
  model::Model m = parse(kLanguageModel, "elf_loader_lm");
  auto exe = mlir::uoe::compileModel(m, kB, kT);
  ASSERT_TRUE(static_cast<bool>(exe)) << llvm::toString(exe.takeError());
  TwoPrograms p;
  loadBoth(*exe, p);
  const rt::proto::EntryPoint &forward = entryPoint(*exe, "forward");
  ASSERT_OK(p.byOrc->bindParameters("forward", weightsFor(forward)));
  ASSERT_OK(p.byElf->bindParameters("forward", weightsFor(forward)));
  std::vector<rt::HostTensor> inputs;
  inputs.push_back(tokens(0));
  expectSameRun(p, "forward", inputs);
  inputs[0] = tokens(11);
  expectSameRun(p, "forward", inputs);
}

// The host object of an Executable compiled for a GPU (kernels embedded,
// MLIR's GPU runtime calls) links with both loaders against the cuda
// runtime's functions, so that a runtime-only build on a GPU machine runs
// it; its kernel module is loaded by the exported initializer, which a
// loader itself never calls (no GPU here to call it on).
TEST(ElfLoaderCompileTest, GpuHostObjectLinksWithBothLoaders) {
  model::Model m = parse(kLanguageModel, "elf_loader_lm");
  mlir::uoe::CompileArtifacts artifacts;
  artifacts.target.cudaChip = "sm_90";
  auto exe = mlir::uoe::compileModel(m, kB, kT, artifacts);
  ASSERT_TRUE(static_cast<bool>(exe)) << llvm::toString(exe.takeError());
  const std::string &code = exe->object();
  mlir::uoe::cpu::OrcLoader orc;
  rt::ElfObjectLoader elf;
  for (rt::ObjectLoader *loader : {static_cast<rt::ObjectLoader *>(&orc),
                                   static_cast<rt::ObjectLoader *>(&elf)}) {
    auto object = loader->load(code, rt::cudaRuntimeSymbols());
    ASSERT_OK(object);
    EXPECT_TRUE((*object)->lookup(rt::kObjectInitSymbol).ok());
    EXPECT_TRUE((*object)->lookup(rt::kObjectFiniSymbol).ok());
    EXPECT_TRUE((*object)->lookup("uoe_packed_forward").ok());
  }
}

TEST(ElfLoaderCompileTest, TrainingMatchesOrcBitForBit) {
  model::Model m = parse(kTrainingModel, "elf_loader_train");
  mlir::uoe::TrainOptions options;
  options.lr = 3e-3;
  options.loadBalance = 0.01;
  auto exe = mlir::uoe::compileTraining(m, options, kB, kT);
  ASSERT_TRUE(static_cast<bool>(exe)) << llvm::toString(exe.takeError());
  TwoPrograms p;
  loadBoth(*exe, p);
  for (const char *entry : {"train_step", "eval_loss", "forward"}) {
    const rt::proto::EntryPoint &spec = entryPoint(*exe, entry);
    ASSERT_OK(p.byOrc->bindParameters(entry, weightsFor(spec)));
    ASSERT_OK(p.byElf->bindParameters(entry, weightsFor(spec)));
  }
  for (int64_t step = 1; step <= 3; ++step) {
    std::vector<rt::HostTensor> inputs;
    inputs.push_back(tokens(step));
    inputs.push_back(tokens(step + 1));
    inputs.push_back(std::move(*rt::HostTensor::fromVector(
        rt::DType::I64, {}, std::vector<int64_t>{step})));
    expectSameRun(p, "train_step", inputs);
  }
  std::vector<rt::HostTensor> evalInputs;
  evalInputs.push_back(tokens(1));
  evalInputs.push_back(tokens(2));
  expectSameRun(p, "eval_loss", evalInputs);
  std::vector<rt::HostTensor> forwardInputs;
  forwardInputs.push_back(tokens(3));
  expectSameRun(p, "forward", forwardInputs);
  for (const rt::proto::TensorSpec &spec :
       entryPoint(*exe, "train_step").parameters()) {
    auto a = p.byOrc->boundParameter("train_step", spec.name());
    auto b = p.byElf->boundParameter("train_step", spec.name());
    ASSERT_OK(a);
    ASSERT_OK(b);
    EXPECT_TRUE(a->bitwiseEqual(*b)) << spec.name() << " differs";
  }
}

/// The committed Executable's recipe: kSavedModel compiled as uoe-run
/// compiles it, then its lowered module emitted again for kSavedCpu.
rt::proto::Executable buildSavedExecutable() {
  model::Model m = parse(rt::test::kSavedModel, "elf_loader_layer");
  std::string lowered;
  mlir::uoe::CompileArtifacts artifacts;
  artifacts.loweredMlir = &lowered;
  auto exe = mlir::uoe::compileModel(m, rt::test::kSavedBatch,
                                           rt::test::kSavedSeq, artifacts);
  EXPECT_TRUE(static_cast<bool>(exe)) << llvm::toString(exe.takeError());
  if (!exe)
    return {};

  mlir::MLIRContext context;
  context.loadDialect<mlir::LLVM::LLVMDialect, mlir::omp::OpenMPDialect,
                      mlir::DLTIDialect>();
  auto module = mlir::parseSourceString<mlir::ModuleOp>(lowered, &context);
  EXPECT_TRUE(module) << "cannot parse the lowered module";
  if (!module)
    return {};
  mlir::uoe::cpu::ObjectOptions options;
  options.cpu = rt::test::kSavedCpu;
  mlir::FailureOr<std::string> object =
      mlir::uoe::cpu::emitObject(*module, options);
  EXPECT_TRUE(mlir::succeeded(object));
  if (mlir::failed(object))
    return {};
  exe->set_object(*object);
  // "cpu:<triple>:<cpu>:<features digest>" -> the generic CPU.
  std::string target = exe->target();
  size_t triple = target.find(':') + 1;
  size_t cpu = target.find(':', triple);
  exe->set_target(target.substr(0, cpu) + ":" + rt::test::kSavedCpu +
                  ":generic");
  return std::move(*exe);
}

TEST(ElfLoaderCompileTest, SavedExecutableOfTheRuntimeTests) {
  rt::proto::Executable exe = buildSavedExecutable();
  ASSERT_FALSE(exe.object().empty());
  TwoPrograms p;
  loadBoth(exe, p);
  const rt::proto::EntryPoint &forward = entryPoint(exe, "forward");
  ASSERT_OK(
      p.byOrc->bindParameters("forward", rt::test::savedParameters(forward)));
  ASSERT_OK(
      p.byElf->bindParameters("forward", rt::test::savedParameters(forward)));
  std::vector<rt::HostTensor> inputs = rt::test::savedInputs(forward);
  expectSameRun(p, "forward", inputs);
  auto result = p.byElf->run("forward", inputs);
  ASSERT_OK(result);

  if (const char *dir = std::getenv("UOE_WRITE_SAVED_EXECUTABLE")) {
    std::string base = std::string(dir) + "/";
    ASSERT_OK(rt::saveExecutable(base + rt::test::kSavedExecutableFile, exe));
    ASSERT_OK(rt::writeNpy(base + rt::test::kSavedExpectedFile, (*result)[0]));
  }
  // The committed expected output is what this compiler computes today.
  auto expected = rt::readNpy(std::string(UOE_RUNTIME_TEST_INPUTS) + "/" +
                              rt::test::kSavedExpectedFile);
  ASSERT_OK(expected);
  EXPECT_EQ(rt::test::compareWithExpected((*result)[0], *expected), "")
      << "regenerate test/unittests/runtime/Inputs (see its README.md)";
  // The committed Executable has the entry point this one has.
  auto committed = rt::loadExecutable(std::string(UOE_RUNTIME_TEST_INPUTS) +
                                      "/" + rt::test::kSavedExecutableFile);
  ASSERT_OK(committed);
  EXPECT_EQ(entryPoint(*committed, "forward").SerializeAsString(),
            forward.SerializeAsString());
}

} // namespace
