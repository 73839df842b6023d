//===- Tensor.cpp - tensor helpers of the float64 reference --------------===//
//
// Error reporting and the small helpers that tests need around the
// reference: reproducible random tensors and the max-abs difference.
//
//===----------------------------------------------------------------------===//

#include "test/reference/Reference.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace uoe::ref {

void fail(const std::string &message) {
  std::fprintf(stderr, "uoe::ref: %s\n", message.c_str());
  std::fflush(stderr);
  std::abort();
}

std::string shapeToString(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

Tensor randomTensor(std::vector<int64_t> shape, uint64_t seed, double scale) {
  Tensor t(std::move(shape));
  // splitmix64: fully specified, unlike the std distributions, so a seed
  // means the same values everywhere.
  uint64_t state = seed;
  for (double &value : t.data) {
    state += 0x9e3779b97f4a7c15ULL;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    double unit = static_cast<double>(z >> 11) * 0x1.0p-53; // [0, 1)
    value = scale * (2.0 * unit - 1.0);
  }
  return t;
}

double maxAbsDiff(const Tensor &a, const Tensor &b) {
  check(a.shape == b.shape, "maxAbsDiff: shapes " + shapeToString(a.shape) +
                                " and " + shapeToString(b.shape) + " differ");
  double worst = 0.0;
  for (size_t i = 0; i < a.data.size(); ++i) {
    double diff = std::fabs(a.data[i] - b.data[i]);
    // A NaN anywhere is the worst possible difference.
    if (std::isnan(diff))
      return diff;
    worst = std::max(worst, diff);
  }
  return worst;
}

} // namespace uoe::ref
