#pragma once
// Policies, after Ash's policy authorizer: who may run which action on which records.
//
//   using namespace ashlar::dsl;
//   resource("Post")
//     ...
//     .bypass(actor_attribute_equals("role", Atom{"admin"}), {authorize_if(always())})
//     .policy(action_type(ActionType::read), {authorize_if(expr(ref("author_id") == actor("id"))),
//                                             authorize_if(expr(ref("published") == true))})
//     .policy(action("publish"), {forbid_unless(actor_present()),
//                                 authorize_if(expr(ref("author_id") == actor("id")))},
//             "authors publish their own posts");
//
// A policy applies to a request when every check of its condition holds. Its checks run
// top to bottom; the first that decides wins (authorize_if decides when its check holds,
// forbid_unless when it does not, ...), and a policy none of whose checks decides
// forbids. Every policy that applies must authorize, and a request no policy applies to
// is forbidden. A bypass that applies and authorizes authorizes on its own: the policies
// after it are not asked (those before it still are).
//
// Simple checks are decided once per request. Filter checks (expr(...), custom_filter)
// are expressions over the record: reads keep only the records they hold for (the others
// are left out, not an error), writes evaluate them against the record before the change
// (a create: the record as it would be) and are refused with a Forbidden error.

#include <ashlar/model/export.hpp>
#include <ashlar/model/expr.hpp>
#include <ashlar/model/result.hpp>
#include <ashlar/model/value.hpp>

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ashlar {

class Resource;
struct Action;
enum class ActionType : std::uint8_t;

// What a check is asked about: one request, before any record is read.
struct ASHLAR_API PolicyRequest {
  const Resource* resource = nullptr;
  const Action* action = nullptr;
  Value actor{};                  // nil when there is none
  const Fields* arguments = nullptr;  // the action's arguments, cast; may be null
  // Whether the action changes the attribute; null for reads and generic actions.
  std::function<bool(std::string_view)> changing{};
};

enum class CheckKind : std::uint8_t {
  always,
  never,
  actor_present,
  actor_attribute_equals,  // path, value
  action_type,             // types
  action,                  // names: action names
  changing_attributes,     // names: attributes
  filter,                  // filter: an expression over the record
  custom,                  // simple: decided once per request
  custom_filter,           // filter_fn: returns an expression over the record
  relates_to_actor_via,    // names: relationship path; value: the actor's key. filter: set by build()
};

// One check. Build them with the functions of namespace checks (also in dsl).
struct ASHLAR_API Check {
  CheckKind kind = CheckKind::always;
  std::string description{};  // how breakdowns name it: "actor_present()", "expr(author_id == actor(:id))"
  std::vector<std::string> names{};
  Value value{};
  std::vector<ActionType> types{};
  std::optional<Expr> filter{};
  std::function<Result<bool>(const PolicyRequest&)> simple{};
  std::function<Result<Expr>(const PolicyRequest&)> filter_fn{};

  bool is_filter() const {
    return kind == CheckKind::filter || kind == CheckKind::custom_filter || kind == CheckKind::relates_to_actor_via;
  }
};

enum class CheckOutcome : std::uint8_t { authorize_if, forbid_if, authorize_unless, forbid_unless };
ASHLAR_API const char* to_string(CheckOutcome outcome);  // "authorize_if", ...

struct ASHLAR_API PolicyStep {
  CheckOutcome outcome = CheckOutcome::authorize_if;
  Check check{};
};

// A policy's condition: every check holds. Simple checks only (checked at build).
struct ASHLAR_API PolicyCondition {
  PolicyCondition(Check check) : checks{std::move(check)} {}
  PolicyCondition(std::initializer_list<Check> all) : checks(all) {}
  std::vector<Check> checks;
};

struct ASHLAR_API Policy {
  std::string description{};  // empty: breakdowns name it by its place, "policy 2"
  bool bypass = false;
  std::vector<Check> condition{};
  std::vector<PolicyStep> steps{};
};

// "policy 2" or `policy 2 "authors edit their posts"`: index is 0-based.
ASHLAR_API std::string describe_policy(const Policy& policy, std::size_t index);

// A field policy (Ash's `field_policy :salary do ... end`): who may read the fields it
// names (attributes, aggregates, calculations; "*" names every field). A field one or more
// field policies name is readable when every one of them that applies authorizes (a
// bypass that authorizes answers for those after it), decided as a policy is, filter
// checks per record; a field none of them names is readable. A field the actor may not
// read is returned as Value::forbidden(). The primary key is always readable.
struct ASHLAR_API FieldPolicy {
  std::vector<std::string> fields{};
  Policy policy{};
  bool covers(std::string_view field) const;  // names it, or "*"
};

// "field_policy 1" or `field_policy 1 "managers see salaries"`: index is 0-based.
ASHLAR_API std::string describe_field_policy(const FieldPolicy& policy, std::size_t index);

namespace checks {

ASHLAR_API Check always();
ASHLAR_API Check never();
ASHLAR_API Check actor_present();
// The actor's value at `field` ("org.id" follows nested maps) equals `value`.
ASHLAR_API Check actor_attribute_equals(std::string_view field, Value value);
ASHLAR_API Check action_type(ActionType type);
ASHLAR_API Check action(std::string_view name);
// The action changes at least one of the attributes (false for reads).
ASHLAR_API Check changing_attributes(std::vector<std::string> attributes);
// A filter check: holds for the records `filter` is true for. It may use actor(...),
// ^arg(...), relationship paths and aggregates such as exists(members, user_id == actor(:id)).
ASHLAR_API Check expr(Expr filter);
// A filter check: the record's relationship path (belongs_to, has_one, has_many or
// many_to_many, one or several: "owner", {"project", "members"}) leads to the actor, the
// destination's primary key equal to the actor's `actor_key`; to-many: any of them.
// build() makes it exists(path, <primary key> == actor(:actor_key)) and reports a path
// that does not resolve or a destination without a one-attribute primary key.
ASHLAR_API Check relates_to_actor_via(const char* path, std::string actor_key = "id");
ASHLAR_API Check relates_to_actor_via(std::vector<std::string> path, std::string actor_key = "id");
// Custom checks in C++: decided once per request, or an expression for filtering. A
// function that fails or throws fails the request with its error.
ASHLAR_API Check custom(std::string description, std::function<Result<bool>(const PolicyRequest&)> fn);
ASHLAR_API Check custom_filter(std::string description, std::function<Result<Expr>(const PolicyRequest&)> fn);

ASHLAR_API PolicyStep authorize_if(Check check);
ASHLAR_API PolicyStep forbid_if(Check check);
ASHLAR_API PolicyStep authorize_unless(Check check);
ASHLAR_API PolicyStep forbid_unless(Check check);

}  // namespace checks

}  // namespace ashlar
