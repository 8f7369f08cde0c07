#pragma once
// Reads of the past and of a record's history, shared by the Engine and StoreReader.

#include "reader.hpp"

#include <ashlar/projections/rebuild.hpp>
#include <ashlar/projections/time_travel.hpp>

namespace ashlar::runtime {

// The position `as_of` names in the snapshot: Invalid (field "as_of") past the head or
// before the first event.
Result<std::uint64_t> resolve_as_of(const Log& log, const Txn& txn, const AsOf& as_of, const Resource& r);

// A read (Reader::run) of the live state or, with q.as_of, of the state then.
Result<std::vector<Record>> read_records(const Domain& domain, const Log& log, const StateProjection& state,
                                         const TenantTables* tenants, const Upcast& upcast, const Resource& r,
                                         const Query& q);

// What a get that found nothing says: "no Ticket with primary key K", and as of a past
// position or time also why: "... as of position 1: it was created at position 2" (or
// "it was destroyed at position 5", "it has never existed"). Shared by Engine::get,
// StoreReader::get and so the command line. A log that cannot be read to say why gives
// its own error instead.
Error record_not_found(const Log& log, const Resource& r, const std::vector<Value>& key,
                       const std::optional<AsOf>& as_of, std::string action);

// Engine::get and StoreReader::get, in three steps around the read each makes. A get runs
// the read action named in the query (else the primary read) with the id cast to the
// primary key: Invalid naming the key attribute when it does not cast.
struct GetPlan {
  std::string action;
  std::vector<Value> key;
};
Result<GetPlan> plan_get(const Resource& r, const Value& id, const Query& query);
// The query as a read whose filter pins the primary key, so the plan is one lookup.
Query pinned_query(const Resource& r, const std::vector<Value>& key, Query query);
// The same, pinning the named attributes to `values` (an identity's).
Query pinned_query(const std::vector<std::string>& attributes, const std::vector<Value>& values, Query query);
// The one record the read found, without a cursor (a get has no page to continue), or
// record_not_found.
Result<Record> found_one(const Log& log, const Resource& r, const GetPlan& plan, const Query& query,
                         Result<std::vector<Record>> found);

// Where r's records are in `past`: its own fold, or for context multitenancy a fold of
// `tenant`'s events of r alone. `domain` must outlive past.
Result<const StateSource*> past_source(PastState& past, const Domain& domain, const Resource& r,
                                       const std::string& tenant);

// The record's events, oldest first, upcast. NotFound when the key has none.
Result<std::vector<StoredEvent>> record_events(const Log& log, const Upcast& upcast, const Resource& r,
                                               const Value& id);

}  // namespace ashlar::runtime
