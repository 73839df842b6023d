//===- CompileMlir.cpp - uoe MLIR text to Executable ---------------------===//
//
// See CompileMlir.h: parse, then Compilation does the rest.
//
//===----------------------------------------------------------------------===//

#include "driver/CompileMlir.h"

#include "driver/CompileModel.h"
#include "driver/Compilation.h"
#include "codegen/cpu/ObjectEmitter.h"

#include "mlir/Parser/Parser.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::uoe;
namespace rtp = ::uoe::rt::proto;

std::string mlir::uoe::compileMlirCacheKey(llvm::StringRef text,
                                           const CompileTarget &target) {
  llvm::SHA256 hash;
  hash.update("mlir|");
  hash.update(text);
  hash.update(llvm::formatv("|{0}|{1}", cpu::hostTargetDescription(),
                            compilerIdentity())
                  .str());
  if (target.isCuda())
    hash.update("|" + target.cudaTargetDescription());
  return llvm::toHex(hash.final(), /*LowerCase=*/true);
}

llvm::Expected<rtp::Executable>
mlir::uoe::compileMlir(llvm::StringRef text, llvm::StringRef bufferName,
                             const CompileTarget &target) {
  Compilation compilation;
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(text, bufferName), llvm::SMLoc());
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(
      sourceMgr, ParserConfig(&compilation.getContext()));
  if (!module)
    return compilation.fail("cannot parse the MLIR module");
  CompileArtifacts artifacts;
  artifacts.target = target;
  auto executable = compilation.compile(*module, artifacts);
  if (!executable)
    return executable.takeError();
  executable->set_cache_key(compileMlirCacheKey(text, target));
  return executable;
}
