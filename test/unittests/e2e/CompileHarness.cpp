//===- CompileHarness.cpp - compile and call uoe functions in tests ------===//
//
// See CompileHarness.h.
//
//===----------------------------------------------------------------------===//

#include "CompileHarness.h"

#include "driver/OrcLoader.h"
#include "dialect/UoEOps.h"
#include "passes/Passes.h"
#include "runtime/CpuAllocator.h"
#include "runtime/CpuBlas.h"
#include "runtime/MemRefDescriptor.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>
#include <set>

using namespace mlir;

namespace uoe::e2e {

//===----------------------------------------------------------------------===//
// HostBuffer
//===----------------------------------------------------------------------===//

/// A buffer of `kind` and `shape` whose vector `member` holds `v`.
template <typename T>
static HostBuffer makeBuffer(ElementKind kind, std::vector<int64_t> shape,
                             std::vector<T> HostBuffer::*member,
                             std::vector<T> v) {
  HostBuffer b;
  b.kind = kind;
  b.shape = std::move(shape);
  b.*member = std::move(v);
  return b;
}

HostBuffer HostBuffer::ofF32(std::vector<int64_t> shape, std::vector<float> v) {
  return makeBuffer(ElementKind::F32, std::move(shape), &HostBuffer::f32,
                    std::move(v));
}

HostBuffer HostBuffer::ofF64(std::vector<int64_t> shape,
                             std::vector<double> v) {
  return makeBuffer(ElementKind::F64, std::move(shape), &HostBuffer::f64,
                    std::move(v));
}

HostBuffer HostBuffer::ofI64(std::vector<int64_t> shape,
                             std::vector<int64_t> v) {
  return makeBuffer(ElementKind::I64, std::move(shape), &HostBuffer::i64,
                    std::move(v));
}

HostBuffer HostBuffer::ofI1(std::vector<int64_t> shape,
                            std::vector<uint8_t> v) {
  return makeBuffer(ElementKind::I1, std::move(shape), &HostBuffer::i1,
                    std::move(v));
}

int64_t HostBuffer::numel() const {
  int64_t n = 1;
  for (int64_t s : shape)
    n *= s;
  return n;
}

void *HostBuffer::data() {
  switch (kind) {
  case ElementKind::F32:
    return f32.empty() ? nullptr : f32.data();
  case ElementKind::I64:
    return i64.empty() ? nullptr : i64.data();
  case ElementKind::I1:
    return i1.empty() ? nullptr : i1.data();
  case ElementKind::F64:
    return f64.empty() ? nullptr : f64.data();
  }
  return nullptr;
}

static size_t elementBytes(ElementKind kind) {
  switch (kind) {
  case ElementKind::F32:
    return 4;
  case ElementKind::I64:
    return 8;
  case ElementKind::I1:
    return 1;
  case ElementKind::F64:
    return 8;
  }
  return 0;
}

static size_t storedCount(const HostBuffer &b) {
  switch (b.kind) {
  case ElementKind::F32:
    return b.f32.size();
  case ElementKind::I64:
    return b.i64.size();
  case ElementKind::I1:
    return b.i1.size();
  case ElementKind::F64:
    return b.f64.size();
  }
  return 0;
}

static const char *kindName(ElementKind kind) {
  switch (kind) {
  case ElementKind::F32:
    return "f32";
  case ElementKind::I64:
    return "i64";
  case ElementKind::I1:
    return "i1";
  case ElementKind::F64:
    return "f64";
  }
  return "?";
}

//===----------------------------------------------------------------------===//
// Compilation
//===----------------------------------------------------------------------===//

/// The harness's view of a tensor type; fails on anything else.
static FailureOr<TensorSignature> signatureOf(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return failure();
  TensorSignature sig;
  Type elt = tensor.getElementType();
  if (elt.isF32())
    sig.kind = ElementKind::F32;
  else if (elt.isInteger(64))
    sig.kind = ElementKind::I64;
  else if (elt.isInteger(1))
    sig.kind = ElementKind::I1;
  else if (elt.isF64())
    sig.kind = ElementKind::F64;
  else
    return failure();
  for (int64_t dim : tensor.getShape())
    sig.shape.push_back(ShapedType::isDynamic(dim) ? -1 : dim);
  return sig;
}

/// A context with every dialect the compiler uses.
static std::unique_ptr<MLIRContext> newContext() {
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registry.insert<mlir::uoe::UoEDialect>();
  return std::make_unique<MLIRContext>(registry);
}

std::string
transformModule(const std::string &source,
                const std::function<void(OpPassManager &)> &addPasses,
                std::string *error) {
  std::unique_ptr<MLIRContext> context = newContext();
  std::string diagnostics;
  llvm::raw_string_ostream diagStream(diagnostics);
  ScopedDiagnosticHandler handler(context.get(), [&](Diagnostic &diag) {
    diagStream << diag.getLocation() << ": " << diag << "\n";
    return success();
  });
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(source, context.get());
  if (!module) {
    *error = "parse error:\n" + diagnostics;
    return "";
  }
  PassManager pm(context.get());
  addPasses(pm);
  if (failed(pm.run(*module))) {
    *error = "the passes failed:\n" + diagnostics;
    return "";
  }
  std::string text;
  llvm::raw_string_ostream out(text);
  module->print(out);
  return text;
}

std::unique_ptr<CompiledFunction>
compileFunction(const std::string &source, const std::string &name,
                std::string *error,
                const mlir::uoe::cpu::ObjectOptions &options) {
  std::unique_ptr<MLIRContext> owned = newContext();
  MLIRContext &context = *owned;

  std::string diagnostics;
  llvm::raw_string_ostream diagStream(diagnostics);
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    diagStream << diag.getLocation() << ": " << diag << "\n";
    for (const Diagnostic &note : diag.getNotes())
      diagStream << "  note: " << note << "\n";
    return success();
  });
  auto fail = [&](const std::string &what) {
    if (error)
      *error = what + (diagnostics.empty() ? "" : ":\n" + diagnostics);
    return nullptr;
  };

  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(source, &context);
  if (!module)
    return fail("parse error");
  auto func = module->lookupSymbol<func::FuncOp>(name);
  if (!func)
    return fail("no func.func @" + name);
  if (!func->hasAttr("llvm.emit_c_interface"))
    return fail("@" + name + " lacks llvm.emit_c_interface");

  std::unique_ptr<CompiledFunction> compiled(new CompiledFunction());
  for (Type t : func.getFunctionType().getInputs()) {
    FailureOr<TensorSignature> sig = signatureOf(t);
    if (failed(sig))
      return fail("unsupported argument type of @" + name);
    compiled->arguments_.push_back(*sig);
  }
  for (Type t : func.getFunctionType().getResults()) {
    FailureOr<TensorSignature> sig = signatureOf(t);
    if (failed(sig))
      return fail("unsupported result type of @" + name);
    compiled->results_.push_back(*sig);
  }

  PassManager pm(&context);
  if (failed(mlir::uoe::buildCpuPipeline(pm)) || failed(pm.run(*module)))
    return fail("the CPU pipeline failed");
  FailureOr<std::string> object =
      mlir::uoe::cpu::emitObject(*module, options);
  if (failed(object))
    return fail("object emission failed");

  mlir::uoe::cpu::OrcLoader loader;
  auto loaded = loader.load(*object, rt::cpuRuntimeSymbols());
  if (!loaded.ok())
    return fail("loading failed: " + loaded.status().toString());
  compiled->object_ = std::move(*loaded);
  auto symbol = compiled->object_->lookup(
      std::string(mlir::uoe::cpu::kPackedPrefix) + name);
  if (!symbol.ok())
    return fail("lookup failed: " + symbol.status().toString());
  compiled->entry_ = reinterpret_cast<void (*)(void **)>(*symbol);
  return compiled;
}

//===----------------------------------------------------------------------===//
// Calls
//===----------------------------------------------------------------------===//

/// Copies the (possibly strided) result `desc` into a row-major buffer.
static HostBuffer readResult(const rt::MemRefDescriptor &desc,
                             ElementKind kind) {
  HostBuffer out;
  out.kind = kind;
  out.shape = desc.sizes();
  std::vector<int64_t> strides = desc.strides();
  int64_t n = out.numel();
  size_t bytes = elementBytes(kind);
  std::vector<uint8_t> raw(static_cast<size_t>(n) * bytes);
  const uint8_t *base = static_cast<const uint8_t *>(desc.firstElement(bytes));
  std::vector<int64_t> index(out.shape.size(), 0);
  for (int64_t flat = 0; flat < n; ++flat) {
    int64_t offset = 0;
    for (size_t d = 0; d < index.size(); ++d)
      offset += index[d] * strides[d];
    std::memcpy(raw.data() + flat * bytes, base + offset * bytes, bytes);
    for (size_t d = index.size(); d-- > 0;) {
      if (++index[d] < out.shape[d])
        break;
      index[d] = 0;
    }
  }
  switch (kind) {
  case ElementKind::F32:
    out.f32.resize(static_cast<size_t>(n));
    std::memcpy(out.f32.data(), raw.data(), raw.size());
    break;
  case ElementKind::I64:
    out.i64.resize(static_cast<size_t>(n));
    std::memcpy(out.i64.data(), raw.data(), raw.size());
    break;
  case ElementKind::I1:
    out.i1 = std::move(raw);
    break;
  case ElementKind::F64:
    out.f64.resize(static_cast<size_t>(n));
    std::memcpy(out.f64.data(), raw.data(), raw.size());
    break;
  }
  return out;
}

std::vector<HostBuffer> CompiledFunction::call(std::vector<HostBuffer> &args,
                                               std::string *error) {
  auto reject = [&](const std::string &what) {
    if (error)
      *error = what;
    return std::vector<HostBuffer>();
  };
  if (args.size() != arguments_.size())
    return reject("expected " + std::to_string(arguments_.size()) +
                  " arguments, got " + std::to_string(args.size()));
  for (size_t i = 0; i < args.size(); ++i) {
    const TensorSignature &sig = arguments_[i];
    const HostBuffer &arg = args[i];
    std::string which = "argument " + std::to_string(i) + ": ";
    if (arg.kind != sig.kind)
      return reject(which + "expected " + kindName(sig.kind) + ", got " +
                    kindName(arg.kind));
    if (arg.shape.size() != sig.shape.size())
      return reject(which + "rank mismatch");
    for (size_t d = 0; d < sig.shape.size(); ++d)
      if (sig.shape[d] >= 0 && sig.shape[d] != arg.shape[d])
        return reject(which + "size mismatch in dimension " +
                      std::to_string(d));
    if (static_cast<int64_t>(storedCount(arg)) != arg.numel())
      return reject(which + "holds " + std::to_string(storedCount(arg)) +
                    " values for " + std::to_string(arg.numel()) +
                    " elements");
  }

  // The result descriptors, one after the other (all words are 8 bytes).
  size_t resultWords = 0;
  for (const TensorSignature &sig : results_)
    resultWords += rt::MemRefDescriptor::sizeInBytes(
                       static_cast<int64_t>(sig.shape.size())) /
                   8;
  std::vector<int64_t> resultStorage(resultWords, 0);

  std::vector<rt::MemRefDescriptor> descriptors;
  descriptors.reserve(args.size());
  rt::PackedArguments packed;
  if (!results_.empty())
    packed.addPointer(resultStorage.data());
  for (HostBuffer &arg : args) {
    descriptors.push_back(rt::MemRefDescriptor::rowMajor(arg.data(), arg.shape));
    packed.addMemRef(descriptors.back());
  }
  entry_(packed.data());

  // Read every result, then release what the callee allocated (through the
  // runtime's allocator, runtime/CpuAllocator.h): once per allocation, and
  // never an argument's buffer or a constant global (a function may return
  // a view of either).
  std::vector<HostBuffer> results;
  std::set<void *> toFree;
  size_t offset = 0;
  for (const TensorSignature &sig : results_) {
    int64_t rank = static_cast<int64_t>(sig.shape.size());
    auto desc =
        rt::MemRefDescriptor::fromWords(resultStorage.data() + offset, rank);
    offset += rt::MemRefDescriptor::sizeInBytes(rank) / 8;
    results.push_back(readResult(desc, sig.kind));
    void *allocated = desc.allocated();
    bool owned = allocated != nullptr &&
                 allocated != reinterpret_cast<void *>(0xdeadbeef);
    for (HostBuffer &arg : args) {
      auto *begin = static_cast<uint8_t *>(arg.data());
      auto *at = static_cast<uint8_t *>(allocated);
      if (begin && at >= begin &&
          at < begin + storedCount(arg) * elementBytes(arg.kind))
        owned = false;
    }
    if (owned)
      toFree.insert(allocated);
  }
  for (void *p : toFree)
    _mlir_memref_to_llvm_free(p);
  return results;
}

} // namespace uoe::e2e
