#include <ashlar/model/error.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace ashlar {

const char* to_string(ErrorClass cls) {
  switch (cls) {
    case ErrorClass::invalid: return "invalid";
    case ErrorClass::forbidden: return "forbidden";
    case ErrorClass::not_found: return "not_found";
    case ErrorClass::conflict: return "conflict";
    case ErrorClass::framework: return "framework";
    case ErrorClass::unknown: return "unknown";
  }
  return "unknown";
}

std::string Error::describe() const {
  std::string out = to_string(cls);
  out += ": ";
  if (!resource.empty()) {
    out += resource;
    if (!action.empty()) out += "." + action;
    out += ": ";
  }
  return out + details();
}

std::string Error::details() const {
  std::string out = message;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    out += (i == 0 && !message.empty()) ? ": " : (i == 0 ? "" : "; ");
    if (!fields[i].field.empty()) out += fields[i].field + ": ";
    out += fields[i].message;
  }
  return out;
}

const FieldError* Error::field(std::string_view name) const {
  for (const auto& f : fields)
    if (f.field == name) return &f;
  return nullptr;
}

Error Error::invalid(std::string resource, std::string action, std::vector<FieldError> fields) {
  std::string message = fields.size() == 1 ? "invalid input" : fmt::format("{} invalid inputs", fields.size());
  // Inputs too deep (or too big) to take, and nothing else wrong: too_complex as a whole.
  bool too_complex = !fields.empty() && std::all_of(fields.begin(), fields.end(), [](const FieldError& f) {
    return f.code == codes::kTooComplex;
  });
  return Error{ErrorClass::invalid, std::move(resource), std::move(action), std::move(message),
               std::move(fields), too_complex ? codes::kTooComplex : codes::kInvalidInput};
}

Error Error::not_found(std::string resource, std::string message) {
  return Error{ErrorClass::not_found, std::move(resource), {}, std::move(message), {}, codes::kNotFound};
}

Error Error::forbidden(std::string resource, std::string action, std::string message) {
  return Error{ErrorClass::forbidden, std::move(resource), std::move(action), std::move(message), {}, codes::kForbidden};
}

Error Error::conflict(std::string resource, std::string message) {
  return Error{ErrorClass::conflict, std::move(resource), {}, std::move(message), {}, codes::kConflict};
}

Error Error::framework(std::string message) {
  return Error{ErrorClass::framework, {}, {}, std::move(message), {}, codes::kFramework};
}

Error Error::unknown(std::string message) {
  return Error{ErrorClass::unknown, {}, {}, std::move(message), {}, codes::kUnknown};
}

Exception::Exception(Error error) : std::runtime_error(error.describe()), error_(std::move(error)) {}

}  // namespace ashlar
