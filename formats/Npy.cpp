//===- Npy.cpp - NumPy .npy reading and writing ---------------------------===//
//
// The .npy header is a Python literal, not JSON, so it gets its own small
// parser for exactly the subset NumPy writes: a dict with the string keys
// 'descr', 'fortran_order' and 'shape', whose values are a string, a bool
// and a tuple of non-negative integers. Reading checks the header against
// the real file size before allocating, then reads the elements straight
// into the tensor's storage (no intermediate copy of the file).
//
//===----------------------------------------------------------------------===//

#include "formats/Npy.h"

#include "support/FileUtil.h"

#include <cstring>
#include <limits>
#include <optional>

namespace uoe::rt {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
/// NumPy pads the whole header (magic to newline) to this many bytes so
/// that the data is aligned when the file is memory-mapped.
constexpr size_t kHeaderAlignment = 64;

/// What the header dict says.
struct NpyHeader {
  std::string descr;
  bool fortranOrder = false;
  std::vector<int64_t> shape;
};

/// The header text quoted for an error message: cut to a readable length,
/// non-printable bytes shown as \xNN.
std::string quoteHeader(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n'))
    text.remove_suffix(1);
  constexpr size_t kMaxShown = 160;
  std::string out = "\"";
  for (size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += "0123456789abcdef"[c >> 4];
      out += "0123456789abcdef"[c & 15];
    }
  }
  if (text.size() > kMaxShown)
    out += "...";
  return out + "\"";
}

/// Parses the Python dict literal of a .npy header.
class HeaderParser {
public:
  explicit HeaderParser(std::string_view text) : text_(text) {}

  /// The parsed header, or a DataLoss message (without the file name).
  StatusOr<NpyHeader> parse() {
    NpyHeader header;
    bool seenDescr = false, seenFortran = false, seenShape = false;
    skipSpace();
    if (!consume('{'))
      return error("the header is not a Python dict (it must start with '{')");
    while (true) {
      skipSpace();
      if (consume('}'))
        break;
      UOE_ASSIGN_OR_RETURN(std::string key, parseString("a dict key"));
      skipSpace();
      if (!consume(':'))
        return error(strCat("expected ':' after key '", key, "'"));
      skipSpace();
      if (key == "descr") {
        if (seenDescr)
          return error("duplicate key 'descr'");
        seenDescr = true;
        if (peek() == '[')
          return unimplementedError(
              "structured dtypes (a list as 'descr') are not supported");
        UOE_ASSIGN_OR_RETURN(header.descr, parseString("the 'descr' value"));
      } else if (key == "fortran_order") {
        if (seenFortran)
          return error("duplicate key 'fortran_order'");
        seenFortran = true;
        UOE_ASSIGN_OR_RETURN(header.fortranOrder, parseBool());
      } else if (key == "shape") {
        if (seenShape)
          return error("duplicate key 'shape'");
        seenShape = true;
        UOE_ASSIGN_OR_RETURN(header.shape, parseShape());
      } else {
        return error(strCat("unknown key '", key, "'"));
      }
      skipSpace();
      if (consume(','))
        continue;
      skipSpace();
      if (consume('}'))
        break;
      return error(
          strCat("expected ',' or '}' after the value of '", key, "'"));
    }
    skipSpace();
    if (pos_ != text_.size())
      return error("unexpected characters after the dict");
    if (!seenDescr)
      return error("missing key 'descr'");
    if (!seenFortran)
      return error("missing key 'fortran_order'");
    if (!seenShape)
      return error("missing key 'shape'");
    return header;
  }

private:
  Status error(std::string_view what) const {
    return dataLossError(strCat("malformed .npy header: ", what, " (at byte ",
                                pos_, " of ", quoteHeader(text_), ")"));
  }

  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool consume(char c) {
    if (pos_ >= text_.size() || text_[pos_] != c)
      return false;
    ++pos_;
    return true;
  }
  void skipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }

  /// A '...' or "..." literal without escapes (NumPy never writes any).
  StatusOr<std::string> parseString(std::string_view what) {
    char quote = peek();
    if (quote != '\'' && quote != '"')
      return error(strCat("expected a string as ", what));
    size_t start = ++pos_;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      if (text_[pos_] == '\\')
        return error("escape sequences in header strings are not supported");
      ++pos_;
    }
    if (pos_ >= text_.size())
      return error("unterminated string");
    std::string value(text_.substr(start, pos_ - start));
    ++pos_;
    return value;
  }

  StatusOr<bool> parseBool() {
    if (text_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (text_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    return error("expected True or False as the 'fortran_order' value");
  }

  /// A non-negative integer; Python 2 NumPy wrote longs with an 'L'.
  StatusOr<int64_t> parseDimension() {
    if (peek() < '0' || peek() > '9')
      return error("expected a non-negative integer in 'shape'");
    int64_t value = 0;
    while (peek() >= '0' && peek() <= '9') {
      int digit = peek() - '0';
      if (value > (std::numeric_limits<int64_t>::max() - digit) / 10)
        return error("a dimension in 'shape' does not fit in 64 bits");
      value = value * 10 + digit;
      ++pos_;
    }
    if (peek() == 'L')
      ++pos_;
    return value;
  }

  /// A tuple: "()", "(3,)", "(2, 3)", "(2, 3,)".
  StatusOr<std::vector<int64_t>> parseShape() {
    if (!consume('('))
      return error("expected a tuple as the 'shape' value");
    std::vector<int64_t> shape;
    bool trailingComma = false;
    while (true) {
      skipSpace();
      if (consume(')'))
        break;
      if (!shape.empty() && !trailingComma)
        return error("expected ',' or ')' in 'shape'");
      UOE_ASSIGN_OR_RETURN(int64_t dim, parseDimension());
      shape.push_back(dim);
      skipSpace();
      trailingComma = consume(',');
    }
    // "(3)" is the integer 3 in Python, not a tuple.
    if (shape.size() == 1 && !trailingComma)
      return error("'shape' is not a tuple (a one-element tuple needs a "
                   "trailing comma)");
    return shape;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

/// Maps a descr to a DType. 1-byte types have no byte order, so any order
/// character is accepted for them; wider ones must be little-endian ('<')
/// or native ('='), the host being little-endian.
StatusOr<DType> dtypeFromDescr(std::string_view descr) {
  if (descr.size() < 2)
    return unimplementedError(strCat("unsupported dtype '", descr, "'"));
  char order = descr[0];
  std::string_view code = descr.substr(1);
  struct Entry {
    const char *code;
    DType dtype;
  };
  static constexpr Entry kEntries[] = {{"f4", DType::F32}, {"f2", DType::F16},
                                       {"f8", DType::F64}, {"i8", DType::I64},
                                       {"i4", DType::I32}, {"i1", DType::I8},
                                       {"u1", DType::U8},  {"b1", DType::Bool}};
  if (order != '<' && order != '>' && order != '|' && order != '=')
    return unimplementedError(strCat("unsupported dtype '", descr, "'"));
  for (const Entry &entry : kEntries) {
    if (code != entry.code)
      continue;
    if (dtypeSize(entry.dtype) == 1)
      return entry.dtype;
    if (order == '>')
      return unimplementedError(strCat("big-endian dtype '", descr,
                                       "' is not supported (use '<", code,
                                       "')"));
    if (order == '|')
      return unimplementedError(strCat(
          "dtype '", descr, "' has no byte order (expected '<", code, "')"));
    return entry.dtype;
  }
  return unimplementedError(strCat("unsupported dtype '", descr, "'"));
}

} // namespace

StatusOr<HostTensor> readNpy(const std::string &path) {
  // FileUtil's errors name the file already; ours get it as a prefix.
  auto inFile = [&path](const Status &status) {
    return status.withContext(path);
  };
  UOE_ASSIGN_OR_RETURN(InputFile file, InputFile::open(path));
  const uint64_t fileSize = file.size();

  // Preamble: magic (6), version (2), header length (2 in 1.0, 4 after).
  unsigned char preamble[12] = {0};
  size_t preambleRead =
      fileSize < sizeof(preamble) ? fileSize : sizeof(preamble);
  UOE_RETURN_IF_ERROR(file.readAt(0, preamble, preambleRead));
  if (preambleRead < kMagicSize ||
      std::memcmp(preamble, kMagic, kMagicSize) != 0)
    return inFile(dataLossError("not a .npy file (bad magic string)"));
  if (preambleRead < 10)
    return inFile(dataLossError(
        strCat("truncated header: the file has only ", fileSize, " bytes")));
  unsigned major = preamble[6], minor = preamble[7];
  size_t lengthBytes;
  if (major == 1 && minor == 0)
    lengthBytes = 2;
  else if ((major == 2 || major == 3) && minor == 0)
    lengthBytes = 4;
  else
    return inFile(unimplementedError(
        strCat("unsupported .npy format version ", major, ".", minor)));
  const uint64_t dictStart = 8 + lengthBytes;
  if (fileSize < dictStart)
    return inFile(dataLossError(
        strCat("truncated header: the file has only ", fileSize, " bytes")));
  const uint64_t dictLength = readLittleEndian(preamble + 8, lengthBytes);
  const uint64_t dataStart = dictStart + dictLength;
  if (dataStart > fileSize)
    return inFile(dataLossError(
        strCat("truncated header: its length field says ", dictLength,
               " bytes but only ", fileSize - dictStart, " follow it")));

  std::string dictText(static_cast<size_t>(dictLength), '\0');
  UOE_RETURN_IF_ERROR(file.readAt(dictStart, dictText.data(), dictText.size()));
  StatusOr<NpyHeader> header = HeaderParser(dictText).parse();
  if (!header.ok())
    return inFile(header.status());
  StatusOr<DType> dtype = dtypeFromDescr(header->descr);
  if (!dtype.ok())
    return inFile(dtype.status());
  // Refuse Fortran order rather than silently transpose: the flag is a
  // layout contract even where (one axis > 1) the bytes would agree.
  if (header->fortranOrder)
    return inFile(unimplementedError("Fortran-order (column-major) arrays "
                                     "are not supported; save in C order"));
  StatusOr<int64_t> numElements = checkedNumElements(header->shape, *dtype);
  if (!numElements.ok())
    return inFile(dataLossError(numElements.status().message()));

  const uint64_t expected =
      static_cast<uint64_t>(*numElements) * dtypeSize(*dtype);
  const uint64_t actual = fileSize - dataStart;
  if (expected != actual)
    return inFile(dataLossError(strCat(
        "shape ", shapeToString(header->shape), " of ", dtypeName(*dtype),
        " needs ", expected, " bytes of data but the file has ", actual,
        " after the header")));

  StatusOr<HostTensor> tensor =
      HostTensor::createUninitialized(*dtype, header->shape);
  if (!tensor.ok())
    return inFile(tensor.status());
  UOE_RETURN_IF_ERROR(
      file.readAt(dataStart, tensor->rawData(), tensor->sizeInBytes()));
  Status boolCheck = tensor->checkBoolValues();
  if (!boolCheck.ok())
    return inFile(boolCheck);
  return tensor;
}

StatusOr<std::string> encodeNpyHeader(const HostTensor &tensor) {
  std::string_view descr = npyDescr(tensor.dtype());
  if (descr.empty())
    return unimplementedError(strCat(dtypeName(tensor.dtype()),
                                     " has no NumPy dtype; convert the "
                                     "tensor to f32 to write it as .npy"));
  std::string dict =
      strCat("{'descr': '", descr, "', 'fortran_order': False, 'shape': (");
  for (size_t i = 0; i < tensor.shape().size(); ++i) {
    if (i != 0)
      dict += ", ";
    dict += std::to_string(tensor.shape()[i]);
  }
  dict += tensor.shape().size() == 1 ? ",), }" : "), }";

  // Pad with spaces and end with a newline so that the total header is a
  // multiple of kHeaderAlignment; use version 2.0 (4-byte length) only
  // when the version 1.0 length would not fit in 16 bits.
  auto paddedLength = [&](size_t preamble) {
    size_t unpadded = preamble + dict.size() + 1;
    return (unpadded + kHeaderAlignment - 1) / kHeaderAlignment *
           kHeaderAlignment;
  };
  size_t preambleSize = 10;
  unsigned char major = 1;
  if (paddedLength(10) - 10 > 0xffff) {
    preambleSize = 12;
    major = 2;
  }
  const size_t total = paddedLength(preambleSize);
  const size_t dictLength = total - preambleSize;

  std::string header(kMagic, kMagicSize);
  header += static_cast<char>(major);
  header += '\0';
  appendLittleEndian(header, dictLength, preambleSize - 8);
  header += dict;
  header.append(total - header.size() - 1, ' ');
  header += '\n';
  return header;
}

Status writeNpy(const std::string &path, const HostTensor &tensor) {
  StatusOr<std::string> header = encodeNpyHeader(tensor);
  if (!header.ok())
    return header.status().withContext(strCat("writing '", path, "'"));
  return writeFileAtomically(
      path, {ByteChunk{header->data(), header->size()},
             ByteChunk{tensor.rawData(), tensor.sizeInBytes()}});
}

} // namespace uoe::rt
