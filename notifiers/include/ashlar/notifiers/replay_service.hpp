#pragma once
// The replay service: a ROUTER socket that serves any range of the log — the domain's
// stream by position or one resource's stream by sequence — in batches, with the current
// heads and the stored model. A background thread owns the socket and reads the log
// through read transactions of its own, so it never waits for the writer nor holds it
// up. Requests and replies are in notifiers/PROTOCOL.md.

#include <ashlar/eventlog/log.hpp>
#include <ashlar/model/export.hpp>
#include <ashlar/notifiers/curve.hpp>
#include <ashlar/notifiers/stream_access.hpp>
#include <ashlar/notifiers/zmq_context.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace ashlar {

struct ASHLAR_API ReplayOptions {
  // "tcp://127.0.0.1:5557", "ipc://...", "inproc://..."; a tcp port "*" takes a free one.
  std::string endpoint{};
  // Share one with in-process subscribers to use inproc://; null: a context of its own.
  std::shared_ptr<ZmqContext> context{};
  // At most this many events per reply, whatever a request asks (a reply also stays
  // under 4 MiB): one slow consumer cannot make the service build huge replies.
  std::size_t batch = 1000;
  // A request (its one JSON frame) longer than this gets an error reply (too_complex)
  // instead of an answer; a message frame over 16 times this size makes ZeroMQ drop the
  // connection before the service reads it.
  std::size_t max_request = std::size_t{64} << 10;
  // Requests a client may have waiting in the service (ZMQ_RCVHWM, per connection): past
  // it ZeroMQ stops reading that client's connection until the service has answered some,
  // so one client cannot fill the service's memory with requests. The service answers
  // one request at a time, in turn among its clients.
  int queued_per_client = 100;
  // CURVE: the server's key pair and, optionally, the clients allowed. Empty keys: plain.
  CurveServerOptions curve{};
  // Serve each client what this lets its actor see (a replay then has "through", as
  // for one tenant); null: every event as stored.
  StreamAccess access{};
  // How long an `access` decision is reused for another request of the same actor (id
  // and role) about the same event, with the event's re-encoding: clients of one actor
  // asking for the same events within it (each client after a commit, several catching
  // up together) cost one decision. A reused decision is the one `access` gave up to this
  // long ago, which only a decision depending on the clock or on state outside the store
  // (a custom check) can tell apart. Zero: every request decides every event.
  std::chrono::milliseconds decision_memory{1000};
};

class ASHLAR_API ReplayService {
 public:
  // Binds the endpoint and starts serving `log`, which must outlive the service.
  // Framework naming the endpoint when it cannot be bound, or for bad CURVE keys.
  static Result<std::unique_ptr<ReplayService>> start(const Log& log, ReplayOptions options);
  ~ReplayService();  // stops serving; a request in progress is answered first

  // The endpoint as bound (a wildcard tcp port resolved).
  const std::string& endpoint() const;
  // Requests received since start, of every kind, well-formed or not.
  std::uint64_t requests() const;

 private:
  struct Impl;
  explicit ReplayService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ashlar
