//===- UoEOps.h - ops of the uoe dialect ----------------------*- C++ -*-===//
//
// The generated op classes of the `uoe` dialect (layer ops, routing /
// expert ops, loss and gradient ops). Their semantics and numbered
// constraints are documented in the .td files and docs/Dialect.md; the ops
// with a gradient implement `DifferentiableOpInterface`
// (UoEInterfaces.h, rules in UoEGradients.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef UOE_DIALECT_UOEOPS_H
#define UOE_DIALECT_UOEOPS_H

#include "dialect/UoEDialect.h"
#include "dialect/UoEInterfaces.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "dialect/UoEOps.h.inc"

#endif // UOE_DIALECT_UOEOPS_H
