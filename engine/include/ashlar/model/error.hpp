#pragma once
// Structured errors, after Ash's error classes.

#include <stdexcept>
#include <string>
#include <vector>

namespace ashlar {

enum class ErrorClass {
  invalid,    // bad input: casting, required fields, constraints, unknown inputs
  forbidden,  // the actor may not run the action
  not_found,  // the record (or resource, action) does not exist
  conflict,   // stale version, identity taken, a second writer
  framework,  // a mistake in the model or in the use of the engine
  unknown,    // storage and other failures the caller cannot fix by changing input
};

// "invalid", "not_found", ... as used in messages and JSON.
const char* to_string(ErrorClass cls);

// One problem with one input field (attribute or argument).
struct FieldError {
  std::string field;    // attribute or argument name
  std::string code;     // stable machine-readable code: "required", "invalid_type", ...
  std::string message;  // a sentence a user can act on
  bool operator==(const FieldError&) const = default;
};

struct Error {
  ErrorClass cls = ErrorClass::unknown;
  std::string resource;  // empty when not about one resource
  std::string action;    // empty when not about one action
  std::string message;   // summary; field errors carry the detail
  std::vector<FieldError> fields;

  // "invalid: User.create: name: is required; age: must be at least 0"
  std::string describe() const;

  // The field error for `field`, or nullptr.
  const FieldError* field(std::string_view name) const;

  static Error invalid(std::string resource, std::string action, std::vector<FieldError> fields);
  static Error not_found(std::string resource, std::string message);
  static Error conflict(std::string resource, std::string message);
  static Error framework(std::string message);
  static Error unknown(std::string message);
};

// Thrown only by the explicit throwing accessors (Result::value()).
class Exception : public std::runtime_error {
 public:
  explicit Exception(Error error);
  const Error& error() const noexcept { return error_; }

 private:
  Error error_;
};

}  // namespace ashlar
