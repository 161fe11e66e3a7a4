/* The C half of the consumer: it knows the program only by name ("scaled_add", registered by
 * scaled_add.cc) and calls it through the C ABI on its own arrays, as C, Rust or Go code would. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tilescale/capi.h"

/* Before anything is registered: no names, and ts_program_create says so. 0 when that holds. */
int c_sees_no_program(void) {
  if (strcmp(ts_program_names(), "") != 0) {
    printf("from C: programs already registered: %s\n", ts_program_names());
    return 1;
  }
  if (ts_program_create("scaled_add", "", "cpu") != NULL ||
      strstr(ts_last_error(), "because no program is registered") == NULL) {
    printf("from C: unexpected error: %s\n", ts_last_error());
    return 1;
  }
  return 0;
}

/* scaled_add at N=1000 on the CPU backend: C = A + 2 B, checked element by element. 0 when right. */
int c_calls_scaled_add(void) {
  enum { N = 1000 };
  static float a[N], b[N], c[N];
  ts_kernel* k = ts_program_create("scaled_add", "N=1000", "cpu");
  if (!k) {
    printf("from C: ts_program_create failed: %s\n", ts_last_error());
    return 1;
  }
  if (ts_kernel_num_params(k) != 3 || ts_kernel_param_dim(k, 2, 0) != N) {
    printf("from C: unexpected parameters for %s\n", ts_kernel_describe(k));
    ts_kernel_destroy(k);
    return 1;
  }
  for (int i = 0; i < N; ++i) a[i] = (float)i, b[i] = 0.25f * (float)i, c[i] = NAN;
  void* args[3] = {a, b, c};
  const int rc = ts_kernel_call(k, args, 3, NULL);
  ts_kernel_destroy(k);
  if (rc != 0) {
    printf("from C: ts_kernel_call failed: %s\n", ts_last_error());
    return 1;
  }
  for (int i = 0; i < N; ++i)
    if (c[i] != a[i] + 2.0f * b[i]) {
      printf("from C: element %d is %g, expected %g\n", i, c[i], a[i] + 2.0f * b[i]);
      return 1;
    }
  return 0;
}
