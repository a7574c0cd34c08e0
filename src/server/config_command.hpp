#pragma once
// `relay config check FILE`: validates a configuration file and names each bad key with its
// line. `relay config example`: prints a commented file with every key at its default.
namespace relay::server {

int config_main(int argc, char** argv);

}  // namespace relay::server
