/*===- uoe.h - the uoe C API -----------------------------------------------===*
 *
 * Embedding the uoe compiler and runtime from C (C99) or any language with a
 * C foreign-function interface. One header; the library is `libuoe_c.so`
 * (or the static `UoECApi` CMake target).
 *
 *   uoe_session_t     options shared by compilations and runs: device,
 *                     threads, compiled-model cache directory.
 *   uoe_executable_t  a compiled model (formats/executable.proto): entry
 *                     points with their inputs, parameters and results.
 *                     Compiled from a model description or `uoe` MLIR text,
 *                     or loaded from a `.uoex` file; saved to one.
 *   uoe_model_t       an Executable loaded for the session's device with its
 *                     weights bound: ready to run entry points (`forward`,
 *                     and `train_step` where compiled) on caller buffers.
 *   uoe_status_t      the outcome of every call: NULL for success, else an
 *                     error code and a message naming the problem.
 *
 * Errors. Every function that can fail returns a `uoe_status_t *`: NULL on
 * success, otherwise a status the CALLER owns and releases with
 * uoe_status_free(). Bad input (null pointers, unknown names, wrong dtypes or
 * shapes, corrupt files) is reported this way; the library never aborts or
 * throws on it. On failure, out-parameters are left unchanged (an `out_x`
 * handle stays whatever the caller set it to, typically NULL).
 *
 * Ownership. Every handle returned through an `out_x` parameter belongs to
 * the caller, who releases it with the matching uoe_<object>_free() (which
 * accepts NULL). Strings and shape arrays returned by the introspection
 * functions belong to the handle they came from and stay valid until it is
 * freed. Pointers the caller passes in are only read during the call, unless
 * a function says otherwise (none keeps them: weights and inputs are copied).
 *
 * Threads. A session may be used from several threads at once (compilations
 * run concurrently; each has its own MLIR context). An executable is
 * immutable once created: any number of threads may read it, save it and
 * create models from it concurrently. A model may be run from one thread at
 * a time; distinct models may run concurrently. Freeing a handle while
 * another thread uses it is undefined. A session must outlive the models
 * created with it; executables do not depend on their session.
 *
 * Versioning. UOE_C_API_VERSION is the version of this header; the library
 * reports its own through uoe_api_version(). Functions are only ever added
 * within a major version, and option structs carry the version they were
 * initialised for (uoe_session_options_init), so that a newer library can
 * read an older caller's struct.
 *
 *===----------------------------------------------------------------------===*/

#ifndef UOE_C_UOE_H
#define UOE_C_UOE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define UOE_C_EXPORT __attribute__((visibility("default")))
#else
#define UOE_C_EXPORT
#endif

/* The version of this header: major * 10000 + minor * 100 + patch. */
#define UOE_C_API_VERSION 103 /* 0.1.3 */

/* The version of the library linked in (UOE_C_API_VERSION of its header). */
UOE_C_EXPORT int uoe_api_version(void);

/*===--- Status -------------------------------------------------------------===*/

/* What went wrong, coarsely; the message says exactly what. The values match
 * the runtime's StatusCode (support/Status.h). */
typedef enum uoe_status_code_t {
  UOE_OK = 0,
  UOE_INVALID_ARGUMENT = 1,    /* the caller passed something malformed */
  UOE_NOT_FOUND = 2,           /* a named thing (file, entry, tensor) is missing */
  UOE_OUT_OF_RANGE = 3,        /* a size or value cannot be represented */
  UOE_DATA_LOSS = 4,           /* a file is corrupt or truncated */
  UOE_UNIMPLEMENTED = 5,       /* valid, but not supported by this build */
  UOE_INTERNAL = 6,            /* a bug in uoe */
  UOE_UNAVAILABLE = 7,         /* a resource (e.g. a CUDA device) is missing */
  UOE_FAILED_PRECONDITION = 8, /* e.g. running before weights are bound */
  UOE_IO_ERROR = 9             /* the operating system refused a read/write */
} uoe_status_code_t;

/* An error: a code and a message. Opaque; NULL means success. */
typedef struct uoe_status uoe_status_t;

/* The code of `status`; UOE_OK for NULL. */
UOE_C_EXPORT uoe_status_code_t uoe_status_code(const uoe_status_t *status);
/* The message of `status` (UTF-8, never NULL; "" for NULL), e.g.
 * "input 'hidden' must be f32 [2, 16, 64], but it is f32 [2, 8, 64]". Valid
 * until the status is freed. */
UOE_C_EXPORT const char *uoe_status_message(const uoe_status_t *status);
/* The lower-case name of `code`, e.g. "invalid argument". Never NULL. */
UOE_C_EXPORT const char *uoe_status_code_name(uoe_status_code_t code);
/* Releases `status`; NULL is fine. */
UOE_C_EXPORT void uoe_status_free(uoe_status_t *status);

/*===--- Element types and tensors -------------------------------------------===*/

/* Element types (support/DType.h). Values are little-endian; f16 and bf16 are
 * 16-bit patterns; bool is one byte, 0 or 1. */
typedef enum uoe_dtype_t {
  UOE_DTYPE_F32 = 0,
  UOE_DTYPE_F16 = 1,
  UOE_DTYPE_BF16 = 2,
  UOE_DTYPE_F64 = 3,
  UOE_DTYPE_I64 = 4,
  UOE_DTYPE_I32 = 5,
  UOE_DTYPE_I8 = 6,
  UOE_DTYPE_U8 = 7,
  UOE_DTYPE_BOOL = 8
} uoe_dtype_t;

/* "f32", "i64", ...; "?" for a value outside the enum. Never NULL. */
UOE_C_EXPORT const char *uoe_dtype_name(uoe_dtype_t dtype);
/* The size of one element in bytes; 0 for a value outside the enum. */
UOE_C_EXPORT size_t uoe_dtype_size(uoe_dtype_t dtype);

/* Where a tensor's bytes are. Device memory (a CUdeviceptr cast to void *)
 * is not accepted yet, on either device (UNIMPLEMENTED): the `cuda` device
 * takes host tensors and copies them into its managed memory. */
typedef enum uoe_memory_t { UOE_MEMORY_HOST = 0, UOE_MEMORY_DEVICE = 1 } uoe_memory_t;

/* A dense row-major (C order) tensor in caller memory. `shape` points to
 * `rank` dimensions (may be NULL when rank is 0); `data` to the product of
 * the dimensions times uoe_dtype_size(dtype) bytes, in `memory`. The name is
 * only used where a function says so (weights); may be NULL elsewhere. */
typedef struct uoe_tensor_t {
  const char *name;
  uoe_dtype_t dtype;
  size_t rank;
  const int64_t *shape;
  void *data;
  uoe_memory_t memory;
} uoe_tensor_t;

/*===--- Session ------------------------------------------------------------===*/

typedef struct uoe_session uoe_session_t;

/* Session options. Initialise with uoe_session_options_init, then set the
 * fields you need. */
typedef struct uoe_session_options_t {
  /* Set by uoe_session_options_init to UOE_C_API_VERSION; leave it. */
  int api_version;
  /* "cpu" (the default when NULL), "cuda" (the first GPU) or "cuda:<N>":
   * models are compiled for that GPU's compute capability and run there.
   * Without a GPU (or driver) a cuda device is UNAVAILABLE ("no CUDA device
   * found: <reason>"); an unknown name or ordinal is INVALID_ARGUMENT. */
  const char *device;
  /* CPU threads for GEMMs and parallel loops of this session's models,
   * applied on the calling thread of every run; 0 (default) means one per
   * core. Negative is INVALID_ARGUMENT. */
  int threads;
  /* Directory of the compiled-model cache (created on first write), or NULL
   * (default) for no cache. Entries are `<key>.uoex`, keyed by the resolved
   * description, the input shape, the target CPU and the compiler version
   * (the same keys as `uoe-run --cache-dir`); MLIR text is keyed by its
   * text. An unreadable entry is ignored and replaced. */
  const char *cache_dir;
} uoe_session_options_t;

/* Fills `options` with the defaults (device "cpu", threads 0, no cache). */
UOE_C_EXPORT void uoe_session_options_init(uoe_session_options_t *options);

/* Creates a session. `options` may be NULL for the defaults; its strings are
 * copied. */
UOE_C_EXPORT uoe_status_t *uoe_session_create(const uoe_session_options_t *options,
                                              uoe_session_t **out_session);
/* Releases `session` (NULL is fine). Its models must be freed first. */
UOE_C_EXPORT void uoe_session_free(uoe_session_t *session);

/*===--- Compiling ----------------------------------------------------------===*/

typedef struct uoe_executable uoe_executable_t;

/* Compiles a model description (Protobuf text, frontend/model.proto;
 * docs/MODEL_FORMAT.md) for inputs of `batch` sequences of `seq` tokens.
 * The Executable has one entry point, `forward`, taking token ids i64
 * [batch, seq] (models with an embedding) or hidden states f32
 * [batch, seq, d_model], with the model's weights as parameters. Errors name
 * the line and column or the field. Uses the session's cache. In a
 * runtime-only build: UNIMPLEMENTED. */
UOE_C_EXPORT uoe_status_t *
uoe_session_compile_model_text(uoe_session_t *session, const char *text,
                               int64_t batch, int64_t seq,
                               uoe_executable_t **out_executable);
/* As uoe_session_compile_model_text, reading the description from `path`. */
UOE_C_EXPORT uoe_status_t *
uoe_session_compile_model_file(uoe_session_t *session, const char *path,
                               int64_t batch, int64_t seq,
                               uoe_executable_t **out_executable);
/* Flags of uoe_session_compile_model_ex (bitwise or). */
/* Also compile the entry point `forward_grad`, the vector-Jacobian product
 * of `forward` (compiled gradients, `--uoe-autodiff`): it takes forward's
 * inputs, then `d_<result>` (the gradient of a scalar objective with respect
 * to forward's result, of its type), then the parameters, and returns
 * forward's result followed by `d_<name>` for every float input and every
 * parameter (zeros where the result does not depend on it, e.g. a router in
 * union mode). */
#define UOE_COMPILE_GRADIENTS 0x1u
/* Compute every GEMM on bf16 operands with f32 sums (AMX or AVX512-BF16
 * where the CPU has them); everything else stays f32 (`uoe-run --precision
 * bf16`). CPU sessions only: with a cuda device, INVALID_ARGUMENT. Since
 * 0.1.2. */
#define UOE_COMPILE_BF16 0x2u
/* Compile incremental decoding instead of `forward` (docs/SPEC.md,
 * "Decoding"): the entry points `prefill` (`seq` tokens per sequence) and
 * `decode_step` (one), each taking token ids i64 [batch, T], `start` i64
 * [batch] (the position of each sequence's first new token), `last` i64
 * [batch] (whose logits to return, in [0, T)) and `kv_cache` i64 [] (the
 * value of uoe_kv_cache_handle), and returning the logits f32 [batch,
 * vocab] of token `last[b]` of every sequence. A language model whose
 * attention is dense and causal and whose MLPs route each token alone;
 * others are INVALID_ARGUMENT naming the field. CPU sessions only, not with
 * UOE_COMPILE_GRADIENTS. Since 0.1.3. */
#define UOE_COMPILE_DECODING 0x4u
/* As uoe_session_compile_model_text (`source_is_file` = 0) or
 * uoe_session_compile_model_file (non-zero), with `flags`
 * (UOE_COMPILE_GRADIENTS, UOE_COMPILE_BF16, UOE_COMPILE_DECODING). Unknown
 * flags are INVALID_ARGUMENT. Since 0.1.1. */
UOE_C_EXPORT uoe_status_t *
uoe_session_compile_model_ex(uoe_session_t *session, const char *source,
                             int source_is_file, int64_t batch, int64_t seq,
                             uint32_t flags, uoe_executable_t **out_executable);
/* Compiles a module of `uoe` (and upstream tensor-level) MLIR text. Every
 * public `func.func` carrying `llvm.emit_c_interface` becomes an entry point
 * of its name. Its arguments are static-shaped tensors of f32, f64, i64 or
 * i32: those with `uoe.param = "<name>"` are parameters (bound as weights),
 * the others inputs (named by `uoe.input = "<name>"`, else "arg<i>"), and
 * every input must come before every parameter. Results are named by
 * `uoe.result`, else "result<i>". Errors carry the MLIR diagnostics. */
UOE_C_EXPORT uoe_status_t *
uoe_session_compile_mlir(uoe_session_t *session, const char *mlir_text,
                         uoe_executable_t **out_executable);

/*===--- Executables --------------------------------------------------------===*/

/* Reads and validates a `.uoex` file (NOT_FOUND, IO_ERROR, DATA_LOSS). */
UOE_C_EXPORT uoe_status_t *uoe_executable_load(const char *path,
                                               uoe_executable_t **out_executable);
/* Reads and validates an Executable from `size` bytes at `bytes`. */
UOE_C_EXPORT uoe_status_t *
uoe_executable_load_bytes(const void *bytes, size_t size,
                          uoe_executable_t **out_executable);
/* Writes `executable` to `path` atomically (no half-written file). */
UOE_C_EXPORT uoe_status_t *uoe_executable_save(const uoe_executable_t *executable,
                                               const char *path);
/* Releases `executable` (NULL is fine). Models created from it stay valid. */
UOE_C_EXPORT void uoe_executable_free(uoe_executable_t *executable);

/* What an Executable says about itself; strings owned by the executable. */
typedef struct uoe_executable_info_t {
  const char *target;     /* "cpu:<triple>:<cpu>:<features digest>" */
  const char *model_name; /* the description's name, or "" */
  const char *compiler;   /* the compiler version, e.g. "uoe 0.1" */
  const char *cache_key;  /* see uoe_session_options_t.cache_dir */
  size_t num_entry_points;
} uoe_executable_info_t;

UOE_C_EXPORT uoe_status_t *
uoe_executable_info(const uoe_executable_t *executable,
                    uoe_executable_info_t *out_info);
/* The name of entry point `index` (< num_entry_points), e.g. "forward". */
UOE_C_EXPORT uoe_status_t *
uoe_executable_entry_point_name(const uoe_executable_t *executable, size_t index,
                                const char **out_name);

/* The three lists of tensors of an entry point, in calling order. */
typedef enum uoe_tensor_role_t {
  UOE_ROLE_INPUT = 0,
  UOE_ROLE_PARAMETER = 1,
  UOE_ROLE_RESULT = 2
} uoe_tensor_role_t;

/* The number of inputs, parameters or results of entry point `entry`
 * (NOT_FOUND listing the entry points there are). */
UOE_C_EXPORT uoe_status_t *
uoe_executable_tensor_count(const uoe_executable_t *executable,
                            const char *entry, uoe_tensor_role_t role,
                            size_t *out_count);
/* The spec of tensor `index` of `role` of `entry`: name, dtype, rank and
 * shape (owned by the executable; `data` is NULL, memory HOST). */
UOE_C_EXPORT uoe_status_t *
uoe_executable_tensor_spec(const uoe_executable_t *executable,
                           const char *entry, uoe_tensor_role_t role,
                           size_t index, uoe_tensor_t *out_spec);

/*===--- Models: load, bind, run ---------------------------------------------===*/

typedef struct uoe_model uoe_model_t;

/* Loads the code of `executable` for the session's device (the executable is
 * copied and may be freed afterwards). Errors: an executable compiled for
 * another device (FAILED_PRECONDITION: a cpu one on a cuda session, a cuda
 * one on a cpu session or for a newer GPU), code the loader rejects. In a runtime-only build (no LLVM), CPU object
 * code is linked by the runtime's own ELF loader (runtime/ElfObjectLoader.h)
 * and runs as in the compiler build. */
UOE_C_EXPORT uoe_status_t *uoe_model_create(uoe_session_t *session,
                                            const uoe_executable_t *executable,
                                            uoe_model_t **out_model);
/* Releases `model` (NULL is fine). */
UOE_C_EXPORT void uoe_model_free(uoe_model_t *model);

/* Binds the weights of entry point `entry` from a safetensors file: every
 * parameter present with its shape, no other tensor (errors name the tensor
 * and the shapes). f32, f16, bf16 and f64 tensors are converted to f32.
 * Optimizer-state tensors (`opt.*`) that the entry point does not take are
 * ignored, so a training checkpoint (docs/TRAINING.md) binds as weights.
 * Replaces weights bound before; on error the previous binding stays.
 * Entry points with the same parameters (names and shapes in order:
 * forward and forward_grad, prefill and decode_step) share one binding:
 * binding either binds both, and the weights are held once. */
UOE_C_EXPORT uoe_status_t *uoe_model_bind_safetensors(uoe_model_t *model,
                                                      const char *entry,
                                                      const char *path);
/* As uoe_model_bind_safetensors, from `count` named tensors in caller host
 * memory (`name` required, unique). The bytes are COPIED (and converted to
 * f32) during the call; the caller may reuse or free them afterwards. */
UOE_C_EXPORT uoe_status_t *uoe_model_bind_weights(uoe_model_t *model,
                                                  const char *entry,
                                                  const uoe_tensor_t *weights,
                                                  size_t count);

/* Runs entry point `entry` on `num_inputs` inputs (in the entry point's
 * order, each with exactly its dtype and shape) and writes its
 * `num_outputs` results (all of them, in order) into caller-provided
 * buffers: each `outputs[i]` must have the result's dtype and shape and a
 * non-NULL `data` of that size, which the call overwrites. Names in inputs
 * and outputs are ignored. Inputs are only read. On error no output is
 * written. FAILED_PRECONDITION when the entry point has parameters and no
 * weights are bound. */
UOE_C_EXPORT uoe_status_t *uoe_model_run(uoe_model_t *model, const char *entry,
                                         const uoe_tensor_t *inputs,
                                         size_t num_inputs,
                                         const uoe_tensor_t *outputs,
                                         size_t num_outputs);

/*===--- Key/value caches (decoding) ----------------------------------------===*/

typedef struct uoe_kv_cache uoe_kv_cache_t;

/* A key/value cache for UOE_COMPILE_DECODING's entry points: `layers` (the
 * model's attention layers), `batch` sequences (at most the compiled
 * batch) of up to `capacity` positions (the longest prompt plus generated
 * tokens), `width` = d_model. Its memory is allocated here (UNAVAILABLE
 * when there is not enough); a step's cost depends on the positions it
 * reads, not on `capacity`. Not thread-safe: one run at a time may use it.
 * Since 0.1.3. */
UOE_C_EXPORT uoe_status_t *uoe_kv_cache_create(int64_t layers, int64_t batch,
                                               int64_t capacity, int64_t width,
                                               uoe_kv_cache_t **out_cache);
/* Releases `cache` (NULL is fine). Since 0.1.3. */
UOE_C_EXPORT void uoe_kv_cache_free(uoe_kv_cache_t *cache);
/* The value of the `kv_cache` input (an i64 tensor of shape []) that names
 * `cache`. A run with a value that names no live cache, a position past
 * its capacity or sizes that do not fit fails with INVALID_ARGUMENT and
 * leaves the cache unchanged. Since 0.1.3. */
UOE_C_EXPORT int64_t uoe_kv_cache_handle(const uoe_kv_cache_t *cache);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* UOE_C_UOE_H */
