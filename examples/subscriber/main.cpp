// A subscriber service: handles every event of a store it does not own, and survives
// its own crash without missing one. Its "handling" appends a line per event to its
// state; the position of the last event handled is its checkpoint, from which it
// resumes after a restart.
//
//   build/bin/subscriber --pub tcp://127.0.0.1:5556 --replay tcp://127.0.0.1:5557 --state ./sub-state
//   build/bin/subscriber --pub ... --replay ... --checkpoint ./sub.pos --output ./sub.log
//
// With --state DIR the lines and the checkpoint live in an LMDB environment of its own
// and are written in one transaction: killed at any instant, it resumes exactly where its
// effects end — nothing missed, nothing repeated. With --checkpoint FILE --output FILE
// the line is appended first and the checkpoint file replaced after: killed between the
// two, it handles that event again on restart — nothing missed, but a repeat is
// possible. --until POS exits once the event at POS (or later) has been handled.

#include <ashlar/eventlog/bytes.hpp>
#include <ashlar/eventlog/log.hpp>
#include <ashlar/notifiers/subscriber.hpp>

#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using ashlar::be64;
using ashlar::read_be64;

std::atomic<bool> interrupted{false};
void on_signal(int) { interrupted = true; }

// The effect of handling one event: "<position> <Resource>.<action> <key>".
std::string effect_line(const ashlar::Event& e) {
  std::string key;
  for (const auto& [name, value] : e.key) key += (key.empty() ? "" : ",") + value.str();
  return std::to_string(e.position) + " " + e.resource + "." + e.action + " " + key;
}

// Where the effects and the checkpoint are kept.
class State {
 public:
  virtual ~State() = default;
  virtual ashlar::Result<std::uint64_t> checkpoint() = 0;
  // Handles `events` (in order) and records the last one's position as the checkpoint.
  virtual ashlar::Result<void> handle(const std::vector<ashlar::ReceivedEvent>& events) = 0;
};

// Effects and checkpoint in one LMDB transaction: atomic, so exactly once.
class LmdbState final : public State {
 public:
  static ashlar::Result<std::unique_ptr<LmdbState>> open(const std::string& dir, bool sync) {
    ashlar::LogOptions options;
    // no_sync survives the process's crash (the OS holds the written pages), not a power loss.
    options.durability = sync ? ashlar::Durability::sync : ashlar::Durability::no_sync;
    auto log = ashlar::Log::open(dir, options);
    if (!log) return ashlar::fail(log.error());
    auto effects = (*log)->database("effects");
    if (!effects) return ashlar::fail(effects.error());
    auto meta = (*log)->database("subscriber");
    if (!meta) return ashlar::fail(meta.error());
    auto state = std::make_unique<LmdbState>();
    state->log_ = std::move(*log);
    state->effects_ = *effects;
    state->meta_ = *meta;
    return state;
  }

  ashlar::Result<std::uint64_t> checkpoint() override {
    auto txn = log_->read();
    if (!txn) return ashlar::fail(txn.error());
    return read(*txn, "checkpoint");
  }

  ashlar::Result<void> handle(const std::vector<ashlar::ReceivedEvent>& events) override {
    return log_->write([&](ashlar::Txn& txn) -> ashlar::Result<void> {
      auto count = read(txn, "effects");
      if (!count) return ashlar::fail(count.error());
      std::uint64_t n = *count;
      for (const auto& e : events) ASHLAR_TRY_VOID(txn.put(effects_, be64(++n), effect_line(e.event)));
      ASHLAR_TRY_VOID(txn.put(meta_, "effects", be64(n)));
      return txn.put(meta_, "checkpoint", be64(events.back().event.position));
    });
  }

 private:
  ashlar::Result<std::uint64_t> read(const ashlar::Txn& txn, std::string_view key) {
    auto v = txn.get(meta_, key);
    if (!v) return ashlar::fail(v.error());
    return *v ? read_be64(**v) : 0;
  }
  std::unique_ptr<ashlar::Log> log_;
  ashlar::Db effects_, meta_;
};

// A line appended to a file, then the checkpoint file replaced: a crash in between
// repeats that event after the restart.
class FileState final : public State {
 public:
  FileState(std::string checkpoint, std::string output)
      : checkpoint_(std::move(checkpoint)), output_path_(std::move(output)), output_(output_path_, std::ios::app) {}

  ashlar::Result<std::uint64_t> checkpoint() override {
    std::ifstream in(checkpoint_);
    std::uint64_t position = 0;
    if (in && !(in >> position)) return ashlar::fail(ashlar::Error::unknown(checkpoint_ + " holds no position"));
    return position;
  }

  ashlar::Result<void> handle(const std::vector<ashlar::ReceivedEvent>& events) override {
    for (const auto& e : events) {
      output_ << effect_line(e.event) << '\n' << std::flush;
      std::string temp = checkpoint_ + ".tmp";
      std::ofstream(temp, std::ios::trunc) << e.event.position << '\n' << std::flush;
      std::error_code ec;
      std::filesystem::rename(temp, checkpoint_, ec);  // atomic: the old or the new position
      if (!output_ || ec)
        return ashlar::fail(ashlar::Error::unknown("cannot write " + output_path_ + " or " + checkpoint_));
    }
    return {};
  }

 private:
  std::string checkpoint_, output_path_;
  std::ofstream output_;
};

struct Args {
  std::string publish, replay, resource, state_dir, checkpoint_file, output_file;
  std::uint64_t until = 0;
  bool sync = false;
  bool quiet = false;
};

// The events ready now: one waited for, then whatever else has arrived (one transaction).
// An error after some events leaves them to be handled first; the next call meets it
// again (the subscriber asks again for what failed).
ashlar::Result<std::vector<ashlar::ReceivedEvent>> next_batch(ashlar::Subscriber& sub) {
  std::vector<ashlar::ReceivedEvent> batch;
  for (auto wait = std::chrono::milliseconds(200); batch.size() < 256; wait = 0ms) {
    auto next = sub.next(wait);
    if (!next && !batch.empty()) break;
    if (!next) return ashlar::fail(next.error());
    if (!*next) break;
    batch.push_back(std::move(**next));
  }
  return batch;
}

int run(const Args& args, State& state) {
  auto checkpoint = state.checkpoint();
  if (!checkpoint) return std::fprintf(stderr, "subscriber: %s\n", checkpoint.error().describe().c_str()), 1;
  auto sub = ashlar::Subscriber::connect({.publish = args.publish, .replay = args.replay, .resource = args.resource,
                                          .start = ashlar::StartAt::after(*checkpoint)});
  if (!sub) return std::fprintf(stderr, "subscriber: %s\n", sub.error().describe().c_str()), 1;
  std::fprintf(stderr, "subscriber: resuming after position %llu\n", static_cast<unsigned long long>(*checkpoint));
  if (args.until && *checkpoint >= args.until) return 0;  // done before the restart
  while (!interrupted) {
    auto batch = next_batch(**sub);
    if (!batch) return std::fprintf(stderr, "subscriber: %s\n", batch.error().describe().c_str()), 1;
    if (batch->empty()) continue;
    auto handled = state.handle(*batch);
    if (!handled) return std::fprintf(stderr, "subscriber: %s\n", handled.error().describe().c_str()), 1;
    if (!args.quiet)
      for (const auto& e : *batch) std::printf("%s\n", effect_line(e.event).c_str());
    std::fflush(stdout);
    if (args.until && batch->back().event.position >= args.until) break;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  CLI::App app{"subscriber: handles every event of a published store once, resuming from its checkpoint"};
  app.add_option("--pub", args.publish, "The publisher's endpoint")->required();
  app.add_option("--replay", args.replay, "The replay service's endpoint")->required();
  app.add_option("--resource", args.resource, "Only this resource's events");
  auto lmdb = app.add_option("--state", args.state_dir, "Keep effects and checkpoint in this LMDB directory");
  auto file = app.add_option("--checkpoint", args.checkpoint_file, "Keep the checkpoint in this file");
  auto output = app.add_option("--output", args.output_file, "Append effects to this file (with --checkpoint)");
  lmdb->excludes(file)->excludes(output);
  file->needs(output);
  output->needs(file);
  app.add_option("--until", args.until, "Exit once this position has been handled");
  app.add_flag("--sync", args.sync, "Flush the LMDB state on every transaction");
  app.add_flag("--quiet", args.quiet, "Print nothing per event");
  CLI11_PARSE(app, argc, argv);
  if (args.state_dir.empty() && args.checkpoint_file.empty()) {
    std::fprintf(stderr, "subscriber: give --state DIR, or --checkpoint FILE and --output FILE\n");
    return 2;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  if (!args.state_dir.empty()) {
    auto state = LmdbState::open(args.state_dir, args.sync);
    if (!state) return std::fprintf(stderr, "subscriber: %s\n", state.error().describe().c_str()), 1;
    return run(args, **state);
  }
  FileState state(args.checkpoint_file, args.output_file);
  return run(args, state);
}
