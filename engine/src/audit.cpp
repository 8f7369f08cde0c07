#include "audit.hpp"

#include "authorize.hpp"
#include "changeset.hpp"
#include "record_access.hpp"

#include <ashlar/model/key.hpp>
#include <ashlar/projections/time_travel.hpp>

#include <fmt/format.h>

namespace ashlar::runtime {
namespace {

// Where the record stood as of `as_of`, for a get that did not find it then: "as of
// position 1: it was created at position 2". Only "as of ..." when it existed then (the
// read's filter left it out).
Result<std::string> absence(const Log& log, const Resource& r, const std::vector<Value>& key, const AsOf& as_of) {
  ASHLAR_TRY(txn, log.read());
  ASHLAR_TRY(position, resolve_as_of(log, *txn, as_of, r));
  ASHLAR_TRY(history, record_history(log, *txn, r.name(), encode_key(key)));
  std::string when = as_of.time ? "as of " + as_of.time->str() : fmt::format("as of position {}", *position);
  bool exists = false;
  std::string why = "it has never existed";
  for (const auto& e : *history) {
    if (e.event.position > *position) {
      if (!exists && why == "it has never existed") why = fmt::format("it was created at position {}", e.event.position);
      break;
    }
    exists = e.event.type != ActionType::destroy;
    if (!exists) why = fmt::format("it was destroyed at position {}", e.event.position);
  }
  return exists ? when : when + ": " + why;
}

}  // namespace

Error record_not_found(const Log& log, const Resource& r, const std::vector<Value>& key,
                       const std::optional<AsOf>& as_of, std::string action) {
  std::string message = fmt::format("no {} with primary key {}", r.name(), describe_key(key));
  if (as_of) {
    auto when = absence(log, r, key, *as_of);
    if (!when) return std::move(when).error();
    message += " " + *when;
  }
  Error e = Error::not_found(r.name(), std::move(message));
  e.action = std::move(action);
  return e;
}

Result<std::uint64_t> resolve_as_of(const Log& log, const Txn& txn, const AsOf& as_of, const Resource& r) {
  ASHLAR_TRY(head, log.head(txn));
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
                                         const TenantTables* tenants, const Upcast& upcast, const Resource& r,
                                         const Query& q) {
  ASHLAR_TRY(txn, log.read());
  EvalContext base;
  base.actor = q.actor;
  if (!q.as_of) {
    Reader reader(domain, log, state, tenants, *txn, base);
    return reader.run(r, q);
  }
  ASHLAR_TRY(position, resolve_as_of(log, *txn, *q.as_of, r));
  PastState past(log, *txn, state, *position, upcast);
  past.set_domain(domain);
  Reader reader(domain, past, base);
  return reader.run(r, q);
}

Result<const StateSource*> past_source(PastState& past, const Domain& domain, const Resource& r,
                                       const std::string& tenant) {
  if (r.multitenancy().strategy != Multitenancy::context) return &past;
  past.set_domain(domain);
  return past.tenant(r.name(), tenant);
}

Result<std::vector<StoredEvent>> record_events(const Log& log, const Upcast& upcast, const Resource& r,
                                               const Value& id) {
  ASHLAR_TRY(key, cast_id(r, "history", id));
  ASHLAR_TRY(txn, log.read());
  ASHLAR_TRY(events, record_history(log, *txn, r.name(), encode_key(*key), 0, upcast));
  if (auto negative = negative_zero_key(*key); events->empty() && negative) {  // see EngineImpl::current
    ASHLAR_TRY(older, record_history(log, *txn, r.name(), encode_key(*negative), 0, upcast));
    events = std::move(older);
  }
  if (events->empty())
    return fail(Error::not_found(r.name(), fmt::format("no {} with primary key {} has ever existed", r.name(),
                                                       describe_key(*key))));
  return events;
}

Result<GetPlan> plan_get(const Resource& r, const Value& id, const Query& query) {
  const Action* primary = r.primary_action(ActionType::read);
  std::string action = query.action.empty() && primary ? primary->name : query.action;
  ASHLAR_TRY(key, cast_id(r, action, id));
  return GetPlan{std::move(action), std::move(*key)};
}

Query pinned_query(const std::vector<std::string>& attributes, const std::vector<Value>& values, Query query) {
  std::optional<Expr> pinned;
  for (std::size_t i = 0; i < values.size(); ++i) {
    Expr term = dsl::ref(attributes[i]) == Expr(values[i]);
    pinned = pinned ? *pinned && term : term;
  }
  query.filter = query.filter ? *pinned && *query.filter : *pinned;
  query.limit = 1;
  return query;
}

Query pinned_query(const Resource& r, const std::vector<Value>& key, Query query) {
  std::vector<std::string> names;
  for (auto i : r.primary_key()) names.push_back(r.attributes()[i].name);
  return pinned_query(names, key, std::move(query));
}

Result<Record> found_one(const Log& log, const Resource& r, const GetPlan& plan, const Query& query,
                         Result<std::vector<Record>> found) {
  if (!found) return fail(found.error());
  if (found->empty()) {
    // Under policies the record may be there but hidden: where it stood in time is not said.
    auto as_of = authorizing(r, query.authorize) ? std::nullopt : query.as_of;
    return fail(record_not_found(log, r, plan.key, as_of, plan.action));
  }
  RecordAccess::set_cursor(found->front(), {});
  return std::move(found->front());
}

}  // namespace ashlar::runtime
