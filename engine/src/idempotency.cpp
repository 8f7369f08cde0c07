// Idempotent actions: a retry carrying the key of an action already in the log gets that
// action's result back, read from the log, and nothing runs or is appended again.
#include "audit.hpp"
#include "authorize.hpp"
#include "changeset.hpp"
#include "impl.hpp"

#include <ashlar/model/key.hpp>
#include <ashlar/projections/time_travel.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace ashlar {
namespace {

Fields sorted(Fields fields) {
  std::sort(fields.begin(), fields.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return fields;
}

// The names of the inputs given to one call and not to the other, or with other values.
std::vector<std::string> differing(const Fields& first, const Fields& retry) {
  std::vector<std::string> names;
  auto note = [&](const std::string& name) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  };
  for (const auto& [name, value] : first) {
    const Value* other = find_field(retry, name);
    if (!other || *other != value) note(name);
  }
  for (const auto& [name, value] : retry)
    if (!find_field(first, name)) note(name);
  std::sort(names.begin(), names.end());
  return names;
}

Error reused(const Changeset& cs, const std::string& key, std::string why) {
  Error e = Error::conflict(cs.resource().name(), fmt::format("idempotency key \"{}\" {}", key, why));
  e.action = cs.action().name;
  return e;
}

// The record to update or destroy; when it is gone and the call retries an idempotent
// action on it, the record as that action found it, so the retry can build.
Result<std::optional<Record>> find_or_retried(EngineImpl& impl, const Resource& r, const std::vector<Value>& key,
                                              const CallOptions& call) {
  auto found = impl.find(r, key, call.tenant);
  if (!found || *found || call.idempotency_key.empty()) return found;
  ASHLAR_TRY(txn, impl.log->read());
  ASHLAR_TRY(position, impl.log->idempotent_position(*txn, call.tenant, call.idempotency_key));
  if (!*position) return found;
  ASHLAR_TRY(stored, impl.log->event_at(*txn, **position));
  if (!*stored || (*stored)->event.resource != r.name()) return found;
  std::vector<Value> first_key;
  for (const auto& [name, value] : (*stored)->event.key) first_key.push_back(value);
  if (first_key != key) return found;
  PastState past(*impl.log, *txn, impl.state, **position - 1, impl.replay.upcast());
  ASHLAR_TRY(source, runtime::past_source(past, impl.domain, r, call.tenant));
  ASHLAR_TRY(before, (*source)->get(r.name(), encode_key(key)));
  if (!*before) return found;
  return std::optional<Record>{impl.to_record(r, **before)};
}

}  // namespace

Result<std::optional<Record>> EngineImpl::find(const Resource& r, const std::vector<Value>& key,
                                                 const CallOptions& call) {
  ASHLAR_TRY(found, find_or_retried(*this, r, key, call));
  if (!*found || !runtime::authorizing(r, call.authorize)) return found;
  // One the actor may not read is not there for it (a second read only under policies).
  ASHLAR_TRY(visible, reading([&](const Txn& txn) {
    return runtime::readable(*this, txn, r, **found, call);
  }));
  if (!*visible) return std::optional<Record>{};
  return found;
}

Result<std::optional<Record>> EngineImpl::idempotent_result(const Txn* txn, Changeset& cs) const {
  const CallOptions& call = ChangesetAccess::call(cs);
  if (call.idempotency_key.empty()) return std::optional<Record>{};
  if (call.idempotency_key.size() > Log::kMaxIdempotencyKey)
    return fail(Error::invalid(cs.resource().name(), cs.action().name,
                               {{"idempotency_key", "too_long",
                                 fmt::format("is {} bytes; an idempotency key is at most {}",
                                             call.idempotency_key.size(), Log::kMaxIdempotencyKey)}}));
  std::optional<Txn> own;
  if (!txn) {
    ASHLAR_TRY(snapshot, log->read());
    own = std::move(*snapshot);
    txn = &*own;
  }
  ASHLAR_TRY(position, log->idempotent_position(*txn, call.tenant, call.idempotency_key));
  if (!*position) return std::optional<Record>{};
  ASHLAR_TRY(stored, log->event_at(*txn, **position));
  if (!*stored)
    return fail(Error::unknown(fmt::format("the store is corrupted: idempotency key \"{}\" names event {}, which is "
                                           "not in the log",
                                           call.idempotency_key, **position)));
  const Event& first = (*stored)->event;
  const Resource& r = cs.resource();
  // Before anything of the first call is told: a key stands for one actor's call.
  if (first.actor != cs.actor()) return fail(reused(cs, call.idempotency_key, "was first used by another actor"));
  if (first.resource != r.name() || first.action != cs.action().name)
    return fail(reused(cs, call.idempotency_key,
                       fmt::format("was first used for {}.{}; a key stands for one action", first.resource,
                                   first.action)));
  std::vector<Value> key;
  for (const auto& [name, value] : first.key) key.push_back(value);
  if (cs.action().type != ActionType::create) {
    std::vector<Value> target;
    for (auto i : r.primary_key()) target.push_back(cs.attribute(r.attributes()[i].name));
    if (target != key)
      return fail(reused(cs, call.idempotency_key,
                         fmt::format("was first used on {} {}, not {}", r.name(), describe_key(key),
                                     describe_key(target))));
  }
  auto names = differing(sorted(first.inputs), sorted(ChangesetAccess::inputs(cs)));
  if (!names.empty()) {
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    Error e = reused(cs, call.idempotency_key, fmt::format("was first used with other inputs ({} {})", list, names.size() == 1 ? "differs" : "differ"));
    for (const auto& n : names)
      e.fields.push_back({n, "idempotency_mismatch", "differs from the call that first used this idempotency key"});
    return fail(std::move(e));
  }
  // The result the first call returned: the record right after its event, or for a
  // destroy the record right before it.
  std::uint64_t as_of = first.type == ActionType::destroy ? **position - 1 : **position;
  PastState past(*log, *txn, state, as_of, replay.upcast());
  ASHLAR_TRY(record, past.get(r.name(), encode_key(key)));
  if (!*record)
    return fail(Error::unknown(fmt::format("{} {} is missing at position {}, where idempotency key \"{}\" left it",
                                           r.name(), describe_key(key), as_of, call.idempotency_key)));
  Record result = to_record(r, **record);
  // The same actor, as the first call was: but a record it may no longer read is not there
  // for it. "No longer": the record as it is now decides, or, once it is gone (a destroy,
  // say), as the first call left it. Checks of its own the read policies run are user
  // code, in a write transaction when this is one.
  std::optional<Record> now;
  if (runtime::authorizing(r, call.authorize)) {
    ASHLAR_TRY(stored_now, current(*txn, r, key, call.tenant));
    if (*stored_now) now = to_record(r, **stored_now);
  }
  if (runtime::custom_checks(r)) user_code_runs();
  ASHLAR_TRY(visible, runtime::readable(*this, *txn, r, now ? *now : result, call));
  if (!*visible) {
    Error e = not_found(r, key);
    e.action = cs.action().name;
    return fail(std::move(e));
  }
  return std::optional<Record>{std::move(result)};
}

}  // namespace ashlar
