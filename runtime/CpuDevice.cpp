//===- CpuDevice.cpp - running Executables on the host CPU ---------------===//
//
// Calling convention of a `call_packed` step (the C interface MLIR emits
// for functions with `llvm.emit_c_interface`, behind a packed wrapper): the
// wrapper takes `void **args`; args[0] points to a pointer to the result
// descriptors (laid out one after the other), then one entry per input and
// per parameter, each pointing to a pointer to that tensor's ranked memref
// descriptor `{allocated, aligned, offset, sizes[rank], strides[rank]}`
// (all 8-byte fields). Results are allocated by the compiled code with
// malloc; we copy them out and free them.
//
//===----------------------------------------------------------------------===//

#include "runtime/CpuDevice.h"

#include "runtime/CpuBlas.h"

#include <cstdlib>
#include <cstring>
#include <set>

using namespace uoe::rt;

namespace {

/// A ranked memref descriptor as int64 words.
std::vector<int64_t> describe(const void *data,
                              const std::vector<int64_t> &shape) {
  std::vector<int64_t> words;
  auto address = static_cast<int64_t>(reinterpret_cast<intptr_t>(data));
  words.push_back(address);
  words.push_back(address);
  words.push_back(0);
  words.insert(words.end(), shape.begin(), shape.end());
  std::vector<int64_t> strides(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  words.insert(words.end(), strides.begin(), strides.end());
  return words;
}

std::vector<int64_t> shapeOf(const proto::TensorSpec &spec) {
  return {spec.shape().begin(), spec.shape().end()};
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

  // Descriptors: results first (filled by the callee), then inputs, params.
  std::vector<std::vector<int64_t>> descriptors;
  std::vector<int64_t> resultWords;
  for (const proto::TensorSpec &spec : entry->results())
    resultWords.resize(resultWords.size() + 3 + 2 * spec.shape_size(), 0);
  for (int i = 0; i < entry->inputs_size(); ++i) {
    const proto::TensorSpec &spec = entry->inputs(i);
    if (inputs[i].dtype() != DType::F32 || inputs[i].shape() != shapeOf(spec))
      return invalidArgumentError(strCat(
          "input '", spec.name(), "' must be f32 ",
          shapeToString(shapeOf(spec)), ", but it is ",
          dtypeName(inputs[i].dtype()), " ", shapeToString(inputs[i].shape())));
    descriptors.push_back(describe(inputs[i].rawData(), inputs[i].shape()));
  }
  std::set<int64_t> argumentBuffers;
  for (const proto::TensorSpec &spec : entry->parameters()) {
    const HostTensor &t = params->second.at(spec.name());
    descriptors.push_back(describe(t.rawData(), t.shape()));
  }
  for (const auto &d : descriptors)
    argumentBuffers.insert(d[0]);

  std::vector<void *> pointers;
  pointers.push_back(resultWords.data());
  for (auto &d : descriptors)
    pointers.push_back(d.data());
  std::vector<void *> packed;
  for (void *&p : pointers)
    packed.push_back(&p);

  for (const proto::Step &step : entry->steps()) {
    const auto &call = step.call_packed();
    UOE_ASSIGN_OR_RETURN(void *symbol,
                         objects_.at(call.kernel())->lookup(call.symbol()));
    reinterpret_cast<void (*)(void **)>(symbol)(packed.data());
  }

  // Copy the results out of the callee's buffers and release those.
  std::vector<HostTensor> results;
  size_t offset = 0;
  for (const proto::TensorSpec &spec : entry->results()) {
    std::vector<int64_t> shape = shapeOf(spec);
    const int64_t *words = resultWords.data() + offset;
    offset += 3 + 2 * shape.size();
    UOE_ASSIGN_OR_RETURN(HostTensor out,
                         HostTensor::create(DType::F32, shape));
    auto *aligned = reinterpret_cast<const float *>(words[1]) + words[2];
    std::vector<int64_t> expected = describe(nullptr, shape);
    bool contiguous = std::equal(words + 3, words + 3 + 2 * shape.size(),
                                 expected.begin() + 3);
    if (!contiguous)
      return internalError(strCat("result '", spec.name(),
                                  "' came back with an unexpected layout"));
    std::memcpy(out.rawData(), aligned, out.sizeInBytes());
    if (!argumentBuffers.count(words[0]))
      std::free(reinterpret_cast<void *>(words[0]));
    results.push_back(std::move(out));
  }
  return results;
}
