//===- ProtectArguments.cpp - read-only function arguments ---------------===//
//
// See UoEProtectArgumentsPass in Passes.td. Without it, one-shot
// bufferization may compute a result in the buffer of an input or a weight,
// and the next call of the same compiled model then reads clobbered data.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::uoe {
#define GEN_PASS_DEF_UOEPROTECTARGUMENTSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::uoe

using namespace mlir;

namespace {

struct UoEProtectArgumentsPass
    : uoe::impl::UoEProtectArgumentsPassBase<UoEProtectArgumentsPass> {
  void runOnOperation() override {
    auto readOnly = BoolAttr::get(&getContext(), false);
    StringRef name = bufferization::BufferizationDialect::kWritableAttrName;
    getOperation().walk([&](func::FuncOp func) {
      if (func.isExternal())
        return;
      for (auto [i, arg] : llvm::enumerate(func.getArguments()))
        if (isa<TensorType>(arg.getType()) && !func.getArgAttr(i, name))
          func.setArgAttr(i, name, readOnly);
    });
  }
};

} // namespace
