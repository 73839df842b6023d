//===- CudaToolkit.h - the CUDA toolkit and the PTX of a module -*- C++ -*-===//
//
// The GPU back end's part of code generation: finding the CUDA toolkit
// (libdevice for the math functions, ptxas for cubins) and reading back the
// PTX that the GPU pipeline's `gpu-module-to-binary` embedded in a module.
// The pipeline itself (kernel outlining, NVVM, the binary) is in
// passes/Pipelines.cpp; the host code that launches the kernels goes
// through codegen/cpu like any CPU code.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_CODEGEN_GPU_CUDATOOLKIT_H
#define UOE_CODEGEN_GPU_CUDATOOLKIT_H

#include "mlir/IR/BuiltinOps.h"

#include <string>

namespace mlir::uoe::cuda {

/// The CUDA toolkit the GPU pipeline uses for libdevice and ptxas: the
/// first of $CUDA_ROOT, $CUDA_HOME, $CUDA_PATH and /usr/local/cuda that
/// holds nvvm/libdevice/libdevice.10.bc; empty if none does.
std::string toolkitPath();

/// Whether the toolkit at `toolkitPath` (non-empty) has an executable
/// ptxas, so that the pipeline can embed cubins.
bool hasPtxas(const std::string &toolkitPath);

/// The PTX of the kernels of `module` after a GPU pipeline that embedded
/// PTX alone (every `gpu.binary` object in assembly form, concatenated).
std::string kernelsPtx(ModuleOp module);

/// Whether `ptx` calls CUDA's libdevice (`__nv_*` math functions), which
/// the driver cannot link without the toolkit's libdevice.
bool callsLibdevice(const std::string &ptx);

} // namespace mlir::uoe::cuda

#endif // UOE_CODEGEN_GPU_CUDATOOLKIT_H
