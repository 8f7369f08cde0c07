// Create, update and destroy through Ash's lifecycle: the changeset is built (changes
// and validations run), then around_transaction → before_transaction → the write
// transaction (around_action → before_action → events and projections → after_action)
// → commit and notifications → after_transaction.
#include "authorize.hpp"
#include "changeset.hpp"
#include "impl.hpp"
#include "lifecycle.hpp"
#include "tenancy.hpp"
#include "reader.hpp"
#include "user_code.hpp"

#include <ashlar/model/key.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace ashlar {
using runtime::custom_checks;
namespace {

Fields key_fields(const Resource& r, const std::vector<Value>& key) {
  Fields out;
  for (std::size_t i = 0; i < key.size(); ++i) out.emplace_back(r.attributes()[r.primary_key()[i]].name, key[i]);
  return out;
}

std::vector<Value> key_of(const Changeset& cs) {
  std::vector<Value> key;
  for (auto i : cs.resource().primary_key()) key.push_back(cs.attribute(cs.resource().attributes()[i].name));
  return key;
}

// Record keys live in LMDB keys (by_record: resource, key, version), at most 511 bytes.
std::optional<FieldError> check_key_size(const Resource& r, const std::vector<Value>& key) {
  constexpr std::size_t kMaxKeySize = 511;
  std::size_t size = r.name().size() + 1 + encode_key(key).size() + 8;
  if (size <= kMaxKeySize) return std::nullopt;
  std::size_t longest = 0;
  for (std::size_t i = 1; i < key.size(); ++i)
    if (key[i].str().size() > key[longest].str().size()) longest = i;
  return FieldError{r.attributes()[r.primary_key()[longest]].name, "key_too_long",
                    fmt::format("the primary key takes {} bytes; a key can take at most {}", size, kMaxKeySize)};
}

bool hooks_in_transaction(Changeset& cs) {
  return !ChangesetAccess::around_action(cs).empty() || !ChangesetAccess::before_action(cs).empty() ||
         !ChangesetAccess::after_action(cs).empty();
}

Error invalid(const Changeset& cs) { return runtime::changeset_error(cs); }

}  // namespace

namespace runtime {

Result<Record> run_around(Changeset& cs, std::vector<Changeset::Around>& hooks, std::string_view step,
                          const Changeset::Next& core, std::size_t i) {
  if (i >= hooks.size()) return core(cs);
  Changeset::Around hook = hooks[i];
  return guarded(cs.resource().name(), cs.action().name, step, [&]() -> Result<Record> {
    return hook(cs, [&](Changeset& c) { return run_around(c, hooks, step, core, i + 1); });
  });
}

Result<void> run_before(Changeset& cs, std::vector<Changeset::Before>& hooks, std::string_view step) {
  for (std::size_t i = 0; i < hooks.size(); ++i) {
    Changeset::Before hook = hooks[i];
    auto r = guarded(cs.resource().name(), cs.action().name, step, [&] { return hook(cs); });
    if (!r) return fail(r.error());
  }
  return {};
}

Result<Record> run_after_action(Changeset& cs, Result<Record> record) {
  auto& hooks = ChangesetAccess::after_action(cs);
  for (std::size_t i = 0; i < hooks.size() && record; ++i) {
    Changeset::After hook = hooks[i];
    record = guarded(cs.resource().name(), cs.action().name, "after_action hook",
                     [&] { return hook(cs, std::move(*record)); });
  }
  return record;
}

Result<Record> run_after_transaction(Changeset& cs, Result<Record> result) {
  ChangesetAccess::enter(cs, ChangesetAccess::Step::after_transaction);
  auto& hooks = ChangesetAccess::after_transaction(cs);
  for (std::size_t i = 0; i < hooks.size(); ++i) {
    Changeset::AfterTransaction hook = hooks[i];
    result = guarded(cs.resource().name(), cs.action().name, "after_transaction hook",
                     [&] { return hook(cs, std::move(result)); });
  }
  ChangesetAccess::enter(cs, ChangesetAccess::Step::finished);
  return result;
}


Result<Record> after_commit(Result<Record> result, bool committed) {
  if (result || !committed || result.error().code != codes::kUserCode) return result;
  Error e = result.error();
  e.message += "; the action had committed: its events are in the log";
  return fail(std::move(e));
}

Result<bool> readable(const EngineImpl& impl, const Txn& txn, const Resource& r, const Record& record,
                      const CallOptions& call) {
  const Value& actor = call.actor;
  const std::optional<bool>& authorize = call.authorize;
  if (!authorizing(r, authorize)) return true;
  const Action* read = r.primary_action(ActionType::read);
  if (!read) return true;
  const Fields no_arguments;
  ASHLAR_TRY(allowed, read_filter(r, PolicyRequest{&r, read, actor, &no_arguments, {}}));
  if (allowed->is_literal()) return allowed->literal() == Value(true);
  EvalContext base;
  base.actor = actor;
  base.tenant = call.tenant;
  base.args = &no_arguments;
  Reader reader(impl.domain, *impl.log, impl.state, impl.tenants.get(), txn, base);
  reader.set_authorize(authorize.value_or(true));
  std::vector<Record> one{record};
  RowSet set(reader, r, one);
  return matches(*allowed, set.context(0, reader.base()));
}

}  // namespace runtime

Result<void> EngineImpl::check_identities(const Txn& txn, const Resource& r, const std::string& action,
                                            const std::vector<Value>& key, const std::vector<Value>& after,
                                            const std::string& tenant) const {
  std::string own = encode_key(key);
  ASHLAR_TRY(tables, state_for(txn, r, tenant));
  if (!*tables) return {};  // a tenant's first record: nothing to collide with
  for (const auto& identity : r.identities()) {
    std::vector<Value> values;
    for (const auto& name : identity.attributes) values.push_back(after[*r.attribute_index(name)]);
    if (std::any_of(values.begin(), values.end(), [](const Value& v) { return v.is_null(); })) continue;
    ASHLAR_TRY(holder, (*tables)->lookup_identity(txn, r.name(), identity.name, values));
    if (!*holder || **holder == own) continue;
    std::string shown;  // the values, but never a sensitive attribute's, nor the tenant
    std::vector<FieldError> fields;
    for (std::size_t i = 0; i < values.size(); ++i) {
      const std::string& name = identity.attributes[i];
      if (tenant_part(r, identity, name)) continue;
      const Attribute* a = r.attribute(name);
      shown += (shown.empty() ? "" : ", ") + (a && a->sensitive ? std::string("**redacted**") : describe_values(std::span(&values[i], 1)));
      fields.push_back({name, "identity_taken", "has already been taken"});
    }
    Error e = Error::conflict(r.name(), fmt::format("identity {} is taken: another {} has {}", identity.name, r.name(),
                                                    shown))
                  .with_code(codes::kIdentityTaken);
    e.action = action;
    e.fields = std::move(fields);
    return fail(std::move(e));
  }
  return {};
}

Result<void> EngineImpl::in_transaction(const std::function<Result<void>(Txn&)>& fn,
                                          const std::string& correlation_id, bool notify, bool flat, bool plain) {
  if (runtime::WriteScope* outer = scope()) {
    if (outer->shared().flat) return fn(outer->txn());  // a failure fails the whole transaction
    std::vector<StoredEvent>& events = *outer->shared().events;
    std::size_t kept = events.size();
    auto r = log->nested(outer->txn(), [&](Txn& child) {
      runtime::WriteScope inner(*outer, child);
      return fn(child);
    });
    if (!r) events.resize(kept);  // the child rolled back: so did its events
    return r;
  }
  runtime::WriteJob job;
  job.fn = &fn;
  job.correlation_id = correlation_id;
  job.notify = notify;
  job.flat = flat;
  job.plain = plain;
  return writer->submit(job);
}

void EngineImpl::notify(std::span<const StoredEvent> events) {
  for (const auto& n : options.notifiers) {
    try {
      n->notify(events);
    } catch (...) {  // a notifier that fails changes nothing, and the others are still told
    }
  }
  if (publishing) publishing->notify(events);
  if (jetstream) jetstream->notify(events);
}

void EngineImpl::user_code_runs() const {
  if (runtime::WriteScope* s = scope()) s->shared().user_code = true;
}

const Txn* EngineImpl::open_txn() const {
  runtime::WriteScope* s = scope();
  return s ? &s->txn() : nullptr;
}

Result<StoredRecord> EngineImpl::append(Txn& txn, Event event) {
  runtime::WriteScope::Shared& shared = scope()->shared();
  // What the log refuses before it writes (the primary key's size is checked before the
  // transaction), refused here before anything is.
  ASHLAR_TRY_VOID(check_values(event));
  if (!last_event_time) {
    std::int64_t last_time = std::numeric_limits<std::int64_t>::min();
    ASHLAR_TRY(head, log->head(txn));
    if (head->position > 0) {
      ASHLAR_TRY(last, log->event_at(txn, head->position));
      if (*last) last_time = (*last)->event.time_micros;
    }
    last_event_time = last_time;
  }
  if (event.time_micros < *last_event_time) {
    // Its timestamps are its event's time: they move with it.
    ASHLAR_TRY(r, resource(event.resource));
    Value stamped(DateTime{event.time_micros}), now(DateTime{*last_event_time});
    for (auto& [name, value] : event.changes)
      if (const Attribute* a = (*r)->attribute(name); a && a->timestamp != Timestamp::none && value == stamped)
        value = now;
    event.time_micros = *last_event_time;
  }
  last_event_time = event.time_micros;
  shared.wrote = true;
  event.tx = shared.tx;
  ASHLAR_TRY(stored, log->append(txn, std::move(event)));
  if (shared.tx == 0) shared.tx = stored->event.position;
  ASHLAR_TRY(applied, fold_appended(txn, state, *tenants, stored->event));
  if (!options.projections.empty()) user_code_runs();
  ASHLAR_TRY_VOID(replay.apply_inline(txn, *stored));
  shared.events->push_back(std::move(*stored));
  return applied->value_or(StoredRecord{});
}

Result<std::optional<Record>> EngineImpl::find(const Resource& r, const std::vector<Value>& key,
                                                 const std::string& tenant) {
  auto from = [&](const Txn& txn) -> Result<std::optional<Record>> {
    ASHLAR_TRY(stored, current(txn, r, key, tenant));
    if (!*stored) return std::optional<Record>{};
    return std::optional<Record>{to_record(r, **stored)};
  };
  return reading(from);
}

namespace {

// The policies' decision on a write, its filter checks evaluated against `record` (the
// record before the change; for a create, as it would be) in the write transaction.
Result<void> authorize_change(const EngineImpl& impl, const Txn& txn, const Changeset& cs, const Record& record) {
  const Resource& r = cs.resource();
  if (custom_checks(r)) impl.user_code_runs();  // in the write transaction, when there is one
  EvalContext base;
  base.actor = cs.actor();
  base.tenant = ChangesetAccess::call(cs).tenant;
  base.args = &cs.arguments();
  runtime::Reader reader(impl.domain, *impl.log, impl.state, impl.tenants.get(), txn, base);
  reader.set_authorize(ChangesetAccess::call(cs).authorize.value_or(true));
  std::vector<Record> one{record};
  runtime::RowSet set(reader, r, one);
  runtime::FilterHolds holds = [&](const Expr& e) { return matches(e, set.context(0, reader.base())); };
  PolicyRequest request{&r, &cs.action(), cs.actor(), &cs.arguments(),
                        // On a create, as in its event: the attributes it gives a value.
                        [&cs](std::string_view name) {
                          return cs.changing(name) && (cs.data() || !cs.attribute(name).is_null());
                        }};
  return runtime::authorize_write(r, request, &holds);
}

}  // namespace

namespace {

// The record's attribute values after the change: those the changeset assigns, the rest
// as they were (none before a create).
std::vector<Value> values_after(Changeset& cs, const std::optional<Record>& before) {
  const Resource& r = cs.resource();
  const auto& assigned = ChangesetAccess::assigned(cs);
  std::vector<Value> after;
  for (std::size_t i = 0; i < r.attributes().size(); ++i)
    after.push_back(assigned[i] ? *assigned[i] : (before ? (*before)[r.attributes()[i].name] : Value()));
  return after;
}

Error conflict(const Changeset& cs, std::string message, std::string_view code) {
  Error e = Error::conflict(cs.resource().name(), std::move(message)).with_code(std::string(code));
  e.action = cs.action().name;
  return e;
}

}  // namespace

// Before any hook runs: the policies' decision against the record as the changeset found
// it (a create: as it would be). The write decides again against the stored record.
Result<void> EngineImpl::authorize_early(Changeset& cs) const {
  if (!runtime::authorizing(cs.resource(), ChangesetAccess::call(cs).authorize)) return {};
  Record record = cs.data() ? *cs.data() : Record(domain, cs.resource(), values_after(cs, std::nullopt), 0);
  return reading([&](const Txn& txn) { return authorize_change(*this, txn, cs, record); });
}

// The data layer: checks against the stored state, then one event appended and folded.
// The policies decide first, so a refusal tells nothing of what is stored: not that the
// key or an identity value is taken, nor the record's version.
Result<Record> EngineImpl::write_changeset(Txn& txn, Changeset& cs) {
  const Resource& r = cs.resource();
  const CallOptions& call = ChangesetAccess::call(cs);
  if (cs.action().upsert) ASHLAR_TRY_VOID(prepare_upsert(txn, cs));  // may make it an update
  std::vector<Value> key = key_of(cs);
  bool creating = cs.action().type == ActionType::create && !cs.data();
  // A create's key continues its history (with context multitenancy other tenants may use
  // the key too, and the log numbers its events as one history). Every record has one, so
  // a key without a history (a new one, as every generated key is) has no record to look up.
  std::optional<std::uint64_t> last_version;
  if (creating) {
    ASHLAR_TRY(last, log->last_version(txn, r.name(), encode_key(key)));
    last_version = *last;
  }
  std::optional<StoredRecord> existing;
  if (last_version != 0u) {
    ASHLAR_TRY(found, current(txn, r, key, call.tenant));
    existing = std::move(*found);
  }
  bool removes = cs.action().event_type() == ActionType::destroy;  // not a soft destroy
  ASHLAR_TRY(tenant, runtime::tenant_value(r, cs.action().name, call.tenant));
  if (!creating && existing && !runtime::in_tenant(r, to_record(r, *existing), *tenant)) existing = std::nullopt;
  if (!creating && !existing) {
    Error e = not_found(r, key);
    e.action = cs.action().name;
    return fail(std::move(e));
  }
  std::optional<Record> before = creating ? std::nullopt : std::optional<Record>(to_record(r, *existing));
  std::vector<Value> after = values_after(cs, before);
  std::uint64_t version = 0;
  if (creating || r.multitenancy().strategy == Multitenancy::context) {
    if (!last_version) {
      ASHLAR_TRY(last, log->last_version(txn, r.name(), encode_key(key)));
      last_version = *last;
    }
    version = *last_version + 1;
  } else {
    version = existing->version + 1;
  }
  if (runtime::authorizing(r, call.authorize))
    ASHLAR_TRY_VOID(authorize_change(*this, txn, cs, before ? *before : Record(domain, r, after, version)));
  if (creating && existing)
    return fail(conflict(cs, fmt::format("a {} with primary key {} already exists", r.name(), describe_key(key)),
                         codes::kAlreadyExists));
  if (!creating && call.expected_version && *call.expected_version != existing->version)
    return fail(conflict(cs, fmt::format("{} {}: expected version {}, but it is at version {}", r.name(),
                                         describe_key(key), *call.expected_version, existing->version),
                         codes::kStaleVersion));
  if (!removes) ASHLAR_TRY_VOID(check_identities(txn, r, cs.action().name, key, after, call.tenant));
  Event e;
  e.domain = domain.name();
  e.resource = r.name();
  e.action = cs.action().name;
  e.type = cs.action().type == ActionType::create && !creating ? ActionType::update : cs.action().event_type();
  e.inputs = ChangesetAccess::inputs(cs);
  e.actor = cs.actor();
  e.correlation_id = scope()->shared().correlation_id;  // the outermost action's
  e.causation_id = call.causation_id;
  e.tenant = call.tenant;
  e.time_micros = cs.now().micros;
  e.key = key_fields(r, key);
  e.idempotency_key = call.idempotency_key;
  e.version = version;
  const auto& assigned = ChangesetAccess::assigned(cs);
  for (std::size_t i = 0; i < r.attributes().size(); ++i) {
    const auto& name = r.attributes()[i].name;
    if (!removes && assigned[i] && (creating ? !after[i].is_null() : after[i] != (*before)[name]))
      e.changes.emplace_back(name, after[i]);
  }
  ASHLAR_TRY(stored, append(txn, std::move(e)));
  if (removes) return std::move(*before);
  return to_record(r, *stored);
}

Result<Record> EngineImpl::run_in_transaction(Changeset& cs) {
  std::optional<Result<Record>> outcome;
  auto written = in_transaction([&](Txn& txn) -> Result<void> {
    // A retry that raced the first call past run()'s check is answered here, in the writer.
    ASHLAR_TRY(earlier, idempotent_result(&txn, cs));
    if (*earlier) {
      outcome = std::move(**earlier);
      return {};
    }
    if (hooks_in_transaction(cs)) user_code_runs();
    // A hook added too late (by a before_transaction hook, for around_transaction) fails the
    // action: with no hook of its own in the transaction, before it writes.
    else if (auto late = ChangesetAccess::late_hook(cs)) return fail(std::move(*late));
    using Step = ChangesetAccess::Step;
    ChangesetAccess::enter(cs, Step::around_action);
    auto result = runtime::run_around(cs, ChangesetAccess::around_action(cs), "around_action hook",
                                      [&](Changeset& c) -> Result<Record> {
      if (c.action().type != ActionType::create) {  // hooks see the record as stored now
        ASHLAR_TRY(fresh, current(txn, c.resource(), key_of(c), ChangesetAccess::call(c).tenant));
        if (*fresh) ChangesetAccess::set_data(c, to_record(c.resource(), **fresh));
      }
      ChangesetAccess::enter(c, Step::before_action);
      ASHLAR_TRY_VOID(runtime::run_before(c, ChangesetAccess::before_action(c), "before_action hook"));
      if (c.action().event_type() != ActionType::destroy) ChangesetAccess::check_required(c);
      if (!c.valid()) return fail(invalid(c));
      auto written = write_changeset(txn, c);
      ChangesetAccess::enter(c, Step::after_action);
      auto after = runtime::run_after_action(c, std::move(written));
      ChangesetAccess::enter(c, Step::after_action_done);  // what the around_action hooks' ends add is late
      return after;
    });
    if (!result) return fail(result.error());
    // A hook added for a step that has run would never run: the action does not commit.
    if (auto late = ChangesetAccess::late_hook(cs)) return fail(std::move(*late));
    outcome = std::move(result);
    return {};
  }, ChangesetAccess::call(cs).correlation_id, true, false,
     // Without hooks, custom projections or custom policy checks it runs no user code,
     // and all it checks is checked before it appends.
     !hooks_in_transaction(cs) && options.projections.empty() && !custom_checks(cs.resource()));
  if (!written) return fail(written.error());
  return std::move(*outcome);
}

namespace {

// What must hold before a changeset's transaction begins.
Result<void> ready_to_run(const Changeset& cs) {
  if (!cs.valid()) return fail(invalid(cs));
  if (auto too_long = check_key_size(cs.resource(), key_of(cs)))
    return fail(Error::invalid(cs.resource().name(), cs.action().name, {std::move(*too_long)}));
  return {};
}

}  // namespace

Result<Record> EngineImpl::run(Changeset& cs) {
  // A retried idempotent action returns its first result before anything else is checked
  // (the retry may no longer be valid on today's state) and before any hook runs.
  ASHLAR_TRY(earlier, idempotent_result(open_txn(), cs));
  if (*earlier) return returned(cs, std::move(**earlier));
  // A request the policies refuse runs no hook: Forbidden before anything else is said.
  ASHLAR_TRY_VOID(authorize_early(cs));
  // around_transaction and after_transaction run always, an invalid changeset included:
  // an after_transaction hook may turn the error into a result.
  ChangesetAccess::enter(cs, ChangesetAccess::Step::around_transaction);
  // Only an outermost action commits; a nested one's writes stand or fall with its caller's.
  const bool outermost = open_txn() == nullptr;
  bool committed = false;
  Result<Record> result = runtime::run_around(cs, ChangesetAccess::around_transaction(cs), "around_transaction hook",
                             [&](Changeset& c) -> Result<Record> {
    Result<Record> result = Error::unknown("no result");
    auto ready = ready_to_run(c);
    ChangesetAccess::enter(c, ChangesetAccess::Step::before_transaction);
    if (ready) ready = runtime::run_before(c, ChangesetAccess::before_transaction(c), "before_transaction hook");
    if (ready) {
      result = run_in_transaction(c);
      committed = outermost && result.has_value();
    } else {
      result = ready.error();
    }
    return runtime::run_after_transaction(c, std::move(result));
  });
  // A hook that threw after the commit: after_transaction, or around_transaction after
  // its next.
  result = runtime::after_commit(std::move(result), committed);
  if (!result) return result;
  return returned(cs, std::move(*result));
}

// As Ash returns an action's result through the field policies: what the actor may not
// read of the record, and of what it loaded, is Value::forbidden().
Result<Record> EngineImpl::returned(const Changeset& cs, Record record) const {
  std::vector<Record> one{std::move(record)};
  ASHLAR_TRY_VOID(returned(cs, one));
  return std::move(one.front());
}

Result<void> EngineImpl::returned(const Changeset& cs, std::vector<Record>& records) const {
  const CallOptions& call = ChangesetAccess::call(cs);
  auto guarded = [](const Resource& r) { return !r.field_policies().empty(); };
  if (records.empty() || !call.authorize.value_or(true) ||
      std::none_of(domain.resources().begin(), domain.resources().end(), guarded))
    return {};
  return reading([&](const Txn& txn) -> Result<void> {
    EvalContext base;
    base.actor = cs.actor();
    base.tenant = call.tenant;
    runtime::Reader reader(domain, *log, state, tenants.get(), txn, base);
    return reader.hide_fields(cs.resource(), &cs.action(), records);
  });
}

namespace {

Result<std::pair<const Resource*, const Action*>> resolve(const EngineImpl& impl, std::string_view resource,
                                                          ActionType type, std::string_view action) {
  ASHLAR_TRY(r, impl.resource(resource));
  ASHLAR_TRY(a, impl.action(**r, type, action));
  return std::pair{*r, *a};
}

// What an update or destroy acts on: its resource and action, and the stored record with
// primary key `id` (NotFound naming the action when there is none).
struct Target {
  const Resource* resource;
  const Action* action;
  Record record;
};

Result<Target> find_target(EngineImpl& impl, std::string_view resource, ActionType type, const Value& id,
                           const CallOptions& call) {
  ASHLAR_TRY(target, resolve(impl, resource, type, call.action));
  ASHLAR_TRY(tenant, runtime::tenant_value(*target->first, target->second->name, call.tenant));
  ASHLAR_TRY(key, runtime::cast_id(*target->first, target->second->name, id));
  ASHLAR_TRY(record, impl.find(*target->first, *key, call));
  // Another tenant's record is not found: its existence is not revealed.
  if (!*record || !runtime::in_tenant(*target->first, **record, *tenant)) {
    Error e = not_found(*target->first, *key);
    e.action = target->second->name;
    return fail(std::move(e));
  }
  return Target{target->first, target->second, std::move(**record)};
}

}  // namespace

Result<Changeset> Engine::for_create(std::string_view resource, const Fields& inputs, const CallOptions& call) {
  ASHLAR_TRY(target, resolve(*impl_, resource, ActionType::create, call.action));
  ASHLAR_TRY_VOID(runtime::tenant_value(*target->first, target->second->name, call.tenant));
  return ChangesetAccess::build(*this, *target->first, *target->second, inputs, call, std::nullopt);
}

Result<Changeset> Engine::for_update(std::string_view resource, const Value& id, const Fields& inputs,
                                     const CallOptions& call) {
  ASHLAR_TRY(target, find_target(*impl_, resource, ActionType::update, id, call));
  return ChangesetAccess::build(*this, *target->resource, *target->action, inputs, call, std::move(target->record));
}

Result<Changeset> Engine::for_destroy(std::string_view resource, const Value& id, const CallOptions& call) {
  return for_destroy(resource, id, Fields{}, call);
}

Result<Changeset> Engine::for_destroy(std::string_view resource, const Value& id, const Fields& inputs,
                                      const CallOptions& call) {
  ASHLAR_TRY(target, find_target(*impl_, resource, ActionType::destroy, id, call));
  return ChangesetAccess::build(*this, *target->resource, *target->action, inputs, call, std::move(target->record));
}

Result<Record> Engine::run(Changeset changeset) { return impl_->run(changeset); }

Result<Record> Engine::create(std::string_view resource, const Fields& inputs, const CallOptions& call) {
  ASHLAR_TRY(cs, for_create(resource, inputs, call));
  return run(std::move(*cs));
}

Result<Record> Engine::update(std::string_view resource, const Value& id, const Fields& inputs, const CallOptions& call) {
  ASHLAR_TRY(cs, for_update(resource, id, inputs, call));
  return run(std::move(*cs));
}

Result<Record> Engine::destroy(std::string_view resource, const Value& id, const CallOptions& call) {
  ASHLAR_TRY(cs, for_destroy(resource, id, call));
  return run(std::move(*cs));
}

Result<Record> Engine::destroy(std::string_view resource, const Value& id, const Fields& inputs,
                               const CallOptions& call) {
  ASHLAR_TRY(cs, for_destroy(resource, id, inputs, call));
  return run(std::move(*cs));
}

}  // namespace ashlar
