// ashlar log DIR [--from POS] [--tenant TENANT] [--json]
#include "commands.hpp"
#include "event_output.hpp"
#include "output.hpp"
#include "store.hpp"

#include <CLI/CLI.hpp>

#include <memory>
#include <optional>

namespace ashlar::cli {
namespace {

struct LogArgs {
  std::string dir;
  std::uint64_t from = 1;
  std::optional<std::string> tenant;  // nullopt: every event
  bool json = false;
};

// Streams from one snapshot: events committed while it prints are not shown, and each
// line is flushed as it goes, so a long log starts printing at once.
Result<void> run_log(const LogArgs& args) {
  ASHLAR_TRY(store, open_store(args.dir));
  ASHLAR_TRY(txn, store->log->read());
  std::optional<Error> write_error;
  auto scanned = store->log->scan(*txn, args.from, [&](const StoredEvent& stored) {
    if (args.tenant && stored.event.tenant != *args.tenant) return true;
    auto printed = print_line(args.json ? json_line(event_to_json(stored, store->domain))
                                        : event_to_text(stored.event, store->domain));
    if (!printed) write_error = printed.error();
    return printed.has_value();
  });
  if (write_error) return fail(*write_error);
  return scanned;
}

}  // namespace

void add_log_command(CLI::App& app) {
  auto args = std::make_shared<LogArgs>();
  CLI::App* cmd = app.add_subcommand("log", "Print the events of a store in log order, decoded with its stored model");
  cmd->add_option("DIR", args->dir, "The store's directory")->required();
  cmd->add_option_function<std::string>(
         "--from",
         [args](const std::string& text) {
           if (auto position = parse_position(text)) args->from = *position;  // the check below rejected the rest
         },
         "Start at this position (inclusive; the first event is 1)")
      ->type_name("POS")
      ->check(CLI::Validator(
          [](std::string& text) {
            return parse_position(text) ? std::string() : "must be a position: 1, 2, ... (got " + text + ")";
          },
          ""));  // no description: the help already says what a position is
  cmd->add_option_function<std::string>(
         "--tenant", [args](const std::string& text) { args->tenant = text; },
         "Only the events of this tenant's calls")
      ->type_name("TENANT");
  cmd->add_flag("--json", args->json,
                "One JSON object per line: position, sequence, tx, time, resource, action, type, id, version, "
                "changes, inputs, actor, correlation_id, idempotency_key (when the action had one), hash");
  cmd->callback([args] { run_command([&] { return run_log(*args); }); });
}

}  // namespace ashlar::cli
