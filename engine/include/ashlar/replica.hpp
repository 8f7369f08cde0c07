#pragma once
// A read replica: a local store that applies a mirrored stream (ashlar/notifiers/
// jetstream.hpp) in order — the same bytes at the same positions, the same hash chain,
// the state projection and the custom projections folded as the primary folds them —
// so StoreReader and the command line (query, history, state, head, verify) read it as
// they read the primary.
//
//   auto replica = ashlar::Replica::start("./blog-replica",
//                                         {.url = "nats://10.0.0.1:4222", .stream = "BLOG"}).value();
//
// Every message is checked before it is kept: its sequence is the next position, its
// bytes decode and encode back to themselves, its domain is the replica's, and its
// Ashlar-Hash is h(position) of the chain the replica extends. The first that does not
// fit stops the replica with an error naming it (error()); everything before it is kept.
// The model comes from the stream (the Ashlar-Model header of the first event of each
// model version) and is installed as Engine::open installs a changed model: checked
// against the upcasters, and the projections rebuilt, upcast, when the change needs it
// (a constant default added to a stored resource, new indexes or identities, an
// upcaster). The replica is the only writer of its store; its position is its
// checkpoint, so a replica killed and started again resumes after its head.

#include <ashlar/eventlog/log.hpp>
#include <ashlar/model/export.hpp>
#include <ashlar/projections/custom.hpp>
#include <ashlar/projections/upcast.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ashlar {

struct ASHLAR_API ReplicaOptions {
  std::string url{};     // the NATS server(s), comma-separated
  std::string stream{};  // the mirrored stream
  // The primary's chain key when its chain is keyed (LogOptions::chain_key).
  std::string chain_key{};
  // sync survives power loss; a replica can always fetch again what it lost, so no_sync
  // is a fair trade for speed.
  Durability durability = Durability::sync;
  // Messages applied per write transaction (one commit, one flush).
  std::size_t batch = 512;
  // A request to NATS that takes longer fails, and the replica backs off (doubling from
  // backoff up to max_backoff) and reconnects.
  std::chrono::milliseconds timeout{2000};
  std::chrono::milliseconds backoff{50};
  std::chrono::milliseconds max_backoff{1000};
  // Named databases beyond the model's tables (each tenant of a context-multitenant
  // resource takes some), as Options::tenant_databases.
  unsigned tenant_databases = 4096;
  // The primary's custom projections (Options::projections): folded into as the
  // primary folds them, in-transaction ones in the transaction that appends each event,
  // so the replica's tables end equal to the primary's. A projection new to the replica
  // starts from position 1.
  std::vector<std::shared_ptr<Projection>> projections{};
  // The primary's upcasters (Options::upcasters), all of them: each one applies from the
  // model version after its model_version on, as it did on the primary, so one for a
  // version the replica has not reached yet waits for it.
  std::vector<Upcaster> upcasters{};
};

class ASHLAR_API Replica {
 public:
  // Opens (or creates) the store in `path` for writing and starts applying the stream
  // after its head. Errors of Log::open (writer_locked when another process writes it);
  // Framework when the options lack url or stream, or the store holds a model that does
  // not decode or does not fit the upcasters (as Engine::open), or a projection's name is
  // bad.
  static Result<std::unique_ptr<Replica>> start(const std::string& path, const ReplicaOptions& options);
  ~Replica();  // stops once the current batch is committed

  // The replica's head: the last position applied.
  std::uint64_t position() const;
  // The stream's last sequence as last asked, minus position().
  std::uint64_t lag() const;
  // Empty while it runs; otherwise why it stopped ("message 7 does not fit: its hash is
  // not h(7) of the replica's chain (tampered, or another store's)").
  std::string error() const;
  // Waits until position() >= position, the replica stopped, or `timeout` passed; true in
  // the first case.
  bool wait_for(std::uint64_t position, std::chrono::milliseconds timeout) const;

  // As Engine::catch_up: folds into the asynchronous projections everything applied so
  // far; their first error.
  Result<void> catch_up() const;
  // As Engine::read_projection: runs fn over a custom projection's tables in one read
  // snapshot. Framework when no projection is so named (none is before the replica has
  // a model).
  Result<void> read_projection(std::string_view name, const std::function<Result<void>(const StateStore&)>& fn) const;

 private:
  struct Impl;
  explicit Replica(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ashlar
