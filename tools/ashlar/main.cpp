// The ashlar command line: inspect a store from outside the program that writes it.
#include "commands.hpp"
#include "output.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  using namespace ashlar::cli;
  CLI::App app{"ashlar: inspect an ashlar event store (read-only; safe beside a running writer)", "ashlar"};
  app.require_subcommand(1);
  add_log_command(app);
  add_stats_command(app);
  add_query_command(app);
  add_subscribe_command(app);
  add_keygen_command(app);
  add_head_command(app);
  add_verify_command(app);
  add_rebuild_command(app);
  add_history_command(app);
  add_state_command(app);
  add_mirror_command(app);
  add_replica_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // a command failed and has said why
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);  // --help
    // One line like every other error; CLI11's own message spans two.
    std::fprintf(stderr, "ashlar: %s (see ashlar --help)\n", e.what());
    return kExitUsage;
  } catch (const std::exception& e) {
    // Our own bug, or memory exhausted: still one line and a failing exit, never an abort.
    std::fflush(stdout);
    std::fprintf(stderr, "ashlar: internal error: %s\n", e.what());
    return kExitFailure;
  }
  return kExitOk;
}
