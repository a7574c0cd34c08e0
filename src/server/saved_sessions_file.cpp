#include "server/saved_sessions_file.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace relay::server {
namespace {

std::string string_member(const json::value& v, std::string_view name) {
  const json::value* m = v.find(name);
  return m != nullptr && m->is_string() ? m->as_string() : std::string();
}

}  // namespace

std::vector<socketio::saved_session> take_saved_sessions(const std::string& path) {
  std::vector<socketio::saved_session> out;
  std::ifstream in(path, std::ios::binary);
  if (!in) return out;
  std::stringstream text;
  text << in.rdbuf();
  in.close();
  std::error_code ec;
  std::filesystem::remove(path, ec);
  auto parsed = json::parse(text.str());
  if (!parsed || !parsed->is_array()) {
    std::fprintf(stderr, "relay: %s: not a list of sessions, ignored\n", path.c_str());
    return out;
  }
  for (const json::value& v : parsed->as_array()) {
    if (!v.is_object()) continue;
    socketio::saved_session s;
    s.sid = string_member(v, "sid");
    s.pid = string_member(v, "pid");
    s.nsp = string_member(v, "nsp");
    s.last_offset = string_member(v, "last_offset");
    if (const json::value* rooms = v.find("rooms"); rooms != nullptr && rooms->is_array()) {
      for (const json::value& r : rooms->as_array()) {
        if (r.is_string()) s.rooms.push_back(r.as_string());
      }
    }
    if (const json::value* data = v.find("data")) s.data = *data;
    if (const json::value* t = v.find("disconnected"); t != nullptr && t->is_int()) {
      s.disconnected_unix_ms = t->as_int();
    }
    if (!s.sid.empty() && !s.pid.empty()) out.push_back(std::move(s));
  }
  return out;
}

bool write_saved_sessions(const std::string& path,
                          const std::vector<socketio::saved_session>& sessions) {
  json::array all;
  all.reserve(sessions.size());
  for (const socketio::saved_session& s : sessions) {
    all.push_back(json::object{{"sid", s.sid},
                               {"pid", s.pid},
                               {"nsp", s.nsp},
                               {"rooms", json::array(s.rooms.begin(), s.rooms.end())},
                               {"data", s.data},
                               {"last_offset", s.last_offset},
                               {"disconnected", s.disconnected_unix_ms}});
  }
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << json::to_string(json::value(std::move(all)));
    if (!out.flush()) {
      std::fprintf(stderr, "relay: cannot write %s\n", tmp.c_str());
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::fprintf(stderr, "relay: cannot rename %s: %s\n", tmp.c_str(), ec.message().c_str());
    return false;
  }
  return true;
}

}  // namespace relay::server
