#include "server/static_files.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "http/http_session.hpp"

namespace relay::server {
namespace {

std::string content_type_of(const std::filesystem::path& p) {
  const std::string ext = p.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json" || ext == ".map") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  return "application/octet-stream";
}

}  // namespace

static_files static_files::load(const std::string& dir) {
  static_files out;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) throw std::runtime_error("cannot read static directory " + dir + ": " + ec.message());
  for (const auto& entry : it) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream body;
    body << in.rdbuf();
    const std::string name = entry.path().filename().string();
    file f{content_type_of(entry.path()), body.str()};
    if (name == "index.html") out.files_["/"] = f;
    out.files_["/" + name] = std::move(f);
  }
  return out;
}

void static_files::add_routes(http::router& router) const {
  for (const auto& [path, f] : files_) {
    const file* served = &f;
    router.add(path, [served](http::http_session& s, http::request& req, std::span<uint8_t>) {
      if (req.method != "GET" && req.method != "HEAD") {
        s.respond(http::status::method_not_allowed, "text/plain", "method not allowed\n",
                  "Allow: GET, HEAD\r\n");
        return;
      }
      if (req.method == "HEAD") {
        // The GET's headers, Content-Length included, and no body (RFC 9110 §9.3.2).
        std::string head = "HTTP/1.1 200 OK\r\nContent-Type: ";
        head.append(served->content_type)
            .append("\r\nContent-Length: ")
            .append(std::to_string(served->body.size()))
            .append("\r\nCache-Control: no-cache\r\n");
        if (!req.keep_alive) head.append("Connection: close\r\n");
        head.append("\r\n");
        s.respond_raw(head, req.keep_alive ? http::keep_alive::yes : http::keep_alive::no);
        return;
      }
      s.respond(http::status::ok, served->content_type, served->body,
                "Cache-Control: no-cache\r\n");
    });
  }
}

}  // namespace relay::server
