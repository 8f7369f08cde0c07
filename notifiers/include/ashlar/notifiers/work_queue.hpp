#pragma once
// Competing consumers over a mirrored stream (ashlar/notifiers/jetstream.hpp): a
// JetStream durable pull consumer that any number of workers share, in one process or
// many. Each event goes to one worker at a time.
//
//   auto queue = WorkQueue::open({.url = url, .stream = "BLOG", .durable = "mailer",
//                                 .resource = "User", .action = "create"}).value();
//   while (running) queue->work([&](const WorkItem& item) -> Result<void> { ... }, 1s);
//
// Delivery is at least once: an event is acknowledged when its handler returns success,
// and handed out again (to this worker or another) when the handler fails, throws, or
// its worker dies or takes longer than ack_wait. So a handler may see an event more than
// once, and, across workers, out of order. It is effectively once when the handler's
// effects carry the event's position and a repeat is recognized by it: store "done up to
// position / done positions" atomically with the effect (an upsert keyed by position, a
// unique constraint), and skip what is already there.

#include <ashlar/eventlog/event.hpp>
#include <ashlar/model/export.hpp>
#include <ashlar/model/result.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace ashlar {

struct ASHLAR_API WorkQueueOptions {
  std::string url{};      // NATS server(s), comma-separated
  std::string stream{};   // the mirrored stream
  std::string durable{};  // the consumer's name: workers with the same one share the work
  // Only events of this resource (and action); empty: any. The consumer is created with
  // the first worker's filter; a worker asking another filter of it is refused.
  std::string resource{}, action{};
  // Subjects are <prefix>.<Resource>.<action>; empty: taken from the stream's subject.
  std::string prefix{};
  // Unacknowledged this long, an event is handed out again.
  std::chrono::milliseconds ack_wait{30000};
  std::chrono::milliseconds timeout{2000};  // JetStream requests
};

struct ASHLAR_API WorkItem {
  std::uint64_t position = 0;   // the event's log position: the key of effectively-once
  std::uint64_t delivered = 1;  // the how-manieth time it is handed out (1: the first)
  Event event;
  std::string bytes;  // as stored in the log
};

class ASHLAR_API WorkQueue {
 public:
  // Creates the durable consumer, or joins it. Framework when the options lack url, stream
  // or durable, the stream does not exist, or the consumer exists with another filter;
  // Unknown (io_error) when no server answers.
  static Result<std::unique_ptr<WorkQueue>> open(const WorkQueueOptions& options);
  ~WorkQueue();

  // Fetches up to `batch` events (waiting up to `wait` for them) and hands each to
  // `handler` in turn: acknowledged when it returns success, handed out again at once
  // when it fails or throws. The number of events handled successfully; 0 when none came.
  // Unknown (io_error) when the connection failed (call again: it reconnects).
  Result<std::size_t> work(const std::function<Result<void>(const WorkItem&)>& handler,
                           std::chrono::milliseconds wait, std::size_t batch = 16);

 private:
  struct Impl;
  explicit WorkQueue(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ashlar
