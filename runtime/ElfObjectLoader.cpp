//===- ElfObjectLoader.cpp - loading CPU objects without LLVM -------------===//
//
// See ElfObjectLoader.h for what is supported. load() works in passes, each
// of which validates what it reads before the next trusts it:
//
//   1. the ELF header, the section header table and the section names;
//   2. the symbol table: names, section indices, values, bindings;
//   3. undefined symbols resolved (extra symbols, then dlsym);
//   4. every relocation of an allocated section checked (symbol index,
//      offset, type) and the GOT slots and call stubs it needs counted;
//   5. layout: three page-aligned parts of one mapping, [code | stubs]
//      [read-only data | GOT] [writable data | .bss | COMMON], each section
//      at its alignment; map, copy the contents;
//   6. symbol addresses, GOT slots and stubs filled, relocations applied
//      with overflow checks;
//   7. page protections set, initializers run.
// Until the end of step 7 a failure just unmaps the region.
//
//===----------------------------------------------------------------------===//

#include "runtime/ElfObjectLoader.h"

#include "runtime/CpuBlas.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <dlfcn.h>
#include <elf.h>
#include <limits>
#include <set>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

using namespace uoe::rt;

namespace {

/// The most bytes one object may occupy: every 32-bit PC-relative reference
/// between two of its parts must reach.
constexpr uint64_t kMaxImageSize = uint64_t(1) << 31;
/// The largest section or COMMON alignment we honour.
constexpr uint64_t kMaxAlignment = uint64_t(1) << 16;
/// A call stub: jmp *disp32(%rip), then two int3 to round it to 8 bytes.
constexpr uint64_t kStubSize = 8;

std::string hex(uint64_t value) {
  static const char digits[] = "0123456789abcdef";
  std::string text;
  do {
    text.insert(text.begin(), digits[value & 15]);
    value >>= 4;
  } while (value);
  return "0x" + text;
}

Status malformed(std::string message) {
  return invalidArgumentError("malformed ELF object: " + std::move(message));
}

Status unsupported(std::string message) {
  return invalidArgumentError("unsupported ELF object: " + std::move(message));
}

/// The psABI name of relocation type `type`, or "type N" for one we do not
/// know at all.
std::string relocationName(uint32_t type) {
  static const char *const names[] = {
      "R_X86_64_NONE",
      "R_X86_64_64",
      "R_X86_64_PC32",
      "R_X86_64_GOT32",
      "R_X86_64_PLT32",
      "R_X86_64_COPY",
      "R_X86_64_GLOB_DAT",
      "R_X86_64_JUMP_SLOT",
      "R_X86_64_RELATIVE",
      "R_X86_64_GOTPCREL",
      "R_X86_64_32",
      "R_X86_64_32S",
      "R_X86_64_16",
      "R_X86_64_PC16",
      "R_X86_64_8",
      "R_X86_64_PC8",
      "R_X86_64_DTPMOD64",
      "R_X86_64_DTPOFF64",
      "R_X86_64_TPOFF64",
      "R_X86_64_TLSGD",
      "R_X86_64_TLSLD",
      "R_X86_64_DTPOFF32",
      "R_X86_64_GOTTPOFF",
      "R_X86_64_TPOFF32",
      "R_X86_64_PC64",
      "R_X86_64_GOTOFF64",
      "R_X86_64_GOTPC32",
      "R_X86_64_GOT64",
      "R_X86_64_GOTPCREL64",
      "R_X86_64_GOTPC64",
      "R_X86_64_GOTPLT64",
      "R_X86_64_PLTOFF64",
      "R_X86_64_SIZE32",
      "R_X86_64_SIZE64",
      "R_X86_64_GOTPC32_TLSDESC",
      "R_X86_64_TLSDESC_CALL",
      "R_X86_64_TLSDESC",
      "R_X86_64_IRELATIVE",
      "R_X86_64_RELATIVE64",
      nullptr, // 39, 40: unassigned
      nullptr,
      "R_X86_64_GOTPCRELX",
      "R_X86_64_REX_GOTPCRELX",
  };
  if (type < sizeof(names) / sizeof(names[0]) && names[type])
    return names[type];
  return strCat("type ", type);
}

/// How a relocation type uses the GOT and stubs.
bool usesGotSlot(uint32_t type) {
  switch (type) {
  case R_X86_64_GOT32:
  case R_X86_64_GOTPCREL:
  case R_X86_64_GOTPCRELX:
  case R_X86_64_REX_GOTPCRELX:
  case R_X86_64_GOT64:
  case R_X86_64_GOTPCREL64:
    return true;
  default:
    return false;
  }
}

bool isSupportedRelocation(uint32_t type) {
  switch (type) {
  case R_X86_64_NONE:
  case R_X86_64_64:
  case R_X86_64_PC32:
  case R_X86_64_GOT32:
  case R_X86_64_PLT32:
  case R_X86_64_GOTPCREL:
  case R_X86_64_32:
  case R_X86_64_32S:
  case R_X86_64_PC64:
  case R_X86_64_GOTOFF64:
  case R_X86_64_GOTPC32:
  case R_X86_64_GOT64:
  case R_X86_64_GOTPCREL64:
  case R_X86_64_GOTPC64:
  case R_X86_64_SIZE32:
  case R_X86_64_SIZE64:
  case R_X86_64_GOTPCRELX:
  case R_X86_64_REX_GOTPCRELX:
    return true;
  default:
    return false;
  }
}

/// The bytes of the object with bounds-checked reads.
class Bytes {
public:
  explicit Bytes(std::string_view bytes) : bytes_(bytes) {}
  uint64_t size() const { return bytes_.size(); }
  /// Whether [offset, offset + length) lies inside, without overflow.
  bool contains(uint64_t offset, uint64_t length) const {
    return offset <= bytes_.size() && length <= bytes_.size() - offset;
  }
  template <typename T> T read(uint64_t offset) const {
    T value;
    std::memcpy(&value, bytes_.data() + offset, sizeof(T));
    return value;
  }
  const char *at(uint64_t offset) const { return bytes_.data() + offset; }

private:
  std::string_view bytes_;
};

/// The NUL-terminated string at `offset` of a string table.
StatusOr<std::string_view> stringAt(std::string_view table, uint64_t offset,
                                    const std::string &what) {
  if (offset >= table.size())
    return malformed(strCat("the name of ", what, " (offset ", offset,
                            ") is outside its string table of ", table.size(),
                            " bytes"));
  size_t end = table.find('\0', offset);
  if (end == std::string_view::npos)
    return malformed(
        strCat("the name of ", what, " is not terminated in its string table"));
  return table.substr(offset, end - offset);
}

struct Section {
  Elf64_Shdr header;
  std::string name;
  bool loaded = false;
  /// Offset of the section in the image (loaded sections).
  uint64_t offset = 0;
};

struct Symbol {
  Elf64_Sym raw;
  std::string name;
  /// The absolute address once resolved; `known` says whether it is usable.
  uint64_t address = 0;
  bool known = false;
  /// Defined outside the object (or absolute): calls go through a stub.
  bool external = false;
  /// The symbol's GOT slot and stub indices, -1 if none.
  int64_t gotSlot = -1;
  int64_t stub = -1;
  /// COMMON symbols: offset in the image.
  uint64_t commonOffset = 0;
};

/// The parts of the image, in address order.
enum Part { kCode, kReadOnly, kWritable, kNumParts };

/// A loaded object: owns its mapping and its finalizers.
class ElfLoadedObject final : public LoadedObject {
public:
  ElfLoadedObject() = default;
  ElfLoadedObject(const ElfLoadedObject &) = delete;
  ElfLoadedObject &operator=(const ElfLoadedObject &) = delete;
  ~ElfLoadedObject() override {
    for (void (*fini)() : finalizers)
      fini();
    if (mapping)
      munmap(mapping, mappingSize);
  }

  StatusOr<void *> lookup(std::string_view symbol) override {
    auto it = symbols.find(symbol);
    if (it == symbols.end())
      return notFoundError(
          strCat("the object defines no symbol '", symbol, "'"));
    return it->second;
  }

  void *mapping = nullptr;
  size_t mappingSize = 0;
  std::map<std::string, void *, std::less<>> symbols;
  /// In the order to call them.
  std::vector<void (*)()> finalizers;
};

/// One load: the parsed object and the image being built.
class Linker {
public:
  Linker(std::string_view bytes, const SymbolMap &extraSymbols)
      : bytes_(bytes), extraSymbols_(extraSymbols) {}

  StatusOr<std::unique_ptr<LoadedObject>> link();

private:
  Status parseHeader();
  Status parseSections();
  Status parseSymbols();
  Status resolveUndefined();
  Status scanRelocations();
  Status layOut();
  Status applyRelocations();
  void writePerfMap() const;
  Status protect();
  Status collectInitializers(std::vector<void (*)()> &initializers,
                             std::vector<void (*)()> &finalizers);

  std::string sectionLabel(uint64_t index) const {
    if (index < sections_.size() && !sections_[index].name.empty())
      return strCat("section ", index, " (", sections_[index].name, ")");
    return strCat("section ", index);
  }
  std::string symbolLabel(uint64_t index) const {
    if (index < symbols_.size() && !symbols_[index].name.empty())
      return strCat("symbol '", symbols_[index].name, "'");
    return strCat("symbol ", index);
  }
  uint8_t *image() const {
    return static_cast<uint8_t *>(object_->mapping) + imageSkew_;
  }
  uint64_t imageAddress() const { return reinterpret_cast<uint64_t>(image()); }

  Bytes bytes_;
  const SymbolMap &extraSymbols_;
  Elf64_Ehdr header_{};
  std::vector<Section> sections_;
  std::vector<Symbol> symbols_;
  uint64_t symtabIndex_ = 0; // 0: none
  /// Relocation sections that apply to loaded sections.
  std::vector<uint64_t> relocationSections_;
  uint64_t numGotSlots_ = 0, numStubs_ = 0;
  /// Image layout.
  uint64_t partBegin_[kNumParts + 1] = {};
  uint64_t gotOffset_ = 0, stubsOffset_ = 0, imageSize_ = 0;
  uint64_t maxAlignment_ = 1;
  /// The image starts this many bytes into the mapping (over-alignment).
  uint64_t imageSkew_ = 0;
  std::unique_ptr<ElfLoadedObject> object_ =
      std::make_unique<ElfLoadedObject>();
};

Status Linker::parseHeader() {
  if (!bytes_.contains(0, sizeof(Elf64_Ehdr)))
    return malformed(strCat("the file has ", bytes_.size(),
                            " bytes, fewer than the 64 of an ELF64 header"));
  header_ = bytes_.read<Elf64_Ehdr>(0);
  const unsigned char *ident = header_.e_ident;
  if (std::memcmp(ident, ELFMAG, SELFMAG) != 0)
    return malformed("bad magic number (not an ELF file)");
  if (ident[EI_CLASS] != ELFCLASS64)
    return invalidArgumentError(
        strCat("not an ELF64 object (class ", int(ident[EI_CLASS]),
               "); this loader links x86-64 objects only"));
  if (ident[EI_DATA] != ELFDATA2LSB)
    return invalidArgumentError(strCat("not a little-endian ELF object (data ",
                                       int(ident[EI_DATA]), ")"));
  if (ident[EI_VERSION] != EV_CURRENT || header_.e_version != EV_CURRENT)
    return malformed(strCat("unknown ELF version ", header_.e_version));
  if (header_.e_machine != EM_X86_64)
    return invalidArgumentError(
        strCat("the object is for machine ", header_.e_machine,
               (header_.e_machine == EM_AARCH64 ? " (AArch64)"
                : header_.e_machine == EM_386   ? " (i386)"
                                                : ""),
               " but this loader links x86-64 (", EM_X86_64, ") objects"));
  if (header_.e_type != ET_REL)
    return invalidArgumentError(
        strCat("not a relocatable object (ELF type ", header_.e_type,
               (header_.e_type == ET_EXEC  ? ", an executable"
                : header_.e_type == ET_DYN ? ", a shared object"
                                           : ""),
               ")"));
  if (header_.e_shentsize != sizeof(Elf64_Shdr))
    return malformed(strCat("section header size ", header_.e_shentsize,
                            ", expected ", sizeof(Elf64_Shdr)));
  return okStatus();
}

Status Linker::parseSections() {
  uint64_t offset = header_.e_shoff;
  if (offset == 0)
    return malformed("the object has no section header table");
  if (!bytes_.contains(offset, sizeof(Elf64_Shdr)))
    return malformed(strCat("the section header table (offset ", hex(offset),
                            ") lies outside the file of ", bytes_.size(),
                            " bytes"));
  // Section 0 holds the real counts when they overflow the header's fields.
  Elf64_Shdr first = bytes_.read<Elf64_Shdr>(offset);
  uint64_t count = header_.e_shnum ? header_.e_shnum : first.sh_size;
  uint64_t names =
      header_.e_shstrndx == SHN_XINDEX ? first.sh_link : header_.e_shstrndx;
  if (count == 0)
    return malformed("the section header table is empty");
  if (count > (bytes_.size() - offset) / sizeof(Elf64_Shdr))
    return malformed(strCat(
        "the section header table (", count, " entries at offset ", hex(offset),
        ") runs past the end of the file of ", bytes_.size(), " bytes"));
  sections_.resize(count);
  for (uint64_t i = 0; i < count; ++i) {
    Elf64_Shdr &h = sections_[i].header;
    h = bytes_.read<Elf64_Shdr>(offset + i * sizeof(Elf64_Shdr));
    if (i > 0 && h.sh_type != SHT_NOBITS && h.sh_type != SHT_NULL &&
        !bytes_.contains(h.sh_offset, h.sh_size))
      return malformed(strCat("section ", i, " (offset ", hex(h.sh_offset),
                              ", size ", hex(h.sh_size),
                              ") lies outside the file of ", bytes_.size(),
                              " bytes"));
  }
  if (names == SHN_UNDEF || names >= count)
    return malformed(strCat("the section name table index ", names,
                            " is out of range (", count, " sections)"));
  const Elf64_Shdr &nameTable = sections_[names].header;
  if (nameTable.sh_type != SHT_STRTAB)
    return malformed(strCat("the section name table (section ", names,
                            ") is not a string table"));
  std::string_view nameBytes(bytes_.at(nameTable.sh_offset), nameTable.sh_size);
  for (uint64_t i = 1; i < count; ++i) {
    UOE_ASSIGN_OR_RETURN(
        std::string_view name,
        stringAt(nameBytes, sections_[i].header.sh_name, sectionLabel(i)));
    sections_[i].name = std::string(name);
  }

  for (uint64_t i = 1; i < count; ++i) {
    Section &section = sections_[i];
    const Elf64_Shdr &h = section.header;
    if (h.sh_type == SHT_SYMTAB_SHNDX)
      return unsupported(
          strCat(sectionLabel(i), ": extended section indices (SHN_XINDEX)"));
    if (h.sh_type == SHT_SYMTAB) {
      if (symtabIndex_)
        return malformed(strCat("two symbol tables (sections ", symtabIndex_,
                                " and ", i, ")"));
      symtabIndex_ = i;
    }
    if (!(h.sh_flags & SHF_ALLOC) || h.sh_type == SHT_NULL)
      continue;
    if (h.sh_flags & SHF_TLS)
      return unsupported(
          strCat(sectionLabel(i), ": thread-local storage is not supported"));
    if ((h.sh_flags & SHF_WRITE) && (h.sh_flags & SHF_EXECINSTR))
      return unsupported(
          strCat(sectionLabel(i), " is both writable and executable"));
    uint64_t align = h.sh_addralign ? h.sh_addralign : 1;
    if (align & (align - 1))
      return malformed(strCat(sectionLabel(i), ": alignment ", align,
                              " is not a power of two"));
    if (align > kMaxAlignment)
      return unsupported(strCat(sectionLabel(i), ": alignment ", align,
                                " exceeds the supported ", kMaxAlignment));
    if (h.sh_size >= kMaxImageSize)
      return outOfRangeError(strCat(sectionLabel(i), " has ", h.sh_size,
                                    " bytes; objects are limited to 2 GiB"));
    bool array = h.sh_type == SHT_INIT_ARRAY || h.sh_type == SHT_FINI_ARRAY ||
                 h.sh_type == SHT_PREINIT_ARRAY;
    if (array && h.sh_size % 8 != 0)
      return malformed(strCat(sectionLabel(i), " has ", h.sh_size,
                              " bytes, not a whole number of pointers"));
    section.loaded = true;
    maxAlignment_ = std::max(maxAlignment_, align);
  }
  return okStatus();
}

Status Linker::parseSymbols() {
  if (!symtabIndex_)
    return okStatus();
  const Elf64_Shdr &table = sections_[symtabIndex_].header;
  std::string label = sectionLabel(symtabIndex_);
  if (table.sh_entsize != sizeof(Elf64_Sym))
    return malformed(strCat(label, ": entry size ", table.sh_entsize,
                            ", expected ", sizeof(Elf64_Sym)));
  if (table.sh_size % sizeof(Elf64_Sym) != 0)
    return malformed(strCat(label, ": size ", table.sh_size,
                            " is not a multiple of ", sizeof(Elf64_Sym)));
  if (table.sh_link == 0 || table.sh_link >= sections_.size() ||
      sections_[table.sh_link].header.sh_type != SHT_STRTAB)
    return malformed(strCat(label, ": its string table (section ",
                            table.sh_link, ") is not a string table"));
  const Elf64_Shdr &strings = sections_[table.sh_link].header;
  std::string_view names(bytes_.at(strings.sh_offset), strings.sh_size);

  uint64_t count = table.sh_size / sizeof(Elf64_Sym);
  symbols_.resize(count);
  std::set<std::string_view> defined;
  for (uint64_t i = 0; i < count; ++i) {
    Symbol &symbol = symbols_[i];
    symbol.raw =
        bytes_.read<Elf64_Sym>(table.sh_offset + i * sizeof(Elf64_Sym));
    if (i == 0)
      continue;
    const Elf64_Sym &raw = symbol.raw;
    UOE_ASSIGN_OR_RETURN(std::string_view name,
                         stringAt(names, raw.st_name, strCat("symbol ", i)));
    symbol.name = std::string(name);
    unsigned type = ELF64_ST_TYPE(raw.st_info);
    unsigned binding = ELF64_ST_BIND(raw.st_info);
    if (binding != STB_LOCAL && binding != STB_GLOBAL && binding != STB_WEAK &&
        binding != STB_GNU_UNIQUE)
      return malformed(
          strCat(symbolLabel(i), " has unknown binding ", binding));
    if (type == STT_TLS)
      return unsupported(
          strCat(symbolLabel(i), ": thread-local storage is not supported"));
    if (type == STT_GNU_IFUNC && raw.st_shndx != SHN_UNDEF)
      return unsupported(
          strCat(symbolLabel(i), ": IFUNC definitions are not supported"));
    uint16_t index = raw.st_shndx;
    if (index == SHN_XINDEX)
      return unsupported(
          strCat(symbolLabel(i), ": extended section indices (SHN_XINDEX)"));
    if (index == SHN_UNDEF) {
      if (binding == STB_LOCAL)
        return malformed(strCat(symbolLabel(i), " is local but undefined"));
      continue;
    }
    if (index == SHN_COMMON) {
      uint64_t align = raw.st_value ? raw.st_value : 1;
      if ((align & (align - 1)) || align > kMaxAlignment)
        return malformed(strCat("COMMON ", symbolLabel(i), ": alignment ",
                                raw.st_value, " is not a power of two up to ",
                                kMaxAlignment));
      if (raw.st_size >= kMaxImageSize)
        return outOfRangeError(
            strCat("COMMON ", symbolLabel(i), " has ", raw.st_size, " bytes"));
      maxAlignment_ = std::max(maxAlignment_, align);
    } else if (index == SHN_ABS) {
      symbol.address = raw.st_value;
      symbol.known = true;
      symbol.external = true;
    } else if (index >= SHN_LORESERVE) {
      return malformed(
          strCat(symbolLabel(i), " has reserved section index ", hex(index)));
    } else if (index >= sections_.size()) {
      return malformed(strCat(symbolLabel(i), " is in section ", index,
                              ", but there are ", sections_.size()));
    } else if (type != STT_SECTION &&
               raw.st_value > sections_[index].header.sh_size) {
      return malformed(strCat(symbolLabel(i), ": value ", hex(raw.st_value),
                              " is past the end of ", sectionLabel(index), " (",
                              hex(sections_[index].header.sh_size), " bytes)"));
    }
    if (binding != STB_LOCAL && type != STT_SECTION && type != STT_FILE &&
        !defined.insert(symbol.name).second)
      return invalidArgumentError(
          strCat("symbol '", symbol.name, "' is defined twice in the object"));
  }
  return okStatus();
}

Status Linker::resolveUndefined() {
  for (const auto &[name, address] : extraSymbols_)
    if (!address)
      return invalidArgumentError(
          strCat("extra symbol '", name, "' has a null address"));
  std::vector<std::string> missing;
  for (size_t i = 1; i < symbols_.size(); ++i) {
    Symbol &symbol = symbols_[i];
    if (symbol.raw.st_shndx != SHN_UNDEF)
      continue;
    symbol.external = true;
    symbol.known = true;
    auto extra = extraSymbols_.find(symbol.name);
    void *address = extra != extraSymbols_.end()
                        ? extra->second
                        : dlsym(RTLD_DEFAULT, symbol.name.c_str());
    // OpenMP may be loaded locally (a library opened with RTLD_LOCAL, as
    // Python's ctypes does): look there too.
    if (!address)
      if (void *omp = openMpLibraryHandle())
        address = dlsym(omp, symbol.name.c_str());
    if (address) {
      symbol.address = reinterpret_cast<uint64_t>(address);
    } else if (ELF64_ST_BIND(symbol.raw.st_info) != STB_WEAK) {
      missing.push_back(symbol.name);
    }
  }
  if (missing.empty())
    return okStatus();
  std::string list;
  for (size_t i = 0; i < missing.size() && i < 8; ++i)
    list += (i ? ", '" : "'") + missing[i] + "'";
  if (missing.size() > 8)
    list += strCat(" and ", missing.size() - 8, " more");
  return notFoundError(
      strCat("undefined symbol", missing.size() > 1 ? "s " : " ", list,
             ": neither the runtime's symbols nor the process define ",
             missing.size() > 1 ? "them" : "it"));
}

Status Linker::scanRelocations() {
  for (uint64_t i = 1; i < sections_.size(); ++i) {
    const Elf64_Shdr &h = sections_[i].header;
    if (h.sh_type != SHT_RELA && h.sh_type != SHT_REL)
      continue;
    std::string label = sectionLabel(i);
    if (h.sh_info >= sections_.size())
      return malformed(strCat(label, " applies to section ", h.sh_info,
                              ", but there are ", sections_.size()));
    // Relocations of unloaded sections (debug information) do not matter.
    if (!sections_[h.sh_info].loaded)
      continue;
    if (h.sh_type == SHT_REL)
      return unsupported(strCat(label, ": REL relocations (without addends) "
                                       "are not supported on x86-64"));
    if (h.sh_link != symtabIndex_ || !symtabIndex_)
      return malformed(strCat(label, " refers to section ", h.sh_link,
                              ", which is not the symbol table"));
    if (h.sh_entsize != sizeof(Elf64_Rela) || h.sh_size % sizeof(Elf64_Rela))
      return malformed(strCat(label, ": entry size ", h.sh_entsize,
                              " and size ", h.sh_size, " do not describe ",
                              sizeof(Elf64_Rela), "-byte RELA entries"));
    const Section &target = sections_[h.sh_info];
    uint64_t count = h.sh_size / sizeof(Elf64_Rela);
    for (uint64_t r = 0; r < count; ++r) {
      Elf64_Rela rela =
          bytes_.read<Elf64_Rela>(h.sh_offset + r * sizeof(Elf64_Rela));
      uint32_t type = ELF64_R_TYPE(rela.r_info);
      uint64_t symbolIndex = ELF64_R_SYM(rela.r_info);
      std::string where =
          strCat(label, " entry ", r, " (", relocationName(type), " at ",
                 target.name, "+", hex(rela.r_offset), ")");
      if (!isSupportedRelocation(type))
        return unsupported(
            strCat(relocationName(type).rfind("R_", 0) == 0
                       ? strCat("relocation type ", relocationName(type), " (",
                                type, ")")
                       : strCat("unknown relocation type ", type),
                   " in ", label, " entry ", r, " is not supported"));
      if (symbolIndex >= symbols_.size() ||
          (symbolIndex == 0 && symbols_.empty()))
        return malformed(strCat(where, ": symbol index ", symbolIndex,
                                " is out of range (", symbols_.size(),
                                " symbols)"));
      uint64_t width = (type == R_X86_64_64 || type == R_X86_64_PC64 ||
                        type == R_X86_64_GOTOFF64 || type == R_X86_64_GOT64 ||
                        type == R_X86_64_GOTPCREL64 ||
                        type == R_X86_64_GOTPC64 || type == R_X86_64_SIZE64)
                           ? 8
                       : type == R_X86_64_NONE ? 0
                                               : 4;
      if (rela.r_offset > target.header.sh_size ||
          width > target.header.sh_size - rela.r_offset)
        return malformed(strCat(where, ": the ", width,
                                "-byte field is outside ", target.name, " (",
                                hex(target.header.sh_size), " bytes)"));
      Symbol &symbol = symbols_[symbolIndex];
      uint16_t shndx = symbol.raw.st_shndx;
      if (symbolIndex != 0 && shndx != SHN_UNDEF && shndx != SHN_ABS &&
          shndx != SHN_COMMON && !sections_[shndx].loaded)
        return malformed(strCat(where, ": ", symbolLabel(symbolIndex),
                                " is in ", sectionLabel(shndx),
                                ", which is not loaded"));
      if (usesGotSlot(type) && symbol.gotSlot < 0)
        symbol.gotSlot = static_cast<int64_t>(numGotSlots_++);
      if (type == R_X86_64_PLT32 && symbol.external && symbol.stub < 0) {
        symbol.stub = static_cast<int64_t>(numStubs_++);
        if (symbol.gotSlot < 0)
          symbol.gotSlot = static_cast<int64_t>(numGotSlots_++);
      }
    }
    relocationSections_.push_back(i);
  }
  return okStatus();
}

Status Linker::layOut() {
  long pageSize = sysconf(_SC_PAGESIZE);
  uint64_t page = pageSize > 0 ? static_cast<uint64_t>(pageSize) : 4096;
  uint64_t cursor = 0;
  auto place = [&](uint64_t size, uint64_t align) -> StatusOr<uint64_t> {
    cursor = (cursor + align - 1) & ~(align - 1);
    uint64_t at = cursor;
    cursor += size;
    if (cursor > kMaxImageSize)
      return outOfRangeError(
          "the object needs more than 2 GiB of memory, beyond the reach of "
          "its 32-bit PC-relative references");
    return at;
  };
  auto partOf = [](const Elf64_Shdr &h) {
    if (h.sh_flags & SHF_EXECINSTR)
      return kCode;
    return (h.sh_flags & SHF_WRITE) ? kWritable : kReadOnly;
  };
  for (int part = kCode; part < kNumParts; ++part) {
    UOE_ASSIGN_OR_RETURN(partBegin_[part], place(0, page));
    for (Section &section : sections_)
      if (section.loaded && partOf(section.header) == part) {
        uint64_t align = std::max<uint64_t>(section.header.sh_addralign, 1);
        UOE_ASSIGN_OR_RETURN(section.offset,
                             place(section.header.sh_size, align));
      }
    if (part == kCode) {
      UOE_ASSIGN_OR_RETURN(stubsOffset_, place(numStubs_ * kStubSize, 16));
    } else if (part == kReadOnly) {
      UOE_ASSIGN_OR_RETURN(gotOffset_, place(numGotSlots_ * 8, 8));
    } else {
      for (Symbol &symbol : symbols_)
        if (symbol.raw.st_shndx == SHN_COMMON) {
          uint64_t align = symbol.raw.st_value ? symbol.raw.st_value : 1;
          UOE_ASSIGN_OR_RETURN(symbol.commonOffset,
                               place(symbol.raw.st_size, align));
        }
    }
  }
  UOE_ASSIGN_OR_RETURN(partBegin_[kNumParts], place(0, page));
  imageSize_ = std::max<uint64_t>(partBegin_[kNumParts], page);

  // mmap aligns to a page; a larger alignment needs a larger mapping.
  uint64_t extra = maxAlignment_ > page ? maxAlignment_ : 0;
  size_t mappingSize = static_cast<size_t>(imageSize_ + extra);
  void *mapping = mmap(nullptr, mappingSize, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapping == MAP_FAILED)
    return internalError(
        strCat("cannot map ", mappingSize,
               " bytes for the object: ", std::strerror(errno)));
  object_->mapping = mapping;
  object_->mappingSize = mappingSize;
  uint64_t base = reinterpret_cast<uint64_t>(mapping);
  if (extra)
    imageSkew_ = ((base + extra - 1) & ~(extra - 1)) - base;

  // Anonymous memory is zero: .bss and COMMON need nothing more.
  for (const Section &section : sections_)
    if (section.loaded && section.header.sh_type != SHT_NOBITS &&
        section.header.sh_size)
      std::memcpy(image() + section.offset, bytes_.at(section.header.sh_offset),
                  section.header.sh_size);
  return okStatus();
}

Status Linker::applyRelocations() {
  uint64_t base = imageAddress();
  // Symbol addresses inside the image.
  for (size_t i = 1; i < symbols_.size(); ++i) {
    Symbol &symbol = symbols_[i];
    uint16_t shndx = symbol.raw.st_shndx;
    if (shndx == SHN_COMMON) {
      symbol.address = base + symbol.commonOffset;
      symbol.known = true;
    } else if (shndx != SHN_UNDEF && shndx < SHN_LORESERVE &&
               sections_[shndx].loaded) {
      symbol.address = base + sections_[shndx].offset +
                       (ELF64_ST_TYPE(symbol.raw.st_info) == STT_SECTION
                            ? 0
                            : symbol.raw.st_value);
      symbol.known = true;
    }
  }
  // GOT slots and stubs.
  uint64_t got = base + gotOffset_;
  for (const Symbol &symbol : symbols_) {
    if (symbol.gotSlot >= 0)
      std::memcpy(image() + gotOffset_ + 8 * symbol.gotSlot, &symbol.address,
                  8);
    if (symbol.stub >= 0) {
      uint64_t stub = base + stubsOffset_ + kStubSize * symbol.stub;
      int64_t displacement =
          static_cast<int64_t>(got + 8 * symbol.gotSlot - (stub + 6));
      int32_t disp32 = static_cast<int32_t>(displacement);
      uint8_t code[kStubSize] = {0xff, 0x25, 0, 0, 0, 0, 0xcc, 0xcc};
      std::memcpy(code + 2, &disp32, 4);
      std::memcpy(image() + stubsOffset_ + kStubSize * symbol.stub, code,
                  kStubSize);
    }
  }

  for (uint64_t index : relocationSections_) {
    const Elf64_Shdr &h = sections_[index].header;
    const Section &target = sections_[h.sh_info];
    uint64_t count = h.sh_size / sizeof(Elf64_Rela);
    for (uint64_t r = 0; r < count; ++r) {
      Elf64_Rela rela =
          bytes_.read<Elf64_Rela>(h.sh_offset + r * sizeof(Elf64_Rela));
      uint32_t type = ELF64_R_TYPE(rela.r_info);
      const Symbol &symbol = symbols_[ELF64_R_SYM(rela.r_info)];
      uint8_t *field = image() + target.offset + rela.r_offset;
      uint64_t P = base + target.offset + rela.r_offset;
      uint64_t A = static_cast<uint64_t>(rela.r_addend);
      uint64_t S = symbol.address;
      uint64_t G = symbol.gotSlot >= 0 ? 8 * uint64_t(symbol.gotSlot) : 0;
      uint64_t L =
          symbol.stub >= 0 ? base + stubsOffset_ + kStubSize * symbol.stub : S;
      uint64_t Z = symbol.raw.st_size;
      uint64_t value = 0;
      enum { kWord64, kSigned32, kUnsigned32 } form = kWord64;
      switch (type) {
      case R_X86_64_NONE:
        continue;
      case R_X86_64_64:
        value = S + A;
        break;
      case R_X86_64_PC32:
        value = S + A - P, form = kSigned32;
        break;
      case R_X86_64_PLT32:
        value = L + A - P, form = kSigned32;
        break;
      case R_X86_64_GOT32:
        value = G + A, form = kSigned32;
        break;
      case R_X86_64_GOTPCREL:
      case R_X86_64_GOTPCRELX:
      case R_X86_64_REX_GOTPCRELX:
        value = got + G + A - P, form = kSigned32;
        break;
      case R_X86_64_32:
        value = S + A, form = kUnsigned32;
        break;
      case R_X86_64_32S:
        value = S + A, form = kSigned32;
        break;
      case R_X86_64_PC64:
        value = S + A - P;
        break;
      case R_X86_64_GOTOFF64:
        value = S + A - got;
        break;
      case R_X86_64_GOTPC32:
        value = got + A - P, form = kSigned32;
        break;
      case R_X86_64_GOT64:
        value = G + A;
        break;
      case R_X86_64_GOTPCREL64:
        value = got + G + A - P;
        break;
      case R_X86_64_GOTPC64:
        value = got + A - P;
        break;
      case R_X86_64_SIZE32:
        value = Z + A, form = kUnsigned32;
        break;
      case R_X86_64_SIZE64:
        value = Z + A;
        break;
      default: // scanRelocations let only the types above through
        return internalError(
            strCat("relocation ", relocationName(type), " passed the scan"));
      }
      if (form == kWord64) {
        std::memcpy(field, &value, 8);
        continue;
      }
      int64_t asSigned = static_cast<int64_t>(value);
      bool fits = form == kSigned32
                      ? asSigned >= std::numeric_limits<int32_t>::min() &&
                            asSigned <= std::numeric_limits<int32_t>::max()
                      : value <= std::numeric_limits<uint32_t>::max();
      if (!fits)
        return outOfRangeError(
            strCat("relocation ", relocationName(type), " at ", target.name,
                   "+", hex(rela.r_offset), " against ",
                   symbol.name.empty() ? std::string("its section")
                                       : "'" + symbol.name + "'",
                   ": the value ", hex(value), " does not fit in 32 bits",
                   (type == R_X86_64_32 || type == R_X86_64_32S)
                       ? " (absolute 32-bit addresses need non-PIC code in the "
                         "low 2 GiB; compile position-independent)"
                       : ""));
      uint32_t word = static_cast<uint32_t>(value);
      std::memcpy(field, &word, 4);
    }
  }
  return okStatus();
}

Status Linker::protect() {
  static const int protections[kNumParts] = {PROT_READ | PROT_EXEC, PROT_READ,
                                             PROT_READ | PROT_WRITE};
  for (int part = kCode; part < kNumParts; ++part) {
    uint64_t begin = partBegin_[part], end = partBegin_[part + 1];
    if (end == begin)
      continue;
    if (mprotect(image() + begin, end - begin, protections[part]) != 0)
      return internalError(
          strCat("cannot protect the object's memory: ", std::strerror(errno)));
  }
  return okStatus();
}

/// The priority of an .init_array.N / .fini_array.N / .ctors.N section
/// (lower runs first for init arrays), 65536 for the plain one.
uint64_t arrayPriority(const std::string &name) {
  size_t dot = name.find('.', 1);
  if (dot == std::string::npos || dot + 1 >= name.size())
    return 65536;
  uint64_t value = 0;
  for (size_t i = dot + 1; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9' || value > 1000000)
      return 65536;
    value = value * 10 + uint64_t(name[i] - '0');
  }
  return value;
}

Status Linker::collectInitializers(std::vector<void (*)()> &initializers,
                                   std::vector<void (*)()> &finalizers) {
  struct Array {
    uint64_t priority, index;
    bool operator<(const Array &other) const {
      return priority != other.priority ? priority < other.priority
                                        : index < other.index;
    }
  };
  std::vector<Array> preinit, init, fini, ctors, dtors;
  auto startsWith = [](const std::string &s, const char *prefix) {
    return s.rfind(prefix, 0) == 0;
  };
  for (uint64_t i = 1; i < sections_.size(); ++i) {
    const Section &s = sections_[i];
    if (!s.loaded)
      continue;
    Array entry{arrayPriority(s.name), i};
    if (s.header.sh_type == SHT_PREINIT_ARRAY)
      preinit.push_back(entry);
    else if (s.header.sh_type == SHT_INIT_ARRAY)
      init.push_back(entry);
    else if (s.header.sh_type == SHT_FINI_ARRAY)
      fini.push_back(entry);
    else if (s.header.sh_type == SHT_PROGBITS &&
             (s.name == ".ctors" || startsWith(s.name, ".ctors.")))
      ctors.push_back(entry);
    else if (s.header.sh_type == SHT_PROGBITS &&
             (s.name == ".dtors" || startsWith(s.name, ".dtors.")))
      dtors.push_back(entry);
  }
  for (auto *arrays : {&preinit, &init, &fini, &ctors, &dtors})
    std::sort(arrays->begin(), arrays->end());
  for (auto *arrays : {&ctors, &dtors}) // .ctors/.dtors must be whole pointers
    for (const Array &a : *arrays)
      if (sections_[a.index].header.sh_size % 8)
        return malformed(strCat(sectionLabel(a.index), " has ",
                                sections_[a.index].header.sh_size,
                                " bytes, not a whole number of pointers"));
  // The functions of one array section, in section order; 0 and -1 are
  // placeholders, not functions.
  auto functions = [&](uint64_t index) {
    const Section &s = sections_[index];
    std::vector<void (*)()> result;
    for (uint64_t at = 0; at < s.header.sh_size; at += 8) {
      uint64_t address;
      std::memcpy(&address, image() + s.offset + at, 8);
      if (address != 0 && address != ~uint64_t(0))
        result.push_back(reinterpret_cast<void (*)()>(address));
    }
    return result;
  };
  auto append = [](std::vector<void (*)()> &to, std::vector<void (*)()> from,
                   bool reversed) {
    if (reversed)
      std::reverse(from.begin(), from.end());
    to.insert(to.end(), from.begin(), from.end());
  };
  // As a static link would order them: .preinit_array, .ctors (run
  // backwards), .init_array; at exit .fini_array backwards, then .dtors.
  for (const Array &a : preinit)
    append(initializers, functions(a.index), false);
  for (auto it = ctors.rbegin(); it != ctors.rend(); ++it)
    append(initializers, functions(it->index), true);
  for (const Array &a : init)
    append(initializers, functions(a.index), false);
  for (auto it = fini.rbegin(); it != fini.rend(); ++it)
    append(finalizers, functions(it->index), true);
  for (const Array &a : dtors)
    append(finalizers, functions(a.index), false);
  return okStatus();
}

/// With $UOE_PERF_MAP set, appends the object's functions to
/// /tmp/perf-<pid>.map, where `perf report` finds the names of code it has
/// no ELF file for (the compiled model's loop nests, by their OpenMP
/// region names). Best effort: a write that fails is ignored.
void Linker::writePerfMap() const {
  if (!std::getenv("UOE_PERF_MAP"))
    return;
  std::string path = strCat("/tmp/perf-", static_cast<long>(getpid()), ".map");
  FILE *map = std::fopen(path.c_str(), "a");
  if (!map)
    return;
  for (const Symbol &symbol : symbols_)
    if (symbol.known && ELF64_ST_TYPE(symbol.raw.st_info) == STT_FUNC &&
        symbol.raw.st_shndx != SHN_UNDEF && !symbol.name.empty())
      std::fprintf(map, "%llx %llx %s\n",
                   static_cast<unsigned long long>(symbol.address),
                   static_cast<unsigned long long>(symbol.raw.st_size),
                   symbol.name.c_str());
  std::fclose(map);
}

StatusOr<std::unique_ptr<LoadedObject>> Linker::link() {
  UOE_RETURN_IF_ERROR(parseHeader());
  UOE_RETURN_IF_ERROR(parseSections());
  UOE_RETURN_IF_ERROR(parseSymbols());
  UOE_RETURN_IF_ERROR(resolveUndefined());
  UOE_RETURN_IF_ERROR(scanRelocations());
  UOE_RETURN_IF_ERROR(layOut());
  UOE_RETURN_IF_ERROR(applyRelocations());
  writePerfMap();

  std::vector<void (*)()> initializers;
  UOE_RETURN_IF_ERROR(collectInitializers(initializers, object_->finalizers));
  for (const Symbol &symbol : symbols_) {
    unsigned type = ELF64_ST_TYPE(symbol.raw.st_info);
    unsigned binding = ELF64_ST_BIND(symbol.raw.st_info);
    if (binding != STB_LOCAL && symbol.raw.st_shndx != SHN_UNDEF &&
        type != STT_SECTION && type != STT_FILE && symbol.known)
      object_->symbols[symbol.name] = reinterpret_cast<void *>(symbol.address);
  }
  // Nothing ran yet: on failure the object's destructor only unmaps.
  std::vector<void (*)()> finalizers = std::move(object_->finalizers);
  object_->finalizers.clear();
  UOE_RETURN_IF_ERROR(protect());
  for (void (*init)() : initializers)
    init();
  object_->finalizers = std::move(finalizers);
  return std::unique_ptr<LoadedObject>(std::move(object_));
}

} // namespace

ElfObjectLoader::~ElfObjectLoader() = default;

StatusOr<std::unique_ptr<LoadedObject>>
ElfObjectLoader::load(std::string_view objectBytes,
                      const SymbolMap &extraSymbols) {
  Linker linker(objectBytes, extraSymbols);
  return linker.link();
}
