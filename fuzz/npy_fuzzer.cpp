//===- npy_fuzzer.cpp - fuzzes the .npy reader ----------------------------===//
//
// The input is a whole .npy file, read with readNpy (formats/Npy.h) from a
// scratch file. An error Status is fine; a crash, a sanitizer report, a
// leak or a timeout is a bug. A tensor read successfully is touched byte
// by byte and must round-trip: encodeNpyHeader + its bytes read back give
// the same tensor.
//
//===----------------------------------------------------------------------===//

#include "FuzzUtil.h"

#include "formats/Npy.h"

#include <cstdio>
#include <cstdlib>

using namespace uoe;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path = fuzz::writeScratchFile("input.npy", data, size);
  rt::StatusOr<rt::HostTensor> tensor = rt::readNpy(path);
  fuzz::report("readNpy", tensor.status());
  if (!tensor.ok()) {
    fuzz::keep(tensor.status().message().size());
    return 0;
  }
  uint64_t sum = fuzz::touchTensor(*tensor);

  rt::StatusOr<std::string> encoded = rt::encodeNpyHeader(*tensor);
  if (!encoded.ok()) {
    std::fprintf(stderr, "encodeNpyHeader fails on a tensor readNpy gave: %s\n",
                 encoded.status().toString().c_str());
    std::abort();
  }
  encoded->append(static_cast<const char *>(tensor->rawData()),
                  tensor->sizeInBytes());
  std::string again = fuzz::writeScratchFile(
      "roundtrip.npy", reinterpret_cast<const uint8_t *>(encoded->data()),
      encoded->size());
  rt::StatusOr<rt::HostTensor> reread = rt::readNpy(again);
  if (!reread.ok() || !reread->bitwiseEqual(*tensor)) {
    std::fprintf(stderr, "a %s does not round-trip through .npy: %s\n",
                 tensor->typeString().c_str(),
                 reread.ok() ? "the tensor differs"
                             : reread.status().toString().c_str());
    std::abort();
  }
  fuzz::keep(sum);
  return 0;
}
