#pragma once
// Maps a request path to a handler. Exact paths only for now (the set of endpoints is small
// and fixed at start-up); lookups happen once per request, not per message.
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "http/request.hpp"

namespace relay::http {

class http_session;

// A handler answers through the session (respond(), or taking the socket over for an
// upgrade). `rest` are the bytes received after this request (pipelined requests, or the
// first WebSocket frames right behind an upgrade request).
using handler = std::function<void(http_session& session, request& req, std::span<uint8_t> rest)>;

class router {
 public:
  void add(std::string path, handler h) { routes_[std::move(path)] = std::move(h); }
  const handler* find(std::string_view path) const {
    auto it = routes_.find(std::string(path));
    return it == routes_.end() ? nullptr : &it->second;
  }

 private:
  std::unordered_map<std::string, handler> routes_;
};

}  // namespace relay::http
