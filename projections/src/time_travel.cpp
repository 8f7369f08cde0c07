#include <ashlar/projections/time_travel.hpp>

#include <ashlar/model/key.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace ashlar {
namespace {

// Whether the event is of the record: a damaged history index may name another's.
bool of_record(const Event& e, std::string_view resource, std::string_view key_bytes) {
  if (e.resource != resource) return false;
  std::vector<Value> key;
  key.reserve(e.key.size());
  for (const auto& [name, value] : e.key) key.push_back(value);
  return encode_key(key) == key_bytes;
}

// The record's events up to `position` (0: all), newest first; with since_create, only
// back to its latest create (what its state at `position` folds). With a tenant, only the
// events of calls in that tenant (a key of a context-multitenant resource may be used by
// several tenants).
Result<std::vector<StoredEvent>> events_back(const Log& log, const Txn& txn, std::string_view resource,
                                             std::string_view key_bytes, std::uint64_t position, bool since_create,
                                             const std::optional<std::string>& tenant = std::nullopt) {
  ASHLAR_TRY(last, log.last_version(txn, resource, key_bytes));
  std::vector<StoredEvent> out;
  std::optional<Error> misplaced;
  auto scanned = log.scan_record_back(txn, resource, key_bytes, *last, [&](const StoredEvent& e) {
    if (!of_record(e.event, resource, key_bytes)) {
      misplaced = Error::unknown(fmt::format("the store is corrupted: the history index of {} names event {}, which "
                                             "is not that record's (ashlar verify tells more)",
                                             resource, e.event.position))
                      .with_code(codes::kStoreDamaged);
      return false;
    }
    if (position != 0 && e.event.position > position) return true;
    if (tenant && e.event.tenant != *tenant) return true;
    out.push_back(e);
    return !(since_create && e.event.type == ActionType::create);
  });
  if (!scanned) return fail(scanned.error());
  if (misplaced) return fail(std::move(*misplaced));
  return out;
}

}  // namespace

Result<std::vector<StoredEvent>> record_history(const Log& log, const Txn& txn, std::string_view resource,
                                                std::string_view key_bytes, std::uint64_t position,
                                                const Upcast& upcast) {
  ASHLAR_TRY(events, events_back(log, txn, resource, key_bytes, position, false));
  std::reverse(events->begin(), events->end());
  if (upcast)
    for (auto& e : *events) ASHLAR_TRY_VOID(upcast(e.event));
  return events;
}

Result<std::optional<StoredRecord>> PastState::get(std::string_view resource, std::string_view key_bytes) const {
  if (folded_state_) return folded_state_->get(resource, key_bytes);
  if (position_ == 0) return std::optional<StoredRecord>{};  // before the first event
  ASHLAR_TRY(events, events_back(log_, txn_, resource, key_bytes, position_, true, tenant_));
  if (events->empty() || events->front().event.type == ActionType::destroy) return std::optional<StoredRecord>{};
  MemoryStore one(projection_.tables());
  for (auto it = events->rbegin(); it != events->rend(); ++it) {
    if (upcast_) ASHLAR_TRY_VOID(upcast_(it->event));
    ASHLAR_TRY(applied, projection_.apply(one, it->event));
  }
  return projection_.get(one, resource, key_bytes);
}

Result<const ProjectedState*> PastState::everything() const {
  if (folded_state_) return folded_state_.get();
  auto store = std::make_unique<MemoryStore>(projection_.tables());
  RebuildTarget target = projection_.target();
  if (tenant_)
    target.apply = [this](StateStore& tables, const StoredEvent& stored) -> Result<void> {
      if (!takes(stored.event)) return {};
      ASHLAR_TRY(applied, projection_.apply(tables, stored.event));
      return {};
    };
  std::vector<StateStore*> stores{store.get()};
  if (position_ > 0) {
    ASHLAR_TRY(folded, fold(log_, txn_, 1, position_, {&target}, stores, upcast_));
  }
  folded_ = std::move(store);
  folded_state_ = std::make_unique<ProjectedState>(projection_, *folded_);
  return folded_state_.get();
}

Result<void> PastState::scan(std::string_view resource, const std::function<bool(const StoredRecord&)>& fn) const {
  ASHLAR_TRY(all, everything());
  return (*all)->scan(resource, fn);
}

Result<std::vector<std::string>> PastState::lookup(std::string_view resource, std::string_view attribute,
                                                   const Value& value) const {
  ASHLAR_TRY(all, everything());
  return (*all)->lookup(resource, attribute, value);
}

Result<std::optional<std::string>> PastState::lookup_identity(std::string_view resource, std::string_view identity,
                                                              const std::vector<Value>& values) const {
  ASHLAR_TRY(all, everything());
  return (*all)->lookup_identity(resource, identity, values);
}

Result<const StateSource*> StateSource::tenant(std::string_view resource, const std::string&) const {
  return fail(Error::framework(fmt::format("this state keeps no tenant's records of {}", resource)));
}

bool PastState::takes(const Event& event) const {
  return !tenant_ || (event.tenant == *tenant_ && event.resource == resource_);
}

Result<const StateSource*> PastState::tenant(std::string_view resource, const std::string& tenant) const {
  const Resource* r = domain_ ? domain_->resource(resource) : nullptr;
  if (!r || r->multitenancy().strategy != Multitenancy::context)
    return fail(Error::framework(fmt::format("{} keeps no records per tenant", resource)));
  std::string name = std::string(resource) + '\0' + tenant;
  auto it = tenants_.find(name);
  if (it == tenants_.end()) {
    auto layout = std::make_unique<StateProjection>(StateProjection::tenant_layout(*r, tenant));
    auto past = std::make_unique<PastState>(log_, txn_, *layout, position_, upcast_);
    past->tenant_ = tenant;
    past->resource_ = r->name();
    past->own_layout_ = std::move(layout);
    it = tenants_.emplace(std::move(name), std::move(past)).first;
  }
  return it->second.get();
}

Result<std::uint64_t> position_at(const Log& log, const Txn& txn, DateTime time) {
  ASHLAR_TRY(head, log.head(txn));
  // The answer lies in [low, high]: time(low) <= time (or low = 0), time(high + 1) > time.
  std::uint64_t low = 0, high = head->position;
  while (low < high) {
    std::uint64_t mid = low + (high - low + 1) / 2;
    ASHLAR_TRY(e, log.event_at(txn, mid));
    if (!*e) return fail(Error::unknown(fmt::format("the store is corrupted: event {} is missing", mid)));
    if ((*e)->event.time_micros <= time.micros)
      low = mid;
    else
      high = mid - 1;
  }
  return low;
}

}  // namespace ashlar
