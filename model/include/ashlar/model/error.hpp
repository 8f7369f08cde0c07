#pragma once
// Structured errors, after Ash's error classes.

#include <ashlar/model/export.hpp>

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
ASHLAR_API const char* to_string(ErrorClass cls);

// One problem with one input field (attribute or argument).
struct ASHLAR_API FieldError {
  std::string field;    // attribute or argument name
  std::string code;     // stable machine-readable code: "required", "invalid_type", ...
  std::string message;  // a sentence a user can act on
  bool operator==(const FieldError&) const = default;
};

// Stable machine-readable codes beside the class, for callers (and an HTTP API) to map
// from without matching message text. The factories below set the class's general code;
// a more specific one replaces it with `with_code`.
namespace codes {
inline constexpr const char* kInvalidInput = "invalid_input";    // Error::invalid
inline constexpr const char* kForbidden = "forbidden";        // Error::forbidden
inline constexpr const char* kNotFound = "not_found";            // Error::not_found
inline constexpr const char* kConflict = "conflict";             // Error::conflict
inline constexpr const char* kFramework = "framework";           // Error::framework
inline constexpr const char* kUnknown = "unknown";               // Error::unknown
inline constexpr const char* kIdentityTaken = "identity_taken";  // another record holds the identity
inline constexpr const char* kStaleVersion = "stale_version";    // expected_version is not the record's
inline constexpr const char* kAlreadyExists = "already_exists";  // a create's primary key is taken
inline constexpr const char* kWriterLocked = "writer_locked";    // another writer has the store open
inline constexpr const char* kStoreFull = "store_full";          // the map reached max_map_size
inline constexpr const char* kChainKey = "chain_key";            // opened for writing with another chain key than its own
inline constexpr const char* kStoreGrew = "store_grew";          // the map grew mid-transaction: run it again
inline constexpr const char* kStoreDamaged = "store_damaged";    // the store's files are not what LMDB wrote
inline constexpr const char* kStoreNotInitialized = "store_not_initialized";  // its first open has not finished
inline constexpr const char* kIoError = "io_error";              // the disk or file system failed
inline constexpr const char* kDecodeError = "decode_error";      // bytes that do not decode as what they claim
inline constexpr const char* kTooComplex = "too_complex";        // input past a size or complexity limit
inline constexpr const char* kTenantRequired = "tenant_required";  // a multitenant resource called without a tenant
inline constexpr const char* kUserCode = "user_code";            // a change, hook or callback threw
}  // namespace codes

struct ASHLAR_API Error {
  ErrorClass cls = ErrorClass::unknown;
  std::string resource;  // empty when not about one resource
  std::string action;    // empty when not about one action
  std::string message;   // summary; field errors carry the detail
  std::vector<FieldError> fields;
  std::string code = codes::kUnknown;  // stable and machine-readable; see codes above

  // The same error with a more specific code.
  Error&& with_code(std::string c) && {
    code = std::move(c);
    return std::move(*this);
  }
  Error& with_code(std::string c) & {
    code = std::move(c);
    return *this;
  }

  // "invalid: User.create: name: is required; age: must be at least 0"
  std::string describe() const;
  // The message and each field's, without the class and the resource: "2 invalid
  // inputs: name: is required; age: must be at least 0".
  std::string details() const;

  // The field error for `field`, or nullptr.
  const FieldError* field(std::string_view name) const;

  static Error invalid(std::string resource, std::string action, std::vector<FieldError> fields);
  static Error not_found(std::string resource, std::string message);
  static Error forbidden(std::string resource, std::string action, std::string message);
  static Error conflict(std::string resource, std::string message);
  static Error framework(std::string message);
  static Error unknown(std::string message);
};

// Thrown only by the explicit throwing accessors (Result::value()).
class ASHLAR_API Exception : public std::runtime_error {
 public:
  explicit Exception(Error error);
  const Error& error() const noexcept { return error_; }

 private:
  Error error_;
};

}  // namespace ashlar
