//===- CompileHarness.h - compile and call uoe functions in tests -*- C++ -*-===//
//
// The end-to-end tests need to run single uoe ops (and small chains of them)
// that no model description can express yet: a routing op returning its
// selection indices, SMHA with a key padding mask, data selection with a
// dynamic capacity. This harness takes the MLIR text of such a function
// (`func.func` with `llvm.emit_c_interface`, uoe ops on tensors), compiles
// it the way uoe-run does (buildCpuPipeline, then cpu::emitObject, by
// default with uoe-run's options), links it with OrcLoader and the runtime's symbols, and
// calls it on host buffers through the packed entry point
// (runtime/MemRefDescriptor.h documents the calling convention).
//
// Supported signatures: any number of ranked tensor arguments and results
// of f32, f64, i64 or i1 (i1 is one byte per element, 0 or 1), static or
// dynamic sizes; results are read back through their descriptors, whatever
// their strides, and the buffers the callee allocated are released to the
// runtime's allocator (runtime/CpuAllocator.h), as CpuProgram does.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_TEST_UNITTESTS_E2E_COMPILEHARNESS_H
#define UOE_TEST_UNITTESTS_E2E_COMPILEHARNESS_H

#include "codegen/cpu/ObjectEmitter.h"
#include "runtime/ObjectLoader.h"

#include "mlir/Pass/PassManager.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace uoe::e2e {

/// Element types the harness passes across the boundary.
enum class ElementKind { F32, F64, I64, I1 };

/// A row-major host tensor; only the vector of its kind is used. i1 values
/// are bytes (0 or 1), the in-memory form of `memref<...xi1>`.
struct HostBuffer {
  ElementKind kind = ElementKind::F32;
  std::vector<int64_t> shape;
  std::vector<float> f32;
  std::vector<int64_t> i64;
  std::vector<uint8_t> i1;
  std::vector<double> f64;

  static HostBuffer ofF32(std::vector<int64_t> shape, std::vector<float> v);
  static HostBuffer ofF64(std::vector<int64_t> shape, std::vector<double> v);
  static HostBuffer ofI64(std::vector<int64_t> shape, std::vector<int64_t> v);
  static HostBuffer ofI1(std::vector<int64_t> shape, std::vector<uint8_t> v);

  /// The number of elements (product of shape, 1 for rank 0).
  int64_t numel() const;
  /// The first element (nullptr for an empty tensor of this kind).
  void *data();
};

/// The element kind and sizes (-1 for `?`) of one argument or result.
struct TensorSignature {
  ElementKind kind = ElementKind::F32;
  std::vector<int64_t> shape;
};

/// A compiled function, ready to be called any number of times. Owns the
/// loaded object. Not thread-safe (one call at a time).
class CompiledFunction {
public:
  /// Calls the function on `args` (checked against the signature: kind,
  /// rank and static sizes) and returns its results in order, copied into
  /// row-major host buffers. On a bad argument returns no results and sets
  /// `*error` (when given).
  std::vector<HostBuffer> call(std::vector<HostBuffer> &args,
                               std::string *error = nullptr);

  const std::vector<TensorSignature> &arguments() const { return arguments_; }
  const std::vector<TensorSignature> &results() const { return results_; }

private:
  friend std::unique_ptr<CompiledFunction>
  compileFunction(const std::string &, const std::string &, std::string *,
                  const mlir::uoe::cpu::ObjectOptions &);
  CompiledFunction() = default;

  std::unique_ptr<rt::LoadedObject> object_;
  void (*entry_)(void **) = nullptr;
  std::vector<TensorSignature> arguments_, results_;
};

/// Parses `source`, lowers it with the CPU pipeline, emits an object and
/// loads it; returns the function `name` (which must carry
/// `llvm.emit_c_interface`), or null with every diagnostic in `*error`.
/// `options` are the object emitter's (the defaults are uoe-run's: the
/// host CPU at the emitter's default optimisation level). Each call uses its own MLIRContext.
std::unique_ptr<CompiledFunction>
compileFunction(const std::string &source, const std::string &name,
                std::string *error,
                const mlir::uoe::cpu::ObjectOptions &options = {});

/// Parses `source`, runs the passes `addPasses` adds to a pass manager, and
/// returns the module's text; on failure an empty string, with every
/// diagnostic in `*error`. (Tests of module passes such as --uoe-autodiff
/// then compile the result with compileFunction.)
std::string
transformModule(const std::string &source,
                const std::function<void(mlir::OpPassManager &)> &addPasses,
                std::string *error);

} // namespace uoe::e2e

#endif // UOE_TEST_UNITTESTS_E2E_COMPILEHARNESS_H
