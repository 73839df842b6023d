//===- Safetensors.cpp - safetensors reading and writing ------------------===//
//
// The header is parsed with our strict JSON parser and checked field by
// field; tensors are then read with positioned reads straight into their
// HostTensor storage, so peak memory is the tensors themselves. The data
// buffer must be tiled exactly by the tensors' byte ranges, the same rule
// the reference implementation (huggingface/safetensors) enforces: sorting
// the ranges, each must start where the previous one ended, and the last
// must end at the end of the file.
//
//===----------------------------------------------------------------------===//

#include "formats/Safetensors.h"

#include "support/Checksum.h"

#include "support/FileUtil.h"
#include "formats/Json.h"

#include <algorithm>
#include <limits>
#include <set>

namespace uoe::rt {

namespace {

constexpr std::string_view kMetadataKey = "__metadata__";

/// "an array", "a number", ... for messages.
std::string describeKind(JsonValue::Kind kind) {
  bool vowel =
      kind == JsonValue::Kind::Array || kind == JsonValue::Kind::Object;
  return strCat(vowel ? "an " : "a ", jsonKindName(kind));
}

std::string range(uint64_t begin, uint64_t end) {
  return strCat("[", begin, ", ", end, ")");
}

/// A non-negative integer JSON value that fits in int64_t.
std::optional<int64_t> nonNegativeInt(const JsonValue &value) {
  std::optional<int64_t> integer = value.asInt64();
  if (!integer || *integer < 0)
    return std::nullopt;
  return integer;
}

Status parseMetadata(const JsonValue &value, SafetensorsHeader &header) {
  if (!value.isObject())
    return dataLossError(strCat("\"", kMetadataKey, "\" is ",
                                describeKind(value.kind()),
                                ", not an object of strings"));
  for (const JsonValue::Member &member : value.asObject()) {
    if (!member.second.isString())
      return dataLossError(
          strCat("\"", kMetadataKey, "\" entry '", member.first, "' is ",
                 describeKind(member.second.kind()), ", not a string"));
    if (member.first == kSafetensorsChecksumKey)
      header.checksum = member.second.asString();
    else
      header.metadata.emplace(member.first, member.second.asString());
  }
  return okStatus();
}

/// Checks one tensor entry of the header, whose data buffer has
/// `bufferSize` bytes. Errors do not yet name the tensor or the file.
StatusOr<SafetensorsEntry> parseEntry(const std::string &name,
                                      const JsonValue &value,
                                      uint64_t bufferSize) {
  if (!value.isObject())
    return dataLossError(
        strCat("entry is ", describeKind(value.kind()), ", not an object"));
  for (const JsonValue::Member &member : value.asObject())
    if (member.first != "dtype" && member.first != "shape" &&
        member.first != "data_offsets")
      return dataLossError(strCat("unknown field \"", member.first, "\""));

  SafetensorsEntry entry;
  entry.name = name;

  const JsonValue *dtype = value.find("dtype");
  if (!dtype)
    return dataLossError("missing field \"dtype\"");
  if (!dtype->isString())
    return dataLossError("\"dtype\" is not a string");
  std::optional<DType> parsed = parseSafetensorsDType(dtype->asString());
  if (!parsed) {
    if (isKnownUnsupportedSafetensorsDType(dtype->asString()))
      return unimplementedError(
          strCat("unsupported dtype '", dtype->asString(), "'"));
    return dataLossError(strCat("unknown dtype '", dtype->asString(), "'"));
  }
  entry.dtype = *parsed;

  const JsonValue *shape = value.find("shape");
  if (!shape)
    return dataLossError("missing field \"shape\"");
  if (!shape->isArray())
    return dataLossError("\"shape\" is not an array");
  for (const JsonValue &dim : shape->asArray()) {
    std::optional<int64_t> size = nonNegativeInt(dim);
    if (!size)
      return dataLossError(strCat("\"shape\" has an element that is not a "
                                  "non-negative integer: ",
                                  formatJson(dim)));
    entry.shape.push_back(*size);
  }

  const JsonValue *offsets = value.find("data_offsets");
  if (!offsets)
    return dataLossError("missing field \"data_offsets\"");
  if (!offsets->isArray() || offsets->asArray().size() != 2)
    return dataLossError("\"data_offsets\" is not an array of two integers");
  std::optional<int64_t> begin = nonNegativeInt(offsets->asArray()[0]);
  std::optional<int64_t> end = nonNegativeInt(offsets->asArray()[1]);
  if (!begin || !end)
    return dataLossError(strCat("\"data_offsets\" ", formatJson(*offsets),
                                " are not non-negative integers"));
  entry.begin = static_cast<uint64_t>(*begin);
  entry.end = static_cast<uint64_t>(*end);
  if (entry.begin > entry.end)
    return dataLossError(strCat("\"data_offsets\" ", formatJson(*offsets),
                                " end before they begin"));
  if (entry.end > bufferSize)
    return dataLossError(strCat("data_offsets ", range(entry.begin, entry.end),
                                " exceed the data buffer of ", bufferSize,
                                " bytes"));

  StatusOr<int64_t> numElements = checkedNumElements(entry.shape, entry.dtype);
  if (!numElements.ok())
    return dataLossError(numElements.status().message());
  const uint64_t needed =
      static_cast<uint64_t>(*numElements) * dtypeSize(entry.dtype);
  if (entry.end - entry.begin != needed)
    return dataLossError(strCat("data_offsets ", range(entry.begin, entry.end),
                                " hold ", entry.end - entry.begin,
                                " bytes but ", dtypeName(entry.dtype),
                                shapeToString(entry.shape), " needs ", needed));
  return entry;
}

/// Checks that the entries' byte ranges tile [0, bufferSize) exactly.
Status checkTiling(const std::vector<SafetensorsEntry> &entries,
                   uint64_t bufferSize) {
  std::vector<const SafetensorsEntry *> byOffset;
  for (const SafetensorsEntry &entry : entries)
    byOffset.push_back(&entry);
  std::sort(byOffset.begin(), byOffset.end(),
            [](const SafetensorsEntry *a, const SafetensorsEntry *b) {
              return std::tie(a->begin, a->end, a->name) <
                     std::tie(b->begin, b->end, b->name);
            });
  uint64_t covered = 0;
  const SafetensorsEntry *previous = nullptr;
  for (const SafetensorsEntry *entry : byOffset) {
    if (entry->begin < covered)
      return dataLossError(strCat("tensor '", entry->name, "' ",
                                  range(entry->begin, entry->end),
                                  " overlaps tensor '", previous->name, "' ",
                                  range(previous->begin, previous->end)));
    if (entry->begin > covered)
      return dataLossError(strCat("bytes ", range(covered, entry->begin),
                                  " of the data buffer belong to no tensor"));
    covered = entry->end;
    previous = entry;
  }
  if (covered != bufferSize)
    return dataLossError(strCat("bytes ", range(covered, bufferSize),
                                " of the data buffer belong to no tensor"));
  return okStatus();
}

/// Parses and validates the header text of a file of `fileSize` bytes
/// whose data buffer starts at `dataStart`. Errors do not name the file.
StatusOr<SafetensorsHeader> parseHeaderText(const std::string &text,
                                            uint64_t dataStart,
                                            uint64_t fileSize) {
  StatusOr<JsonValue> json = parseJson(text);
  if (!json.ok())
    return dataLossError(
        strCat("header is not valid JSON: ", json.status().message()));
  if (!json->isObject())
    return dataLossError(strCat("header is a JSON ", jsonKindName(json->kind()),
                                ", not an object"));

  SafetensorsHeader header;
  header.dataStart = dataStart;
  const uint64_t bufferSize = fileSize - dataStart;
  for (const JsonValue::Member &member : json->asObject()) {
    if (member.first == kMetadataKey) {
      UOE_RETURN_IF_ERROR(parseMetadata(member.second, header));
      continue;
    }
    StatusOr<SafetensorsEntry> entry =
        parseEntry(member.first, member.second, bufferSize);
    if (!entry.ok())
      return entry.status().withContext(strCat("tensor '", member.first, "'"));
    header.entries.push_back(std::move(*entry));
  }
  std::sort(header.entries.begin(), header.entries.end(),
            [](const SafetensorsEntry &a, const SafetensorsEntry &b) {
              return a.name < b.name;
            });
  UOE_RETURN_IF_ERROR(checkTiling(header.entries, bufferSize));
  return header;
}

/// Reads and validates the header of `file`. Format errors get the file's
/// path as a prefix; read errors from InputFile name it already.
StatusOr<SafetensorsHeader> readHeader(const InputFile &file) {
  auto inFile = [&file](const Status &status) {
    return status.withContext(file.path());
  };
  const uint64_t fileSize = file.size();
  if (fileSize < 8)
    return inFile(
        dataLossError(strCat("file of ", fileSize,
                             " bytes is too short for the 8-byte header "
                             "length")));
  unsigned char lengthBytes[8];
  UOE_RETURN_IF_ERROR(file.readAt(0, lengthBytes, sizeof(lengthBytes)));
  uint64_t headerSize = readLittleEndian(lengthBytes, sizeof(lengthBytes));
  if (headerSize > fileSize - 8)
    return inFile(
        dataLossError(strCat("header length ", headerSize, " exceeds the ",
                             fileSize - 8, " bytes after the length field")));
  // Checked before allocating: a hostile length cannot exhaust memory.
  if (headerSize > kMaxSafetensorsHeaderSize)
    return inFile(dataLossError(strCat("header length ", headerSize,
                                       " exceeds the limit of ",
                                       kMaxSafetensorsHeaderSize, " bytes")));

  std::string text(static_cast<size_t>(headerSize), '\0');
  UOE_RETURN_IF_ERROR(file.readAt(8, text.data(), text.size()));
  StatusOr<SafetensorsHeader> header =
      parseHeaderText(text, 8 + headerSize, fileSize);
  if (!header.ok())
    return inFile(header.status());
  return header;
}

} // namespace

//===----------------------------------------------------------------------===//
// Lookups
//===----------------------------------------------------------------------===//

const SafetensorsEntry *SafetensorsHeader::find(std::string_view name) const {
  auto it =
      std::lower_bound(entries.begin(), entries.end(), name,
                       [](const SafetensorsEntry &entry, std::string_view key) {
                         return entry.name < key;
                       });
  if (it == entries.end() || it->name != name)
    return nullptr;
  return &*it;
}

const HostTensor *SafetensorsContents::find(std::string_view name) const {
  auto it = tensors.find(name);
  return it == tensors.end() ? nullptr : &it->second;
}

StatusOr<const HostTensor *>
SafetensorsContents::get(std::string_view name) const {
  if (const HostTensor *tensor = find(name))
    return tensor;
  std::string message = strCat("no tensor named '", name, "'");
  if (!source.empty())
    message += strCat(" in '", source, "'");
  message += strCat(" (it has ", tensors.size(), " tensors)");
  return notFoundError(std::move(message));
}

std::vector<std::string> SafetensorsContents::names() const {
  std::vector<std::string> result;
  result.reserve(tensors.size());
  for (const auto &entry : tensors)
    result.push_back(entry.first);
  return result;
}

//===----------------------------------------------------------------------===//
// Reading
//===----------------------------------------------------------------------===//

StatusOr<SafetensorsHeader> readSafetensorsHeader(const std::string &path) {
  UOE_ASSIGN_OR_RETURN(InputFile file, InputFile::open(path));
  return readHeader(file);
}

StatusOr<SafetensorsContents> readSafetensors(const std::string &path) {
  UOE_ASSIGN_OR_RETURN(InputFile file, InputFile::open(path));
  UOE_ASSIGN_OR_RETURN(SafetensorsHeader header, readHeader(file));

  SafetensorsContents contents;
  contents.source = path;
  contents.metadata = std::move(header.metadata);
  // The checksum runs over the tensors in the order of their offsets.
  std::vector<const SafetensorsEntry *> byOffset;
  for (const SafetensorsEntry &entry : header.entries)
    byOffset.push_back(&entry);
  std::sort(byOffset.begin(), byOffset.end(),
            [](const auto *a, const auto *b) { return a->begin < b->begin; });
  uint32_t crc = 0;
  for (const SafetensorsEntry *sorted : byOffset) {
    const SafetensorsEntry &entry = *sorted;
    auto inTensor = [&](const Status &status) {
      return status.withContext(strCat(path, ": tensor '", entry.name, "'"));
    };
    StatusOr<HostTensor> tensor =
        HostTensor::createUninitialized(entry.dtype, entry.shape);
    if (!tensor.ok())
      return inTensor(tensor.status());
    Status status = file.readAt(header.dataStart + entry.begin,
                                tensor->rawData(), tensor->sizeInBytes());
    if (!status.ok())
      return status.withContext(strCat("tensor '", entry.name, "'"));
    crc = crc32c(crc, tensor->rawData(), tensor->sizeInBytes());
    status = tensor->checkBoolValues();
    if (!status.ok())
      return inTensor(status);
    contents.tensors.emplace(entry.name, std::move(*tensor));
  }
  if (!header.checksum.empty() && header.checksum != checksumToString(crc))
    return dataLossError(strCat(
        path, ": the tensor data do not match the file's checksum (stored ",
        header.checksum, ", computed ", checksumToString(crc),
        "): the file is corrupt, or a tool changed its tensors but kept "
        "uoe's metadata (remove its '",
        kSafetensorsChecksumKey, "' entry to accept the change)"));
  return contents;
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

Status writeSafetensors(
    const std::string &path,
    const std::vector<std::pair<std::string, const HostTensor *>> &tensors,
    const std::map<std::string, std::string, std::less<>> &metadata) {
  auto invalid = [&path](std::string message) {
    return invalidArgumentError(
        strCat("writing '", path, "': ", std::move(message)));
  };

  std::set<std::string_view> seen;
  for (const auto &[name, tensor] : tensors) {
    if (!tensor)
      return invalid(strCat("tensor '", name, "' is null"));
    if (name == kMetadataKey)
      return invalid(strCat("a tensor cannot be named \"", kMetadataKey, "\""));
    if (!isValidUtf8(name))
      return invalid("a tensor name is not valid UTF-8");
    if (!seen.insert(name).second)
      return invalid(strCat("duplicate tensor name '", name, "'"));
  }
  for (const auto &[key, value] : metadata)
    if (!isValidUtf8(key) || !isValidUtf8(value))
      return invalid(strCat("metadata entry '", key, "' is not valid UTF-8"));

  // Larger elements first: then every tensor starts at a multiple of its
  // element size (all sizes are powers of two, and the buffer itself starts
  // at a multiple of 8).
  std::vector<const std::pair<std::string, const HostTensor *> *> order;
  for (const auto &entry : tensors)
    order.push_back(&entry);
  std::sort(order.begin(), order.end(), [](const auto *a, const auto *b) {
    size_t sizeA = dtypeSize(a->second->dtype());
    size_t sizeB = dtypeSize(b->second->dtype());
    if (sizeA != sizeB)
      return sizeA > sizeB;
    return a->first < b->first;
  });

  uint32_t crc = 0;
  for (const auto *entry : order)
    crc = crc32c(crc, entry->second->rawData(), entry->second->sizeInBytes());
  JsonValue header = JsonValue::object();
  JsonValue entries = JsonValue::object();
  for (const auto &[key, value] : metadata)
    if (key != kSafetensorsChecksumKey)
      entries.set(key, JsonValue::string(value));
  entries.set(std::string(kSafetensorsChecksumKey),
              JsonValue::string(checksumToString(crc)));
  header.set(std::string(kMetadataKey), std::move(entries));
  uint64_t offset = 0;
  for (const auto *entry : order) {
    const HostTensor &tensor = *entry->second;
    JsonValue shape = JsonValue::array();
    for (int64_t dim : tensor.shape())
      shape.push(JsonValue::integer(dim));
    uint64_t end = offset + tensor.sizeInBytes();
    JsonValue info = JsonValue::object();
    info.set("dtype", JsonValue::string(safetensorsDTypeName(tensor.dtype())));
    info.set("shape", std::move(shape));
    info.set("data_offsets",
             JsonValue::array({JsonValue::integer(static_cast<int64_t>(offset)),
                               JsonValue::integer(static_cast<int64_t>(end))}));
    // Names are unique (checked above): append without JsonValue::set's
    // linear search, which would make large checkpoints quadratic.
    header.asObject().emplace_back(entry->first, std::move(info));
    offset = end;
  }

  std::string text = formatJson(header);
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string lengthBytes;
  appendLittleEndian(lengthBytes, text.size(), 8);

  std::vector<ByteChunk> chunks = {{lengthBytes.data(), lengthBytes.size()},
                                   {text.data(), text.size()}};
  for (const auto *entry : order)
    chunks.push_back({entry->second->rawData(), entry->second->sizeInBytes()});
  return writeFileAtomically(path, chunks);
}

Status writeSafetensors(const std::string &path,
                        const SafetensorsContents &contents) {
  std::vector<std::pair<std::string, const HostTensor *>> tensors;
  tensors.reserve(contents.tensors.size());
  for (const auto &[name, tensor] : contents.tensors)
    tensors.emplace_back(name, &tensor);
  return writeSafetensors(path, tensors, contents.metadata);
}

} // namespace uoe::rt
