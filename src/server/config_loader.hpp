#pragma once
// Builds serve_settings from the embedded defaults, then a TOML file, then RELAY_ variables,
// then flags and --set KEY=VALUE (each later source wins). Problems are collected, not thrown,
// so `relay config check` can list them all; each names the key and where it came from
// ("relay.toml:12", "RELAY_SERVER_PORT", "--port"). Start-up code only.
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "server/config_schema.hpp"

namespace relay::server {

struct config_problem {
  std::string where;    // "relay.toml:12", "RELAY_SERVER_PORT", "--port"; may be empty
  std::string message;  // "server.port: expected an integer from 0 to 65535"
  size_t line = 0;      // in the file, when it came from one (problems are listed by line)
};
std::string to_string(const config_problem& p);

class config_loader {
 public:
  explicit config_loader(serve_settings& settings) : settings_(settings) {}

  void load_file(const std::string& path);
  void load_text(std::string_view toml, const std::string& source_name);
  // Every RELAY_<KEY> variable of envp; a near miss (RELAY_JWT_SECRT) is a warning.
  void load_environment(char** envp);
  // One key from text: a flag (several values for a repeated list flag) or --set.
  void set(const serve_setting& s, const std::vector<std::string>& texts, const std::string& where);
  // "server.port=9000" or "namespaces./live.anonymous=true".
  void set_assignment(std::string_view assignment, const std::string& where);
  // Checks across keys and against the file system (TLS pair, key files, namespace names).
  void validate();

  const std::vector<config_problem>& problems() const { return problems_; }
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  void problem(std::string where, std::string message, size_t line = 0);
  std::string origin(std::string_view key) const;

  serve_settings& settings_;
  std::unordered_map<std::string, std::string> origin_;  // key -> where it was last set
  std::vector<config_problem> problems_;
  std::vector<std::string> warnings_;
};

// A commented TOML file with every key at its default (`relay config example`).
std::string example_config();

// The known key closest to a misspelt one ("server.prot" -> "server.port"); empty if none is.
std::string closest_key(std::string_view key);

}  // namespace relay::server
