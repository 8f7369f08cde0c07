#pragma once
// The log, mirrored into a NATS JetStream stream exactly once: message n of the stream is
// event n of the log, its bytes as stored, published on <prefix>.<Resource>.<action> with
// the headers below. The stream is the checkpoint: the sink resumes from its last
// sequence, reading the log (not memory) to catch up.
//
//   auto engine = Engine::open(dir, blog, {.jetstream = {.url = "nats://127.0.0.1:4222",
//                                                        .stream = "BLOG", .create = true}});
//
// Each message is published with Nats-Expected-Last-Sequence = position - 1 and
// Nats-Msg-Id = "<domain>:<position>": a retry after a crash or a lost acknowledgement is
// either de-duplicated or refused, so the stream never holds an event twice or out of
// place, and the stream's sequence is the log's position.

#include <ashlar/eventlog/log.hpp>
#include <ashlar/model/export.hpp>
#include <ashlar/notifiers/notifier.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace ashlar {

// The headers of every mirrored event (all text).
inline constexpr const char* kHeaderDomain = "Ashlar-Domain";      // the domain's name
inline constexpr const char* kHeaderPosition = "Ashlar-Position";  // the log position, decimal
inline constexpr const char* kHeaderTenant = "Ashlar-Tenant";      // the call's tenant; absent when none
inline constexpr const char* kHeaderHash = "Ashlar-Hash";          // h(position), 64 hex digits
// On the first event written under each version of the stored model: that model's JSON
// (as Log::models holds it, on one line), so a replica needs nothing but the stream.
inline constexpr const char* kHeaderModel = "Ashlar-Model";

enum class StreamRetention { limits, interest, work_queue };  // JetStream's retention policies
enum class StreamStorage { file, memory };

struct ASHLAR_API JetStreamOptions {
  // The NATS server(s), comma-separated ("nats://127.0.0.1:4222,nats://10.0.0.2:4222").
  // Empty: nothing is mirrored.
  std::string url{};
  // The stream's name. It must take the subjects "<prefix>.>".
  std::string stream{};
  // Subjects are <prefix>.<Resource>.<action>; empty: the domain's name.
  std::string prefix{};
  // Create the stream when it does not exist, with the three settings below; otherwise a
  // missing stream stops the sink (an operator creates it, with whatever settings).
  bool create = false;
  int replicas = 1;
  StreamRetention retention = StreamRetention::limits;  // limits: keep every event
  StreamStorage storage = StreamStorage::file;
  // Events in flight (published, acknowledgement pending) at once: more is faster over a
  // slow link, and more to publish again after a failure.
  std::size_t batch = 512;
  // How long a publish or a JetStream request may take before the sink gives up on it,
  // backs off and asks the stream where it stands.
  std::chrono::milliseconds timeout{2000};
  // After a failure the sink waits this long, doubling up to max_backoff, before trying
  // again (the connection itself reconnects on its own).
  std::chrono::milliseconds backoff{50};
  std::chrono::milliseconds max_backoff{1000};
  // How often the log's head is read when nothing told the sink of new events: what an
  // outside reader (ashlar mirror) relies on; in the engine, commits wake it at once.
  std::chrono::milliseconds poll{50};
  // start() waits this long for the first look at the stream, so that a stream holding
  // another store's events, or a missing one, fails the open; an unreachable server does
  // not (the sink keeps trying).
  std::chrono::milliseconds start_wait{2000};
};

// A notifier that mirrors the log into a stream. notify() only wakes its thread, which
// reads the events from the log and publishes them: the engine never waits for NATS.
class ASHLAR_API JetStreamSink final : public Notifier {
 public:
  // Starts the thread over `log` (a writer's or a read-only one, which it then tails),
  // which must outlive the sink. Framework when options lack url or stream, when the
  // server answers that the stream does not exist and create is false ("JetStream stream
  // S does not exist; create it or set create"), when it takes other subjects, or holds
  // events that are not this store's ("JetStream stream S holds events of domain D" /
  // "... event N's hash differs from the log's" / "... holds N events, more than the
  // log's M"): the same errors stop a running sink (see error()).
  static Result<std::unique_ptr<JetStreamSink>> start(const Log& log, std::string domain,
                                                      const JetStreamOptions& options);
  ~JetStreamSink() override;  // stops at once; what is not yet mirrored is on the next start

  void notify(std::span<const StoredEvent> events) noexcept override;

  // The last position the stream acknowledged (the stream's last sequence).
  std::uint64_t mirrored() const;
  // The log's head as the sink last read it, minus mirrored(): positions behind.
  std::uint64_t lag() const;
  // Empty while the sink runs; the reason it stopped otherwise.
  std::string error() const;
  // Whether the last attempt to reach the stream failed (it keeps trying).
  bool connected() const;
  // Waits until mirrored() >= position, the sink stopped, or `timeout` passed; true in the
  // first case.
  bool wait_for(std::uint64_t position, std::chrono::milliseconds timeout) const;

 private:
  struct Impl;
  explicit JetStreamSink(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ashlar
