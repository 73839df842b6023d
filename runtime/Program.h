//===- Program.h - a loaded Executable on some device -----------*- C++ -*-===//
//
// What callers (uoe-run, the C API, the training loop) need of a loaded
// Executable, whatever device runs it: bind parameters, run entry points,
// read bound parameters back. CpuProgram (runtime/CpuDevice.h) and
// CudaProgram (runtime/CudaDevice.h) implement it; loadProgram picks one by
// device name.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_RUNTIME_PROGRAM_H
#define UOE_RUNTIME_PROGRAM_H

#include "formats/Executable.h"
#include "support/HostTensor.h"
#include "runtime/ObjectLoader.h"

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace uoe::rt {

/// Tensors by name (weights); f16 and bf16 tensors are converted to f32.
using NamedTensors = std::map<std::string, HostTensor, std::less<>>;

/// A loaded Executable. Not thread-safe: one call at a time.
class Program {
public:
  virtual ~Program() = default;

  /// Checks `parameters` against the parameters of entry point `entry`:
  /// every one present with its shape, no other tensor; converts them to f32
  /// and keeps them for run(). Errors name the tensor and the shapes. Entry
  /// points with the same parameters (names and shapes in order: forward
  /// and forward_grad, prefill and decode_step) share one binding: binding
  /// any of them binds them all, and the weights are held once.
  virtual Status bindParameters(const std::string &entry,
                                NamedTensors parameters) = 0;

  /// Runs `entry` on `inputs` (in the entry point's order, each with the
  /// dtype and exact shape of its spec) with the bound parameters; returns
  /// the results in order. A result whose spec `updates` a parameter (a
  /// training step's new weights and optimizer state) replaces the bound
  /// tensor of that name in every entry point that has one.
  virtual StatusOr<std::vector<HostTensor>>
  run(const std::string &entry, const std::vector<HostTensor> &inputs) = 0;

  /// A copy of the tensor bound as parameter `name` of `entry`.
  virtual StatusOr<HostTensor>
  boundParameter(const std::string &entry, const std::string &name) const = 0;

  virtual const proto::Executable &executable() const = 0;
};

/// A device name: "cpu", "cuda" (the first GPU) or "cuda:<ordinal>".
struct DeviceName {
  bool cuda = false;
  int ordinal = 0;
};

/// Parses `device`; InvalidArgument "unknown device '<device>' (cpu, cuda or
/// cuda:<N>)" for anything else.
StatusOr<DeviceName> parseDeviceName(std::string_view device);

/// The shape of a tensor spec of an Executable.
std::vector<int64_t> shapeOf(const proto::TensorSpec &spec);

/// Whether entry points `a` and `b` take the same parameters (names and
/// shapes, in order): then they share one binding (Program::bindParameters).
bool sameParameters(const proto::EntryPoint &a, const proto::EntryPoint &b);

/// The element type of a tensor spec (validateExecutable has checked that
/// its name is known; f32 otherwise).
DType dtypeOf(const proto::TensorSpec &spec);

/// The one check of a run's inputs that every device and every front end
/// (uoe-run, uoe-exec, the C API, Python) goes through: the count, each
/// input's dtype and shape against `entry`, and the values of integer inputs
/// with an index_bound (token ids, token type ids) against [0, bound).
/// InvalidArgument naming the input, or for a value OutOfRange with its
/// position: "input 'tokens': 300 at [0, 4] is outside [0, 256), the rows
/// of its table".
Status checkInputs(const proto::EntryPoint &entry,
                   const std::vector<HostTensor> &inputs);

/// Loads `executable` for `device`: "cpu", "cuda" (the first GPU) or
/// "cuda:<ordinal>". The device's own load errors pass unchanged (a cuda
/// Executable on the cpu, "no CUDA device found: ..."); an unknown device
/// name is InvalidArgument.
StatusOr<std::unique_ptr<Program>>
loadProgram(const proto::Executable &executable, ObjectLoader &loader,
            std::string_view device);

} // namespace uoe::rt

#endif // UOE_RUNTIME_PROGRAM_H
