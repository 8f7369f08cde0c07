#include <ashlar/projections/state.hpp>

#include <ashlar/model/key.hpp>

#include <fmt/format.h>

namespace ashlar {

std::string event_key_bytes(const Event& event) {
  std::string out;
  for (const auto& [name, value] : event.key) append_key(out, value);
  return out;
}

Result<StateProjection> StateProjection::open(Log& log, const Domain& domain) {
  StateProjection p;
  for (const auto& r : domain.resources()) {
    auto db = log.database(database_name(r.name()));
    if (!db) return fail(db.error());
    p.dbs_.emplace(r.name(), *db);
  }
  return p;
}

Result<Db> StateProjection::db(std::string_view resource) const {
  auto it = dbs_.find(resource);
  if (it == dbs_.end())
    return fail(Error::framework(fmt::format("the state projection has no resource {}", resource)));
  return it->second;
}

namespace {

void merge(Fields& attributes, const Fields& changes) {
  for (const auto& [name, value] : changes) {
    auto it = std::find_if(attributes.begin(), attributes.end(), [&](const auto& f) { return f.first == name; });
    if (value.is_null()) {
      if (it != attributes.end()) attributes.erase(it);
    } else if (it != attributes.end()) {
      it->second = value;
    } else {
      attributes.emplace_back(name, value);
    }
  }
}

}  // namespace

Result<std::optional<StoredRecord>> StateProjection::apply(Txn& txn, const Event& event) const {
  auto d = db(event.resource);
  if (!d) return fail(d.error());
  std::string key = event_key_bytes(event);
  auto current = get(txn, event.resource, key);
  if (!current) return fail(current.error());
  auto mismatch = [&](std::string_view why) {
    return fail(Error::unknown(fmt::format("event {} ({} {}) does not fit the state projection: {}",
                                           event.position, event.resource, to_string(event.type), why)));
  };
  switch (event.type) {
    case ActionType::create: {
      if (*current) return mismatch("the record already exists");
      StoredRecord record{event.version, event.position, {}};
      merge(record.attributes, event.changes);
      ASHLAR_TRY_VOID(txn.put(*d, key, encode_record(record)));
      return std::optional<StoredRecord>{std::move(record)};
    }
    case ActionType::update: {
      if (!*current) return mismatch("the record does not exist");
      StoredRecord record = std::move(**current);
      record.version = event.version;
      record.position = event.position;
      merge(record.attributes, event.changes);
      ASHLAR_TRY_VOID(txn.put(*d, key, encode_record(record)));
      return std::optional<StoredRecord>{std::move(record)};
    }
    case ActionType::destroy: {
      if (!*current) return mismatch("the record does not exist");
      auto deleted = txn.del(*d, key);
      if (!deleted) return fail(deleted.error());
      return std::optional<StoredRecord>{};
    }
    case ActionType::read: break;
  }
  return mismatch("a read action appends no events");
}

Result<std::optional<StoredRecord>> StateProjection::get(const Txn& txn, std::string_view resource,
                                                         std::string_view key_bytes) const {
  auto d = db(resource);
  if (!d) return fail(d.error());
  auto bytes = txn.get(*d, key_bytes);
  if (!bytes) return fail(bytes.error());
  if (!*bytes) return std::optional<StoredRecord>{};
  auto record = decode_record(**bytes);
  if (!record) return fail(record.error());
  return std::optional<StoredRecord>{std::move(*record)};
}

Result<void> StateProjection::scan(const Txn& txn, std::string_view resource,
                                   const std::function<bool(const StoredRecord&)>& fn) const {
  auto d = db(resource);
  if (!d) return fail(d.error());
  auto c = txn.cursor(*d);
  if (!c) return fail(c.error());
  for (auto found = c->first();; found = c->next()) {
    if (!found) return fail(found.error());
    if (!*found) return {};
    auto record = decode_record(c->value());
    if (!record) return fail(record.error());
    if (!fn(*record)) return {};
  }
}

Result<std::uint64_t> StateProjection::count(const Txn& txn, std::string_view resource) const {
  auto d = db(resource);
  if (!d) return fail(d.error());
  return txn.count(*d);
}

}  // namespace ashlar
