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
    Tables t;
    auto records = log.database(database_name(r.name()));
    if (!records) return fail(records.error());
    t.records = *records;
    for (const auto& attribute : r.indexed_attributes()) {
      auto db = log.database(index_name(r.name(), attribute), /*dupsort=*/true);
      if (!db) return fail(db.error());
      t.indexes.push_back({attribute, *db});
    }
    for (const auto& identity : r.identities()) {
      auto db = log.database(identity_name(r.name(), identity.name));
      if (!db) return fail(db.error());
      t.identities.push_back({identity, *db});
    }
    p.tables_.emplace(r.name(), std::move(t));
  }
  return p;
}

Result<const StateProjection::Tables*> StateProjection::tables(std::string_view resource) const {
  auto it = tables_.find(resource);
  if (it == tables_.end())
    return fail(Error::framework(fmt::format("the state projection has no resource {}", resource)));
  return &it->second;
}

Result<Db> StateProjection::db(std::string_view resource) const {
  auto t = tables(resource);
  if (!t) return fail(t.error());
  return (*t)->records;
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
      ASHLAR_TRY_VOID(update_indexes(txn, event, key, nullptr, &record.attributes));
      ASHLAR_TRY_VOID(txn.put(*d, key, encode_record(record)));
      return std::optional<StoredRecord>{std::move(record)};
    }
    case ActionType::update: {
      if (!*current) return mismatch("the record does not exist");
      StoredRecord record = **current;
      record.version = event.version;
      record.position = event.position;
      merge(record.attributes, event.changes);
      ASHLAR_TRY_VOID(update_indexes(txn, event, key, &(*current)->attributes, &record.attributes));
      ASHLAR_TRY_VOID(txn.put(*d, key, encode_record(record)));
      return std::optional<StoredRecord>{std::move(record)};
    }
    case ActionType::destroy: {
      if (!*current) return mismatch("the record does not exist");
      ASHLAR_TRY_VOID(update_indexes(txn, event, key, &(*current)->attributes, nullptr));
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
