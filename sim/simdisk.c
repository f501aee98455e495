/* The simulated disk: files with a durable and a volatile image, unsynced writes kept in
 * order so a crash can drop or tear them, fault countdowns, small atomic files. It must
 * never read a clock, call rand() or iterate in an order that depends on addresses. */
#include <stdlib.h>
#include <string.h>

#include "node/common/assert.h"
#include "node/common/error.h"
#include "sim/simdisk.h"
#include "sim/simdisk_internal.h"

/* Unix ms handed to SQLite when no clock is set: 2023-11-14T22:13:20Z. */
#define SIMDISK_FIXED_EPOCH_MS UINT64_C(1700000000000)
#define SIMDISK_PPM 1000000u

_Static_assert(EVC_SIMDISK_FILE_SIZE_MAX < SIZE_MAX / 2, "file offsets must fit size_t");
_Static_assert(EVC_SIMDISK_PENDING_BYTES_MAX < EVC_SIMDISK_FILE_SIZE_MAX, "pending limit");

enum simdisk_op_kind { SIMDISK_OP_WRITE = 1, SIMDISK_OP_TRUNCATE, SIMDISK_OP_REPLACE };
enum simdisk_fault_kind {
  SIMDISK_READ,
  SIMDISK_WRITE,
  SIMDISK_SYNC,
  SIMDISK_MISDIRECT,
  SIMDISK_FAULT_KINDS
};

struct simdisk_image {
  uint8_t *bytes;
  size_t size;
  size_t capacity;
};

/* An unsynced change, in order: a write (offset, bytes), a truncate (offset = new size),
 * or an atomic whole-file replace whose fsync was lost (never torn, dropped at a crash). */
struct simdisk_op {
  enum simdisk_op_kind kind;
  size_t offset;
  size_t size;
  uint8_t *bytes;
};

struct evc_simdisk_file {
  char *path; /* NULL for an anonymous file */
  struct simdisk_image volatile_image;
  struct simdisk_image durable_image;
  struct simdisk_op *ops; /* durable_image + ops applied in order == volatile_image */
  size_t op_count;
  size_t op_capacity;
  size_t pending_bytes;
  bool durable; /* its directory entry survives a crash: synced (or replaced) once */
  bool linked;  /* in the disk's file table */
  uint32_t handle_count;
  struct evc_simdisk_locks locks;
  struct evc_simdisk_shm *shm;
};

struct simdisk_countdown {
  uint64_t remaining; /* 0 = off */
  bool fired;
};

struct evc_simdisk {
  struct evc_simdisk_file **files; /* sorted by path (strcmp) */
  size_t file_count;
  size_t file_capacity;
  uint64_t generation;
  uint64_t handle_count;
  evc_simdisk_rand_function rand_fn;
  void *rand_arg;
  uint64_t fallback_counter;
  evc_simdisk_sync_hook sync_hook;
  void *sync_hook_arg;
  uint64_t (*clock_fn)(void *arg);
  void *clock_arg;
  char *fault_prefix; /* NULL = "" */
  struct simdisk_countdown countdowns[SIMDISK_FAULT_KINDS];
  bool fault_persistent;
  uint32_t torn_write_ppm;
  uint32_t lost_fsync_ppm;
  uint64_t faults_fired;
  uint64_t sync_count;
};

/* ---- images ---- */

static int image_reserve(struct simdisk_image *image, size_t size) {
  EVC_ASSERT(size <= EVC_SIMDISK_FILE_SIZE_MAX);
  if (size <= image->capacity) return 0;
  size_t capacity = image->capacity < 4096 ? 4096 : image->capacity;
  while (capacity < size) capacity *= 2;
  uint8_t *bytes = realloc(image->bytes, capacity);
  if (bytes == NULL) return EVC_ENOMEM;
  image->bytes = bytes;
  image->capacity = capacity;
  return 0;
}

/* Resizes within the reserved capacity, zero-filling any growth. */
static void image_resize(struct simdisk_image *image, size_t size) {
  EVC_ASSERT(size <= image->capacity);
  if (size > image->size) memset(image->bytes + image->size, 0, size - image->size);
  image->size = size;
}

/* Writes within the reserved capacity. */
static void image_put(struct simdisk_image *image, size_t offset, const uint8_t *bytes,
                      size_t size) {
  EVC_ASSERT(offset + size <= image->capacity);
  if (offset + size > image->size) image_resize(image, offset + size);
  if (size > 0) memcpy(image->bytes + offset, bytes, size);
}

static int image_assign(struct simdisk_image *image, const uint8_t *bytes, size_t size) {
  int rc = image_reserve(image, size);
  if (rc != 0) return rc;
  image->size = 0;
  image_put(image, 0, bytes, size);
  return 0;
}

static void image_free(struct simdisk_image *image) {
  free(image->bytes);
  image->bytes = NULL;
  image->size = 0;
  image->capacity = 0;
}

/* ---- pending operations ---- */

static size_t op_end(const struct simdisk_op *op) {
  return op->kind == SIMDISK_OP_TRUNCATE ? op->offset : op->offset + op->size;
}

static void op_apply(struct simdisk_image *image, const struct simdisk_op *op) {
  if (op->kind == SIMDISK_OP_TRUNCATE) {
    image_resize(image, op->offset);
    return;
  }
  if (op->kind == SIMDISK_OP_REPLACE) image->size = 0;
  image_put(image, op->offset, op->bytes, op->size);
}

/* Applies ops [0, count) to the durable image and drops them; all or nothing. */
static int file_apply_oldest(struct evc_simdisk_file *file, size_t count) {
  EVC_ASSERT(count <= file->op_count);
  if (count == 0) return 0;
  size_t needed = file->durable_image.size;
  for (size_t i = 0; i < count; i++) {
    size_t end = op_end(&file->ops[i]);
    if (end > needed) needed = end;
  }
  int rc = image_reserve(&file->durable_image, needed);
  if (rc != 0) return rc;
  for (size_t i = 0; i < count; i++) {
    op_apply(&file->durable_image, &file->ops[i]);
    file->pending_bytes -= file->ops[i].size;
    free(file->ops[i].bytes);
  }
  memmove(file->ops, file->ops + count, (file->op_count - count) * sizeof(file->ops[0]));
  file->op_count -= count;
  return 0;
}

static void file_drop_ops(struct evc_simdisk_file *file) {
  for (size_t i = 0; i < file->op_count; i++) free(file->ops[i].bytes);
  file->op_count = 0;
  file->pending_bytes = 0;
}

static int file_reserve_op(struct evc_simdisk_file *file) {
  if (file->op_count < file->op_capacity) return 0;
  size_t capacity = file->op_capacity == 0 ? 16 : file->op_capacity * 2;
  struct simdisk_op *ops = realloc(file->ops, capacity * sizeof(ops[0]));
  if (ops == NULL) return EVC_ENOMEM;
  file->ops = ops;
  file->op_capacity = capacity;
  return 0;
}

/* Like an OS writing back dirty pages: past the limit, the oldest unsynced writes reach
 * the platter on their own (allowed: unsynced writes may or may not survive). */
static void file_write_back(struct evc_simdisk_file *file) {
  if (file->pending_bytes <= EVC_SIMDISK_PENDING_BYTES_MAX) return;
  size_t count = 0;
  size_t bytes = 0;
  size_t target = EVC_SIMDISK_PENDING_BYTES_MAX / 2;
  while (count < file->op_count && file->pending_bytes - bytes > target) {
    bytes += file->ops[count].size;
    count++;
  }
  (void)file_apply_oldest(file, count); /* on ENOMEM the writes just stay pending */
}

/* ---- files and the file table ---- */

static void file_free(struct evc_simdisk_file *file) {
  EVC_ASSERT(file->handle_count == 0);
  EVC_ASSERT(!file->linked);
  EVC_ASSERT(file->shm == NULL);
  file_drop_ops(file);
  free(file->ops);
  image_free(&file->volatile_image);
  image_free(&file->durable_image);
  free(file->path);
  free(file);
}

static bool path_valid(const char *path) {
  if (path == NULL || path[0] == '\0') return false;
  return strnlen(path, EVC_SIMDISK_PATH_SIZE_MAX + 1) <= EVC_SIMDISK_PATH_SIZE_MAX;
}

static struct evc_simdisk_file *file_new(const char *path) {
  struct evc_simdisk_file *file = calloc(1, sizeof(*file));
  if (file == NULL) return NULL;
  if (path != NULL) {
    file->path = strdup(path);
    if (file->path == NULL) {
      free(file);
      return NULL;
    }
  }
  return file;
}

/* Index of path in the table, or where it would go (*found says which). */
static size_t table_search(const struct evc_simdisk *disk, const char *path, bool *found) {
  size_t low = 0;
  size_t high = disk->file_count;
  while (low < high) {
    size_t mid = low + (high - low) / 2;
    int cmp = strcmp(disk->files[mid]->path, path);
    if (cmp == 0) {
      *found = true;
      return mid;
    }
    if (cmp < 0) low = mid + 1;
    else high = mid;
  }
  *found = false;
  return low;
}

static struct evc_simdisk_file *table_find(const struct evc_simdisk *disk, const char *path) {
  bool found = false;
  size_t index = table_search(disk, path, &found);
  return found ? disk->files[index] : NULL;
}

static int table_reserve(struct evc_simdisk *disk, size_t count) {
  if (count <= disk->file_capacity) return 0;
  size_t capacity = disk->file_capacity == 0 ? 16 : disk->file_capacity;
  while (capacity < count) capacity *= 2;
  struct evc_simdisk_file **files = realloc(disk->files, capacity * sizeof(files[0]));
  if (files == NULL) return EVC_ENOMEM;
  disk->files = files;
  disk->file_capacity = capacity;
  return 0;
}

/* Inserts a new, unlinked file; the table must have room. */
static void table_insert(struct evc_simdisk *disk, struct evc_simdisk_file *file) {
  EVC_ASSERT(disk->file_count < disk->file_capacity);
  EVC_ASSERT(!file->linked);
  bool found = false;
  size_t index = table_search(disk, file->path, &found);
  EVC_ASSERT(!found);
  memmove(disk->files + index + 1, disk->files + index,
          (disk->file_count - index) * sizeof(disk->files[0]));
  disk->files[index] = file;
  disk->file_count++;
  file->linked = true;
}

/* Removes the file at index; frees it unless handles still hold it. */
static void table_remove_at(struct evc_simdisk *disk, size_t index) {
  EVC_ASSERT(index < disk->file_count);
  struct evc_simdisk_file *file = disk->files[index];
  memmove(disk->files + index, disk->files + index + 1,
          (disk->file_count - index - 1) * sizeof(disk->files[0]));
  disk->file_count--;
  file->linked = false;
  if (file->handle_count == 0) file_free(file);
}

/* ---- faults ---- */

static bool fault_applies(const struct evc_simdisk *disk, const char *path) {
  if (path == NULL) return false; /* anonymous files are not on the platter */
  const char *prefix = disk->fault_prefix == NULL ? "" : disk->fault_prefix;
  return strncmp(path, prefix, strlen(prefix)) == 0;
}

/* Steps the countdown of kind for an op on path; true when this op must fail. */
static bool fault_fires(struct evc_simdisk *disk, enum simdisk_fault_kind kind,
                        const char *path) {
  if (!fault_applies(disk, path)) return false;
  struct simdisk_countdown *countdown = &disk->countdowns[kind];
  if (countdown->fired && disk->fault_persistent) {
    disk->faults_fired++;
    return true;
  }
  if (countdown->remaining == 0) return false;
  countdown->remaining--;
  if (countdown->remaining > 0) return false;
  countdown->fired = true;
  disk->faults_fired++;
  return true;
}

static bool chance_ppm(struct evc_simdisk *disk, uint32_t ppm) {
  if (ppm == 0) return false;
  return evc_simdisk_random(disk) % SIMDISK_PPM < ppm;
}

static bool lost_fsync_fires(struct evc_simdisk *disk, const char *path) {
  if (!fault_applies(disk, path) || !chance_ppm(disk, disk->lost_fsync_ppm)) return false;
  disk->faults_fired++;
  return true;
}

/* Counts a durable write and tells the hook; the hook may crash the disk, so callers
 * must not touch file state after this. */
static void durable_write_done(struct evc_simdisk *disk, const char *path) {
  disk->sync_count++;
  if (disk->sync_hook != NULL) disk->sync_hook(disk->sync_hook_arg, path);
}

/* ---- public: lifetime and configuration ---- */

int evc_simdisk_new(struct evc_simdisk **disk_out) {
  EVC_ASSERT(disk_out != NULL);
  struct evc_simdisk *disk = calloc(1, sizeof(*disk));
  if (disk == NULL) return EVC_ENOMEM;
  disk->generation = 1;
  *disk_out = disk;
  return 0;
}

void evc_simdisk_free(struct evc_simdisk *disk) {
  if (disk == NULL) return;
  EVC_ASSERT(disk->handle_count == 0); /* every connection must be closed first */
  while (disk->file_count > 0) {
    EVC_ASSERT(disk->files[disk->file_count - 1]->shm == NULL); /* freed with its handles */
    table_remove_at(disk, disk->file_count - 1);
  }
  free(disk->files);
  free(disk->fault_prefix);
  free(disk);
}

void evc_simdisk_set_rand(struct evc_simdisk *disk, evc_simdisk_rand_function fn, void *arg) {
  EVC_ASSERT(disk != NULL);
  disk->rand_fn = fn;
  disk->rand_arg = arg;
}

void evc_simdisk_set_sync_hook(struct evc_simdisk *disk, evc_simdisk_sync_hook fn, void *arg) {
  EVC_ASSERT(disk != NULL);
  disk->sync_hook = fn;
  disk->sync_hook_arg = arg;
}

void evc_simdisk_set_clock(struct evc_simdisk *disk, uint64_t (*now_unix_ms)(void *arg),
                           void *arg) {
  EVC_ASSERT(disk != NULL);
  disk->clock_fn = now_unix_ms;
  disk->clock_arg = arg;
}

void evc_simdisk_set_faults(struct evc_simdisk *disk, const struct evc_simdisk_faults *faults) {
  EVC_ASSERT(disk != NULL);
  EVC_ASSERT(faults != NULL);
  EVC_ASSERT(faults->torn_write_ppm <= SIMDISK_PPM);
  EVC_ASSERT(faults->lost_fsync_ppm <= SIMDISK_PPM);
  char *prefix = NULL;
  if (faults->path_prefix != NULL && faults->path_prefix[0] != '\0') {
    EVC_ASSERT(path_valid(faults->path_prefix));
    prefix = strdup(faults->path_prefix);
    EVC_ASSERT(prefix != NULL); /* a void setter: arming faults must not silently fail */
  }
  free(disk->fault_prefix);
  disk->fault_prefix = prefix;
  disk->countdowns[SIMDISK_READ] = (struct simdisk_countdown){faults->fail_read_countdown, false};
  disk->countdowns[SIMDISK_WRITE] =
      (struct simdisk_countdown){faults->fail_write_countdown, false};
  disk->countdowns[SIMDISK_SYNC] = (struct simdisk_countdown){faults->fail_sync_countdown, false};
  disk->countdowns[SIMDISK_MISDIRECT] =
      (struct simdisk_countdown){faults->misdirect_write_countdown, false};
  disk->fault_persistent = faults->persistent;
  disk->torn_write_ppm = faults->torn_write_ppm;
  disk->lost_fsync_ppm = faults->lost_fsync_ppm;
}

uint64_t evc_simdisk_faults_fired(const struct evc_simdisk *disk) {
  EVC_ASSERT(disk != NULL);
  return disk->faults_fired;
}

uint64_t evc_simdisk_sync_count(const struct evc_simdisk *disk) {
  EVC_ASSERT(disk != NULL);
  return disk->sync_count;
}

/* ---- crash ---- */

/* Applies the part of a write that lies in sector (absolute sector number). */
static void crash_put_sector(struct simdisk_image *image, const struct simdisk_op *op,
                             size_t sector) {
  size_t low = sector * EVC_SIMDISK_SECTOR_SIZE;
  size_t high = low + EVC_SIMDISK_SECTOR_SIZE;
  if (low < op->offset) low = op->offset;
  if (high > op->offset + op->size) high = op->offset + op->size;
  EVC_ASSERT(low < high);
  EVC_ASSERT(image_reserve(image, high) == 0); /* crash cannot fail: out of memory is fatal */
  image_put(image, low, op->bytes + (low - op->offset), high - low);
}

/* An unsynced op that survives the crash: a truncate whole, a write as a sector-aligned
 * prefix (half the time) or an arbitrary subset of its sectors; a lost replace never. */
static void crash_apply_torn(struct evc_simdisk *disk, struct simdisk_image *image,
                             const struct simdisk_op *op) {
  if (op->kind == SIMDISK_OP_TRUNCATE) {
    EVC_ASSERT(image_reserve(image, op->offset) == 0);
    image_resize(image, op->offset);
    return;
  }
  if (op->kind == SIMDISK_OP_REPLACE || op->size == 0) return;
  size_t first = op->offset / EVC_SIMDISK_SECTOR_SIZE;
  size_t count = (op->offset + op->size - 1) / EVC_SIMDISK_SECTOR_SIZE - first + 1;
  bool prefix_mode = evc_simdisk_random(disk) % 2 == 0;
  uint64_t prefix_count = prefix_mode ? evc_simdisk_random(disk) % (count + 1) : 0;
  for (size_t i = 0; i < count; i++) {
    bool keep = prefix_mode ? i < prefix_count : evc_simdisk_random(disk) % 2 == 0;
    if (keep) crash_put_sector(image, op, first + i);
  }
}

static void crash_file(struct evc_simdisk *disk, struct evc_simdisk_file *file) {
  bool tear = disk->torn_write_ppm > 0 && fault_applies(disk, file->path);
  for (size_t i = 0; tear && i < file->op_count; i++) {
    if (!chance_ppm(disk, disk->torn_write_ppm)) continue;
    disk->faults_fired++;
    crash_apply_torn(disk, &file->durable_image, &file->ops[i]);
  }
  file_drop_ops(file);
  int rc = image_assign(&file->volatile_image, file->durable_image.bytes,
                        file->durable_image.size);
  EVC_ASSERT(rc == 0); /* crash cannot fail: out of memory is fatal */
}

/* Volatile state of a file (locks, wal-index) does not survive a power cut. */
static void crash_forget_volatile(struct evc_simdisk_file *file) {
  file->locks = (struct evc_simdisk_locks){0};
  if (file->shm == NULL) return;
  EVC_ASSERT(file->shm->attach_count > 0);
  file->shm->orphaned = true;
  file->shm = NULL;
}

void evc_simdisk_crash(struct evc_simdisk *disk) {
  EVC_ASSERT(disk != NULL);
  disk->generation++;
  size_t index = 0;
  while (index < disk->file_count) {
    struct evc_simdisk_file *file = disk->files[index];
    crash_forget_volatile(file);
    if (!file->durable) { /* created but never synced: its directory entry is gone */
      table_remove_at(disk, index);
      continue;
    }
    crash_file(disk, file);
    index++;
  }
}

/* ---- public: small durable files ---- */

int evc_simdisk_read(struct evc_simdisk *disk, const char *path, uint8_t **bytes_out,
                     size_t *size_out) {
  EVC_ASSERT(disk != NULL);
  EVC_ASSERT(bytes_out != NULL);
  EVC_ASSERT(size_out != NULL);
  if (!path_valid(path)) return EVC_EINVAL;
  struct evc_simdisk_file *file = table_find(disk, path);
  if (file == NULL) return EVC_ENOTFOUND;
  if (fault_fires(disk, SIMDISK_READ, path)) return EVC_EIO;
  size_t size = file->volatile_image.size;
  uint8_t *bytes = malloc(size == 0 ? 1 : size);
  if (bytes == NULL) return EVC_ENOMEM;
  if (size > 0) memcpy(bytes, file->volatile_image.bytes, size);
  *bytes_out = bytes;
  *size_out = size;
  return 0;
}

/* Finds path or creates it (unlinked until table_insert); *created says which. */
static int replace_target(struct evc_simdisk *disk, const char *path,
                          struct evc_simdisk_file **file_out, bool *created) {
  struct evc_simdisk_file *file = table_find(disk, path);
  *created = file == NULL;
  if (file == NULL) {
    int rc = table_reserve(disk, disk->file_count + 1);
    if (rc != 0) return rc;
    file = file_new(path);
    if (file == NULL) return EVC_ENOMEM;
  }
  *file_out = file;
  return 0;
}

/* Reserves everything a replace needs so that committing it cannot fail. */
static int replace_prepare(struct evc_simdisk_file *file, size_t size, bool lost,
                           struct simdisk_op *op) {
  int rc = image_reserve(&file->volatile_image, size);
  if (rc == 0 && !lost) rc = image_reserve(&file->durable_image, size);
  if (rc == 0 && lost) rc = file_reserve_op(file);
  if (rc == 0 && lost) {
    op->bytes = malloc(size == 0 ? 1 : size);
    if (op->bytes == NULL) rc = EVC_ENOMEM;
  }
  return rc;
}

int evc_simdisk_replace(struct evc_simdisk *disk, const char *path, const uint8_t *bytes,
                        size_t size) {
  EVC_ASSERT(disk != NULL);
  EVC_ASSERT(bytes != NULL || size == 0);
  if (!path_valid(path)) return EVC_EINVAL;
  if (size > EVC_SIMDISK_FILE_SIZE_MAX) return EVC_ETOOBIG;
  if (fault_fires(disk, SIMDISK_WRITE, path)) return EVC_EIO;
  if (fault_fires(disk, SIMDISK_SYNC, path)) return EVC_EIO;
  bool lost = lost_fsync_fires(disk, path);
  struct evc_simdisk_file *file = NULL;
  bool created = false;
  int rc = replace_target(disk, path, &file, &created);
  if (rc != 0) return rc;
  struct simdisk_op op = {SIMDISK_OP_REPLACE, 0, size, NULL};
  rc = replace_prepare(file, size, lost, &op);
  if (rc != 0) {
    if (created) file_free(file);
    return rc;
  }
  file_drop_ops(file); /* a rename replaces the inode: its unsynced writes go with it */
  file->volatile_image.size = 0;
  image_put(&file->volatile_image, 0, bytes, size);
  if (lost) {
    if (size > 0) memcpy(op.bytes, bytes, size);
    file->ops[file->op_count++] = op;
    file->pending_bytes = size;
  } else {
    file->durable_image.size = 0;
    image_put(&file->durable_image, 0, bytes, size);
    file->durable = true;
  }
  if (created) table_insert(disk, file);
  durable_write_done(disk, path);
  return 0;
}

bool evc_simdisk_exists(const struct evc_simdisk *disk, const char *path) {
  EVC_ASSERT(disk != NULL);
  return path_valid(path) && table_find(disk, path) != NULL;
}

void evc_simdisk_remove_prefix(struct evc_simdisk *disk, const char *prefix) {
  EVC_ASSERT(disk != NULL);
  EVC_ASSERT(prefix != NULL);
  size_t prefix_size = strlen(prefix);
  size_t index = 0;
  while (index < disk->file_count) {
    if (strncmp(disk->files[index]->path, prefix, prefix_size) == 0) {
      table_remove_at(disk, index);
    } else {
      index++;
    }
  }
}

/* A fresh, durable copy of src's durable image (unlinked). */
static struct evc_simdisk_file *file_clone_durable(const struct evc_simdisk_file *src) {
  struct evc_simdisk_file *file = file_new(src->path);
  if (file == NULL) return NULL;
  const struct simdisk_image *image = &src->durable_image;
  if (image_assign(&file->durable_image, image->bytes, image->size) != 0 ||
      image_assign(&file->volatile_image, image->bytes, image->size) != 0) {
    file_free(file);
    return NULL;
  }
  file->durable = true;
  return file;
}

int evc_simdisk_copy_prefix(struct evc_simdisk *dst, const struct evc_simdisk *src,
                            const char *prefix) {
  EVC_ASSERT(dst != NULL);
  EVC_ASSERT(src != NULL);
  EVC_ASSERT(dst != src);
  EVC_ASSERT(prefix != NULL);
  size_t prefix_size = strlen(prefix);
  struct evc_simdisk_file **copies = calloc(src->file_count + 1, sizeof(copies[0]));
  if (copies == NULL) return EVC_ENOMEM;
  size_t copy_count = 0;
  int rc = table_reserve(dst, dst->file_count + src->file_count);
  for (size_t i = 0; rc == 0 && i < src->file_count; i++) {
    const struct evc_simdisk_file *file = src->files[i];
    if (!file->durable || strncmp(file->path, prefix, prefix_size) != 0) continue;
    copies[copy_count] = file_clone_durable(file);
    if (copies[copy_count] == NULL) rc = EVC_ENOMEM;
    else copy_count++;
  }
  if (rc == 0) {
    evc_simdisk_remove_prefix(dst, prefix);
    for (size_t i = 0; i < copy_count; i++) table_insert(dst, copies[i]);
  } else {
    for (size_t i = 0; i < copy_count; i++) file_free(copies[i]);
  }
  free(copies);
  return rc;
}

/* ---- internal: per-file I/O for the VFS ---- */

int evc_simdisk_file_open(struct evc_simdisk *disk, const char *path, bool create,
                          bool exclusive, struct evc_simdisk_file **file_out) {
  EVC_ASSERT(disk != NULL);
  EVC_ASSERT(file_out != NULL);
  if (path != NULL && !path_valid(path)) return EVC_EINVAL;
  struct evc_simdisk_file *file = path == NULL ? NULL : table_find(disk, path);
  if (file != NULL && exclusive) return EVC_EEXIST;
  if (file == NULL) {
    if (path != NULL && !create) return EVC_ENOTFOUND;
    if (path != NULL && table_reserve(disk, disk->file_count + 1) != 0) return EVC_ENOMEM;
    file = file_new(path);
    if (file == NULL) return EVC_ENOMEM;
    if (path != NULL) table_insert(disk, file);
  }
  file->handle_count++;
  disk->handle_count++;
  *file_out = file;
  return 0;
}

void evc_simdisk_file_close(struct evc_simdisk *disk, struct evc_simdisk_file *file) {
  EVC_ASSERT(disk != NULL);
  EVC_ASSERT(file->handle_count > 0);
  EVC_ASSERT(disk->handle_count > 0);
  file->handle_count--;
  disk->handle_count--;
  if (file->handle_count == 0 && !file->linked) file_free(file);
}

void evc_simdisk_file_unlink(struct evc_simdisk *disk, struct evc_simdisk_file *file) {
  EVC_ASSERT(disk != NULL);
  EVC_ASSERT(file->handle_count > 0); /* only a handle holder can ask */
  if (!file->linked) return;
  bool found = false;
  size_t index = table_search(disk, file->path, &found);
  EVC_ASSERT(found);
  EVC_ASSERT(disk->files[index] == file);
  table_remove_at(disk, index);
}

int evc_simdisk_file_read(struct evc_simdisk *disk, struct evc_simdisk_file *file,
                          uint64_t offset, void *bytes, size_t size) {
  EVC_ASSERT(disk != NULL);
  EVC_ASSERT(bytes != NULL || size == 0);
  if (fault_fires(disk, SIMDISK_READ, file->path)) return EVC_EIO;
  const struct simdisk_image *image = &file->volatile_image;
  size_t available = 0;
  if (offset < image->size) available = image->size - (size_t)offset;
  if (available > size) available = size;
  if (available > 0) memcpy(bytes, image->bytes + offset, available);
  if (available == size) return 0;
  memset((uint8_t *)bytes + available, 0, size - available);
  return EVC_ETRUNC;
}

/* Records an op (bytes copied) and applies it to the volatile image; all or nothing. */
static int file_record(struct evc_simdisk_file *file, enum simdisk_op_kind kind, size_t offset,
                       const void *bytes, size_t size) {
  struct simdisk_op op = {kind, offset, size, NULL};
  int rc = file_reserve_op(file);
  if (rc == 0) rc = image_reserve(&file->volatile_image, op_end(&op));
  if (rc == 0 && size > 0) {
    op.bytes = malloc(size);
    if (op.bytes == NULL) rc = EVC_ENOMEM;
    else memcpy(op.bytes, bytes, size);
  }
  if (rc != 0) return rc;
  op_apply(&file->volatile_image, &op);
  file->ops[file->op_count++] = op;
  file->pending_bytes += size;
  file_write_back(file);
  return 0;
}

int evc_simdisk_file_write(struct evc_simdisk *disk, struct evc_simdisk_file *file,
                           uint64_t offset, const void *bytes, size_t size) {
  EVC_ASSERT(disk != NULL);
  EVC_ASSERT(bytes != NULL || size == 0);
  if (offset > EVC_SIMDISK_FILE_SIZE_MAX || size > EVC_SIMDISK_FILE_SIZE_MAX - offset) {
    return EVC_ETOOBIG;
  }
  if (fault_fires(disk, SIMDISK_WRITE, file->path)) return EVC_EIO;
  if (fault_fires(disk, SIMDISK_MISDIRECT, file->path) &&
      size <= EVC_SIMDISK_FILE_SIZE_MAX - EVC_SIMDISK_MISDIRECT_BYTES - offset) {
    offset += EVC_SIMDISK_MISDIRECT_BYTES; /* the head lands on the wrong track */
  }
  return file_record(file, SIMDISK_OP_WRITE, (size_t)offset, bytes, size);
}

int evc_simdisk_file_truncate(struct evc_simdisk *disk, struct evc_simdisk_file *file,
                              uint64_t size) {
  EVC_ASSERT(disk != NULL);
  if (size > EVC_SIMDISK_FILE_SIZE_MAX) return EVC_ETOOBIG;
  return file_record(file, SIMDISK_OP_TRUNCATE, (size_t)size, NULL, 0);
}

uint64_t evc_simdisk_file_size(const struct evc_simdisk_file *file) {
  return file->volatile_image.size;
}

int evc_simdisk_file_sync(struct evc_simdisk *disk, struct evc_simdisk_file *file) {
  EVC_ASSERT(disk != NULL);
  if (file->path == NULL) return 0; /* anonymous: nothing to make durable, not counted */
  if (fault_fires(disk, SIMDISK_SYNC, file->path)) return EVC_EIO;
  if (!lost_fsync_fires(disk, file->path)) {
    int rc = file_apply_oldest(file, file->op_count);
    if (rc != 0) return rc;
    EVC_ASSERT(file->pending_bytes == 0);
    /* Directory durability: a file's creation is durable from its first sync. */
    if (file->linked) file->durable = true;
  }
  durable_write_done(disk, file->path);
  return 0;
}

struct evc_simdisk_locks *evc_simdisk_file_locks(struct evc_simdisk_file *file) {
  return &file->locks;
}

int evc_simdisk_shm_attach(struct evc_simdisk_file *file, struct evc_simdisk_shm **shm_out) {
  EVC_ASSERT(shm_out != NULL);
  if (file->shm == NULL) {
    file->shm = calloc(1, sizeof(*file->shm));
    if (file->shm == NULL) return EVC_ENOMEM;
  }
  file->shm->attach_count++;
  *shm_out = file->shm;
  return 0;
}

void evc_simdisk_shm_detach(struct evc_simdisk_file *file, struct evc_simdisk_shm *shm) {
  EVC_ASSERT(shm->attach_count > 0);
  shm->attach_count--;
  if (shm->attach_count > 0) return;
  if (!shm->orphaned) {
    EVC_ASSERT(file->shm == shm);
    file->shm = NULL;
  }
  for (size_t i = 0; i < shm->region_count; i++) free(shm->regions[i]);
  free(shm->regions);
  free(shm);
}

int evc_simdisk_shm_region(struct evc_simdisk_shm *shm, size_t index, size_t region_size,
                           bool extend, uint8_t **region_out) {
  EVC_ASSERT(region_out != NULL);
  *region_out = NULL;
  if (region_size == 0 || region_size > EVC_SIMDISK_SHM_REGION_SIZE_MAX) return EVC_EINVAL;
  if (shm->region_size != 0 && shm->region_size != region_size) return EVC_EINVAL;
  if (index >= EVC_SIMDISK_SHM_REGION_COUNT_MAX) return EVC_EINVAL;
  if (index < shm->region_count) {
    *region_out = shm->regions[index];
    return 0;
  }
  if (!extend) return 0;
  uint8_t **regions = realloc(shm->regions, (index + 1) * sizeof(regions[0]));
  if (regions == NULL) return EVC_ENOMEM;
  shm->regions = regions;
  shm->region_size = region_size;
  while (shm->region_count <= index) {
    uint8_t *region = calloc(1, region_size);
    if (region == NULL) return EVC_ENOMEM;
    shm->regions[shm->region_count++] = region;
  }
  *region_out = shm->regions[index];
  return 0;
}

/* ---- internal: disk-wide ---- */

int evc_simdisk_unlink(struct evc_simdisk *disk, const char *path) {
  EVC_ASSERT(disk != NULL);
  if (!path_valid(path)) return EVC_EINVAL;
  bool found = false;
  size_t index = table_search(disk, path, &found);
  if (!found) return EVC_ENOTFOUND;
  table_remove_at(disk, index);
  return 0;
}

int evc_simdisk_size(const struct evc_simdisk *disk, const char *path, uint64_t *size_out) {
  EVC_ASSERT(disk != NULL);
  EVC_ASSERT(size_out != NULL);
  if (!path_valid(path)) return EVC_EINVAL;
  const struct evc_simdisk_file *file = table_find(disk, path);
  if (file == NULL) return EVC_ENOTFOUND;
  *size_out = file->volatile_image.size;
  return 0;
}

uint64_t evc_simdisk_generation(const struct evc_simdisk *disk) {
  EVC_ASSERT(disk != NULL);
  return disk->generation;
}

uint64_t evc_simdisk_random(struct evc_simdisk *disk) {
  EVC_ASSERT(disk != NULL);
  if (disk->rand_fn != NULL) return disk->rand_fn(disk->rand_arg);
  /* splitmix64 over a counter: a fixed, deterministic stream */
  uint64_t x = (disk->fallback_counter += UINT64_C(0x9e3779b97f4a7c15));
  x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
  return x ^ (x >> 31);
}

uint64_t evc_simdisk_now_unix_ms(const struct evc_simdisk *disk) {
  EVC_ASSERT(disk != NULL);
  if (disk->clock_fn == NULL) return SIMDISK_FIXED_EPOCH_MS;
  return disk->clock_fn(disk->clock_arg);
}

static void image_xor(struct simdisk_image *image, uint64_t offset, size_t size, uint8_t mask) {
  for (size_t i = 0; i < size && offset + i < image->size; i++) image->bytes[offset + i] ^= mask;
}

int evc_simdisk_corrupt(struct evc_simdisk *disk, const char *path, uint64_t offset,
                        size_t size, uint8_t mask) {
  EVC_ASSERT(disk != NULL);
  struct evc_simdisk_file *file = path_valid(path) ? table_find(disk, path) : NULL;
  if (file == NULL) return EVC_ENOTFOUND;
  if (offset >= file->volatile_image.size && offset >= file->durable_image.size) return EVC_ERANGE;
  image_xor(&file->durable_image, offset, size, mask);
  image_xor(&file->volatile_image, offset, size, mask);
  disk->faults_fired++;
  return 0;
}
