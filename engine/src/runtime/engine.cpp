#include <ashlar/engine.hpp>

#include <ashlar/model/key.hpp>
#include <ashlar/projections/state.hpp>

#include "changeset.hpp"
#include "reader.hpp"

#include <fmt/format.h>

namespace ashlar {

using runtime::Changeset;

struct Engine::Impl {
  Domain domain;
  Options options;
  std::unique_ptr<Log> log;
  StateProjection state;
  std::unique_ptr<PublishService> publishing;  // declared after log: stops before it closes

  Result<const Resource*> resource(std::string_view name) const;
  Result<const Action*> action(const Resource& r, ActionType type, std::string_view name) const;
  Record to_record(const Resource& r, const StoredRecord& stored) const;
  Event draft(const Changeset& cs, const CallOptions& call) const;
  // Appends the event the builder makes (inside the write transaction) and folds it into
  // the state projection; notifies after commit. Returns the record's new state.
  Result<std::optional<StoredRecord>> write(const std::function<Result<Event>(Txn&)>& build);
  Result<std::optional<StoredRecord>> current(const Txn& txn, const Resource& r,
                                              const std::vector<Value>& key) const;
  // Conflict when another record holds the identity values `after` (aligned with the
  // attributes) would take.
  Result<void> check_identities(const Txn& txn, const Resource& r, const std::string& action,
                                const std::vector<Value>& key, const std::vector<Value>& after) const;
};

Result<void> Engine::Impl::check_identities(const Txn& txn, const Resource& r, const std::string& action,
                                            const std::vector<Value>& key, const std::vector<Value>& after) const {
  std::string own = encode_key(key);
  for (const auto& identity : r.identities()) {
    std::vector<Value> values;
    for (const auto& name : identity.attributes) values.push_back(after[*r.attribute_index(name)]);
    if (std::any_of(values.begin(), values.end(), [](const Value& v) { return v.is_null(); })) continue;
    auto holder = state.lookup_identity(txn, r.name(), identity.name, values);
    if (!holder) return fail(holder.error());
    if (!*holder || **holder == own) continue;
    std::string shown;
    for (const auto& v : values) shown += (shown.empty() ? "" : ", ") + v.str();
    Error e = Error::conflict(r.name(), fmt::format("identity {} is taken: another {} has {}", identity.name,
                                                    r.name(), shown));
    e.action = action;
    for (const auto& name : identity.attributes) e.fields.push_back({name, "identity_taken", "has already been taken"});
    return fail(std::move(e));
  }
  return {};
}

Result<const Resource*> Engine::Impl::resource(std::string_view name) const {
  if (const Resource* r = domain.resource(name)) return r;
  return fail(Error::framework(fmt::format("domain {} has no resource named {}", domain.name(), name)));
}

Result<const Action*> Engine::Impl::action(const Resource& r, ActionType type, std::string_view name) const {
  const Action* a = name.empty() ? r.primary_action(type) : r.action(name);
  if (!a && name.empty())
    return fail(Error::framework(fmt::format("{} has no primary {} action; name one in CallOptions::action "
                                             "or mark one primary",
                                             r.name(), to_string(type))));
  if (!a) return fail(Error::framework(fmt::format("{} has no action named {}", r.name(), name)));
  if (a->type != type)
    return fail(Error::framework(fmt::format("{}.{} is a {} action, not a {} action", r.name(), a->name,
                                             to_string(a->type), to_string(type))));
  return a;
}

Record Engine::Impl::to_record(const Resource& r, const StoredRecord& stored) const {
  return runtime::make_record(domain, r, stored);
}

Event Engine::Impl::draft(const Changeset& cs, const CallOptions& call) const {
  Event e;
  e.domain = domain.name();
  e.resource = cs.resource->name();
  e.action = cs.action->name;
  e.type = cs.action->type;
  e.inputs = cs.inputs;
  e.actor = call.actor;
  e.correlation_id = call.correlation_id.empty() ? Uuid::v4().str() : call.correlation_id;
  e.causation_id = call.causation_id;
  e.tenant = call.tenant;
  e.time_micros = cs.now.micros;
  return e;
}

Result<std::optional<StoredRecord>> Engine::Impl::current(const Txn& txn, const Resource& r,
                                                          const std::vector<Value>& key) const {
  return state.get(txn, r.name(), encode_key(key));
}

Result<std::optional<StoredRecord>> Engine::Impl::write(const std::function<Result<Event>(Txn&)>& build) {
  std::optional<StoredRecord> result;
  std::vector<StoredEvent> committed;
  auto written = log->write(
      [&](Txn& txn) -> Result<void> {
        committed.clear();
        auto event = build(txn);
        if (!event) return fail(event.error());
        auto stored = log->append(txn, std::move(*event));
        if (!stored) return fail(stored.error());
        auto applied = state.apply(txn, stored->event);
        if (!applied) return fail(applied.error());
        result = std::move(*applied);
        committed.push_back(std::move(*stored));
        return {};
      },
      [&] {
        for (const auto& n : options.notifiers) n->notify(committed);
        if (publishing) publishing->notify(committed);
      });
  if (!written) return fail(written.error());
  return result;
}

namespace {

Fields key_fields(const Resource& r, const std::vector<Value>& key) {
  Fields out;
  for (std::size_t i = 0; i < key.size(); ++i) out.emplace_back(r.attributes()[r.primary_key()[i]].name, key[i]);
  return out;
}

std::string describe_key(const std::vector<Value>& key) {
  std::string out;
  for (const auto& v : key) out += (out.empty() ? "" : ", ") + (v.as_string() ? *v.as_string() : v.str());
  return out;
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

Value id_map(const Resource& r, const std::vector<Value>& key) {
  Map m;
  for (std::size_t i = 0; i < key.size(); ++i) m.emplace_back(r.attributes()[r.primary_key()[i]].name, key[i]);
  return Value(std::move(m));
}

Error not_found(const Resource& r, const std::vector<Value>& key) {
  return Error::not_found(r.name(), fmt::format("no {} with primary key {}", r.name(), describe_key(key)));
}

}  // namespace

Result<Engine> Engine::open(const std::string& path, const Domain& domain, Options options) {
  if (domain.resources().empty() && domain.name().empty())
    return fail(Error::framework("Engine::open needs a built domain (DomainBuilder::build)"));
  LogOptions lo;
  lo.initial_map_size = options.initial_map_size;
  lo.max_map_size = options.max_map_size;
  lo.durability = options.durability;
  lo.chain_key = options.chain_key;
  lo.max_databases = static_cast<unsigned>(16 + 4 * domain.resources().size());
  auto log = Log::open(path, lo);
  if (!log) return fail(log.error());

  // The stored model decides whether this domain may open the store.
  std::optional<std::string> stored_json;
  {
    auto txn = (*log)->read();
    if (!txn) return fail(txn.error());
    auto stored = (*log)->model(*txn);
    if (!stored) return fail(stored.error());
    stored_json = std::move(*stored);
  }
  std::string json = domain_to_json(domain);
  if (stored_json) {
    auto stored = domain_from_json(*stored_json);
    if (!stored) return fail(stored.error());
    auto problems = incompatibilities(*stored, domain);
    if (!problems.empty()) {
      Error e = Error::framework(fmt::format("the model does not fit the store at {}", path));
      for (auto& p : problems) e.fields.push_back({"", "incompatible_model", std::move(p)});
      return fail(std::move(e));
    }
  }
  if (!stored_json || *stored_json != json) {
    auto put = (*log)->write([&](Txn& txn) { return (*log)->put_model(txn, json); });
    if (!put) return fail(put.error());
  }
  auto state = StateProjection::open(**log, domain);
  if (!state) return fail(state.error());

  auto impl = std::make_unique<Impl>();
  impl->domain = domain;
  impl->options = std::move(options);
  impl->log = std::move(*log);
  impl->state = std::move(*state);
  auto publishing = PublishService::start(*impl->log, impl->domain, impl->options.publish);
  if (!publishing) return fail(publishing.error());
  impl->publishing = std::move(*publishing);
  return Engine(std::move(impl));
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;
Engine::~Engine() = default;

const Domain& Engine::domain() const { return impl_->domain; }
const Log& Engine::log() const { return *impl_->log; }

Result<Record> Engine::create(std::string_view resource_name, const Fields& inputs, const CallOptions& call) {
  auto r = impl_->resource(resource_name);
  if (!r) return fail(r.error());
  const Resource& res = **r;
  auto a = impl_->action(res, ActionType::create, call.action);
  if (!a) return fail(a.error());
  Changeset cs = runtime::build_changeset(res, **a, inputs);
  runtime::apply_defaults(cs);
  if (!cs.errors.empty()) return fail(Error::invalid(res.name(), (*a)->name, std::move(cs.errors)));

  std::vector<Value> key;
  for (auto i : res.primary_key()) key.push_back(*cs.assigned[i]);
  if (auto too_long = check_key_size(res, key)) {
    return fail(Error::invalid(res.name(), (*a)->name, {std::move(*too_long)}));
  }
  auto written = impl_->write([&](Txn& txn) -> Result<Event> {
    auto existing = impl_->current(txn, res, key);
    if (!existing) return fail(existing.error());
    if (*existing) {
      Error e = Error::conflict(res.name(), fmt::format("a {} with primary key {} already exists", res.name(),
                                                        describe_key(key)));
      e.action = (*a)->name;
      return fail(std::move(e));
    }
    std::vector<Value> after;
    for (const auto& v : cs.assigned) after.push_back(*v);
    ASHLAR_TRY_VOID(impl_->check_identities(txn, res, (*a)->name, key, after));
    auto last = impl_->log->last_version(txn, res.name(), encode_key(key));
    if (!last) return fail(last.error());
    Event e = impl_->draft(cs, call);
    e.version = *last + 1;  // a key used before continues its history
    e.key = key_fields(res, key);
    for (std::size_t i = 0; i < cs.assigned.size(); ++i)
      if (!cs.assigned[i]->is_null()) e.changes.emplace_back(res.attributes()[i].name, *cs.assigned[i]);
    return e;
  });
  if (!written) return fail(written.error());
  return impl_->to_record(res, **written);
}

Result<Record> Engine::update(std::string_view resource_name, const Value& id, const Fields& inputs,
                              const CallOptions& call) {
  auto r = impl_->resource(resource_name);
  if (!r) return fail(r.error());
  const Resource& res = **r;
  auto a = impl_->action(res, ActionType::update, call.action);
  if (!a) return fail(a.error());
  auto key = runtime::cast_id(res, (*a)->name, id);
  if (!key) return fail(key.error());
  Changeset cs = runtime::build_changeset(res, **a, inputs);
  runtime::apply_defaults(cs);
  if (!cs.errors.empty()) return fail(Error::invalid(res.name(), (*a)->name, std::move(cs.errors)));

  auto written = impl_->write([&](Txn& txn) -> Result<Event> {
    auto existing = impl_->current(txn, res, *key);
    if (!existing) return fail(existing.error());
    if (!*existing) {
      Error e = not_found(res, *key);
      e.action = (*a)->name;
      return fail(std::move(e));
    }
    Record before = impl_->to_record(res, **existing);
    Event e = impl_->draft(cs, call);
    e.version = (*existing)->version + 1;
    e.key = key_fields(res, *key);
    std::vector<Value> after;
    for (std::size_t i = 0; i < cs.assigned.size(); ++i) {
      const auto& name = res.attributes()[i].name;
      after.push_back(cs.assigned[i] ? *cs.assigned[i] : before[name]);
      if (cs.assigned[i] && *cs.assigned[i] != before[name]) e.changes.emplace_back(name, *cs.assigned[i]);
    }
    ASHLAR_TRY_VOID(impl_->check_identities(txn, res, (*a)->name, *key, after));
    return e;
  });
  if (!written) return fail(written.error());
  return impl_->to_record(res, **written);
}

Result<Record> Engine::destroy(std::string_view resource_name, const Value& id, const CallOptions& call) {
  auto r = impl_->resource(resource_name);
  if (!r) return fail(r.error());
  const Resource& res = **r;
  auto a = impl_->action(res, ActionType::destroy, call.action);
  if (!a) return fail(a.error());
  auto key = runtime::cast_id(res, (*a)->name, id);
  if (!key) return fail(key.error());
  Changeset cs = runtime::build_changeset(res, **a, {});

  std::optional<Record> destroyed;
  auto written = impl_->write([&](Txn& txn) -> Result<Event> {
    auto existing = impl_->current(txn, res, *key);
    if (!existing) return fail(existing.error());
    if (!*existing) {
      Error e = not_found(res, *key);
      e.action = (*a)->name;
      return fail(std::move(e));
    }
    destroyed = impl_->to_record(res, **existing);
    Event e = impl_->draft(cs, call);
    e.version = (*existing)->version + 1;
    e.key = key_fields(res, *key);
    return e;
  });
  if (!written) return fail(written.error());
  return std::move(*destroyed);
}

Result<Record> Engine::get(std::string_view resource_name, const Value& id, const Query& query) const {
  auto r = impl_->resource(resource_name);
  if (!r) return fail(r.error());
  const Resource& res = **r;
  std::string action = query.action.empty() && res.primary_action(ActionType::read) ? res.primary_action(ActionType::read)->name
                                                                                    : query.action;
  auto key = runtime::cast_id(res, action, id);
  if (!key) return fail(key.error());
  // A get is a read whose filter pins the primary key: the index turns it into one lookup.
  Query q = query;
  std::optional<Expr> pinned;
  for (std::size_t i = 0; i < key->size(); ++i) {
    Expr term = dsl::ref(res.attributes()[res.primary_key()[i]].name) == Expr((*key)[i]);
    pinned = pinned ? *pinned && term : term;
  }
  q.filter = q.filter ? *pinned && *q.filter : *pinned;
  q.limit = 1;
  auto found = read(resource_name, q);
  if (!found) return fail(found.error());
  if (found->empty()) {
    Error e = not_found(res, *key);
    e.action = action;
    return fail(std::move(e));
  }
  return std::move(found->front());
}

Result<std::vector<Record>> Engine::read(std::string_view resource_name, const Query& query) const {
  auto r = impl_->resource(resource_name);
  if (!r) return fail(r.error());
  auto txn = impl_->log->read();
  if (!txn) return fail(txn.error());
  EvalContext base;
  base.actor = query.actor;
  runtime::Reader reader(impl_->domain, *impl_->log, impl_->state, *txn, base);
  return reader.run(**r, query);
}

Result<Record> Engine::get_by(std::string_view resource_name, std::string_view identity_name, const Fields& values,
                              const Query& query) const {
  auto r = impl_->resource(resource_name);
  if (!r) return fail(r.error());
  const Resource& res = **r;
  const Identity* identity = res.identity(identity_name);
  if (!identity) return fail(Error::framework(fmt::format("{} has no identity {}", res.name(), identity_name)));
  std::vector<Value> key_values;
  std::vector<FieldError> errors;
  for (const auto& name : identity->attributes) {
    const Value* given = find_field(values, name);
    auto cast = cast_value(res.attribute(name)->type, given ? *given : Value());
    if (!cast.value) errors.push_back({name, "invalid_type", cast.error});
    else if (cast.value->is_null()) errors.push_back({name, "required", "is required to find the record"});
    else key_values.push_back(std::move(*cast.value));
  }
  if (!errors.empty()) return fail(Error::invalid(res.name(), "get_by", std::move(errors)));
  std::string key;
  {
    auto txn = impl_->log->read();
    if (!txn) return fail(txn.error());
    auto found = impl_->state.lookup_identity(*txn, res.name(), identity->name, key_values);
    if (!found) return fail(found.error());
    if (!*found) {
      std::string shown;
      for (const auto& v : key_values) shown += (shown.empty() ? "" : ", ") + v.str();
      return fail(Error::not_found(res.name(), fmt::format("no {} with {} {}", res.name(), identity->name, shown)));
    }
    auto stored = impl_->state.get(*txn, res.name(), **found);
    if (!stored) return fail(stored.error());
    if (!*stored) return fail(Error::unknown(fmt::format("identity {} of {} points at a missing record", identity->name, res.name())));
    key_values.clear();
    Record record = runtime::make_record(impl_->domain, res, **stored);
    for (auto i : res.primary_key()) key_values.push_back(record[res.attributes()[i].name]);
  }
  return get(resource_name, key_values.size() == 1 ? key_values[0] : id_map(res, key_values), query);
}

Result<std::vector<Record>> Engine::load(std::vector<Record> records, const std::vector<Load>& loads,
                                         const Value& actor) const {
  if (records.empty()) return records;
  const Resource& res = records.front().resource();
  for (const auto& record : records)
    if (record.resource().name() != res.name())
      return fail(Error::framework("Engine::load takes records of one resource at a time"));
  auto txn = impl_->log->read();
  if (!txn) return fail(txn.error());
  EvalContext base;
  base.actor = actor;
  runtime::Reader reader(impl_->domain, *impl_->log, impl_->state, *txn, base);
  ASHLAR_TRY_VOID(reader.load(*impl_->domain.resource(res.name()), records, loads));
  return records;
}

}  // namespace ashlar
