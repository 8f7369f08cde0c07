#pragma once
// Deciding a request by the resource's policies (ashlar/model/policy.hpp): for reads, the
// filter the policies add; for writes and generic actions, authorized or Forbidden with
// the policy and the check that decided.

#include <ashlar/model/resource.hpp>

#include <functional>
#include <optional>

namespace ashlar {
class Record;
struct CallOptions;
class Txn;
}  // namespace ashlar

namespace ashlar::runtime {

struct EngineImpl;

// Whether a request is decided by policies: the resource has some and the caller did not
// turn authorization off (Ash's authorize?: default on).
inline bool authorizing(const Resource& r, const std::optional<bool>& authorize) {
  return !r.policies().empty() && authorize.value_or(true);
}

// Whether the resource's policies hold checks written in C++ (checks::custom and
// custom_filter): user code, run again when the policies decide in a write transaction.
bool custom_checks(const Resource& r);

// The filter a read through request.action adds: the literal true when every record may
// be read, false when none may. Fails with a custom check's error.
Result<Expr> read_filter(const Resource& r, const PolicyRequest& request);

// Whether the actor may read `field` of r by its field policies, as read_filter is for a
// record: the literal true when no field policy names it (or "*"), false when it may read
// it on no record. Fails with a custom check's error.
Result<Expr> field_filter(const Resource& r, std::string_view field, const PolicyRequest& request);

// Whether a filter check's expression holds for the record a write acts on.
using FilterHolds = std::function<Result<bool>(const Expr&)>;

// A write or generic action: each filter check is asked of `holds` (null: it does not
// hold, there is no record). Forbidden naming the policy that forbade it and the check
// that decided (never a record's values); a custom check's error when one fails.
Result<void> authorize_write(const Resource& r, const PolicyRequest& request, const FilterHolds* holds);

// Whether the call's actor may read `record` through the resource's primary read action,
// in `txn`, relationship paths read in the call's tenant (true when the call does not
// authorize or there is no read action). A lookup by id for
// a write gives NotFound for a record the actor may not read, as if it were not there:
// never Forbidden, so neither its existence nor its version nor its values reach the
// caller. Fails with a custom check's error.
Result<bool> readable(const EngineImpl& impl, const Txn& txn, const Resource& r, const Record& record,
                      const CallOptions& call);

}  // namespace ashlar::runtime
