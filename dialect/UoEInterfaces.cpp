//===- UoEInterfaces.cpp - interfaces of the uoe ops ---------------------===//
//
// The generated definitions of the interfaces of UoEInterfaces.td. The ops'
// implementations of `DifferentiableOpInterface` are in UoEGradients.cpp.
//
//===----------------------------------------------------------------------===//

#include "dialect/UoEInterfaces.h"

using namespace mlir;
using namespace mlir::uoe;

// Anchors the vtable in this file.
AdjointBuilder::~AdjointBuilder() = default;

#include "dialect/UoEInterfaces.cpp.inc"
