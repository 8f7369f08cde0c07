// ashlar subscribe --pub ENDPOINT --replay ENDPOINT [--resource R [--action A]]
//                  [--tenant T] [--from POS|now] [--count N] [--server-key FILE [--client-key FILE]] [--json]
#include "commands.hpp"
#include "event_output.hpp"
#include "output.hpp"

#include <ashlar/notifiers/subscriber.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <memory>

namespace ashlar::cli {
namespace {

std::atomic<bool> stop_requested{false};
void request_stop(int) { stop_requested = true; }

struct SubscribeArgs {
  std::string publish;
  std::string replay;
  std::string resource;
  std::string action;
  std::string tenant;  // empty: every tenant's events
  StartAt start = StartAt::now();
  std::uint64_t count = 0;  // 0: until interrupted
  bool json = false;
  int connect_timeout_ms = 5000;
  std::string server_key_file;
  std::string client_key_file;
};

// Prints the stream as it arrives, one flushed line per event, until SIGINT or SIGTERM
// (a clean exit) or --count events. No store directory: the events describe themselves
// and the replay service serves the model that names what is sensitive.
Result<void> run_subscribe(const SubscribeArgs& args) {
  std::string server_key;
  CurveKeyPair client_keys;
  if (!args.server_key_file.empty()) {
    ASHLAR_TRY(key, read_public_key(args.server_key_file));
    server_key = std::move(*key);
  }
  if (!args.client_key_file.empty()) {
    ASHLAR_TRY(keys, read_key_pair(args.client_key_file));
    client_keys = std::move(*keys);
  }
  ASHLAR_TRY(sub, Subscriber::connect({.publish = args.publish,
                                  .replay = args.replay,
                                  .resource = args.resource,
                                  .action = args.action,
                                  .tenant = args.tenant,
                                  .start = args.start,
                                  .connect_timeout = std::chrono::milliseconds(args.connect_timeout_ms),
                                  .server_key = std::move(server_key),
                                  .client_keys = std::move(client_keys)}));
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  const Domain& model = (*sub)->model();
  for (std::uint64_t printed = 0; !stop_requested && (args.count == 0 || printed < args.count);) {
    // A short wait, so a signal is noticed promptly.
    ASHLAR_TRY(next, (*sub)->next(std::chrono::milliseconds(100)));
    if (!*next) continue;
    const Event& e = (*next)->event;
    ASHLAR_TRY_VOID(print_line(args.json ? json_line(event_to_json(e, model)) : event_to_text(e, model)));
    ++printed;
  }
  return {};
}

void add_from_option(CLI::App* cmd, const std::shared_ptr<SubscribeArgs>& args) {
  cmd->add_option_function<std::string>(
         "--from",
         [args](const std::string& text) {
           if (text == "now") args->start = StartAt::now();
           else if (auto position = parse_position(text)) args->start = StartAt::after(*position - 1);
         },
         "Start at this position (inclusive; the first event is 1), or now (the default): only what is "
         "committed from now on")
      ->type_name("POS|now")
      ->check(CLI::Validator(
          [](std::string& text) {
            return text == "now" || parse_position(text) ? std::string()
                                                         : "must be a position: 1, 2, ... or now (got " + text + ")";
          },
          ""));
}

}  // namespace

void add_subscribe_command(CLI::App& app) {
  auto args = std::make_shared<SubscribeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "subscribe", "Print the events a running engine publishes, catching up from its replay service first");
  cmd->add_option("--pub", args->publish, "The engine's PUB endpoint, e.g. tcp://127.0.0.1:5556")->required();
  cmd->add_option("--replay", args->replay, "The engine's replay endpoint, e.g. tcp://127.0.0.1:5557")->required();
  auto resource = cmd->add_option("--resource", args->resource, "Only this resource's events");
  cmd->add_option("--action", args->action, "Only this action's events (of --resource)")->needs(resource);
  cmd->add_option("--tenant", args->tenant, "Only the events of this tenant's calls")->type_name("TENANT");
  add_from_option(cmd, args);
  cmd->add_option("--count", args->count, "Exit after this many events")->check(CLI::PositiveNumber);
  cmd->add_option("--connect-timeout", args->connect_timeout_ms,
                  "Milliseconds to wait for the replay service to answer (default 5000)")
      ->check(CLI::PositiveNumber);
  auto server_key = cmd->add_option("--server-key", args->server_key_file,
                                    "The server's public key file (a PATH.pub of ashlar keygen): speak CURVE");
  cmd->add_option("--client-key", args->client_key_file,
                  "This client's secret key file (ashlar keygen's PATH), as the server's allow-list knows it; "
                  "default: a fresh key")
      ->needs(server_key);
  cmd->add_flag("--json", args->json,
                "One JSON object per line, as ashlar log --json prints them, without \"hash\" (not on the wire)");
  cmd->callback([args] { run_command([&] { return run_subscribe(*args); }); });
}

}  // namespace ashlar::cli
