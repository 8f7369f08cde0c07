// Workers: competing consumers of a mirrored log (ashlar/notifiers/work_queue.hpp). Run
// several with the same --durable, in one machine or many: each event goes to one of
// them, and one that dies has its unacknowledged events handed to the others once
// --ack-wait passes.
//
//   build/bin/ticker /tmp/market --nats nats://127.0.0.1:4222 --stream MARKET --count 1000
//   build/bin/workers --nats nats://127.0.0.1:4222 --stream MARKET --durable fill --resource Order
//
// Each handled event prints "<position> <Resource>.<action> <delivery>" (delivery 1 the
// first time, more when it is handed out again), after its work is done and before it is
// acknowledged: so a worker killed between the two makes the event appear twice across
// workers, never zero times. That is at-least-once. A handler with real effects makes it
// effectively-once by storing the position with its effect, atomically (a row keyed by
// position, a unique constraint), and skipping a position it has stored; here the reader
// of the lines does that, by position.
//
// With --threads N the process runs N workers of its own (one connection each).

#include <ashlar/ashlar.hpp>
#include <ashlar/notifiers/work_queue.hpp>

#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

namespace {

std::atomic<bool> interrupted{false};
void on_signal(int) { interrupted = true; }

struct Args {
  ashlar::WorkQueueOptions queue;
  int ack_wait_ms = 30000;
  int threads = 1;
};

int run(const Args& args) {
  ashlar::WorkQueueOptions options = args.queue;
  options.ack_wait = std::chrono::milliseconds(args.ack_wait_ms);
  std::mutex out;
  std::atomic<int> failed{0};
  auto worker = [&] {
    auto queue = ashlar::WorkQueue::open(options);
    if (!queue) {
      std::fprintf(stderr, "workers: %s\n", queue.error().describe().c_str());
      failed = 1;
      return;
    }
    while (!interrupted) {
      auto handled = (*queue)->work(
          [&](const ashlar::WorkItem& item) -> ashlar::Result<void> {
            // The work: here, a line. Done before the acknowledgement, so never lost.
            std::lock_guard lock(out);
            std::printf("%llu %s.%s %llu\n", static_cast<unsigned long long>(item.position),
                        item.event.resource.c_str(), item.event.action.c_str(),
                        static_cast<unsigned long long>(item.delivered));
            std::fflush(stdout);
            return {};
          },
          std::chrono::milliseconds(200));
      if (!handled) {  // the connection failed: it reconnects on its own
        std::fprintf(stderr, "workers: %s\n", handled.error().describe().c_str());
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < args.threads; ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  return failed;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  CLI::App app{"workers: competing consumers of a log mirrored into JetStream"};
  app.add_option("--nats", args.queue.url, "The NATS server(s)")->required();
  app.add_option("--stream", args.queue.stream, "The mirrored stream")->required();
  app.add_option("--durable", args.queue.durable, "The consumer the workers share")->required();
  app.add_option("--resource", args.queue.resource, "Only this resource's events");
  app.add_option("--action", args.queue.action, "Only this action's events");
  app.add_option("--ack-wait-ms", args.ack_wait_ms, "Unacknowledged this long, an event goes to another worker")
      ->check(CLI::Range(100, 3600000));
  app.add_option("--threads", args.threads, "Workers in this process (default 1)")->check(CLI::Range(1, 64));
  CLI11_PARSE(app, argc, argv);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  return run(args);
}
