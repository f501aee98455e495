/* One simulated node's disk: files by path, each with a durable image (what survives a
 * power cut) and a volatile image (what reads see now). A SQLite VFS (sim/simvfs.c) and
 * small-file helpers run over it. Crash semantics follow SQLite's test6.c: writes not yet
 * synced live only in the volatile image and are dropped (or torn, when armed) at a crash.
 * Faults are countdowns, as in SQLite's test_vfs.c. Deterministic: no clock, no rand(),
 * no iteration order that depends on memory addresses. */
#ifndef EVC_SIM_SIMDISK_H
#define EVC_SIM_SIMDISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evc_simdisk;

/* Deterministic random source (a seeded stream of the simulator), used for torn writes
 * and probabilistic faults; returns 64 random bits. */
typedef uint64_t (*evc_simdisk_rand_function)(void *arg);
/* Called after every durable write: each successful xSync of a SQLite file and each
 * evc_simdisk_replace. path is the file's path. Used for crash points and counting. */
typedef void (*evc_simdisk_sync_hook)(void *arg, const char *path);

struct evc_simdisk_faults {
  const char *path_prefix;        /* faults apply only to paths starting with this ("" = all) */
  uint64_t fail_read_countdown;   /* the N-th read from now fails with an I/O error (0 = off) */
  uint64_t fail_write_countdown;  /* the N-th write from now fails */
  uint64_t fail_sync_countdown;   /* the N-th sync from now fails */
  bool persistent;                /* once a countdown fires, every later such op fails too */
  uint32_t torn_write_ppm;        /* at a crash, each unsynced write survives torn (a
                                     sector-aligned part of it) with this probability */
  uint32_t lost_fsync_ppm;        /* a sync reports success but persists nothing */
  uint64_t misdirect_write_countdown; /* the N-th SQLite write from now lands one
                                         EVC_SIMDISK_MISDIRECT_BYTES further into the
                                         file than asked, and reports success */
};

#define EVC_SIMDISK_MISDIRECT_BYTES 4096u /* a misdirected write lands this far off */

/* Creates an empty disk. EVC_ENOMEM on allocation failure. */
int evc_simdisk_new(struct evc_simdisk **disk_out);
/* Frees the disk and every file in it. The VFS registered over it must be unregistered. */
void evc_simdisk_free(struct evc_simdisk *disk);
void evc_simdisk_set_rand(struct evc_simdisk *disk, evc_simdisk_rand_function fn, void *arg);
void evc_simdisk_set_sync_hook(struct evc_simdisk *disk, evc_simdisk_sync_hook fn, void *arg);
/* Unix time in ms for SQLite's xCurrentTime, from the simulation's clock. */
void evc_simdisk_set_clock(struct evc_simdisk *disk, uint64_t (*now_unix_ms)(void *arg),
                           void *arg);
/* Arms faults (copied; path_prefix is copied too). A zeroed struct disarms them. */
void evc_simdisk_set_faults(struct evc_simdisk *disk, const struct evc_simdisk_faults *faults);
/* How many faults fired so far. */
uint64_t evc_simdisk_faults_fired(const struct evc_simdisk *disk);
/* Durable writes so far (successful syncs and replaces): crash points are counted in these. */
uint64_t evc_simdisk_sync_count(const struct evc_simdisk *disk);

/* A corrupted page: XORs mask into size bytes at offset of path, in both the durable and
 * the volatile image (bit rot under a running process); bytes beyond the file's end are
 * left alone. EVC_ENOTFOUND (no such file), EVC_ERANGE (offset past the end). */
int evc_simdisk_corrupt(struct evc_simdisk *disk, const char *path, uint64_t offset,
                        size_t size, uint8_t mask);

/* Power cut: every file's volatile image becomes its durable image (unsynced writes
 * dropped, or torn when armed); files never synced vanish; every handle opened before
 * the crash goes dead (its I/O fails and changes nothing). New opens work normally. */
void evc_simdisk_crash(struct evc_simdisk *disk);

/* Small durable files outside SQLite (keys, sign state, peer book): read a whole file
 * (malloc'd; EVC_ENOTFOUND when absent, EVC_EIO on an injected read fault) and replace a
 * file atomically and durably (EVC_EIO on an injected write/sync fault: the old content
 * stays intact). */
int evc_simdisk_read(struct evc_simdisk *disk, const char *path, uint8_t **bytes_out,
                     size_t *size_out);
int evc_simdisk_replace(struct evc_simdisk *disk, const char *path, const uint8_t *bytes,
                        size_t size);
bool evc_simdisk_exists(const struct evc_simdisk *disk, const char *path);
/* Removes every file whose path starts with prefix, durably ("data/" wipes a store). */
void evc_simdisk_remove_prefix(struct evc_simdisk *disk, const char *prefix);
/* Copies the durable images of the files under prefix from src into dst, replacing what
 * dst holds under that prefix (snapshot and restore of data/ or a whole HOME). */
int evc_simdisk_copy_prefix(struct evc_simdisk *dst, const struct evc_simdisk *src,
                            const char *prefix);

/* Registers a SQLite VFS named vfs_name over disk (not as the default VFS): the path
 * SQLite opens is the disk path. Its xRandomness draws from the disk's rand function, its
 * xCurrentTime reads the disk's clock, xSleep returns at once. EVC_EEXIST when taken. */
int evc_simvfs_register(const char *vfs_name, struct evc_simdisk *disk);
/* Unregisters and frees the VFS; every connection using it must be closed first. */
void evc_simvfs_unregister(const char *vfs_name);

#endif
