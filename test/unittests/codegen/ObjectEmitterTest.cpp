//===- ObjectEmitterTest.cpp - LLVM dialect to object code ---------------===//
//
// The emitter on hand-written LLVM-dialect modules: the packed entry point
// convention (argument slots, the result slot), the optimised IR dump,
// target options, and every error it reports as a diagnostic instead of
// aborting.
//
//===----------------------------------------------------------------------===//

#include "CpuTestUtil.h"

#include "llvm/TargetParser/Host.h"

using namespace ::uoe::test;
using mlir::uoe::cpu::emitObject;
using mlir::uoe::cpu::ObjectOptions;
using ::uoe::rt::PackedArguments;

namespace {

using ObjectEmitterTest = CpuCodegenTest;

constexpr const char *kMulAdd = R"mlir(
llvm.func @_mlir_ciface_mul_add(%a: i64, %b: i64, %c: !llvm.ptr) -> i64 {
  %x = llvm.load %c : !llvm.ptr -> i64
  %p = llvm.mul %a, %b : i64
  %s = llvm.add %p, %x : i64
  llvm.return %s : i64
}
llvm.func @_mlir_ciface_store(%out: !llvm.ptr, %v: f64) {
  llvm.store %v, %out : f64, !llvm.ptr
  llvm.return
}
llvm.func @_mlir_ciface_declared(i64)
)mlir";

/// Emits and loads `source` (already LLVM dialect) with `options`.
std::unique_ptr<::uoe::rt::LoadedObject>
emitAndLoad(CpuCodegenTest &test, const std::string &source,
            const ObjectOptions &options, std::string *ir = nullptr) {
  auto module = test.parse(source);
  if (!module)
    return nullptr;
  auto object = emitObject(*module, options, ir);
  EXPECT_TRUE(mlir::succeeded(object)) << test.diagnostics();
  if (mlir::failed(object))
    return nullptr;
  mlir::uoe::cpu::OrcLoader loader;
  auto loaded = loader.load(*object, {});
  EXPECT_TRUE(loaded.ok()) << loaded.status().toString();
  return loaded.ok() ? std::move(*loaded) : nullptr;
}

// Tests the packed convention on C-interface functions written directly:
// args[i] points to argument i, a returned value goes to *args[n], and
// declarations get no wrapper.
TEST_F(ObjectEmitterTest, PackedEntryPointsLoadArgumentsAndStoreTheResult) {
  std::string ir;
  auto object = emitAndLoad(*this, kMulAdd, {}, &ir);
  ASSERT_TRUE(object);

  PackedFn mulAdd = packed(*object, "mul_add");
  ASSERT_TRUE(mulAdd);
  int64_t a = 6, b = -7, addend = 1000, result = 0;
  int64_t *addendPointer = &addend;
  PackedArguments args;
  args.addScalar(&a);
  args.addScalar(&b);
  args.addScalar(&addendPointer); // a pointer argument: a slot holding it
  args.addScalar(&result);
  mulAdd(args.data());
  EXPECT_EQ(result, 958);

  PackedFn store = packed(*object, "store");
  ASSERT_TRUE(store);
  double target = 0, value = 2.5;
  PackedArguments storeArgs;
  storeArgs.addPointer(&target);
  storeArgs.addScalar(&value);
  store(storeArgs.data());
  EXPECT_EQ(target, 2.5);

  EXPECT_FALSE(object->lookup("uoe_packed_declared").ok());
  EXPECT_NE(ir.find("define void @uoe_packed_mul_add(ptr"), std::string::npos)
      << ir;
  EXPECT_EQ(ir.find("uoe_packed_declared"), std::string::npos);
}

// Tests that named CPUs, extra features and every optimisation level work
// (baseline x86-64 code runs on any x86-64 host).
TEST_F(ObjectEmitterTest, TargetOptions) {
  for (unsigned level = 0; level <= 3; ++level) {
    ObjectOptions options;
    options.cpu = "x86-64";
    options.features = "+sse4.2,-avx";
    options.optLevel = level;
    std::string ir;
    auto object = emitAndLoad(*this, kMulAdd, options, &ir);
    ASSERT_TRUE(object) << "level " << level;
    EXPECT_NE(ir.find("\"target-cpu\"=\"x86-64\""), std::string::npos);
    PackedFn mulAdd = packed(*object, "mul_add");
    ASSERT_TRUE(mulAdd);
    int64_t a = 3, b = 4, addend = 5, result = 0;
    int64_t *addendPointer = &addend;
    PackedArguments args;
    args.addScalar(&a);
    args.addScalar(&b);
    args.addScalar(&addendPointer);
    args.addScalar(&result);
    mulAdd(args.data());
    EXPECT_EQ(result, 17);
  }
}

// Tests that the default options target the host CPU with its features.
TEST_F(ObjectEmitterTest, DefaultsTargetTheHost) {
  std::string ir;
  auto object = emitAndLoad(*this, kMulAdd, {}, &ir);
  ASSERT_TRUE(object);
  std::string cpu = llvm::sys::getHostCPUName().str();
  EXPECT_NE(ir.find("\"target-cpu\"=\"" + cpu + "\""), std::string::npos);
  EXPECT_NE(ir.find("target triple = \"" + llvm::sys::getProcessTriple()),
            std::string::npos);
}

// Tests the shape of the host description used in cache keys.
TEST_F(ObjectEmitterTest, HostTargetDescription) {
  std::string description = mlir::uoe::cpu::hostTargetDescription();
  std::string prefix = llvm::sys::getProcessTriple() + ":" +
                       llvm::sys::getHostCPUName().str() + ":";
  ASSERT_EQ(description.rfind(prefix, 0), 0u) << description;
  std::string digest = description.substr(prefix.size());
  EXPECT_EQ(digest.size(), 16u) << description;
  EXPECT_EQ(digest.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(description, mlir::uoe::cpu::hostTargetDescription());
}

/// Expects emitObject(source, options) to fail with a diagnostic that
/// contains `message`.
void expectError(CpuCodegenTest &test, const std::string &source,
                 const ObjectOptions &options, const std::string &message) {
  auto module = test.parse(source);
  ASSERT_TRUE(module);
  auto object = emitObject(*module, options);
  EXPECT_TRUE(mlir::failed(object));
  EXPECT_NE(test.diagnostics().find(message), std::string::npos)
      << "expected '" << message << "' in:\n"
      << test.diagnostics();
}

// Tests that a module lowered only halfway is rejected with the op named.
TEST_F(ObjectEmitterTest, RejectsOpsOutsideTheLLVMDialect) {
  expectError(*this, R"mlir(
func.func @f(%x: f32) -> f32 {
  return %x : f32
}
)mlir",
              {}, "'func.func' op is not in the LLVM dialect");
}

// Tests that bad options are diagnostics, not LLVM warnings on stderr.
TEST_F(ObjectEmitterTest, RejectsBadOptions) {
  ObjectOptions badCpu;
  badCpu.cpu = "not-a-cpu";
  expectError(*this, kMulAdd, badCpu, "unknown CPU 'not-a-cpu'");
  ObjectOptions badFeature;
  badFeature.features = "+not-a-feature";
  expectError(*this, kMulAdd, badFeature,
              "unknown CPU feature 'not-a-feature'");
  ObjectOptions unsigned_;
  unsigned_.features = "avx2";
  expectError(*this, kMulAdd, unsigned_, "must start with '+'");
  ObjectOptions badLevel;
  badLevel.optLevel = 4;
  expectError(*this, kMulAdd, badLevel, "optimisation level 4");
}

// Tests that a module for another target is rejected.
TEST_F(ObjectEmitterTest, RejectsAModuleForAnotherTarget) {
  expectError(*this, R"mlir(
module attributes {llvm.target_triple = "nvptx64-nvidia-cuda"} {
  llvm.func @f() { llvm.return }
}
)mlir",
              {}, "the module targets 'nvptx64-nvidia-cuda'");
}

// Tests that a packed entry point never silently replaces a symbol.
TEST_F(ObjectEmitterTest, RejectsANameClashWithAPackedEntryPoint) {
  expectError(*this, R"mlir(
llvm.func @_mlir_ciface_f() { llvm.return }
llvm.func @uoe_packed_f() { llvm.return }
)mlir",
              {}, "cannot add the packed entry point 'uoe_packed_f'");
}

} // namespace
