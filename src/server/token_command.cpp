#include "server/token_command.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "auth/jwt.hpp"
#include "server/config_loader.hpp"

extern char** environ;

namespace relay::server {
namespace {

using namespace relay::auth;

// "90", "90s", "15m", "1h", "7d" to seconds; -1 if malformed.
int64_t parse_duration(const std::string& text) {
  if (text.empty()) return -1;
  size_t used = 0;
  int64_t n = 0;
  try {
    n = std::stoll(text, &used);
  } catch (const std::exception&) {
    return -1;
  }
  if (n < 0) return -1;
  const std::string unit = text.substr(used);
  if (unit.empty() || unit == "s") return n;
  if (unit == "m") return n * 60;
  if (unit == "h") return n * 3600;
  if (unit == "d") return n * 86400;
  return -1;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

int token_main(int argc, char** argv) {
  CLI::App app{"relay token: make a development JWT (HMAC), or verify one", "relay token"};
  std::string secret, user, ttl = "1h", alg = "HS256", issuer, audience;
  std::vector<std::string> rooms;
  std::string config_path;
  app.add_option("--config", config_path,
                 "The server's TOML file: its jwt.secret, issuer and audience are the defaults "
                 "(default: $RELAY_CONFIG)");
  app.add_option("--secret", secret, "HMAC secret (default: jwt.secret, $RELAY_JWT_SECRET)");
  app.add_option("--user", user, "The user id (claim \"sub\")");
  app.add_option("--rooms", rooms,
                 "Room patterns the token may subscribe to and publish in ('*' wildcards)");
  app.add_option("--ttl", ttl, "Lifetime: 90s, 15m, 1h, 7d")->capture_default_str();
  app.add_option("--alg", alg, "HS256, HS384 or HS512")->capture_default_str();
  app.add_option("--issuer", issuer, "Claim \"iss\" (verify: required issuer)");
  app.add_option("--audience", audience, "Claim \"aud\" (verify: required audience)");

  CLI::App* verify_cmd = app.add_subcommand("verify", "Check a token and print its claims");
  verify_cmd->fallthrough();  // --secret, --issuer, --audience may follow "verify"
  std::string token;
  std::vector<std::string> public_keys;
  int64_t leeway = 30;
  verify_cmd->add_option("token", token, "The token")->required();
  verify_cmd->add_option("--public-key", public_keys,
                         "PEM public key file (RSA for RS256, P-256 for ES256); repeatable");
  verify_cmd->add_option("--leeway", leeway, "Seconds of clock skew allowed")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  // The server's own settings (file, then RELAY_ variables) fill in what no flag gave.
  serve_settings settings;
  config_loader loader(settings);
  if (config_path.empty()) {
    if (const char* env = std::getenv("RELAY_CONFIG")) config_path = env;
  }
  if (!config_path.empty()) loader.load_file(config_path);
  loader.load_environment(environ);
  if (!loader.problems().empty()) {
    for (const config_problem& p : loader.problems()) {
      std::fprintf(stderr, "relay token: %s\n", to_string(p).c_str());
    }
    return 2;
  }
  if (secret.empty()) secret = settings.jwt.secret;
  if (issuer.empty()) issuer = settings.jwt.issuer;
  if (audience.empty() && !settings.jwt.audience.empty()) audience = settings.jwt.audience[0];
  if (public_keys.empty()) public_keys = settings.jwt.public_keys;

  if (verify_cmd->parsed()) {
    key_set keys;
    try {
      if (!secret.empty()) keys.add_hmac_secret(secret);
      for (const std::string& path : public_keys) keys.add_public_key_pem(read_file(path));
      if (!settings.jwt.jwks_file.empty()) keys.add_jwks(read_file(settings.jwt.jwks_file));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "relay token verify: %s\n", e.what());
      return 2;
    }
    if (keys.size() == 0) {
      std::fprintf(stderr, "relay token verify: give --secret or --public-key\n");
      return 2;
    }
    verify_options options;
    options.issuer = issuer;
    if (!audience.empty()) options.audience.push_back(audience);
    options.leeway_s = leeway;
    auto claims = verify(token, keys, options, unix_now_s());
    if (!claims) {
      std::printf("invalid: %s\n", std::string(describe(claims.error())).c_str());
      return 1;
    }
    std::printf("%s\n", json::to_string(*claims).c_str());
    return 0;
  }

  if (secret.empty() || user.empty()) {
    std::fprintf(stderr, "relay token: give --user and --secret (or $RELAY_JWT_SECRET)\n");
    return 2;
  }
  const int64_t lifetime = parse_duration(ttl);
  if (lifetime <= 0) {
    std::fprintf(stderr, "relay token: bad --ttl '%s' (90s, 15m, 1h, 7d)\n", ttl.c_str());
    return 2;
  }
  const int64_t now = unix_now_s();
  json::object claims{{"sub", user}, {"iat", now}, {"exp", now + lifetime}};
  if (!issuer.empty()) claims.emplace_back("iss", issuer);
  if (!audience.empty()) claims.emplace_back("aud", audience);
  if (!rooms.empty()) {
    json::array patterns(rooms.begin(), rooms.end());
    claims.emplace_back("relay", json::object{{"subscribe", patterns}, {"publish", patterns}});
  }
  try {
    std::printf("%s\n", sign_hmac(json::value(std::move(claims)), secret, alg).c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "relay token: %s\n", e.what());
    return 2;
  }
  return 0;
}

}  // namespace relay::server
