#pragma once
// Target URLs of the load generator: ws://host[:port][/path], tcp://host:port (raw echo) and
// http://host[:port][/path] (the publish scenario's HTTP API).
// wss:// is refused: benchmarks run over loopback, where TLS would measure OpenSSL rather
// than the server, and the load generator has no TLS transport.
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace relay::bench {

enum class url_scheme : uint8_t { ws, tcp, http };  // http: the publish scenario's API

struct bench_url {
  url_scheme scheme = url_scheme::ws;
  std::string host;
  uint16_t port = 0;
  std::string path = "/";      // ws, http: path and query, as sent in the request line
  std::string host_header;     // "host:port", the Host header (RFC 7230 §5.4)
  sockaddr_storage address{};  // resolved once at start-up
  socklen_t address_len = 0;
};

// Parses and resolves text (numeric or via getaddrinfo, first result). On failure returns
// false and sets *error to a message naming the problem.
bool parse_bench_url(std::string_view text, bench_url* out, std::string* error);

}  // namespace relay::bench
