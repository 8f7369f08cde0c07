#pragma once
// The built-in state projection: each resource's current records by primary key, in
// the database rec/<Resource>, with its secondary indexes and identities, folded from
// the events in the same write transaction that appends them. The fold writes through
// a StateStore, so a replay into memory or into staging databases yields the same bytes.

#include <ashlar/eventlog/log.hpp>
#include <ashlar/model/export.hpp>
#include <ashlar/projections/rebuild.hpp>
#include <ashlar/projections/store.hpp>

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

namespace ashlar {

class ASHLAR_API StateProjection {
 public:
  // The tables of a domain's state (rec/, idx/, uniq/ per resource), opened nowhere: for
  // folds into a MemoryStore or into staging databases. A resource with context
  // multitenancy has none here: each tenant has its own (tenant_layout), and the fold
  // passes over its events.
  static StateProjection layout(const Domain& domain);
  // The layout, with its live databases opened (created, for a writer).
  static Result<StateProjection> open(Log& log, const Domain& domain);

  // Context multitenancy: the tables of one tenant's records of r, named
  // rec/<Resource>@<tenant>, idx/<Resource>@<tenant>/<attribute>,
  // uniq/<Resource>@<tenant>/<identity> (the tenant escaped, see tenant_part), opened
  // nowhere; the fold, reads and lookups take r's name as for any projection.
  static StateProjection tenant_layout(const Resource& r, std::string_view tenant);
  // The same with its databases opened in `txn`, created when `create` (a write
  // transaction); nullopt when they do not exist. The handles serve other transactions
  // once txn commits. Code store_full when the store may open no more databases.
  static Result<std::optional<StateProjection>> open_tenant(const Txn& txn, const Resource& r,
                                                            std::string_view tenant, bool create);
  // The same through the log, each database opened in a transaction of its own.
  static Result<StateProjection> open_tenant(Log& log, const Resource& r, std::string_view tenant);
  // The tenant as it appears in database names: bytes other than letters, digits, '-',
  // '_' and '.' as %XX, so names never collide and never hold a '/' or a NUL.
  static std::string tenant_part(std::string_view tenant);
  // The tenant a tenant_part spells, or nullopt when it is not one.
  static std::optional<std::string> tenant_of_part(std::string_view part);
  // The prefix of the names of r's tenants' record databases: "rec/<Resource>@".
  static std::string tenant_records_prefix(std::string_view resource) { return database_name(resource) + "@"; }
  // Whether `resource` keeps its records per tenant (it has no tables in this layout).
  bool tenanted(std::string_view resource) const { return tenanted_.count(resource) > 0; }

  // Every table, in a fixed order: per resource its records, indexes, identities.
  const std::vector<TableSpec>& tables() const { return layout_; }
  // The live databases, aligned with tables(); empty for a layout().
  const std::vector<Db>& dbs() const { return dbs_; }
  // The live tables in a transaction.
  LmdbStore store(Txn& txn) const { return LmdbStore(txn, dbs_, layout_); }
  LmdbStore store(const Txn& txn) const { return LmdbStore(txn, dbs_, layout_); }

  // The state as a rebuild target: its tables and apply(). Refers to this projection,
  // which must outlive it.
  RebuildTarget target() const;

  // Folds one appended event into its record: create inserts, update merges the
  // changes (a nil change removes the attribute), destroy deletes; indexes and
  // identities follow. Returns the record's new state, or nullopt after a destroy.
  // Unknown when the event does not fit the current state (a create of an existing
  // record, an update of a missing one); Conflict when an identity is taken.
  Result<std::optional<StoredRecord>> apply(StateStore& store, const Event& event) const;
  Result<std::optional<StoredRecord>> apply(Txn& txn, const Event& event) const;

  // The current record under the encoded key (see ashlar/model/key.hpp).
  Result<std::optional<StoredRecord>> get(const StateStore& store, std::string_view resource,
                                          std::string_view key_bytes) const;
  Result<std::optional<StoredRecord>> get(const Txn& txn, std::string_view resource,
                                          std::string_view key_bytes) const;
  // Visits a resource's records in primary key order until fn returns false.
  Result<void> scan(const StateStore& store, std::string_view resource,
                    const std::function<bool(const StoredRecord&)>& fn) const;
  Result<void> scan(const Txn& txn, std::string_view resource,
                    const std::function<bool(const StoredRecord&)>& fn) const;
  Result<std::uint64_t> count(const StateStore& store, std::string_view resource) const;
  Result<std::uint64_t> count(const Txn& txn, std::string_view resource) const;

  // The keys (encoded, see ashlar/model/key.hpp) of the records whose indexed attribute
  // holds `value`: one index lookup. Values too long for an LMDB key are indexed by a
  // prefix and a hash, so the caller checks the records it fetches.
  Result<std::vector<std::string>> lookup(const StateStore& store, std::string_view resource,
                                          std::string_view attribute, const Value& value) const;
  Result<std::vector<std::string>> lookup(const Txn& txn, std::string_view resource,
                                          std::string_view attribute, const Value& value) const;
  // The key of the record holding these identity values, or nullopt. One lookup.
  Result<std::optional<std::string>> lookup_identity(const StateStore& store, std::string_view resource,
                                                     std::string_view identity,
                                                     const std::vector<Value>& values) const;
  Result<std::optional<std::string>> lookup_identity(const Txn& txn, std::string_view resource,
                                                     std::string_view identity,
                                                     const std::vector<Value>& values) const;

  static std::string index_name(std::string_view resource, std::string_view attribute) {
    return "idx/" + std::string(resource) + "/" + std::string(attribute);
  }
  static std::string identity_name(std::string_view resource, std::string_view identity) {
    return "uniq/" + std::string(resource) + "/" + std::string(identity);
  }

  static std::string database_name(std::string_view resource) { return "rec/" + std::string(resource); }

 private:
  struct Index {
    std::string attribute;
    std::size_t table;
  };
  struct UniqueKey {
    Identity identity;
    std::size_t table;
  };
  struct Tables {
    std::size_t records = 0;
    std::vector<Index> indexes;
    std::vector<UniqueKey> identities;
    // The attributes the indexes and identities read: a change to none of them leaves
    // every index entry as it was.
    std::vector<std::string> indexed;
  };
  Result<const Tables*> tables(std::string_view resource) const;
  Result<void> update_indexes(StateStore& store, const Tables& t, const Event& event, const std::string& key,
                              const Fields* before, const Fields* after) const;
  void add_tables(const Resource& r, const std::string& stored_name);
  std::map<std::string, Tables, std::less<>> tables_;
  std::set<std::string, std::less<>> tenanted_;
  std::vector<TableSpec> layout_;
  std::vector<Db> dbs_;
};

// The index key of a value: its key encoding, or for long values a prefix of it and a
// BLAKE2b hash of the whole, so every key fits LMDB's 511 bytes.
ASHLAR_API std::string index_key(std::span<const Value> values);

// The encoded primary key of an event's record.
ASHLAR_API std::string event_key_bytes(const Event& event);

}  // namespace ashlar
