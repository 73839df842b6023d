//===- CudaToolkit.cpp - the CUDA toolkit and the PTX of a module --------===//
//
// See CudaToolkit.h.
//
//===----------------------------------------------------------------------===//

#include "codegen/gpu/CudaToolkit.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"

#include <cstdlib>
#include <vector>

using namespace mlir;

std::string mlir::uoe::cuda::toolkitPath() {
  std::vector<std::string> candidates;
  for (const char *variable : {"CUDA_ROOT", "CUDA_HOME", "CUDA_PATH"})
    if (const char *value = std::getenv(variable); value && *value)
      candidates.push_back(value);
  candidates.push_back("/usr/local/cuda");
  for (const std::string &root : candidates)
    if (llvm::sys::fs::exists(root + "/nvvm/libdevice/libdevice.10.bc"))
      return root;
  return "";
}

bool mlir::uoe::cuda::hasPtxas(const std::string &toolkitPath) {
  return !toolkitPath.empty() &&
         llvm::sys::fs::can_execute(toolkitPath + "/bin/ptxas");
}

std::string mlir::uoe::cuda::kernelsPtx(ModuleOp module) {
  std::string ptx;
  module.walk([&](::mlir::gpu::BinaryOp binary) {
    for (Attribute attr : binary.getObjects())
      if (auto object = dyn_cast<::mlir::gpu::ObjectAttr>(attr))
        if (object.getFormat() == ::mlir::gpu::CompilationTarget::Assembly)
          ptx += object.getObject().getValue();
  });
  return ptx;
}

bool mlir::uoe::cuda::callsLibdevice(const std::string &ptx) {
  llvm::StringRef text = ptx;
  return text.contains(".extern .func") && text.contains("__nv_");
}
