#pragma once
// Writing the Prometheus text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/): escaping and numbers.
// Internal to src/metrics; the registry composes whole families from these pieces.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace relay::metrics::detail {

// "# HELP name help\n# TYPE name type\n", the help text escaped.
void append_header(std::string& out, std::string_view name, std::string_view help,
                   std::string_view type);

// name{label="value",...,le="bound"} — the braces are left out when there are no labels. `le`
// (a histogram bucket's bound, already formatted) is appended last when not empty.
void append_series(std::string& out, std::string_view name,
                   const std::vector<std::string>& label_names,
                   const std::vector<std::string>& label_values, std::string_view le = {});

// " value\n". A double holding an integer below 2^53 is written as that integer (a byte count
// from a callback reads 123456789, not 1.23456789e+08); other doubles as append_float does.
void append_value(std::string& out, uint64_t value);
void append_value(std::string& out, int64_t value);
void append_value(std::string& out, double value);

// A double as the Go client writes it (shortest round-trip digits, FormatFloat 'g' layout), with
// NaN, +Inf and -Inf spelled as Prometheus parses them. Used as is for the "le" of buckets, so
// that they match the Go client's series.
void append_float(std::string& out, double value);

}  // namespace relay::metrics::detail
