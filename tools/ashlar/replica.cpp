// ashlar replica --nats URL --stream NAME DIR [--until-caught-up] [--no-sync] [--key-file F]
// A read replica (ashlar/replica.hpp): applies a mirrored stream into the store in DIR,
// which the other commands (query, history, state, head, verify) then read. It cannot
// take custom projections or upcasters (C++ code): its help says so.
#include "commands.hpp"
#include "output.hpp"

#include <ashlar/notifiers/jetstream_reader.hpp>
#include <ashlar/replica.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

namespace ashlar::cli {
namespace {

std::atomic<bool> stop_requested{false};
void request_stop(int) { stop_requested = true; }

struct ReplicaArgs {
  std::string dir, key_file;
  ReplicaOptions options;
  bool until_caught_up = false, no_sync = false;
};

Result<void> run_replica(ReplicaArgs& args) {
  if (!args.key_file.empty()) {
    std::ifstream in(args.key_file, std::ios::binary);
    if (!in) return fail(Error::framework(fmt::format("cannot read the key file {}", args.key_file)));
    std::stringstream s;
    s << in.rdbuf();
    args.options.chain_key = s.str();
  }
  if (args.no_sync) args.options.durability = Durability::no_sync;
  std::uint64_t target = 0;  // --until-caught-up: the stream's last sequence now
  if (args.until_caught_up) {
    ASHLAR_TRY(reader, JetStreamReader::open({.url = args.options.url, .stream = args.options.stream}, 1));
    ASHLAR_TRY(last, (*reader)->last_sequence());
    target = *last;
  }
  ASHLAR_TRY(replica, Replica::start(args.dir, args.options));
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  ASHLAR_TRY_VOID(print_line(fmt::format("replicating {} on {} into {}", args.options.stream, args.options.url, args.dir)));
  while (!stop_requested) {
    bool reached = (*replica)->wait_for(target, std::chrono::milliseconds(20));  // a signal is noticed promptly
    std::string error = (*replica)->error();
    if (!error.empty()) return fail(Error::framework(error));
    if (args.until_caught_up && reached) break;
  }
  return print_line(fmt::format("position: {}", (*replica)->position()));
}

}  // namespace

void add_replica_command(CLI::App& app) {
  auto args = std::make_shared<ReplicaArgs>();
  CLI::App* cmd = app.add_subcommand(
      "replica", "Keep a read replica in DIR: apply a mirrored JetStream stream, checking every event's hash");
  cmd->add_option("DIR", args->dir, "The replica's store directory (created if new)")->required();
  cmd->add_option("--nats", args->options.url, "The NATS server(s), comma-separated URLs")->required();
  cmd->add_option("--stream", args->options.stream, "The JetStream stream the primary is mirrored into")->required();
  cmd->add_flag("--until-caught-up", args->until_caught_up,
                "Exit once the replica holds what the stream held at the start (default: follow it until interrupted)");
  cmd->add_flag("--no-sync", args->no_sync, "Do not flush every batch (a replica can fetch again what it loses)");
  cmd->add_option("--key-file", args->key_file, "The chain's key, when the primary's chain is keyed");
  cmd->footer(
      "Custom projections and upcasters are C++ code, which this command cannot load: it folds the state "
      "projection only, and stops at a model change that needs an upcaster. Replicate a primary that has them "
      "with a program of your own: Replica::start with ReplicaOptions::projections and ::upcasters "
      "(ashlar/replica.hpp).");
  cmd->callback([args] { run_command([&] { return run_replica(*args); }); });
}

}  // namespace ashlar::cli
