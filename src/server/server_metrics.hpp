#pragma once
// The metrics of `relay serve`, served at GET /metrics in Prometheus text format (the names and
// what they count: docs/operations.md). Families are registered here at start-up and the hot
// paths keep plain references to their series: an increment is one relaxed add on the
// calling loop's own cache line (src/metrics).
#include <string_view>

#include "metrics/registry.hpp"

namespace relay::server {

struct server_metrics {
  explicit server_metrics(unsigned loops) : registry(loops) {}
  server_metrics(const server_metrics&) = delete;
  server_metrics& operator=(const server_metrics&) = delete;

  metrics::registry registry;

  // Socket.IO sessions and traffic.
  metrics::family<metrics::counter>& handshakes =
      registry.add_counter("relay_socketio_handshakes_total",
                           "Engine.IO sessions opened, by first transport.", {"transport"});
  metrics::counter& handshakes_polling = handshakes.with({"polling"});
  metrics::counter& handshakes_websocket = handshakes.with({"websocket"});
  metrics::gauge& sessions =
      registry.add_gauge("relay_connections", "Open connections, by protocol.", {"protocol"})
          .with({"socketio"});
  metrics::family<metrics::gauge>& by_transport =
      registry.add_gauge("relay_socketio_connections",
                         "Open Engine.IO sessions, by current transport.", {"transport"});
  metrics::gauge& sessions_websocket = by_transport.with({"websocket"});
  metrics::gauge& sessions_polling = by_transport.with({"polling"});
  metrics::counter& socketio_bytes_in =
      registry
          .add_counter("relay_socketio_received_bytes_total",
                       "Engine.IO message bytes received (text messages).")
          .with();
  metrics::family<metrics::counter>& messages_in = registry.add_counter(
      "relay_messages_received_total", "Socket.IO events received, by namespace.", {"namespace"});
  metrics::family<metrics::counter>& bytes_in = registry.add_counter(
      "relay_received_bytes_total",
      "Socket.IO packet bytes received from connected sockets (text; binary attachments "
      "aside), by namespace.",
      {"namespace"});
  metrics::family<metrics::counter>& bytes_out = registry.add_counter(
      "relay_sent_bytes_total",
      "Socket.IO event bytes sent (packet text; binary attachments aside), by namespace.",
      {"namespace"});
  metrics::family<metrics::counter>& messages_out = registry.add_counter(
      "relay_messages_sent_total",
      "Socket.IO events sent (an emit, or one copy of a broadcast; not acks), by namespace.",
      {"namespace"});
  metrics::counter& broadcast_recipients =
      registry
          .add_counter("relay_broadcast_recipients_total",
                       "Sockets reached by broadcasts (the fan-out), summed over broadcasts.")
          .with();

  // Rooms.
  metrics::family<metrics::counter>& publishes = registry.add_counter(
      "relay_publishes_total", "Messages published to rooms, by source.", {"source"});
  metrics::counter& publishes_socketio = publishes.with({"socketio"});
  metrics::counter& publishes_http = publishes.with({"http"});
  metrics::histogram& publish_latency =
      registry
          .add_histogram("relay_publish_delivery_seconds",
                         "From a publish to its broadcast being handed to the room's members "
                         "on every loop (queued for their connections).",
                         metrics::latency_buckets_seconds())
          .with();

  // Refusals: {kind} for limits and permissions, {code} for handshake tokens.
  metrics::family<metrics::counter>& limit_hits = registry.add_counter(
      "relay_limit_hits_total", "Requests refused by a limit or a permission, by kind.", {"kind"});
  metrics::counter& permission_refusals = limit_hits.with({"permission"});
  metrics::counter& per_user_refusals = limit_hits.with({"connections_per_user"});
  metrics::counter& api_key_refusals = limit_hits.with({"api_key"});
  metrics::counter& event_rate_hits = limit_hits.with({"event_rate"});
  metrics::counter& byte_rate_hits = limit_hits.with({"byte_rate"});
  metrics::counter& room_count_hits = limit_hits.with({"rooms_per_connection"});
  metrics::counter& ip_rate_hits = limit_hits.with({"connections_per_ip"});
  metrics::counter& server_full_hits = limit_hits.with({"max_connections"});
  metrics::family<metrics::counter>& auth_refusals = registry.add_counter(
      "relay_auth_refusals_total", "Handshakes refused for their token, by code.", {"code"});
  metrics::family<metrics::counter>& api_requests = registry.add_counter(
      "relay_api_requests_total", "HTTP API requests with a valid key, by endpoint.", {"endpoint"});
};

}  // namespace relay::server
