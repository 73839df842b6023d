//===- CudaDevice.cpp - running Executables on a CUDA GPU ----------------===//
//
// CudaProgram: the target and device checks, then CpuProgram with the
// runtime functions of CudaRuntime.h and ManagedMemory, all inside a
// CudaContextScope so that the host code's calls (also those of its
// exported initializer and finalizer, kObjectInitSymbol/kObjectFiniSymbol,
// which load and unload the GPU modules) reach the program's context.
//
//===----------------------------------------------------------------------===//

#include "runtime/CudaDevice.h"

#include "runtime/CudaRuntime.h"

#include <cctype>
#include <cstring>

using namespace uoe::rt;

namespace {

constexpr const char *kCompileForCuda =
    "compile it with --device cuda --target sm_NN, NN being the GPU's "
    "compute capability (e.g. sm_90 for 9.0; `uoe-run devices` lists it)";

std::string smName(int major, int minor) {
  return strCat("sm_", major * 10 + minor);
}

/// "cuda:0 (NVIDIA A100-SXM4-80GB) is sm_80".
std::string describeDevice(const CudaDeviceInfo &device) {
  return strCat("cuda:", device.ordinal, " (", device.name, ") is ",
                smName(device.computeMajor, device.computeMinor));
}

} // namespace

StatusOr<CudaTarget> uoe::rt::parseCudaTarget(std::string_view target) {
  constexpr std::string_view kPrefix = "cuda:";
  if (target.substr(0, kPrefix.size()) != kPrefix)
    return failedPreconditionError(strCat("this executable was compiled for '",
                                          target, "', not for a CUDA GPU; ",
                                          kCompileForCuda));
  std::string_view rest = target.substr(kPrefix.size());
  std::string_view arch = rest.substr(0, rest.find(':'));
  auto malformed = [&] {
    return invalidArgumentError(
        strCat("executable target '", target,
               "' names no GPU architecture (expected 'cuda:sm_NN', e.g. "
               "'cuda:sm_90'); ",
               kCompileForCuda));
  };
  if (arch.substr(0, 3) != "sm_")
    return malformed();
  std::string_view number = arch.substr(3);
  size_t digits = 0;
  while (digits < number.size() &&
         std::isdigit(static_cast<unsigned char>(number[digits])))
    ++digits;
  std::string_view suffix = number.substr(digits);
  if (digits < 2 || digits > 4 ||
      !(suffix.empty() || suffix == "a" || suffix == "f"))
    return malformed();
  int sm = 0;
  for (char c : number.substr(0, digits))
    sm = sm * 10 + (c - '0');
  CudaTarget parsed;
  parsed.arch = std::string(arch);
  parsed.major = sm / 10;
  parsed.minor = sm % 10;
  parsed.variant = suffix.empty() ? 0 : suffix[0];
  if (parsed.major == 0)
    return malformed();
  return parsed;
}

Status uoe::rt::checkCudaTarget(const CudaTarget &target,
                                const CudaDeviceInfo &device) {
  int wanted = target.major * 10 + target.minor;
  int have = device.computeMajor * 10 + device.computeMinor;
  std::string fix = strCat("; compile with --target ",
                           smName(device.computeMajor, device.computeMinor));
  switch (target.variant) {
  case 'a':
    if (have != wanted)
      return failedPreconditionError(
          strCat("compiled for ", target.arch, ", which runs only on ",
                 smName(target.major, target.minor), " GPUs, but ",
                 describeDevice(device), fix));
    return okStatus();
  case 'f':
    if (device.computeMajor != target.major || have < wanted)
      return failedPreconditionError(strCat(
          "compiled for ", target.arch, ", which runs on compute capability ",
          target.major, ".x from ", target.major, ".", target.minor,
          " on, but ", describeDevice(device), fix));
    return okStatus();
  default:
    if (have < wanted)
      return failedPreconditionError(strCat(
          "compiled for ", target.arch, " but ", describeDevice(device), fix));
    return okStatus();
  }
}

/// Tensors in managed memory of the program's context: a copy made when
/// a tensor is staged, read by the host (results) once the GPU is idle.
class CudaProgram::ManagedMemory final : public ProgramMemory {
public:
  explicit ManagedMemory(CudaContext &context) : context_(context) {}

  StatusOr<void *> stage(const HostTensor &tensor) override {
    UOE_ASSIGN_OR_RETURN(void *buffer, context_.allocate(tensor.sizeInBytes()));
    // The GPU is idle between runs: the host may write managed memory.
    std::memcpy(buffer, tensor.rawData(), tensor.sizeInBytes());
    return buffer;
  }

  Status restage(void *buffer, const HostTensor &tensor) override {
    std::memcpy(buffer, tensor.rawData(), tensor.sizeInBytes());
    return okStatus();
  }

  void unstage(void *buffer) override { (void)context_.release(buffer); }

  void beginRun() override { (void)takeCudaRuntimeError(); }

  Status endRun() override {
    Status idle = context_.synchronize();
    // The recorded failure is the more precise one (it names the kernel).
    Status recorded = takeCudaRuntimeError();
    return recorded.ok() ? idle : recorded;
  }

  void releaseResult(void *allocated) override {
    // A result that is not a block of the allocator (a constant of the host
    // code) is not the program's to free.
    (void)context_.release(allocated);
  }

private:
  CudaContext &context_;
};

StatusOr<std::unique_ptr<CudaProgram>>
CudaProgram::load(const proto::Executable &executable, ObjectLoader &loader,
                  int ordinal) {
  // The target first: an executable for another device is refused the same
  // way on a machine without a GPU.
  UOE_RETURN_IF_ERROR(parseCudaTarget(executable.target()));
  UOE_ASSIGN_OR_RETURN(const CudaDriver *driver, CudaDriver::load());
  return load(executable, loader, *driver, ordinal);
}

StatusOr<std::unique_ptr<CudaProgram>>
CudaProgram::load(const proto::Executable &executable, ObjectLoader &loader,
                  const CudaDriver &driver, int ordinal) {
  UOE_ASSIGN_OR_RETURN(CudaTarget target, parseCudaTarget(executable.target()));
  if (ordinal < 0 || ordinal >= driver.deviceCount())
    return invalidArgumentError(
        strCat("there is no device cuda:", ordinal, "; this machine has ",
               driver.deviceCount(), " CUDA device(s)"));
  UOE_ASSIGN_OR_RETURN(std::vector<CudaDeviceInfo> devices,
                       listCudaDevices(driver));
  const CudaDeviceInfo &device = devices.at(ordinal);
  UOE_RETURN_IF_ERROR(checkCudaTarget(target, device));
  const CudaDriverApi &api = driver.api();
  cuda::CUdevice handle = 0;
  UOE_RETURN_IF_ERROR(
      driver.check("cuDeviceGet", api.deviceGet(&handle, ordinal)));
  int managed = 0;
  UOE_RETURN_IF_ERROR(driver.check(
      "cuDeviceGetAttribute",
      api.deviceGetAttribute(&managed, cuda::CU_DEVICE_ATTRIBUTE_MANAGED_MEMORY,
                             handle)));
  if (!managed)
    return unimplementedError(
        strCat("cuda:", ordinal, " (", device.name,
               ") cannot allocate managed memory, which programs on the "
               "cuda device keep their tensors in"));

  std::unique_ptr<CudaProgram> program(new CudaProgram());
  program->device_ = device;
  UOE_ASSIGN_OR_RETURN(program->context_, CudaContext::create(driver, ordinal));
  program->memory_ = std::make_unique<ManagedMemory>(*program->context_);
  {
    CudaContextScope scope(*program->context_);
    UOE_RETURN_IF_ERROR(scope.status());
    (void)takeCudaRuntimeError();
    // The host code's initializer loads its GPU modules (the driver
    // compiles PTX for the device) during this call.
    auto loaded = CpuProgram::load(executable, loader, cudaRuntimeSymbols(),
                                   *program->memory_);
    Status gpu = takeCudaRuntimeError();
    if (!loaded.ok())
      return loaded.status();
    program->program_ = std::move(*loaded);
    if (!gpu.ok())
      return Status(gpu.code(),
                    strCat("cannot load the GPU kernels: ", gpu.message()));
  }
  return program;
}

CudaProgram::~CudaProgram() {
  if (!context_)
    return;
  // The host code's finalizer unloads its modules.
  CudaContextScope scope(*context_);
  program_.reset();
}

Status CudaProgram::bindParameters(const std::string &entry,
                                   NamedTensors parameters) {
  CudaContextScope scope(*context_);
  UOE_RETURN_IF_ERROR(scope.status());
  return program_->bindParameters(entry, std::move(parameters));
}

StatusOr<std::vector<HostTensor>>
CudaProgram::run(const std::string &entry,
                 const std::vector<HostTensor> &inputs) {
  CudaContextScope scope(*context_);
  UOE_RETURN_IF_ERROR(scope.status());
  return program_->run(entry, inputs);
}

StatusOr<HostTensor>
CudaProgram::boundParameter(const std::string &entry,
                            const std::string &name) const {
  return program_->boundParameter(entry, name);
}

const proto::Executable &CudaProgram::executable() const {
  return program_->executable();
}
