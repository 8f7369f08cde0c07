#pragma once
// Reads of the past and of a record's history, shared by the Engine and StoreReader.

#include "reader.hpp"

#include <ashlar/projections/rebuild.hpp>

namespace ashlar::runtime {

// The position `as_of` names in the snapshot: Invalid (field "as_of") past the head or
// before the first event.
Result<std::uint64_t> resolve_as_of(const Log& log, const Txn& txn, const AsOf& as_of, const Resource& r);

// A read (Reader::run) of the live state or, with q.as_of, of the state then.
Result<std::vector<Record>> read_records(const Domain& domain, const Log& log, const StateProjection& state,
                                         const Upcast& upcast, const Resource& r, const Query& q);

// The record's events, oldest first, upcast. NotFound when the key has none.
Result<std::vector<StoredEvent>> record_events(const Log& log, const Upcast& upcast, const Resource& r,
                                               const Value& id);

}  // namespace ashlar::runtime
