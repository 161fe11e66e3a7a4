/* libtilescale_capi.so as ctypes loads it, from C and linked with nothing else of tilescale: it
 * exports the C ABI, has the built-in examples registered as programs when loaded, and a kernel it
 * compiles runs on host pointers (CPU backend). Prints "capi_shared_library: ok" and exits 0. */
#include <stdio.h>
#include <string.h>

#include "tilescale/capi.h"

#define CHECK(cond, ...)                                   \
  do {                                                     \
    if (!(cond)) {                                         \
      printf("capi_shared_library: %s failed: ", #cond);   \
      printf(__VA_ARGS__);                                 \
      printf("\n");                                        \
      return 1;                                            \
    }                                                      \
  } while (0)

int main(void) {
  const char* names = ts_program_names();
  CHECK(strstr(names, "elementwise_add,flash_attention,gemm") != NULL, "names: %s", names);

  CHECK(ts_program_create("no_such_program", "", "cpu") == NULL, "a kernel for an unknown name");
  CHECK(strstr(ts_last_error(), "no program of that name is registered; use one of: elementwise_add") != NULL,
        "error: %s", ts_last_error());

  /* masked_scale: B = A * scale in the first valid_len columns, 0 in the others. */
  ts_kernel* k = ts_program_create("masked_scale", "M=2,N=5", "cpu");
  CHECK(k != NULL, "%s", ts_last_error());
  CHECK(strcmp(ts_kernel_describe(k), "masked_scale [M=2 N=5] on cpu") == 0, "%s", ts_kernel_describe(k));
  float a[10], b[10];
  for (int i = 0; i < 10; ++i) a[i] = (float)i, b[i] = -1.0f;
  int valid_len = 3;
  float scale = 2.0f;
  void* args[4] = {a, b, &valid_len, &scale};
  CHECK(ts_kernel_call(k, args, 4, NULL) == 0, "%s", ts_last_error());
  for (int i = 0; i < 10; ++i) CHECK(b[i] == (i % 5 < 3 ? 2.0f * (float)i : 0.0f), "b[%d] = %g", i, b[i]);
  ts_kernel_destroy(k);
  printf("capi_shared_library: ok\n");
  return 0;
}
