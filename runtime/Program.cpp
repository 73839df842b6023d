//===- Program.cpp - a loaded Executable on some device ------------------===//
//
// See Program.h.
//
//===----------------------------------------------------------------------===//

#include "runtime/Program.h"

#include "runtime/CpuDevice.h"
#include "runtime/CudaDevice.h"

#include <charconv>

using namespace uoe::rt;

StatusOr<DeviceName> uoe::rt::parseDeviceName(std::string_view device) {
  DeviceName name;
  if (device == "cpu")
    return name;
  name.cuda = true;
  if (device == "cuda")
    return name;
  std::string_view digits =
      device.substr(0, 5) == "cuda:" ? device.substr(5) : std::string_view();
  auto [end, error] = std::from_chars(
      digits.data(), digits.data() + digits.size(), name.ordinal);
  if (digits.empty() || error != std::errc() ||
      end != digits.data() + digits.size() || name.ordinal < 0)
    return invalidArgumentError(
        strCat("unknown device '", device, "' (cpu, cuda or cuda:<N>)"));
  return name;
}

StatusOr<std::unique_ptr<Program>>
uoe::rt::loadProgram(const proto::Executable &executable, ObjectLoader &loader,
                     std::string_view device) {
  UOE_ASSIGN_OR_RETURN(DeviceName name, parseDeviceName(device));
  if (!name.cuda) {
    UOE_ASSIGN_OR_RETURN(std::unique_ptr<CpuProgram> program,
                         CpuProgram::load(executable, loader));
    return std::unique_ptr<Program>(std::move(program));
  }
  UOE_ASSIGN_OR_RETURN(std::unique_ptr<CudaProgram> program,
                       CudaProgram::load(executable, loader, name.ordinal));
  return std::unique_ptr<Program>(std::move(program));
}

namespace {

/// "[1, 4]": the index of flat element `flat` in `shape`.
std::string indexToString(int64_t flat, const std::vector<int64_t> &shape) {
  std::vector<int64_t> index(shape.size());
  for (size_t i = shape.size(); i-- > 0;) {
    index[i] = shape[i] ? flat % shape[i] : 0;
    flat = shape[i] ? flat / shape[i] : 0;
  }
  return shapeToString(index);
}

template <typename T>
Status checkIndices(const std::string &name, const T *values, int64_t count,
                    int64_t bound, const std::vector<int64_t> &shape) {
  for (int64_t i = 0; i < count; ++i)
    if (values[i] < 0 || static_cast<int64_t>(values[i]) >= bound)
      return outOfRangeError(strCat(
          "input '", name, "': ", static_cast<int64_t>(values[i]), " at ",
          indexToString(i, shape), " is outside [0, ", bound,
          "), the rows of its table"));
  return okStatus();
}

} // namespace

std::vector<int64_t> uoe::rt::shapeOf(const proto::TensorSpec &spec) {
  return {spec.shape().begin(), spec.shape().end()};
}

bool uoe::rt::sameParameters(const proto::EntryPoint &a,
                             const proto::EntryPoint &b) {
  if (a.parameters_size() != b.parameters_size())
    return false;
  for (int i = 0; i < a.parameters_size(); ++i)
    if (a.parameters(i).name() != b.parameters(i).name() ||
        shapeOf(a.parameters(i)) != shapeOf(b.parameters(i)))
      return false;
  return true;
}

DType uoe::rt::dtypeOf(const proto::TensorSpec &spec) {
  return parseDTypeName(spec.dtype()).value_or(DType::F32);
}

Status uoe::rt::checkInputs(const proto::EntryPoint &entry,
                            const std::vector<HostTensor> &inputs) {
  if (static_cast<int>(inputs.size()) != entry.inputs_size())
    return invalidArgumentError(strCat("entry point '", entry.name(),
                                       "' takes ", entry.inputs_size(),
                                       " inputs, got ", inputs.size()));
  for (int i = 0; i < entry.inputs_size(); ++i) {
    const proto::TensorSpec &spec = entry.inputs(i);
    const HostTensor &input = inputs[i];
    if (input.dtype() != dtypeOf(spec) || input.shape() != shapeOf(spec))
      return invalidArgumentError(strCat(
          "input '", spec.name(), "' must be ", dtypeName(dtypeOf(spec)), " ",
          shapeToString(shapeOf(spec)), ", but it is ",
          dtypeName(input.dtype()), " ", shapeToString(input.shape())));
    if (spec.index_bound() <= 0)
      continue;
    if (input.dtype() == DType::I64)
      UOE_RETURN_IF_ERROR(checkIndices(spec.name(), input.data<int64_t>(),
                                       input.numElements(),
                                       spec.index_bound(), input.shape()));
    else if (input.dtype() == DType::I32)
      UOE_RETURN_IF_ERROR(checkIndices(spec.name(), input.data<int32_t>(),
                                       input.numElements(),
                                       spec.index_bound(), input.shape()));
  }
  return okStatus();
}
