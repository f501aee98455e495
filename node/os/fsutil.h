/* POSIX file helpers for the live runtime and the CLIs: bounded reads, atomic durable
 * replace/create, mkdir -p and tree removal. Never linked into node/core or the simulator;
 * the core reaches files only through struct evc_env. */
#ifndef EVC_OS_FSUTIL_H
#define EVC_OS_FSUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Longest path these helpers accept (bytes, without the NUL); longer paths are EVC_EINVAL. */
#define EVC_FS_PATH_SIZE_MAX 4000u

/* Reads a whole regular file into a malloc'd buffer (*bytes_out, never NULL on success; free
 * with free()). EVC_ENOTFOUND when absent, EVC_ETOOBIG over size_max bytes, EVC_EIO otherwise. */
int evc_fs_read_file(const char *path, size_t size_max, uint8_t **bytes_out, size_t *size_out);
/* As evc_fs_read_file, and reports the file's permission bits (st_mode & 07777) in *mode_out,
 * taken from the same open file that was read. */
int evc_fs_read_file_mode(const char *path, size_t size_max, uint8_t **bytes_out,
                          size_t *size_out, unsigned *mode_out);
/* Replaces path atomically and durably: a temp file in the same directory (O_EXCL, exactly
 * mode), fsync, rename over path, fsync of the directory. On an error before the rename the
 * temp is removed and the old file is intact; EVC_EIO (EVC_EINVAL for a bad path). */
int evc_fs_replace_atomic(const char *path, const uint8_t *bytes, size_t size, unsigned mode);
/* As evc_fs_replace_atomic but never overwrites: EVC_EEXIST when path already exists (the
 * new file appears complete or not at all: temp file, fsync, link, directory fsync). */
int evc_fs_create_atomic(const char *path, const uint8_t *bytes, size_t size, unsigned mode);
/* Creates path and its missing parents with mode (as mkdir -p); 0 when it already is a
 * directory. EVC_EIO on failure (including a non-directory in the way), EVC_EINVAL. */
int evc_fs_mkdir_p(const char *path, unsigned mode);
/* Removes path and everything below it without following symlinks or crossing mount points;
 * 0 when path does not exist. Refuses "" and "/" (EVC_EINVAL); EVC_EIO on failure. */
int evc_fs_remove_tree(const char *path);

#endif
