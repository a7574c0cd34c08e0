#include "server/config_loader.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/log.hpp"
#include "http/client_address.hpp"

namespace relay::server {
namespace {

std::string where_in(const std::string& source, const toml::source_region& region) {
  return source + ":" + std::to_string(region.begin.line);
}

// A TOML value as a config_value, before the key's rule checks it.
tl::expected<config_value, std::string> from_toml(const toml::node& node) {
  if (const auto* s = node.as_string()) return config_value(s->get());
  if (const auto* b = node.as_boolean()) return config_value(b->get());
  if (const auto* i = node.as_integer()) return config_value(i->get());
  if (const auto* a = node.as_array()) {
    std::vector<std::string> items;
    for (const toml::node& item : *a) {
      const auto* s = item.as_string();
      if (s == nullptr) return tl::unexpected(std::string("a list of strings"));
      items.push_back(s->get());
    }
    return config_value(std::move(items));
  }
  return tl::unexpected(std::string());  // floats, dates, tables: no key takes them
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1] ? 1 : 0)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string_view last_segment(std::string_view key) {
  const size_t dot = key.rfind('.');
  return dot == std::string_view::npos ? key : key.substr(dot + 1);
}

bool valid_namespace_name(std::string_view name) {
  return name.size() >= 2 && name.size() <= 200 && name[0] == '/' &&
         name.find(',') == std::string_view::npos;
}

bool readable_file(const std::string& path) {
  std::ifstream in(path);
  return in.good() && !std::filesystem::is_directory(path);
}

}  // namespace

std::string to_string(const config_problem& p) {
  return p.where.empty() ? p.message : p.where + ": " + p.message;
}

std::string closest_key(std::string_view key) {
  std::string best;
  size_t best_distance = std::max<size_t>(2, key.size() / 4) + 1;
  for (const serve_setting& s : serve_schema()) {
    size_t d = edit_distance(key, s.key);
    if (last_segment(s.key) == last_segment(key)) d = std::min<size_t>(d, 1);  // wrong section
    if (d < best_distance) {
      best_distance = d;
      best = std::string(s.key);
    }
  }
  return best;
}

void config_loader::problem(std::string where, std::string message, size_t line) {
  problems_.push_back({std::move(where), std::move(message), line});
}

std::string config_loader::origin(std::string_view key) const {
  const auto it = origin_.find(std::string(key));
  return it == origin_.end() ? std::string() : it->second;
}

void config_loader::load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    problem(path, std::string("cannot read the file: ") + std::strerror(errno));
    return;
  }
  std::ostringstream text;
  text << in.rdbuf();
  load_text(text.str(), path);
}

void config_loader::load_text(std::string_view document, const std::string& source) {
  toml::table root;
  try {
    root = toml::parse(document, source);
  } catch (const toml::parse_error& e) {
    problem(where_in(source, e.source()) + ":" + std::to_string(e.source().begin.column),
            "TOML syntax: " + std::string(e.description()));
    return;
  }
  const size_t first_problem = problems_.size();
  const auto unknown = [&](const toml::key& key, std::string_view full) {
    std::string message = "unknown key '" + std::string(full) + "'";
    if (const std::string guess = closest_key(full); !guess.empty()) {
      message += " (did you mean '" + guess + "'?)";
    }
    problem(where_in(source, key.source()), std::move(message), key.source().begin.line);
  };
  const auto apply = [&](const auto& setting, auto& target, const toml::node& node,
                         const std::string& full) {
    const std::string where = where_in(source, node.source());
    auto raw = from_toml(node);
    auto value = raw ? check_value(setting.rule, std::move(*raw))
                     : tl::expected<config_value, std::string>(tl::unexpected(raw.error()));
    if (!value) {
      const std::string& why = value.error().empty() ? describe_rule(setting.rule) : value.error();
      problem(where, full + ": expected " + why, node.source().begin.line);
      return;
    }
    setting.set(target, *value);
    origin_[full] = where;
  };

  for (const auto& [section_key, section] : root) {
    const std::string section_name(section_key.str());
    const toml::table* table = section.as_table();
    if (table == nullptr) {
      unknown(section_key, section_name);
      continue;
    }
    if (section_name == "namespaces") {
      for (const auto& [name_key, ns_node] : *table) {
        const std::string name(name_key.str());
        const toml::table* ns_table = ns_node.as_table();
        if (!valid_namespace_name(name) || ns_table == nullptr) {
          problem(
              where_in(source, name_key.source()),
              "namespaces.\"" + name + "\": a table named like \"/live\" (starts with /, no comma)",
              name_key.source().begin.line);
          continue;
        }
        namespace_settings& ns = settings_.namespace_named(name);
        origin_["namespaces." + name] = where_in(source, name_key.source());
        for (const auto& [key, node] : *ns_table) {
          const std::string full = "namespaces.\"" + name + "\"." + std::string(key.str());
          if (const namespace_setting* s = find_namespace_setting(key.str())) {
            apply(*s, ns, node, full);
          } else {
            problem(where_in(source, key.source()), "unknown key '" + full + "'",
                    key.source().begin.line);
          }
        }
      }
      continue;
    }
    for (const auto& [key, node] : *table) {
      const std::string full = section_name + "." + std::string(key.str());
      if (full == "history.rooms" && node.is_table()) {
        // [history.rooms."PATTERN"]: each key parsed as its [history] namesake, into a scratch
        // copy of the settings, then kept only if it was good.
        for (const auto& [pattern_key, rule_node] : *node.as_table()) {
          const std::string pattern(pattern_key.str());
          const toml::table* rule_table = rule_node.as_table();
          if (pattern.empty() || rule_table == nullptr) {
            problem(where_in(source, pattern_key.source()),
                    "history.rooms.\"" + pattern + "\": a table named by a room pattern",
                    pattern_key.source().begin.line);
            continue;
          }
          history_settings::room_rule rule{pattern, {}, {}, {}};
          for (const auto& [rule_key, value_node] : *rule_table) {
            const std::string name(rule_key.str());
            const std::string rule_full = "history.rooms.\"" + pattern + "\"." + name;
            const serve_setting* s =
                name == "max_messages" || name == "max_age" || name == "max_bytes"
                    ? find_serve_setting("history." + name)
                    : nullptr;
            if (s == nullptr) {
              problem(where_in(source, rule_key.source()),
                      "unknown key '" + rule_full + "' (max_messages, max_age, max_bytes)",
                      rule_key.source().begin.line);
              continue;
            }
            serve_settings scratch;
            const size_t problems_before = problems_.size();
            apply(*s, scratch, value_node, rule_full);
            if (problems_.size() != problems_before) continue;
            if (name == "max_messages") rule.max_messages = scratch.history.max_messages;
            if (name == "max_age") rule.max_age_ms = scratch.history.max_age_ms;
            if (name == "max_bytes") rule.max_bytes = scratch.history.max_bytes;
          }
          settings_.history.rooms.push_back(std::move(rule));
        }
        continue;
      }
      if (const serve_setting* s = find_serve_setting(full)) {
        apply(*s, settings_, node, full);
      } else {
        unknown(key, full);
      }
    }
  }
  // toml++ iterates tables in key order; people read files top to bottom.
  std::stable_sort(
      problems_.begin() + static_cast<std::ptrdiff_t>(first_problem), problems_.end(),
      [](const config_problem& a, const config_problem& b) { return a.line < b.line; });
}

void config_loader::load_environment(char** envp) {
  for (char** e = envp; e != nullptr && *e != nullptr; ++e) {
    const std::string_view entry(*e);
    if (!entry.starts_with("RELAY_")) continue;
    const size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view name = entry.substr(0, eq);
    const serve_setting* match = nullptr;
    for (const serve_setting& s : serve_schema()) {
      if (env_name(s.key) == name) match = &s;
    }
    if (match != nullptr) {
      set(*match, {std::string(entry.substr(eq + 1))}, std::string(name));
      continue;
    }
    // Other RELAY_ variables exist (RELAY_CONFIG, test harness variables): only near misses
    // of a setting's name are worth a word.
    for (const serve_setting& s : serve_schema()) {
      const std::string candidate = env_name(s.key);
      if (edit_distance(name, candidate) <= 2) {
        warnings_.push_back(std::string(name) + " is not a setting (did you mean " + candidate +
                            "?); ignored");
        break;
      }
    }
  }
}

void config_loader::set(const serve_setting& s, const std::vector<std::string>& texts,
                        const std::string& where) {
  config_value combined;
  for (const std::string& text : texts) {
    auto value = parse_text(s.rule, text);
    if (!value) {
      problem(where, std::string(s.key) + ": expected " + value.error() + ", got '" + text + "'");
      return;
    }
    if (auto* items = std::get_if<std::vector<std::string>>(&*value);
        items != nullptr && std::holds_alternative<std::vector<std::string>>(combined)) {
      auto& all = std::get<std::vector<std::string>>(combined);
      all.insert(all.end(), items->begin(), items->end());
    } else {
      combined = std::move(*value);
    }
  }
  if (texts.empty()) return;
  s.set(settings_, combined);
  origin_[std::string(s.key)] = where;
}

void config_loader::set_assignment(std::string_view assignment, const std::string& where) {
  const size_t eq = assignment.find('=');
  if (eq == std::string_view::npos) {
    problem(where, "expected KEY=VALUE, got '" + std::string(assignment) + "'");
    return;
  }
  const std::string key(assignment.substr(0, eq));
  const std::string text(assignment.substr(eq + 1));
  if (key.starts_with("namespaces.")) {
    const size_t dot = key.rfind('.');
    const std::string name = key.substr(11, dot > 11 ? dot - 11 : 0);
    const namespace_setting* s = find_namespace_setting(key.substr(dot + 1));
    if (!valid_namespace_name(name) || s == nullptr) {
      problem(where, "unknown key '" + key + "' (namespaces./NAME.KEY)");
      return;
    }
    auto value = parse_text(s->rule, text);
    if (!value) {
      problem(where, key + ": expected " + value.error() + ", got '" + text + "'");
      return;
    }
    s->set(settings_.namespace_named(name), *value);
    return;
  }
  const serve_setting* s = find_serve_setting(key);
  if (s == nullptr) {
    std::string message = "unknown key '" + key + "'";
    if (const std::string guess = closest_key(key); !guess.empty()) {
      message += " (did you mean '" + guess + "'?)";
    }
    problem(where, std::move(message));
    return;
  }
  set(*s, {text}, where);
}

void config_loader::validate() {
  const server_config& server = settings_.server;
  if (server.tls_cert.empty() != server.tls_key.empty()) {
    problem(origin(server.tls_cert.empty() ? "server.tls_key" : "server.tls_cert"),
            "server.tls_cert and server.tls_key go together");
  }
  for (const char* key : {"server.tls_cert", "server.tls_key"}) {
    const std::string path = std::get<std::string>(find_serve_setting(key)->get(settings_));
    if (!path.empty() && !readable_file(path)) {
      problem(origin(key), std::string(key) + ": cannot read '" + path + "'");
    }
  }
  if (const std::string& jwks = settings_.jwt.jwks_file; !jwks.empty() && !readable_file(jwks)) {
    problem(origin("jwt.jwks_file"), "jwt.jwks_file: cannot read '" + jwks + "'");
  }
  for (const std::string& path : settings_.jwt.public_keys) {
    if (!readable_file(path)) {
      problem(origin("jwt.public_keys"), "jwt.public_keys: cannot read '" + path + "'");
    }
  }
  if (auto trust = http::proxy_trust::parse(settings_.socketio.trusted_proxies); !trust) {
    problem(origin("server.trusted_proxies"),
            "server.trusted_proxies: '" + trust.error() + "' is not an address or a CIDR range");
  }
  if (log::level l; !log::parse_level(settings_.log.level, l)) {
    problem(origin("log.level"),
            "log.level: debug, info, warn or error, not '" + settings_.log.level + "'");
  }
  if (settings_.log.format != "text" && settings_.log.format != "json") {
    problem(origin("log.format"), "log.format: text or json, not '" + settings_.log.format + "'");
  }
  for (const namespace_settings& ns : settings_.namespaces) {
    if (!valid_namespace_name(ns.name)) {
      problem(origin("namespaces." + ns.name),
              "namespace '" + ns.name + "': a name like /live (starts with /, no comma)");
    }
  }
}

std::string example_config() {
  const serve_settings defaults;
  std::string out =
      "# relay.toml: configuration of `relay serve --config relay.toml`.\n"
      "# Every key is shown at its default. RELAY_<SECTION>_<KEY> environment variables\n"
      "# override the file (RELAY_SERVER_PORT=9000), flags override both (--port 9000), and\n"
      "# --set KEY=VALUE sets any key. Durations take ms, s, m, h, d (\"30s\"); sizes take\n"
      "# KiB, MiB, GiB or KB, MB, GB (\"1MiB\"); a bare number is in the unit the key names.\n";
  std::string_view section;
  for (const serve_setting& s : serve_schema()) {
    const size_t dot = s.key.find('.');
    const std::string_view sec = s.key.substr(0, dot);
    if (sec != section) {
      section = sec;
      out += "\n[" + std::string(sec) + "]\n";
    }
    out += "# " + std::string(s.help) + ".";
    if (s.rule.kind == value_kind::duration) {
      out += s.rule.unit == time_unit::seconds ? " Bare numbers: seconds." : " Bare numbers: ms.";
    }
    out += "\n#   " + env_name(s.key);
    if (!s.flag.empty()) out += ", " + std::string(s.flag);
    out += "\n";
    out +=
        std::string(s.key.substr(dot + 1)) + " = " + to_toml_text(s.rule, s.get(defaults)) + "\n";
  }
  out +=
      "\n# Other history limits for the rooms a pattern matches, one table each (the longest\n"
      "# matching pattern wins; a key left out keeps the [history] value):\n"
      "# [history.rooms.\"chat:*\"]\n"
      "# max_messages = 1000\n"
      "# max_age = \"1h\"\n"
      "# max_bytes = \"10MiB\"\n";
  out +=
      "\n# Namespaces with built-in behaviour, one table each (--rooms-namespace /live adds one\n"
      "# with these defaults; --set namespaces./live.anonymous=true sets a key):\n"
      "# [namespaces.\"/live\"]\n";
  const namespace_settings ns_defaults;
  for (const namespace_setting& s : namespace_schema()) {
    out += "# # " + std::string(s.help) + ".\n";
    out += "# " + std::string(s.key) + " = " + to_toml_text(s.rule, s.get(ns_defaults)) + "\n";
  }
  return out;
}

}  // namespace relay::server
