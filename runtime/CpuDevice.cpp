//===- CpuDevice.cpp - running Executables on the host CPU ---------------===//
//
// Calling convention of an entry point's function (the C interface MLIR emits
// for functions with `llvm.emit_c_interface`, behind a packed wrapper): the
// wrapper takes `void **args`; args[0] points to a pointer to the result
// descriptors (laid out one after the other), then one entry per input and
// per parameter, each pointing to a pointer to that tensor's ranked memref
// descriptor `{allocated, aligned, offset, sizes[rank], strides[rank]}`
// (all 8-byte fields). Results are allocated by the compiled code with
// the allocator of runtime/CpuAllocator.h; we copy them out and give the
// buffers back to it for the next run.
//
// Another device's host code (the cuda device's) runs through the same
// driver with its own runtime symbols and a ProgramMemory that stages the
// tensors into its buffers; for the cpu device every hook is what the code
// here did before there were hooks.
//
//===----------------------------------------------------------------------===//

#include "runtime/CpuDevice.h"

#include "runtime/CpuAllocator.h"
#include "runtime/CpuBlas.h"
#include "runtime/MemRefDescriptor.h"

#include <cstdlib>
#include <cstring>
#include <set>

using namespace uoe::rt;

namespace {

/// The cpu device's memory: host tensors are the compiled code's buffers.
class HostMemory final : public ProgramMemory {
public:
  StatusOr<void *> stage(const HostTensor &tensor) override {
    // The compiled code only reads its arguments.
    return const_cast<void *>(tensor.rawData());
  }
  Status restage(void *, const HostTensor &) override { return okStatus(); }
  void unstage(void *) override {}
  void beginRun() override {
    // A failed GEMM from an earlier run must not be blamed on this one.
    (void)takeCpuBlasError();
  }
  Status endRun() override { return takeCpuBlasError(); }
  void releaseResult(void *allocated) override {
    _mlir_memref_to_llvm_free(allocated);
  }
};

} // namespace

ProgramMemory &uoe::rt::hostProgramMemory() {
  static HostMemory *memory = new HostMemory();
  return *memory;
}

StatusOr<std::unique_ptr<CpuProgram>>
CpuProgram::load(const proto::Executable &executable, ObjectLoader &loader) {
  if (executable.target().rfind("cuda:", 0) == 0)
    return failedPreconditionError(
        strCat("this executable was compiled for '", executable.target(),
               "': run it with --device cuda, not on the cpu"));
  return load(executable, loader, cpuRuntimeSymbols(), hostProgramMemory());
}

std::vector<std::string>
CpuProgram::sameParameters(const proto::EntryPoint &entry) const {
  std::vector<std::string> names;
  for (const proto::EntryPoint &other : executable_.entry_points())
    if (rt::sameParameters(entry, other))
      names.push_back(other.name());
  return names;
}

std::vector<CpuProgram::Bound *> CpuProgram::bindings() const {
  std::vector<Bound *> unique;
  for (const auto &[entryName, bound] : bound_)
    if (std::find(unique.begin(), unique.end(), bound.get()) == unique.end())
      unique.push_back(bound.get());
  return unique;
}

CpuProgram::~CpuProgram() {
  for (Bound *bound : bindings())
    for (auto &[name, buffer] : bound->buffers)
      memory_->unstage(buffer);
  // Objects tear down in the reverse order of their setup.
  for (auto it = finalizers_.rbegin(); it != finalizers_.rend(); ++it)
    reinterpret_cast<void (*)()>(*it)();
}

StatusOr<std::unique_ptr<CpuProgram>>
CpuProgram::load(const proto::Executable &executable, ObjectLoader &loader,
                 const SymbolMap &runtimeSymbols, ProgramMemory &memory) {
  UOE_RETURN_IF_ERROR(validateExecutable(executable));
  std::unique_ptr<CpuProgram> program(new CpuProgram());
  program->executable_ = executable;
  program->memory_ = &memory;
  auto object = loader.load(executable.object(), runtimeSymbols);
  if (!object.ok())
    return Status(object.status().code(),
                  strCat("cannot load the executable's object code: ",
                         object.status().message()));
  program->object_ = std::move(*object);
  // The object's own setup (the cuda device's host code loads its GPU
  // kernels there) and, for later, its teardown.
  if (StatusOr<void *> init = program->object_->lookup(kObjectInitSymbol);
      init.ok())
    reinterpret_cast<void (*)()>(*init)();
  if (StatusOr<void *> fini = program->object_->lookup(kObjectFiniSymbol);
      fini.ok())
    program->finalizers_.push_back(*fini);
  // Resolve every entry point's function once, so that a missing symbol is
  // an error here and runs do no lookups.
  for (const proto::EntryPoint &entry : executable.entry_points()) {
    UOE_ASSIGN_OR_RETURN(void *address,
                         program->object_->lookup(entry.symbol()));
    program->functions_[entry.name()] = address;
  }
  return program;
}

Status CpuProgram::bindParameters(const std::string &entryName,
                                  NamedTensors parameters) {
  UOE_ASSIGN_OR_RETURN(const proto::EntryPoint *entry,
                       findEntryPoint(executable_, entryName));
  NamedTensors bound;
  for (const proto::TensorSpec &spec : entry->parameters()) {
    auto it = parameters.find(spec.name());
    if (it == parameters.end())
      return notFoundError(strCat("missing weight '", spec.name(),
                                  "' of shape ", shapeToString(shapeOf(spec))));
    if (it->second.shape() != shapeOf(spec))
      return invalidArgumentError(strCat(
          "weight '", spec.name(), "' has shape ",
          shapeToString(it->second.shape()), " but the model needs ",
          shapeToString(shapeOf(spec))));
    DType stored = it->second.dtype();
    if (stored != DType::F32 && stored != DType::F16 &&
        stored != DType::BF16 && stored != DType::F64)
      return invalidArgumentError(strCat(
          "weight '", spec.name(), "' is stored as ", dtypeName(stored),
          "; weights must be f32, f16, bf16 or f64 (converted to f32)"));
    auto f32 = it->second.toF32();
    if (!f32.ok())
      return invalidArgumentError(strCat("weight '", spec.name(),
                                         "': ", f32.status().message()));
    bound.emplace(spec.name(), std::move(*f32));
    parameters.erase(it);
  }
  if (!parameters.empty())
    return invalidArgumentError(strCat(
        "unexpected weight '", parameters.begin()->first,
        "': the model has no parameter of that name (", parameters.size(),
        " extra tensor(s))"));
  // Stage the new tensors (their storage stays where it is when the map
  // takes them), then let go of the old ones.
  std::map<std::string, void *, std::less<>> buffers;
  for (const auto &[name, tensor] : bound) {
    StatusOr<void *> buffer = memory_->stage(tensor);
    if (!buffer.ok()) {
      for (auto &[staged, pointer] : buffers)
        memory_->unstage(pointer);
      return Status(buffer.status().code(),
                    strCat("weight '", name, "': ", buffer.status().message()));
    }
    buffers.emplace(name, *buffer);
  }
  // The new binding serves every entry point with these parameters; the
  // one it replaces served exactly those.
  auto binding = std::make_shared<Bound>(
      Bound{std::move(bound), std::move(buffers)});
  std::shared_ptr<Bound> old;
  for (const std::string &name : sameParameters(*entry)) {
    std::shared_ptr<Bound> &slot = bound_[name];
    if (slot && slot != binding)
      old = slot;
    slot = binding;
  }
  if (old)
    for (auto &[name, pointer] : old->buffers)
      memory_->unstage(pointer);
  return okStatus();
}

StatusOr<std::vector<HostTensor>>
CpuProgram::run(const std::string &entryName,
                const std::vector<HostTensor> &inputs) {
  UOE_ASSIGN_OR_RETURN(const proto::EntryPoint *entry,
                       findEntryPoint(executable_, entryName));
  auto params = bound_.find(entryName);
  if (params == bound_.end() && entry->parameters_size() > 0)
    return failedPreconditionError(
        strCat("no weights are bound for entry point '", entryName, "'"));
  UOE_RETURN_IF_ERROR(checkInputs(*entry, inputs));
  // The inputs' buffers for this run, given back however the run ends.
  std::vector<void *> stagedInputs;
  struct Unstage {
    ProgramMemory &memory;
    std::vector<void *> &buffers;
    ~Unstage() {
      for (void *buffer : buffers)
        memory.unstage(buffer);
    }
  } unstage{*memory_, stagedInputs};
  for (int i = 0; i < entry->inputs_size(); ++i) {
    StatusOr<void *> buffer = memory_->stage(inputs[i]);
    if (!buffer.ok())
      return Status(buffer.status().code(),
                    strCat("input '", entry->inputs(i).name(),
                           "': ", buffer.status().message()));
    stagedInputs.push_back(*buffer);
  }

  // Arguments: the result descriptors (filled by the callee) first, then the
  // inputs and the parameters in the entry point's order.
  std::vector<int64_t> resultWords;
  for (const proto::TensorSpec &spec : entry->results())
    resultWords.resize(resultWords.size() + 3 + 2 * spec.shape_size(), 0);
  std::vector<MemRefDescriptor> descriptors;
  std::set<const void *> argumentBuffers;
  auto describe = [&](void *data, const std::vector<int64_t> &shape) {
    descriptors.push_back(MemRefDescriptor::rowMajor(data, shape));
    argumentBuffers.insert(data);
  };
  for (int i = 0; i < entry->inputs_size(); ++i)
    describe(stagedInputs[i], inputs[i].shape());
  if (entry->parameters_size() > 0) {
    const auto &buffers = params->second->buffers;
    for (const proto::TensorSpec &spec : entry->parameters())
      describe(buffers.at(spec.name()), shapeOf(spec));
  }

  PackedArguments packed;
  if (entry->results_size() > 0)
    packed.addPointer(resultWords.data());
  for (MemRefDescriptor &d : descriptors)
    packed.addMemRef(d);

  memory_->beginRun();
  void *function = functions_.at(entry->name());
  reinterpret_cast<void (*)(void **)>(function)(packed.data());
  Status blas = memory_->endRun();

  // Copy the results out of the callee's buffers and release those (once
  // each; a result may alias an argument or another result).
  std::vector<HostTensor> results;
  std::set<void *> released;
  size_t offset = 0;
  // The first problem taking the results out (a layout, an allocation).
  Status layout = okStatus();
  for (const proto::TensorSpec &spec : entry->results()) {
    std::vector<int64_t> shape = shapeOf(spec);
    MemRefDescriptor d = MemRefDescriptor::fromWords(
        resultWords.data() + offset, static_cast<int64_t>(shape.size()));
    offset += 3 + 2 * shape.size();
    if (layout.ok() && (!d.isRowMajor() || d.sizes() != shape))
      layout = internalError(strCat("result '", spec.name(),
                                    "' came back with an unexpected layout"));
    if (layout.ok() && blas.ok()) {
      // Every byte is copied over; an allocation failure still lets the
      // loop release the remaining buffers.
      DType dtype = dtypeOf(spec);
      auto out = HostTensor::createUninitialized(dtype, shape);
      if (!out.ok()) {
        layout = out.status();
      } else {
        std::memcpy(out->rawData(), d.firstElement(dtypeSize(dtype)),
                    out->sizeInBytes());
        results.push_back(std::move(*out));
      }
    }
    if (!argumentBuffers.count(d.allocated()) &&
        released.insert(d.allocated()).second)
      memory_->releaseResult(d.allocated());
  }
  UOE_RETURN_IF_ERROR(blas);
  UOE_RETURN_IF_ERROR(layout);
  UOE_RETURN_IF_ERROR(applyUpdates(*entry, results));
  return results;
}

Status CpuProgram::applyUpdates(const proto::EntryPoint &entry,
                                const std::vector<HostTensor> &results) {
  // Check every update first, so that a bad one changes nothing.
  for (int i = 0; i < entry.results_size(); ++i) {
    const proto::TensorSpec &spec = entry.results(i);
    if (spec.updates().empty())
      continue;
    for (Bound *bound : bindings()) {
      auto it = bound->tensors.find(spec.updates());
      if (it != bound->tensors.end() &&
          (it->second.shape() != results[i].shape() ||
           it->second.dtype() != results[i].dtype()))
        return internalError(strCat(
            "result '", spec.name(), "' cannot update '", spec.updates(),
            "': ", shapeToString(results[i].shape()), " vs ",
            shapeToString(it->second.shape())));
    }
  }
  for (int i = 0; i < entry.results_size(); ++i) {
    const proto::TensorSpec &spec = entry.results(i);
    if (spec.updates().empty())
      continue;
    for (Bound *bound : bindings()) {
      auto it = bound->tensors.find(spec.updates());
      if (it == bound->tensors.end())
        continue;
      std::memcpy(it->second.rawData(), results[i].rawData(),
                  results[i].sizeInBytes());
      UOE_RETURN_IF_ERROR(
          memory_->restage(bound->buffers.at(spec.updates()), it->second));
    }
  }
  return okStatus();
}

StatusOr<HostTensor> CpuProgram::boundParameter(const std::string &entryName,
                                                const std::string &name) const {
  auto bound = bound_.find(entryName);
  if (bound == bound_.end())
    return failedPreconditionError(
        strCat("no weights are bound for entry point '", entryName, "'"));
  auto it = bound->second->tensors.find(name);
  if (it == bound->second->tensors.end())
    return notFoundError(strCat("entry point '", entryName,
                                "' has no parameter '", name, "'"));
  return it->second.clone();
}
