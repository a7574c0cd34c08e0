#include "bench/bench_url.hpp"

#include <netdb.h>

#include <charconv>
#include <cstring>

namespace relay::bench {

bool parse_bench_url(std::string_view text, bench_url* out, std::string* error) {
  const std::string original(text);
  if (text.starts_with("ws://")) {
    out->scheme = url_scheme::ws;
    text.remove_prefix(5);
  } else if (text.starts_with("tcp://")) {
    out->scheme = url_scheme::tcp;
    text.remove_prefix(6);
  } else if (text.starts_with("http://")) {
    out->scheme = url_scheme::http;
    text.remove_prefix(7);
  } else if (text.starts_with("wss://") || text.starts_with("https://")) {
    *error = "wss:// and https:// are not supported by the load generator (use ws:// or http:// on "
             "loopback): " + original;
    return false;
  } else {
    *error = "URL must start with ws://, tcp:// or http://: " + original;
    return false;
  }
  const size_t slash = text.find('/');
  std::string_view authority = text.substr(0, slash);
  out->path = slash == std::string_view::npos ? "/" : std::string(text.substr(slash));

  std::string_view port_text;
  if (authority.starts_with('[')) {  // [::1]:8080
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      *error = "unterminated IPv6 address in URL: " + original;
      return false;
    }
    out->host = std::string(authority.substr(1, close - 1));
    std::string_view rest = authority.substr(close + 1);
    if (rest.starts_with(':')) port_text = rest.substr(1);
  } else {
    const size_t colon = authority.rfind(':');
    out->host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (out->host.empty()) {
    *error = "URL has no host: " + original;
    return false;
  }
  if (port_text.empty()) {
    if (out->scheme == url_scheme::tcp) {
      *error = "tcp:// URL needs a port: " + original;
      return false;
    }
    out->port = 80;
  } else {
    unsigned port = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      *error = "bad port in URL: " + original;
      return false;
    }
    out->port = static_cast<uint16_t>(port);
  }
  out->host_header = std::string(authority);

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  const std::string port_string = std::to_string(out->port);
  const int rc = getaddrinfo(out->host.c_str(), port_string.c_str(), &hints, &result);
  if (rc != 0 || result == nullptr) {
    *error = "cannot resolve " + out->host + ": " + gai_strerror(rc);
    return false;
  }
  std::memcpy(&out->address, result->ai_addr, result->ai_addrlen);
  out->address_len = result->ai_addrlen;
  freeaddrinfo(result);
  return true;
}

}  // namespace relay::bench
