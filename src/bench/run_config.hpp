#pragma once
// What one `relay bench` run does (parsed once from the command line) and the little state
// the threads share while it runs.
#include <atomic>
#include <cstdint>
#include <string>

#include "bench/bench_url.hpp"
#include "bench/latency_histogram.hpp"

namespace relay::bench {

// publish: S Socket.IO subscribers join a room of a rooms service; an HTTP client publishes
// to it with POST /api/publish at a steady rate (docs/benchmarks.md).
enum class scenario : uint8_t { echo, broadcast, handshake, idle, publish };

// What runs over the WebSocket: the bare WebSocket workloads (one message = one frame), or
// Socket.IO v5 over Engine.IO v4 (`--protocol socketio`, see sio_packets.hpp): the same
// workloads as events, after the Engine.IO open packet and a CONNECT to "/".
enum class wire_protocol : uint8_t { ws, socketio };

const char* to_string(scenario s) noexcept;
const char* to_string(wire_protocol p) noexcept;

struct run_config {
  scenario kind = scenario::echo;
  wire_protocol protocol = wire_protocol::ws;
  // socketio: the paths already carry the Engine.IO query (sio_request_path), and broadcast
  // derives pub_url and sub_url from --url.
  bench_url url;      // echo, handshake, idle; publish: the subscribers' Socket.IO endpoint
  bench_url publish_url;  // publish: http://host:port/api/publish
  bench_url pub_url;  // broadcast
  bench_url sub_url;  // broadcast
  bool raw = false;   // echo over tcp:// without WebSocket framing
  // echo/idle: connections; broadcast: subscribers; handshake: concurrent handshakes.
  uint32_t connections = 100;
  uint32_t size = 32;     // payload bytes per message
  uint32_t pipeline = 1;  // messages in flight per connection (broadcast: for the publisher)
  bool binary = false;
  double duration_s = 5;  // measured window (echo, broadcast, handshake)
  double warmup_s = 0;    // traffic before the window, not measured
  double hold_s = 10;     // idle: how long the connections stay open
  uint32_t threads = 1;
  uint32_t connect_concurrency = 256;  // connects in progress during set-up, all threads
  double timeout_s = 10;               // connect + upgrade; also the close handshake wait
  bool json = false;
  // publish:
  std::string nsp = "/live";    // the rooms namespace the subscribers connect to
  std::string room = "bench";   // the room they join and the publisher publishes to
  std::string api_key;          // Authorization: Bearer KEY
  double rate = 100;            // publishes per second, paced on the clock (open loop)
  uint32_t publishers = 4;      // keep-alive HTTP connections, one request in flight each
  double drain_s = 2;           // after the window: how long deliveries may still arrive
};

// Everything counted during a run. Plain fields: each worker owns one; main merges them after
// the workers have joined.
struct run_stats {
  // Inside the measured window only:
  // (publish: deliveries and publishes whose *send* time is inside the window, so that every
  // publish counted in `sent` should give one delivery per subscriber.)
  uint64_t messages = 0;       // echoes / deliveries / completed handshakes
  uint64_t payload_bytes = 0;  // payload bytes of those messages
  uint64_t sent = 0;           // messages sent (broadcast: published; publish: answered 200)
  latency_histogram latency;   // ns
  // Whole run:
  uint64_t pings = 0;             // server pings answered
  uint64_t connect_errors = 0;    // connect() failed or refused
  uint64_t handshake_errors = 0;  // upgrade refused or invalid
  uint64_t protocol_errors = 0;   // bad frame, wrong echo size/opcode, corrupt payload stamp
  uint64_t closed = 0;  // the server closed or reset a connection while traffic was running
  uint64_t closed_by_frame = 0;       // ... of which with a close frame (last code below)
  uint64_t closed_by_eof = 0;         // ... with a TCP FIN and no close frame
  uint64_t closed_by_reset = 0;       // ... with a socket error (RST)
  uint64_t closed_by_disconnect = 0;  // ... with Socket.IO DISCONNECT or Engine.IO CLOSE
  uint16_t last_close_code = 0;       // status code of the last unexpected close frame (0: none)
  int last_connect_errno = 0;         // why the last connect failed (0: none)
  uint64_t timeouts = 0;  // connect/upgrade/close took longer than --timeout; pacing stalls
  // publish: publishes (counted in `sent` when answered 200 and sent inside the window):
  uint64_t http_errors = 0;          // answered with another status, or a malformed answer
  uint64_t unanswered = 0;           // no answer before the drain ended or the connection died
  uint64_t publish_behind = 0;       // sends that went out > 1 ms after their scheduled time
  latency_histogram publish_lag;     // ns from a publish's scheduled time to its send

  uint64_t errors() const noexcept {
    return connect_errors + handshake_errors + protocol_errors + closed + timeouts + http_errors +
           unanswered;
  }
  void merge(const run_stats& o) noexcept {
    messages += o.messages;
    payload_bytes += o.payload_bytes;
    sent += o.sent;
    latency.merge(o.latency);
    pings += o.pings;
    connect_errors += o.connect_errors;
    handshake_errors += o.handshake_errors;
    protocol_errors += o.protocol_errors;
    closed += o.closed;
    closed_by_frame += o.closed_by_frame;
    closed_by_eof += o.closed_by_eof;
    closed_by_reset += o.closed_by_reset;
    closed_by_disconnect += o.closed_by_disconnect;
    if (o.last_close_code) last_close_code = o.last_close_code;
    if (o.last_connect_errno) last_connect_errno = o.last_connect_errno;
    timeouts += o.timeouts;
    http_errors += o.http_errors;
    unanswered += o.unanswered;
    publish_behind += o.publish_behind;
    publish_lag.merge(o.publish_lag);
  }
};

// Written by main, read by every worker.
struct run_control {
  // 0 until every worker has finished connecting; then the start of traffic (monotonic ns).
  std::atomic<uint64_t> start_ns{0};
  std::atomic<bool> stop{false};  // SIGINT, or a fatal set-up failure: wind down now
  // broadcast: plain subscribers that are open or have failed (the probe waits for all).
  std::atomic<uint32_t> subscribers_settled{0};
};

// Progress figures a worker publishes once per loop iteration (relaxed stores) for the
// one-second progress line. Own cache line: written by one worker, read by main.
struct alignas(64) live_counters {
  std::atomic<uint64_t> messages{0};  // whole run, window or not
  std::atomic<uint64_t> errors{0};
  std::atomic<uint32_t> open{0};
  std::atomic<uint32_t> failed{0};  // connections that could not be opened during set-up
  std::atomic<bool> ready{false};   // set-up finished (every connection open or failed)
  std::atomic<bool> done{false};
};

}  // namespace relay::bench
