/* Replay driver: runs one harness over files and directories of inputs (ctest replays every
 * corpus this way, under sanitizers too) and prints "N passed, M failed". It must never
 * hide a crash: assertions abort, and the input that crashed is named on stderr. */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz/fuzz.h"

#ifndef EVC_FUZZ_TARGET
#error "define EVC_FUZZ_TARGET to the harness function, e.g. evc_fuzz_codec"
#endif

/* Inputs above this are refused rather than read: AFL++ caps its inputs at 1 MiB. */
#define REPLAY_INPUT_SIZE_MAX (16u * 1024u * 1024u)
/* A corpus directory holds at most this many entries (committed corpora hold dozens). */
#define REPLAY_DIR_ENTRIES_MAX 100000u
#define REPLAY_PATH_SIZE_MAX 4096u

struct replay_counts {
  unsigned long passed;
  unsigned long failed;
};

/* The input being run, for the crash message; set before, cleared after each run. */
static char current_path[REPLAY_PATH_SIZE_MAX];
static const int crash_signals[] = {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL};
static struct sigaction previous_actions[sizeof crash_signals / sizeof crash_signals[0]];

static void write_text(const char *text) {
  size_t left = strlen(text);
  while (left > 0) {
    ssize_t n = write(STDERR_FILENO, text, left);
    if (n <= 0) return;
    text += n;
    left -= (size_t)n;
  }
}

/* Names the input, then puts back the previous handler (a sanitizer's, or the default) and
 * returns: the faulting instruction or abort() raises again and that handler reports. */
static void on_crash_signal(int sig) {
  if (current_path[0] != '\0') {
    write_text("replay: crashed on input '");
    write_text(current_path);
    write_text("'\n");
  }
  for (size_t i = 0; i < sizeof crash_signals / sizeof crash_signals[0]; i++) {
    if (crash_signals[i] == sig) sigaction(sig, &previous_actions[i], NULL);
  }
}

static void install_crash_handlers(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_crash_signal;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof crash_signals / sizeof crash_signals[0]; i++) {
    sigaction(crash_signals[i], &sa, &previous_actions[i]);
  }
}

/* Reads a whole regular file of at most REPLAY_INPUT_SIZE_MAX bytes; NULL with a message. */
static uint8_t *read_input(const char *path, size_t *size_out) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    fprintf(stderr, "replay: cannot open '%s'\n", path);
    return NULL;
  }
  /* One byte of headroom tells "exactly the limit" from "more than the limit". */
  uint8_t *bytes = malloc(REPLAY_INPUT_SIZE_MAX + 1u);
  size_t size = bytes != NULL ? fread(bytes, 1, REPLAY_INPUT_SIZE_MAX + 1u, f) : 0;
  int bad = bytes == NULL || ferror(f) || size > REPLAY_INPUT_SIZE_MAX;
  fclose(f);
  if (bad) {
    fprintf(stderr, "replay: cannot read '%s' (unreadable or over %u bytes)\n", path,
            REPLAY_INPUT_SIZE_MAX);
    free(bytes);
    return NULL;
  }
  *size_out = size;
  return bytes;
}

static void run_file(const char *path, struct replay_counts *counts) {
  size_t size = 0;
  uint8_t *bytes = read_input(path, &size);
  if (bytes == NULL) {
    counts->failed++;
    return;
  }
  snprintf(current_path, sizeof current_path, "%s", path);
  int rc = EVC_FUZZ_TARGET(bytes, size);
  current_path[0] = '\0';
  free(bytes);
  if (rc != 0) {
    fprintf(stderr, "replay: harness returned %d on '%s'\n", rc, path);
    counts->failed++;
  } else {
    counts->passed++;
  }
}

static int compare_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists the visible regular files of a directory in name order, so runs are repeatable. */
static char **list_dir(const char *dir, size_t *count_out) {
  DIR *d = opendir(dir);
  if (d == NULL) return NULL;
  char **names = calloc(REPLAY_DIR_ENTRIES_MAX, sizeof *names);
  size_t count = 0;
  struct dirent *e;
  while (names != NULL && count < REPLAY_DIR_ENTRIES_MAX && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char path[REPLAY_PATH_SIZE_MAX];
    struct stat st;
    int n = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (n < 0 || (size_t)n >= sizeof path || stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
      continue;
    }
    names[count] = strdup(path);
    if (names[count] != NULL) count++;
  }
  closedir(d);
  if (names != NULL) qsort(names, count, sizeof *names, compare_names);
  *count_out = count;
  return names;
}

static void run_path(const char *path, struct replay_counts *counts) {
  struct stat st;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "replay: no such file or directory '%s'\n", path);
    counts->failed++;
    return;
  }
  if (!S_ISDIR(st.st_mode)) return run_file(path, counts);
  size_t count = 0;
  char **names = list_dir(path, &count);
  if (names == NULL) {
    fprintf(stderr, "replay: cannot list directory '%s'\n", path);
    counts->failed++;
    return;
  }
  for (size_t i = 0; i < count; i++) {
    run_file(names[i], counts);
    free(names[i]);
  }
  free(names);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
    return 2;
  }
  install_crash_handlers();
  struct replay_counts counts = {0, 0};
  for (int i = 1; i < argc; i++) run_path(argv[i], &counts);
  printf("%lu passed, %lu failed\n", counts.passed, counts.failed);
  if (counts.passed + counts.failed == 0) {
    fprintf(stderr, "replay: no inputs found: a corpus must not be empty\n");
    return 1;
  }
  return counts.failed == 0 ? 0 : 1;
}
