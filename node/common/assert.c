/* The one place an assertion failure is reported. It writes with write(2)-free stdio
 * only after the fact; the process is already lost, so determinism does not matter here. */
#include "node/common/assert.h"

#include <stdio.h>
#include <stdlib.h>

_Noreturn void evc_assert_fail(const char *expr, const char *file, int line) {
  fprintf(stderr, "evc: assertion failed: %s (%s:%d)\n", expr, file, line);
  fflush(stderr);
  abort();
}
