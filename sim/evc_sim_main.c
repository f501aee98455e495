/* evc-sim: replays scenarios in the deterministic simulator. */
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: evc-sim run FILE [--seed N] [--trace FILE] [--check-determinism]\n"
    "       evc-sim sweep FILE... --seeds A..B [--shard I/N] [--swarm] [--jobs J]\n";

int main(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  fprintf(stderr, "evc-sim %s: not available in this build yet (issue 4)\n", argv[1]);
  return 2;
}
