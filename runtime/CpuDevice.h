//===- CpuDevice.h - running Executables on the host CPU ------*- C++ -*-===//
//
// The `cpu` device: loads the CPU object code of an Executable through an
// ObjectLoader (the compiler build provides one on LLVM's ORC JIT; see
// codegen/cpu/OrcLoader.h) and runs entry points on host tensors. GEMMs in
// the compiled code call the runtime's BLAS binding (runtime/CpuBlas.h),
// which uses every core the caller allows (setCpuThreads).
//
// Thread safety: one CpuProgram may be run from one thread at a time.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_RUNTIME_CPUDEVICE_H
#define UOE_RUNTIME_CPUDEVICE_H

#include "runtime/Executable.h"
#include "runtime/HostTensor.h"
#include "runtime/ObjectLoader.h"

#include <map>
#include <utility>
#include <memory>
#include <vector>

namespace uoe::rt {

/// Tensors by name (weights); f16 and bf16 tensors are converted to f32.
using NamedTensors = std::map<std::string, HostTensor, std::less<>>;

/// An Executable whose kernels are loaded and ready to run on the CPU.
class CpuProgram {
public:
  /// Loads every CPU kernel of `executable` (copied; the argument may go)
  /// and resolves the function of every step. Errors name the kernel and
  /// the loader's reason, or the missing symbol.
  static StatusOr<std::unique_ptr<CpuProgram>>
  load(const proto::Executable &executable, ObjectLoader &loader);

  /// Checks `parameters` against the parameters of entry point `entry`:
  /// every one present with its shape, no other tensor; converts them to f32
  /// and keeps them for run(). Errors name the tensor and the shapes.
  Status bindParameters(const std::string &entry, NamedTensors parameters);

  /// Runs `entry` on `inputs` (in the entry point's order, each with the
  /// dtype and exact shape of its spec: f32 hidden states, i64 token ids)
  /// with the bound parameters; returns the results in order, with the
  /// dtypes of their specs. InvalidArgument names an input of the wrong
  /// dtype or shape. Inputs are passed as they are: checking token ids
  /// against the vocabulary is the caller's choice (the compiled code
  /// clamps them; see uoe.embedding).
  ///
  /// A result whose spec names a parameter in `updates` (a training step's
  /// new weights and optimizer state) then replaces the bound tensor of
  /// that name in every entry point that has one, so that later runs of any
  /// entry point see it.
  StatusOr<std::vector<HostTensor>> run(const std::string &entry,
                                        const std::vector<HostTensor> &inputs);

  /// A copy of the tensor bound as parameter `name` of `entry` (e.g. the
  /// trained weights, for a checkpoint).
  StatusOr<HostTensor> boundParameter(const std::string &entry,
                                      const std::string &name) const;

  const proto::Executable &executable() const { return executable_; }

private:
  CpuProgram() = default;
  Status applyUpdates(const proto::EntryPoint &entry,
                      const std::vector<HostTensor> &results);
  proto::Executable executable_;
  std::map<std::string, std::unique_ptr<LoadedObject>> objects_;
  /// The address of every step's function, by (kernel, symbol).
  std::map<std::pair<std::string, std::string>, void *> functions_;
  std::map<std::string, NamedTensors> parameters_;
};

} // namespace uoe::rt

#endif // UOE_RUNTIME_CPUDEVICE_H
