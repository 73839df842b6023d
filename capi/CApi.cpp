//===- CApi.cpp - the uoe C API ------------------------------------------===//
//
// include/uoe-c/uoe.h on the runtime: handles are thin structs around
// runtime objects (a proto::Executable, a CpuProgram), statuses carry the
// runtime's Status codes and messages unchanged. Everything that needs the
// compiler goes through CApiCompiler.h, so that this file also builds in the
// runtime-only tree. Every entry point checks its pointers first and catches
// every C++ exception (in practice std::bad_alloc) at the boundary: nothing
// escapes into C and nothing aborts on bad input.
//
//===----------------------------------------------------------------------===//

#include "uoe-c/uoe.h"

#include "capi/CApiCompiler.h"
#include "formats/Checkpoint.h"
#include "formats/Executable.h"
#include "formats/Safetensors.h"
#include "runtime/CpuBlas.h"
#include "runtime/CpuDevice.h"
#include "runtime/CpuKvCache.h"
#include "runtime/CudaDriver.h"
#include "runtime/Program.h"

#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <new>
#include <set>
#include <string>
#include <vector>

using namespace uoe;

struct uoe_status {
  uoe_status_code_t code;
  std::string message;
};

struct uoe_session {
  std::string device;
  /// For a cuda device: the SM its models are compiled for ("sm_90").
  std::string cudaChip;
  int threads = 0;
  std::string cacheDir;
};

struct uoe_executable {
  rt::proto::Executable executable;
};

struct uoe_model {
  // Declared before the program: objects are unloaded before their loader.
  std::unique_ptr<rt::ObjectLoader> loader;
  std::unique_ptr<rt::Program> program;
  int threads = 0;
};

// The C enums mirror the runtime's.
static_assert(static_cast<int>(rt::StatusCode::IoError) == UOE_IO_ERROR &&
                  static_cast<int>(rt::StatusCode::InvalidArgument) ==
                      UOE_INVALID_ARGUMENT &&
                  static_cast<int>(rt::StatusCode::FailedPrecondition) ==
                      UOE_FAILED_PRECONDITION,
              "uoe_status_code_t must match rt::StatusCode");
static_assert(static_cast<int>(rt::DType::Bool) == UOE_DTYPE_BOOL &&
                  static_cast<int>(rt::DType::I64) == UOE_DTYPE_I64 &&
                  static_cast<int>(rt::DType::BF16) == UOE_DTYPE_BF16,
              "uoe_dtype_t must match rt::DType");

namespace {

using rt::strCat;

/// Returned when not even a status can be allocated; never freed.
uoe_status_t outOfMemory{UOE_INTERNAL, "out of memory"};

/// The caller-owned C status of `status`; NULL for success. If even the
/// status cannot be allocated, a static one (never freed) says so.
uoe_status_t *toC(const rt::Status &status) {
  if (status.ok())
    return nullptr;
  try {
    return new uoe_status_t{static_cast<uoe_status_code_t>(status.code()),
                            status.message()};
  } catch (...) {
    return &outOfMemory;
  }
}

/// Runs `body` (returning rt::Status) and converts its result, turning any
/// exception into an Internal status.
template <typename F> uoe_status_t *guarded(const char *function, F &&body) {
  try {
    return toC(body());
  } catch (const std::bad_alloc &) {
    return toC(rt::internalError(std::string(function) + ": out of memory"));
  } catch (const std::exception &e) {
    return toC(rt::internalError(std::string(function) + ": " + e.what()));
  } catch (...) {
    return toC(rt::internalError(std::string(function) +
                                 ": unknown C++ exception"));
  }
}

/// InvalidArgument "<function>: <what> is NULL".
rt::Status nullArgument(const char *function, const char *what) {
  return rt::invalidArgumentError(strCat(function, ": ", what, " is NULL"));
}

#define UOE_CHECK_NOT_NULL(function, pointer)                                  \
  do {                                                                         \
    if (!(pointer))                                                            \
      return nullArgument(function, #pointer);                                 \
  } while (false)

bool isDType(int dtype) {
  return dtype >= UOE_DTYPE_F32 && dtype <= UOE_DTYPE_BOOL;
}

/// The dtype and shape of the caller's tensor `t` (called `what` in errors),
/// checked: a known dtype, host memory, a non-negative shape whose byte size
/// fits, data present unless the tensor is empty.
rt::Status checkTensor(const uoe_tensor_t &t, const std::string &what,
                       std::vector<int64_t> &shape, int64_t &numBytes) {
  if (!isDType(t.dtype))
    return rt::invalidArgumentError(
        strCat(what, " has an unknown dtype (", static_cast<int>(t.dtype), ")"));
  if (t.memory == UOE_MEMORY_DEVICE)
    return rt::unimplementedError(
        strCat(what, " is in device memory; pass host memory (the cuda "
                     "device copies host tensors into its managed memory)"));
  if (t.memory != UOE_MEMORY_HOST)
    return rt::invalidArgumentError(strCat(what, " has an unknown memory kind (",
                                           static_cast<int>(t.memory), ")"));
  if (t.rank > 0 && !t.shape)
    return rt::invalidArgumentError(
        strCat(what, " has rank ", t.rank, " but its shape is NULL"));
  if (t.rank > 64)
    return rt::invalidArgumentError(
        strCat(what, " has rank ", t.rank, "; at most 64 is supported"));
  shape.assign(t.shape, t.shape + t.rank);
  auto dtype = static_cast<rt::DType>(t.dtype);
  auto count = rt::checkedNumElements(shape, dtype);
  if (!count.ok())
    return count.status().withContext(what);
  numBytes = *count * static_cast<int64_t>(rt::dtypeSize(dtype));
  if (numBytes > 0 && !t.data)
    return rt::invalidArgumentError(strCat(
        what, " (", rt::dtypeName(dtype), " ", rt::shapeToString(shape),
        ") has NULL data"));
  return rt::okStatus();
}

/// A HostTensor holding a copy of the caller's tensor `t`.
rt::StatusOr<rt::HostTensor> copyIn(const uoe_tensor_t &t,
                                    const std::string &what) {
  std::vector<int64_t> shape;
  int64_t numBytes = 0;
  UOE_RETURN_IF_ERROR(checkTensor(t, what, shape, numBytes));
  auto tensor = rt::HostTensor::fromBytes(static_cast<rt::DType>(t.dtype),
                                          std::move(shape), t.data,
                                          static_cast<size_t>(numBytes));
  if (!tensor.ok())
    return tensor.status().withContext(what);
  return tensor;
}

rt::StatusOr<const rt::proto::EntryPoint *>
entryPoint(const uoe_executable_t *executable, const char *entry) {
  return rt::findEntryPoint(executable->executable, entry);
}

const google::protobuf::RepeatedPtrField<rt::proto::TensorSpec> *
tensorsOf(const rt::proto::EntryPoint &entry, uoe_tensor_role_t role) {
  switch (role) {
  case UOE_ROLE_INPUT:
    return &entry.inputs();
  case UOE_ROLE_PARAMETER:
    return &entry.parameters();
  case UOE_ROLE_RESULT:
    return &entry.results();
  }
  return nullptr;
}

rt::Status unknownRole(const char *function, uoe_tensor_role_t role) {
  return rt::invalidArgumentError(strCat(function, ": unknown tensor role (",
                                         static_cast<int>(role),
                                         "); use UOE_ROLE_INPUT, "
                                         "UOE_ROLE_PARAMETER or UOE_ROLE_RESULT"));
}

rt::Status newExecutable(rt::StatusOr<rt::proto::Executable> compiled,
                         uoe_executable_t **out) {
  UOE_RETURN_IF_ERROR(compiled);
  *out = new uoe_executable_t{std::move(*compiled)};
  return rt::okStatus();
}

rt::Status compileInto(const char *function, uoe_session_t *session,
                       capi::SourceKind kind, const char *source,
                       const char *sourceName, int64_t batch, int64_t seq,
                       uoe_executable_t **out, uint32_t flags = 0) {
  if (!session)
    return nullArgument(function, "session");
  if (!source)
    return nullArgument(function, sourceName);
  if (!out)
    return nullArgument(function, "out_executable");
  if (flags & ~static_cast<uint32_t>(UOE_COMPILE_GRADIENTS | UOE_COMPILE_BF16 |
                                     UOE_COMPILE_DECODING))
    return rt::invalidArgumentError(
        strCat(function, ": unknown flags (", flags,
               "; the flags are UOE_COMPILE_GRADIENTS = 1, "
               "UOE_COMPILE_BF16 = 2 and UOE_COMPILE_DECODING = 4)"));
  bool bf16 = (flags & UOE_COMPILE_BF16) != 0;
  bool gradients = (flags & UOE_COMPILE_GRADIENTS) != 0;
  bool decoding = (flags & UOE_COMPILE_DECODING) != 0;
  if (bf16 && !session->cudaChip.empty())
    return rt::invalidArgumentError(
        strCat(function, ": UOE_COMPILE_BF16 is for cpu sessions (GPU code "
                         "computes its GEMMs in f32)"));
  if (decoding && (gradients || !session->cudaChip.empty()))
    return rt::invalidArgumentError(
        strCat(function, ": UOE_COMPILE_DECODING is for cpu sessions, "
                         "without UOE_COMPILE_GRADIENTS"));
  return newExecutable(
      capi::compile(kind, source, batch, seq, session->cacheDir, gradients,
                    session->cudaChip, bf16 ? "bf16" : "f32", decoding),
      out);
}

} // namespace

//===--- Version and status ------------------------------------------------===//

int uoe_api_version(void) { return UOE_C_API_VERSION; }

uoe_status_code_t uoe_status_code(const uoe_status_t *status) {
  return status ? status->code : UOE_OK;
}

const char *uoe_status_message(const uoe_status_t *status) {
  return status ? status->message.c_str() : "";
}

const char *uoe_status_code_name(uoe_status_code_t code) {
  if (code < UOE_OK || code > UOE_IO_ERROR)
    return "unknown status code";
  return rt::statusCodeName(static_cast<rt::StatusCode>(code));
}

void uoe_status_free(uoe_status_t *status) {
  if (status != &outOfMemory)
    delete status;
}

const char *uoe_dtype_name(uoe_dtype_t dtype) {
  return isDType(dtype) ? rt::dtypeName(static_cast<rt::DType>(dtype)) : "?";
}

size_t uoe_dtype_size(uoe_dtype_t dtype) {
  return isDType(dtype) ? rt::dtypeSize(static_cast<rt::DType>(dtype)) : 0;
}

//===--- Session -----------------------------------------------------------===//

void uoe_session_options_init(uoe_session_options_t *options) {
  if (!options)
    return;
  std::memset(options, 0, sizeof(*options));
  options->api_version = UOE_C_API_VERSION;
}

uoe_status_t *uoe_session_create(const uoe_session_options_t *options,
                                 uoe_session_t **out_session) {
  return guarded("uoe_session_create", [&]() -> rt::Status {
    UOE_CHECK_NOT_NULL("uoe_session_create", out_session);
    uoe_session_options_t defaults;
    uoe_session_options_init(&defaults);
    if (!options)
      options = &defaults;
    if (options->api_version <= 0 || options->api_version > UOE_C_API_VERSION)
      return rt::invalidArgumentError(strCat(
          "uoe_session_create: options.api_version is ", options->api_version,
          " but this library implements ", UOE_C_API_VERSION,
          "; initialise the options with uoe_session_options_init"));
    std::string device = options->device ? options->device : "cpu";
    auto name = rt::parseDeviceName(device);
    if (!name.ok())
      return name.status().withContext("uoe_session_create");
    std::string cudaChip;
    if (name->cuda) {
      size_t ordinal = static_cast<size_t>(name->ordinal);
      // The device must exist: its compute capability is what the
      // session's models are compiled for.
      auto devices = rt::listCudaDevices();
      if (!devices.ok())
        return devices.status().withContext("uoe_session_create");
      if (ordinal >= devices->size())
        return rt::invalidArgumentError(strCat(
            "uoe_session_create: device '", device, "': there are ",
            devices->size(), " CUDA device(s), cuda:0 .. cuda:",
            devices->size() - 1));
      const rt::CudaDeviceInfo &info = (*devices)[ordinal];
      cudaChip = strCat("sm_", info.computeMajor, info.computeMinor);
    }
    if (options->threads < 0)
      return rt::invalidArgumentError(strCat(
          "uoe_session_create: threads is ", options->threads,
          "; use 0 for one per core or a positive count"));
    auto session = std::make_unique<uoe_session_t>();
    session->device = device;
    session->cudaChip = cudaChip;
    session->threads = options->threads;
    session->cacheDir = options->cache_dir ? options->cache_dir : "";
    *out_session = session.release();
    return rt::okStatus();
  });
}

void uoe_session_free(uoe_session_t *session) { delete session; }

//===--- Compiling ---------------------------------------------------------===//

uoe_status_t *uoe_session_compile_model_text(uoe_session_t *session,
                                             const char *text, int64_t batch,
                                             int64_t seq,
                                             uoe_executable_t **out) {
  const char *function = "uoe_session_compile_model_text";
  return guarded(function, [&] {
    return compileInto(function, session, capi::SourceKind::ModelText, text,
                       "text", batch, seq, out);
  });
}

uoe_status_t *uoe_session_compile_model_file(uoe_session_t *session,
                                             const char *path, int64_t batch,
                                             int64_t seq,
                                             uoe_executable_t **out) {
  const char *function = "uoe_session_compile_model_file";
  return guarded(function, [&] {
    return compileInto(function, session, capi::SourceKind::ModelFile, path,
                       "path", batch, seq, out);
  });
}

uoe_status_t *uoe_session_compile_model_ex(uoe_session_t *session,
                                           const char *source,
                                           int source_is_file, int64_t batch,
                                           int64_t seq, uint32_t flags,
                                           uoe_executable_t **out) {
  const char *function = "uoe_session_compile_model_ex";
  return guarded(function, [&] {
    return compileInto(function, session,
                       source_is_file ? capi::SourceKind::ModelFile
                                      : capi::SourceKind::ModelText,
                       source, "source", batch, seq, out, flags);
  });
}

uoe_status_t *uoe_session_compile_mlir(uoe_session_t *session,
                                       const char *mlir_text,
                                       uoe_executable_t **out) {
  const char *function = "uoe_session_compile_mlir";
  return guarded(function, [&] {
    return compileInto(function, session, capi::SourceKind::MlirText, mlir_text,
                       "mlir_text", 0, 0, out);
  });
}

//===--- Executables -------------------------------------------------------===//

uoe_status_t *uoe_executable_load(const char *path,
                                  uoe_executable_t **out_executable) {
  return guarded("uoe_executable_load", [&]() -> rt::Status {
    UOE_CHECK_NOT_NULL("uoe_executable_load", path);
    UOE_CHECK_NOT_NULL("uoe_executable_load", out_executable);
    return newExecutable(rt::loadExecutable(path), out_executable);
  });
}

uoe_status_t *uoe_executable_load_bytes(const void *bytes, size_t size,
                                        uoe_executable_t **out_executable) {
  return guarded("uoe_executable_load_bytes", [&]() -> rt::Status {
    UOE_CHECK_NOT_NULL("uoe_executable_load_bytes", out_executable);
    if (!bytes && size > 0)
      return nullArgument("uoe_executable_load_bytes", "bytes");
    if (size > static_cast<size_t>(std::numeric_limits<int>::max()))
      return rt::outOfRangeError(
          strCat("uoe_executable_load_bytes: ", size,
                 " bytes is more than an Executable can hold"));
    return newExecutable(
        rt::parseExecutable(
            std::string_view(static_cast<const char *>(bytes), size),
            strCat("uoe_executable_load_bytes: the ", size, " bytes")),
        out_executable);
  });
}

uoe_status_t *uoe_executable_save(const uoe_executable_t *executable,
                                  const char *path) {
  return guarded("uoe_executable_save", [&]() -> rt::Status {
    UOE_CHECK_NOT_NULL("uoe_executable_save", executable);
    UOE_CHECK_NOT_NULL("uoe_executable_save", path);
    return rt::saveExecutable(path, executable->executable);
  });
}

void uoe_executable_free(uoe_executable_t *executable) { delete executable; }

uoe_status_t *uoe_executable_info(const uoe_executable_t *executable,
                                  uoe_executable_info_t *out_info) {
  return guarded("uoe_executable_info", [&]() -> rt::Status {
    UOE_CHECK_NOT_NULL("uoe_executable_info", executable);
    UOE_CHECK_NOT_NULL("uoe_executable_info", out_info);
    const rt::proto::Executable &e = executable->executable;
    out_info->target = e.target().c_str();
    out_info->model_name = e.model_name().c_str();
    out_info->compiler = e.compiler().c_str();
    out_info->cache_key = e.cache_key().c_str();
    out_info->num_entry_points = static_cast<size_t>(e.entry_points_size());
    return rt::okStatus();
  });
}

uoe_status_t *uoe_executable_entry_point_name(const uoe_executable_t *executable,
                                              size_t index,
                                              const char **out_name) {
  return guarded("uoe_executable_entry_point_name", [&]() -> rt::Status {
    UOE_CHECK_NOT_NULL("uoe_executable_entry_point_name", executable);
    UOE_CHECK_NOT_NULL("uoe_executable_entry_point_name", out_name);
    const rt::proto::Executable &e = executable->executable;
    if (index >= static_cast<size_t>(e.entry_points_size()))
      return rt::outOfRangeError(
          strCat("uoe_executable_entry_point_name: index ", index,
                 " but the executable has ", e.entry_points_size(),
                 " entry point(s)"));
    *out_name = e.entry_points(static_cast<int>(index)).name().c_str();
    return rt::okStatus();
  });
}

uoe_status_t *uoe_executable_tensor_count(const uoe_executable_t *executable,
                                          const char *entry,
                                          uoe_tensor_role_t role,
                                          size_t *out_count) {
  const char *function = "uoe_executable_tensor_count";
  return guarded(function, [&]() -> rt::Status {
    UOE_CHECK_NOT_NULL(function, executable);
    UOE_CHECK_NOT_NULL(function, entry);
    UOE_CHECK_NOT_NULL(function, out_count);
    UOE_ASSIGN_OR_RETURN(const rt::proto::EntryPoint *e,
                         entryPoint(executable, entry));
    const auto *tensors = tensorsOf(*e, role);
    if (!tensors)
      return unknownRole(function, role);
    *out_count = static_cast<size_t>(tensors->size());
    return rt::okStatus();
  });
}

uoe_status_t *uoe_executable_tensor_spec(const uoe_executable_t *executable,
                                         const char *entry,
                                         uoe_tensor_role_t role, size_t index,
                                         uoe_tensor_t *out_spec) {
  const char *function = "uoe_executable_tensor_spec";
  return guarded(function, [&]() -> rt::Status {
    UOE_CHECK_NOT_NULL(function, executable);
    UOE_CHECK_NOT_NULL(function, entry);
    UOE_CHECK_NOT_NULL(function, out_spec);
    UOE_ASSIGN_OR_RETURN(const rt::proto::EntryPoint *e,
                         entryPoint(executable, entry));
    const auto *tensors = tensorsOf(*e, role);
    if (!tensors)
      return unknownRole(function, role);
    if (index >= static_cast<size_t>(tensors->size()))
      return rt::outOfRangeError(strCat(
          function, ": index ", index, " but entry point '", entry, "' has ",
          tensors->size(),
          role == UOE_ROLE_INPUT       ? " input(s)"
          : role == UOE_ROLE_PARAMETER ? " parameter(s)"
                                       : " result(s)"));
    const rt::proto::TensorSpec &spec = tensors->Get(static_cast<int>(index));
    // validateExecutable has checked the dtype name.
    rt::DType dtype = rt::parseDTypeName(spec.dtype()).value_or(rt::DType::F32);
    out_spec->name = spec.name().c_str();
    out_spec->dtype = static_cast<uoe_dtype_t>(dtype);
    out_spec->rank = static_cast<size_t>(spec.shape_size());
    out_spec->shape = spec.shape().data();
    out_spec->data = nullptr;
    out_spec->memory = UOE_MEMORY_HOST;
    return rt::okStatus();
  });
}

//===--- Models ------------------------------------------------------------===//

uoe_status_t *uoe_model_create(uoe_session_t *session,
                               const uoe_executable_t *executable,
                               uoe_model_t **out_model) {
  const char *function = "uoe_model_create";
  return guarded(function, [&]() -> rt::Status {
    UOE_CHECK_NOT_NULL(function, session);
    UOE_CHECK_NOT_NULL(function, executable);
    UOE_CHECK_NOT_NULL(function, out_model);
    auto model = std::make_unique<uoe_model_t>();
    model->threads = session->threads;
    UOE_ASSIGN_OR_RETURN(model->loader, capi::newCpuObjectLoader());
    auto program = rt::loadProgram(executable->executable, *model->loader,
                                   session->device);
    if (!program.ok())
      return program.status().withContext(function);
    model->program = std::move(*program);
    *out_model = model.release();
    return rt::okStatus();
  });
}

void uoe_model_free(uoe_model_t *model) { delete model; }

uoe_status_t *uoe_model_bind_safetensors(uoe_model_t *model, const char *entry,
                                         const char *path) {
  const char *function = "uoe_model_bind_safetensors";
  return guarded(function, [&]() -> rt::Status {
    UOE_CHECK_NOT_NULL(function, model);
    UOE_CHECK_NOT_NULL(function, entry);
    UOE_CHECK_NOT_NULL(function, path);
    UOE_ASSIGN_OR_RETURN(rt::SafetensorsContents contents,
                         rt::readSafetensors(path));
    // A training checkpoint is also a weights file: its optimizer state
    // (`opt.*`) is dropped unless the entry point takes it (train_step).
    auto found = rt::findEntryPoint(model->program->executable(), entry);
    if (found.ok()) {
      std::set<std::string> taken;
      for (const rt::proto::TensorSpec &spec : (*found)->parameters())
        taken.insert(spec.name());
      for (auto it = contents.tensors.begin(); it != contents.tensors.end();)
        it = rt::isOptimizerTensorName(it->first) && !taken.count(it->first)
                 ? contents.tensors.erase(it)
                 : std::next(it);
    }
    return model->program->bindParameters(entry, std::move(contents.tensors))
        .withContext(path);
  });
}

uoe_status_t *uoe_model_bind_weights(uoe_model_t *model, const char *entry,
                                     const uoe_tensor_t *weights,
                                     size_t count) {
  const char *function = "uoe_model_bind_weights";
  return guarded(function, [&]() -> rt::Status {
    UOE_CHECK_NOT_NULL(function, model);
    UOE_CHECK_NOT_NULL(function, entry);
    if (count > 0 && !weights)
      return nullArgument(function, "weights");
    rt::NamedTensors tensors;
    for (size_t i = 0; i < count; ++i) {
      if (!weights[i].name)
        return rt::invalidArgumentError(
            strCat(function, ": weights[", i, "] has no name"));
      std::string what = strCat("weight '", weights[i].name, "'");
      if (tensors.count(weights[i].name))
        return rt::invalidArgumentError(
            strCat(function, ": ", what, " is given twice"));
      UOE_ASSIGN_OR_RETURN(rt::HostTensor tensor, copyIn(weights[i], what));
      tensors.emplace(weights[i].name, std::move(tensor));
    }
    return model->program->bindParameters(entry, std::move(tensors));
  });
}

uoe_status_t *uoe_model_run(uoe_model_t *model, const char *entry,
                            const uoe_tensor_t *inputs, size_t num_inputs,
                            const uoe_tensor_t *outputs, size_t num_outputs) {
  const char *function = "uoe_model_run";
  return guarded(function, [&]() -> rt::Status {
    UOE_CHECK_NOT_NULL(function, model);
    UOE_CHECK_NOT_NULL(function, entry);
    if (num_inputs > 0 && !inputs)
      return nullArgument(function, "inputs");
    if (num_outputs > 0 && !outputs)
      return nullArgument(function, "outputs");
    UOE_ASSIGN_OR_RETURN(
        const rt::proto::EntryPoint *e,
        rt::findEntryPoint(model->program->executable(), entry));

    // Outputs are checked before running, so that a wrong buffer costs no
    // run and leaves nothing half written.
    if (num_outputs != static_cast<size_t>(e->results_size()))
      return rt::invalidArgumentError(
          strCat("entry point '", entry, "' returns ", e->results_size(),
                 " result(s), but ", num_outputs, " output(s) were given"));
    for (size_t i = 0; i < num_outputs; ++i) {
      const rt::proto::TensorSpec &spec = e->results(static_cast<int>(i));
      std::string what = strCat("output ", i, " ('", spec.name(), "')");
      std::vector<int64_t> shape;
      int64_t numBytes = 0;
      UOE_RETURN_IF_ERROR(checkTensor(outputs[i], what, shape, numBytes));
      std::vector<int64_t> want(spec.shape().begin(), spec.shape().end());
      auto dtype = static_cast<rt::DType>(outputs[i].dtype);
      if (spec.dtype() != rt::dtypeName(dtype) || shape != want)
        return rt::invalidArgumentError(strCat(
            what, " must be ", spec.dtype(), " ", rt::shapeToString(want),
            ", but it is ", rt::dtypeName(dtype), " ",
            rt::shapeToString(shape)));
      if (!outputs[i].data)
        return rt::invalidArgumentError(strCat(what, " has NULL data"));
    }
    if (num_inputs != static_cast<size_t>(e->inputs_size()))
      return rt::invalidArgumentError(
          strCat("entry point '", entry, "' takes ", e->inputs_size(),
                 " input(s), but ", num_inputs, " were given"));
    std::vector<rt::HostTensor> hostInputs;
    for (size_t i = 0; i < num_inputs; ++i) {
      std::string what =
          strCat("input ", i, " ('", e->inputs(static_cast<int>(i)).name(), "')");
      UOE_ASSIGN_OR_RETURN(rt::HostTensor t, copyIn(inputs[i], what));
      hostInputs.push_back(std::move(t));
    }

    if (model->threads > 0)
      rt::setCpuThreads(model->threads);
    UOE_ASSIGN_OR_RETURN(std::vector<rt::HostTensor> results,
                         model->program->run(entry, hostInputs));
    if (results.size() != num_outputs)
      return rt::internalError(strCat("entry point '", entry, "' produced ",
                                      results.size(), " results, expected ",
                                      num_outputs));
    for (size_t i = 0; i < num_outputs; ++i)
      std::memcpy(outputs[i].data, results[i].rawData(),
                  results[i].sizeInBytes());
    return rt::okStatus();
  });
}

//===--- Key/value caches
//--------------------------------------------------===//

struct uoe_kv_cache {
  std::unique_ptr<rt::KvCache> cache;
};

uoe_status_t *uoe_kv_cache_create(int64_t layers, int64_t batch,
                                  int64_t capacity, int64_t width,
                                  uoe_kv_cache_t **out_cache) {
  const char *function = "uoe_kv_cache_create";
  return guarded(function, [&]() -> rt::Status {
    UOE_CHECK_NOT_NULL(function, out_cache);
    UOE_ASSIGN_OR_RETURN(std::unique_ptr<rt::KvCache> cache,
                         rt::KvCache::create(layers, batch, capacity, width));
    *out_cache = new uoe_kv_cache_t{std::move(cache)};
    return rt::okStatus();
  });
}

void uoe_kv_cache_free(uoe_kv_cache_t *cache) { delete cache; }

int64_t uoe_kv_cache_handle(const uoe_kv_cache_t *cache) {
  return cache ? cache->cache->address() : 0;
}
