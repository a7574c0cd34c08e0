#include "server/config_loader.hpp"

#include <gtest/gtest.h>

namespace relay::server {
namespace {

TEST(ConfigLoader, FileThenEnvironmentThenFlagsEachLaterWins) {
  serve_settings s;
  config_loader loader(s);
  loader.load_text("[server]\nport = 9000\nthreads = 3\n[socketio]\nping_interval = \"7s\"\n",
                   "relay.toml");
  std::string port_var = "RELAY_SERVER_PORT=9001";
  std::string other_var = "PATH=/bin";
  char* env[] = {port_var.data(), other_var.data(), nullptr};
  loader.load_environment(env);
  loader.set(*find_serve_setting("socketio.ping_interval"), {"9000"}, "--ping-interval");
  ASSERT_TRUE(loader.problems().empty()) << to_string(loader.problems()[0]);
  EXPECT_EQ(s.server.port, 9001);
  EXPECT_EQ(s.server.threads, 3u);
  EXPECT_EQ(s.socketio.ping_interval_ms, 9000u);
}

TEST(ConfigLoader, RepeatedListFlagsAccumulateAndScalarsTakeTheLast) {
  serve_settings s;
  config_loader loader(s);
  loader.set(*find_serve_setting("socketio.cors_origins"), {"http://a", "http://b,http://c"},
             "--cors-origin");
  loader.set(*find_serve_setting("server.port"), {"1", "2"}, "--port");
  EXPECT_EQ(s.socketio.cors_origins,
            (std::vector<std::string>{"http://a", "http://b", "http://c"}));
  EXPECT_EQ(s.server.port, 2);
}

TEST(ConfigLoader, NamespaceTablesAndAssignments) {
  serve_settings s;
  config_loader loader(s);
  loader.load_text("[namespaces.\"/live\"]\nanonymous = true\nanonymous_publish = [\"chat:*\"]\n",
                   "relay.toml");
  loader.set_assignment("namespaces./feed.rooms=false", "--set");
  loader.set_assignment("jwt.leeway=1m", "--set");
  ASSERT_TRUE(loader.problems().empty()) << to_string(loader.problems()[0]);
  ASSERT_EQ(s.namespaces.size(), 2u);
  EXPECT_EQ(s.namespaces[0].name, "/live");
  EXPECT_EQ(s.namespaces[0].anonymous, true);
  EXPECT_EQ(s.namespaces[0].anonymous_publish, (std::vector<std::string>{"chat:*"}));
  EXPECT_EQ(s.namespaces[1].name, "/feed");
  EXPECT_FALSE(s.namespaces[1].rooms);
  EXPECT_EQ(s.jwt.leeway_s, 60);
}

TEST(ConfigLoader, ProblemsNameKeyAndLineInFileOrder) {
  serve_settings s;
  config_loader loader(s);
  loader.load_text("[websocket]\nhigh_water = true\n[server]\nhots = \"x\"\n", "f.toml");
  ASSERT_EQ(loader.problems().size(), 2u);
  EXPECT_EQ(to_string(loader.problems()[0]),
            "f.toml:2: websocket.high_water: expected a size (\"64KiB\", \"1MiB\", or a number of "
            "bytes) from 1 to 4294967295");
  EXPECT_EQ(to_string(loader.problems()[1]),
            "f.toml:4: unknown key 'server.hots' (did you mean 'server.host'?)");
  EXPECT_EQ(s.server.ws.socket.high_water, serve_settings().server.ws.socket.high_water);
}

TEST(ConfigLoader, ValidateChecksTheTlsPairAndKeyFiles) {
  serve_settings s;
  config_loader loader(s);
  loader.load_text("[server]\ntls_cert = \"/nonexistent/cert.pem\"\n", "f.toml");
  loader.validate();
  ASSERT_EQ(loader.problems().size(), 2u);
  EXPECT_EQ(to_string(loader.problems()[0]),
            "f.toml:2: server.tls_cert and server.tls_key go together");
  EXPECT_EQ(to_string(loader.problems()[1]),
            "f.toml:2: server.tls_cert: cannot read '/nonexistent/cert.pem'");
}

TEST(ConfigLoader, ExampleLoadsWithoutProblemsAndChangesNothing) {
  serve_settings s;
  config_loader loader(s);
  loader.load_text(example_config(), "example.toml");
  ASSERT_TRUE(loader.problems().empty()) << to_string(loader.problems()[0]);
  const serve_settings defaults;
  for (const serve_setting& key : serve_schema()) {
    EXPECT_EQ(key.get(s), key.get(defaults)) << key.key;
  }
  EXPECT_TRUE(s.namespaces.empty());
}

TEST(ConfigLoader, ClosestKeySuggestsOnlyNearMisses) {
  EXPECT_EQ(closest_key("server.prot"), "server.port");
  EXPECT_EQ(closest_key("port"), "server.port");
  EXPECT_EQ(closest_key("websocket.ping_interval"), "socketio.ping_interval");
  EXPECT_EQ(closest_key("completely.unrelated"), "");
}

}  // namespace
}  // namespace relay::server
