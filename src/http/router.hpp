#pragma once
// Maps a request path to a handler: exact paths, then prefixes (the set of endpoints is small
// and fixed at start-up); lookups happen once per request, not per message.
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

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
  // Every path that starts with `prefix` and has no exact route ("/api/" for "/api/history/x").
  // The longest matching prefix wins.
  void add_prefix(std::string prefix, handler h) {
    prefixes_.emplace_back(std::move(prefix), std::move(h));
  }
  const handler* find(std::string_view path) const {
    auto it = routes_.find(std::string(path));
    if (it != routes_.end()) return &it->second;
    const handler* best = nullptr;
    size_t best_length = 0;
    for (const auto& [prefix, h] : prefixes_) {
      if (path.starts_with(prefix) && prefix.size() >= best_length) {
        best = &h;
        best_length = prefix.size();
      }
    }
    return best;
  }

 private:
  std::unordered_map<std::string, handler> routes_;
  std::vector<std::pair<std::string, handler>> prefixes_;
};

}  // namespace relay::http
