/*===- capi_example.c - compiling and running a model from C --------------===*
 *
 *   uoe-capi-example MODEL.pbtxt OUT.uoex
 *
 * The C API (include/uoe-c/uoe.h) end to end, in C99: create a session,
 * compile a model description for hidden states [2, 16, d_model], list what
 * the entry point `forward` takes, initialise every weight in memory and
 * bind it, run `forward` on deterministic inputs into our own buffer and
 * print a checksum; then save the Executable, load it back, run it again and
 * check that the output is bit for bit the same. docs/EMBEDDING.md walks
 * through it; test/e2e/capi-example.test runs it on
 * examples/uoe_layer.pbtxt.
 *
 *===----------------------------------------------------------------------===*/

#include "uoe-c/uoe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Ends the program with the message of a failed call. */
static void check(uoe_status_t *status, const char *what) {
  if (!status)
    return;
  fprintf(stderr, "uoe-capi-example: %s failed: %s: %s\n", what,
          uoe_status_code_name(uoe_status_code(status)),
          uoe_status_message(status));
  uoe_status_free(status);
  exit(1);
}

/* A small deterministic generator: uniform in [-scale, scale). */
static float next_uniform(uint64_t *state, float scale) {
  *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
  return scale * ((float)(*state >> 40) / (float)(1 << 24) * 2.0f - 1.0f);
}

static size_t num_elements(const uoe_tensor_t *t) {
  size_t n = 1, i;
  for (i = 0; i < t->rank; ++i)
    n *= (size_t)t->shape[i];
  return n;
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Binds weights for every parameter of `forward`: norm weights 1, the rest
 * uniform in [-0.1, 0.1). The library copies them, so we free ours. */
static void bind_weights(uoe_model_t *model, const uoe_executable_t *exe) {
  size_t count = 0, i, j;
  uoe_tensor_t *weights;
  uint64_t state = 42;
  check(uoe_executable_tensor_count(exe, "forward", UOE_ROLE_PARAMETER, &count),
        "counting parameters");
  weights = calloc(count, sizeof(uoe_tensor_t));
  for (i = 0; i < count; ++i) {
    float *data;
    size_t n;
    int is_norm;
    check(uoe_executable_tensor_spec(exe, "forward", UOE_ROLE_PARAMETER, i,
                                     &weights[i]),
          "reading a parameter");
    n = num_elements(&weights[i]);
    data = malloc(n * sizeof(float) + 1);
    is_norm = strstr(weights[i].name, "norm") && ends_with(weights[i].name, ".weight");
    for (j = 0; j < n; ++j)
      data[j] = is_norm ? 1.0f : next_uniform(&state, 0.1f);
    weights[i].data = data;
  }
  check(uoe_model_bind_weights(model, "forward", weights, count),
        "binding weights");
  printf("bound %u weights\n", (unsigned)count);
  for (i = 0; i < count; ++i)
    free(weights[i].data);
  free(weights);
}

/* Runs `forward` of `exe` on `input` into `output` (its spec has been read
 * into `output` by the caller, data set). */
static void run_forward(uoe_session_t *session, const uoe_executable_t *exe,
                        const uoe_tensor_t *input, const uoe_tensor_t *output) {
  uoe_model_t *model = NULL;
  check(uoe_model_create(session, exe, &model), "loading the model");
  bind_weights(model, exe);
  check(uoe_model_run(model, "forward", input, 1, output, 1), "running forward");
  uoe_model_free(model);
}

int main(int argc, char **argv) {
  uoe_session_options_t options;
  uoe_session_t *session = NULL;
  uoe_executable_t *exe = NULL, *reloaded = NULL;
  uoe_executable_info_t info;
  uoe_tensor_t input, output, output2;
  size_t i, n;
  uint64_t state = 7;
  double sum = 0.0, abs_sum = 0.0;

  if (argc != 3) {
    fprintf(stderr, "usage: uoe-capi-example MODEL.pbtxt OUT.uoex\n");
    return 2;
  }
  printf("uoe C API %d\n", uoe_api_version());

  uoe_session_options_init(&options);
  options.device = "cpu";
  options.threads = 2;
  check(uoe_session_create(&options, &session), "creating the session");
  check(uoe_session_compile_model_file(session, argv[1], 2, 16, &exe),
        "compiling");
  check(uoe_executable_info(exe, &info), "reading the executable");
  printf("compiled '%s' with %u entry point(s)\n", info.model_name,
         (unsigned)info.num_entry_points);

  /* The input: hidden states as `forward` declares them. */
  check(uoe_executable_tensor_spec(exe, "forward", UOE_ROLE_INPUT, 0, &input),
        "reading the input spec");
  n = num_elements(&input);
  input.data = malloc(n * sizeof(float));
  for (i = 0; i < n; ++i)
    ((float *)input.data)[i] = next_uniform(&state, 1.0f);

  /* The output goes into our buffer, of the size its spec says. */
  check(uoe_executable_tensor_spec(exe, "forward", UOE_ROLE_RESULT, 0, &output),
        "reading the result spec");
  n = num_elements(&output);
  output.data = malloc(n * sizeof(float));
  run_forward(session, exe, &input, &output);
  printf("output '%s': %s [", output.name, uoe_dtype_name(output.dtype));
  for (i = 0; i < output.rank; ++i)
    printf(i ? ", %lld" : "%lld", (long long)output.shape[i]);
  printf("]\n");
  for (i = 0; i < n; ++i) {
    double v = ((const float *)output.data)[i];
    sum += v;
    abs_sum += v < 0 ? -v : v;
  }
  printf("checksum: sum %.4f, sum of |y| %.4f\n", sum, abs_sum);

  /* Save, load, run again: the same bits. */
  check(uoe_executable_save(exe, argv[2]), "saving");
  check(uoe_executable_load(argv[2], &reloaded), "loading");
  output2 = output;
  output2.data = malloc(n * sizeof(float));
  run_forward(session, reloaded, &input, &output2);
  if (memcmp(output.data, output2.data, n * sizeof(float)) != 0) {
    fprintf(stderr, "uoe-capi-example: the reloaded executable differs\n");
    return 1;
  }
  printf("reloaded %s: identical output\n", argv[2]);

  free(output2.data);
  free(output.data);
  free(input.data);
  uoe_executable_free(reloaded);
  uoe_executable_free(exe);
  uoe_session_free(session);
  return 0;
}
