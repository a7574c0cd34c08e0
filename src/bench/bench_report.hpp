#pragma once
// The final report of a run: human-readable (stdout) or one JSON object (--json), with the
// same figures. Latencies are printed in microseconds, rates per second of measured window.
#include <cstdint>
#include <cstdio>
#include <string>

#include "bench/run_config.hpp"

namespace relay::bench {

struct run_result {
  run_stats stats;
  double window_s = 0;     // measured window actually run (shorter if interrupted)
  double cpu_percent = 0;  // load generator CPU time / window, 100 = one core
  uint32_t open = 0;       // connections open when traffic started
  uint32_t failed = 0;     // connections that could not be opened
  bool interrupted = false;
};

void print_text_report(std::FILE* out, const run_config& config, const std::string& target,
                       const run_result& result);
void print_json_report(std::FILE* out, const run_config& config, const std::string& target,
                       const run_result& result);

}  // namespace relay::bench
