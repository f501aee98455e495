/* Error codes for every evc module: 0 is success, failures are negative EVC_E* codes.
 * The list is one X-macro so that a code can never lack a name or a message. */
#ifndef EVC_COMMON_ERROR_H
#define EVC_COMMON_ERROR_H

#include <stddef.h>

#define EVC_ERRORS(X)                                                        \
  X(EINVAL, -1, "invalid argument")                                          \
  X(ENOMEM, -2, "out of memory")                                             \
  X(EDECODE, -3, "malformed encoding")                                       \
  X(ETRUNC, -4, "truncated input")                                           \
  X(ETRAILING, -5, "trailing bytes after a complete value")                  \
  X(ETOOBIG, -6, "value exceeds its size limit")                             \
  X(EVERSION, -7, "unknown version")                                         \
  X(ENONCANON, -8, "non-canonical encoding")                                 \
  X(ESIG, -9, "bad signature")                                               \
  X(EIO, -10, "i/o error")                                                   \
  X(ECORRUPT, -11, "corrupted data")                                         \
  X(ENOTFOUND, -12, "not found")                                             \
  X(EEXIST, -13, "already exists")                                           \
  X(ECONFLICT, -14, "conflicting value")                                     \
  X(EFULL, -15, "queue or buffer full")                                      \
  X(ETIMEDOUT, -16, "timed out")                                             \
  X(ESTOPPED, -17, "stopped")                                                \
  X(ESTATE, -18, "operation not valid in the current state")                 \
  X(EFOREIGN, -19, "foreign database or file")                               \
  X(ESCHEMA, -20, "unsupported schema version")                              \
  X(EVALIDATE, -21, "block failed validation")                               \
  X(EAGAIN, -22, "temporarily unavailable, try again")                       \
  X(ENOSYS, -23, "not implemented in this build")                            \
  X(ECHAIN, -24, "block does not extend the chain")                          \
  X(EAPPHASH, -25, "app hash mismatch")                                      \
  X(ECONFIG, -26, "invalid configuration")                                   \
  X(EPERM, -27, "permission denied")                                         \
  X(ERANGE, -28, "value out of range")                                       \
  X(ESIGNSTATE, -29, "sign state refuses this signature")                    \
  X(EPEER, -30, "peer misbehaved")                                           \
  X(EDA, -31, "data-availability layer error")                               \
  X(EFAILED, -32, "node is in the failed state")                            \
  X(EFUTURE, -33, "height is from the future")                               \
  X(ECLOSED, -34, "connection closed")

enum evc_error {
  EVC_OK = 0,
#define EVC_ERROR_ENUM(name, value, text) EVC_##name = (value),
  EVC_ERRORS(EVC_ERROR_ENUM)
#undef EVC_ERROR_ENUM
};

/* Returns a static message for an error code ("unknown error -N" codes share one text). */
const char *evc_strerror(int code);
/* Returns the symbolic name of an error code, e.g. "EVC_EDECODE". */
const char *evc_errname(int code);

/* Formats a message into err (err_size bytes; NULL or 0 writes nothing) and returns code, so
 * that a parser's error path stays one line: `return evc_errorf(err, size, EVC_ECONFIG, ...)`. */
int evc_errorf(char *err, size_t err_size, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
