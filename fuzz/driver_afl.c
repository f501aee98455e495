/* AFL++ persistent-mode driver: one fork-server child runs up to 100000 inputs from shared
 * memory through the harness named by EVC_FUZZ_TARGET. It adds nothing else to the loop:
 * every check lives in the harness, which must leave no state behind between inputs. */
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include "fuzz/fuzz.h"

#ifndef __AFL_FUZZ_TESTCASE_LEN
#error "driver_afl.c needs CC=afl-clang-fast (see docs/fuzzing.md)"
#endif
#ifndef EVC_FUZZ_TARGET
#error "define EVC_FUZZ_TARGET to the harness function, e.g. evc_fuzz_codec"
#endif

__AFL_FUZZ_INIT();

int main(void) {
  /* Deferred initialisation: one empty input warms the harness' lazy set-up (libsodium, the
   * fixed key and genesis) in the fork server, so no child pays for it. */
  static const uint8_t empty[1];
  EVC_FUZZ_TARGET(empty, 0);
  __AFL_INIT();
  const uint8_t *buf = __AFL_FUZZ_TESTCASE_BUF;
  while (__AFL_LOOP(100000)) {
    size_t size = (size_t)__AFL_FUZZ_TESTCASE_LEN;
    EVC_FUZZ_TARGET(buf, size);
  }
  return 0;
}
