#pragma once
// Publishing committed events over ZeroMQ: a PUB socket fed by a background thread, and
// the replay service beside it. The wire format is in notifiers/PROTOCOL.md.
//
//   auto engine = Engine::open(dir, blog, {.publish = {.endpoints = {"tcp://127.0.0.1:5556"},
//                                                      .replay = "tcp://127.0.0.1:5557"}});

#include <ashlar/eventlog/log.hpp>
#include <ashlar/model/export.hpp>
#include <ashlar/model/resource.hpp>
#include <ashlar/notifiers/curve.hpp>
#include <ashlar/notifiers/notifier.hpp>
#include <ashlar/notifiers/stream_access.hpp>
#include <ashlar/notifiers/zmq_context.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ashlar {

class ReplayService;

struct ASHLAR_API PublishOptions {
  // Endpoints the PUB socket binds: "tcp://127.0.0.1:5556", "ipc:///run/app/events",
  // "inproc://events"; a tcp port "*" takes a free one. Empty: nothing is published.
  std::vector<std::string> endpoints{};
  // The replay service's ROUTER endpoint; empty: none, and subscribers cannot catch up.
  std::string replay{};
  // Share one with in-process subscribers to use inproc://; null: a context of its own.
  std::shared_ptr<ZmqContext> context{};
  // Events waiting for the publisher thread. Past either bound the writer drops events
  // (counted) instead of waiting, and subscribers fill the gap from the replay service.
  std::size_t queue_events = 100000;
  std::size_t queue_bytes = std::size_t{256} << 20;
  // Messages ZeroMQ holds per subscriber before it drops them (ZMQ_SNDHWM): a larger
  // value absorbs longer bursts for slow subscribers at the cost of memory.
  int send_high_water_mark = 100000;
  // How often the head is published (at least every 1 ms), so an idle subscriber learns
  // it is current and one that lost the last events of a burst learns of the gap.
  std::chrono::milliseconds heartbeat{1000};
  // After sending, the publisher thread waits this long for more events before it asks
  // the writer to wake it. Under a steady stream the writer then makes no wake-up call
  // (a syscall: a few microseconds a commit on a VM), for at most this much latency.
  // Zero: every commit wakes the thread.
  std::chrono::microseconds coalesce{200};
  // At most this many events per replay reply (a reply also stays under 4 MiB).
  std::size_t replay_batch = 1000;
  // CURVE on both sockets: the server's key pair and, optionally, the clients allowed
  // (notifiers/curve.hpp). Empty keys: plain ZeroMQ.
  CurveServerOptions curve{};
  // Per-client streams: each client receives the events `access` lets its actor see,
  // redacted as it says, from the replay service only; the PUB socket then sends no
  // event, and a heartbeat right after each batch of commits. Null: every client gets
  // every event. Engine::open sets it when `curve.clients` is set and it is null.
  StreamAccess access{};
  // How long the replay service reuses a decision of `access` for another client of the
  // same actor (ReplayOptions::decision_memory). Zero: every client, every event decided.
  std::chrono::milliseconds decision_memory{1000};
};

// The PUB socket. notify() only copies the events into a bounded queue; one background
// thread owns the socket and sends two frames per event (topic, event bytes) and a
// heartbeat every PublishOptions::heartbeat. A slow or absent subscriber costs the
// writer nothing: ZeroMQ drops what a subscriber cannot take, and nothing the publisher
// does changes the store.
class ASHLAR_API ZmqPublisher final : public Notifier {
 public:
  // Binds every endpoint, reading the heads and the templates' values from `log`, which
  // must outlive the publisher. Framework naming the endpoint when one cannot be bound,
  // and as curve::secure_server for bad CURVE keys ("the publisher's CURVE keys are ...").
  static Result<std::unique_ptr<ZmqPublisher>> start(const Log& log, const Domain& domain,
                                                     const PublishOptions& options);
  ~ZmqPublisher() override;  // publishes what is queued, then stops

  void notify(std::span<const StoredEvent> events) noexcept override;

  struct Stats {
    std::uint64_t published = 0;   // events sent
    std::uint64_t messages = 0;    // topic + bytes messages sent (an event may have two topics)
    std::uint64_t dropped = 0;     // events the full queue turned away
    std::uint64_t heartbeats = 0;
    std::uint64_t failures = 0;    // events whose topics could not be computed or sent
  };
  Stats stats() const;
  // The endpoints as bound (wildcard tcp ports resolved).
  const std::vector<std::string>& endpoints() const;

 private:
  struct Impl;
  explicit ZmqPublisher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// What Engine::open starts from Options::publish: the publisher and the replay service.
class ASHLAR_API PublishService final : public Notifier {
 public:
  // Null when options configure neither; otherwise as ZmqPublisher::start and
  // ReplayService::start. `log` must outlive the service.
  static Result<std::unique_ptr<PublishService>> start(const Log& log, const Domain& domain,
                                                       const PublishOptions& options);
  ~PublishService() override;

  void notify(std::span<const StoredEvent> events) noexcept override;

  const ZmqPublisher* publisher() const { return publisher_.get(); }
  const ReplayService* replay() const { return replay_.get(); }

 private:
  PublishService() = default;
  std::unique_ptr<ZmqPublisher> publisher_;
  std::unique_ptr<ReplayService> replay_;
};

}  // namespace ashlar
