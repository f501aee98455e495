/* POSIX file helpers: bounded whole-file reads, atomic durable replace/create (temp file,
 * fsync, rename or link, directory fsync), mkdir -p and tree removal. Live runtime and CLIs
 * only: the core and the simulator must never call these (they go through struct evc_env). */
/* nftw() and its FTW_* flags are XSI: glibc hides them under plain _POSIX_C_SOURCE. */
#define _XOPEN_SOURCE 700

#include "node/os/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "node/common/assert.h"
#include "node/common/error.h"

#define TEMP_SUFFIX_SIZE_MAX 64u   /* ".tmp.<pid>.<counter>" */
#define TEMP_ATTEMPTS_MAX 16u      /* O_EXCL collisions tolerated before giving up */
#define REMOVE_TREE_FDS_MAX 16     /* directory descriptors nftw may hold open */

_Static_assert(EVC_FS_PATH_SIZE_MAX + TEMP_SUFFIX_SIZE_MAX < 8192u, "path buffers stay small");

static atomic_ulong temp_counter;

static bool path_ok(const char *path) {
  EVC_ASSERT(path != NULL);
  size_t len = strnlen(path, EVC_FS_PATH_SIZE_MAX + 1);
  return len > 0 && len <= EVC_FS_PATH_SIZE_MAX;
}

/* Reads fd to its end into a buffer grown up to size_max + 1 bytes (to see an overflow). */
static int read_all(int fd, size_t size_max, size_t size_hint, uint8_t **bytes_out,
                    size_t *size_out) {
  size_t capacity = size_hint < size_max ? size_hint + 1 : size_max + 1;
  uint8_t *buf = malloc(capacity);
  if (buf == NULL) return EVC_ENOMEM;
  size_t offset = 0;
  for (;;) {
    if (offset == capacity) {
      if (capacity > size_max) {
        free(buf);
        return EVC_ETOOBIG;
      }
      size_t grown = capacity <= size_max / 2 ? capacity * 2 : size_max + 1;
      uint8_t *bigger = realloc(buf, grown);
      if (bigger == NULL) {
        free(buf);
        return EVC_ENOMEM;
      }
      buf = bigger;
      capacity = grown;
    }
    ssize_t n = read(fd, buf + offset, capacity - offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      free(buf);
      return EVC_EIO;
    }
    if (n == 0) break;
    offset += (size_t)n;
  }
  EVC_ASSERT(offset <= size_max);
  *bytes_out = buf;
  *size_out = offset;
  return 0;
}

int evc_fs_read_file_mode(const char *path, size_t size_max, uint8_t **bytes_out,
                          size_t *size_out, unsigned *mode_out) {
  EVC_ASSERT(bytes_out != NULL);
  EVC_ASSERT(size_out != NULL);
  EVC_ASSERT(size_max <= SIZE_MAX / 2);
  *bytes_out = NULL;
  *size_out = 0;
  if (!path_ok(path)) return EVC_EINVAL;
  int fd;
  do {
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return errno == ENOENT ? EVC_ENOTFOUND : EVC_EIO;
  struct stat st;
  int rc = EVC_EIO;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    if ((uintmax_t)st.st_size > (uintmax_t)size_max) {
      rc = EVC_ETOOBIG;
    } else {
      rc = read_all(fd, size_max, (size_t)st.st_size, bytes_out, size_out);
    }
  }
  close(fd); /* read-only: nothing to lose on close */
  if (rc == 0 && mode_out != NULL) *mode_out = (unsigned)(st.st_mode & 07777);
  return rc;
}

int evc_fs_read_file(const char *path, size_t size_max, uint8_t **bytes_out, size_t *size_out) {
  return evc_fs_read_file_mode(path, size_max, bytes_out, size_out, NULL);
}

static int write_all(int fd, const uint8_t *bytes, size_t size) {
  size_t offset = 0;
  while (offset < size) {
    ssize_t n = write(fd, bytes + offset, size - offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return EVC_EIO;
    offset += (size_t)n;
  }
  return 0;
}

static int fsync_retry(int fd) {
  int rc;
  do {
    rc = fsync(fd);
  } while (rc != 0 && errno == EINTR);
  return rc == 0 ? 0 : EVC_EIO;
}

/* Makes a rename or link inside path's directory durable. */
static int fsync_parent_dir(const char *path) {
  char dir[EVC_FS_PATH_SIZE_MAX + 1];
  const char *slash = strrchr(path, '/');
  if (slash == NULL) {
    strcpy(dir, ".");
  } else if (slash == path) {
    strcpy(dir, "/");
  } else {
    size_t len = (size_t)(slash - path);
    EVC_ASSERT(len < sizeof dir);
    memcpy(dir, path, len);
    dir[len] = '\0';
  }
  int fd;
  do {
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return EVC_EIO;
  int rc = fsync_retry(fd);
  close(fd);
  return rc;
}

/* Opens a fresh temp file beside path (O_EXCL, never following a symlink). */
static int temp_open(const char *path, unsigned mode, char *tmp, size_t tmp_size, int *fd_out) {
  for (unsigned attempt = 0; attempt < TEMP_ATTEMPTS_MAX; attempt++) {
    unsigned long n = atomic_fetch_add(&temp_counter, 1);
    int len = snprintf(tmp, tmp_size, "%s.tmp.%ld.%lu", path, (long)getpid(), n);
    EVC_ASSERT(len > 0);
    EVC_ASSERT((size_t)len < tmp_size);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, (mode_t)mode);
    if (fd >= 0) {
      *fd_out = fd;
      return 0;
    }
    if (errno != EEXIST && errno != EINTR) return EVC_EIO;
  }
  return EVC_EIO;
}

/* Writes bytes to a new durable temp file with exactly mode; on error nothing is left. */
static int temp_write(const char *path, const uint8_t *bytes, size_t size, unsigned mode,
                      char *tmp, size_t tmp_size) {
  int fd = -1;
  int rc = temp_open(path, mode, tmp, tmp_size, &fd);
  if (rc != 0) return rc;
  /* fchmod: the umask must not change the mode a key or sign state is created with. */
  if (fchmod(fd, (mode_t)mode) != 0) rc = EVC_EIO;
  if (rc == 0) rc = write_all(fd, bytes, size);
  if (rc == 0) rc = fsync_retry(fd);
  /* close can report a deferred write error; its EINTR still closes the fd on Linux. */
  if (close(fd) != 0 && rc == 0) rc = EVC_EIO;
  if (rc != 0) unlink(tmp);
  return rc;
}

int evc_fs_replace_atomic(const char *path, const uint8_t *bytes, size_t size, unsigned mode) {
  EVC_ASSERT(bytes != NULL || size == 0);
  EVC_ASSERT((mode & ~07777u) == 0);
  if (!path_ok(path)) return EVC_EINVAL;
  char tmp[EVC_FS_PATH_SIZE_MAX + TEMP_SUFFIX_SIZE_MAX];
  int rc = temp_write(path, bytes, size, mode, tmp, sizeof tmp);
  if (rc != 0) return rc;
  if (rename(tmp, path) != 0) {
    unlink(tmp);
    return EVC_EIO;
  }
  /* After the rename the old content is gone; a failed directory fsync means the new name
   * may not survive a power cut, so the caller must not act as if it were durable. */
  return fsync_parent_dir(path);
}

int evc_fs_create_atomic(const char *path, const uint8_t *bytes, size_t size, unsigned mode) {
  EVC_ASSERT(bytes != NULL || size == 0);
  EVC_ASSERT((mode & ~07777u) == 0);
  if (!path_ok(path)) return EVC_EINVAL;
  struct stat st;
  if (lstat(path, &st) == 0) return EVC_EEXIST;
  if (errno != ENOENT) return EVC_EIO;
  char tmp[EVC_FS_PATH_SIZE_MAX + TEMP_SUFFIX_SIZE_MAX];
  int rc = temp_write(path, bytes, size, mode, tmp, sizeof tmp);
  if (rc != 0) return rc;
  /* link() fails with EEXIST instead of replacing: the no-overwrite check is atomic. */
  int link_rc = link(tmp, path);
  int link_errno = errno;
  if (unlink(tmp) != 0 && link_rc == 0) return EVC_EIO;
  if (link_rc != 0) return link_errno == EEXIST ? EVC_EEXIST : EVC_EIO;
  return fsync_parent_dir(path);
}

static int mkdir_one(const char *path, unsigned mode) {
  if (mkdir(path, (mode_t)mode) == 0) return 0;
  if (errno != EEXIST) return EVC_EIO;
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) return EVC_EIO;
  return 0;
}

int evc_fs_mkdir_p(const char *path, unsigned mode) {
  EVC_ASSERT((mode & ~07777u) == 0);
  if (!path_ok(path)) return EVC_EINVAL;
  char buf[EVC_FS_PATH_SIZE_MAX + 1];
  size_t len = strlen(path);
  memcpy(buf, path, len + 1);
  for (size_t i = 1; i < len; i++) {
    if (buf[i] != '/' || buf[i - 1] == '/') continue;
    buf[i] = '\0';
    int rc = mkdir_one(buf, mode);
    buf[i] = '/';
    if (rc != 0) return rc;
  }
  return mkdir_one(buf, mode);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  (void)st;
  (void)ftw;
  if (type == FTW_DNR || type == FTW_NS) return -1;
  int rc = type == FTW_DP ? rmdir(path) : unlink(path);
  if (rc != 0 && errno != ENOENT) return -1;
  return 0;
}

/* True for "", paths made only of '/', and paths whose last component is "." or "..". */
static bool path_dangerous_to_remove(const char *path) {
  size_t len = strlen(path);
  while (len > 0 && path[len - 1] == '/') len--;
  if (len == 0) return true;
  size_t start = len;
  while (start > 0 && path[start - 1] != '/') start--;
  size_t last = len - start;
  if (last == 1 && path[start] == '.') return true;
  if (last == 2 && path[start] == '.' && path[start + 1] == '.') return true;
  return false;
}

int evc_fs_remove_tree(const char *path) {
  if (!path_ok(path) || path_dangerous_to_remove(path)) return EVC_EINVAL;
  struct stat st;
  if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : EVC_EIO;
  if (!S_ISDIR(st.st_mode)) return unlink(path) == 0 || errno == ENOENT ? 0 : EVC_EIO;
  /* nftw walks depth-first without recursion in our code; FTW_PHYS never follows a symlink
   * and FTW_MOUNT never descends into another file system. */
  int rc = nftw(path, remove_entry, REMOVE_TREE_FDS_MAX, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
  return rc == 0 ? 0 : EVC_EIO;
}
