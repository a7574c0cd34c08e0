#include "server/config_command.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "server/config_loader.hpp"

namespace relay::server {

int config_main(int argc, char** argv) {
  CLI::App app{"relay config: check or print a configuration file", "relay config"};
  app.require_subcommand(1);
  CLI::App* check = app.add_subcommand("check", "Validate FILE; each problem names key and line");
  std::string path;
  check->add_option("file", path, "The TOML file")->required();
  app.add_subcommand("example", "Print a commented configuration with every key's default");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (!check->parsed()) {
    std::fputs(example_config().c_str(), stdout);
    return 0;
  }
  serve_settings settings;
  config_loader loader(settings);
  loader.load_file(path);
  loader.validate();
  if (loader.problems().empty()) {
    std::printf("%s: ok\n", path.c_str());
    return 0;
  }
  for (const config_problem& p : loader.problems()) {
    std::fprintf(stderr, "%s\n", to_string(p).c_str());
  }
  return 1;
}

}  // namespace relay::server
