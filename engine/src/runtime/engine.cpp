#include <ashlar/engine.hpp>

#include <ashlar/model/key.hpp>
#include <ashlar/projections/state.hpp>

#include "changeset.hpp"

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
};

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
  std::vector<Value> values(r.attributes().size());
  for (const auto& [name, value] : stored.attributes)
    if (auto i = r.attribute_index(name)) values[*i] = value;
  return Record(domain, r, std::move(values), stored.version);
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
    for (std::size_t i = 0; i < cs.assigned.size(); ++i) {
      const auto& name = res.attributes()[i].name;
      if (cs.assigned[i] && *cs.assigned[i] != before[name]) e.changes.emplace_back(name, *cs.assigned[i]);
    }
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

Result<Record> Engine::get(std::string_view resource_name, const Value& id, const CallOptions& call) const {
  auto r = impl_->resource(resource_name);
  if (!r) return fail(r.error());
  const Resource& res = **r;
  auto a = impl_->action(res, ActionType::read, call.action);
  if (!a) return fail(a.error());
  auto key = runtime::cast_id(res, (*a)->name, id);
  if (!key) return fail(key.error());
  auto txn = impl_->log->read();
  if (!txn) return fail(txn.error());
  auto stored = impl_->current(*txn, res, *key);
  if (!stored) return fail(stored.error());
  if (!*stored) {
    Error e = not_found(res, *key);
    e.action = (*a)->name;
    return fail(std::move(e));
  }
  return impl_->to_record(res, **stored);
}

Result<std::vector<Record>> Engine::read(std::string_view resource_name, const CallOptions& call) const {
  auto r = impl_->resource(resource_name);
  if (!r) return fail(r.error());
  const Resource& res = **r;
  auto a = impl_->action(res, ActionType::read, call.action);
  if (!a) return fail(a.error());
  auto txn = impl_->log->read();
  if (!txn) return fail(txn.error());
  std::vector<Record> out;
  auto scanned = impl_->state.scan(*txn, res.name(), [&](const StoredRecord& s) {
    out.push_back(impl_->to_record(res, s));
    return true;
  });
  if (!scanned) return fail(scanned.error());
  return out;
}

}  // namespace ashlar
