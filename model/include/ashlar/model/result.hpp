#pragma once
// Result<T>: a value or an Error, shaped like std::expected (absent from g++ 12's C++20).

#include <ashlar/model/error.hpp>
#include <ashlar/model/export.hpp>

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

namespace ashlar {

// Wraps an Error so `return fail(e);` converts to any Result<T>.
struct ASHLAR_API Failure {
  Error error;
};
inline Failure fail(Error error) { return Failure{std::move(error)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  using value_type = T;

  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  Result(Failure failure) : state_(std::in_place_index<1>, std::move(failure.error)) {}
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}
  template <typename U>
    requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, T> &&
             !std::is_same_v<std::decay_t<U>, Error> && !std::is_same_v<std::decay_t<U>, Failure>)
  Result(U&& value) : state_(std::in_place_index<0>, std::forward<U>(value)) {}

  bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  // The value; throws ashlar::Exception carrying the error when there is none. On an
  // rvalue (a call's result used in place) the value is moved out and returned by value,
  // so `for (const auto& e : engine.history(...).value())` iterates a live object, not a
  // reference into the destroyed temporary.
  T& value() & { check(); return std::get<0>(state_); }
  const T& value() const& { check(); return std::get<0>(state_); }
  T value() && { check(); return std::get<0>(std::move(state_)); }

  // Precondition: has_value(). By value on an rvalue, as value().
  T& operator*() & { assert(has_value()); return std::get<0>(state_); }
  const T& operator*() const& { assert(has_value()); return std::get<0>(state_); }
  T operator*() && { assert(has_value()); return std::get<0>(std::move(state_)); }
  T* operator->() { assert(has_value()); return &std::get<0>(state_); }
  const T* operator->() const { assert(has_value()); return &std::get<0>(state_); }

  // Precondition: !has_value(). By value on an rvalue, as value().
  const Error& error() const& { assert(!has_value()); return std::get<1>(state_); }
  Error error() && { assert(!has_value()); return std::get<1>(std::move(state_)); }

  // The value, or `fallback` converted to T when there is none; moves the value out of
  // an rvalue.
  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? std::get<0>(state_) : static_cast<T>(std::forward<U>(fallback));
  }
  template <typename U>
  T value_or(U&& fallback) && {
    return has_value() ? std::get<0>(std::move(state_)) : static_cast<T>(std::forward<U>(fallback));
  }

  // f(T) -> Result<U>; the error passes through unchanged.
  template <typename F>
  auto and_then(F&& f) && -> std::invoke_result_t<F, T&&> {
    if (!has_value()) return Failure{std::get<1>(std::move(state_))};
    return std::forward<F>(f)(std::get<0>(std::move(state_)));
  }

 private:
  void check() const {
    if (!has_value()) throw Exception(std::get<1>(state_));
  }
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Failure failure) : error_(std::move(failure.error)), ok_(false) {}
  Result(Error error) : error_(std::move(error)), ok_(false) {}

  bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  void value() const {
    if (!ok_) throw Exception(error_);
  }
  // Precondition: !has_value(). By value on an rvalue, as Result<T>::error().
  const Error& error() const& { assert(!ok_); return error_; }
  Error error() && { assert(!ok_); return std::move(error_); }

 private:
  Error error_;
  bool ok_ = true;
};

inline Result<void> ok() { return {}; }

}  // namespace ashlar

// Declares `var` as the Result of a Result-returning expression; returns its error from
// the enclosing function. The Result stays in `var` (use `*var`, `var->`).
#define ASHLAR_TRY(var, ...)    \
  auto var = (__VA_ARGS__);     \
  if (!var) return ::ashlar::fail(var.error())

// Evaluates a Result-returning expression; returns its error from the enclosing function.
#define ASHLAR_TRY_VOID(expr)                              \
  do {                                                     \
    auto ashlar_try_result_ = (expr);                      \
    if (!ashlar_try_result_) return ::ashlar::fail(ashlar_try_result_.error()); \
  } while (0)
