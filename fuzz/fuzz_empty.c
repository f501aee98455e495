/* The empty harness: the baseline for execs/s, so each real harness' cost can be read as
 * "driver plus this much". It must stay empty. */
#include "fuzz/fuzz.h"

int evc_fuzz_empty(const uint8_t *data, size_t size) {
  /* One read keeps the input "used" without adding branches AFL++ could learn from. */
  volatile uint8_t first = size > 0 ? data[0] : 0;
  (void)first;
  return 0;
}
