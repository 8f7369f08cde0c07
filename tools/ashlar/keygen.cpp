// ashlar keygen PATH: a CURVE key pair for a publishing engine or a subscriber.
#include "commands.hpp"
#include "output.hpp"

#include <ashlar/notifiers/curve.hpp>

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

namespace ashlar::cli {
namespace {

// Writes PATH (the secret key, mode 0600) and PATH.pub, then prints the public key: what
// goes into a server's allow-list or a subscriber's --server-key file.
Result<void> run_keygen(const std::string& path) {
  ASHLAR_TRY(keys, generate_key_pair());
  ASHLAR_TRY_VOID(write_key_pair(path, *keys));
  return print_line(keys->public_key);
}

}  // namespace

void add_keygen_command(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "keygen", "Write a CURVE key pair: PATH (the secret key, mode 0600) and PATH.pub; print the public key");
  cmd->add_option("PATH", *path, "Where the secret key goes (never overwritten)")->required();
  cmd->callback([path] { run_command([&] { return run_keygen(*path); }); });
}

}  // namespace ashlar::cli
