//===- CpuDevice.cpp - running Executables on the host CPU ---------------===//
//
// Calling convention of a `call_packed` step (the C interface MLIR emits
// for functions with `llvm.emit_c_interface`, behind a packed wrapper): the
// wrapper takes `void **args`; args[0] points to a pointer to the result
// descriptors (laid out one after the other), then one entry per input and
// per parameter, each pointing to a pointer to that tensor's ranked memref
// descriptor `{allocated, aligned, offset, sizes[rank], strides[rank]}`
// (all 8-byte fields). Results are allocated by the compiled code with
// the allocator of runtime/CpuAllocator.h; we copy them out and give the
// buffers back to it for the next run.
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

std::vector<int64_t> shapeOf(const proto::TensorSpec &spec) {
  return {spec.shape().begin(), spec.shape().end()};
}

/// The element type of an input or result spec (validateExecutable has
/// checked that the name is known).
DType dtypeOf(const proto::TensorSpec &spec) {
  return parseDTypeName(spec.dtype()).value_or(DType::F32);
}

} // namespace

StatusOr<std::unique_ptr<CpuProgram>>
CpuProgram::load(const proto::Executable &executable, ObjectLoader &loader) {
  UOE_RETURN_IF_ERROR(validateExecutable(executable));
  std::unique_ptr<CpuProgram> program(new CpuProgram());
  program->executable_ = executable;
  for (const proto::Kernel &kernel : executable.kernels()) {
    if (kernel.format() != proto::Kernel::CPU_OBJECT)
      return invalidArgumentError(strCat(
          "kernel '", kernel.name(),
          "' is not CPU code; run this executable on the device it was "
          "compiled for (", executable.target(), ")"));
    auto object = loader.load(kernel.code(), cpuRuntimeSymbols());
    if (!object.ok())
      return Status(object.status().code(),
                    strCat("cannot load kernel '", kernel.name(),
                           "': ", object.status().message()));
    program->objects_[kernel.name()] = std::move(*object);
  }
  // Resolve every step's function once, so that a missing symbol is an
  // error here and runs do no lookups.
  for (const proto::EntryPoint &entry : executable.entry_points())
    for (const proto::Step &step : entry.steps()) {
      const auto &call = step.call_packed();
      auto key = std::make_pair(call.kernel(), call.symbol());
      if (program->functions_.count(key))
        continue;
      UOE_ASSIGN_OR_RETURN(
          void *address,
          program->objects_.at(call.kernel())->lookup(call.symbol()));
      program->functions_[key] = address;
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
  parameters_[entryName] = std::move(bound);
  return okStatus();
}

StatusOr<std::vector<HostTensor>>
CpuProgram::run(const std::string &entryName,
                const std::vector<HostTensor> &inputs) {
  UOE_ASSIGN_OR_RETURN(const proto::EntryPoint *entry,
                       findEntryPoint(executable_, entryName));
  auto params = parameters_.find(entryName);
  if (params == parameters_.end() && entry->parameters_size() > 0)
    return failedPreconditionError(
        strCat("no weights are bound for entry point '", entryName, "'"));
  if (static_cast<int>(inputs.size()) != entry->inputs_size())
    return invalidArgumentError(strCat("entry point '", entryName, "' takes ",
                                       entry->inputs_size(), " inputs, got ",
                                       inputs.size()));

  // Arguments: the result descriptors (filled by the callee) first, then the
  // inputs and the parameters in the entry point's order.
  std::vector<int64_t> resultWords;
  for (const proto::TensorSpec &spec : entry->results())
    resultWords.resize(resultWords.size() + 3 + 2 * spec.shape_size(), 0);
  std::vector<MemRefDescriptor> descriptors;
  std::set<const void *> argumentBuffers;
  auto describe = [&](const HostTensor &t) {
    // The compiled code only reads its arguments.
    void *data = const_cast<void *>(t.rawData());
    descriptors.push_back(MemRefDescriptor::rowMajor(data, t.shape()));
    argumentBuffers.insert(data);
  };
  for (int i = 0; i < entry->inputs_size(); ++i) {
    const proto::TensorSpec &spec = entry->inputs(i);
    if (inputs[i].dtype() != dtypeOf(spec) ||
        inputs[i].shape() != shapeOf(spec))
      return invalidArgumentError(strCat(
          "input '", spec.name(), "' must be ", dtypeName(dtypeOf(spec)), " ",
          shapeToString(shapeOf(spec)), ", but it is ",
          dtypeName(inputs[i].dtype()), " ", shapeToString(inputs[i].shape())));
    describe(inputs[i]);
  }
  for (const proto::TensorSpec &spec : entry->parameters())
    describe(params->second.at(spec.name()));

  PackedArguments packed;
  if (entry->results_size() > 0)
    packed.addPointer(resultWords.data());
  for (MemRefDescriptor &d : descriptors)
    packed.addMemRef(d);

  // A failed GEMM from an earlier run must not be blamed on this one.
  (void)takeCpuBlasError();
  for (const proto::Step &step : entry->steps()) {
    const auto &call = step.call_packed();
    void *function = functions_.at({call.kernel(), call.symbol()});
    reinterpret_cast<void (*)(void **)>(function)(packed.data());
  }
  Status blas = takeCpuBlasError();

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
      _mlir_memref_to_llvm_free(d.allocated());
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
    for (const auto &[entryName, bound] : parameters_) {
      auto it = bound.find(spec.updates());
      if (it != bound.end() && (it->second.shape() != results[i].shape() ||
                                it->second.dtype() != results[i].dtype()))
        return internalError(strCat(
            "result '", spec.name(), "' cannot update '", spec.updates(),
            "' of entry point '", entryName, "': ",
            shapeToString(results[i].shape()), " vs ",
            shapeToString(it->second.shape())));
    }
  }
  for (int i = 0; i < entry.results_size(); ++i) {
    const proto::TensorSpec &spec = entry.results(i);
    if (spec.updates().empty())
      continue;
    for (auto &[entryName, bound] : parameters_) {
      auto it = bound.find(spec.updates());
      if (it != bound.end())
        std::memcpy(it->second.rawData(), results[i].rawData(),
                    results[i].sizeInBytes());
    }
  }
  return okStatus();
}

StatusOr<HostTensor> CpuProgram::boundParameter(const std::string &entryName,
                                                const std::string &name) const {
  auto bound = parameters_.find(entryName);
  if (bound == parameters_.end())
    return failedPreconditionError(
        strCat("no weights are bound for entry point '", entryName, "'"));
  auto it = bound->second.find(name);
  if (it == bound->second.end())
    return notFoundError(strCat("entry point '", entryName,
                                "' has no parameter '", name, "'"));
  return it->second.clone();
}
