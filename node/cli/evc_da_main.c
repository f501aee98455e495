/* evc-da: a local DA server speaking the Celestia node JSON-RPC subset. The server lands
 * with issue 7; until then 'start' says so and exits non-zero. */
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: evc-da start --home DIR [--listen 127.0.0.1:26658] [--block-time 1s]\n"
    "                    [--mempool-ttl 10]\n"
    "\n"
    "A local data-availability server for development and tests: blob.Submit,\n"
    "blob.GetAll, header.NetworkHead and header.GetByHeight over JSON-RPC.\n";

int main(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (strcmp(argv[1], "start") != 0) {
    fprintf(stderr, "evc-da: unknown command '%s'\n\n%s", argv[1], usage);
    return 2;
  }
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(usage, stdout);
      return 0;
    }
  }
  fprintf(stderr, "evc-da start: not available in this build yet: the DA server (issue 7) has "
                  "not landed\n");
  return 2;
}
