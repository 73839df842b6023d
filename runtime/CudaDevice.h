//===- CudaDevice.h - running Executables on a CUDA GPU ---------*- C++ -*-===//
//
// The `cuda` device. An Executable compiled for it (target "cuda:sm_NN...")
// holds host objects, as the cpu device's does, whose entry points run on
// the CPU and launch PTX kernels embedded in them through the runtime
// functions of runtime/CudaRuntime.h, keeping every tensor in CUDA managed
// memory. CudaProgram is CpuProgram (the same loading, argument passing and
// parameter updates) with those runtime functions and a ProgramMemory that
// copies parameters into managed memory once, when they are bound, and
// inputs on every run; results are copied out of managed memory once the
// GPU is idle.
//
// Targets: "cuda:sm_90" was compiled for compute capability 9.0. PTX is
// compiled for the device when the program loads, so it runs on that
// capability and every later one; "sm_90a" (architecture-specific
// features) runs only on 9.0, and "sm_100f" (family-specific) on 10.x from
// 10.0 on.
//
// Thread safety: one CudaProgram may be used from one thread at a time, and
// (CudaRuntime.h) one CudaProgram loads or runs at a time in a process;
// calls of others wait.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_RUNTIME_CUDADEVICE_H
#define UOE_RUNTIME_CUDADEVICE_H

#include "runtime/CpuDevice.h"
#include "runtime/CudaDriver.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace uoe::rt {

class CudaContext;

/// The GPU architecture an Executable's target names.
struct CudaTarget {
  std::string arch; ///< e.g. "sm_90a"
  int major = 0;    ///< 9 ...
  int minor = 0;    ///< ... and 0 for sm_90
  /// 'a' (architecture-specific: this capability only), 'f' (family: this
  /// major version), or 0 (this capability and later).
  char variant = 0;
};

/// Parses an Executable's target, "cuda:sm_NN" optionally followed by 'a' or
/// 'f' and by ":..." (sm_NN is compute capability NN / 10 . NN % 10).
/// FailedPrecondition for a target of another device, naming it and saying
/// how to compile for the cuda device; InvalidArgument for a malformed cuda
/// target.
StatusOr<CudaTarget> parseCudaTarget(std::string_view target);

/// OK if code compiled for `target` runs on `device`; otherwise
/// FailedPrecondition, e.g. "compiled for sm_90 but cuda:0 (NVIDIA A100) is
/// sm_80; compile with --target sm_80".
Status checkCudaTarget(const CudaTarget &target, const CudaDeviceInfo &device);

/// An Executable whose host code is loaded, with its kernels compiled for
/// one CUDA device.
class CudaProgram final : public Program {
public:
  /// Loads `executable` (copied) for device `ordinal`, in this order: the
  /// target is parsed (parseCudaTarget's errors), the driver loaded
  /// (CudaDriver::load's "no CUDA device found: ..." passes unchanged),
  /// the ordinal checked (InvalidArgument), the device checked against the
  /// target (checkCudaTarget) and for managed memory (Unimplemented); then
  /// the host code is loaded as CpuProgram::load does, which compiles the
  /// PTX (a JIT failure is the error, with the JIT's log).
  static StatusOr<std::unique_ptr<CudaProgram>>
  load(const proto::Executable &executable, ObjectLoader &loader,
       int ordinal = 0);

  /// As above on `driver` (which must outlive the program) instead of the
  /// process-wide driver; for tests with a driver of their own.
  static StatusOr<std::unique_ptr<CudaProgram>>
  load(const proto::Executable &executable, ObjectLoader &loader,
       const CudaDriver &driver, int ordinal);

  /// Unloads the host code and its modules, then frees the program's
  /// managed memory and releases the device.
  ~CudaProgram() override;

  /// CpuProgram::bindParameters; the parameters are then also copied into
  /// managed memory, once.
  Status bindParameters(const std::string &entry,
                        NamedTensors parameters) override;

  /// CpuProgram::run. A failure on the GPU (a launch, a GEMM, an
  /// allocation) is the error, naming the driver or cuBLAS call and the
  /// kernel; results are then not returned.
  StatusOr<std::vector<HostTensor>>
  run(const std::string &entry, const std::vector<HostTensor> &inputs) override;

  /// CpuProgram::boundParameter (the host copy, kept up to date).
  StatusOr<HostTensor> boundParameter(const std::string &entry,
                                      const std::string &name) const override;

  const proto::Executable &executable() const override;
  /// The device the program runs on.
  const CudaDeviceInfo &device() const { return device_; }

private:
  class ManagedMemory;
  CudaProgram() = default;

  CudaDeviceInfo device_;
  // Destroyed bottom-up: the program (inside a scope of the context, see
  // the destructor), its memory, then the context.
  std::unique_ptr<CudaContext> context_;
  std::unique_ptr<ManagedMemory> memory_;
  std::unique_ptr<CpuProgram> program_;
};

} // namespace uoe::rt

#endif // UOE_RUNTIME_CUDADEVICE_H
