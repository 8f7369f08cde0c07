#pragma once
// Calling the user's code — changes, validations, preparations, hooks, generic actions'
// run, manual relationships, notifiers, custom projections — so that what it throws
// becomes an error naming the resource, action and step instead of unwinding through the
// engine. An ashlar::Exception (a `.value()` that failed inside a hook) keeps its error.

#include <ashlar/model/result.hpp>

#include <fmt/format.h>

#include <exception>
#include <string_view>
#include <type_traits>

namespace ashlar::runtime {

// "Ticket.open: before_action hook threw: boom" (code user_code).
inline Error user_code_error(std::string_view resource, std::string_view action, std::string_view step,
                             std::string_view what) {
  Error e = Error::unknown(fmt::format("{} threw: {}", step, what)).with_code(codes::kUserCode);
  e.resource = resource;
  e.action = action;
  return e;
}

inline Error caught_error(std::string_view resource, std::string_view action, std::string_view step) {
  try {
    throw;
  } catch (const Exception& e) {
    Error error = e.error();
    if (error.resource.empty()) error.resource = resource;
    if (error.action.empty()) error.action = action;
    return error;
  } catch (const std::exception& e) {
    return user_code_error(resource, action, step, e.what());
  } catch (...) {
    return user_code_error(resource, action, step, "an exception that is not a std::exception");
  }
}

// f() returns a Result; what it throws becomes that Result's error. An error it returns
// that names no resource (the user's own `Error::unknown("...")`) names this one, and
// this action, as an error of the engine's does.
template <typename F>
auto guarded(std::string_view resource, std::string_view action, std::string_view step, F&& f)
    -> decltype(f()) {
  try {
    auto result = f();
    if (!result && result.error().resource.empty()) {
      Error error = result.error();
      error.resource = resource;
      if (error.action.empty()) error.action = action;
      return fail(std::move(error));
    }
    return result;
  } catch (...) {
    return caught_error(resource, action, step);
  }
}

}  // namespace ashlar::runtime
