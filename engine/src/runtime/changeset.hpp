#pragma once
// Building a changeset: inputs cast to the action's accepted attributes, defaults and
// timestamps applied, and every rule checked before the write transaction begins.

#include <ashlar/model/resource.hpp>

#include <optional>
#include <vector>

namespace ashlar::runtime {

struct Changeset {
  const Resource* resource = nullptr;
  const Action* action = nullptr;
  Fields inputs;  // accepted inputs as cast, in the order given
  // Per attribute (aligned with resource->attributes()): the value this action sets.
  std::vector<std::optional<Value>> assigned;
  std::vector<FieldError> errors;
  DateTime now;  // the action's time: its event's time and its timestamps

  const Value* input(std::string_view attribute) const { return find_field(inputs, attribute); }
};

// Casts and checks inputs: unknown, duplicate and non-accepted inputs, type errors,
// nil where not allowed, constraints. Errors are collected, not returned early.
Changeset build_changeset(const Resource& resource, const Action& action, const Fields& inputs);

// Fills in defaults (create) or update defaults and timestamps (update), then checks
// required attributes and the constraints of the values it added.
void apply_defaults(Changeset& changeset);

// An action's arguments from the caller's: cast, defaults applied, constraints and
// required ones checked; unknown names refused. Every bad one reported at once.
Result<Fields> cast_arguments(const Resource& resource, const Action& action, const Fields& given);

// The primary key values from a caller's id: one value, or a map for composite keys.
// Invalid naming the key attribute when it does not cast.
Result<std::vector<Value>> cast_id(const Resource& resource, std::string_view action, const Value& id);

}  // namespace ashlar::runtime
