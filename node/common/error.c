/* Names and messages for the EVC_E* codes, generated from the one X-macro list. */
#include "node/common/error.h"

#include <stdarg.h>
#include <stdio.h>

#include "node/common/assert.h"

const char *evc_strerror(int code) {
  switch (code) {
  case EVC_OK:
    return "success";
#define EVC_ERROR_TEXT(name, value, text) \
  case EVC_##name:                        \
    return text;
    EVC_ERRORS(EVC_ERROR_TEXT)
#undef EVC_ERROR_TEXT
  default:
    return "unknown error";
  }
}

const char *evc_errname(int code) {
  switch (code) {
  case EVC_OK:
    return "EVC_OK";
#define EVC_ERROR_NAME(name, value, text) \
  case EVC_##name:                        \
    return "EVC_" #name;
    EVC_ERRORS(EVC_ERROR_NAME)
#undef EVC_ERROR_NAME
  default:
    return "EVC_UNKNOWN";
  }
}

int evc_errorf(char *err, size_t err_size, int code, const char *fmt, ...) {
  EVC_ASSERT(code < 0);
  if (err != NULL && err_size > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
  }
  return code;
}
