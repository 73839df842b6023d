//===- safetensors_fuzzer.cpp - fuzzes the safetensors reader ------------===//
//
// The input is a whole .safetensors file: readSafetensorsHeader and
// readSafetensors (formats/Safetensors.h) read it from a scratch file. An
// error Status is the expected answer to most inputs; a crash, a sanitizer
// report, a leak or a timeout is a bug. On success the two readers must
// agree on the tensors, and every tensor's bytes are read.
//
//===----------------------------------------------------------------------===//

#include "FuzzUtil.h"

#include "formats/Safetensors.h"

#include <cstdio>
#include <cstdlib>

using namespace uoe;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path = fuzz::writeScratchFile("input.safetensors", data, size);

  rt::StatusOr<rt::SafetensorsHeader> header = rt::readSafetensorsHeader(path);
  fuzz::report("readSafetensorsHeader", header.status());
  uint64_t sum = 0;
  if (header.ok()) {
    for (const rt::SafetensorsEntry &entry : header->entries) {
      sum += entry.name.size() + entry.end - entry.begin + entry.shape.size();
      if (header->find(entry.name) != &entry) {
        std::fprintf(stderr, "header.find('%s') misses its entry\n",
                     entry.name.c_str());
        std::abort();
      }
    }
    for (const auto &[key, value] : header->metadata)
      sum += key.size() + value.size();
    sum += header->checksum.size() + header->dataStart;
  } else {
    sum += header.status().message().size();
  }

  rt::StatusOr<rt::SafetensorsContents> contents = rt::readSafetensors(path);
  fuzz::report("readSafetensors", contents.status());
  if (contents.ok()) {
    // Whatever reads the whole file has read a valid header.
    if (!header.ok() || header->entries.size() != contents->tensors.size()) {
      std::fprintf(stderr, "readSafetensors succeeded where "
                           "readSafetensorsHeader disagrees\n");
      std::abort();
    }
    for (const auto &[name, tensor] : contents->tensors) {
      const rt::SafetensorsEntry *entry = header->find(name);
      if (!entry || entry->dtype != tensor.dtype() ||
          entry->shape != tensor.shape() ||
          entry->end - entry->begin != tensor.sizeInBytes()) {
        std::fprintf(stderr, "tensor '%s' differs from its header entry\n",
                     name.c_str());
        std::abort();
      }
      sum += fuzz::touchTensor(tensor);
    }
    for (const auto &[key, value] : contents->metadata)
      sum += key.size() + value.size();
  } else {
    sum += contents.status().message().size();
  }
  fuzz::keep(sum);
  return 0;
}
