#pragma once
// Changes and validations: the steps an action runs, in the order declared, when its
// changeset is built (ashlar/changes.hpp has the built-in ones).

#include <ashlar/model/error.hpp>
#include <ashlar/model/export.hpp>
#include <ashlar/model/result.hpp>
#include <ashlar/model/value.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ashlar {

class Changeset;  // ashlar/changeset.hpp
class ActionInput;  // ashlar/generic.hpp
struct Query;       // ashlar/query.hpp
enum class ActionType : std::uint8_t;
class Value;

// The body of a generic action: given its cast arguments (and the engine, to call other
// actions), the value it returns or an error.
using GenericRun = std::function<Result<Value>(ActionInput&)>;

// Changes the changeset: sets attributes, adds hooks, adds errors.
class ASHLAR_API Change {
 public:
  virtual ~Change() = default;
  virtual Result<void> change(Changeset& changeset) const = 0;
};

// Checks the changeset: the error to report, or nullopt when it holds.
class ASHLAR_API Validation {
 public:
  virtual ~Validation() = default;
  virtual std::optional<FieldError> validate(const Changeset& changeset) const = 0;
};

// What a preparation knows of the read it prepares.
struct ASHLAR_API PrepareContext {
  std::string_view resource{};
  std::string_view action{};
  const Fields* arguments = nullptr;  // cast, defaults applied
  const Value* actor = nullptr;
};

// Prepares a read action's query before it runs (Ash's preparations): narrows its
// filter, adds sorts, sets a limit, adds loads, or fails the read with an error.
class ASHLAR_API Preparation {
 public:
  virtual ~Preparation() = default;
  virtual Result<void> prepare(Query& query, const PrepareContext& context) const = 0;
};

// One change, validation or (for read actions) preparation, with Ash's options.
struct ASHLAR_API ActionStep {
  std::shared_ptr<const Change> change;
  std::shared_ptr<const Validation> validation;
  // Runs only when every one of these validations holds (Ash's `where`).
  std::vector<std::shared_ptr<const Validation>> where;
  bool only_when_valid = false;  // skipped once the changeset has errors
  std::string message;           // replaces a validation's own message
  // Resource-level steps: the action types they run for; empty means create and update.
  std::vector<ActionType> on;
  std::shared_ptr<const Preparation> preparation{};  // read actions only

  ActionStep& when(std::shared_ptr<const Validation> condition) {
    where.push_back(std::move(condition));
    return *this;
  }
  ActionStep& when_valid() {
    only_when_valid = true;
    return *this;
  }
  ActionStep& with_message(std::string text) {
    message = std::move(text);
    return *this;
  }
  ActionStep& on_types(std::vector<ActionType> types) {
    on = std::move(types);
    return *this;
  }
};

}  // namespace ashlar
