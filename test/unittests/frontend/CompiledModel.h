//===- CompiledModel.h - a description compiled and loaded for tests -*- C++ -*-===//
//
// What the frontend's model tests (ModelCompileTest.cpp, ModelFeaturesTest.cpp)
// share: reference tensors as host tensors, and a model description compiled
// once for the CPU and loaded, whose `forward` runs on reference weights.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_TEST_UNITTESTS_FRONTEND_COMPILEDMODEL_H
#define UOE_TEST_UNITTESTS_FRONTEND_COMPILEDMODEL_H

#include "driver/CompileModel.h"
#include "driver/OrcLoader.h"
#include "frontend/ModelImporter.h"
#include "runtime/CpuDevice.h"
#include "test/reference/Reference.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace uoe::frontend_test {

/// `t` as f32 (its values rounded).
inline rt::HostTensor toHost(const ref::Tensor &t) {
  std::vector<float> values(t.data.begin(), t.data.end());
  return std::move(
      *rt::HostTensor::fromVector(rt::DType::F32, t.shape, values));
}

/// `t` as i64.
inline rt::HostTensor toHost(const ref::IndexTensor &t) {
  return std::move(
      *rt::HostTensor::fromVector(rt::DType::I64, t.shape, t.data));
}

/// A description compiled once for [batch, seq] and loaded; `error` says
/// why not when it could not be.
class CompiledModel {
public:
  CompiledModel(const std::string &text, int64_t batch, int64_t seq) {
    auto parsed = mlir::uoe::parseModelText(text, "test.pbtxt");
    if (!parsed) {
      error = llvm::toString(parsed.takeError());
      return;
    }
    model = std::move(*parsed);
    if (auto err = mlir::uoe::resolveModel(model)) {
      error = llvm::toString(std::move(err));
      return;
    }
    auto exe = mlir::uoe::compileModel(model, batch, seq);
    if (!exe) {
      error = llvm::toString(exe.takeError());
      return;
    }
    executable = std::move(*exe);
    auto loaded = rt::CpuProgram::load(executable, loader);
    if (!loaded.ok()) {
      error = loaded.status().toString();
      return;
    }
    program = std::move(*loaded);
  }

  /// Binds `weights` and runs forward on `inputs`; its single result.
  rt::StatusOr<rt::HostTensor>
  run(const std::map<std::string, ref::Tensor> &weights,
      std::vector<rt::HostTensor> inputs) {
    rt::NamedTensors named;
    for (const auto &[name, t] : weights)
      named.emplace(name, toHost(t));
    UOE_RETURN_IF_ERROR(program->bindParameters("forward", std::move(named)));
    UOE_ASSIGN_OR_RETURN(std::vector<rt::HostTensor> results,
                         program->run("forward", inputs));
    if (results.size() != 1)
      return rt::internalError("forward returned " +
                               std::to_string(results.size()) + " results");
    return std::move(results.front());
  }

  std::string error;
  model::Model model;
  rt::proto::Executable executable;
  mlir::uoe::cpu::OrcLoader loader;
  std::unique_ptr<rt::CpuProgram> program;
};

} // namespace uoe::frontend_test

#endif // UOE_TEST_UNITTESTS_FRONTEND_COMPILEDMODEL_H
