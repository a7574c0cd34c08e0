#pragma once
// The one list of `relay serve`'s settings: each key's TOML name, flag, kind, help and field.
// The file loader, RELAY_ variables, --set, the flags, `relay config example` and the
// documentation check are all driven by it, so they cannot disagree.
#include <span>
#include <string>
#include <string_view>

#include "server/config_value.hpp"
#include "server/serve_settings.hpp"

namespace relay::server {

template <class Target>
struct setting {
  std::string_view key;   // "server.port"; namespace keys are relative ("rooms")
  std::string_view flag;  // "--port"; empty: only the file, RELAY_ variables and --set
  std::string_view help;
  value_rule rule;
  bool flag_sets = true;  // a boolean's bare flag sets this ("--no-compression" sets false)
  void (*set)(Target&, const config_value&) = nullptr;
  config_value (*get)(const Target&) = nullptr;
};

using serve_setting = setting<serve_settings>;
using namespace_setting = setting<namespace_settings>;

std::span<const serve_setting> serve_schema();
std::span<const namespace_setting> namespace_schema();

const serve_setting* find_serve_setting(std::string_view key);
const namespace_setting* find_namespace_setting(std::string_view key);

// "server.port" -> "RELAY_SERVER_PORT".
std::string env_name(std::string_view key);

}  // namespace relay::server
