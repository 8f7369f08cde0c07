// ashlar mirror DIR --nats URL --stream NAME [--prefix P] [--create [--replicas N]]
//   [--until-caught-up]
// The JetStream sink (ashlar/notifiers/jetstream.hpp) from outside the writing process: a
// read-only reader tailing the log, for stores whose writer did not configure the sink.
#include "commands.hpp"
#include "output.hpp"
#include "store.hpp"

#include <ashlar/notifiers/jetstream.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <memory>
#include <thread>

namespace ashlar::cli {
namespace {

std::atomic<bool> stop_requested{false};
void request_stop(int) { stop_requested = true; }

struct MirrorArgs {
  std::string dir;
  JetStreamOptions options;
  bool until_caught_up = false;
};

Result<void> run_mirror(MirrorArgs& args) {
  ASHLAR_TRY(store, open_store(args.dir));
  ASHLAR_TRY(sink, JetStreamSink::start(*store->log, store->domain.name(), args.options));
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  ASHLAR_TRY_VOID(print_line(fmt::format("mirroring {} into {} on {}", args.dir, args.options.stream, args.options.url)));
  while (!stop_requested) {
    std::string error = (*sink)->error();
    if (!error.empty()) return fail(Error::framework(error));
    if (args.until_caught_up) {
      ASHLAR_TRY(head, store->log->head());
      if ((*sink)->mirrored() >= head->position) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a signal is noticed promptly
  }
  return print_line(fmt::format("mirrored: {}", (*sink)->mirrored()));
}

}  // namespace

void add_mirror_command(CLI::App& app) {
  auto args = std::make_shared<MirrorArgs>();
  CLI::App* cmd = app.add_subcommand(
      "mirror", "Mirror the log into a NATS JetStream stream, exactly once (sequence = position), tailing it");
  cmd->add_option("DIR", args->dir, "The store's directory")->required();
  cmd->add_option("--nats", args->options.url, "The NATS server(s), comma-separated URLs")->required();
  cmd->add_option("--stream", args->options.stream, "The JetStream stream")->required();
  cmd->add_option("--prefix", args->options.prefix, "Subjects are PREFIX.<Resource>.<action> (default: the domain)");
  cmd->add_flag("--create", args->options.create, "Create the stream when it does not exist");
  cmd->add_option("--replicas", args->options.replicas, "Replicas of a stream it creates (default 1)")
      ->check(CLI::Range(1, 5));
  cmd->add_flag("--until-caught-up", args->until_caught_up,
                "Exit once the stream holds every event of the log (default: tail it until interrupted)");
  cmd->callback([args] { run_command([&] { return run_mirror(*args); }); });
}

}  // namespace ashlar::cli
