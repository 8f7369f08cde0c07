// ashlar head DIR [--json]
#include "commands.hpp"
#include "event_output.hpp"
#include "output.hpp"
#include "store.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <memory>

namespace ashlar::cli {
namespace {

struct HeadArgs {
  std::string dir;
  bool json = false;
};

// The head for an auditor to keep outside the store: verify --expect proves it later.
Result<void> run_head(const HeadArgs& args) {
  ASHLAR_TRY(store, open_store(args.dir));
  ASHLAR_TRY(head, store->log->head());
  if (args.json) {
    nlohmann::ordered_json out = {{"position", head->position}, {"hash", to_hex(head->hash)}};
    return print_line(json_line(out));
  }
  return print_line(fmt::format("{} {}", head->position, to_hex(head->hash)));
}

}  // namespace

void add_head_command(CLI::App& app) {
  auto args = std::make_shared<HeadArgs>();
  CLI::App* cmd = app.add_subcommand(
      "head", "Print the head: its position and chain hash, to keep elsewhere and check later with verify --expect");
  cmd->add_option("DIR", args->dir, "The store's directory")->required();
  cmd->add_flag("--json", args->json, "One JSON object: position, hash");
  cmd->callback([args] { run_command([&] { return run_head(*args); }); });
}

}  // namespace ashlar::cli
