// Development-only executable: `relay_bench_dev echo ...` == `relay bench echo ...`, so the
// load generator can be built and run without the server. The real binary is src/app.
#include <cstring>

#include "bench/bench_main.hpp"

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "bench") == 0) {
    --argc;
    ++argv;
  }
  static char name[] = "bench";
  argv[0] = name;
  return relay::bench::bench_main(argc, argv);
}
