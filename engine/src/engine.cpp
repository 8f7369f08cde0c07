#include <ashlar/engine.hpp>

#include <ashlar/model/key.hpp>
#include <ashlar/projections/state.hpp>

#include "audit.hpp"
#include "authorize.hpp"
#include "changeset.hpp"
#include "impl.hpp"
#include "reader.hpp"
#include "stream_access.hpp"
#include "tenancy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace ashlar {



Result<const Resource*> EngineImpl::resource(std::string_view name) const {
  if (const Resource* r = domain.resource(name)) return r;
  return fail(Error::framework(fmt::format("domain {} has no resource named {}", domain.name(), name)));
}

Result<const Action*> EngineImpl::action(const Resource& r, ActionType type, std::string_view name) const {
  const Action* a = name.empty() ? r.primary_action(type) : r.action(name);
  if (!a && name.empty())
    return fail(Error::framework(fmt::format("{} has no primary {} action; name one in CallOptions::action "
                                             "or mark one primary",
                                             r.name(), to_string(type))));
  if (!a) return fail(Error::framework(fmt::format("{} has no action named {}", r.name(), name)));
  if (a->type != type)
    return fail(Error::framework(fmt::format("{}.{} is {}, not {}", r.name(), a->name,
                                             an_action(a->type), an_action(type))));
  return a;
}

Record EngineImpl::to_record(const Resource& r, const StoredRecord& stored) const {
  return runtime::make_record(domain, r, stored);
}

Result<std::shared_ptr<const StateProjection>> EngineImpl::state_for(const Txn& txn, const Resource& r,
                                                                      const std::string& tenant) const {
  if (r.multitenancy().strategy != Multitenancy::context)
    return std::shared_ptr<const StateProjection>(std::shared_ptr<void>{}, &state);  // not owned
  return tenants->find(txn, r.name(), tenant);
}

Result<std::optional<StoredRecord>> EngineImpl::current(const Txn& txn, const Resource& r,
                                                          const std::vector<Value>& key,
                                                          const std::string& tenant) const {
  ASHLAR_TRY(tables, state_for(txn, r, tenant));
  if (!*tables) return std::optional<StoredRecord>{};
  ASHLAR_TRY(found, (*tables)->get(txn, r.name(), encode_key(key)));
  if (*found) return found;
  // A key's -0.0 is cast to 0.0; a record an earlier build created under -0.0 keeps those
  // bits, and is found under them.
  auto negative = runtime::negative_zero_key(key);
  if (!negative) return found;
  return (*tables)->get(txn, r.name(), encode_key(*negative));
}

Value id_map(const Resource& r, const std::vector<Value>& key) {
  Map m;
  for (std::size_t i = 0; i < key.size(); ++i) m.emplace_back(r.attributes()[r.primary_key()[i]].name, key[i]);
  return Value(std::move(m));
}

Error not_found(const Resource& r, const std::vector<Value>& key) {
  return Error::not_found(r.name(), fmt::format("no {} with primary key {}", r.name(), describe_key(key)));
}

namespace {

// Engine::get as one lookup of the cast primary key, when neither the query nor its read
// action asks for more than the record (no filter, arguments, preparations, sort, loads,
// select, paging or as_of); nullopt when one does, and the get runs as a whole read.
// NotFound naming `action` when no record has the key.
std::optional<Result<Record>> get_by_key(const EngineImpl& impl, const Resource& r, const Query& q,
                                         const std::string& action, const std::vector<Value>& key) {
  if (q.filter || !q.args.empty() || !q.sort.empty() || !q.load.empty() || !q.select.empty() || q.as_of ||
      q.offset != 0 || !q.after.empty() || !q.before.empty() || q.has_hooks() || runtime::authorizing(r, q.authorize) || r.tenant_attribute() ||
      !r.field_policies().empty())
    return std::nullopt;
  if (auto scoped = runtime::tenant_value(r, action, q.tenant); !scoped) return Result<Record>(fail(scoped.error()));
  const Action* a = q.action.empty() ? r.primary_action(ActionType::read) : r.action(q.action);
  if (!a || a->type != ActionType::read || a->filter || !a->arguments.empty() || !a->sort.empty())
    return std::nullopt;
  auto prepares = [](const ActionStep& step) { return step.preparation != nullptr; };
  if (std::any_of(a->steps.begin(), a->steps.end(), prepares) ||
      std::any_of(r.global_steps().begin(), r.global_steps().end(), prepares))
    return std::nullopt;
  auto stored = impl.reading([&](const Txn& txn) { return impl.current(txn, r, key, q.tenant); });
  if (!stored) return Result<Record>(fail(stored.error()));
  if (!*stored) {
    Error e = not_found(r, key);
    e.action = action;
    return Result<Record>(fail(std::move(e)));
  }
  return Result<Record>(impl.to_record(r, **stored));
}

}  // namespace


Result<Engine> Engine::open(const std::string& path, const Domain& domain, Options options) {
  if (domain.resources().empty() && domain.name().empty())
    return fail(Error::framework("Engine::open needs a built domain (DomainBuilder::build)"));
  LogOptions lo;
  lo.initial_map_size = options.initial_map_size;
  lo.map_headroom = options.map_headroom;
  lo.max_map_size = options.max_map_size;
  lo.durability = options.durability;
  lo.chain_key = options.chain_key;
  lo.max_databases = runtime::max_databases(domain, options.projections);
  auto context = [](const Resource& r) { return r.multitenancy().strategy == Multitenancy::context; };
  if (std::any_of(domain.resources().begin(), domain.resources().end(), context))
    lo.max_databases += options.tenant_databases;
  ASHLAR_TRY(log, Log::open(path, lo));
  ASHLAR_TRY(installed, runtime::install(**log, domain, options.upcasters, options.projections));
  auto impl = std::make_unique<EngineImpl>();
  impl->domain = domain;
  impl->options = std::move(options);
  impl->log = std::move(*log);
  impl->state = std::move(installed->state);
  impl->tenants = std::move(installed->tenants);
  impl->replay = std::move(installed->replay);
  // Clients known by their keys are served what their actors may read.
  PublishOptions& publish = impl->options.publish;
  if (publish.curve.clients && !publish.access) publish.access = runtime::stream_access(*impl);
  ASHLAR_TRY(publishing, PublishService::start(*impl->log, impl->domain, publish));
  impl->publishing = std::move(*publishing);
  if (!impl->options.jetstream.url.empty()) {
    ASHLAR_TRY(sink, JetStreamSink::start(*impl->log, impl->domain.name(), impl->options.jetstream));
    impl->jetstream = std::move(*sink);
  }
  EngineImpl* raw = impl.get();
  impl->writer = std::make_unique<runtime::GroupCommit>(
      *impl->log, raw,
      runtime::GroupCommit::Sinks{[raw](std::span<const StoredEvent> events) { raw->notify(events); },
                                  [raw] {
                                    // A tenant's first tables serve readers from now on; should
                                    // opening them fail, its next write or open tries again.
                                    (void)raw->tenants->committed();
                                    raw->replay.committed();
                                  }});
  return Engine(std::move(impl));
}

Engine::Engine(std::unique_ptr<EngineImpl> impl) : impl_(std::move(impl)) { impl_->self = this; }
Engine::Engine(Engine&& other) noexcept : impl_(std::move(other.impl_)) {
  if (impl_) impl_->self = this;
}
Engine& Engine::operator=(Engine&& other) noexcept {
  impl_ = std::move(other.impl_);
  if (impl_) impl_->self = this;
  return *this;
}
Engine::~Engine() = default;

const Domain& Engine::domain() const { return impl_->domain; }
const JetStreamSink* Engine::jetstream() const { return impl_->jetstream.get(); }
const Log& Engine::log() const { return *impl_->log; }

Result<Record> Engine::get(std::string_view resource_name, const Value& id, const Query& query) const {
  ASHLAR_TRY(r, impl_->resource(resource_name));
  ASHLAR_TRY(plan, runtime::plan_get(**r, id, query));
  if (auto direct = get_by_key(*impl_, **r, query, plan->action, plan->key)) return std::move(*direct);
  return runtime::found_one(*impl_->log, **r, *plan, query,
                            read(resource_name, runtime::pinned_query(**r, plan->key, query)));
}

Result<std::vector<Record>> Engine::read(std::string_view resource_name, const Query& query) const {
  ASHLAR_TRY(r, impl_->resource(resource_name));
  // Called inside an action's write transaction on this thread (from a hook, or a
  // transactional generic action's run), it reads what that transaction wrote so far.
  if (const Txn* open = impl_->open_txn(); open && !query.as_of) {
    EvalContext base;
    base.actor = query.actor;
    runtime::Reader reader(impl_->domain, *impl_->log, impl_->state, impl_->tenants.get(), *open, base);
    return reader.run(**r, query);
  }
  return runtime::read_records(impl_->domain, *impl_->log, impl_->state, impl_->tenants.get(), impl_->replay.upcast(),
                               **r, query);
}

Result<Record> Engine::get_by(std::string_view resource_name, std::string_view identity_name, const Fields& values,
                              const Query& query) const {
  ASHLAR_TRY(r, impl_->resource(resource_name));
  const Resource& res = **r;
  const Identity* identity = res.identity(identity_name);
  if (!identity) return fail(Error::framework(fmt::format("{} has no identity {}", res.name(), identity_name)));
  std::vector<Value> key_values;
  std::vector<Value> asked;  // what the caller gave: an error names these, not the tenant
  std::vector<FieldError> errors;
  ASHLAR_TRY(tenant, runtime::tenant_value(res, "get_by", query.tenant));
  // A field the identity does not hold would be a condition silently dropped.
  std::set<std::string_view> seen;
  for (const auto& [name, value] : values) {
    if (!seen.insert(name).second) errors.push_back({name, "duplicate_input", "is given more than once"});
    else if (std::find(identity->attributes.begin(), identity->attributes.end(), name) == identity->attributes.end())
      errors.push_back({name, "not_in_identity",
                        fmt::format("is not an attribute of identity {} of {} ({})", identity->name, res.name(),
                                    fmt::join(identity->attributes, ", "))});
  }
  for (const auto& name : identity->attributes) {
    if (*tenant && !identity->all_tenants && name == res.tenant_attribute()->name) {
      key_values.push_back(**tenant);  // unique per tenant: looked up in the query's tenant
      continue;
    }
    const Value* given = find_field(values, name);
    auto cast = cast_value(res.attribute(name)->type, given ? *given : Value());
    if (!cast.value) errors.push_back({name, "invalid_type", cast.error});
    else if (cast.value->is_null()) errors.push_back({name, "required", "is required to find the record"});
    else {
      asked.push_back(*cast.value);
      key_values.push_back(std::move(*cast.value));
    }
  }
  if (!errors.empty()) return fail(Error::invalid(res.name(), "get_by", std::move(errors)));
  auto missing = [&] {
    return fail(Error::not_found(res.name(), fmt::format("no {} with {} {}", res.name(), identity->name, describe_values(asked))));
  };
  if (query.as_of) {
    // The identity as it stood then: the holder now may not have held it, nor the holder
    // then still hold it. A read pinned to the values, as of then, answers it.
    ASHLAR_TRY(then, read(resource_name, runtime::pinned_query(identity->attributes, key_values, query)));
    if (then->empty()) return missing();
    return std::move(then->front());
  }
  auto found = impl_->reading([&](const Txn& txn) -> Result<std::vector<Value>> {
    ASHLAR_TRY(tables, impl_->state_for(txn, res, query.tenant));
    if (!*tables) return missing();
    ASHLAR_TRY(holder, (*tables)->lookup_identity(txn, res.name(), identity->name, key_values));
    if (!*holder) return missing();
    ASHLAR_TRY(stored, (*tables)->get(txn, res.name(), **holder));
    if (!*stored)
      return fail(Error::unknown(fmt::format("identity {} of {} points at a missing record", identity->name, res.name())));
    Record record = runtime::make_record(impl_->domain, res, **stored);
    std::vector<Value> primary;
    for (auto i : res.primary_key()) primary.push_back(record[res.attributes()[i].name]);
    return primary;
  });
  if (!found) return fail(found.error());
  auto got = get(resource_name, (*found).size() == 1 ? (*found)[0] : id_map(res, *found), query);
  // A record the actor may not read is not found by its identity either: the error names
  // the identity asked for, never the hidden record's primary key.
  if (!got && got.error().cls == ErrorClass::not_found && !query.as_of) return missing();
  return got;
}

Result<std::vector<Record>> Engine::load(std::vector<Record> records, const std::vector<Load>& loads,
                                         const Value& actor, const std::string& tenant) const {
  if (records.empty()) return records;
  const Resource& res = records.front().resource();
  for (const auto& record : records)
    if (record.resource().name() != res.name())
      return fail(Error::framework("Engine::load takes records of one resource at a time"));
  auto loaded = impl_->reading([&](const Txn& txn) -> Result<void> {
    EvalContext base;
    base.actor = actor;
    base.tenant = tenant;
    runtime::Reader reader(impl_->domain, *impl_->log, impl_->state, impl_->tenants.get(), txn, base);
    const Resource& r = *impl_->domain.resource(res.name());
    ASHLAR_TRY_VOID(reader.check_loads(r, loads));
    ASHLAR_TRY_VOID(reader.load(r, records, loads));
    return reader.hide_fields(r, nullptr, records, &loads);
  });
  if (!loaded) return fail(loaded.error());
  return records;
}

}  // namespace ashlar
