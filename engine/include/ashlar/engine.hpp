#pragma once
// The engine: open a store for a domain, then run actions on its resources.
//
//   auto engine = ashlar::Engine::open("./data", blog).value();
//   auto alice = engine.create("User", {{"name", "Alice"}}).value();
//   auto found = engine.get("User", alice.id());

#include <ashlar/bulk.hpp>
#include <ashlar/changeset.hpp>
#include <ashlar/eventlog/log.hpp>
#include <ashlar/model/export.hpp>
#include <ashlar/model/resource.hpp>
#include <ashlar/notifiers/jetstream.hpp>
#include <ashlar/notifiers/notifier.hpp>
#include <ashlar/notifiers/publisher.hpp>
#include <ashlar/projections/custom.hpp>
#include <ashlar/projections/upcast.hpp>
#include <ashlar/projections/verify.hpp>
#include <ashlar/query.hpp>
#include <ashlar/record.hpp>

#include <memory>
#include <string>
#include <vector>

namespace ashlar {

class ResourceInterface;  // ashlar/interface.hpp
namespace runtime {
struct EngineImpl;  // the runtime's own: opaque to embedders
}

struct ASHLAR_API Options {
  // sync survives power loss; no_sync trades the last commits for speed. See Durability.
  Durability durability = Durability::sync;
  // The map starts here and doubles, up to max_map_size; past that an action fails with
  // a clear error (code store_full) and writes nothing. It grows between transactions,
  // whenever less than map_headroom (and less than half of it) is free, so that no action
  // runs out of room halfway. One that still does (it writes more than the headroom) is
  // run again once the map has grown when none of the user's code (hooks, inline custom
  // projections) ran in it; otherwise it fails with code store_grew, nothing written, and
  // can be called again: nothing of the user's ever runs twice on its own.
  std::size_t initial_map_size = std::size_t{16} << 20;
  std::size_t map_headroom = std::size_t{16} << 20;
  std::size_t max_map_size = std::size_t{64} << 30;
  // A secret (16..64 bytes) that keys the hash chain; empty for an unkeyed chain.
  std::string chain_key{};
  // Told of every committed transaction's events, in log order, after commit.
  std::vector<std::shared_ptr<Notifier>> notifiers{};
  // Publish committed events over ZeroMQ and serve their replay (notifiers/PROTOCOL.md);
  // by default nothing is published. open fails when an endpoint cannot be bound.
  PublishOptions publish{};
  // Mirror the log into a NATS JetStream stream (ashlar/notifiers/jetstream.hpp): by
  // default nothing is. Asynchronous: actions never wait for NATS. open fails when the
  // stream is missing (and create is false) or holds another store's events; an
  // unreachable server does not fail it (the sink keeps trying).
  JetStreamOptions jetstream{};
  // Custom projections (ashlar/projections/custom.hpp): user code fed every event in log
  // order, in tables of its own, in the append's transaction or asynchronously after it.
  std::vector<std::shared_ptr<Projection>> projections{};
  // Upcasters (ashlar/projections/upcast.hpp): reshape the events of older models, which
  // lets the model change incompatibly. Once a store has used one, every open declares it.
  std::vector<Upcaster> upcasters{};
  // Named LMDB databases the store may open beyond what the model's tables need: each
  // tenant of a resource with context multitenancy takes its own (its records, indexes
  // and identities). A write of a new tenant past the limit fails with code store_full,
  // naming the resource and the tenant, and writes nothing.
  unsigned tenant_databases = 4096;
};

// Per call: which action, on whose behalf, and how to correlate it. (The `{}` on every
// member keeps g++ 12 from warning about designated initializers that omit some.)
struct ASHLAR_API CallOptions {
  std::string action{};        // empty: the resource's primary action of the call's type
  Value actor{};               // any value; recorded in the event; nil when none
  std::string correlation_id{};  // empty: a new uuid per call
  std::string causation_id{};
  // The tenant (Ash's tenant:). On a resource with attribute multitenancy
  // (ashlar/model/resource.hpp) it is required unless the resource is global: a create
  // sets the tenant attribute to it, and every record read, updated or destroyed is that
  // tenant's (another tenant's record is NotFound). Recorded in the event.
  std::string tenant{};
  Map context{};  // free-form, deep-merged into the changeset's context
  // Values of arguments the action declares private (public = false): set by the
  // system, never by the caller's inputs.
  Fields private_arguments{};
  // Update/destroy: the version the caller read. Conflict, and nothing written, when the
  // record has moved on (an event store's expected version).
  std::optional<std::uint64_t> expected_version{};
  // A key (at most 255 bytes) that makes the action safe to retry: stored with its event
  // and indexed per tenant, so a later call with the same key, even after a restart,
  // appends nothing, runs no hook, and returns the record as the first call left it (a
  // destroy: as it was before). Conflict, naming the key, when the later call is another
  // actor's (telling nothing of the first call), another action or record, or its inputs
  // differ (sensitive arguments are not compared). Under policies, NotFound when the
  // retrying actor may not read that record.
  std::string idempotency_key{};
  // Decide the call by the resource's policies (ashlar/model/policy.hpp): nullopt or true
  // when it has some, as Ash's authorize?; false skips them (system work). Nested actions
  // built with Changeset::to_opts or ActionInput::to_opts keep the choice.
  std::optional<bool> authorize{};
};

// The error codes each call returns (Error::code; the codes are listed in
// ashlar/model/error.hpp). Any call may also return `unknown`, `io_error` (the disk or
// file system failed) or `store_damaged` (the store's files are not what LMDB wrote).
//   open ................ writer_locked, store_damaged, framework (the model does not fit
//                         the stored events, or misuse), store_full
//   create, update, destroy, run, run_action, bulk_* (per input in BulkResult::errors)
//                         invalid_input (every bad field at once), too_complex (a value
//                         nested too deep), not_found (update, destroy: no such record),
//                         already_exists, identity_taken, stale_version (expected_version),
//                         conflict (an idempotency key reused for other work), user_code
//                         (a change, validation, hook or run threw), store_full, store_grew
//                         (run it again), chain_key (the store's chain is keyed otherwise
//                         than Options::chain_key), framework (unknown resource or action),
//                         forbidden (the policies refuse it; nothing appended)
//   for_create, for_update, for_destroy
//                         as above, for what is known before the transaction
//   get, read, get_by, load
//                         tenant_required (a multitenant resource, not global, without
//                         a tenant; the calls that write too),
//                         not_found (get, get_by), invalid_input (unknown names, bad
//                         arguments or cursor), too_complex (a filter or sort past its
//                         limits), user_code (a preparation or manual relationship threw),
//                         decode_error (a stored record that does not decode), framework
//   history ............. not_found, decode_error, tenant_required, user_code (a policy check threw)
//   rebuild, rebuild_projection, verify, catch_up
//                         decode_error, store_damaged (verify with deep), user_code (a
//                         custom projection threw), store_full, framework
class ASHLAR_API Engine {
 public:
  // Opens (or creates) the store in directory `path` for `domain`. The first open stores
  // the model; a later open with a model the stored events do not fit is a Framework
  // error listing each incompatibility. Conflict when another writer has the store open.
  static Result<Engine> open(const std::string& path, const Domain& domain, Options options = {});

  Engine& operator=(Engine&&) noexcept;
  ~Engine();

  const Domain& domain() const;
  // The JetStream sink Options::jetstream started (its lag, its error), or null.
  const JetStreamSink* jetstream() const;

  // Runs a create action with `inputs`. Invalid (every bad field at once) when an input
  // is unknown, not accepted, of the wrong type, nil where required, or breaks a
  // constraint; Conflict when a record with that key exists; Framework for an unknown
  // resource or action. On any error nothing is appended.
  Result<Record> create(std::string_view resource, const Fields& inputs, const CallOptions& call = {});
  // Runs an update action on the record with primary key `id` (a map for composite keys).
  // NotFound when there is no such record; otherwise as create.
  Result<Record> update(std::string_view resource, const Value& id, const Fields& inputs,
                        const CallOptions& call = {});
  // Runs a destroy action; returns the record as it was. NotFound when there is none.
  Result<Record> destroy(std::string_view resource, const Value& id, const CallOptions& call = {});
  // The same with inputs: the destroy action's arguments (Ash's `Ash.destroy(record,
  // params)`), e.g. the reason its changes record. Invalid as create's inputs are.
  Result<Record> destroy(std::string_view resource, const Value& id, const Fields& inputs, const CallOptions& call);

  // The same, in two steps: build the changeset (inputs cast, changes and validations
  // run, so hooks can be added from outside), then run it. Building never writes.
  Result<Changeset> for_create(std::string_view resource, const Fields& inputs, const CallOptions& call = {});
  Result<Changeset> for_update(std::string_view resource, const Value& id, const Fields& inputs,
                               const CallOptions& call = {});
  Result<Changeset> for_destroy(std::string_view resource, const Value& id, const CallOptions& call = {});
  Result<Changeset> for_destroy(std::string_view resource, const Value& id, const Fields& inputs,
                                const CallOptions& call);
  // Runs a changeset through the lifecycle. Called from a hook of another action on this
  // thread, it joins that action's write transaction: its events commit with the outer
  // action's, under the same transaction and correlation ids, or not at all.
  Result<Record> run(Changeset changeset);

  // ---- Bulk actions (ashlar/bulk.hpp, engine/src/bulk.cpp) ----
  // Runs the create action once per input, batch_size inputs per write transaction.
  // A failed input is reported in the result with its index (not as an error of the
  // call); the call fails only when it cannot start: Framework for an unknown resource or
  // action or a batch_size of 0, the query's error for a bad query.
  Result<BulkResult> bulk_create(std::string_view resource, const std::vector<Fields>& inputs,
                                 const BulkOptions& options = {});
  // Runs the update action with `inputs` on every record the query reads (one snapshot,
  // read before the first batch), on the records with these ids (NotFound for an id
  // with no record, at its index), or on these records.
  Result<BulkResult> bulk_update(std::string_view resource, const Query& query, const Fields& inputs,
                                 const BulkOptions& options = {});
  Result<BulkResult> bulk_update(std::string_view resource, const std::vector<Value>& ids, const Fields& inputs,
                                 const BulkOptions& options = {});
  Result<BulkResult> bulk_update(std::string_view resource, const std::vector<Record>& records,
                                 const Fields& inputs, const BulkOptions& options = {});
  // Runs the destroy action on the same choices of records; records returned as they were.
  Result<BulkResult> bulk_destroy(std::string_view resource, const Query& query, const BulkOptions& options = {});
  Result<BulkResult> bulk_destroy(std::string_view resource, const std::vector<Value>& ids,
                                  const BulkOptions& options = {});
  Result<BulkResult> bulk_destroy(std::string_view resource, const std::vector<Record>& records,
                                  const BulkOptions& options = {});
  // The same with the destroy action's arguments, as Engine::destroy takes them.
  Result<BulkResult> bulk_destroy(std::string_view resource, const Query& query, const Fields& inputs,
                                  const BulkOptions& options);
  Result<BulkResult> bulk_destroy(std::string_view resource, const std::vector<Value>& ids, const Fields& inputs,
                                  const BulkOptions& options);
  Result<BulkResult> bulk_destroy(std::string_view resource, const std::vector<Record>& records, const Fields& inputs,
                                  const BulkOptions& options);

  // ---- Generic actions and code interfaces (generic.cpp, interface.cpp) ----
  // Runs the generic action `action` of `resource` (ashlar/generic.hpp) with arguments
  // `args`; returns what its run function returned, cast to the action's `returns` type
  // (nil when it declares none). Invalid (every bad argument at once) for unknown,
  // private, mistyped, missing or constraint-breaking arguments; Framework for an unknown
  // resource or action, a non-generic action, or a result that does not fit `returns`;
  // otherwise the run function's own error. With `transaction = true` whatever it wrote
  // through other actions commits with it, or on any error not at all.
  Result<Value> run_action(std::string_view resource, std::string_view action, const Fields& args,
                           const CallOptions& call = {});
  // The code interfaces of `resource` (ashlar/interface.hpp); a call on an unknown
  // resource is a Framework error then.
  ResourceInterface interface(std::string_view resource);

  // One B-tree lookup in the state projection, then the query's loads and select. The
  // read action's filter and the query's filter apply: NotFound when there is no such
  // record or it does not match.
  Result<Record> get(std::string_view resource, const Value& id, const Query& query = {}) const;
  // Runs a read action: its filter and the query's, sorted, paged, loaded, all from one
  // snapshot. Equality and `in` on the primary key, an identity or an indexed attribute
  // use that index instead of a scan. Invalid for unknown attributes, arguments,
  // relationships or a bad cursor, naming them. Called on the thread of an action's open
  // write transaction (a hook, a transactional generic action), it sees what that
  // transaction wrote so far.
  Result<std::vector<Record>> read(std::string_view resource, const Query& query = {}) const;
  // The record with these values of an identity (one index lookup; with as_of, a read as
  // of then, where the identity may have had another holder). NotFound when none; Invalid
  // for a field the identity does not hold (not_in_identity).
  Result<Record> get_by(std::string_view resource, std::string_view identity, const Fields& values,
                        const Query& query = {}) const;
  // Loads relationships and aggregates into records already read, in one snapshot, as
  // `actor` reads them in `tenant` (a multitenant destination's records of that tenant;
  // Invalid, tenant_required, when it needs one and none is given).
  Result<std::vector<Record>> load(std::vector<Record> records, const std::vector<Load>& loads,
                                   const Value& actor = {}, const std::string& tenant = {}) const;

  // ---- Replay and audit (engine/src/engine_audit.cpp) ----
  // Every event of the record with primary key `id`, oldest first, in the current
  // model's shape: position, time, actor, action, inputs, changes. Reads only its own
  // events (by_record). NotFound when the key never had a record. On a multitenant
  // resource, the events of calls in `tenant` (required unless it is global, as for
  // reads): another tenant's record has no history there, and is NotFound. Under the
  // resource's policies (call.authorize, as for reads) the history is call.actor's when it
  // may read the record as it now stands (a destroyed one: as it was before its destroy),
  // and otherwise NotFound, as a key that never had a record. Attributes its field
  // policies hide from the actor on that record are Value::forbidden() in every event's
  // changes and inputs, and such an event's `bytes` are empty.
  Result<std::vector<StoredEvent>> history(std::string_view resource, const Value& id,
                                           const CallOptions& call) const;
  // The same with no actor, in `tenant`.
  Result<std::vector<StoredEvent>> history(std::string_view resource, const Value& id,
                                           const std::string& tenant = {}) const;
  // Rebuilds every projection from the log — the state's records, indexes and
  // identities, and Options::projections — resumably, while actions go on; see
  // ashlar/projections/rebuild.hpp.
  Result<RebuildReport> rebuild(RebuildOptions options = {});
  // Rebuilds one custom projection on its own.
  Result<RebuildReport> rebuild_projection(std::string_view name, RebuildOptions options = {});
  // Checks the hash chain (keyed with Options::chain_key), the log's indexes, the stored
  // model, and every projection against a replay of the log (asynchronous ones caught up
  // first). Problems are in the report; an error means the store could not be read. With
  // options.deep every page is read first in a child process: store_damaged ("damaged
  // store: DIR: ...") when one is damaged, instead of a crash of this process.
  Result<VerifyReport> verify(VerifyOptions options = {}) const;
  // Folds everything committed so far into the asynchronous projections, on this thread.
  // The error that stopped one, if any.
  Result<void> catch_up() const;
  // Runs fn over a custom projection's tables in one read snapshot.
  Result<void> read_projection(std::string_view name,
                               const std::function<Result<void>(const StateStore&)>& fn) const;
  // ---- Context multitenancy (engine/src/tenant_states.cpp) ----
  // The tenants whose databases hold records of `resource` (context strategy), sorted.
  // Framework when the resource is not context-multitenant.
  Result<std::vector<std::string>> tenants(std::string_view resource) const;
  // Empties the tenant's databases of `resource` (records, indexes, identities): its
  // records are then NotFound, as if never written, until rebuild() folds them again from
  // the log, which keeps every event. False when the tenant had no databases; Framework
  // when the resource is not context-multitenant.
  Result<bool> drop_tenant_projections(std::string_view resource, const std::string& tenant);

  // The stored model's version: 1, one more after each change of the model.
  std::uint64_t model_version() const;

  // The underlying log, for tools and tests that inspect events.
  const Log& log() const;

  // Moving an Engine is safe for what was built on it: changesets, action inputs and code
  // interfaces reach the engine through a slot that follows it, never a raw pointer to
  // the object moved from.
  Engine(Engine&&) noexcept;

 private:
  friend struct EngineAccess;  // the runtime's changes reach the open transaction (impl.hpp)
  explicit Engine(std::unique_ptr<runtime::EngineImpl> impl);
  std::unique_ptr<runtime::EngineImpl> impl_;
};

}  // namespace ashlar
