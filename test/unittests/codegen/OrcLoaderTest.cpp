//===- OrcLoaderTest.cpp - loading objects with ORC ----------------------===//
//
// The ORC ObjectLoader: errors for bad objects and unresolved symbols come
// back as Status values naming the problem, several objects (even with the
// same symbols) live side by side, extra symbols take precedence over
// nothing and are required to be non-null.
//
//===----------------------------------------------------------------------===//

#include "CpuTestUtil.h"

#include "support/Status.h"

#include <thread>

using namespace ::uoe::test;
using mlir::uoe::cpu::OrcLoader;
using ::uoe::rt::PackedArguments;
using ::uoe::rt::StatusCode;

namespace {

using OrcLoaderTest = CpuCodegenTest;

/// A module whose `value` returns `constant` (as f32).
std::string constantModule(float constant) {
  return R"mlir(
func.func @value() -> f32 attributes {llvm.emit_c_interface} {
  %c = arith.constant )mlir" +
         std::to_string(constant) + R"mlir( : f32
  return %c : f32
}
)mlir";
}

/// Calls `uoe_packed_value` of `object`.
float callValue(CpuCodegenTest &test, ::uoe::rt::LoadedObject &object) {
  PackedFn fn = test.packed(object, "value");
  if (!fn)
    return -1;
  float result = 0;
  PackedArguments args;
  args.addScalar(&result);
  fn(args.data());
  return result;
}

// Tests that bytes that are not an object give InvalidArgument.
TEST_F(OrcLoaderTest, CorruptObjectIsAnError) {
  OrcLoader loader;
  auto empty = loader.load("", {});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), StatusCode::InvalidArgument);

  auto garbage = loader.load("this is not an ELF file", {});
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.status().code(), StatusCode::InvalidArgument);
  EXPECT_NE(garbage.status().message().find("not a loadable object"),
            std::string::npos)
      << garbage.status().toString();

  // A real object cut short.
  std::string object = compile(constantModule(1.0f));
  ASSERT_FALSE(object.empty()) << diagnostics();
  auto truncated = loader.load(std::string_view(object).substr(0, 100), {});
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.status().code(), StatusCode::InvalidArgument);

  // The same object claiming to be AArch64 code (ELF e_machine, at byte 18,
  // set to EM_AARCH64 = 183).
  std::string foreign = object;
  foreign[18] = static_cast<char>(183);
  foreign[19] = 0;
  auto wrongArch = loader.load(foreign, {});
  ASSERT_FALSE(wrongArch.ok());
  EXPECT_EQ(wrongArch.status().code(), StatusCode::InvalidArgument);
  EXPECT_NE(wrongArch.status().message().find("aarch64"), std::string::npos)
      << wrongArch.status().toString();
}

// Tests that an undefined symbol nothing resolves fails load() with
// NotFound and the symbol's name, and that extra symbols resolve it.
TEST_F(OrcLoaderTest, MissingSymbolIsNamed) {
  std::string object = compile(R"mlir(
func.func private @uoe_test_missing_function(f32) -> f32

func.func @call(%x: f32) -> f32 attributes {llvm.emit_c_interface} {
  %y = func.call @uoe_test_missing_function(%x) : (f32) -> f32
  return %y : f32
}
)mlir");
  ASSERT_FALSE(object.empty()) << diagnostics();
  OrcLoader loader;
  auto missing = loader.load(object, ::uoe::rt::cpuRuntimeSymbols());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::NotFound);
  EXPECT_NE(missing.status().message().find("uoe_test_missing_function"),
            std::string::npos)
      << missing.status().toString();

  float (*triple)(float) = [](float x) { return 3 * x; };
  ::uoe::rt::SymbolMap symbols = {
      {"uoe_test_missing_function", reinterpret_cast<void *>(triple)}};
  auto resolved = loader.load(object, symbols);
  ASSERT_TRUE(resolved.ok()) << resolved.status().toString();
  PackedFn fn = packed(**resolved, "call");
  ASSERT_TRUE(fn);
  float x = 1.5f, y = 0;
  PackedArguments args;
  args.addScalar(&x);
  args.addScalar(&y);
  fn(args.data());
  EXPECT_EQ(y, 4.5f);
}

// Tests that a null extra symbol is rejected up front.
TEST_F(OrcLoaderTest, NullExtraSymbolIsAnError) {
  std::string object = compile(constantModule(1.0f));
  ASSERT_FALSE(object.empty()) << diagnostics();
  auto loaded = OrcLoader().load(object, {{"uoe_null", nullptr}});
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::InvalidArgument);
  EXPECT_NE(loaded.status().message().find("uoe_null"), std::string::npos);
}

// Tests that lookup() of a symbol the object does not define (even one the
// process has) is NotFound.
TEST_F(OrcLoaderTest, LookupOfAnUndefinedSymbol) {
  auto object = compileAndLoad(constantModule(1.0f));
  ASSERT_TRUE(object);
  for (const char *name : {"uoe_packed_nothing", "malloc"}) {
    auto symbol = object->lookup(name);
    ASSERT_FALSE(symbol.ok()) << name;
    EXPECT_EQ(symbol.status().code(), StatusCode::NotFound);
    EXPECT_NE(symbol.status().message().find(name), std::string::npos);
  }
}

// Tests that objects defining the same symbols coexist, outlive the loader,
// run on separate threads, and unload independently.
TEST_F(OrcLoaderTest, SeveralObjectsAtOnce) {
  std::vector<std::unique_ptr<::uoe::rt::LoadedObject>> objects;
  {
    OrcLoader loader;
    for (float constant : {1.0f, 2.0f, 3.0f}) {
      std::string object = compile(constantModule(constant));
      ASSERT_FALSE(object.empty()) << diagnostics();
      auto loaded = loader.load(object, {});
      ASSERT_TRUE(loaded.ok()) << loaded.status().toString();
      objects.push_back(std::move(*loaded));
    }
  }
  std::vector<float> results(objects.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < objects.size(); ++i)
    threads.emplace_back(
        [&, i] { results[i] = callValue(*this, *objects[i]); });
  for (std::thread &t : threads)
    t.join();
  EXPECT_EQ(results, (std::vector<float>{1.0f, 2.0f, 3.0f}));

  objects.erase(objects.begin() + 1);
  EXPECT_EQ(callValue(*this, *objects[0]), 1.0f);
  EXPECT_EQ(callValue(*this, *objects[1]), 3.0f);
}

} // namespace
