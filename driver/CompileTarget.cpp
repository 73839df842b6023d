//===- CompileTarget.cpp - what a compilation targets --------------------===//
//
// See CompileTarget.h.
//
//===----------------------------------------------------------------------===//

#include "driver/CompileTarget.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir::uoe;

bool CompileTarget::isCudaChip(llvm::StringRef chip) {
  return chip.size() > 3 && chip.starts_with("sm_") &&
         llvm::all_of(chip.drop_front(3), llvm::isDigit);
}

std::string CompileTarget::cudaTargetDescription() const {
  return "cuda:" + cudaChip + ":" + llvm::sys::getDefaultTargetTriple();
}
