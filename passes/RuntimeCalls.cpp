//===- RuntimeCalls.cpp - calling the CPU runtime from compiled code -----===//

#include "passes/RuntimeCalls.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;

LogicalResult uoe::checkCpuGemmPrecision(ModuleOp module, StringRef pass,
                                         StringRef precision) {
  if (isCpuGemmPrecision(precision))
    return success();
  return module.emitError()
         << pass << ": unknown precision '" << precision << "' (f32 or bf16)";
}

uoe::BufferView uoe::describeBuffer(ImplicitLocOpBuilder &b, Value memref) {
  Type i64 = b.getI64Type();
  auto toI64 = [&](Value index) {
    return arith::IndexCastOp::create(b, i64, index).getResult();
  };
  auto type = cast<MemRefType>(memref.getType());
  // An i1 element takes a byte, as in LLVM's lowering of memrefs.
  int64_t elementBytes = (type.getElementTypeBitWidth() + 7) / 8;
  auto meta = memref::ExtractStridedMetadataOp::create(b, memref);
  Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, memref);
  // The aligned pointer is the base buffer's; add the view's offset.
  Value offsetBytes = arith::MulIOp::create(
      b, meta.getOffset(), arith::ConstantIndexOp::create(b, elementBytes));
  BufferView view;
  view.address = toI64(arith::AddIOp::create(b, base, offsetBytes));
  for (Value size : meta.getSizes())
    view.sizes.push_back(toI64(size));
  for (Value stride : meta.getStrides())
    view.strides.push_back(toI64(stride));
  return view;
}

uoe::BufferView uoe::viewTensorInPlace(ImplicitLocOpBuilder &b, Value tensor) {
  auto t = cast<RankedTensorType>(tensor.getType());
  SmallVector<int64_t> strides(t.getRank(), ShapedType::kDynamic);
  if (!strides.empty())
    strides.back() = 1;
  auto layout =
      StridedLayoutAttr::get(b.getContext(), ShapedType::kDynamic, strides);
  auto memref = MemRefType::get(t.getShape(), t.getElementType(), layout);
  auto buffer =
      bufferization::ToBufferOp::create(b, memref, tensor, /*read_only=*/true);
  return describeBuffer(b, buffer);
}

Value uoe::constantI64(ImplicitLocOpBuilder &b, int64_t value) {
  return arith::ConstantOp::create(b, b.getI64IntegerAttr(value));
}

Value uoe::allocResultBuffer(ImplicitLocOpBuilder &b, RankedTensorType type,
                             ValueRange dynamicSizes) {
  return memref::AllocOp::create(
      b, MemRefType::get(type.getShape(), type.getElementType()), dynamicSizes,
      b.getI64IntegerAttr(64));
}

Value uoe::resultTensor(ImplicitLocOpBuilder &b, RankedTensorType type,
                        Value buffer) {
  return bufferization::ToTensorOp::create(b, type, buffer, /*restrict=*/true,
                                           /*writable=*/true);
}

void uoe::declareRuntimeFunctionIfCalled(ModuleOp module, StringRef name,
                                         TypeRange params) {
  bool called = false;
  module.walk([&](func::CallOp call) { called |= call.getCallee() == name; });
  if (!called || module.lookupSymbol(name))
    return;
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  auto decl = func::FuncOp::create(b, module.getLoc(), name,
                                   b.getFunctionType(params, {}));
  decl.setPrivate();
}

bool uoe::isExactInCpuKernel(Activation act) {
  return act == Activation::None || act == Activation::Relu ||
         act == Activation::Gelu;
}

RankedTensorType uoe::preActivationType(ExpertMatmulOp matmul) {
  auto type = matmul.getType();
  SmallVector<int64_t> shape(type.getShape());
  shape.back() = matmul.getRhs().getType().getShape()[2];
  return RankedTensorType::get(shape, type.getElementType());
}

bool uoe::isKernelRowsType(RankedTensorType type) {
  return type.getElementType().isF32() && type.getRank() >= 2 &&
         type.getRank() <= 3 && type.hasStaticShape();
}

std::array<int64_t, 3> uoe::rowShape(RankedTensorType type) {
  ArrayRef<int64_t> shape = type.getShape();
  bool rank3 = type.getRank() == 3;
  return {rank3 ? shape[0] : 1, shape[rank3 ? 1 : 0], shape.back()};
}

std::pair<Value, Value> uoe::rowStrides(const BufferView &v, Value zero) {
  return v.strides.size() == 3 ? std::pair(v.strides[0], v.strides[1])
                               : std::pair(zero, v.strides[0]);
}
