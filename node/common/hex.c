/* Lowercase hex encoding and strict decoding. */
#include "node/common/hex.h"

#include "node/common/error.h"

void evc_hex_encode(const uint8_t *bytes, size_t size, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < size; i++) {
    out[2 * i] = digits[bytes[i] >> 4];
    out[2 * i + 1] = digits[bytes[i] & 15];
  }
  out[2 * size] = '\0';
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int evc_hex_decode(const char *text, size_t text_len, uint8_t *out, size_t size) {
  if (text_len != 2 * size) return EVC_EDECODE;
  for (size_t i = 0; i < size; i++) {
    int hi = hex_value(text[2 * i]);
    int lo = hex_value(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return EVC_EDECODE;
    out[i] = (uint8_t)((hi << 4) | lo);
  }
  return 0;
}
