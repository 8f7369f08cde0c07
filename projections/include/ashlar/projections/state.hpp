#pragma once
// The built-in state projection: each resource's current records by primary key, in
// the database rec/<Resource>, folded from the events in the same write transaction
// that appends them.

#include <ashlar/eventlog/log.hpp>

#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace ashlar {

class StateProjection {
 public:
  // Opens (creating, for a writer) rec/<Resource> for every resource of the domain.
  static Result<StateProjection> open(Log& log, const Domain& domain);

  // Folds one appended event into its record: create inserts, update merges the
  // changes (a nil change removes the attribute), destroy deletes. Returns the record's
  // new state, or nullopt after a destroy. Unknown when the event does not fit the
  // current state (a create of an existing record, an update of a missing one).
  Result<std::optional<StoredRecord>> apply(Txn& txn, const Event& event) const;

  // The current record under the encoded key (see ashlar/model/key.hpp).
  Result<std::optional<StoredRecord>> get(const Txn& txn, std::string_view resource,
                                          std::string_view key_bytes) const;
  // Visits a resource's records in primary key order until fn returns false.
  Result<void> scan(const Txn& txn, std::string_view resource,
                    const std::function<bool(const StoredRecord&)>& fn) const;
  Result<std::uint64_t> count(const Txn& txn, std::string_view resource) const;

  // The keys (encoded, see ashlar/model/key.hpp) of the records whose indexed attribute
  // holds `value`: one index lookup. Values too long for an LMDB key are indexed by a
  // prefix and a hash, so the caller checks the records it fetches.
  Result<std::vector<std::string>> lookup(const Txn& txn, std::string_view resource,
                                          std::string_view attribute, const Value& value) const;
  // The key of the record holding these identity values, or nullopt. One lookup.
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
    Db db;
  };
  struct UniqueKey {
    Identity identity;
    Db db;
  };
  struct Tables {
    Db records;
    std::vector<Index> indexes;
    std::vector<UniqueKey> identities;
  };
  Result<const Tables*> tables(std::string_view resource) const;
  Result<Db> db(std::string_view resource) const;
  Result<void> update_indexes(Txn& txn, const Event& event, const std::string& key, const Fields* before,
                              const Fields* after) const;
  std::map<std::string, Tables, std::less<>> tables_;
};

// The index key of a value: its key encoding, or for long values a prefix of it and a
// BLAKE2b hash of the whole, so every key fits LMDB's 511 bytes.
std::string index_key(std::span<const Value> values);

// The encoded primary key of an event's record.
std::string event_key_bytes(const Event& event);

}  // namespace ashlar
