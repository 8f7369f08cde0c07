// Policies decided: checks top to bottom, the first that decides wins; every policy that
// applies must authorize; a bypass that authorizes answers for the policies after it.
// Reads turn the decision into a filter (constant-folded, so policies of simple checks
// cost nothing per record); writes decide it against the record.
#include "authorize.hpp"

#include "user_code.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace ashlar::runtime {
namespace {

std::optional<bool> literal_bool(const Expr& e) {
  if (!e.is_literal()) return std::nullopt;
  const bool* b = e.literal().as_bool();
  return b ? std::optional<bool>(*b) : std::nullopt;
}

Expr and_(const Expr& a, const Expr& b) {
  if (auto x = literal_bool(a)) return *x ? b : Expr(false);
  if (auto y = literal_bool(b)) return *y ? a : Expr(false);
  return a && b;
}

Expr or_(const Expr& a, const Expr& b) {
  if (auto x = literal_bool(a)) return *x ? Expr(true) : b;
  if (auto y = literal_bool(b)) return *y ? Expr(true) : a;
  return a || b;
}

Expr not_(const Expr& a) {
  if (auto x = literal_bool(a)) return Expr(!*x);
  return !a;
}

Value actor_value(const Value& actor, const std::vector<std::string>& path) {
  const Value* at = &actor;
  for (const auto& key : path) {
    const Map* map = at->as_map();
    const Value* next = map ? find_field(*map, key) : nullptr;
    if (!next) return Value();
    at = next;
  }
  return *at;
}

// A check's value for the request: a literal bool, or (a filter check in a read, when
// `holds` is null and `filtering`) its expression, with nil counted as false.
Result<Expr> check_value(const Resource& r, const Check& c, const PolicyRequest& q, const FilterHolds* holds,
                         bool filtering) {
  const std::string& action = q.action ? q.action->name : std::string();
  switch (c.kind) {
    case CheckKind::always: return Expr(true);
    case CheckKind::never: return Expr(false);
    case CheckKind::actor_present: return Expr(!q.actor.is_null());
    case CheckKind::actor_attribute_equals: {
      Value v = actor_value(q.actor, c.names);
      auto same = matches(Expr(v) == Expr(c.value), EvalContext{});
      return Expr(same && *same);  // kinds that do not compare are not equal
    }
    case CheckKind::action_type:
      return Expr(q.action && std::find(c.types.begin(), c.types.end(), q.action->type) != c.types.end());
    case CheckKind::action:
      return Expr(q.action && std::find(c.names.begin(), c.names.end(), q.action->name) != c.names.end());
    case CheckKind::changing_attributes:
      return Expr(q.changing && std::any_of(c.names.begin(), c.names.end(), [&](const auto& n) { return q.changing(n); }));
    case CheckKind::custom: {
      if (!c.simple) return Expr(false);
      ASHLAR_TRY(hit, guarded(r.name(), action, fmt::format("policy check {}", c.description), [&] { return c.simple(q); }));
      return Expr(*hit);
    }
    case CheckKind::filter:
    case CheckKind::custom_filter:
    case CheckKind::relates_to_actor_via: break;
  }
  Expr filter;
  if (c.kind != CheckKind::custom_filter) {
    filter = *c.filter;
  } else {
    ASHLAR_TRY(made, guarded(r.name(), action, fmt::format("policy check {}", c.description), [&] { return c.filter_fn(q); }));
    filter = std::move(*made);
  }
  if (holds) {
    ASHLAR_TRY(hit, (*holds)(filter));
    return Expr(*hit);
  }
  if (!filtering) return Expr(false);
  return dsl::if_(filter, Expr(true), Expr(false));
}

Result<bool> applies(const Resource& r, const Policy& p, const PolicyRequest& q) {
  for (const auto& c : p.condition) {
    ASHLAR_TRY(v, check_value(r, c, q, nullptr, false));
    if (!literal_bool(*v).value_or(false)) return false;
  }
  return true;
}

// The policy as one expression, from its last check up: authorize_if c → c or rest, ...
Result<Expr> policy_filter(const Resource& r, const Policy& p, const PolicyRequest& q) {
  Expr acc(false);  // no check decided: forbidden
  for (auto it = p.steps.rbegin(); it != p.steps.rend(); ++it) {
    ASHLAR_TRY(c, check_value(r, it->check, q, nullptr, true));
    switch (it->outcome) {
      case CheckOutcome::authorize_if: acc = or_(*c, acc); break;
      case CheckOutcome::forbid_if: acc = and_(not_(*c), acc); break;
      case CheckOutcome::authorize_unless: acc = or_(not_(*c), acc); break;
      case CheckOutcome::forbid_unless: acc = and_(*c, acc); break;
    }
  }
  return acc;
}

struct Decision {
  bool authorized = false;
  std::optional<std::size_t> step;  // the check that decided; nullopt: none did
};

Result<Decision> decide(const Resource& r, const Policy& p, const PolicyRequest& q, const FilterHolds* holds) {
  for (std::size_t i = 0; i < p.steps.size(); ++i) {
    ASHLAR_TRY(c, check_value(r, p.steps[i].check, q, holds, false));
    bool hit = literal_bool(*c).value_or(false);
    switch (p.steps[i].outcome) {
      case CheckOutcome::authorize_if: if (hit) return Decision{true, i}; break;
      case CheckOutcome::forbid_if: if (hit) return Decision{false, i}; break;
      case CheckOutcome::authorize_unless: if (!hit) return Decision{true, i}; break;
      case CheckOutcome::forbid_unless: if (!hit) return Decision{false, i}; break;
    }
  }
  return Decision{};
}

std::string breakdown(const Policy& p, std::size_t index, const Decision& d) {
  std::string policy = describe_policy(p, index);
  if (!d.step) {
    if (p.steps.empty()) return fmt::format("{} forbids it: it has no checks", policy);
    // Each check as it stood: an _if check that did not decide does not hold, an _unless one holds.
    std::string checks;
    for (const auto& step : p.steps) {
      bool unless = step.outcome == CheckOutcome::authorize_unless || step.outcome == CheckOutcome::forbid_unless;
      checks += fmt::format("{}{} {} {}", checks.empty() ? "" : "; ", to_string(step.outcome), step.check.description,
                            unless ? "holds" : "does not hold");
    }
    return fmt::format("{} forbids it: none of its checks decided ({})", policy, checks);
  }
  const PolicyStep& step = p.steps[*d.step];
  bool holds = step.outcome == CheckOutcome::forbid_if;
  return fmt::format("{} forbids it: {} {} {}", policy, to_string(step.outcome), step.check.description,
                     holds ? "holds" : "does not hold");
}

// The filter of policies read as one: what read_filter and field_filter share.
Result<Expr> combined_filter(const Resource& r, const std::vector<const Policy*>& policies, const PolicyRequest& q) {
  std::vector<std::pair<const Policy*, Expr>> applying;
  bool regular = false;
  for (const Policy* p : policies) {
    ASHLAR_TRY(hit, applies(r, *p, q));
    if (!*hit) continue;
    ASHLAR_TRY(f, policy_filter(r, *p, q));
    applying.emplace_back(p, std::move(*f));
    regular = regular || !p->bypass;
  }
  // Past the last policy: authorized when some policy that is not a bypass applied.
  Expr acc(regular);
  for (auto it = applying.rbegin(); it != applying.rend(); ++it)
    acc = it->first->bypass ? or_(it->second, acc) : and_(it->second, acc);
  return acc;
}

}  // namespace

bool custom_checks(const Resource& r) {
  auto custom = [](const Check& c) { return c.kind == CheckKind::custom || c.kind == CheckKind::custom_filter; };
  for (const auto& policy : r.policies()) {
    if (std::any_of(policy.condition.begin(), policy.condition.end(), custom)) return true;
    for (const auto& step : policy.steps)
      if (custom(step.check)) return true;
  }
  return false;
}

Result<Expr> read_filter(const Resource& r, const PolicyRequest& q) {
  std::vector<const Policy*> all;
  for (const auto& p : r.policies()) all.push_back(&p);
  return combined_filter(r, all, q);
}

Result<Expr> field_filter(const Resource& r, std::string_view field, const PolicyRequest& q) {
  std::vector<const Policy*> covering;
  for (const auto& p : r.field_policies())
    if (p.covers(field)) covering.push_back(&p.policy);
  if (covering.empty()) return Expr(true);
  return combined_filter(r, covering, q);
}

Result<void> authorize_write(const Resource& r, const PolicyRequest& q, const FilterHolds* holds) {
  const std::string action = q.action ? q.action->name : std::string();
  bool regular = false;
  std::optional<std::size_t> failed_bypass;
  for (std::size_t i = 0; i < r.policies().size(); ++i) {
    const Policy& p = r.policies()[i];
    ASHLAR_TRY(hit, applies(r, p, q));
    if (!*hit) continue;
    ASHLAR_TRY(d, decide(r, p, q, holds));
    if (p.bypass) {
      if (d->authorized) return {};
      if (!failed_bypass) failed_bypass = i;
      continue;
    }
    regular = true;
    if (!d->authorized) return fail(Error::forbidden(r.name(), action, breakdown(p, i, *d)));
  }
  if (regular) return {};
  std::string message = fmt::format("no policy applies to {}.{}", r.name(), action);
  if (failed_bypass)
    message += fmt::format(", and {} did not authorize", describe_policy(r.policies()[*failed_bypass], *failed_bypass));
  return fail(Error::forbidden(r.name(), action, std::move(message)));
}

}  // namespace ashlar::runtime
