/* evc-node: the production node binary (init, start, status). The live runtime lands with
 * issue 7; until then the commands that need it say so and exit non-zero. */
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: evc-node <command> [flags]\n"
    "\n"
    "commands:\n"
    "  init    create HOME: config.json, genesis.json, keys/ (--home DIR [--chain-id ID]\n"
    "          [--aggregator] [--genesis FILE] [--signer-key FILE])\n"
    "  start   run the node: catch up, then produce (aggregator) or sync (full node)\n"
    "  status  print the status of a running node (--rpc 127.0.0.1:7331)\n"
    "\n"
    "Run 'evc-node <command> --help' for a command's flags. See docs/operator.md.\n";

static int command_not_built(const char *command) {
  fprintf(stderr,
          "evc-node %s: not available in this build yet: the live runtime (issue 7) has not "
          "landed\n",
          command);
  return 2;
}

int main(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const char *command = argv[1];
  if (strcmp(command, "init") != 0 && strcmp(command, "start") != 0 &&
      strcmp(command, "status") != 0) {
    fprintf(stderr, "evc-node: unknown command '%s'\n\n%s", command, usage);
    return 2;
  }
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      printf("usage: evc-node %s [flags]\n(see 'evc-node --help' and docs/operator.md)\n",
             command);
      return 0;
    }
  }
  return command_not_built(command);
}
