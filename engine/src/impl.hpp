#pragma once
// The engine's insides, shared by its source files.

#include <ashlar/engine.hpp>
#include <ashlar/model/key.hpp>
#include <ashlar/notifiers/publisher.hpp>
#include <ashlar/projections/state.hpp>
#include <ashlar/projections/tenants.hpp>

#include "group_commit.hpp"
#include "replay.hpp"
#include "write_scope.hpp"

namespace ashlar {

namespace runtime {
struct EngineImpl;
}
using runtime::EngineImpl;

struct runtime::EngineImpl {
  Engine* self = nullptr;  // the Engine that owns this now: moves re-point it
  Domain domain;
  Options options;
  std::unique_ptr<Log> log;
  StateProjection state;
  std::shared_ptr<TenantTables> tenants;  // context multitenancy: each tenant's own tables
  std::unique_ptr<PublishService> publishing;  // declared after log: stops before it closes
  std::unique_ptr<JetStreamSink> jetstream;    // likewise
  runtime::Replay replay;  // model versions, upcasts, custom projections (after log, too)
  std::unique_ptr<runtime::GroupCommit> writer;  // commits callers' actions in groups

  Result<const Resource*> resource(std::string_view name) const;
  Result<const Action*> action(const Resource& r, ActionType type, std::string_view name) const;
  Record to_record(const Resource& r, const StoredRecord& stored) const;
  // Runs fn in a write transaction: for a nested action (called on the thread of an open
  // transaction of this engine) a child of the one open; otherwise in a group of callers'
  // actions committed together (group_commit.hpp), then notifiers are told.
  // Notifiers are told only when `notify` (bulk actions may ask them not to be). With
  // `flat`, actions nested in this one skip their child transactions: cheaper, but one
  // failure fails all (bulk actions try a batch so, then again nested when one fails).
  // `plain`: see runtime::WriteJob::plain.
  Result<void> in_transaction(const std::function<Result<void>(Txn&)>& fn, const std::string& correlation_id,
                              bool notify = true, bool flat = false, bool plain = false);
  // Appends an event and folds it into the projections; it commits with the transaction.
  // Its time is its changeset's, or the last event's when that is later (a changeset
  // stamped before another that committed first, or a clock stepped back): times never go
  // back along the log, so a position as of a time is the end of the events up to it. The
  // record's timestamps move with its event's time.
  Result<StoredRecord> append(Txn& txn, Event event);
  std::optional<std::int64_t> last_event_time;  // the writer's; read from the log's head at its first append
  Result<Record> run(Changeset& cs);
  // The record an action returns, as the call's actor may read it (field policies).
  Result<Record> returned(const Changeset& cs, Record record) const;
  // The same for records of changesets made with cs's call options (a bulk action's).
  Result<void> returned(const Changeset& cs, std::vector<Record>& records) const;
  Result<Record> run_in_transaction(Changeset& cs);
  Result<Record> write_changeset(Txn& txn, Changeset& cs);
  // Forbidden when the resource's policies refuse the changeset as it stands (against
  // the record it was built on; a create: as it would be); a custom check's error.
  Result<void> authorize_early(Changeset& cs) const;
  // The tables r's records are in as txn sees them: the state projection's, or for
  // context multitenancy `tenant`'s (nullptr when it has none yet).
  Result<std::shared_ptr<const StateProjection>> state_for(const Txn& txn, const Resource& r,
                                                           const std::string& tenant) const;
  // Reads for building a changeset: in the open write transaction when nested.
  Result<std::optional<Record>> find(const Resource& r, const std::vector<Value>& key, const std::string& tenant);
  // The same for an update or destroy; when the record is gone and the call retries an
  // idempotent action on it, the record as that action found it, so the retry can build.
  Result<std::optional<Record>> find(const Resource& r, const std::vector<Value>& key, const CallOptions& call);
  Result<std::optional<StoredRecord>> current(const Txn& txn, const Resource& r, const std::vector<Value>& key,
                                              const std::string& tenant) const;
  // The first result of an action retried with its idempotency key, or nullopt when the
  // key is new; Conflict when the key was used by another actor (telling nothing of the
  // first call), or for another action, record or inputs; NotFound when the retrying
  // actor may not read the record it would return.
  // Reads in `txn`, or in a snapshot of its own when null (engine/src/idempotency.cpp).
  Result<std::optional<Record>> idempotent_result(const Txn* txn, Changeset& cs) const;
  // Conflict when another record holds the identity values `after` (aligned with the
  // attributes) would take.
  Result<void> check_identities(const Txn& txn, const Resource& r, const std::string& action,
                                const std::vector<Value>& key, const std::vector<Value>& after,
                                const std::string& tenant) const;
  // The write transaction this thread has open on this engine (the innermost one), or
  // nullptr outside any action.
  const Txn* open_txn() const;
  // Runs fn(const Txn&) on what a read on this thread sees: the open write transaction of
  // its action (what it wrote so far), or else a snapshot of its own.
  template <typename F>
  auto reading(F&& fn) const -> decltype(fn(std::declval<const Txn&>())) {
    if (const Txn* open = open_txn()) return fn(*open);
    ASHLAR_TRY(txn, log->read());
    return fn(*txn);
  }
  // The scope of that transaction, or nullptr.
  runtime::WriteScope* scope() const { return runtime::WriteScope::find(this); }
  // Notes that user code runs in the open transaction: it must not run again, so a
  // transaction that fills the map then fails instead of being retried.
  void user_code_runs() const;
  // Tells the notifiers and the publisher of committed events (group_commit's sink).
  void notify(std::span<const StoredEvent> events);
  // Upserts (upsert.cpp): when a record holds the changeset's identity, turns the create
  // into an update of that record (only its upsert fields); Conflict when the upsert
  // condition does not hold for it.
  Result<void> prepare_upsert(const Txn& txn, Changeset& cs) const;
};

struct EngineAccess {
  static EngineImpl& impl(Engine& engine) { return *engine.impl_; }
  // The slot changesets, action inputs and interfaces reach `engine` through: it holds
  // the live Engine (set by Engine's constructor and re-pointed by each move, so
  // handing it out writes nothing: many threads call actions at once).
  static Engine* const* slot(Engine& engine) { return &engine.impl_->self; }
};

// Errors and helpers about records' keys.
Error not_found(const Resource& r, const std::vector<Value>& key);
Value id_map(const Resource& r, const std::vector<Value>& key);

}  // namespace ashlar
