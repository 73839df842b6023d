//===- CpuMath.h - the CPU kernels' own elementary functions ---*- C++ -*-===//
//
// Branch-free scalar functions that the kernels' `omp simd` loops
// vectorize (runtime/CpuExpertGemm.cpp, runtime/CpuAttention.cpp). Their
// bits depend on the file's floating-point contraction setting, which each
// user states in runtime/CMakeLists.txt.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_RUNTIME_CPUMATH_H
#define UOE_RUNTIME_CPUMATH_H

#include <cstdint>
#include <cstring>

namespace uoe::rt {

/// exp(x) for x in about [-87, 88] (clamped there): Cephes' expf
/// (range reduction by ln 2 in two parts, degree-5 polynomial), within
/// 2 ulp.
inline float expApprox(float x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  float fx = x * 1.44269504088896341f;
  // Round to nearest: adding and removing 1.5 * 2^23 drops the fraction.
  fx = (fx + 12582912.0f) - 12582912.0f;
  float r = x - fx * 0.693359375f;
  r = r - fx * -2.12194440e-4f;
  float z = r * r;
  float y = 1.9875691500e-4f;
  y = y * r + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = y * z + r + 1.0f;
  int32_t bits = (static_cast<int32_t>(fx) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return y * scale;
}

} // namespace uoe::rt

#endif // UOE_RUNTIME_CPUMATH_H
