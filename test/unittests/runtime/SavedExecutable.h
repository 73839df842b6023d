//===- SavedExecutable.h - the runtime tests' saved model -------*- C++ -*-===//
//
// test/unittests/runtime/Inputs/elf_loader_layer.uoex is a compiled model
// that the runtime-only build runs (SavedExecutableTest.cpp) with its own
// ELF loader, comparing with Inputs/elf_loader_layer.expected.npy. Both
// files are written by the compiler build's ElfLoaderTests
// (test/unittests/codegen/ElfLoaderCompileTest.cpp; the command is in
// Inputs/README.md), which compiles kSavedModel for the generic x86-64 CPU
// (so that the object runs on any x86-64 machine, whatever the machine that
// compiled it) and checks the committed files against a fresh compile. The
// weights and the input are not stored: both sides compute them here.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_TEST_UNITTESTS_RUNTIME_SAVEDEXECUTABLE_H
#define UOE_TEST_UNITTESTS_RUNTIME_SAVEDEXECUTABLE_H

#include "runtime/CpuDevice.h"
#include "support/HostTensor.h"
#include "formats/executable.pb.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace uoe::rt::test {

/// One post-LN UoE layer: SMHA (4 heads in 2 experts, causal, compacted
/// RoPE) and UoME (4 experts, top 2, capacity 0.5), on hidden states
/// f32 [kSavedBatch, kSavedSeq, 16]. Its code has OpenMP parallel loops,
/// GEMM calls into the runtime and libm calls.
inline constexpr const char *kSavedModel = R"(name: "elf_loader_layer"
d_model: 16
layout: POST_LN
blocks {
  smha { heads: 4 experts: 2 top_k: 1 causal: true rope: COMPACTED }
  uome { hidden: 32 experts: 4 top_k: 2 capacity: 0.5 }
}
)";
inline constexpr int64_t kSavedBatch = 2, kSavedSeq = 8;
inline constexpr const char *kSavedExecutableFile = "elf_loader_layer.uoex";
inline constexpr const char *kSavedExpectedFile =
    "elf_loader_layer.expected.npy";
/// The CPU the committed object is compiled for (LLVM's name).
inline constexpr const char *kSavedCpu = "x86-64";
/// Another machine may have another libm (the GEMM gives the same bits on
/// every ISA, runtime/CpuGemm.h), so
/// results there agree to rounding only: |y - expected| <= tol * (1 + |e|).
inline constexpr float kSavedTolerance = 1e-4f;

/// Uniform in [-scale, scale) from a 64-bit LCG (as examples/capi_example.c).
inline float nextUniform(uint64_t &state, float scale) {
  state = state * 6364136223846793005ULL + 1442695040888963407ULL;
  return scale *
         (static_cast<float>(state >> 40) / float(1 << 24) * 2.0f - 1.0f);
}

/// f32 tensors for every parameter of `entry`: norm weights 1, everything
/// else uniform in [-0.3, 0.3), from one generator in parameter order.
inline NamedTensors savedParameters(const proto::EntryPoint &entry) {
  NamedTensors tensors;
  uint64_t state = 42;
  for (const proto::TensorSpec &spec : entry.parameters()) {
    std::vector<int64_t> shape(spec.shape().begin(), spec.shape().end());
    auto tensor = HostTensor::create(DType::F32, shape);
    if (!tensor.ok())
      continue; // the caller's bind then names the missing tensor
    const std::string &name = spec.name();
    bool norm = name.find("norm") != std::string::npos && name.size() >= 7 &&
                name.compare(name.size() - 7, 7, ".weight") == 0;
    float *data = tensor->data<float>();
    for (int64_t i = 0; i < tensor->numElements(); ++i)
      data[i] = norm ? 1.0f : nextUniform(state, 0.3f);
    tensors.emplace(name, std::move(*tensor));
  }
  return tensors;
}

/// The input of `entry` (f32 hidden states), uniform in [-1, 1).
inline std::vector<HostTensor> savedInputs(const proto::EntryPoint &entry) {
  std::vector<HostTensor> inputs;
  uint64_t state = 7;
  for (const proto::TensorSpec &spec : entry.inputs()) {
    std::vector<int64_t> shape(spec.shape().begin(), spec.shape().end());
    auto tensor = HostTensor::create(DType::F32, shape);
    if (!tensor.ok())
      return {};
    float *data = tensor->data<float>();
    for (int64_t i = 0; i < tensor->numElements(); ++i)
      data[i] = nextUniform(state, 1.0f);
    inputs.push_back(std::move(*tensor));
  }
  return inputs;
}

/// The first element where `actual` and `expected` (f32, same shape)
/// differ by more than kSavedTolerance, as a message; empty if none.
inline std::string compareWithExpected(const HostTensor &actual,
                                       const HostTensor &expected) {
  if (actual.dtype() != DType::F32 || expected.dtype() != DType::F32 ||
      actual.shape() != expected.shape())
    return "the result is " + actual.typeString() + ", expected " +
           expected.typeString();
  const float *a = actual.data<float>();
  const float *e = expected.data<float>();
  for (int64_t i = 0; i < actual.numElements(); ++i)
    if (!(std::fabs(a[i] - e[i]) <= kSavedTolerance * (1 + std::fabs(e[i]))))
      return "element " + std::to_string(i) + " is " + std::to_string(a[i]) +
             ", expected " + std::to_string(e[i]);
  return "";
}

} // namespace uoe::rt::test

#endif // UOE_TEST_UNITTESTS_RUNTIME_SAVEDEXECUTABLE_H
