/* Internals shared by the simulated disk (sim/simdisk.c) and the SQLite VFS over it
 * (sim/simvfs.c): per-file I/O with fault checks, lock and shared-memory state. Nothing
 * but those two files may include this; everyone else uses sim/simdisk.h. */
#ifndef EVC_SIM_SIMDISK_INTERNAL_H
#define EVC_SIM_SIMDISK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/simdisk.h"

#define EVC_SIMDISK_SECTOR_SIZE 512u
#define EVC_SIMDISK_PATH_SIZE_MAX 512u            /* bytes, without the terminating NUL */
#define EVC_SIMDISK_FILE_SIZE_MAX (1024u * 1024u * 1024u)
#define EVC_SIMDISK_PENDING_BYTES_MAX (64u * 1024u * 1024u) /* unsynced bytes per file */
#define EVC_SIMDISK_SHM_LOCK_COUNT 8u             /* SQLITE_SHM_NLOCK */
#define EVC_SIMDISK_SHM_REGION_COUNT_MAX 4096u
#define EVC_SIMDISK_SHM_REGION_SIZE_MAX (1024u * 1024u)

/* One file: its images and pending writes are private to simdisk.c. */
struct evc_simdisk_file;

/* File locks of all handles on one file (volatile: reset at a crash). */
struct evc_simdisk_locks {
  uint32_t shared_count; /* handles at SHARED or above */
  bool reserved;
  bool pending;
  bool exclusive;
};

/* The wal-index shared memory of one file: volatile, lost at a crash. A crash orphans it
 * (handles that mapped it keep valid pointers until they unmap); it is freed when the last
 * handle detaches. */
struct evc_simdisk_shm {
  uint8_t **regions;
  size_t region_count;
  size_t region_size;
  uint32_t attach_count;
  bool orphaned;
  uint32_t lock_shared_count[EVC_SIMDISK_SHM_LOCK_COUNT];
  bool lock_exclusive[EVC_SIMDISK_SHM_LOCK_COUNT];
};

/* Opens path (NULL: an anonymous file that lives until its handle closes). EVC_ENOTFOUND
 * when absent and !create, EVC_EEXIST when exclusive and present, EVC_EINVAL for a bad
 * path, EVC_ENOMEM. Every successful open must be paired with evc_simdisk_file_close. */
int evc_simdisk_file_open(struct evc_simdisk *disk, const char *path, bool create,
                          bool exclusive, struct evc_simdisk_file **file_out);
/* Drops one handle's reference; frees the file when unlinked and unreferenced. */
void evc_simdisk_file_close(struct evc_simdisk *disk, struct evc_simdisk_file *file);
/* Removes the file from the disk durably if it is still linked (delete-on-close). */
void evc_simdisk_file_unlink(struct evc_simdisk *disk, struct evc_simdisk_file *file);
/* Reads the volatile image. EVC_ETRUNC: short read, the rest of bytes zero-filled.
 * EVC_EIO: injected read fault. */
int evc_simdisk_file_read(struct evc_simdisk *disk, struct evc_simdisk_file *file,
                          uint64_t offset, void *bytes, size_t size);
/* Writes the volatile image and records the write as unsynced. EVC_EIO (injected fault,
 * nothing changed), EVC_ETOOBIG (beyond EVC_SIMDISK_FILE_SIZE_MAX), EVC_ENOMEM. */
int evc_simdisk_file_write(struct evc_simdisk *disk, struct evc_simdisk_file *file,
                           uint64_t offset, const void *bytes, size_t size);
/* Truncates (or extends with zeros) the volatile image; unsynced. EVC_ETOOBIG, EVC_ENOMEM. */
int evc_simdisk_file_truncate(struct evc_simdisk *disk, struct evc_simdisk_file *file,
                              uint64_t size);
uint64_t evc_simdisk_file_size(const struct evc_simdisk_file *file);
/* Makes the file durable. EVC_EIO on an injected sync fault; EVC_ENOMEM. */
int evc_simdisk_file_sync(struct evc_simdisk *disk, struct evc_simdisk_file *file);
struct evc_simdisk_locks *evc_simdisk_file_locks(struct evc_simdisk_file *file);
/* Attaches to the file's shared memory (creating it); EVC_ENOMEM. */
int evc_simdisk_shm_attach(struct evc_simdisk_file *file, struct evc_simdisk_shm **shm_out);
/* Detaches; frees the shared memory with its last attachment. */
void evc_simdisk_shm_detach(struct evc_simdisk_file *file, struct evc_simdisk_shm *shm);
/* Region index of region_size bytes (zeroed when new); *region_out = NULL when absent and
 * !extend. EVC_EINVAL on a size mismatch or an index beyond the limit; EVC_ENOMEM. */
int evc_simdisk_shm_region(struct evc_simdisk_shm *shm, size_t index, size_t region_size,
                           bool extend, uint8_t **region_out);

/* Removes path durably; EVC_ENOTFOUND when absent. Open handles keep the file. */
int evc_simdisk_unlink(struct evc_simdisk *disk, const char *path);
/* Size of path's volatile image; EVC_ENOTFOUND when absent. */
int evc_simdisk_size(const struct evc_simdisk *disk, const char *path, uint64_t *size_out);
/* Crash generation: a handle opened in an older generation is dead. */
uint64_t evc_simdisk_generation(const struct evc_simdisk *disk);
/* 64 bits from the disk's rand function, or from a fixed counter-based stream. */
uint64_t evc_simdisk_random(struct evc_simdisk *disk);
/* The simulation's unix time in ms, or a fixed epoch without a clock. */
uint64_t evc_simdisk_now_unix_ms(const struct evc_simdisk *disk);

#endif
