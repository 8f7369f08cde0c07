#pragma once
// Building a changeset: inputs cast to the action's accepted attributes and arguments,
// defaults applied, then the action's and the resource's changes and validations run in
// the order declared — all before any transaction begins.

#include <ashlar/changeset.hpp>
#include <ashlar/engine.hpp>

#include <optional>
#include <vector>

namespace ashlar {

// The runtime's access to a changeset's insides.
struct ChangesetAccess {
  // `forced` attributes are set whether or not the action accepts them, before defaults
  // and changes (manage_relationship relates records so).
  static Changeset build(Engine& engine, const Resource& resource, const Action& action, const Fields& inputs,
                         const CallOptions& call, std::optional<Record> data, const Fields& forced = {});
  // Attributes a belongs_to manage_relationship sets in before_action: not required yet.
  static std::vector<std::size_t>& managed(Changeset& cs) { return cs.managed_; }
  static Fields& inputs(Changeset& cs) { return cs.inputs_; }
  static std::vector<std::optional<Value>>& assigned(Changeset& cs) { return cs.assigned_; }
  static void set_data(Changeset& cs, Record record) { cs.data_ = std::move(record); }
  // Whether attribute i holds a default rather than a value an input or change gave it.
  static bool defaulted(const Changeset& cs, std::size_t i) { return cs.defaulted_[i]; }
  static void mark_defaulted(Changeset& cs, std::size_t i) { cs.defaulted_[i] = true; }
  static std::vector<Changeset::Around>& around_transaction(Changeset& cs) { return cs.around_transaction_; }
  static std::vector<Changeset::Around>& around_action(Changeset& cs) { return cs.around_action_; }
  static std::vector<Changeset::Before>& before_transaction(Changeset& cs) { return cs.before_transaction_; }
  static std::vector<Changeset::Before>& before_action(Changeset& cs) { return cs.before_action_; }
  static std::vector<Changeset::After>& after_action(Changeset& cs) { return cs.after_action_; }
  static std::vector<Changeset::AfterTransaction>& after_transaction(Changeset& cs) { return cs.after_transaction_; }
  static const CallOptions& call(const Changeset& cs);
  // Errors of attributes that may not be nil, checked on the final values. When the
  // changeset is built, those a manage_relationship sets in before_action are left for
  // the check after those hooks.
  static void check_required(Changeset& cs, bool building = false);
  // Whether the call gave argument `name` (sensitive ones too; not a default).
  static bool given(const Changeset& cs, std::string_view name);
  // The lifecycle step the engine enters; a hook added for an earlier one is late.
  using Step = Changeset::Step;
  static void enter(Changeset& cs, Step step) { cs.step_ = step; }
  // Framework, naming the hook's kind, when a hook was added after its step had run.
  static std::optional<Error> late_hook(const Changeset& cs);
};

namespace runtime {

// The error an action returns for a changeset that is not valid: Invalid listing its
// field errors — or, when a change or validation threw, that (code user_code), as a hook
// that throws is: "unknown: Note.create: a change threw: boom".
Error changeset_error(const Changeset& cs);

// The code of a field error for a value that did not cast: too_complex for one nested
// deeper than any stored value may be, invalid_type otherwise.
inline std::string cast_code(const std::string& why) {
  return why.starts_with("nests maps and arrays more than") ? std::string(codes::kTooComplex) : "invalid_type";
}

// An action's arguments from the caller's: cast, defaults applied, constraints and
// required ones checked; unknown names refused. Every bad one reported at once.
Result<Fields> cast_arguments(const Resource& resource, const Action& action, const Fields& given);
// The same, collecting errors and keeping the arguments that cast.
Fields cast_arguments_partly(const Resource& resource, const Action& action, const Fields& given,
                             std::vector<FieldError>& errors);

// The primary key values from a caller's id: one value, or a map for composite keys.
// Invalid naming the key attribute when it does not cast.
Result<std::vector<Value>> cast_id(const Resource& resource, std::string_view action, const Value& id);

// The key as an earlier build stored it when it held a 0.0 (it kept -0.0's bits): each
// 0.0 of the key as -0.0; nullopt when the key holds none. A lookup that finds nothing
// under the key tries this too, so such a record is still found.
std::optional<std::vector<Value>> negative_zero_key(const std::vector<Value>& key);

// Ash's context merge: a key of `more` whose value and into's are both maps is merged into
// it, recursively; any other replaces it. Keys stay sorted.
void deep_merge(Map& into, const Map& more);
// A call's context as its action sees it: the caller's, with what is under `shared`
// merged into it as well.
Map with_shared(const Map& given);

}  // namespace runtime
}  // namespace ashlar
