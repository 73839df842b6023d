//===- UoEDialect.cpp - the uoe dialect ---------------------------------===//
//
// Registers the ops and enum attributes of the `uoe` dialect and
// materializes the constants that its folders produce.
//
//===----------------------------------------------------------------------===//

#include "dialect/UoEDialect.h"

#include "dialect/UoEOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::uoe;

#include "dialect/UoEDialect.cpp.inc"
#include "dialect/UoEEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialect/UoEAttrs.cpp.inc"

void UoEDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialect/UoEOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialect/UoEAttrs.cpp.inc"
      >();
}

Operation *UoEDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                           Type type, Location loc) {
  auto typed = dyn_cast<TypedAttr>(value);
  if (!typed || typed.getType() != type)
    return nullptr;
  return arith::ConstantOp::create(builder, loc, type, typed);
}
