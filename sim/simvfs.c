/* A SQLite VFS over the simulated disk (sim/simdisk.c): files, locks and WAL shared memory
 * in memory, time and randomness from the simulation. A handle from before a crash is dead:
 * it must never change the disk. It must never touch a real file, clock or random source. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "node/common/assert.h"
#include "node/common/error.h"
#include "sim/simdisk.h"
#include "sim/simdisk_internal.h"

#define SIMVFS_NAME_SIZE_MAX 64u
#define SIMVFS_UNIX_EPOCH_JULIAN_MS INT64_C(210866760000000) /* 1970-01-01 in Julian day ms */

_Static_assert(EVC_SIMDISK_SHM_LOCK_COUNT == SQLITE_SHM_NLOCK, "wal-index lock count");

struct simvfs {
  sqlite3_vfs base;
  char name[SIMVFS_NAME_SIZE_MAX + 1];
};

struct simvfs_handle {
  sqlite3_file base;
  struct evc_simdisk *disk;
  struct evc_simdisk_file *file;
  uint64_t generation; /* the disk's generation at open: older means dead */
  int lock_level;      /* SQLITE_LOCK_* */
  bool holds_reserved;
  bool delete_on_close;
  bool read_only;
  struct evc_simdisk_shm *shm; /* NULL until the first xShmMap */
  uint32_t shm_shared_mask;
  uint32_t shm_exclusive_mask;
};

static struct simvfs_handle *handle_of(sqlite3_file *base) {
  struct simvfs_handle *handle = (struct simvfs_handle *)base;
  EVC_ASSERT(handle->disk != NULL);
  EVC_ASSERT(handle->file != NULL);
  return handle;
}

static bool handle_live(const struct simvfs_handle *handle) {
  return handle->generation == evc_simdisk_generation(handle->disk);
}

/* ---- file locks ---- */

static void lock_release(struct simvfs_handle *handle, int level) {
  struct evc_simdisk_locks *locks = evc_simdisk_file_locks(handle->file);
  if (handle->lock_level <= level) return;
  if (handle->lock_level >= SQLITE_LOCK_PENDING) {
    EVC_ASSERT(locks->pending);
    locks->pending = false;
  }
  if (handle->lock_level == SQLITE_LOCK_EXCLUSIVE) {
    EVC_ASSERT(locks->exclusive);
    locks->exclusive = false;
  }
  if (handle->holds_reserved) {
    EVC_ASSERT(locks->reserved);
    locks->reserved = false;
    handle->holds_reserved = false;
  }
  if (level == SQLITE_LOCK_NONE) {
    EVC_ASSERT(locks->shared_count > 0);
    locks->shared_count--;
  }
  handle->lock_level = level;
}

/* EXCLUSIVE goes through PENDING (which keeps new readers out) and waits for the other
 * readers to leave, as the unix VFS does. */
static int lock_exclusive(struct simvfs_handle *handle, struct evc_simdisk_locks *locks) {
  if (handle->lock_level < SQLITE_LOCK_PENDING) {
    if (locks->pending) return SQLITE_BUSY;
    locks->pending = true;
    handle->lock_level = SQLITE_LOCK_PENDING;
  }
  if (locks->shared_count > 1) return SQLITE_BUSY;
  EVC_ASSERT(!locks->exclusive);
  locks->exclusive = true;
  handle->lock_level = SQLITE_LOCK_EXCLUSIVE;
  return SQLITE_OK;
}

static int simvfs_lock(sqlite3_file *base, int level) {
  struct simvfs_handle *handle = handle_of(base);
  if (!handle_live(handle)) return SQLITE_IOERR_LOCK;
  struct evc_simdisk_locks *locks = evc_simdisk_file_locks(handle->file);
  if (handle->lock_level >= level) return SQLITE_OK;
  if (level == SQLITE_LOCK_SHARED) {
    EVC_ASSERT(handle->lock_level == SQLITE_LOCK_NONE);
    if (locks->pending || locks->exclusive) return SQLITE_BUSY;
    locks->shared_count++;
    handle->lock_level = SQLITE_LOCK_SHARED;
    return SQLITE_OK;
  }
  EVC_ASSERT(handle->lock_level >= SQLITE_LOCK_SHARED);
  if (level == SQLITE_LOCK_RESERVED) {
    if (locks->reserved) return SQLITE_BUSY;
    locks->reserved = true;
    handle->holds_reserved = true;
    handle->lock_level = SQLITE_LOCK_RESERVED;
    return SQLITE_OK;
  }
  EVC_ASSERT(level == SQLITE_LOCK_EXCLUSIVE);
  return lock_exclusive(handle, locks);
}

static int simvfs_unlock(sqlite3_file *base, int level) {
  struct simvfs_handle *handle = handle_of(base);
  EVC_ASSERT(level == SQLITE_LOCK_NONE || level == SQLITE_LOCK_SHARED);
  if (!handle_live(handle)) return SQLITE_IOERR_UNLOCK;
  lock_release(handle, level);
  return SQLITE_OK;
}

static int simvfs_check_reserved_lock(sqlite3_file *base, int *result) {
  struct simvfs_handle *handle = handle_of(base);
  *result = 0;
  if (!handle_live(handle)) return SQLITE_IOERR_CHECKRESERVEDLOCK;
  const struct evc_simdisk_locks *locks = evc_simdisk_file_locks(handle->file);
  *result = locks->reserved || locks->pending || locks->exclusive;
  return SQLITE_OK;
}

/* ---- shared memory (the wal-index) ---- */

static void shm_unlock_all(struct simvfs_handle *handle) {
  struct evc_simdisk_shm *shm = handle->shm;
  for (uint32_t i = 0; i < EVC_SIMDISK_SHM_LOCK_COUNT; i++) {
    uint32_t bit = 1u << i;
    if (handle->shm_shared_mask & bit) {
      EVC_ASSERT(shm->lock_shared_count[i] > 0);
      shm->lock_shared_count[i]--;
    }
    if (handle->shm_exclusive_mask & bit) {
      EVC_ASSERT(shm->lock_exclusive[i]);
      shm->lock_exclusive[i] = false;
    }
  }
  handle->shm_shared_mask = 0;
  handle->shm_exclusive_mask = 0;
}

static void shm_release(struct simvfs_handle *handle) {
  if (handle->shm == NULL) return;
  shm_unlock_all(handle);
  evc_simdisk_shm_detach(handle->file, handle->shm);
  handle->shm = NULL;
}

static int simvfs_shm_map(sqlite3_file *base, int region, int region_size, int extend,
                          void volatile **memory) {
  struct simvfs_handle *handle = handle_of(base);
  *memory = NULL;
  if (!handle_live(handle)) return SQLITE_IOERR_SHMMAP;
  if (region < 0 || region_size <= 0) return SQLITE_IOERR_SHMMAP;
  if (handle->shm == NULL && evc_simdisk_shm_attach(handle->file, &handle->shm) != 0) {
    return SQLITE_IOERR_NOMEM;
  }
  uint8_t *bytes = NULL;
  int rc = evc_simdisk_shm_region(handle->shm, (size_t)region, (size_t)region_size,
                                  extend != 0, &bytes);
  if (rc == EVC_ENOMEM) return SQLITE_IOERR_NOMEM;
  if (rc != 0) return SQLITE_IOERR_SHMMAP;
  *memory = bytes;
  return SQLITE_OK;
}

/* Returns the wal-index locks [offset, offset + count) this handle holds. */
static void shm_unlock(struct simvfs_handle *handle, int offset, int count) {
  struct evc_simdisk_shm *shm = handle->shm;
  for (int i = offset; i < offset + count; i++) {
    uint32_t bit = 1u << i;
    if (handle->shm_shared_mask & bit) shm->lock_shared_count[i]--;
    if (handle->shm_exclusive_mask & bit) shm->lock_exclusive[i] = false;
    handle->shm_shared_mask &= ~bit;
    handle->shm_exclusive_mask &= ~bit;
  }
}

static int shm_lock_exclusive(struct simvfs_handle *handle, int offset, int count) {
  struct evc_simdisk_shm *shm = handle->shm;
  for (int i = offset; i < offset + count; i++) {
    uint32_t bit = 1u << i;
    uint32_t own_shared = (handle->shm_shared_mask & bit) ? 1u : 0u;
    if (shm->lock_exclusive[i] && !(handle->shm_exclusive_mask & bit)) return SQLITE_BUSY;
    if (shm->lock_shared_count[i] > own_shared) return SQLITE_BUSY;
  }
  for (int i = offset; i < offset + count; i++) {
    shm->lock_exclusive[i] = true;
    handle->shm_exclusive_mask |= 1u << i;
  }
  return SQLITE_OK;
}

static int simvfs_shm_lock(sqlite3_file *base, int offset, int count, int flags) {
  struct simvfs_handle *handle = handle_of(base);
  EVC_ASSERT(offset >= 0);
  EVC_ASSERT(count >= 1);
  EVC_ASSERT(offset + count <= SQLITE_SHM_NLOCK);
  if (!handle_live(handle)) return SQLITE_IOERR_SHMLOCK;
  if (flags & SQLITE_SHM_UNLOCK) {
    if (handle->shm != NULL) shm_unlock(handle, offset, count);
    return SQLITE_OK;
  }
  if (handle->shm == NULL && evc_simdisk_shm_attach(handle->file, &handle->shm) != 0) {
    return SQLITE_IOERR_NOMEM;
  }
  if (flags & SQLITE_SHM_EXCLUSIVE) return shm_lock_exclusive(handle, offset, count);
  EVC_ASSERT(count == 1);
  uint32_t bit = 1u << offset;
  if (handle->shm_shared_mask & bit) return SQLITE_OK;
  if (handle->shm->lock_exclusive[offset]) return SQLITE_BUSY;
  handle->shm->lock_shared_count[offset]++;
  handle->shm_shared_mask |= bit;
  return SQLITE_OK;
}

static void simvfs_shm_barrier(sqlite3_file *base) {
  (void)base; /* one thread: program order is memory order */
}

static int simvfs_shm_unmap(sqlite3_file *base, int delete_flag) {
  struct simvfs_handle *handle = handle_of(base);
  (void)delete_flag; /* the wal-index is freed with its last mapping either way */
  shm_release(handle);
  return SQLITE_OK;
}

/* ---- I/O ---- */

static int simvfs_close(sqlite3_file *base) {
  struct simvfs_handle *handle = handle_of(base);
  shm_release(handle); /* memory only; a dead handle's wal-index is an orphan */
  if (handle_live(handle)) {
    lock_release(handle, SQLITE_LOCK_NONE);
    if (handle->delete_on_close) evc_simdisk_file_unlink(handle->disk, handle->file);
  }
  evc_simdisk_file_close(handle->disk, handle->file);
  handle->file = NULL;
  handle->disk = NULL;
  return SQLITE_OK;
}

static int simvfs_read(sqlite3_file *base, void *bytes, int size, sqlite3_int64 offset) {
  struct simvfs_handle *handle = handle_of(base);
  EVC_ASSERT(size >= 0);
  EVC_ASSERT(offset >= 0);
  if (!handle_live(handle)) return SQLITE_IOERR;
  int rc = evc_simdisk_file_read(handle->disk, handle->file, (uint64_t)offset, bytes,
                                 (size_t)size);
  if (rc == EVC_ETRUNC) return SQLITE_IOERR_SHORT_READ; /* the rest is zero-filled */
  if (rc != 0) return SQLITE_IOERR_READ;
  return SQLITE_OK;
}

static int simvfs_write(sqlite3_file *base, const void *bytes, int size, sqlite3_int64 offset) {
  struct simvfs_handle *handle = handle_of(base);
  EVC_ASSERT(size >= 0);
  EVC_ASSERT(offset >= 0);
  if (!handle_live(handle)) return SQLITE_IOERR;
  if (handle->read_only) return SQLITE_READONLY;
  int rc = evc_simdisk_file_write(handle->disk, handle->file, (uint64_t)offset, bytes,
                                  (size_t)size);
  if (rc == EVC_ETOOBIG) return SQLITE_FULL;
  if (rc == EVC_ENOMEM) return SQLITE_IOERR_NOMEM;
  if (rc != 0) return SQLITE_IOERR_WRITE;
  return SQLITE_OK;
}

static int simvfs_truncate(sqlite3_file *base, sqlite3_int64 size) {
  struct simvfs_handle *handle = handle_of(base);
  EVC_ASSERT(size >= 0);
  if (!handle_live(handle)) return SQLITE_IOERR;
  if (handle->read_only) return SQLITE_READONLY;
  int rc = evc_simdisk_file_truncate(handle->disk, handle->file, (uint64_t)size);
  if (rc == EVC_ETOOBIG) return SQLITE_FULL;
  if (rc != 0) return SQLITE_IOERR_TRUNCATE;
  return SQLITE_OK;
}

static int simvfs_sync(sqlite3_file *base, int flags) {
  struct simvfs_handle *handle = handle_of(base);
  (void)flags; /* every sync is a full sync */
  if (!handle_live(handle)) return SQLITE_IOERR;
  int rc = evc_simdisk_file_sync(handle->disk, handle->file);
  if (rc == EVC_ENOMEM) return SQLITE_IOERR_NOMEM;
  if (rc != 0) return SQLITE_IOERR_FSYNC;
  return SQLITE_OK;
}

static int simvfs_file_size(sqlite3_file *base, sqlite3_int64 *size) {
  struct simvfs_handle *handle = handle_of(base);
  *size = 0;
  if (!handle_live(handle)) return SQLITE_IOERR_FSTAT;
  *size = (sqlite3_int64)evc_simdisk_file_size(handle->file);
  return SQLITE_OK;
}

static int simvfs_file_control(sqlite3_file *base, int op, void *arg) {
  (void)base;
  (void)op;
  (void)arg;
  return SQLITE_NOTFOUND;
}

static int simvfs_sector_size(sqlite3_file *base) {
  (void)base;
  return (int)EVC_SIMDISK_SECTOR_SIZE;
}

static int simvfs_device_characteristics(sqlite3_file *base) {
  (void)base;
  return 0; /* conservative: no atomic or safe-append guarantees, writes may tear */
}

static const sqlite3_io_methods simvfs_io_methods = {
    .iVersion = 2,
    .xClose = simvfs_close,
    .xRead = simvfs_read,
    .xWrite = simvfs_write,
    .xTruncate = simvfs_truncate,
    .xSync = simvfs_sync,
    .xFileSize = simvfs_file_size,
    .xLock = simvfs_lock,
    .xUnlock = simvfs_unlock,
    .xCheckReservedLock = simvfs_check_reserved_lock,
    .xFileControl = simvfs_file_control,
    .xSectorSize = simvfs_sector_size,
    .xDeviceCharacteristics = simvfs_device_characteristics,
    .xShmMap = simvfs_shm_map,
    .xShmLock = simvfs_shm_lock,
    .xShmBarrier = simvfs_shm_barrier,
    .xShmUnmap = simvfs_shm_unmap,
};

/* ---- the VFS ---- */

static struct evc_simdisk *disk_of(sqlite3_vfs *vfs) {
  EVC_ASSERT(vfs != NULL);
  EVC_ASSERT(vfs->pAppData != NULL);
  return vfs->pAppData;
}

static int simvfs_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *base, int flags,
                       int *out_flags) {
  struct evc_simdisk *disk = disk_of(vfs);
  struct simvfs_handle *handle = (struct simvfs_handle *)base;
  memset(handle, 0, sizeof(*handle));
  struct evc_simdisk_file *file = NULL;
  int rc = evc_simdisk_file_open(disk, name, (flags & SQLITE_OPEN_CREATE) != 0,
                                 (flags & SQLITE_OPEN_EXCLUSIVE) != 0, &file);
  if (rc == EVC_ENOMEM) return SQLITE_NOMEM;
  if (rc != 0) return SQLITE_CANTOPEN;
  handle->disk = disk;
  handle->file = file;
  handle->generation = evc_simdisk_generation(disk);
  handle->lock_level = SQLITE_LOCK_NONE;
  handle->delete_on_close = (flags & SQLITE_OPEN_DELETEONCLOSE) != 0;
  handle->read_only = (flags & SQLITE_OPEN_READONLY) != 0;
  handle->base.pMethods = &simvfs_io_methods;
  if (out_flags != NULL) *out_flags = flags;
  return SQLITE_OK;
}

static int simvfs_delete(sqlite3_vfs *vfs, const char *name, int sync_dir) {
  (void)sync_dir; /* deletes are always durable on this disk */
  int rc = evc_simdisk_unlink(disk_of(vfs), name);
  if (rc == EVC_ENOTFOUND) return SQLITE_IOERR_DELETE_NOENT;
  if (rc != 0) return SQLITE_IOERR_DELETE;
  return SQLITE_OK;
}

/* Like the unix VFS, an empty file does not "exist": SQLite relies on this for journals. */
static int simvfs_access(sqlite3_vfs *vfs, const char *name, int flags, int *result) {
  uint64_t size = 0;
  int rc = evc_simdisk_size(disk_of(vfs), name, &size);
  if (rc != 0) {
    *result = 0;
    return SQLITE_OK;
  }
  *result = flags == SQLITE_ACCESS_EXISTS ? size > 0 : 1;
  return SQLITE_OK;
}

static int simvfs_full_pathname(sqlite3_vfs *vfs, const char *name, int out_size, char *out) {
  (void)vfs;
  EVC_ASSERT(out_size > 0);
  size_t size = strlen(name);
  if (size >= (size_t)out_size) return SQLITE_CANTOPEN;
  memcpy(out, name, size + 1);
  return SQLITE_OK;
}

static void *simvfs_dl_open(sqlite3_vfs *vfs, const char *path) {
  (void)vfs;
  (void)path;
  return NULL;
}

static void simvfs_dl_error(sqlite3_vfs *vfs, int size, char *message) {
  (void)vfs;
  if (size > 0) sqlite3_snprintf(size, message, "extensions cannot be loaded in the simulator");
}

static void (*simvfs_dl_sym(sqlite3_vfs *vfs, void *library, const char *symbol))(void) {
  (void)vfs;
  (void)library;
  (void)symbol;
  return NULL;
}

static void simvfs_dl_close(sqlite3_vfs *vfs, void *library) {
  (void)vfs;
  (void)library;
}

static int simvfs_randomness(sqlite3_vfs *vfs, int size, char *out) {
  struct evc_simdisk *disk = disk_of(vfs);
  EVC_ASSERT(size >= 0);
  for (int i = 0; i < size; i += 8) {
    uint64_t word = evc_simdisk_random(disk);
    for (int j = 0; j < 8 && i + j < size; j++) out[i + j] = (char)(uint8_t)(word >> (8 * j));
  }
  return size;
}

static int simvfs_sleep(sqlite3_vfs *vfs, int microseconds) {
  (void)vfs;
  return microseconds; /* virtual time: the wait is over at once */
}

static int simvfs_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *julian_ms) {
  uint64_t now_ms = evc_simdisk_now_unix_ms(disk_of(vfs));
  EVC_ASSERT(now_ms <= (uint64_t)(INT64_MAX - SIMVFS_UNIX_EPOCH_JULIAN_MS));
  *julian_ms = SIMVFS_UNIX_EPOCH_JULIAN_MS + (sqlite3_int64)now_ms;
  return SQLITE_OK;
}

static int simvfs_current_time(sqlite3_vfs *vfs, double *julian_days) {
  sqlite3_int64 julian_ms = 0;
  int rc = simvfs_current_time_int64(vfs, &julian_ms);
  *julian_days = (double)julian_ms / 86400000.0; /* SQLite's API; no decision uses it */
  return rc;
}

static int simvfs_get_last_error(sqlite3_vfs *vfs, int size, char *message) {
  (void)vfs;
  if (size > 0) message[0] = '\0';
  return 0;
}

int evc_simvfs_register(const char *vfs_name, struct evc_simdisk *disk) {
  EVC_ASSERT(disk != NULL);
  if (vfs_name == NULL || vfs_name[0] == '\0') return EVC_EINVAL;
  size_t name_size = strnlen(vfs_name, SIMVFS_NAME_SIZE_MAX + 1);
  if (name_size > SIMVFS_NAME_SIZE_MAX) return EVC_EINVAL;
  if (sqlite3_vfs_find(vfs_name) != NULL) return EVC_EEXIST;
  struct simvfs *vfs = calloc(1, sizeof(*vfs));
  if (vfs == NULL) return EVC_ENOMEM;
  memcpy(vfs->name, vfs_name, name_size);
  vfs->base = (sqlite3_vfs){
      .iVersion = 2,
      .szOsFile = (int)sizeof(struct simvfs_handle),
      .mxPathname = (int)EVC_SIMDISK_PATH_SIZE_MAX,
      .zName = vfs->name,
      .pAppData = disk,
      .xOpen = simvfs_open,
      .xDelete = simvfs_delete,
      .xAccess = simvfs_access,
      .xFullPathname = simvfs_full_pathname,
      .xDlOpen = simvfs_dl_open,
      .xDlError = simvfs_dl_error,
      .xDlSym = simvfs_dl_sym,
      .xDlClose = simvfs_dl_close,
      .xRandomness = simvfs_randomness,
      .xSleep = simvfs_sleep,
      .xCurrentTime = simvfs_current_time,
      .xGetLastError = simvfs_get_last_error,
      .xCurrentTimeInt64 = simvfs_current_time_int64,
  };
  int rc = sqlite3_vfs_register(&vfs->base, 0);
  if (rc != SQLITE_OK) {
    free(vfs);
    return rc == SQLITE_NOMEM ? EVC_ENOMEM : EVC_EIO;
  }
  return 0;
}

void evc_simvfs_unregister(const char *vfs_name) {
  EVC_ASSERT(vfs_name != NULL);
  sqlite3_vfs *base = sqlite3_vfs_find(vfs_name);
  if (base == NULL) return;
  EVC_ASSERT(base->xOpen == simvfs_open); /* never unregister someone else's VFS */
  sqlite3_vfs_unregister(base);
  free((struct simvfs *)base);
}
