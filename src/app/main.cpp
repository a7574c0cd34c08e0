// The `relay` binary: dispatches subcommands. The only code tests never link.
#include <cstdio>
#include <cstring>

#include "bench/bench_main.hpp"
#include "server/config_command.hpp"
#include "server/serve_command.hpp"
#include "server/token_command.hpp"

namespace {
void usage(FILE* out) {
  std::fputs(
      "relay: a real-time messaging server\n\n"
      "usage: relay <command> [options]\n\n"
      "commands:\n"
      "  serve   run the server (relay serve --help)\n"
      "  bench   run the load generator (relay bench --help)\n"
      "  token   make a development JWT, or verify one (relay token --help)\n"
      "  config  check a configuration file, or print an example (relay config --help)\n",
      out);
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (std::strcmp(argv[1], "serve") == 0) return relay::server::serve_main(argc - 1, argv + 1);
  if (std::strcmp(argv[1], "bench") == 0) return relay::bench::bench_main(argc - 1, argv + 1);
  if (std::strcmp(argv[1], "config") == 0) return relay::server::config_main(argc - 1, argv + 1);
  if (std::strcmp(argv[1], "token") == 0) return relay::server::token_main(argc - 1, argv + 1);
  if (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    usage(stdout);
    return 0;
  }
  std::fprintf(stderr, "relay: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return 2;
}
