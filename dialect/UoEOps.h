//===- UoEOps.h - ops of the uoe dialect ----------------------*- C++ -*-===//
//
// The generated op classes of the `uoe` dialect (layer ops and routing /
// expert ops). Their semantics and numbered constraints are documented in
// the .td files and docs/Dialect.md.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_DIALECT_UOEOPS_H
#define UOE_DIALECT_UOEOPS_H

#include "dialect/UoEDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "dialect/UoEOps.h.inc"

#endif // UOE_DIALECT_UOEOPS_H
