//===- CommandLine.h - what uoe-run's commands share -------------*- C++ -*-===//
//
// The `--flag VALUE` / `--flag=VALUE` / `--switch` parser of the train and
// generate commands, a model's Executable from the compiled-model cache
// (driver/ExecutableCache.h) with uoe-run's messages, and the SM that
// --device cuda compiles for.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_TOOLS_UOE_RUN_COMMANDLINE_H
#define UOE_TOOLS_UOE_RUN_COMMANDLINE_H

#include "driver/CompileModel.h"
#include "driver/ExecutableCache.h"
#include "frontend/model.pb.h"
#include "formats/executable.pb.h"

#include "llvm/Support/Error.h"

#include "tools/common/Options.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace uoe::tools {

/// Parses argv[1..argc) of `command`: every argument is `--key VALUE` or
/// `--key=VALUE` for a key of `valueFlags`, or `--key` for one of
/// `switchFlags` (its value ""). Fills `values` (a later flag wins) and,
/// when given, `given` with the keys seen. Returns the first problem as a
/// message naming the argument, or nothing.
std::optional<std::string>
parseCommandOptions(int argc, char **argv, const std::string &command,
                    const std::set<std::string> &valueFlags,
                    const std::set<std::string> &switchFlags,
                    std::map<std::string, std::string> &values,
                    std::set<std::string> *given = nullptr);

/// The Executable of `model` for inputs of `shape` ([B, T] token ids or
/// [B, T, d] hidden states) compiled with `artifacts` (target, gradients,
/// timing, precision): from the compiled-model cache in
/// `cacheDir` (none if empty) when it is there, else compiled and stored
/// there. Says on stderr which ("compiled-model cache hit (PATH)", or
/// "compiled NAME for SHAPE [on cuda sm_N] [in bf16] in S s (cache miss)").
llvm::Expected<::uoe::rt::proto::Executable>
obtainModelExecutable(const model::Model &model,
                      const std::vector<int64_t> &shape,
                      const mlir::uoe::CompileArtifacts &artifacts,
                      const std::string &cacheDir);

/// The SM that `--device cuda` compiles for: `target` (the --target
/// option) when given, else the first GPU's own; without a GPU, sm_90 with
/// a note on stderr when only compiling (`compileOnly`), otherwise the
/// driver's "no CUDA device found: ..." error (so that nothing is compiled
/// for a run that cannot happen). A `target` that is not sm_<N> is an
/// error naming --target.
llvm::Expected<std::string> cudaChipFor(const std::string &target,
                                        bool compileOnly);

} // namespace uoe::tools

#endif // UOE_TOOLS_UOE_RUN_COMMANDLINE_H
