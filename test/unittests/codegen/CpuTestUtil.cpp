//===- CpuTestUtil.cpp - helpers for the CPU back-end tests ---------------===//
//
// See CpuTestUtil.h.
//
//===----------------------------------------------------------------------===//

#include "CpuTestUtil.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/Support/TargetSelect.h"

using namespace mlir;
using namespace ::uoe::test;

CpuCodegenTest::CpuCodegenTest() {
  context.loadDialect<
      affine::AffineDialect, arith::ArithDialect, cf::ControlFlowDialect,
      func::FuncDialect, linalg::LinalgDialect, LLVM::LLVMDialect,
      math::MathDialect, memref::MemRefDialect, scf::SCFDialect>();
  context.getDiagEngine().registerHandler([this](Diagnostic &diag) {
    diagnostics_ += diag.str() + "\n";
    for (const Diagnostic &note : diag.getNotes())
      diagnostics_ += "  note: " + note.str() + "\n";
    return success();
  });
}

OwningOpRef<ModuleOp> CpuCodegenTest::parse(const std::string &source) {
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(source, &context);
  EXPECT_TRUE(module) << "parse error:\n" << diagnostics_;
  return module;
}

bool CpuCodegenTest::lower(ModuleOp module) {
  PassManager pm(&context);
  pm.addPass(createConvertLinalgToLoopsPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  bool ok = succeeded(pm.run(module));
  EXPECT_TRUE(ok) << "lowering failed:\n" << diagnostics_;
  return ok;
}

std::string
CpuCodegenTest::compile(const std::string &source,
                        const mlir::uoe::cpu::ObjectOptions &options) {
  OwningOpRef<ModuleOp> module = parse(source);
  if (!module || !lower(*module))
    return {};
  FailureOr<std::string> object = mlir::uoe::cpu::emitObject(*module, options);
  return succeeded(object) ? *object : std::string();
}

std::unique_ptr<::uoe::rt::LoadedObject>
CpuCodegenTest::compileAndLoad(const std::string &source) {
  std::string object = compile(source);
  EXPECT_FALSE(object.empty()) << "emitObject failed:\n" << diagnostics_;
  if (object.empty())
    return nullptr;
  mlir::uoe::cpu::OrcLoader loader;
  auto loaded = loader.load(object, ::uoe::rt::cpuRuntimeSymbols());
  EXPECT_TRUE(loaded.ok()) << loaded.status().toString();
  if (!loaded.ok())
    return nullptr;
  return std::move(*loaded);
}

PackedFn CpuCodegenTest::packed(::uoe::rt::LoadedObject &object,
                                const std::string &name) {
  auto symbol = object.lookup(mlir::uoe::cpu::kPackedPrefix + name);
  EXPECT_TRUE(symbol.ok()) << symbol.status().toString();
  return symbol.ok() ? reinterpret_cast<PackedFn>(*symbol) : nullptr;
}

namespace uoe::test {

std::vector<float> randomFloats(size_t count, unsigned seed) {
  std::mt19937 generator(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> values(count);
  for (float &v : values)
    v = uniform(generator);
  return values;
}

void referenceGemm(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                   bool transA, const float *b, int64_t ldb, bool transB,
                   float *c, int64_t ldc, float beta) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0.0;
      for (int64_t p = 0; p < k; ++p) {
        double x = transA ? a[p * lda + i] : a[i * lda + p];
        double y = transB ? b[j * ldb + p] : b[p * ldb + j];
        sum += x * y;
      }
      float &out = c[i * ldc + j];
      out = static_cast<float>(beta == 0.0f ? sum : sum + beta * out);
    }
  }
}

} // namespace uoe::test
