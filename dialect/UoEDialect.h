//===- UoEDialect.h - the uoe dialect -------------------------*- C++ -*-===//
//
// Declares the `uoe` dialect and its enum attributes (router score,
// activation, combine mode, rotary mode). Include "dialect/UoEOps.h" for the
// ops themselves.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_DIALECT_UOEDIALECT_H
#define UOE_DIALECT_UOEDIALECT_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/Dialect.h"

#include "dialect/UoEDialect.h.inc"
#include "dialect/UoEEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialect/UoEAttrs.h.inc"

#endif // UOE_DIALECT_UOEDIALECT_H
