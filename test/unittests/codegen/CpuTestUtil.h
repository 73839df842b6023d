//===- CpuTestUtil.h - helpers for the CPU back-end tests -------*- C++ -*-===//
//
// A fixture that parses MLIR text, lowers it to the LLVM dialect with
// upstream passes only (so that these tests do not depend on the uoe
// pipeline), emits an object with ObjectEmitter and loads it with
// OrcLoader; plus a float64 reference GEMM and random data.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_TEST_UNITTESTS_CODEGEN_CPUTESTUTIL_H
#define UOE_TEST_UNITTESTS_CODEGEN_CPUTESTUTIL_H

#include "codegen/cpu/ObjectEmitter.h"
#include "driver/OrcLoader.h"
#include "runtime/CpuBlas.h"
#include "runtime/MemRefDescriptor.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include "gtest/gtest.h"

#include <random>
#include <string>
#include <vector>

namespace uoe::test {

/// The signature of every packed entry point.
using PackedFn = void (*)(void **);

/// The helpers are public so that free functions of the tests can use
/// them with the fixture.
class CpuCodegenTest : public ::testing::Test {
public:
  CpuCodegenTest();

  /// Parses `source`; fails the test (and returns null) on a parse error.
  mlir::OwningOpRef<mlir::ModuleOp> parse(const std::string &source);

  /// Lowers `module` to the LLVM dialect: linalg to loops, affine, scf, math
  /// (intrinsics, then libm), memref, arith, index, func, cf; then
  /// reconcile-unrealized-casts. Returns false (test failed) on error.
  bool lower(mlir::ModuleOp module);

  /// parse + lower + emitObject with `options`; empty on error, with the
  /// diagnostics in diagnostics().
  std::string compile(const std::string &source,
                      const mlir::uoe::cpu::ObjectOptions &options = {});

  /// compile + OrcLoader::load with the runtime's symbols; null (and test
  /// failed) on error.
  std::unique_ptr<rt::LoadedObject> compileAndLoad(const std::string &source);

  /// Looks up `uoe_packed_<name>` in `object`; null (and test failed) if it
  /// is missing.
  PackedFn packed(rt::LoadedObject &object, const std::string &name);

  /// Every diagnostic message emitted in the context so far, one per line.
  const std::string &diagnostics() const { return diagnostics_; }

  mlir::MLIRContext context;

private:
  std::string diagnostics_;
};

/// `count` floats uniform in [-1, 1) from `seed`.
std::vector<float> randomFloats(size_t count, unsigned seed);

/// The float64 reference of uoe_sgemm_batched for one matrix.
void referenceGemm(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                   bool transA, const float *b, int64_t ldb, bool transB,
                   float *c, int64_t ldc, float beta);

} // namespace uoe::test

#endif // UOE_TEST_UNITTESTS_CODEGEN_CPUTESTUTIL_H
