#include <ashlar/projections/state.hpp>

#include <ashlar/model/key.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace ashlar {

std::string event_key_bytes(const Event& event) {
  std::string out;
  for (const auto& [name, value] : event.key) append_key(out, value);
  return out;
}

void StateProjection::add_tables(const Resource& r, const std::string& stored_name) {
  Tables t;
  t.records = layout_.size();
  layout_.push_back({database_name(stored_name), false});
  for (const auto& attribute : r.indexed_attributes()) {
    t.indexed.push_back(attribute);
    t.indexes.push_back({attribute, layout_.size()});
    layout_.push_back({index_name(stored_name, attribute), true});
  }
  for (const auto& identity : r.identities()) {
    for (const auto& a : identity.attributes)
      if (std::find(t.indexed.begin(), t.indexed.end(), a) == t.indexed.end()) t.indexed.push_back(a);
    t.identities.push_back({identity, layout_.size()});
    layout_.push_back({identity_name(stored_name, identity.name), false});
  }
  tables_.emplace(r.name(), std::move(t));
}

StateProjection StateProjection::layout(const Domain& domain) {
  StateProjection p;
  for (const auto& r : domain.resources()) {
    if (r.multitenancy().strategy == Multitenancy::context) p.tenanted_.insert(r.name());
    else p.add_tables(r, r.name());
  }
  return p;
}

Result<StateProjection> StateProjection::open(Log& log, const Domain& domain) {
  StateProjection p = layout(domain);
  for (const auto& table : p.layout_) {
    ASHLAR_TRY(db, log.database(table.name, table.dupsort));
    p.dbs_.push_back(*db);
  }
  return p;
}

StateProjection StateProjection::tenant_layout(const Resource& r, std::string_view tenant) {
  StateProjection p;
  p.add_tables(r, r.name() + "@" + tenant_part(tenant));
  return p;
}

Result<std::optional<StateProjection>> StateProjection::open_tenant(const Txn& txn, const Resource& r,
                                                                    std::string_view tenant, bool create) {
  StateProjection p = tenant_layout(r, tenant);
  for (const auto& table : p.layout_) {
    ASHLAR_TRY(db, txn.open_database(table.name, table.dupsort, create));
    if (!*db) return std::optional<StateProjection>{};
    p.dbs_.push_back(**db);
  }
  return std::optional<StateProjection>{std::move(p)};
}

Result<StateProjection> StateProjection::open_tenant(Log& log, const Resource& r, std::string_view tenant) {
  StateProjection p = tenant_layout(r, tenant);
  for (const auto& table : p.layout_) {
    ASHLAR_TRY(db, log.database(table.name, table.dupsort));
    p.dbs_.push_back(*db);
  }
  return p;
}

namespace {

bool plain(unsigned char c) { return std::isalnum(c) || c == '-' || c == '_' || c == '.'; }

}  // namespace

std::string StateProjection::tenant_part(std::string_view tenant) {
  std::string out;
  for (unsigned char c : tenant) out += plain(c) ? std::string(1, static_cast<char>(c)) : fmt::format("%{:02X}", c);
  return out;
}

std::optional<std::string> StateProjection::tenant_of_part(std::string_view part) {
  std::string out;
  for (std::size_t i = 0; i < part.size(); ++i) {
    if (plain(static_cast<unsigned char>(part[i]))) {
      out += part[i];
      continue;
    }
    if (part[i] != '%' || i + 2 >= part.size()) return std::nullopt;
    unsigned value = 0;
    for (std::size_t k = 1; k <= 2; ++k) {
      char h = part[i + k];
      if (!std::isxdigit(static_cast<unsigned char>(h)) || std::islower(static_cast<unsigned char>(h))) return std::nullopt;
      value = value * 16 + static_cast<unsigned>(std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : h - 'A' + 10);
    }
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
}

Result<const StateProjection::Tables*> StateProjection::tables(std::string_view resource) const {
  auto it = tables_.find(resource);
  if (it == tables_.end())
    return fail(Error::framework(fmt::format("the state projection has no resource {}", resource)));
  return &it->second;
}

namespace {

void merge(Fields& attributes, const Fields& changes) {
  for (const auto& change : changes) {
    const auto& [name, value] = change;
    auto it = std::find_if(attributes.begin(), attributes.end(), [&](const auto& f) { return f.first == change.first; });
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

RebuildTarget StateProjection::target() const {
  return RebuildTarget{"state", layout_,
                       [this](StateStore& store, const StoredEvent& stored) -> Result<void> {
                         if (tenanted(stored.event.resource)) return {};  // in the tenant's own tables
                         ASHLAR_TRY(applied, apply(store, stored.event));
                         return {};
                       },
                       {}};
}

Result<std::optional<StoredRecord>> StateProjection::apply(Txn& txn, const Event& event) const {
  LmdbStore live = store(txn);
  return apply(live, event);
}

Result<std::optional<StoredRecord>> StateProjection::apply(StateStore& store, const Event& event) const {
  ASHLAR_TRY(found, tables(event.resource));
  const Tables& t = **found;
  std::size_t records = t.records;
  std::string key = event_key_bytes(event);
  auto mismatch = [&](std::string_view why) {
    return fail(Error::unknown(fmt::format("event {} ({} {}) does not fit the state projection: {}",
                                           event.position, event.resource, to_string(event.type), why)));
  };
  if (event.type == ActionType::create) {
    // The put finds the record there, if it is: no lookup of its own before it.
    StoredRecord record{event.version, event.position, {}};
    merge(record.attributes, event.changes);
    auto put = store.put(records, key, encode_record(record), StateStore::Put::no_overwrite);
    if (!put && put.error().cls == ErrorClass::conflict) return mismatch("the record already exists");
    if (!put) return fail(put.error());
    ASHLAR_TRY_VOID(update_indexes(store, t, event, key, nullptr, &record.attributes));
    return std::optional<StoredRecord>{std::move(record)};
  }
  ASHLAR_TRY(current, get(store, event.resource, key));
  switch (event.type) {
    case ActionType::create: break;  // above
    case ActionType::update: {
      if (!*current) return mismatch("the record does not exist");
      bool reindex = std::any_of(event.changes.begin(), event.changes.end(), [&](const auto& change) {
        return std::find(t.indexed.begin(), t.indexed.end(), change.first) != t.indexed.end();
      });
      // Without a change to what the indexes read, they stay as they are, and the record
      // read is changed in place rather than copied.
      StoredRecord record = reindex ? **current : std::move(**current);
      record.version = event.version;
      record.position = event.position;
      merge(record.attributes, event.changes);
      if (reindex) ASHLAR_TRY_VOID(update_indexes(store, t, event, key, &(*current)->attributes, &record.attributes));
      ASHLAR_TRY_VOID(store.put(records, key, encode_record(record)));
      return std::optional<StoredRecord>{std::move(record)};
    }
    case ActionType::destroy: {
      if (!*current) return mismatch("the record does not exist");
      ASHLAR_TRY_VOID(update_indexes(store, t, event, key, &(*current)->attributes, nullptr));
      ASHLAR_TRY(deleted, store.del(records, key));
      return std::optional<StoredRecord>{};
    }
    case ActionType::read:
    case ActionType::generic: break;  // they write through other actions' events
  }
  return mismatch(fmt::format("{} appends no events", an_action(event.type)));
}

Result<std::optional<StoredRecord>> StateProjection::get(const StateStore& store, std::string_view resource,
                                                         std::string_view key_bytes) const {
  ASHLAR_TRY(t, tables(resource));
  ASHLAR_TRY(bytes, store.get((*t)->records, key_bytes));
  if (!*bytes) return std::optional<StoredRecord>{};
  ASHLAR_TRY(record, decode_record(**bytes));
  return std::optional<StoredRecord>{std::move(*record)};
}

Result<void> StateProjection::scan(const StateStore& store, std::string_view resource,
                                   const std::function<bool(const StoredRecord&)>& fn) const {
  ASHLAR_TRY(t, tables(resource));
  std::optional<Error> error;
  auto scanned = store.scan((*t)->records, {}, [&](std::string_view, std::string_view value) {
    auto record = decode_record(value);
    if (!record) error = record.error();
    return record && fn(*record);
  });
  if (!scanned) return scanned;
  if (error) return fail(*error);
  return {};
}

Result<std::uint64_t> StateProjection::count(const StateStore& store, std::string_view resource) const {
  ASHLAR_TRY(t, tables(resource));
  return store.count((*t)->records);
}

Result<std::optional<StoredRecord>> StateProjection::get(const Txn& txn, std::string_view resource,
                                                         std::string_view key_bytes) const {
  return get(store(txn), resource, key_bytes);
}

Result<void> StateProjection::scan(const Txn& txn, std::string_view resource,
                                   const std::function<bool(const StoredRecord&)>& fn) const {
  return scan(store(txn), resource, fn);
}

Result<std::uint64_t> StateProjection::count(const Txn& txn, std::string_view resource) const {
  return count(store(txn), resource);
}

}  // namespace ashlar
