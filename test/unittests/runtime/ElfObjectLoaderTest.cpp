//===- ElfObjectLoaderTest.cpp - the runtime's ELF object loader ----------===//
//
// ElfObjectLoader without a compiler: a small x86-64 relocatable object is
// assembled here byte by byte (hand-written machine code, sections, symbols
// and RELA entries), so that these tests run in the runtime-only build too.
// It exercises every relocation form the CPU back end emits and a few more:
// a tail call of a runtime symbol and of libc's `abs` through PLT32 (call
// stubs), PC32 loads, a GOT load (REX_GOTPCRELX, GOTPCREL), an absolute
// pointer in .data (R_X86_64_64), .bss and COMMON alignment, .init_array
// and .fini_array. Then one test per malformed input (each must be an
// error naming the problem) and truncations and header corruptions at
// every position (none may crash). Running a real saved Executable is in
// SavedExecutableTest.cpp; the comparison with ORC on compiled models is in
// test/unittests/codegen/ElfLoaderCompileTest.cpp.
//
//===----------------------------------------------------------------------===//

#include "runtime/ElfObjectLoader.h"

#include "TestUtil.h"

#include "gtest/gtest.h"

#include <cstdint>
#include <cstring>
#include <elf.h>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace uoe::rt {
namespace {

using test::hasError;

/// An ELF64 relocatable object under construction; build() lays out the
/// file: header, section contents, section header table.
class ObjectBuilder {
public:
  struct Section {
    std::string name;
    uint32_t type = SHT_PROGBITS;
    uint64_t flags = 0;
    uint64_t align = 1;
    std::string data;
    uint64_t nobitsSize = 0;
    uint32_t link = 0, info = 0;
    uint64_t entsize = 0;
  };
  struct Reloc {
    uint64_t offset;
    uint32_t symbol;
    uint32_t type;
    int64_t addend;
  };

  /// Adds a section; returns its index (section 0 is the null one).
  uint32_t addSection(Section section) {
    sections_.push_back(std::move(section));
    return static_cast<uint32_t>(sections_.size());
  }
  Section &section(uint32_t index) { return sections_[index - 1]; }

  /// Adds a symbol (locals must come before globals); returns its index.
  uint32_t addSymbol(const std::string &name, unsigned binding, unsigned type,
                     uint16_t shndx, uint64_t value, uint64_t size = 0) {
    Elf64_Sym sym{};
    sym.st_name = addString(strtab_, name);
    sym.st_info = ELF64_ST_INFO(binding, type);
    sym.st_shndx = shndx;
    sym.st_value = value;
    sym.st_size = size;
    if (binding == STB_LOCAL)
      firstGlobal_ = static_cast<uint32_t>(symbols_.size() + 1);
    symbols_.push_back(sym);
    return static_cast<uint32_t>(symbols_.size());
  }

  void addReloc(uint32_t target, Reloc reloc) {
    relocs_[target].push_back(reloc);
  }

  struct Built {
    std::string bytes;
    /// File offsets of each section's header and contents, by name.
    std::map<std::string, uint64_t> header, contents;
    /// File offset of the symbol table entry of symbol i is
    /// contents[".symtab"] + 24 * i.
  };

  Built build(uint16_t machine = EM_X86_64) {
    // The RELA, symbol, string and name sections come last.
    std::vector<Section> all = sections_;
    uint32_t symtabIndex =
        static_cast<uint32_t>(all.size() + relocs_.size() + 1);
    for (const auto &[target, list] : relocs_) {
      Section rela;
      rela.name = ".rela" + sections_[target - 1].name;
      rela.type = SHT_RELA;
      rela.align = 8;
      rela.entsize = sizeof(Elf64_Rela);
      rela.link = symtabIndex;
      rela.info = target;
      rela.flags = SHF_INFO_LINK;
      for (const Reloc &r : list) {
        Elf64_Rela entry{r.offset, ELF64_R_INFO(r.symbol, r.type), r.addend};
        rela.data.append(reinterpret_cast<const char *>(&entry), sizeof entry);
      }
      all.push_back(rela);
    }
    Section symtab;
    symtab.name = ".symtab";
    symtab.type = SHT_SYMTAB;
    symtab.align = 8;
    symtab.entsize = sizeof(Elf64_Sym);
    symtab.link = symtabIndex + 1;
    symtab.info = firstGlobal_;
    symtab.data.assign(sizeof(Elf64_Sym), '\0');
    for (const Elf64_Sym &sym : symbols_)
      symtab.data.append(reinterpret_cast<const char *>(&sym), sizeof sym);
    all.push_back(symtab);
    Section strtab;
    strtab.name = ".strtab";
    strtab.type = SHT_STRTAB;
    strtab.data = strtab_;
    all.push_back(strtab);
    Section shstrtab;
    shstrtab.name = ".shstrtab";
    shstrtab.type = SHT_STRTAB;
    all.push_back(shstrtab);
    std::string names(1, '\0');
    std::vector<uint32_t> nameOffsets;
    for (const Section &s : all)
      nameOffsets.push_back(addString(names, s.name));
    all.back().data = names;

    Built built;
    std::string &out = built.bytes;
    out.assign(sizeof(Elf64_Ehdr), '\0');
    std::vector<uint64_t> offsets;
    for (const Section &s : all) {
      while (out.size() % std::max<uint64_t>(s.align, 8))
        out.push_back('\0');
      offsets.push_back(out.size());
      built.contents[s.name] = out.size();
      out += s.data;
    }
    while (out.size() % 8)
      out.push_back('\0');
    uint64_t shoff = out.size();
    out.append(sizeof(Elf64_Shdr), '\0');
    for (size_t i = 0; i < all.size(); ++i) {
      const Section &s = all[i];
      Elf64_Shdr h{};
      h.sh_name = nameOffsets[i];
      h.sh_type = s.type;
      h.sh_flags = s.flags;
      h.sh_offset = offsets[i];
      h.sh_size = s.type == SHT_NOBITS ? s.nobitsSize : s.data.size();
      h.sh_link = s.link;
      h.sh_info = s.info;
      h.sh_addralign = s.align;
      h.sh_entsize = s.entsize;
      built.header[s.name] = out.size();
      out.append(reinterpret_cast<const char *>(&h), sizeof h);
    }
    Elf64_Ehdr e{};
    std::memcpy(e.e_ident, ELFMAG, SELFMAG);
    e.e_ident[EI_CLASS] = ELFCLASS64;
    e.e_ident[EI_DATA] = ELFDATA2LSB;
    e.e_ident[EI_VERSION] = EV_CURRENT;
    e.e_type = ET_REL;
    e.e_machine = machine;
    e.e_version = EV_CURRENT;
    e.e_shoff = shoff;
    e.e_ehsize = sizeof(Elf64_Ehdr);
    e.e_shentsize = sizeof(Elf64_Shdr);
    e.e_shnum = static_cast<uint16_t>(all.size() + 1);
    e.e_shstrndx = static_cast<uint16_t>(all.size());
    std::memcpy(out.data(), &e, sizeof e);
    return built;
  }

private:
  static uint32_t addString(std::string &table, const std::string &s) {
    if (table.empty())
      table.push_back('\0');
    uint32_t offset = static_cast<uint32_t>(table.size());
    table += s;
    table.push_back('\0');
    return offset;
  }
  std::vector<Section> sections_;
  std::vector<Elf64_Sym> symbols_;
  std::string strtab_;
  uint32_t firstGlobal_ = 1;
  std::map<uint32_t, std::vector<Reloc>> relocs_;
};

/// Appends `code` to `text` at `offset` (padding with int3 up to it).
void placeCode(std::string &text, size_t offset,
               std::initializer_list<uint8_t> code) {
  while (text.size() < offset)
    text.push_back(static_cast<char>(0xcc));
  for (uint8_t byte : code)
    text.push_back(static_cast<char>(byte));
}

// Function offsets in .text of the test object.
constexpr uint64_t kCallTwice = 0, kReadData = 8, kReadViaGot = 16,
                   kReadPointer = 32, kGetBss = 48, kGetCommon = 56,
                   kInitFn = 64, kFiniFn = 72, kCallAbs = 80;

/// The test object. With `initFini` false it has no .init_array and
/// .fini_array, so that no corruption of it can make load() call anything.
ObjectBuilder::Built testObject(bool initFini = true,
                                uint16_t machine = EM_X86_64) {
  ObjectBuilder b;
  std::string text;
  placeCode(text, kCallTwice, {0xe9, 0, 0, 0, 0});            // jmp twice
  placeCode(text, kReadData, {0x8b, 0x05, 0, 0, 0, 0, 0xc3}); // mov eax,[rip+x]
  placeCode(text, kReadViaGot,
            {0x48, 0x8b, 0x05, 0, 0, 0, 0, 0x8b, 0x00, 0xc3}); // via GOT
  placeCode(text, kReadPointer,
            {0x48, 0x8b, 0x05, 0, 0, 0, 0, 0x8b, 0x00, 0xc3}); // via .data ptr
  placeCode(text, kGetBss, {0x48, 0x8d, 0x05, 0, 0, 0, 0, 0xc3}); // lea
  placeCode(text, kGetCommon, {0x48, 0x8b, 0x05, 0, 0, 0, 0, 0xc3});
  placeCode(text, kInitFn, {0x83, 0x05, 0, 0, 0, 0, 0x01, 0xc3}); // add [x],1
  placeCode(text, kFiniFn, {0xe9, 0, 0, 0, 0});                   // jmp hook
  placeCode(text, kCallAbs, {0xe9, 0, 0, 0, 0});                  // jmp abs
  placeCode(text, 88, {});

  uint32_t textIdx = b.addSection(
      {".text", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, 16, text});
  std::string data(16, '\0');
  int32_t initial = 41;
  std::memcpy(data.data(), &initial, 4);
  uint32_t dataIdx =
      b.addSection({".data", SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, 8, data});
  ObjectBuilder::Section bss{".bss", SHT_NOBITS, SHF_ALLOC | SHF_WRITE, 64};
  bss.nobitsSize = 32;
  uint32_t bssIdx = b.addSection(bss);
  uint32_t initIdx = 0, finiIdx = 0;
  if (initFini) {
    initIdx = b.addSection({".init_array", SHT_INIT_ARRAY,
                            SHF_ALLOC | SHF_WRITE, 8, std::string(8, '\0')});
    finiIdx = b.addSection({".fini_array", SHT_FINI_ARRAY,
                            SHF_ALLOC | SHF_WRITE, 8, std::string(8, '\0')});
  }
  b.addSection({".note.GNU-stack", SHT_PROGBITS, 0, 1, ""});

  uint32_t textSym = b.addSymbol("", STB_LOCAL, STT_SECTION, textIdx, 0);
  uint32_t dataSym = b.addSymbol("", STB_LOCAL, STT_SECTION, dataIdx, 0);
  uint32_t bssSym = b.addSymbol("", STB_LOCAL, STT_SECTION, bssIdx, 0);
  b.addSymbol("init_fn", STB_LOCAL, STT_FUNC, textIdx, kInitFn, 8);
  b.addSymbol("fini_fn", STB_LOCAL, STT_FUNC, textIdx, kFiniFn, 5);
  b.addSymbol("call_twice", STB_GLOBAL, STT_FUNC, textIdx, kCallTwice, 5);
  b.addSymbol("read_data", STB_GLOBAL, STT_FUNC, textIdx, kReadData, 7);
  b.addSymbol("read_via_got", STB_GLOBAL, STT_FUNC, textIdx, kReadViaGot, 10);
  b.addSymbol("read_pointer", STB_GLOBAL, STT_FUNC, textIdx, kReadPointer, 10);
  b.addSymbol("get_bss", STB_GLOBAL, STT_FUNC, textIdx, kGetBss, 8);
  b.addSymbol("get_common", STB_GLOBAL, STT_FUNC, textIdx, kGetCommon, 8);
  b.addSymbol("call_abs", STB_GLOBAL, STT_FUNC, textIdx, kCallAbs, 5);
  uint32_t dataValue =
      b.addSymbol("data_value", STB_GLOBAL, STT_OBJECT, dataIdx, 0, 4);
  uint32_t common =
      b.addSymbol("common_var", STB_GLOBAL, STT_OBJECT, SHN_COMMON, 64, 16);
  uint32_t twice = b.addSymbol("uoe_test_twice", STB_GLOBAL, STT_NOTYPE, 0, 0);
  uint32_t hook =
      b.addSymbol("uoe_test_fini_hook", STB_GLOBAL, STT_NOTYPE, 0, 0);
  uint32_t absSym = b.addSymbol("abs", STB_GLOBAL, STT_NOTYPE, 0, 0);

  b.addReloc(textIdx, {kCallTwice + 1, twice, R_X86_64_PLT32, -4});
  b.addReloc(textIdx, {kReadData + 2, dataValue, R_X86_64_PC32, -4});
  b.addReloc(textIdx, {kReadViaGot + 3, dataValue, R_X86_64_REX_GOTPCRELX, -4});
  b.addReloc(textIdx, {kReadPointer + 3, dataSym, R_X86_64_PC32, 8 - 4});
  b.addReloc(textIdx, {kGetBss + 3, bssSym, R_X86_64_PC32, -4});
  b.addReloc(textIdx, {kGetCommon + 3, common, R_X86_64_GOTPCREL, -4});
  // add dword [rip+x], 1: the immediate follows the displacement.
  b.addReloc(textIdx, {kInitFn + 2, dataValue, R_X86_64_PC32, -5});
  b.addReloc(textIdx, {kFiniFn + 1, hook, R_X86_64_PLT32, -4});
  b.addReloc(textIdx, {kCallAbs + 1, absSym, R_X86_64_PLT32, -4});
  b.addReloc(dataIdx, {8, dataValue, R_X86_64_64, 0});
  if (initFini) {
    b.addReloc(initIdx, {0, textSym, R_X86_64_64, kInitFn});
    b.addReloc(finiIdx, {0, textSym, R_X86_64_64, kFiniFn});
  }
  return b.build(machine);
}

int finiCalls = 0;
extern "C" int uoeTestTwice(int x) { return 2 * x; }
extern "C" void uoeTestFiniHook() { ++finiCalls; }
extern "C" int uoeTestFakeAbs(int) { return 777; }

SymbolMap testSymbols() {
  return {{"uoe_test_twice", reinterpret_cast<void *>(&uoeTestTwice)},
          {"uoe_test_fini_hook", reinterpret_cast<void *>(&uoeTestFiniHook)}};
}

template <typename Fn> Fn function(LoadedObject &object, const char *name) {
  auto address = object.lookup(name);
  EXPECT_TRUE(address.ok()) << address.status().toString();
  return address.ok() ? reinterpret_cast<Fn>(*address) : nullptr;
}

Status loadStatus(const std::string &bytes,
                  const SymbolMap &symbols = testSymbols()) {
  ElfObjectLoader loader;
  return loader.load(bytes, symbols).status();
}

template <typename T> void poke(std::string &bytes, uint64_t offset, T value) {
  ASSERT_LE(offset + sizeof(T), bytes.size());
  std::memcpy(bytes.data() + offset, &value, sizeof(T));
}

// Field offsets inside the structures.
constexpr uint64_t kShType = offsetof(Elf64_Shdr, sh_type),
                   kShFlags = offsetof(Elf64_Shdr, sh_flags),
                   kShOffset = offsetof(Elf64_Shdr, sh_offset),
                   kShSize = offsetof(Elf64_Shdr, sh_size),
                   kShAlign = offsetof(Elf64_Shdr, sh_addralign),
                   kShEntsize = offsetof(Elf64_Shdr, sh_entsize),
                   kShName = offsetof(Elf64_Shdr, sh_name);

//===--- Linking and running
//------------------------------------------------===//

TEST(ElfObjectLoaderTest, LinksRelocatesAndRuns) {
  ObjectBuilder::Built object = testObject();
  ElfObjectLoader loader;
  finiCalls = 0;
  {
    auto loaded = loader.load(object.bytes, testSymbols());
    ASSERT_OK(loaded);
    LoadedObject &o = **loaded;
    // The runtime symbol, through a call stub.
    EXPECT_EQ(function<int (*)(int)>(o, "call_twice")(21), 42);
    // .init_array ran init_fn, which added 1 to data_value (41).
    EXPECT_EQ(function<int (*)()>(o, "read_data")(), 42);
    EXPECT_EQ(function<int (*)()>(o, "read_via_got")(), 42);
    EXPECT_EQ(function<int (*)()>(o, "read_pointer")(), 42);
    auto dataValue = o.lookup("data_value");
    ASSERT_OK(dataValue);
    EXPECT_EQ(*static_cast<int *>(*dataValue), 42);
    *static_cast<int *>(*dataValue) = 7; // .data is writable
    EXPECT_EQ(function<int (*)()>(o, "read_data")(), 7);

    auto *bss = function<char *(*)()>(o, "get_bss")();
    EXPECT_EQ(reinterpret_cast<uintptr_t>(bss) % 64, 0u);
    for (int i = 0; i < 32; ++i)
      EXPECT_EQ(bss[i], 0);
    auto *common = function<char *(*)()>(o, "get_common")();
    auto commonSymbol = o.lookup("common_var");
    ASSERT_OK(commonSymbol);
    EXPECT_EQ(common, *commonSymbol);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(common) % 64, 0u);
    for (int i = 0; i < 16; ++i)
      EXPECT_EQ(common[i], 0);
    common[15] = 1; // COMMON lives in writable memory

    // libc's abs, found with dlsym.
    EXPECT_EQ(function<int (*)(int)>(o, "call_abs")(-5), 5);
    // Locals and undefined symbols are not exported.
    EXPECT_TRUE(hasError(o.lookup("init_fn").status(), StatusCode::NotFound,
                         {"init_fn"}));
    EXPECT_TRUE(
        hasError(o.lookup("abs").status(), StatusCode::NotFound, {"'abs'"}));
    EXPECT_EQ(finiCalls, 0);
  }
  EXPECT_EQ(finiCalls, 1); // .fini_array ran at unload
}

TEST(ElfObjectLoaderTest, ExtraSymbolsComeBeforeTheProcess) {
  ObjectBuilder::Built object = testObject();
  SymbolMap symbols = testSymbols();
  symbols["abs"] = reinterpret_cast<void *>(&uoeTestFakeAbs);
  ElfObjectLoader loader;
  auto loaded = loader.load(object.bytes, symbols);
  ASSERT_OK(loaded);
  EXPECT_EQ(function<int (*)(int)>(**loaded, "call_abs")(-5), 777);
}

TEST(ElfObjectLoaderTest, IndependentLoadsDoNotShareState) {
  ObjectBuilder::Built object = testObject(/*initFini=*/false);
  ElfObjectLoader loader;
  std::vector<std::unique_ptr<LoadedObject>> objects(8);
  std::vector<std::thread> threads;
  std::vector<Status> statuses(objects.size());
  for (size_t i = 0; i < objects.size(); ++i)
    threads.emplace_back([&, i] {
      auto loaded = loader.load(object.bytes, testSymbols());
      statuses[i] = loaded.status();
      if (loaded.ok())
        objects[i] = std::move(*loaded);
    });
  for (std::thread &t : threads)
    t.join();
  for (size_t i = 0; i < objects.size(); ++i) {
    ASSERT_OK(statuses[i]);
    auto value = objects[i]->lookup("data_value");
    ASSERT_OK(value);
    *static_cast<int *>(*value) = static_cast<int>(i);
  }
  for (size_t i = 0; i < objects.size(); ++i)
    EXPECT_EQ(function<int (*)()>(*objects[i], "read_data")(),
              static_cast<int>(i));
}

TEST(ElfObjectLoaderTest, UndefinedSymbolIsNotFound) {
  ObjectBuilder::Built object = testObject();
  SymbolMap symbols = testSymbols();
  symbols.erase("uoe_test_twice");
  EXPECT_TRUE(hasError(loadStatus(object.bytes, symbols), StatusCode::NotFound,
                       {"undefined symbol", "'uoe_test_twice'"}));
  symbols = testSymbols();
  symbols["uoe_test_twice"] = nullptr;
  EXPECT_TRUE(hasError(loadStatus(object.bytes, symbols),
                       StatusCode::InvalidArgument,
                       {"'uoe_test_twice' has a null address"}));
}

//===--- Malformed and unsupported inputs
//------------------------------------===//

TEST(ElfObjectLoaderTest, TruncatedAnywhereIsAnError) {
  ObjectBuilder::Built object = testObject();
  for (size_t size = 0; size < object.bytes.size(); ++size) {
    Status status = loadStatus(object.bytes.substr(0, size));
    ASSERT_FALSE(status.ok()) << "truncated to " << size << " bytes";
    ASSERT_EQ(status.code(), StatusCode::InvalidArgument)
        << size << ": " << status.toString();
    ASSERT_NE(status.message().find("malformed ELF object"), std::string::npos)
        << size << ": " << status.toString();
  }
  EXPECT_TRUE(hasError(loadStatus(""), StatusCode::InvalidArgument,
                       {"0 bytes", "ELF64 header"}));
}

TEST(ElfObjectLoaderTest, RejectsOtherFiles) {
  std::string bytes = testObject().bytes;
  std::string bad = bytes;
  bad[1] = 'X';
  EXPECT_TRUE(hasError(loadStatus(bad), StatusCode::InvalidArgument,
                       {"bad magic number"}));
  bad = bytes;
  bad[EI_CLASS] = ELFCLASS32;
  EXPECT_TRUE(hasError(loadStatus(bad), StatusCode::InvalidArgument,
                       {"not an ELF64 object"}));
  bad = bytes;
  bad[EI_DATA] = ELFDATA2MSB;
  EXPECT_TRUE(hasError(loadStatus(bad), StatusCode::InvalidArgument,
                       {"not a little-endian"}));
  EXPECT_TRUE(hasError(loadStatus(testObject(true, EM_AARCH64).bytes),
                       StatusCode::InvalidArgument,
                       {"machine 183 (AArch64)", "x86-64"}));
  bad = bytes;
  poke<uint16_t>(bad, offsetof(Elf64_Ehdr, e_type), ET_DYN);
  EXPECT_TRUE(hasError(loadStatus(bad), StatusCode::InvalidArgument,
                       {"not a relocatable object", "shared object"}));
  bad = bytes;
  poke<uint16_t>(bad, offsetof(Elf64_Ehdr, e_shentsize), 40);
  EXPECT_TRUE(hasError(loadStatus(bad), StatusCode::InvalidArgument,
                       {"section header size 40"}));
}

TEST(ElfObjectLoaderTest, RejectsOutOfRangeTables) {
  ObjectBuilder::Built object = testObject();
  const std::string &bytes = object.bytes;
  std::string bad = bytes;
  poke<uint64_t>(bad, offsetof(Elf64_Ehdr, e_shoff), bytes.size() - 8);
  EXPECT_TRUE(hasError(loadStatus(bad), StatusCode::InvalidArgument,
                       {"section header table", "outside the file"}));
  bad = bytes;
  poke<uint16_t>(bad, offsetof(Elf64_Ehdr, e_shnum), 400);
  EXPECT_TRUE(hasError(loadStatus(bad), StatusCode::InvalidArgument,
                       {"400 entries", "past the end of the file"}));
  bad = bytes;
  poke<uint16_t>(bad, offsetof(Elf64_Ehdr, e_shstrndx), 99);
  EXPECT_TRUE(hasError(loadStatus(bad), StatusCode::InvalidArgument,
                       {"section name table index 99 is out of range"}));
  bad = bytes;
  poke<uint64_t>(bad, object.header.at(".text") + kShOffset, 1u << 30);
  EXPECT_TRUE(hasError(loadStatus(bad), StatusCode::InvalidArgument,
                       {"section 1", "offset 0x40000000", "outside the file"}));
  bad = bytes;
  poke<uint64_t>(bad, object.header.at(".data") + kShSize, ~uint64_t(0) - 4);
  EXPECT_TRUE(hasError(loadStatus(bad), StatusCode::InvalidArgument,
                       {"section 2", "outside the file"}));
  bad = bytes;
  poke<uint32_t>(bad, object.header.at(".text") + kShName, 1u << 20);
  EXPECT_TRUE(hasError(loadStatus(bad), StatusCode::InvalidArgument,
                       {"the name of section 1", "outside its string table"}));
  bad = bytes;
  poke<uint64_t>(bad, object.header.at(".symtab") + kShEntsize, 16);
  EXPECT_TRUE(hasError(loadStatus(bad), StatusCode::InvalidArgument,
                       {".symtab", "entry size 16"}));
}

TEST(ElfObjectLoaderTest, RejectsBadSymbols) {
  ObjectBuilder::Built object = testObject();
  uint64_t symtab = object.contents.at(".symtab");
  // Symbol 6 is call_twice.
  uint64_t callTwice = symtab + 6 * sizeof(Elf64_Sym);
  std::string bad = object.bytes;
  poke<uint32_t>(bad, callTwice + offsetof(Elf64_Sym, st_name), 1u << 20);
  EXPECT_TRUE(hasError(loadStatus(bad), StatusCode::InvalidArgument,
                       {"the name of symbol 6", "outside its string table"}));
  bad = object.bytes;
  poke<uint16_t>(bad, callTwice + offsetof(Elf64_Sym, st_shndx), 500);
  EXPECT_TRUE(hasError(loadStatus(bad), StatusCode::InvalidArgument,
                       {"symbol 'call_twice' is in section 500"}));
  bad = object.bytes;
  poke<uint64_t>(bad, callTwice + offsetof(Elf64_Sym, st_value), 1u << 20);
  EXPECT_TRUE(hasError(loadStatus(bad), StatusCode::InvalidArgument,
                       {"symbol 'call_twice'", "past the end of section 1"}));
  bad = object.bytes;
  // read_data (symbol 7) renamed to call_twice: defined twice.
  uint32_t name;
  std::memcpy(&name, bad.data() + callTwice + offsetof(Elf64_Sym, st_name), 4);
  poke<uint32_t>(
      bad, callTwice + sizeof(Elf64_Sym) + offsetof(Elf64_Sym, st_name), name);
  EXPECT_TRUE(hasError(loadStatus(bad), StatusCode::InvalidArgument,
                       {"'call_twice' is defined twice"}));
  bad = object.bytes;
  poke<uint8_t>(bad, callTwice + offsetof(Elf64_Sym, st_info),
                ELF64_ST_INFO(STB_GLOBAL, STT_TLS));
  EXPECT_TRUE(hasError(loadStatus(bad), StatusCode::InvalidArgument,
                       {"'call_twice'", "thread-local storage"}));
}

TEST(ElfObjectLoaderTest, RejectsBadRelocations) {
  ObjectBuilder::Built object = testObject();
  uint64_t rela = object.contents.at(".rela.text");
  uint64_t info = rela + offsetof(Elf64_Rela, r_info);
  std::string bad = object.bytes;
  poke<uint64_t>(bad, info, ELF64_R_INFO(1000, R_X86_64_PLT32));
  EXPECT_TRUE(hasError(loadStatus(bad), StatusCode::InvalidArgument,
                       {".rela.text) entry 0", "symbol index 1000"}));
  bad = object.bytes;
  poke<uint64_t>(bad, rela + offsetof(Elf64_Rela, r_offset), 86);
  EXPECT_TRUE(hasError(
      loadStatus(bad), StatusCode::InvalidArgument,
      {"R_X86_64_PLT32 at .text+0x56", "4-byte field", "outside .text"}));
  bad = object.bytes;
  uint64_t original;
  std::memcpy(&original, bad.data() + rela + offsetof(Elf64_Rela, r_info), 8);
  poke<uint64_t>(bad, rela + offsetof(Elf64_Rela, r_info),
                 ELF64_R_INFO(ELF64_R_SYM(original), R_X86_64_TPOFF32));
  EXPECT_TRUE(
      hasError(loadStatus(bad), StatusCode::InvalidArgument,
               {"relocation type R_X86_64_TPOFF32 (23)", "not supported"}));
  poke<uint64_t>(bad, rela + offsetof(Elf64_Rela, r_info),
                 ELF64_R_INFO(ELF64_R_SYM(original), 250));
  EXPECT_TRUE(hasError(loadStatus(bad), StatusCode::InvalidArgument,
                       {"unknown relocation type 250", ".rela.text) entry 0"}));
  // An absolute 32-bit reference cannot reach an mmap'ed object (above
  // 4 GiB on x86-64 Linux): entry 1 is read_data's load of data_value.
  bad = object.bytes;
  uint64_t second = rela + sizeof(Elf64_Rela) + offsetof(Elf64_Rela, r_info);
  std::memcpy(&original, bad.data() + second, 8);
  poke<uint64_t>(bad, second, ELF64_R_INFO(ELF64_R_SYM(original), R_X86_64_32));
  EXPECT_TRUE(hasError(
      loadStatus(bad), StatusCode::OutOfRange,
      {"R_X86_64_32 at .text+0xa", "'data_value'", "does not fit in 32 bits"}));
  bad = object.bytes;
  poke<uint32_t>(bad, object.header.at(".rela.text") + kShType, SHT_REL);
  EXPECT_TRUE(hasError(loadStatus(bad), StatusCode::InvalidArgument,
                       {"REL relocations"}));
}

TEST(ElfObjectLoaderTest, RejectsUnsupportedSections) {
  ObjectBuilder::Built object = testObject();
  std::string bad = object.bytes;
  poke<uint64_t>(bad, object.header.at(".data") + kShAlign, 24);
  EXPECT_TRUE(
      hasError(loadStatus(bad), StatusCode::InvalidArgument,
               {"section 2 (.data)", "alignment 24", "not a power of two"}));
  bad = object.bytes;
  poke<uint64_t>(bad, object.header.at(".data") + kShFlags,
                 SHF_ALLOC | SHF_WRITE | SHF_TLS);
  EXPECT_TRUE(hasError(loadStatus(bad), StatusCode::InvalidArgument,
                       {".data", "thread-local storage"}));
  bad = object.bytes;
  poke<uint64_t>(bad, object.header.at(".text") + kShFlags,
                 SHF_ALLOC | SHF_WRITE | SHF_EXECINSTR);
  EXPECT_TRUE(hasError(loadStatus(bad), StatusCode::InvalidArgument,
                       {".text", "both writable and executable"}));
  bad = object.bytes;
  poke<uint64_t>(bad, object.header.at(".bss") + kShSize, uint64_t(1) << 40);
  EXPECT_TRUE(
      hasError(loadStatus(bad), StatusCode::OutOfRange, {".bss", "2 GiB"}));
}

/// Sets every byte of the ELF header and of the section header table to
/// a few values in turn: load() may succeed or fail, but must not crash.
TEST(ElfObjectLoaderTest, CorruptHeadersNeverCrash) {
  ObjectBuilder::Built object = testObject(/*initFini=*/false);
  const std::string &bytes = object.bytes;
  Elf64_Ehdr header;
  std::memcpy(&header, bytes.data(), sizeof header);
  std::vector<uint64_t> positions;
  for (uint64_t i = 0; i < sizeof(Elf64_Ehdr); ++i)
    positions.push_back(i);
  for (uint64_t i = header.e_shoff; i < bytes.size(); ++i)
    positions.push_back(i);
  int failures = 0;
  for (uint64_t position : positions)
    for (int variant = 0; variant < 3; ++variant) {
      std::string bad = bytes;
      uint8_t old = static_cast<uint8_t>(bad[position]);
      uint8_t value = variant == 0 ? 0 : variant == 1 ? 0xff : old ^ 0x80;
      if (value == old)
        continue;
      bad[position] = static_cast<char>(value);
      failures += !loadStatus(bad).ok();
    }
  EXPECT_GT(failures, 0);
}

} // namespace
} // namespace uoe::rt
