/* Ed25519 key files on disk (signer key, node key): JSON
 * {"type":"ed25519","public_key":"<hex>","seed":"<hex>"}, mode 0600, written once.
 * Live runtime and CLIs only; the core receives keys in memory, never a path. */
#ifndef EVC_OS_KEYFILE_H
#define EVC_OS_KEYFILE_H

#include <stddef.h>

#include "node/crypto/crypto.h"

#define EVC_KEYFILE_MODE 0600u
#define EVC_KEYFILE_SIZE_MAX 4096u /* a key file is ~170 bytes; anything larger is refused */

/* Writes kp to a new file at path with mode 0600, atomically and durably. EVC_EEXIST when the
 * file already exists (never overwrites), EVC_EIO / EVC_EINVAL otherwise. */
int evc_keyfile_write(const char *path, const struct evc_keypair *kp);
/* Reads and validates a key file into *out; on error writes a one-line reason into err.
 * EVC_ENOTFOUND, EVC_EPERM (readable or writable by group or others: chmod 600),
 * EVC_ECORRUPT (bad JSON, type, hex, or public_key not matching the seed), EVC_ETOOBIG,
 * EVC_EIO. On error *out is zeroed. */
int evc_keyfile_read(const char *path, struct evc_keypair *out, char *err, size_t err_size);

#endif
