#pragma once
// `relay bench ...`: the load generator's command line (argv[0] is "bench").
namespace relay::bench {
int bench_main(int argc, char** argv);
}
