//===- executable_fuzzer.cpp - fuzzes the .uoex reader --------------------===//
//
// Two passes over every input with parseExecutable (formats/Executable.h):
//
//  1. the bytes as they are: a framed .uoex ("UOEX", frame version, payload
//     size, CRC-32C, then the serialised Executable); this fuzzes the frame;
//  2. the payload (the bytes after a 24-byte "UOEX" header, or the whole
//     input when it has none) framed anew with its true size and checksum,
//     so that mutated payloads get past the checksum and fuzz the protobuf
//     parse and validateExecutable.
//
// An error Status is fine; a crash, a sanitizer report, a leak or a timeout
// is a bug. An Executable parsed successfully must serialise and parse
// again, and every entry point must be found by name.
//
//===----------------------------------------------------------------------===//

#include "FuzzUtil.h"

#include "support/Checksum.h"
#include "formats/Executable.h"

#include <cstdio>
#include <cstdlib>
#include <string_view>

using namespace uoe;

namespace {

constexpr size_t kFrameHeaderSize = 24;

void putLittleEndian(std::string &out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

/// `payload` framed as serializeExecutable frames it.
std::string frame(std::string_view payload) {
  std::string bytes("UOEX", 4);
  putLittleEndian(bytes, 1, 4);
  putLittleEndian(bytes, payload.size(), 8);
  putLittleEndian(bytes, rt::crc32c(0, payload), 4);
  putLittleEndian(bytes, 0, 4);
  bytes.append(payload);
  return bytes;
}

uint64_t check(std::string_view bytes, const char *what) {
  rt::StatusOr<rt::proto::Executable> executable =
      rt::parseExecutable(bytes, "fuzz input");
  fuzz::report(what, executable.status());
  if (!executable.ok())
    return executable.status().message().size();
  uint64_t sum = executable->object().size() + executable->target().size();
  for (const rt::proto::EntryPoint &entry : executable->entry_points()) {
    sum += entry.symbol().size() + entry.inputs_size() + entry.results_size();
    rt::StatusOr<const rt::proto::EntryPoint *> found =
        rt::findEntryPoint(*executable, entry.name());
    if (!found.ok() || (*found)->name() != entry.name()) {
      std::fprintf(stderr, "findEntryPoint misses entry point '%s'\n",
                   entry.name().c_str());
      std::abort();
    }
  }
  std::string again = rt::serializeExecutable(*executable);
  rt::StatusOr<rt::proto::Executable> reparsed =
      rt::parseExecutable(again, "the fuzz input serialised again");
  if (!reparsed.ok()) {
    std::fprintf(stderr, "a parsed Executable does not parse again: %s\n",
                 reparsed.status().toString().c_str());
    std::abort();
  }
  return sum + again.size();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char *>(data), size);
  uint64_t sum = check(bytes, "parseExecutable (as is)");
  std::string_view payload = bytes;
  if (bytes.size() >= kFrameHeaderSize && bytes.substr(0, 4) == "UOEX")
    payload = bytes.substr(kFrameHeaderSize);
  sum += check(frame(payload), "parseExecutable (framed anew)");
  fuzz::keep(sum);
  return 0;
}
