//===- CApiTest.cpp - the C API (include/uoe-c/uoe.h) ---------------------===//
//
// The C API against the C++ it wraps: a small UoE description compiled
// through uoe_session_compile_model_text and run through uoe_model_run gives
// exactly (bit for bit) what compileModel + CpuProgram give on the same
// weights and inputs, whether the weights come from memory or a safetensors
// file, and after a save / load round trip. MLIR text compiles into entry
// points with named inputs, parameters and results. Every error path returns
// a status with the right code and a message naming the problem: null
// arguments, unknown entry points, wrong dtypes, shapes and counts, missing,
// extra and duplicate weights, corrupt files, unsupported devices.
//
// In the runtime-only tree only the tests that need no compiler run.
//
//===----------------------------------------------------------------------===//

#include "uoe-c/uoe.h"

#include "runtime/CudaDriver.h"
#include "formats/Executable.h"
#include "formats/Safetensors.h"
#include "test/unittests/runtime/TestUtil.h"

#ifdef UOE_CAPI_TEST_HAVE_COMPILER
#include "driver/CompileModel.h"
#include "driver/OrcLoader.h"
#include "frontend/ModelImporter.h"
#include "runtime/CpuDevice.h"
#endif

#include "gtest/gtest.h"

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace rt = ::uoe::rt;
using rt::test::TempDir;

namespace {

/// Takes ownership of `status`: "ok", or "<code name>: <message>".
std::string take(uoe_status_t *status) {
  if (!status)
    return "ok";
  std::string text = std::string(uoe_status_code_name(uoe_status_code(status))) +
                     ": " + uoe_status_message(status);
  uoe_status_free(status);
  return text;
}

#define ASSERT_UOE_OK(call) ASSERT_EQ(take(call), "ok")
#define EXPECT_UOE_OK(call) EXPECT_EQ(take(call), "ok")

/// Expects `status` to fail with `code` and a message containing every one
/// of `parts`; frees it.
void expectError(uoe_status_t *status, uoe_status_code_t code,
                 std::initializer_list<const char *> parts) {
  ASSERT_NE(status, nullptr) << "expected an error";
  EXPECT_EQ(uoe_status_code(status), code)
      << uoe_status_code_name(uoe_status_code(status)) << ": "
      << uoe_status_message(status);
  std::string message = uoe_status_message(status);
  for (const char *part : parts)
    EXPECT_NE(message.find(part), std::string::npos)
        << "'" << message << "' does not mention '" << part << "'";
  uoe_status_free(status);
}

struct SessionDeleter {
  void operator()(uoe_session_t *s) const { uoe_session_free(s); }
};
struct ExecutableDeleter {
  void operator()(uoe_executable_t *e) const { uoe_executable_free(e); }
};
struct ModelDeleter {
  void operator()(uoe_model_t *m) const { uoe_model_free(m); }
};
using Session = std::unique_ptr<uoe_session_t, SessionDeleter>;
using Executable = std::unique_ptr<uoe_executable_t, ExecutableDeleter>;
using Model = std::unique_ptr<uoe_model_t, ModelDeleter>;

Session newSession(const char *cacheDir = nullptr) {
  uoe_session_options_t options;
  uoe_session_options_init(&options);
  options.cache_dir = cacheDir;
  uoe_session_t *session = nullptr;
  EXPECT_UOE_OK(uoe_session_create(&options, &session));
  return Session(session);
}

/// A host tensor the C API reads or writes.
struct Buffer {
  uoe_dtype_t dtype = UOE_DTYPE_F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
  std::string name;

  static Buffer f32(std::vector<int64_t> shape, uint64_t seed,
                    std::string name = "") {
    Buffer b;
    b.shape = std::move(shape);
    b.name = std::move(name);
    int64_t n = 1;
    for (int64_t d : b.shape)
      n *= d;
    b.bytes.resize(n * sizeof(float));
    float *v = reinterpret_cast<float *>(b.bytes.data());
    uint64_t state = seed * 2654435761u + 1;
    for (int64_t i = 0; i < n; ++i) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      v[i] = 0.2f * (static_cast<float>(state >> 40) / (1 << 24) - 0.5f);
    }
    return b;
  }
  uoe_tensor_t view() {
    return uoe_tensor_t{name.empty() ? nullptr : name.c_str(), dtype,
                        shape.size(), shape.data(), bytes.data(),
                        UOE_MEMORY_HOST};
  }
  rt::HostTensor host() const {
    return std::move(*rt::HostTensor::fromBytes(
        static_cast<rt::DType>(dtype), shape, bytes.data(), bytes.size()));
  }
};

/// The spec of tensor `index` of `role` of `forward`.
uoe_tensor_t spec(const uoe_executable_t *exe, uoe_tensor_role_t role,
                  size_t index, const char *entry = "forward") {
  uoe_tensor_t t;
  std::memset(&t, 0, sizeof(t));
  EXPECT_UOE_OK(uoe_executable_tensor_spec(exe, entry, role, index, &t));
  return t;
}

size_t count(const uoe_executable_t *exe, uoe_tensor_role_t role,
             const char *entry = "forward") {
  size_t n = 0;
  EXPECT_UOE_OK(uoe_executable_tensor_count(exe, entry, role, &n));
  return n;
}

/// Random weights for every parameter of `forward`, by name.
std::vector<Buffer> weightsFor(const uoe_executable_t *exe, uint64_t seed) {
  std::vector<Buffer> weights;
  for (size_t i = 0; i < count(exe, UOE_ROLE_PARAMETER); ++i) {
    uoe_tensor_t s = spec(exe, UOE_ROLE_PARAMETER, i);
    weights.push_back(Buffer::f32(std::vector<int64_t>(s.shape, s.shape + s.rank),
                                  seed + i, s.name));
  }
  return weights;
}

uoe_status_t *bind(uoe_model_t *model, std::vector<Buffer> &weights) {
  std::vector<uoe_tensor_t> views;
  for (Buffer &w : weights)
    views.push_back(w.view());
  return uoe_model_bind_weights(model, "forward", views.data(), views.size());
}

/// A corrupt-file helper: writes `bytes` to `path`.
void writeFile(const std::string &path, const std::string &bytes) {
  rt::test::writeBytes(path, bytes);
}

//===--- Without a compiler -------------------------------------------------===//

TEST(CApiTest, VersionAndNames) {
  EXPECT_EQ(uoe_api_version(), UOE_C_API_VERSION);
  EXPECT_STREQ(uoe_dtype_name(UOE_DTYPE_F32), "f32");
  EXPECT_STREQ(uoe_dtype_name(UOE_DTYPE_BF16), "bf16");
  EXPECT_STREQ(uoe_dtype_name(static_cast<uoe_dtype_t>(99)), "?");
  EXPECT_EQ(uoe_dtype_size(UOE_DTYPE_I64), 8u);
  EXPECT_EQ(uoe_dtype_size(static_cast<uoe_dtype_t>(-1)), 0u);
  EXPECT_STREQ(uoe_status_code_name(UOE_NOT_FOUND), "not found");
  EXPECT_STREQ(uoe_status_code_name(static_cast<uoe_status_code_t>(42)),
               "unknown status code");
  // NULL is success.
  EXPECT_EQ(uoe_status_code(nullptr), UOE_OK);
  EXPECT_STREQ(uoe_status_message(nullptr), "");
  uoe_status_free(nullptr);
  uoe_session_free(nullptr);
  uoe_executable_free(nullptr);
  uoe_model_free(nullptr);
}

TEST(CApiTest, SessionOptions) {
  uoe_session_t *session = nullptr;
  // Defaults when options is NULL.
  ASSERT_UOE_OK(uoe_session_create(nullptr, &session));
  uoe_session_free(session);
  session = nullptr;

  uoe_session_options_t options;
  uoe_session_options_init(&options);
  EXPECT_EQ(options.api_version, UOE_C_API_VERSION);
  options.device = "cuda";
  if (rt::CudaDriver::load().ok()) {
    ASSERT_UOE_OK(uoe_session_create(&options, &session));
    uoe_session_free(session);
    session = nullptr;
  } else {
    expectError(uoe_session_create(&options, &session), UOE_UNAVAILABLE,
                {"uoe_session_create: no CUDA device found"});
  }
  options.device = "cuda:x";
  expectError(uoe_session_create(&options, &session), UOE_INVALID_ARGUMENT,
              {"unknown device 'cuda:x'"});
  options.device = "tpu";
  expectError(uoe_session_create(&options, &session), UOE_INVALID_ARGUMENT,
              {"unknown device 'tpu'", "cpu"});
  options.device = "cpu";
  options.threads = -3;
  expectError(uoe_session_create(&options, &session), UOE_INVALID_ARGUMENT,
              {"threads is -3"});
  options.threads = 0;
  options.api_version = 0;
  expectError(uoe_session_create(&options, &session), UOE_INVALID_ARGUMENT,
              {"api_version is 0", "uoe_session_options_init"});
  EXPECT_EQ(session, nullptr);
  expectError(uoe_session_create(nullptr, nullptr), UOE_INVALID_ARGUMENT,
              {"out_session is NULL"});
  uoe_session_options_init(nullptr); // ignored
}

TEST(CApiTest, LoadErrors) {
  TempDir dir;
  uoe_executable_t *exe = nullptr;
  expectError(uoe_executable_load(dir.file("none.uoex").c_str(), &exe),
              UOE_NOT_FOUND, {"none.uoex"});
  writeFile(dir.file("bad.uoex"), "this is not a protobuf \xff\xff\xff");
  expectError(uoe_executable_load(dir.file("bad.uoex").c_str(), &exe),
              UOE_DATA_LOSS, {"bad.uoex"});
  expectError(uoe_executable_load(nullptr, &exe), UOE_INVALID_ARGUMENT,
              {"uoe_executable_load", "path is NULL"});
  expectError(uoe_executable_load(dir.file("x").c_str(), nullptr),
              UOE_INVALID_ARGUMENT, {"out_executable is NULL"});
  const char garbage[] = "\xff\xff\xff\xff garbage";
  expectError(uoe_executable_load_bytes(garbage, sizeof(garbage), &exe),
              UOE_DATA_LOSS, {"not a uoe Executable"});
  expectError(uoe_executable_load_bytes(nullptr, 3, &exe),
              UOE_INVALID_ARGUMENT, {"bytes is NULL"});
  // No bytes, and a framed empty message (parses, but is not valid).
  expectError(uoe_executable_load_bytes("", 0, &exe), UOE_DATA_LOSS,
              {"not a uoe Executable"});
  std::string empty = rt::serializeExecutable(rt::proto::Executable());
  expectError(uoe_executable_load_bytes(empty.data(), empty.size(), &exe),
              UOE_DATA_LOSS, {"format version"});
  EXPECT_EQ(exe, nullptr);
}

TEST(CApiTest, HandBuiltExecutable) {
  // An Executable for another device: introspection works, creating a
  // model says why it cannot.
  rt::proto::Executable proto;
  proto.set_format_version(rt::kFormatVersion);
  proto.set_target("cuda:sm_90");
  proto.set_model_name("handmade");
  proto.set_object("not an ELF object");
  rt::proto::EntryPoint *entry = proto.add_entry_points();
  entry->set_name("forward");
  rt::proto::TensorSpec *in = entry->add_inputs();
  in->set_name("x");
  in->set_dtype("i64");
  in->add_shape(2);
  in->add_shape(5);
  rt::proto::TensorSpec *out = entry->add_results();
  out->set_name("y");
  out->set_dtype("f32");
  out->add_shape(2);
  entry->set_symbol("f");
  std::string bytes = rt::serializeExecutable(proto);

  uoe_executable_t *raw = nullptr;
  ASSERT_UOE_OK(uoe_executable_load_bytes(bytes.data(), bytes.size(), &raw));
  Executable exe(raw);
  uoe_executable_info_t info;
  ASSERT_UOE_OK(uoe_executable_info(exe.get(), &info));
  EXPECT_STREQ(info.model_name, "handmade");
  EXPECT_STREQ(info.target, "cuda:sm_90");
  EXPECT_EQ(info.num_entry_points, 1u);
  const char *name = nullptr;
  ASSERT_UOE_OK(uoe_executable_entry_point_name(exe.get(), 0, &name));
  EXPECT_STREQ(name, "forward");
  expectError(uoe_executable_entry_point_name(exe.get(), 1, &name),
              UOE_OUT_OF_RANGE, {"index 1", "1 entry point"});
  uoe_tensor_t x = spec(exe.get(), UOE_ROLE_INPUT, 0);
  EXPECT_STREQ(x.name, "x");
  EXPECT_EQ(x.dtype, UOE_DTYPE_I64);
  ASSERT_EQ(x.rank, 2u);
  EXPECT_EQ(x.shape[0], 2);
  EXPECT_EQ(x.shape[1], 5);
  EXPECT_EQ(count(exe.get(), UOE_ROLE_PARAMETER), 0u);
  expectError(uoe_executable_tensor_spec(exe.get(), "forward", UOE_ROLE_RESULT,
                                         3, &x),
              UOE_OUT_OF_RANGE, {"index 3", "1 result(s)"});
  size_t n = 0;
  expectError(uoe_executable_tensor_count(exe.get(), "backward",
                                          UOE_ROLE_INPUT, &n),
              UOE_NOT_FOUND, {"backward", "forward"});
  expectError(uoe_executable_tensor_count(
                  exe.get(), "forward", static_cast<uoe_tensor_role_t>(7), &n),
              UOE_INVALID_ARGUMENT, {"unknown tensor role (7)"});
  expectError(uoe_executable_tensor_count(exe.get(), nullptr, UOE_ROLE_INPUT,
                                          &n),
              UOE_INVALID_ARGUMENT, {"entry is NULL"});
  expectError(uoe_executable_info(nullptr, &info), UOE_INVALID_ARGUMENT,
              {"executable is NULL"});

  // Save and load keep every byte.
  TempDir dir;
  ASSERT_UOE_OK(uoe_executable_save(exe.get(), dir.file("h.uoex").c_str()));
  uoe_executable_t *again = nullptr;
  ASSERT_UOE_OK(uoe_executable_load(dir.file("h.uoex").c_str(), &again));
  Executable reloaded(again);
  expectError(uoe_executable_save(exe.get(), nullptr), UOE_INVALID_ARGUMENT,
              {"path is NULL"});
  uoe_status_t *unwritable = uoe_executable_save(
      exe.get(), (dir.path() + "/no/such/dir/x.uoex").c_str());
  EXPECT_NE(unwritable, nullptr);
  uoe_status_free(unwritable);

  Session session = newSession();
  uoe_model_t *model = nullptr;
  uoe_status_t *status = uoe_model_create(session.get(), exe.get(), &model);
  // The cpu device refuses an Executable compiled for cuda.
  expectError(status, UOE_FAILED_PRECONDITION,
              {"compiled for 'cuda:sm_90'", "--device cuda"});
  EXPECT_EQ(model, nullptr);
}

#ifndef UOE_CAPI_TEST_HAVE_COMPILER
TEST(CApiTest, RuntimeOnlyCannotCompile) {
  Session session = newSession();
  uoe_executable_t *exe = nullptr;
  expectError(uoe_session_compile_model_text(session.get(), "d_model: 8", 1, 1,
                                             &exe),
              UOE_UNIMPLEMENTED, {"no compiler"});
  expectError(uoe_session_compile_mlir(session.get(), "module {}", &exe),
              UOE_UNIMPLEMENTED, {"no compiler"});
}
#else

//===--- With the compiler --------------------------------------------------===//

using namespace mlir::uoe;

/// A post-LN UoE layer of width 16 (SMHA + UoME), for hidden states [2, 8, 16].
constexpr const char *kModel = R"(
name: "capi_tiny"
d_model: 16
layout: POST_LN
blocks {
  smha { heads: 4 experts: 2 top_k: 1 causal: true rope: COMPACTED }
  uome { hidden: 32 experts: 4 top_k: 2 capacity: 0.5 }
}
)";
constexpr int64_t kBatch = 2, kSeq = 8, kWidth = 16;

/// Compiles kModel once for the whole suite.
class CApiCompiledTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    Session session = newSession();
    uoe_executable_t *exe = nullptr;
    ASSERT_UOE_OK(uoe_session_compile_model_text(session.get(), kModel, kBatch,
                                                 kSeq, &exe));
    executable_ = exe;
  }
  static void TearDownTestSuite() {
    uoe_executable_free(executable_);
    executable_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(executable_, nullptr);
    session_ = newSession();
  }

  /// A model of `exe` with weights `weights` bound.
  Model load(const uoe_executable_t *exe) {
    uoe_model_t *model = nullptr;
    EXPECT_UOE_OK(uoe_model_create(session_.get(), exe, &model));
    return Model(model);
  }

  /// Runs forward of `model` on `input`; the output bytes.
  std::vector<uint8_t> run(uoe_model_t *model, Buffer &input) {
    Buffer out;
    out.shape = {kBatch, kSeq, kWidth};
    out.bytes.assign(kBatch * kSeq * kWidth * sizeof(float), 0xee);
    uoe_tensor_t in = input.view(), o = out.view();
    EXPECT_UOE_OK(uoe_model_run(model, "forward", &in, 1, &o, 1));
    return out.bytes;
  }

  static uoe_executable_t *executable_;
  Session session_;
};

uoe_executable_t *CApiCompiledTest::executable_ = nullptr;

TEST_F(CApiCompiledTest, SignatureMatchesTheDescription) {
  uoe_executable_info_t info;
  ASSERT_UOE_OK(uoe_executable_info(executable_, &info));
  EXPECT_STREQ(info.model_name, "capi_tiny");
  EXPECT_STREQ(info.compiler, compilerIdentity());
  EXPECT_EQ(std::string(info.target).rfind("cpu:", 0), 0u);
  EXPECT_EQ(info.num_entry_points, 1u);

  auto parsed = parseModelText(kModel, "test");
  ASSERT_TRUE(static_cast<bool>(parsed));
  ASSERT_FALSE(static_cast<bool>(resolveModel(*parsed)));
  EXPECT_EQ(info.cache_key, compileCacheKey(*parsed, kBatch, kSeq));
  std::vector<ParamSpec> params = modelParameters(*parsed);
  ASSERT_EQ(count(executable_, UOE_ROLE_PARAMETER), params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    uoe_tensor_t s = spec(executable_, UOE_ROLE_PARAMETER, i);
    EXPECT_EQ(s.name, params[i].name);
    EXPECT_EQ(s.dtype, UOE_DTYPE_F32);
    EXPECT_EQ(std::vector<int64_t>(s.shape, s.shape + s.rank), params[i].shape);
  }
  uoe_tensor_t in = spec(executable_, UOE_ROLE_INPUT, 0);
  EXPECT_EQ(in.dtype, UOE_DTYPE_F32);
  EXPECT_EQ(std::vector<int64_t>(in.shape, in.shape + in.rank),
            (std::vector<int64_t>{kBatch, kSeq, kWidth}));
  EXPECT_EQ(count(executable_, UOE_ROLE_RESULT), 1u);
}

TEST_F(CApiCompiledTest, RunMatchesCpuProgramExactly) {
  std::vector<Buffer> weights = weightsFor(executable_, 3);
  Buffer input = Buffer::f32({kBatch, kSeq, kWidth}, 99);
  Model model = load(executable_);
  ASSERT_UOE_OK(bind(model.get(), weights));
  std::vector<uint8_t> got = run(model.get(), input);

  // The same through the C++ API, as uoe-run runs it.
  auto parsed = parseModelText(kModel, "test");
  ASSERT_TRUE(static_cast<bool>(parsed));
  ASSERT_FALSE(static_cast<bool>(resolveModel(*parsed)));
  auto exe = compileModel(*parsed, kBatch, kSeq);
  ASSERT_TRUE(static_cast<bool>(exe)) << llvm::toString(exe.takeError());
  cpu::OrcLoader loader;
  auto program = rt::CpuProgram::load(*exe, loader);
  ASSERT_TRUE(program.ok()) << program.status().toString();
  rt::NamedTensors named;
  for (const Buffer &w : weights)
    named.emplace(w.name, w.host());
  ASSERT_TRUE((*program)->bindParameters("forward", std::move(named)).ok());
  std::vector<rt::HostTensor> inputs;
  inputs.push_back(input.host());
  auto want = (*program)->run("forward", inputs);
  ASSERT_TRUE(want.ok()) << want.status().toString();
  ASSERT_EQ(want->front().sizeInBytes(), got.size());
  EXPECT_EQ(std::memcmp(want->front().rawData(), got.data(), got.size()), 0);

  // Running again gives the same bits; so do weights from a file.
  EXPECT_EQ(run(model.get(), input), got);
  TempDir dir;
  std::vector<rt::HostTensor> tensors;
  std::vector<std::pair<std::string, const rt::HostTensor *>> entries;
  for (const Buffer &w : weights)
    tensors.push_back(w.host());
  for (size_t i = 0; i < weights.size(); ++i)
    entries.push_back({weights[i].name, &tensors[i]});
  ASSERT_TRUE(rt::writeSafetensors(dir.file("w.safetensors"), entries).ok());
  Model fromFile = load(executable_);
  ASSERT_UOE_OK(uoe_model_bind_safetensors(
      fromFile.get(), "forward", dir.file("w.safetensors").c_str()));
  EXPECT_EQ(run(fromFile.get(), input), got);
}

TEST_F(CApiCompiledTest, SaveLoadRoundTrip) {
  TempDir dir;
  std::string path = dir.file("m.uoex");
  ASSERT_UOE_OK(uoe_executable_save(executable_, path.c_str()));
  uoe_executable_t *raw = nullptr;
  ASSERT_UOE_OK(uoe_executable_load(path.c_str(), &raw));
  Executable reloaded(raw);
  std::string bytes = rt::test::readBytes(path);
  ASSERT_UOE_OK(uoe_executable_load_bytes(bytes.data(), bytes.size(), &raw));
  Executable fromBytes(raw);

  std::vector<Buffer> weights = weightsFor(executable_, 5);
  Buffer input = Buffer::f32({kBatch, kSeq, kWidth}, 17);
  std::vector<uint8_t> outputs[3];
  const uoe_executable_t *exes[3] = {executable_, reloaded.get(),
                                     fromBytes.get()};
  for (int i = 0; i < 3; ++i) {
    Model model = load(exes[i]);
    ASSERT_UOE_OK(bind(model.get(), weights));
    outputs[i] = run(model.get(), input);
  }
  EXPECT_EQ(outputs[0], outputs[1]);
  EXPECT_EQ(outputs[0], outputs[2]);

  // A model outlives the executable it was created from.
  uoe_executable_t *temp = nullptr;
  ASSERT_UOE_OK(uoe_executable_load(path.c_str(), &temp));
  Model model = load(temp);
  uoe_executable_free(temp);
  ASSERT_UOE_OK(bind(model.get(), weights));
  EXPECT_EQ(run(model.get(), input), outputs[0]);

  // A truncated file is an error, never a crash.
  writeFile(dir.file("cut.uoex"), bytes.substr(0, bytes.size() / 2));
  expectError(uoe_executable_load(dir.file("cut.uoex").c_str(), &raw),
              UOE_DATA_LOSS, {"cut.uoex"});
}

TEST_F(CApiCompiledTest, CompiledModelCache) {
  TempDir dir;
  std::string cacheDir = dir.file("cache");
  Session session = newSession(cacheDir.c_str());
  uoe_executable_t *raw = nullptr;
  ASSERT_UOE_OK(uoe_session_compile_model_text(session.get(), kModel, kBatch,
                                               kSeq, &raw));
  Executable first(raw);
  uoe_executable_info_t info;
  ASSERT_UOE_OK(uoe_executable_info(first.get(), &info));
  std::string entry = cacheDir + "/" + info.cache_key + ".uoex";
  ASSERT_TRUE(rt::test::fileExists(entry));
  // The second compilation is the cache entry: change it to see it used.
  auto stored = rt::loadExecutable(entry);
  ASSERT_TRUE(stored.ok());
  stored->set_model_name("from the cache");
  ASSERT_TRUE(rt::saveExecutable(entry, *stored).ok());
  ASSERT_UOE_OK(uoe_session_compile_model_text(session.get(), kModel, kBatch,
                                               kSeq, &raw));
  Executable second(raw);
  ASSERT_UOE_OK(uoe_executable_info(second.get(), &info));
  EXPECT_STREQ(info.model_name, "from the cache");
  // A corrupt entry is recompiled and replaced.
  writeFile(entry, "garbage");
  ASSERT_UOE_OK(uoe_session_compile_model_text(session.get(), kModel, kBatch,
                                               kSeq, &raw));
  Executable third(raw);
  ASSERT_UOE_OK(uoe_executable_info(third.get(), &info));
  EXPECT_STREQ(info.model_name, "capi_tiny");
  EXPECT_TRUE(rt::loadExecutable(entry).ok());
}

TEST_F(CApiCompiledTest, CompileFromFile) {
  TempDir dir;
  writeFile(dir.file("m.pbtxt"), kModel);
  uoe_executable_t *raw = nullptr;
  ASSERT_UOE_OK(uoe_session_compile_model_file(
      session_.get(), dir.file("m.pbtxt").c_str(), 1, 4, &raw));
  Executable exe(raw);
  uoe_tensor_t in = spec(exe.get(), UOE_ROLE_INPUT, 0);
  EXPECT_EQ(std::vector<int64_t>(in.shape, in.shape + in.rank),
            (std::vector<int64_t>{1, 4, kWidth}));
  expectError(uoe_session_compile_model_file(
                  session_.get(), dir.file("none.pbtxt").c_str(), 1, 4, &raw),
              UOE_NOT_FOUND, {"none.pbtxt"});
}

TEST_F(CApiCompiledTest, CompileWithGradients) {
  // forward_grad: the input, the seed d_<result>, the parameters; results:
  // the forward's, then d_hidden and one gradient per parameter.
  uoe_executable_t *raw = nullptr;
  ASSERT_UOE_OK(uoe_session_compile_model_ex(session_.get(), kModel, 0, 1, 4,
                                             UOE_COMPILE_GRADIENTS, &raw));
  Executable exe(raw);
  size_t inputs = 0, params = 0, results = 0;
  ASSERT_UOE_OK(uoe_executable_tensor_count(exe.get(), "forward_grad",
                                            UOE_ROLE_INPUT, &inputs));
  ASSERT_UOE_OK(uoe_executable_tensor_count(exe.get(), "forward_grad",
                                            UOE_ROLE_PARAMETER, &params));
  ASSERT_UOE_OK(uoe_executable_tensor_count(exe.get(), "forward_grad",
                                            UOE_ROLE_RESULT, &results));
  EXPECT_EQ(inputs, 2u);
  EXPECT_EQ(results, 2 + params);
  uoe_tensor_t seed = {};
  ASSERT_UOE_OK(uoe_executable_tensor_spec(exe.get(), "forward_grad",
                                           UOE_ROLE_INPUT, 1, &seed));
  EXPECT_EQ(std::string(seed.name).rfind("d_", 0), 0u) << seed.name;
  EXPECT_EQ(std::vector<int64_t>(seed.shape, seed.shape + seed.rank),
            (std::vector<int64_t>{1, 4, kWidth}));
  // The same description without the flag has forward only.
  ASSERT_UOE_OK(uoe_session_compile_model_ex(session_.get(), kModel, 0, 1, 4,
                                             0, &raw));
  Executable plain(raw);
  expectError(uoe_executable_tensor_count(plain.get(), "forward_grad",
                                          UOE_ROLE_INPUT, &inputs),
              UOE_NOT_FOUND, {"forward_grad"});
  expectError(
      uoe_session_compile_model_ex(session_.get(), kModel, 0, 1, 4, 8, &raw),
      UOE_INVALID_ARGUMENT, {"unknown flags (8"});
}

TEST_F(CApiCompiledTest, CompileWithBf16Gemms) {
  // UOE_COMPILE_BF16: another Executable (its own cache key), the same
  // entry point.
  uoe_executable_t *raw = nullptr;
  ASSERT_UOE_OK(uoe_session_compile_model_ex(session_.get(), kModel, 0, 1, 4,
                                             UOE_COMPILE_BF16, &raw));
  Executable bf16(raw);
  ASSERT_UOE_OK(uoe_session_compile_model_ex(session_.get(), kModel, 0, 1, 4,
                                             0, &raw));
  Executable f32(raw);
  uoe_executable_info_t a, b;
  ASSERT_UOE_OK(uoe_executable_info(bf16.get(), &a));
  ASSERT_UOE_OK(uoe_executable_info(f32.get(), &b));
  EXPECT_STRNE(a.cache_key, b.cache_key);
  EXPECT_EQ(a.num_entry_points, 1u);
  size_t inputs = 0;
  ASSERT_UOE_OK(uoe_executable_tensor_count(bf16.get(), "forward",
                                            UOE_ROLE_INPUT, &inputs));
  EXPECT_EQ(inputs, 1u);
}

/// A tiny causal language model for UOE_COMPILE_DECODING.
constexpr const char *kDecoderModel = R"pb(
name: "capi_decoder"
d_model: 16
layout: PRE_LN
final_norm: true
embedding { vocab_size: 50 position: LEARNED max_positions: 16 }
blocks { dense_attention { heads: 2 causal: true } dense_mlp { hidden: 32 } }
lm_head { tie_embeddings: true }
)pb";

TEST_F(CApiCompiledTest, DecodingOverAKvCache) {
  // prefill (3 tokens) and decode_step, over a cache, against forward on
  // the whole sequence: the logits of every position agree.
  constexpr int64_t seq = 6, prompt = 3, vocab = 50;
  uoe_executable_t *raw = nullptr;
  ASSERT_UOE_OK(uoe_session_compile_model_ex(
      session_.get(), kDecoderModel, 0, 1, prompt, UOE_COMPILE_DECODING, &raw));
  Executable decoder(raw);
  ASSERT_UOE_OK(uoe_session_compile_model_ex(session_.get(), kDecoderModel, 0,
                                             1, seq, 0, &raw));
  Executable forward(raw);
  uoe_executable_info_t info;
  ASSERT_UOE_OK(uoe_executable_info(decoder.get(), &info));
  ASSERT_EQ(info.num_entry_points, 2u);
  for (const char *entry : {"prefill", "decode_step"}) {
    ASSERT_EQ(count(decoder.get(), UOE_ROLE_INPUT, entry), 4u);
    uoe_tensor_t cacheSpec = spec(decoder.get(), UOE_ROLE_INPUT, 3, entry);
    EXPECT_STREQ(cacheSpec.name, "kv_cache");
    EXPECT_EQ(cacheSpec.rank, 0u);
  }
  std::vector<Buffer> weights = weightsFor(forward.get(), 5);
  std::vector<uoe_tensor_t> views;
  for (Buffer &w : weights)
    views.push_back(w.view());
  Model full = load(forward.get()), steps = load(decoder.get());
  ASSERT_UOE_OK(bind(full.get(), weights));
  for (const char *entry : {"prefill", "decode_step"})
    ASSERT_UOE_OK(
        uoe_model_bind_weights(steps.get(), entry, views.data(), views.size()));

  std::vector<int64_t> ids = {7, 1, 42, 13, 0, 49};
  auto ints = [](std::vector<int64_t> shape, std::vector<int64_t> values) {
    Buffer b;
    b.dtype = UOE_DTYPE_I64;
    b.shape = std::move(shape);
    b.bytes.resize(values.size() * sizeof(int64_t));
    std::memcpy(b.bytes.data(), values.data(), b.bytes.size());
    return b;
  };
  Buffer allIds = ints({1, seq}, ids);
  Buffer want;
  want.shape = {1, seq, vocab};
  want.bytes.resize(seq * vocab * sizeof(float));
  uoe_tensor_t in = allIds.view(), out = want.view();
  ASSERT_UOE_OK(uoe_model_run(full.get(), "forward", &in, 1, &out, 1));
  const float *expected = reinterpret_cast<const float *>(want.bytes.data());

  uoe_kv_cache_t *cache = nullptr;
  ASSERT_UOE_OK(uoe_kv_cache_create(1, 1, seq, 16, &cache));
  std::unique_ptr<uoe_kv_cache_t, void (*)(uoe_kv_cache_t *)> owned(
      cache, uoe_kv_cache_free);
  int64_t handle = uoe_kv_cache_handle(cache);
  auto step = [&](const char *entry, std::vector<int64_t> tokens, int64_t start,
                  int64_t last) {
    int64_t t = static_cast<int64_t>(tokens.size());
    Buffer inputs[4] = {ints({1, t}, tokens), ints({1}, {start}),
                        ints({1}, {last}), ints({}, {handle})};
    uoe_tensor_t views[4] = {inputs[0].view(), inputs[1].view(),
                             inputs[2].view(), inputs[3].view()};
    Buffer logits;
    logits.shape = {1, vocab};
    logits.bytes.resize(vocab * sizeof(float));
    uoe_tensor_t o = logits.view();
    uoe_status_t *status = uoe_model_run(steps.get(), entry, views, 4, &o, 1);
    std::vector<float> values(vocab);
    std::memcpy(values.data(), logits.bytes.data(), logits.bytes.size());
    return std::make_pair(status, values);
  };
  auto check = [&](const std::vector<float> &got, int64_t position) {
    for (int64_t c = 0; c < vocab; ++c)
      EXPECT_NEAR(got[c], expected[position * vocab + c], 1e-5)
          << "position " << position << ", logit " << c;
  };
  auto [prefilled, first] =
      step("prefill", {ids[0], ids[1], ids[2]}, 0, prompt - 1);
  ASSERT_UOE_OK(prefilled);
  check(first, prompt - 1);
  for (int64_t position = prompt; position < seq; ++position) {
    auto [status, logits] = step("decode_step", {ids[position]}, position, 0);
    ASSERT_UOE_OK(status);
    check(logits, position);
  }
  // Past the cache's capacity; a handle that names no cache.
  expectError(step("decode_step", {1}, seq, 0).first, UOE_INVALID_ARGUMENT,
              {"outside the cache's 6 positions"});
  handle = 12345;
  expectError(step("decode_step", {1}, 0, 0).first, UOE_INVALID_ARGUMENT,
              {"does not name a key/value cache"});
  // Flags that do not go together; a model that cannot decode.
  expectError(uoe_session_compile_model_ex(
                  session_.get(), kDecoderModel, 0, 1, prompt,
                  UOE_COMPILE_DECODING | UOE_COMPILE_GRADIENTS, &raw),
              UOE_INVALID_ARGUMENT, {"UOE_COMPILE_DECODING"});
  expectError(uoe_session_compile_model_ex(session_.get(), kModel, 0, 1, 4,
                                           UOE_COMPILE_DECODING, &raw),
              UOE_INVALID_ARGUMENT, {"decoding needs a language model"});
  expectError(uoe_kv_cache_create(1, 0, 4, 16, &cache), UOE_INVALID_ARGUMENT,
              {"positive sizes"});
}

TEST_F(CApiCompiledTest, CompileErrors) {
  uoe_executable_t *exe = nullptr;
  uoe_session_t *s = session_.get();
  expectError(uoe_session_compile_model_text(s, "d_model: 16\nbogus: 3\n", 1,
                                             4, &exe),
              UOE_INVALID_ARGUMENT, {"bogus"});
  expectError(uoe_session_compile_model_text(s, "d_model: -4", 1, 4, &exe),
              UOE_INVALID_ARGUMENT, {"d_model"});
  // Hostile sizes: refused before anything is expanded or allocated.
  std::string deep = std::string(kModel);
  deep.insert(deep.rfind('}'), "  repeat: 2147483647\n");
  expectError(
      uoe_session_compile_model_text(s, deep.c_str(), 1, 4, &exe),
      UOE_INVALID_ARGUMENT,
      {"blocks[0].repeat", "2147483647", "limit of 10000 layers"});
  expectError(uoe_session_compile_model_text(
                  s, "d_model: 1099511627776 blocks { uome { hidden: 4 } }", 1,
                  4, &exe),
              UOE_INVALID_ARGUMENT, {"d_model", "exceeds the limit"});
  expectError(uoe_session_compile_model_text(s, kModel, 0, 4, &exe),
              UOE_INVALID_ARGUMENT, {"batch (0)", "positive"});
  expectError(uoe_session_compile_model_text(nullptr, kModel, 1, 4, &exe),
              UOE_INVALID_ARGUMENT, {"session is NULL"});
  expectError(uoe_session_compile_model_text(s, nullptr, 1, 4, &exe),
              UOE_INVALID_ARGUMENT, {"text is NULL"});
  expectError(uoe_session_compile_model_text(s, kModel, 1, 4, nullptr),
              UOE_INVALID_ARGUMENT, {"out_executable is NULL"});
  expectError(uoe_session_compile_model_file(s, nullptr, 1, 4, &exe),
              UOE_INVALID_ARGUMENT, {"path is NULL"});
  expectError(uoe_session_compile_mlir(s, nullptr, &exe), UOE_INVALID_ARGUMENT,
              {"mlir_text is NULL"});
  expectError(uoe_session_compile_mlir(s, "func.func @f( {", &exe),
              UOE_INVALID_ARGUMENT, {"cannot parse", "<mlir>", ":1:"});
  expectError(uoe_session_compile_mlir(s, "module {}", &exe),
              UOE_INVALID_ARGUMENT, {"no entry point"});
  expectError(
      uoe_session_compile_mlir(s, R"(
func.func @f(%w: tensor<4xf32> {uoe.param = "w"}, %x: tensor<4xf32>)
    -> tensor<4xf32> attributes {llvm.emit_c_interface} {
  %y = arith.addf %x, %w : tensor<4xf32>
  return %y : tensor<4xf32>
})",
                               &exe),
      UOE_INVALID_ARGUMENT,
      {"argument #1 is an input after parameter #0"});
  expectError(
      uoe_session_compile_mlir(s, R"(
func.func @f(%x: tensor<?xf32>) -> tensor<?xf32>
    attributes {llvm.emit_c_interface} {
  return %x : tensor<?xf32>
})",
                               &exe),
      UOE_INVALID_ARGUMENT, {"argument #0 ('arg0') has type", "tensor<?xf32>", "static-shaped"});
  EXPECT_EQ(exe, nullptr);
}

/// y = x * x + w, an entry point named by its attributes, and a second one
/// without names.
constexpr const char *kMlir = R"(
func.func @square_plus(%x: tensor<2x3xf32> {uoe.input = "x"},
                       %w: tensor<2x3xf32> {uoe.param = "w"})
    -> (tensor<2x3xf32> {uoe.result = "y"}) attributes {llvm.emit_c_interface} {
  %sq = arith.mulf %x, %x : tensor<2x3xf32>
  %y = arith.addf %sq, %w : tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}
func.func @negate(%x: tensor<4xf32>) -> tensor<4xf32>
    attributes {llvm.emit_c_interface} {
  %y = arith.negf %x : tensor<4xf32>
  return %y : tensor<4xf32>
}
func.func private @helper(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
)";

TEST_F(CApiCompiledTest, CompileAndRunMlir) {
  uoe_executable_t *raw = nullptr;
  ASSERT_UOE_OK(uoe_session_compile_mlir(session_.get(), kMlir, &raw));
  Executable exe(raw);
  uoe_executable_info_t info;
  ASSERT_UOE_OK(uoe_executable_info(exe.get(), &info));
  ASSERT_EQ(info.num_entry_points, 2u);
  const char *name = nullptr;
  ASSERT_UOE_OK(uoe_executable_entry_point_name(exe.get(), 0, &name));
  EXPECT_STREQ(name, "square_plus");
  ASSERT_UOE_OK(uoe_executable_entry_point_name(exe.get(), 1, &name));
  EXPECT_STREQ(name, "negate");
  EXPECT_STREQ(spec(exe.get(), UOE_ROLE_INPUT, 0, "square_plus").name, "x");
  EXPECT_STREQ(spec(exe.get(), UOE_ROLE_PARAMETER, 0, "square_plus").name, "w");
  EXPECT_STREQ(spec(exe.get(), UOE_ROLE_RESULT, 0, "square_plus").name, "y");
  EXPECT_STREQ(spec(exe.get(), UOE_ROLE_INPUT, 0, "negate").name, "arg0");
  EXPECT_STREQ(spec(exe.get(), UOE_ROLE_RESULT, 0, "negate").name, "result0");

  Model model = load(exe.get());
  std::vector<float> x = {1, 2, 3, -1, 0.5f, 4}, w = {10, 20, 30, 40, 50, 60},
                     y(6, 0.0f);
  int64_t shape[] = {2, 3};
  uoe_tensor_t wt{"w", UOE_DTYPE_F32, 2, shape, w.data(), UOE_MEMORY_HOST};
  uoe_tensor_t xt{nullptr, UOE_DTYPE_F32, 2, shape, x.data(), UOE_MEMORY_HOST};
  uoe_tensor_t yt{nullptr, UOE_DTYPE_F32, 2, shape, y.data(), UOE_MEMORY_HOST};
  // Weights are copied: changing ours after binding changes nothing.
  ASSERT_UOE_OK(uoe_model_bind_weights(model.get(), "square_plus", &wt, 1));
  w.assign(6, -1.0f);
  ASSERT_UOE_OK(uoe_model_run(model.get(), "square_plus", &xt, 1, &yt, 1));
  EXPECT_EQ(y, (std::vector<float>{11, 24, 39, 41, 50.25f, 76}));

  std::vector<float> v = {1, -2, 0, 3}, nv(4);
  int64_t four[] = {4};
  uoe_tensor_t vt{nullptr, UOE_DTYPE_F32, 1, four, v.data(), UOE_MEMORY_HOST};
  uoe_tensor_t nt{nullptr, UOE_DTYPE_F32, 1, four, nv.data(), UOE_MEMORY_HOST};
  ASSERT_UOE_OK(uoe_model_run(model.get(), "negate", &vt, 1, &nt, 1));
  EXPECT_EQ(nv, (std::vector<float>{-1, 2, -0.0f, -3}));
}

TEST_F(CApiCompiledTest, BindErrors) {
  Model model = load(executable_);
  uoe_model_t *m = model.get();
  std::vector<Buffer> weights = weightsFor(executable_, 1);
  ASSERT_GE(weights.size(), 3u);

  // Missing, mis-shaped, extra, duplicate, unnamed.
  std::vector<Buffer> missing(weights.begin() + 1, weights.end());
  expectError(bind(m, missing), UOE_NOT_FOUND,
              {"missing weight", weights[0].name.c_str()});
  std::vector<Buffer> misshaped = weightsFor(executable_, 1);
  misshaped[1].shape.push_back(1);
  expectError(bind(m, misshaped), UOE_INVALID_ARGUMENT,
              {weights[1].name.c_str(), "has shape", "the model needs"});
  std::vector<Buffer> extra = weightsFor(executable_, 1);
  extra.push_back(Buffer::f32({2}, 0, "not.a.weight"));
  expectError(bind(m, extra), UOE_INVALID_ARGUMENT,
              {"unexpected weight 'not.a.weight'"});
  std::vector<Buffer> twice = weightsFor(executable_, 1);
  twice.push_back(twice[0]);
  expectError(bind(m, twice), UOE_INVALID_ARGUMENT, {"given twice"});
  std::vector<Buffer> unnamed = weightsFor(executable_, 1);
  unnamed[2].name.clear();
  expectError(bind(m, unnamed), UOE_INVALID_ARGUMENT,
              {"weights[2] has no name"});

  // Bad tensors: unknown dtype, NULL data, NULL shape, device memory.
  std::vector<uoe_tensor_t> views;
  for (Buffer &w : weights)
    views.push_back(w.view());
  uoe_tensor_t saved = views[0];
  views[0].dtype = static_cast<uoe_dtype_t>(77);
  expectError(uoe_model_bind_weights(m, "forward", views.data(), views.size()),
              UOE_INVALID_ARGUMENT, {"unknown dtype (77)"});
  views[0] = saved;
  views[0].data = nullptr;
  expectError(uoe_model_bind_weights(m, "forward", views.data(), views.size()),
              UOE_INVALID_ARGUMENT, {"NULL data", weights[0].name.c_str()});
  views[0] = saved;
  views[0].shape = nullptr;
  expectError(uoe_model_bind_weights(m, "forward", views.data(), views.size()),
              UOE_INVALID_ARGUMENT, {"shape is NULL"});
  views[0] = saved;
  views[0].memory = UOE_MEMORY_DEVICE;
  expectError(uoe_model_bind_weights(m, "forward", views.data(), views.size()),
              UOE_UNIMPLEMENTED, {"device memory"});
  views[0] = saved;

  expectError(uoe_model_bind_weights(m, "backward", views.data(), views.size()),
              UOE_NOT_FOUND, {"backward"});
  expectError(uoe_model_bind_weights(m, "forward", nullptr, 3),
              UOE_INVALID_ARGUMENT, {"weights is NULL"});
  expectError(uoe_model_bind_weights(nullptr, "forward", views.data(), 1),
              UOE_INVALID_ARGUMENT, {"model is NULL"});
  expectError(uoe_model_bind_weights(m, nullptr, views.data(), 1),
              UOE_INVALID_ARGUMENT, {"entry is NULL"});

  // Files: missing, corrupt.
  TempDir dir;
  expectError(uoe_model_bind_safetensors(m, "forward",
                                         dir.file("none.safetensors").c_str()),
              UOE_NOT_FOUND, {"none.safetensors"});
  writeFile(dir.file("bad.safetensors"), std::string("\x10\0\0\0\0\0\0\0{", 9));
  expectError(uoe_model_bind_safetensors(m, "forward",
                                         dir.file("bad.safetensors").c_str()),
              UOE_DATA_LOSS, {"bad.safetensors"});
  expectError(uoe_model_bind_safetensors(m, "forward", nullptr),
              UOE_INVALID_ARGUMENT, {"path is NULL"});

  // Running before a successful bind.
  Buffer input = Buffer::f32({kBatch, kSeq, kWidth}, 2);
  Buffer out = Buffer::f32({kBatch, kSeq, kWidth}, 0);
  uoe_tensor_t in = input.view(), o = out.view();
  expectError(uoe_model_run(m, "forward", &in, 1, &o, 1),
              UOE_FAILED_PRECONDITION, {"no weights are bound", "forward"});
}

TEST_F(CApiCompiledTest, RunErrors) {
  Model model = load(executable_);
  uoe_model_t *m = model.get();
  std::vector<Buffer> weights = weightsFor(executable_, 1);
  ASSERT_UOE_OK(bind(m, weights));
  Buffer input = Buffer::f32({kBatch, kSeq, kWidth}, 2);
  Buffer out = Buffer::f32({kBatch, kSeq, kWidth}, 0);
  std::vector<uint8_t> untouched = out.bytes;
  uoe_tensor_t in = input.view(), o = out.view();

  expectError(uoe_model_run(m, "backward", &in, 1, &o, 1), UOE_NOT_FOUND,
              {"backward", "forward"});
  expectError(uoe_model_run(nullptr, "forward", &in, 1, &o, 1),
              UOE_INVALID_ARGUMENT, {"model is NULL"});
  expectError(uoe_model_run(m, nullptr, &in, 1, &o, 1), UOE_INVALID_ARGUMENT,
              {"entry is NULL"});
  expectError(uoe_model_run(m, "forward", nullptr, 1, &o, 1),
              UOE_INVALID_ARGUMENT, {"inputs is NULL"});
  expectError(uoe_model_run(m, "forward", &in, 1, nullptr, 1),
              UOE_INVALID_ARGUMENT, {"outputs is NULL"});
  expectError(uoe_model_run(m, "forward", &in, 0, &o, 1), UOE_INVALID_ARGUMENT,
              {"takes 1 input(s), but 0 were given"});
  expectError(uoe_model_run(m, "forward", &in, 1, &o, 0), UOE_INVALID_ARGUMENT,
              {"returns 1 result(s), but 0 output(s)"});

  // Wrong dtype and shape of an input.
  uoe_tensor_t bad = in;
  bad.dtype = UOE_DTYPE_I32;
  expectError(uoe_model_run(m, "forward", &bad, 1, &o, 1),
              UOE_INVALID_ARGUMENT,
              {"input 'hidden' must be f32 [2, 8, 16], but it is i32 [2, 8, 16]"});
  int64_t shorter[] = {kBatch, kSeq - 1, kWidth};
  bad = in;
  bad.shape = shorter;
  expectError(uoe_model_run(m, "forward", &bad, 1, &o, 1),
              UOE_INVALID_ARGUMENT, {"but it is f32 [2, 7, 16]"});
  int64_t negative[] = {kBatch, -1, kWidth};
  bad.shape = negative;
  expectError(uoe_model_run(m, "forward", &bad, 1, &o, 1),
              UOE_INVALID_ARGUMENT, {"input 0 ('hidden')"});
  bad = in;
  bad.memory = UOE_MEMORY_DEVICE;
  expectError(uoe_model_run(m, "forward", &bad, 1, &o, 1), UOE_UNIMPLEMENTED,
              {"device memory"});
  bad = in;
  bad.data = nullptr;
  expectError(uoe_model_run(m, "forward", &bad, 1, &o, 1),
              UOE_INVALID_ARGUMENT, {"NULL data"});

  // Wrong output buffers.
  uoe_tensor_t badOut = o;
  badOut.shape = shorter;
  expectError(uoe_model_run(m, "forward", &in, 1, &badOut, 1),
              UOE_INVALID_ARGUMENT,
              {"output 0 ('hidden') must be f32 [2, 8, 16], but it is f32 "
               "[2, 7, 16]"});
  badOut = o;
  badOut.dtype = UOE_DTYPE_F64;
  expectError(uoe_model_run(m, "forward", &in, 1, &badOut, 1),
              UOE_INVALID_ARGUMENT, {"but it is f64"});
  badOut = o;
  badOut.data = nullptr;
  expectError(uoe_model_run(m, "forward", &in, 1, &badOut, 1),
              UOE_INVALID_ARGUMENT, {"NULL data"});
  // No failed run wrote anything.
  EXPECT_EQ(out.bytes, untouched);

  expectError(uoe_model_create(nullptr, executable_, &m), UOE_INVALID_ARGUMENT,
              {"session is NULL"});
  expectError(uoe_model_create(session_.get(), nullptr, &m),
              UOE_INVALID_ARGUMENT, {"executable is NULL"});
  expectError(uoe_model_create(session_.get(), executable_, nullptr),
              UOE_INVALID_ARGUMENT, {"out_model is NULL"});
  EXPECT_EQ(m, model.get());

  // And the model still runs.
  EXPECT_UOE_OK(uoe_model_run(m, "forward", &in, 1, &o, 1));
}

TEST_F(CApiCompiledTest, ThreadsOption) {
  std::vector<Buffer> weights = weightsFor(executable_, 8);
  Buffer input = Buffer::f32({kBatch, kSeq, kWidth}, 9);
  Model model = load(executable_);
  ASSERT_UOE_OK(bind(model.get(), weights));
  std::vector<uint8_t> all = run(model.get(), input);

  uoe_session_options_t options;
  uoe_session_options_init(&options);
  options.threads = 1;
  uoe_session_t *raw = nullptr;
  ASSERT_UOE_OK(uoe_session_create(&options, &raw));
  Session single(raw);
  uoe_model_t *m = nullptr;
  ASSERT_UOE_OK(uoe_model_create(single.get(), executable_, &m));
  Model one(m);
  ASSERT_UOE_OK(bind(m, weights));
  std::vector<uint8_t> got = run(m, input);
  // GEMMs may be split differently: equal up to rounding.
  const float *a = reinterpret_cast<const float *>(all.data());
  const float *b = reinterpret_cast<const float *>(got.data());
  for (size_t i = 0; i < all.size() / sizeof(float); ++i)
    ASSERT_NEAR(a[i], b[i], 1e-4f) << "element " << i;
}

TEST_F(CApiCompiledTest, ConcurrentCompilationsAndRuns) {
  // One session, four threads, each compiling MLIR and running its own model
  // (the header's thread-safety contract).
  constexpr int kThreads = 4;
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      uoe_executable_t *exe = nullptr;
      failures[t] = take(uoe_session_compile_mlir(session_.get(), kMlir, &exe));
      if (failures[t] != "ok")
        return;
      Executable owned(exe);
      uoe_model_t *model = nullptr;
      failures[t] = take(uoe_model_create(session_.get(), exe, &model));
      if (failures[t] != "ok")
        return;
      Model ownedModel(model);
      std::vector<float> v = {1, -2, 0, static_cast<float>(t)}, nv(4);
      int64_t four[] = {4};
      uoe_tensor_t vt{nullptr, UOE_DTYPE_F32, 1, four, v.data(),
                      UOE_MEMORY_HOST};
      uoe_tensor_t nt{nullptr, UOE_DTYPE_F32, 1, four, nv.data(),
                      UOE_MEMORY_HOST};
      failures[t] = take(uoe_model_run(model, "negate", &vt, 1, &nt, 1));
      if (failures[t] == "ok" && nv[3] != -static_cast<float>(t))
        failures[t] = "wrong result";
    });
  for (std::thread &thread : threads)
    thread.join();
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(failures[t], "ok") << "thread " << t;
}

#endif // UOE_CAPI_TEST_HAVE_COMPILER

} // namespace
