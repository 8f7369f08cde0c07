#pragma once
// Built-in changes and validations, after Ash's. Each returns a ActionStep to list in an
// action's `.steps` or to give ResourceBuilder::change / validate:
//
//   .create("open", {.accept = {"subject"},
//                    .arguments = {argument("urgent", type::boolean)},
//                    .steps = {changes::set_attribute("status", Atom{"open"}),
//                              changes::set_attribute("opened_by", dsl::actor("id")),
//                              validations::string_length("subject", 3, 120)}})
//
// Values are expressions evaluated against the changeset: ref("x") is the attribute's
// value after the changes so far, arg("y") an argument, actor("id") the actor's id,
// now() the action's time.

#include <ashlar/changeset.hpp>
#include <ashlar/model/change.hpp>
#include <ashlar/model/export.hpp>
#include <ashlar/model/expr.hpp>
#include <ashlar/query.hpp>

#include <functional>

namespace ashlar {
namespace changes {

ASHLAR_API ActionStep set_attribute(std::string attribute, Expr value);
// Adds `by` to the attribute's value as stored when the action writes (so concurrent
// increments never lose one).
ASHLAR_API ActionStep increment(std::string attribute, std::int64_t by = 1);
// Any code: fn may read and change the changeset, add errors and hooks.
ASHLAR_API ActionStep change(std::function<Result<void>(Changeset&)> fn);
ASHLAR_API ActionStep custom(std::shared_ptr<const Change> change);
// Ash's optimistic_lock: the update fails with a Conflict unless the attribute still has
// the value the changeset was built from, and the attribute is incremented.
ASHLAR_API ActionStep optimistic_lock(std::string attribute);

// Ash's cascade_destroy(:relationship): destroying (or soft-destroying) this record
// destroys the records related to it through a has_many or has_one relationship, each
// through `action` of the destination (empty: its primary destroy), in the same write
// transaction. Each writes its own events, under the outer action's transaction and
// correlation ids; when any of them fails, the whole action fails and nothing is kept.
// By default the related records are destroyed in an after_action hook; with
// after_action = false in a before_action hook, before this record's own event.
struct ASHLAR_API CascadeDestroy {
  std::string action{};
  bool after_action = true;
};
ASHLAR_API ActionStep cascade_destroy(std::string relationship, CascadeDestroy options = {});

// Ash's `change manage_relationship(:argument, :relationship, opts)`: when the action is
// given `argument`, the records related through `relationship` are made to match its
// value (ashlar/manage.hpp says how). The argument holds a map, a simple value or a list
// of them (type::map, type::array(type::map), type::array(type::string), ...). Framework
// error when the action is built if the argument, the relationship or an option does
// not fit.
//
//   .update("tag", {.arguments = {argument("tags", type::array(type::string))},
//                   .steps = {changes::manage_relationship("tags", {
//                       .type = manage::Type::append_and_remove, .value_is_key = "name",
//                       .on_lookup = manage::Lookup::relate, .on_no_match = manage::NoMatch::create})}})
ASHLAR_API ActionStep manage_relationship(std::string argument, std::string relationship, manage::Options options);
// The argument and the relationship share a name.
ASHLAR_API ActionStep manage_relationship(std::string relationship, manage::Options options);

}  // namespace changes

namespace validations {

ASHLAR_API ActionStep present(std::vector<std::string> attributes);  // each has a value (attribute or argument)
ASHLAR_API ActionStep absent(std::vector<std::string> attributes);   // none has a value
ASHLAR_API ActionStep string_length(std::string field, std::optional<std::size_t> min, std::optional<std::size_t> max);
ASHLAR_API ActionStep match(std::string field, std::string pattern);  // ECMAScript, the whole value
// compare("ends_at", CompareOp::gt, ref("starts_at")): nil on either side passes.
ASHLAR_API ActionStep compare(std::string field, CompareOp op, Expr other);
ASHLAR_API ActionStep one_of(std::string field, std::vector<Value> values);
ASHLAR_API ActionStep attribute_equals(std::string attribute, Value value);
ASHLAR_API ActionStep attribute_does_not_equal(std::string attribute, Value value);
// Two inputs (attributes or arguments) are equal: confirm("password", "password_confirmation").
ASHLAR_API ActionStep confirm(std::string field, std::string confirmation);
ASHLAR_API ActionStep validate(std::function<std::optional<FieldError>(const Changeset&)> fn);
ASHLAR_API ActionStep custom(std::shared_ptr<const Validation> validation);

// The bare validation, for ActionStep::when(...): run a step only where this holds.
ASHLAR_API std::shared_ptr<const Validation> condition(ActionStep step);

}  // namespace validations

// Preparations for read actions (Ash's `prepare`): in a read action's `.steps`, or for
// every read of the resource with ResourceBuilder::prepare. They run in the order
// declared, the action's before the resource's, on the caller's query (its filter, sort,
// limit and loads) after the action's arguments are cast; the first error fails the read.
//
//   .read("mine", {.steps = {preparations::prepare([](Query& q, const PrepareContext& c) -> Result<void> {
//                              q.filter = ref("owner") == *c.actor;  // and-ed with any other
//                              return {};
//                            }),
//                            preparations::build({.sort = "-inserted_at", .limit = 20})}})
namespace preparations {

// Ash's `prepare build(...)`: a filter and-ed with the query's, a sort (sort-input form,
// "-inserted_at,title") appended to its sort, a limit that replaces the caller's, and
// loads ("comments.user,author") added to its loads.
struct ASHLAR_API Build {
  std::optional<Expr> filter{};
  std::string sort{};
  std::optional<std::size_t> limit{};
  std::string load{};
};
ASHLAR_API ActionStep build(Build options);
// Any code: fn may change the query or fail the read.
ASHLAR_API ActionStep prepare(std::function<Result<void>(Query&, const PrepareContext&)> fn);
ASHLAR_API ActionStep custom(std::shared_ptr<const Preparation> preparation);

}  // namespace preparations
}  // namespace ashlar
