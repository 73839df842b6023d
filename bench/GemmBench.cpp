//===- GemmBench.cpp - the runtime's GEMM on the layers' shapes -----------===//
//
// uoe-gemm-bench [--threads N] [--iterations I] [--isa avx512|avx2|generic]
//                [MxNxK[xBATCH][tA][tB] ...]
//
// Times uoe_sgemm_batched (runtime/CpuBlas.h) on each shape (default:
// the GEMMs of bench/uoe_lm_layer.pbtxt's forward pass) and prints one JSON
// object per line: {"shape": ..., "isa": ..., "threads": N, "median_ms":
// ..., "gflops": ...}. bench/gemm_vs_torch.py runs it next to PyTorch.
//
//===----------------------------------------------------------------------===//

#include "runtime/CpuBlas.h"
#include "runtime/CpuGemm.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace uoe::rt;

namespace {

struct Shape {
  int64_t m, n, k, batch = 1;
  bool transA = false, transB = false;
  std::string text;
};

bool parseShape(const std::string &text, Shape &shape) {
  shape.text = text;
  std::string rest = text;
  if (rest.size() >= 2 && rest.substr(rest.size() - 2) == "tB") {
    shape.transB = true;
    rest.resize(rest.size() - 2);
  }
  if (rest.size() >= 2 && rest.substr(rest.size() - 2) == "tA") {
    shape.transA = true;
    rest.resize(rest.size() - 2);
  }
  long long m = 0, n = 0, k = 0, b = 1;
  int got = std::sscanf(rest.c_str(), "%lldx%lldx%lldx%lld", &m, &n, &k, &b);
  if (got < 3 || m <= 0 || n <= 0 || k <= 0 || b <= 0)
    return false;
  shape.m = m, shape.n = n, shape.k = k, shape.batch = b;
  return true;
}

int64_t address(const float *p) {
  return static_cast<int64_t>(reinterpret_cast<intptr_t>(p));
}

} // namespace

int main(int argc, char **argv) {
  int threads = 0, iterations = 20;
  std::vector<Shape> shapes;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--threads" && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else if (arg == "--iterations" && i + 1 < argc) {
      iterations = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--isa" && i + 1 < argc) {
      std::string name = argv[++i];
      GemmIsa isa = name == "avx512" ? GemmIsa::Avx512
                    : name == "avx2" ? GemmIsa::Avx2
                                     : GemmIsa::Generic;
      if (name != gemmIsaName(isa) || !setGemmIsa(isa)) {
        std::fprintf(stderr, "uoe-gemm-bench: this CPU cannot run '%s'\n",
                     name.c_str());
        return 1;
      }
    } else {
      Shape shape;
      if (!parseShape(arg, shape)) {
        std::fprintf(stderr,
                     "uoe-gemm-bench: '%s' is not a shape MxNxK[xBATCH][tA]"
                     "[tB]\n",
                     arg.c_str());
        return 1;
      }
      shapes.push_back(shape);
    }
  }
  if (shapes.empty())
    for (const char *text :
         {"2048x512x2048", "1024x512x512x4", "1144x128x512x4",
          "1144x512x128x4", "143x143x64x64", "143x64x143x64"}) {
      Shape shape;
      parseShape(text, shape);
      shapes.push_back(shape);
    }
  setCpuThreads(threads);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (const Shape &s : shapes) {
    std::vector<float> a(s.batch * s.m * s.k), b(s.batch * s.k * s.n),
        c(s.batch * s.m * s.n);
    for (float &v : a)
      v = uniform(rng);
    for (float &v : b)
      v = uniform(rng);
    auto run = [&] {
      uoe_sgemm_batched(s.batch, s.m, s.n, s.k, address(a.data()),
                        s.transA ? s.m : s.k, s.m * s.k, s.transA,
                        address(b.data()), s.transB ? s.k : s.n, s.k * s.n,
                        s.transB, address(c.data()), s.n, s.m * s.n, 0.0f);
    };
    for (int i = 0; i < 3; ++i)
      run();
    std::vector<double> times;
    for (int i = 0; i < iterations; ++i) {
      auto start = std::chrono::steady_clock::now();
      run();
      times.push_back(std::chrono::duration<double, std::milli>(
                          std::chrono::steady_clock::now() - start)
                          .count());
    }
    std::sort(times.begin(), times.end());
    double median = times[times.size() / 2];
    double flops = 2.0 * s.batch * s.m * s.n * s.k;
    std::printf("{\"shape\": \"%s\", \"isa\": \"%s\", \"threads\": %d, "
                "\"median_ms\": %.4f, \"gflops\": %.1f}\n",
                s.text.c_str(), gemmIsaName(gemmIsa()), cpuThreads(), median,
                flops / (median * 1e-3) / 1e9);
  }
  Status error = takeCpuBlasError();
  if (!error.ok()) {
    std::fprintf(stderr, "uoe-gemm-bench: %s\n", error.toString().c_str());
    return 1;
  }
  return 0;
}
