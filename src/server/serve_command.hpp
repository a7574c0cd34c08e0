#pragma once
namespace relay::server {
// `relay serve ...` (argv[0] is "serve"): parses flags, runs until SIGINT/SIGTERM, returns the
// process exit code.
int serve_main(int argc, char** argv);
}  // namespace relay::server
