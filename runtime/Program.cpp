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
