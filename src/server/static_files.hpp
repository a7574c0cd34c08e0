#pragma once
// A small, read-only set of static files served from memory: loaded once at start-up from a
// directory (the demo page and the vendored socket.io client), so no loop thread ever touches
// the file system. Paths are exact; "/" serves index.html.
#include <string>
#include <unordered_map>

#include "http/router.hpp"

namespace relay::server {

class static_files {
 public:
  // Loads every regular file directly in `dir` (not recursive). Throws std::runtime_error if
  // the directory cannot be read (start-up only).
  static static_files load(const std::string& dir);

  // Registers one route per file on the router. The files must outlive the router.
  void add_routes(http::router& router) const;
  size_t size() const noexcept { return files_.size(); }

 private:
  struct file {
    std::string content_type;
    std::string body;
  };
  std::unordered_map<std::string, file> files_;  // URL path -> file
};

}  // namespace relay::server
