#pragma once
// The catch-up subscriber: every event of a selection, in log order, each position once.
//
//   auto sub = Subscriber::connect({.publish = "tcp://127.0.0.1:5556",
//                                   .replay = "tcp://127.0.0.1:5557",
//                                   .resource = "User",
//                                   .start = StartAt::after(load_checkpoint())}).value();
//   for (;;)
//     if (auto e = sub->next(std::chrono::seconds(1)).value()) {
//       handle(e->event);
//       save_checkpoint(sub->position());
//     }
//
// It asks the replay service for history from the start, then takes events from the
// live stream, numbering them by the stream it consumes: global positions for a domain,
// the resource's sequence for a resource (an action or a tenant is filtered locally; the
// replay service sends one tenant's events and the range they cover). A number that
// skips ahead, or a heartbeat whose head is beyond the last number seen, is a gap,
// filled from the replay service; anything already delivered is skipped, so an event
// published under two topics arrives once. While it keeps up, it asks the replay
// service for nothing.
//
// Across the caller's crash: resumed from the position its last handled event left,
// it misses nothing; it repeats nothing only when that position is stored atomically
// with the handling's effects (examples/subscriber).

#include <ashlar/eventlog/event.hpp>
#include <ashlar/model/export.hpp>
#include <ashlar/model/resource.hpp>
#include <ashlar/notifiers/curve.hpp>
#include <ashlar/notifiers/zmq_context.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace ashlar {

// Where a subscription begins.
struct ASHLAR_API StartAt {
  // After this position: a checkpoint, the position of the last event handled.
  static StartAt after(std::uint64_t checkpoint) { return {false, checkpoint}; }
  static StartAt beginning() { return {false, 0}; }
  // After the head when it connects: only what is committed from then on.
  static StartAt now() { return {true, 0}; }

  bool at_head = false;
  std::uint64_t checkpoint = 0;
};

struct ASHLAR_API SubscriberOptions {
  std::string publish{};   // the publisher's endpoint, "tcp://127.0.0.1:5556"
  std::string replay{};    // the replay service's endpoint, "tcp://127.0.0.1:5557"
  std::string resource{};  // empty: every resource of the domain
  std::string action{};    // only this action of `resource` (filtered here)
  // Only the events of this tenant's calls (empty: every tenant's). Replays bring its
  // events alone; the live stream brings the whole domain's (or resource's), numbered
  // as without it, and the others are dropped here.
  std::string tenant{};
  StartAt start{};         // default: from the beginning
  // Share the publisher's to use inproc:// endpoints; null: a context of its own.
  std::shared_ptr<ZmqContext> context{};
  // Live messages ZeroMQ holds for this subscriber (ZMQ_RCVHWM): past it the publisher
  // drops them, and the gap is filled from the replay service.
  int receive_high_water_mark = 10000;
  // Events asked for per replay request.
  std::size_t replay_batch = 1000;
  // Live events held while a gap before them is filled; more are dropped and replayed
  // (a bound on memory: each holds its bytes and its decoded form).
  std::size_t max_held = 10000;
  // A replay request unanswered for this long is sent again.
  std::chrono::milliseconds request_timeout{2000};
  // connect() fails when the replay service does not answer within this.
  std::chrono::milliseconds connect_timeout{5000};
  // CURVE on both sockets: the server's public key (Z85, the PATH.pub `ashlar keygen`
  // writes). Empty: plain ZeroMQ, which a CURVE server never answers.
  std::string server_key{};
  // This client's key pair, as the server's allow-list knows it. Empty: a fresh pair,
  // enough for a server that takes any client knowing its public key.
  CurveKeyPair client_keys{};
};

// An event as received: decoded, with its exact bytes (the chain hash is not on the wire).
struct ASHLAR_API ReceivedEvent {
  Event event;
  std::string bytes;
};

class ASHLAR_API Subscriber {
 public:
  // Connects to both endpoints and asks the replay service where the stream starts (and
  // for the model). Framework for a malformed endpoint, an action without a resource or
  // a resource the domain does not have, or a malformed CURVE key; Unknown when the
  // replay service does not answer within connect_timeout ("the replay service at E did
  // not answer within 5000 ms"; with a server_key, followed by "(with CURVE: check the
  // server's public key, and that this client's key is on its allow-list)"): a wrong
  // server key, a key the allow-list refuses and a plain client of a CURVE server all
  // end so, since ZeroMQ never tells a refused client why.
  static Result<std::unique_ptr<Subscriber>> connect(SubscriberOptions options);
  ~Subscriber();

  // The next event of the selection: positions increase and none is delivered twice.
  // nullopt when none arrived within `timeout`. Unknown when the replay service reports
  // an error, with the service's code: decode_error when the next event in the store
  // does not decode ("the replay service at ... failed: event at position 17
  // does not decode: ..."; every event before it was delivered first); also
  // decode_error when the service serves bytes that do not decode. Each call after such
  // an error asks again and fails again while the store holds the event. Not
  // thread-safe: one thread consumes a subscriber.
  Result<std::optional<ReceivedEvent>> next(std::chrono::milliseconds timeout);

  // The position of the last event delivered: the checkpoint to resume from
  // (StartAt::after). Before the first, where the subscription started.
  std::uint64_t position() const;
  // True when every event of the selection known to be committed has been delivered.
  bool caught_up() const;
  // The head position last learned from a heartbeat, a live event or a reply.
  std::uint64_t head() const;
  // The stored model, as the replay service served it: resource and attribute names.
  const Domain& model() const;
  // The actor the server's allow-list authenticated this client as (the hello reply's
  // "actor"); nullopt from a plain server or one that takes any key.
  const std::optional<ClientActor>& actor() const;

  struct Stats {
    std::uint64_t delivered = 0;
    std::uint64_t live = 0;            // events received on the live stream
    std::uint64_t duplicates = 0;      // live or replayed events already delivered, skipped
    std::uint64_t replay_requests = 0;
    std::uint64_t replayed = 0;        // events taken from replay replies
    std::uint64_t heartbeats = 0;
  };
  Stats stats() const;

 private:
  struct Impl;
  explicit Subscriber(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ashlar
