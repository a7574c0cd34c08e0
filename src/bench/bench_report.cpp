#include "bench/bench_report.hpp"

#include <cstring>

namespace relay::bench {
namespace {

double per_second(uint64_t n, double seconds) noexcept {
  return seconds > 0 ? static_cast<double>(n) / seconds : 0.0;
}

double us(uint64_t ns) noexcept { return static_cast<double>(ns) / 1000.0; }

const char* rate_unit(scenario s) noexcept {
  switch (s) {
    case scenario::echo:
      return "messages";
    case scenario::broadcast:
      return "deliveries";
    case scenario::handshake:
      return "handshakes";
    case scenario::idle:
      return "messages";
    case scenario::publish:
      return "deliveries";
  }
  return "messages";
}

void json_string(std::FILE* out, const std::string& s) {
  std::fputc('"', out);
  for (const char c : s) {
    if (c == '"' || c == '\\')
      std::fprintf(out, "\\%c", c);
    else if (static_cast<unsigned char>(c) < 0x20)
      std::fprintf(out, "\\u%04x", c);
    else
      std::fputc(c, out);
  }
  std::fputc('"', out);
}

// publish: what every subscriber should have received, and what did not arrive.
uint64_t expected_deliveries(const run_result& r) noexcept { return r.stats.sent * r.open; }
uint64_t lost_deliveries(const run_result& r) noexcept {
  const uint64_t expected = expected_deliveries(r);
  return expected > r.stats.messages ? expected - r.stats.messages : 0;
}

}  // namespace

const char* to_string(scenario s) noexcept {
  switch (s) {
    case scenario::echo:
      return "echo";
    case scenario::broadcast:
      return "broadcast";
    case scenario::handshake:
      return "handshake";
    case scenario::idle:
      return "idle";
    case scenario::publish:
      return "publish";
  }
  return "?";
}

const char* to_string(wire_protocol p) noexcept {
  switch (p) {
    case wire_protocol::ws:
      return "ws";
    case wire_protocol::socketio:
      return "socketio";
  }
  return "?";
}

void print_text_report(std::FILE* out, const run_config& c, const std::string& target,
                       const run_result& r) {
  const run_stats& s = r.stats;
  const latency_histogram& h = s.latency;
  std::fprintf(out, "relay bench %s %s%s\n", to_string(c.kind), target.c_str(),
               r.interrupted ? " (interrupted)" : "");
  switch (c.kind) {
    case scenario::echo:
      std::fprintf(
          out, "  setup         %u connections (%u failed), %u B %s, %u in flight, %u thread%s\n",
          r.open, r.failed, c.size,
          c.raw                                   ? "raw tcp"
          : c.binary                              ? "binary"
          : c.protocol == wire_protocol::socketio ? "socket.io event"
                                                  : "text",
          c.pipeline, c.threads, c.threads == 1 ? "" : "s");
      break;
    case scenario::broadcast:
      std::fprintf(
          out, "  setup         %u subscribers (%u failed), %u B %s, %u in flight, %u thread%s\n",
          r.open > 0 ? r.open - 1 : 0, r.failed, c.size,
          c.binary                                ? "binary"
          : c.protocol == wire_protocol::socketio ? "socket.io event"
                                                  : "text",
          c.pipeline, c.threads, c.threads == 1 ? "" : "s");
      break;
    case scenario::handshake:
      std::fprintf(out, "  setup         %u concurrent, %u thread%s\n", c.connections, c.threads,
                   c.threads == 1 ? "" : "s");
      break;
    case scenario::idle:
      std::fprintf(out,
                   "  setup         %u connections requested, %u open, %u failed, held %.1f s\n",
                   c.connections, r.open, r.failed, r.window_s);
      break;
    case scenario::publish:
      std::fprintf(out,
                   "  setup         %u subscribers (%u failed) in %s room %s, %.0f publishes/s "
                   "target over %u HTTP connection%s, %u B data, %u thread%s + publisher\n",
                   r.open, r.failed, c.nsp.c_str(), c.room.c_str(), c.rate, c.publishers,
                   c.publishers == 1 ? "" : "s", c.size, c.threads, c.threads == 1 ? "" : "s");
      break;
  }
  if (c.kind != scenario::idle) {
    std::fprintf(out, "  window        %.2f s (after %.1f s warmup)\n", r.window_s, c.warmup_s);
    std::fprintf(out, "  %-13s %llu (%.0f/s)\n", rate_unit(c.kind),
                 static_cast<unsigned long long>(s.messages), per_second(s.messages, r.window_s));
    if (c.kind == scenario::publish) {
      std::fprintf(out,
                   "  published     %llu answered 200 (%.1f/s of %.0f/s target); expected "
                   "deliveries %llu, lost %llu\n",
                   static_cast<unsigned long long>(s.sent), per_second(s.sent, r.window_s), c.rate,
                   static_cast<unsigned long long>(expected_deliveries(r)),
                   static_cast<unsigned long long>(lost_deliveries(r)));
      std::fprintf(out,
                   "  publish lag   p50 %.1f us  p99 %.1f us  max %.1f us after the due time "
                   "(%llu sends > 1 ms late)\n",
                   us(s.publish_lag.value_at_quantile(0.5)),
                   us(s.publish_lag.value_at_quantile(0.99)), us(s.publish_lag.max()),
                   static_cast<unsigned long long>(s.publish_behind));
    }
    if (c.kind == scenario::broadcast) {
      std::fprintf(out, "  published     %llu (%.0f/s), fan-out observed %.1f\n",
                   static_cast<unsigned long long>(s.sent), per_second(s.sent, r.window_s),
                   s.sent ? static_cast<double>(s.messages) / static_cast<double>(s.sent) : 0.0);
    }
    if (c.kind != scenario::handshake) {
      std::fprintf(out, "  payload       %.2f MB/s received\n",
                   per_second(s.payload_bytes, r.window_s) / 1e6);
    }
    std::fprintf(out,
                 "  latency (us)  p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f  mean %.1f"
                 "  (%llu samples)\n",
                 us(h.value_at_quantile(0.5)), us(h.value_at_quantile(0.9)),
                 us(h.value_at_quantile(0.99)), us(h.value_at_quantile(0.999)), us(h.max()),
                 h.mean() / 1000.0, static_cast<unsigned long long>(h.count()));
  }
  std::fprintf(out,
               "  errors        %llu (connect %llu, handshake %llu, protocol %llu, closed %llu, "
               "timeouts %llu, http %llu, unanswered %llu)\n",
               static_cast<unsigned long long>(s.errors()),
               static_cast<unsigned long long>(s.connect_errors),
               static_cast<unsigned long long>(s.handshake_errors),
               static_cast<unsigned long long>(s.protocol_errors),
               static_cast<unsigned long long>(s.closed),
               static_cast<unsigned long long>(s.timeouts),
               static_cast<unsigned long long>(s.http_errors),
               static_cast<unsigned long long>(s.unanswered));
  if (s.last_connect_errno)
    std::fprintf(out, "  connect error %s (last)\n", std::strerror(s.last_connect_errno));
  if (s.closed) {
    std::fprintf(out,
                 "  closed by     close frame %llu (last code %u), FIN %llu, reset %llu, "
                 "Socket.IO/Engine.IO disconnect %llu\n",
                 static_cast<unsigned long long>(s.closed_by_frame), s.last_close_code,
                 static_cast<unsigned long long>(s.closed_by_eof),
                 static_cast<unsigned long long>(s.closed_by_reset),
                 static_cast<unsigned long long>(s.closed_by_disconnect));
  }
  if (s.pings)
    std::fprintf(out, "  pings         %llu answered\n", static_cast<unsigned long long>(s.pings));
  std::fprintf(out, "  client cpu    %.0f %% (100 = one core)\n", r.cpu_percent);
}

void print_json_report(std::FILE* out, const run_config& c, const std::string& target,
                       const run_result& r) {
  const run_stats& s = r.stats;
  const latency_histogram& h = s.latency;
  const auto u = [](uint64_t v) { return static_cast<unsigned long long>(v); };
  std::fprintf(out, "{\"scenario\":\"%s\",\"protocol\":\"%s\",\"target\":", to_string(c.kind),
               to_string(c.protocol));
  json_string(out, target);
  std::fprintf(out,
               ",\"raw\":%s,\"connections\":%u,\"size\":%u,\"pipeline\":%u,\"binary\":%s,"
               "\"threads\":%u,\"duration_s\":%.3f,\"warmup_s\":%.3f,\"window_s\":%.3f,"
               "\"open\":%u,\"failed\":%u,\"interrupted\":%s",
               c.raw ? "true" : "false", c.connections, c.size, c.pipeline,
               c.binary ? "true" : "false", c.threads, c.duration_s, c.warmup_s, r.window_s, r.open,
               r.failed, r.interrupted ? "true" : "false");
  const double rate = per_second(s.messages, r.window_s);
  std::fprintf(out, ",\"unit\":\"%s\",\"count\":%llu,\"rate\":%.1f", rate_unit(c.kind),
               u(s.messages), rate);
  switch (c.kind) {
    case scenario::echo:
      std::fprintf(out, ",\"messages_per_sec\":%.1f", rate);
      break;
    case scenario::broadcast:
      std::fprintf(out,
                   ",\"deliveries_per_sec\":%.1f,\"published\":%llu,\"published_per_sec\":%.1f,"
                   "\"fanout\":%.2f",
                   rate, u(s.sent), per_second(s.sent, r.window_s),
                   s.sent ? static_cast<double>(s.messages) / static_cast<double>(s.sent) : 0.0);
      break;
    case scenario::handshake:
      std::fprintf(out, ",\"handshakes_per_sec\":%.1f", rate);
      break;
    case scenario::idle:
      std::fprintf(out, ",\"hold_s\":%.3f", c.hold_s);
      break;
    case scenario::publish:
      std::fprintf(out, ",\"deliveries_per_sec\":%.1f,\"namespace\":", rate);
      json_string(out, c.nsp);
      std::fprintf(out, ",\"room\":");
      json_string(out, c.room);
      std::fprintf(out,
                   ",\"target_rate\":%.3f,\"publishers\":%u,\"drain_s\":%.3f,\"published\":%llu,"
                   "\"published_per_sec\":%.1f,\"expected_deliveries\":%llu,\"lost\":%llu,"
                   "\"publish_behind\":%llu,\"publish_lag_us\":{\"p50\":%.3f,\"p99\":%.3f,"
                   "\"max\":%.3f}",
                   c.rate, c.publishers, c.drain_s, u(s.sent), per_second(s.sent, r.window_s),
                   u(expected_deliveries(r)), u(lost_deliveries(r)), u(s.publish_behind),
                   us(s.publish_lag.value_at_quantile(0.5)),
                   us(s.publish_lag.value_at_quantile(0.99)), us(s.publish_lag.max()));
      break;
  }
  std::fprintf(out, ",\"sent\":%llu,\"bytes_per_sec\":%.1f", u(s.sent),
               per_second(s.payload_bytes, r.window_s));
  std::fprintf(out,
               ",\"latency_us\":{\"count\":%llu,\"min\":%.3f,\"p50\":%.3f,\"p90\":%.3f,"
               "\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f,\"mean\":%.3f}",
               u(h.count()), us(h.min()), us(h.value_at_quantile(0.5)),
               us(h.value_at_quantile(0.9)), us(h.value_at_quantile(0.99)),
               us(h.value_at_quantile(0.999)), us(h.max()), h.mean() / 1000.0);
  std::fprintf(out,
               ",\"errors\":{\"total\":%llu,\"connect\":%llu,\"handshake\":%llu,\"protocol\":%llu,"
               "\"closed\":%llu,\"closed_by_frame\":%llu,\"closed_by_eof\":%llu,"
               "\"closed_by_reset\":%llu,\"closed_by_disconnect\":%llu,\"last_close_code\":%u,"
               "\"timeouts\":%llu,\"http\":%llu,\"unanswered\":%llu},\"pings\":%llu,"
               "\"client_cpu_percent\":%.1f}\n",
               u(s.errors()), u(s.connect_errors), u(s.handshake_errors), u(s.protocol_errors),
               u(s.closed), u(s.closed_by_frame), u(s.closed_by_eof), u(s.closed_by_reset),
               u(s.closed_by_disconnect), s.last_close_code, u(s.timeouts), u(s.http_errors),
               u(s.unanswered), u(s.pings),
               r.cpu_percent);
}

}  // namespace relay::bench
