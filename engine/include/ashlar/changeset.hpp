#pragma once
// The changeset: one create, update or destroy action being built and run. Changes and
// validations see and change it; hooks added to it run around the transaction and the
// data layer in the order of Ash's action lifecycle:
//
//   around_transaction (start) → before_transaction → [write transaction:
//   around_action (start) → before_action → events appended, projections updated →
//   after_action → around_action (end)] → commit → after_transaction →
//   around_transaction (end)
//
// after_action and the end of around_action run only on success; after_transaction
// always (an invalid changeset included), and may turn an error into a result.
//
// The hooks inside the write transaction run on the thread that leads the group commit
// holding this action (see README, "The store"); the others on the caller's thread. A
// hook may add hooks, of its own kind too: they run in the same pass, after those
// already there. What a hook throws becomes the action's error (code user_code).

#include <ashlar/manage.hpp>
#include <ashlar/model/export.hpp>
#include <ashlar/model/resource.hpp>
#include <ashlar/record.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ashlar {

class Engine;
struct CallOptions;

class ASHLAR_API Changeset {
 public:
  using Next = std::function<Result<Record>(Changeset&)>;
  using Around = std::function<Result<Record>(Changeset&, const Next&)>;
  using Before = std::function<Result<void>(Changeset&)>;
  using After = std::function<Result<Record>(Changeset&, Record)>;
  using AfterTransaction = std::function<Result<Record>(Changeset&, Result<Record>)>;

  const Resource& resource() const { return *resource_; }
  const Action& action() const { return *action_; }
  // The record an update or destroy acts on (nullptr for a create). Inside the write
  // transaction (before_action and later) it is the record as stored then.
  const Record* data() const { return data_ ? &*data_ : nullptr; }
  const Value& actor() const { return actor_; }
  DateTime now() const { return now_; }

  // The value an attribute will have: its change, else the record's current value; nil
  // for a name that is not an attribute of the resource.
  Value attribute(std::string_view name) const;
  // Whether the action changes the attribute (an input, a change or a default set it).
  bool changing(std::string_view name) const;
  // Sets an attribute whether or not the action accepts it (for changes). The value is
  // cast to the attribute's type; a value that does not cast is an error on the field.
  void force_change(std::string_view name, Value value);
  const Value& argument(std::string_view name) const;
  const Fields& arguments() const { return arguments_; }

  // Free-form context, deep-merged on every set (maps merge, other values replace). Its
  // "shared" key is also merged into the top level and passed to nested actions.
  const Map& context() const { return context_; }
  void set_context(const Map& more);
  // Options for a nested action called from a hook: the actor, tenant and shared context
  // (Ash's Ash.Scope.to_opts / Ash.Context.to_opts).
  CallOptions to_opts() const;

  // Ash's Ash.Changeset.manage_relationship (ashlar/manage.hpp): makes the records
  // related through `relationship` match `input` — a map, a simple value, or a list of
  // them — when the action runs, through hooks added here (before_action for belongs_to,
  // after_action otherwise; after the main action in destroy actions). Errors about the
  // input name `relationship` and the path into it. Framework error, and nothing added,
  // when the relationship or an option does not fit the resources.
  Result<void> manage_relationship(std::string_view relationship, Value input, const manage::Options& options);
  // The same with records already read: each counts as found, without a lookup.
  Result<void> manage_relationship(std::string_view relationship, std::vector<Record> records,
                                   const manage::Options& options);

  void add_error(FieldError error) { errors_.push_back(std::move(error)); }
  const std::vector<FieldError>& errors() const { return errors_; }
  bool valid() const { return errors_.empty(); }

  // A hook may add hooks of its own kind or of a later step: they run in the same pass.
  // One added for a step that has already run would never run: the action fails with a
  // Framework error (rolled back) when it is added before the commit; after it (from an
  // after_transaction hook, or an around_transaction hook's end) it is ignored.
  void around_transaction(Around hook) { added(Step::around_transaction, around_transaction_, std::move(hook)); }
  void before_transaction(Before hook) { added(Step::before_transaction, before_transaction_, std::move(hook)); }
  void around_action(Around hook) { added(Step::around_action, around_action_, std::move(hook)); }
  void before_action(Before hook) { added(Step::before_action, before_action_, std::move(hook)); }
  void after_action(After hook) { added(Step::after_action, after_action_, std::move(hook)); }
  void after_transaction(AfterTransaction hook) { added(Step::after_transaction, after_transaction_, std::move(hook)); }

  // The engine running this action: call it from hooks for nested actions, which join
  // this action's transaction.
  Engine& engine() const { return **engine_; }

 private:
  friend struct ChangesetAccess;
  // The lifecycle's steps in the order they run; after_action_done once the after_action
  // hooks (and the around_action hooks' ends) have run, finished once every hook has.
  enum class Step { building, around_transaction, before_transaction, around_action, before_action, after_action,
                    after_action_done, after_transaction, finished };
  template <typename Hook>
  void added(Step step, std::vector<Hook>& hooks, Hook hook) {
    if (step < step_ && !late_) late_ = step;
    hooks.push_back(std::move(hook));
  }
  Step step_ = Step::building;      // the step running now
  std::optional<Step> late_;        // the first kind of hook added after its step ran
  Engine* const* engine_ = nullptr;  // the engine's slot: it follows the Engine when moved
  const Resource* resource_ = nullptr;
  const Action* action_ = nullptr;
  std::optional<Record> data_;
  Value actor_;
  DateTime now_;
  Fields inputs_;     // accepted attribute inputs and public arguments, as cast
  Fields arguments_;  // every argument, defaults applied
  std::vector<std::optional<Value>> assigned_;  // per attribute
  std::vector<bool> defaulted_;  // per attribute: assigned by a default, not an input or change
  std::vector<FieldError> errors_;
  std::vector<std::size_t> managed_;  // attributes a belongs_to manage_relationship sets in before_action
  std::vector<std::string> given_;    // the arguments the call gave (sensitive ones included)
  Map context_;
  std::shared_ptr<const CallOptions> call_;  // correlation, tenant, expected version
  std::vector<Around> around_transaction_, around_action_;
  std::vector<Before> before_transaction_, before_action_;
  std::vector<After> after_action_;
  std::vector<AfterTransaction> after_transaction_;
};

}  // namespace ashlar
