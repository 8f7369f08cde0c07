#pragma once
// The state as it stood right after a position in the log.
//
// Costs: the past state of one record folds only that record's events (its by_record
// entries up to the position: O(its versions)). Anything that needs more than records
// by primary key — a scan, an index or identity lookup, which relationship loads and
// filters on other attributes make — folds the whole log up to the position into memory
// once per PastState (O(events up to the position) time, O(records then) memory).

#include <ashlar/model/export.hpp>
#include <ashlar/projections/source.hpp>

#include <map>
#include <memory>

namespace ashlar {

class ASHLAR_API PastState final : public StateSource {
 public:
  // `txn` is a read snapshot of `log`; log, txn and projection (a layout suffices)
  // must outlive this. Positions past the head read as the head.
  PastState(const Log& log, const Txn& txn, const StateProjection& projection, std::uint64_t position,
            Upcast upcast = {})
      : log_(log), txn_(txn), projection_(projection), position_(position), upcast_(std::move(upcast)) {}

  std::uint64_t position() const { return position_; }

  Result<std::optional<StoredRecord>> get(std::string_view resource, std::string_view key_bytes) const override;
  Result<void> scan(std::string_view resource, const std::function<bool(const StoredRecord&)>& fn) const override;
  Result<std::vector<std::string>> lookup(std::string_view resource, std::string_view attribute,
                                          const Value& value) const override;
  Result<std::optional<std::string>> lookup_identity(std::string_view resource, std::string_view identity,
                                                     const std::vector<Value>& values) const override;
  // The past state of `tenant`'s records of a resource with context multitenancy: a fold
  // of that tenant's events of it alone. `domain` must outlive this.
  Result<const StateSource*> tenant(std::string_view resource, const std::string& tenant) const override;
  // Context multitenancy: resource names find their tables in `domain` (needed by tenant()).
  void set_domain(const Domain& domain) { domain_ = &domain; }

 private:
  Result<const ProjectedState*> everything() const;
  // Whether the fold takes this event (a tenant's PastState takes that tenant's alone).
  bool takes(const Event& event) const;

  const Domain* domain_ = nullptr;
  std::optional<std::string> tenant_;               // set on a tenant's PastState
  std::string resource_;                            // the resource of a tenant's PastState
  std::unique_ptr<StateProjection> own_layout_;     // a tenant's tables
  mutable std::map<std::string, std::unique_ptr<PastState>, std::less<>> tenants_;

  const Log& log_;
  const Txn& txn_;
  const StateProjection& projection_;
  std::uint64_t position_;
  Upcast upcast_;
  mutable std::unique_ptr<MemoryStore> folded_;
  mutable std::unique_ptr<ProjectedState> folded_state_;
};

// The events of one record up to `position` (0: all), oldest first, upcast: its history.
Result<std::vector<StoredEvent>> record_history(const Log& log, const Txn& txn, std::string_view resource,
                                                std::string_view key_bytes, std::uint64_t position = 0,
                                                const Upcast& upcast = {});

// The position of the last event at or before `time`; 0 when the log starts later.
// A binary search over event times (log2(head) event reads). Times follow log order
// but for actions that raced into the writer's queue, whose times may be out of order
// by microseconds; the answer is then a position p with time(p) <= time < time(p + 1).
ASHLAR_API Result<std::uint64_t> position_at(const Log& log, const Txn& txn, DateTime time);

}  // namespace ashlar
