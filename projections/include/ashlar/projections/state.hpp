#pragma once
// The built-in state projection: each resource's current records by primary key, in
// the database rec/<Resource>, folded from the events in the same write transaction
// that appends them.

#include <ashlar/eventlog/log.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>

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

  static std::string database_name(std::string_view resource) { return "rec/" + std::string(resource); }

 private:
  Result<Db> db(std::string_view resource) const;
  std::map<std::string, Db, std::less<>> dbs_;
};

// The encoded primary key of an event's record.
std::string event_key_bytes(const Event& event);

}  // namespace ashlar
