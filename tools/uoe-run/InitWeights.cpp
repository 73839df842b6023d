//===- InitWeights.cpp - fresh weights for a model description ------------===//
//
// A tensor is a norm weight if its name contains "norm" and ends in
// ".weight", a bias if it has at most one dimension or a ".b" component
// (`attn.bqkv`, `mlp.b1`); everything else is a matrix or a table.
//
//===----------------------------------------------------------------------===//

#include "tools/uoe-run/InitWeights.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FormatVariadic.h"

#include <random>

namespace rt = ::uoe::rt;

rt::StatusOr<std::vector<std::pair<std::string, rt::HostTensor>>>
mlir::uoe::initialWeights(const model::Model &model, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<std::pair<std::string, rt::HostTensor>> weights;
  std::vector<ParamSpec> params = modelParameters(model);
  double total = static_cast<double>(parameterCount(params));
  for (const ParamSpec &p : params) {
    auto t = rt::HostTensor::create(rt::DType::F32, p.shape);
    if (!t.ok())
      return rt::Status(
          t.status().code(),
          llvm::formatv("parameter '{0}' {1}: {2}; the description asks for "
                        "{3:e2} parameters ({4:f1} GB in f32) in all",
                        p.name, rt::shapeToString(p.shape),
                        t.status().message(), total, total * 4 / 1e9)
              .str());
    float *data = t->data<float>();
    bool isNorm = llvm::StringRef(p.name).contains("norm") &&
                  llvm::StringRef(p.name).ends_with(".weight");
    bool isBias = p.shape.size() <= 1 || llvm::StringRef(p.name).contains(".b");
    for (int64_t i = 0; i < t->numElements(); ++i)
      data[i] = isNorm ? 1.0f : isBias ? 0.0f : normal(rng);
    weights.emplace_back(p.name, std::move(*t));
  }
  return weights;
}
