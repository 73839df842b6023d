//===- RuntimeCalls.h - calling the CPU runtime from compiled code -*- C++
//-*-===//
//
// What the passes that turn ops into calls of the CPU runtime's kernels
// (uoe-linalg-to-blas, uoe-expert-gemm-to-calls, uoe-attention-to-calls) share:
// a buffer's address and strides as the integers the runtime's C ABI takes, and
// the private declaration of the runtime function.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_PASSES_RUNTIMECALLS_H
#define UOE_PASSES_RUNTIMECALLS_H

#include "dialect/UoEOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <array>
#include <utility>

namespace mlir::uoe {

/// A memref as i64 values: the address of its first element (the aligned
/// pointer advanced by the offset) and its sizes and strides in elements.
struct BufferView {
  Value address;
  SmallVector<Value, 4> sizes, strides;
};

/// Reads `memref`'s strided metadata (any layout).
BufferView describeBuffer(ImplicitLocOpBuilder &b, Value memref);

/// `tensor` read in place by a runtime kernel: a `bufferization.to_buffer
/// read_only` of any strided layout with unit stride along the last
/// dimension (others get a copy from bufferization), described.
BufferView viewTensorInPlace(ImplicitLocOpBuilder &b, Value tensor);

/// An i64 constant (the runtime's integer arguments).
Value constantI64(ImplicitLocOpBuilder &b, int64_t value);

/// A fresh, dense, 64-byte aligned buffer of `type`'s shape and element
/// type for a kernel's result; `dynamicSizes` (index) for its `?` sizes.
Value allocResultBuffer(ImplicitLocOpBuilder &b, RankedTensorType type,
                        ValueRange dynamicSizes = {});

/// `buffer`, which the kernel has just written, as the tensor of `type`
/// (`bufferization.to_tensor restrict writable`: nothing else aliases it).
Value resultTensor(ImplicitLocOpBuilder &b, RankedTensorType type,
                   Value buffer);

/// Declares `name(params) -> ()` as a private function of `module` when a
/// `func.call` in it calls `name` and the module has no such symbol yet.
void declareRuntimeFunctionIfCalled(ModuleOp module, StringRef name,
                                    TypeRange params);

/// Fails, with "<pass>: unknown precision '<precision>' (f32 or bf16)" on
/// `module`, unless isCpuGemmPrecision(precision).
LogicalResult checkCpuGemmPrecision(ModuleOp module, StringRef pass,
                                    StringRef precision);

/// Whether the row kernels (norms, router) take rows of `type`: f32, rank 2
/// or 3 ([outer,] inner, width), static.
bool isKernelRowsType(RankedTensorType type);

/// The row kernels' (outer, inner, width) of `type` (outer 1 at rank 2).
std::array<int64_t, 3> rowShape(RankedTensorType type);

/// The row kernels' (outer, inner) row strides of a rank-2 or rank-3 view
/// (`zero` for outer at rank 2).
std::pair<Value, Value> rowStrides(const BufferView &v, Value zero);

/// Whether the runtime's fused expert GEMM (runtime/CpuExpertGemm.h)
/// computes `act` exactly as the compiled code does: none, relu, and gelu
/// (the kernel runs the compiled erf polynomial operation for operation).
/// The others (gelu_tanh, silu, swiglu) are polynomial approximations in
/// compiled code and the kernel's own elsewhere; the passes keep them a
/// `uoe.activation` after the kernel's GEMM, so that a forward pass and the
/// forward half of its gradient (which keeps the pre-activation) give the
/// same bits.
bool isExactInCpuKernel(Activation act);

/// The type of `matmul`'s result before its activation (SwiGLU's is twice
/// as wide).
RankedTensorType preActivationType(ExpertMatmulOp matmul);

} // namespace mlir::uoe

#endif // UOE_PASSES_RUNTIMECALLS_H
