//===- Version.cpp - the compiler's version and build --------------------===//
//
// See Version.h. UOE_COMPILER_BUILD_ID comes from the generated BuildId.h.
//
//===----------------------------------------------------------------------===//

#include "driver/Version.h"

#include "driver/BuildId.h"

const char *mlir::uoe::compilerIdentity() {
  return "uoe 0.1 (build " UOE_COMPILER_BUILD_ID ")";
}
