#include <ashlar/engine.hpp>

#include <ashlar/model/key.hpp>
#include <ashlar/projections/state.hpp>

#include "audit.hpp"
#include "changeset.hpp"
#include "impl.hpp"
#include "reader.hpp"

#include <fmt/format.h>

namespace ashlar {



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

Result<std::optional<StoredRecord>> Engine::Impl::current(const Txn& txn, const Resource& r,
                                                          const std::vector<Value>& key) const {
  return state.get(txn, r.name(), encode_key(key));
}

std::string describe_key(const std::vector<Value>& key) {
  std::string out;
  for (const auto& v : key) out += (out.empty() ? "" : ", ") + (v.as_string() ? *v.as_string() : v.str());
  return out;
}

Value id_map(const Resource& r, const std::vector<Value>& key) {
  Map m;
  for (std::size_t i = 0; i < key.size(); ++i) m.emplace_back(r.attributes()[r.primary_key()[i]].name, key[i]);
  return Value(std::move(m));
}

Error not_found(const Resource& r, const std::vector<Value>& key) {
  return Error::not_found(r.name(), fmt::format("no {} with primary key {}", r.name(), describe_key(key)));
}


Result<Engine> Engine::open(const std::string& path, const Domain& domain, Options options) {
  if (domain.resources().empty() && domain.name().empty())
    return fail(Error::framework("Engine::open needs a built domain (DomainBuilder::build)"));
  LogOptions lo;
  lo.initial_map_size = options.initial_map_size;
  lo.max_map_size = options.max_map_size;
  lo.durability = options.durability;
  lo.chain_key = options.chain_key;
  lo.max_databases = runtime::max_databases(domain, options.projections);
  auto log = Log::open(path, lo);
  if (!log) return fail(log.error());
  // The stored model decides whether this domain may open the store (upcasters allowing).
  auto replay = runtime::Replay::install_model(**log, domain, options.upcasters);
  if (!replay) return fail(replay.error());
  auto state = StateProjection::open(**log, domain);
  if (!state) return fail(state.error());
  ASHLAR_TRY_VOID(replay->open(**log, *state, options.projections));

  auto impl = std::make_unique<Impl>();
  impl->domain = domain;
  impl->options = std::move(options);
  impl->log = std::move(*log);
  impl->state = std::move(*state);
  impl->replay = std::move(*replay);
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
  if (found->empty()) return fail(runtime::record_not_found(*impl_->log, res, *key, query.as_of, action));
  return std::move(found->front());
}

Result<std::vector<Record>> Engine::read(std::string_view resource_name, const Query& query) const {
  auto r = impl_->resource(resource_name);
  if (!r) return fail(r.error());
  // Called inside an action's write transaction on this thread (from a hook, or a
  // transactional generic action's run), it reads what that transaction wrote so far.
  if (const Txn* open = impl_->open_txn(); open && !query.as_of) {
    EvalContext base;
    base.actor = query.actor;
    runtime::Reader reader(impl_->domain, *impl_->log, impl_->state, *open, base);
    return reader.run(**r, query);
  }
  return runtime::read_records(impl_->domain, *impl_->log, impl_->state, impl_->replay.upcast(), **r, query);
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
