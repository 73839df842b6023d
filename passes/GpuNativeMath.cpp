//===- GpuNativeMath.cpp - libdevice calls as NVPTX-native intrinsics ----===//
//
// See UoEGpuNativeMathPass in Passes.td. convert-gpu-to-nvvm turns every
// math op into a libdevice call, even those that PTX has an instruction for
// (and legalises the LLVM intrinsics of those into libdevice calls too), so
// this runs after it, on the calls.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "llvm/ADT/StringSwitch.h"

namespace mlir::uoe {
#define GEN_PASS_DEF_UOEGPUNATIVEMATHPASS
#include "passes/Passes.h.inc"
} // namespace mlir::uoe

using namespace mlir;

namespace {

enum class Native { None, Fma, Floor, Ceil, Abs, Sqrt };

Native nativeOf(StringRef callee) {
  return llvm::StringSwitch<Native>(callee)
      .Cases("__nv_fmaf", "__nv_fma", Native::Fma)
      .Cases("__nv_floorf", "__nv_floor", Native::Floor)
      .Cases("__nv_ceilf", "__nv_ceil", Native::Ceil)
      .Cases("__nv_fabsf", "__nv_fabs", Native::Abs)
      .Cases("__nv_sqrtf", "__nv_sqrt", Native::Sqrt)
      .Default(Native::None);
}

struct UoEGpuNativeMathPass
    : uoe::impl::UoEGpuNativeMathPassBase<UoEGpuNativeMathPass> {
  void runOnOperation() override {
    SmallVector<LLVM::CallOp> calls;
    getOperation()->walk([&](LLVM::CallOp call) {
      std::optional<StringRef> callee = call.getCallee();
      if (callee && nativeOf(*callee) != Native::None &&
          call.getNumResults() == 1)
        calls.push_back(call);
    });
    SetVector<StringRef> rewritten;
    for (LLVM::CallOp call : calls) {
      OpBuilder b(call);
      Location loc = call.getLoc();
      Type type = call.getResult().getType();
      ValueRange args = call.getArgOperands();
      StringRef callee = *call.getCallee();
      Value result;
      switch (nativeOf(callee)) {
      case Native::Fma:
        result = LLVM::FMAOp::create(b, loc, type, args[0], args[1], args[2]);
        break;
      case Native::Floor:
        result = LLVM::FFloorOp::create(b, loc, type, args[0]);
        break;
      case Native::Ceil:
        result = LLVM::FCeilOp::create(b, loc, type, args[0]);
        break;
      case Native::Abs:
        result = LLVM::FAbsOp::create(b, loc, type, args[0]);
        break;
      case Native::Sqrt:
        result = LLVM::SqrtOp::create(b, loc, type, args[0]);
        break;
      case Native::None:
        continue;
      }
      call.getResult().replaceAllUsesWith(result);
      call.erase();
      rewritten.insert(callee);
    }
    // The declarations nothing calls any more.
    SmallVector<LLVM::LLVMFuncOp> unused;
    getOperation()->walk([&](LLVM::LLVMFuncOp function) {
      if (function.isExternal() && rewritten.contains(function.getName()) &&
          SymbolTable::symbolKnownUseEmpty(function, getOperation()))
        unused.push_back(function);
    });
    for (LLVM::LLVMFuncOp function : unused)
      function.erase();
  }
};

} // namespace
