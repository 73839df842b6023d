//===- CpuDevice.h - running Executables on the host CPU ------*- C++ -*-===//
//
// The `cpu` device: loads the CPU object code of an Executable through an
// ObjectLoader (the compiler build provides one on LLVM's ORC JIT; see
// driver/OrcLoader.h) and runs entry points on host tensors. GEMMs in
// the compiled code call the runtime's BLAS binding (runtime/CpuBlas.h),
// which uses every core the caller allows (setCpuThreads).
//
// Thread safety: one CpuProgram may be run from one thread at a time.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_RUNTIME_CPUDEVICE_H
#define UOE_RUNTIME_CPUDEVICE_H

#include "formats/Executable.h"
#include "support/HostTensor.h"
#include "runtime/ObjectLoader.h"
#include "runtime/Program.h"

#include <map>
#include <utility>
#include <memory>
#include <vector>

namespace uoe::rt {

/// How a CpuProgram hands tensors to compiled code and takes its results
/// back: the hooks that let the one program driver run code whose buffers
/// live elsewhere, as long as the host can address them (the cuda device's
/// managed memory, runtime/CudaDevice.h). hostProgramMemory() is the cpu
/// device's: tensors are passed where they are.
///
/// A CpuProgram calls its ProgramMemory from the thread that calls it.
class ProgramMemory {
public:
  virtual ~ProgramMemory() = default;

  /// A buffer the compiled code may read, holding the bytes of `tensor`
  /// (sizeInBytes()), valid until unstage(); called for every bound
  /// parameter once and for every input on each run. The host's returns the
  /// tensor's own storage.
  virtual StatusOr<void *> stage(const HostTensor &tensor) = 0;
  /// Copies the (new) bytes of `tensor` into `buffer`, which stage()
  /// returned for a tensor of its size; after a training step updated a
  /// bound parameter. The host's does nothing (`buffer` is the tensor).
  virtual Status restage(void *buffer, const HostTensor &tensor) = 0;
  /// Gives back a buffer of stage().
  virtual void unstage(void *buffer) = 0;

  /// Before the steps of a run: forgets failures left from earlier runs.
  virtual void beginRun() = 0;
  /// After the steps: waits until the host may read the results and
  /// returns the first failure of the runtime functions during the run.
  /// The host's: takeCpuBlasError().
  virtual Status endRun() = 0;
  /// Releases a result buffer the compiled code allocated (its descriptor's
  /// `allocated` pointer; each once). The host's:
  /// _mlir_memref_to_llvm_free.
  virtual void releaseResult(void *allocated) = 0;
};

/// The cpu device's ProgramMemory (stateless; lives as long as the process).
ProgramMemory &hostProgramMemory();

/// An Executable whose kernels are loaded and ready to run on the CPU.
class CpuProgram final : public Program {
public:
  /// Loads every CPU kernel of `executable` (copied; the argument may go)
  /// and resolves the function of every step. Errors name the kernel and
  /// the loader's reason, or the missing symbol.
  ///
  /// The object code's calls of the runtime are bound to
  /// cpuRuntimeSymbols() (runtime/CpuBlas.h) and tensors are passed as they
  /// are (hostProgramMemory()). An executable compiled for the cuda device
  /// is refused (FailedPrecondition): it runs with CudaProgram.
  static StatusOr<std::unique_ptr<CpuProgram>>
  load(const proto::Executable &executable, ObjectLoader &loader);

  /// As above, for host code of another device: its calls of the runtime
  /// are bound to `runtimeSymbols` and tensors cross through `memory`; both
  /// must outlive the program. Global constructors of the object code run
  /// during this call, so whatever their runtime functions need must be set
  /// up before it (CudaProgram: the CudaContextScope). The target is not
  /// checked.
  static StatusOr<std::unique_ptr<CpuProgram>>
  load(const proto::Executable &executable, ObjectLoader &loader,
       const SymbolMap &runtimeSymbols, ProgramMemory &memory);

  /// Gives the staged parameters back to the ProgramMemory, then runs the
  /// objects' finalizers (kObjectFiniSymbol) and unloads the object code.
  ~CpuProgram() override;

  // Program (runtime/Program.h). run(): InvalidArgument names an input of
  // the wrong dtype or shape; inputs are passed as they are: checking token
  // ids against the vocabulary is the caller's choice (the compiled code
  // clamps them; see uoe.embedding).
  Status bindParameters(const std::string &entry,
                        NamedTensors parameters) override;
  StatusOr<std::vector<HostTensor>>
  run(const std::string &entry, const std::vector<HostTensor> &inputs) override;
  StatusOr<HostTensor> boundParameter(const std::string &entry,
                                      const std::string &name) const override;

  const proto::Executable &executable() const override { return executable_; }

private:
  CpuProgram() = default;
  Status applyUpdates(const proto::EntryPoint &entry,
                      const std::vector<HostTensor> &results);
  proto::Executable executable_;
  std::unique_ptr<LoadedObject> object_;
  /// The object's kObjectFiniSymbol function if it has one; the destructor
  /// calls it.
  std::vector<void *> finalizers_;
  /// The address of every entry point's function, by entry point name.
  std::map<std::string, void *> functions_;
  /// One binding: the tensors and where the compiled code reads each
  /// (stage()), by name.
  struct Bound {
    NamedTensors tensors;
    std::map<std::string, void *, std::less<>> buffers;
  };
  /// The binding of every bound entry point. Entry points with the same
  /// parameters (names and shapes in order: prefill and decode_step,
  /// forward and forward_grad) share one, so the weights are held once.
  std::map<std::string, std::shared_ptr<Bound>> bound_;
  /// The entry points whose parameters are those of `entry`, itself
  /// included.
  std::vector<std::string> sameParameters(const proto::EntryPoint &entry) const;
  /// Each binding once.
  std::vector<Bound *> bindings() const;
  ProgramMemory *memory_ = nullptr;
};

} // namespace uoe::rt

#endif // UOE_RUNTIME_CPUDEVICE_H
