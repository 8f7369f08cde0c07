#include "audit.hpp"

#include "changeset.hpp"

#include <ashlar/model/key.hpp>
#include <ashlar/projections/time_travel.hpp>

#include <fmt/format.h>

namespace ashlar::runtime {

Result<std::uint64_t> resolve_as_of(const Log& log, const Txn& txn, const AsOf& as_of, const Resource& r) {
  auto head = log.head(txn);
  if (!head) return fail(head.error());
  auto bad = [&](std::string code, std::string message) {
    return fail(Error::invalid(r.name(), {}, {{"as_of", std::move(code), std::move(message)}}));
  };
  if (as_of.time) return position_at(log, txn, *as_of.time);
  if (as_of.position == 0) return bad("invalid", "a position is 1 or more (the first event is 1)");
  if (as_of.position > head->position)
    return bad("beyond_head", fmt::format("position {} is past the head: the log has {} events", as_of.position,
                                          head->position));
  return as_of.position;
}

Result<std::vector<Record>> read_records(const Domain& domain, const Log& log, const StateProjection& state,
                                         const Upcast& upcast, const Resource& r, const Query& q) {
  auto txn = log.read();
  if (!txn) return fail(txn.error());
  EvalContext base;
  base.actor = q.actor;
  if (!q.as_of) {
    Reader reader(domain, log, state, *txn, base);
    return reader.run(r, q);
  }
  auto position = resolve_as_of(log, *txn, *q.as_of, r);
  if (!position) return fail(position.error());
  PastState past(log, *txn, state, *position, upcast);
  Reader reader(domain, past, base);
  return reader.run(r, q);
}

Result<std::vector<StoredEvent>> record_events(const Log& log, const Upcast& upcast, const Resource& r,
                                               const Value& id) {
  auto key = cast_id(r, "history", id);
  if (!key) return fail(key.error());
  auto txn = log.read();
  if (!txn) return fail(txn.error());
  auto events = record_history(log, *txn, r.name(), encode_key(*key), 0, upcast);
  if (!events) return fail(events.error());
  if (events->empty())
    return fail(Error::not_found(r.name(), fmt::format("no {} with primary key {} has ever existed", r.name(),
                                                       describe_key(*key))));
  return events;
}

}  // namespace ashlar::runtime
