/* Lowercase hex, the one way evc writes hashes and ids (CLI, RPC, logs, trace). */
#ifndef EVC_COMMON_HEX_H
#define EVC_COMMON_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Writes 2*size lowercase hex digits and a NUL into out (capacity >= 2*size+1). */
void evc_hex_encode(const uint8_t *bytes, size_t size, char *out);
/* Parses exactly 2*size hex digits (either case) from text of text_len; EVC_EDECODE otherwise. */
int evc_hex_decode(const char *text, size_t text_len, uint8_t *out, size_t size);

#endif
