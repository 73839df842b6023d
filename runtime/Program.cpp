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

StatusOr<std::unique_ptr<Program>>
uoe::rt::loadProgram(const proto::Executable &executable, ObjectLoader &loader,
                     std::string_view device) {
  if (device == "cpu") {
    UOE_ASSIGN_OR_RETURN(std::unique_ptr<CpuProgram> program,
                         CpuProgram::load(executable, loader));
    return std::unique_ptr<Program>(std::move(program));
  }
  int ordinal = 0;
  if (device.substr(0, 5) == "cuda:") {
    std::string_view digits = device.substr(5);
    auto [end, error] =
        std::from_chars(digits.data(), digits.data() + digits.size(), ordinal);
    if (digits.empty() || error != std::errc() ||
        end != digits.data() + digits.size() || ordinal < 0)
      return invalidArgumentError(
          strCat("unknown device '", device, "' (cpu, cuda or cuda:<N>)"));
  } else if (device != "cuda") {
    return invalidArgumentError(
        strCat("unknown device '", device, "' (cpu, cuda or cuda:<N>)"));
  }
  UOE_ASSIGN_OR_RETURN(std::unique_ptr<CudaProgram> program,
                       CudaProgram::load(executable, loader, ordinal));
  return std::unique_ptr<Program>(std::move(program));
}
