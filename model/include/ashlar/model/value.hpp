#pragma once
// Value: the self-describing value of an attribute, input or actor.

#include <ashlar/model/export.hpp>

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ashlar {

struct ASHLAR_API Uuid {
  std::array<std::uint8_t, 16> bytes{};

  static Uuid v4();  // random (libsodium's CSPRNG)
  // Time-ordered (RFC 9562 version 7): the Unix time in milliseconds, then a counter that
  // keeps one thread's uuids increasing within a millisecond, then random bits. Keys made
  // of them land next to each other in an index, so inserting many touches few pages.
  static Uuid v7();
  // Canonical 8-4-4-4-12 hex form, either case; nullopt otherwise.
  static std::optional<Uuid> parse(std::string_view text);
  std::string str() const;  // lower-case canonical form
  auto operator<=>(const Uuid&) const = default;
};

// A point in time, microseconds since the Unix epoch, UTC.
struct ASHLAR_API DateTime {
  std::int64_t micros = 0;
  static DateTime now();
  // ISO 8601: "2026-11-21T23:28:16.123456Z", "...+01:00", fraction optional.
  static std::optional<DateTime> parse(std::string_view text);
  std::string str() const;  // always "YYYY-MM-DDTHH:MM:SS.ffffffZ"
  auto operator<=>(const DateTime&) const = default;
};

// A calendar date, days since 1970-01-01.
struct ASHLAR_API Date {
  std::int32_t days = 0;
  static std::optional<Date> parse(std::string_view text);  // "YYYY-MM-DD"
  std::string str() const;
  auto operator<=>(const Date&) const = default;
};

// A symbol from a closed set (Ash's atom), e.g. Atom{"open"}.
struct ASHLAR_API Atom {
  std::string name;
  auto operator<=>(const Atom&) const = default;
};

// Raw bytes, distinct from text.
struct ASHLAR_API Binary {
  std::string bytes;
  auto operator<=>(const Binary&) const = default;
};

// A field the actor may not read, as field policies return it (Ash's %Ash.ForbiddenField{}):
// never a stored value, never nil, never equal to any other kind.
struct ASHLAR_API Forbidden {
  auto operator<=>(const Forbidden&) const = default;
};

enum class ValueKind : std::uint8_t {
  null, boolean, integer, floating, string, uuid, datetime, date, atom, binary, map, array, forbidden,
};
ASHLAR_API const char* to_string(ValueKind kind);

class Value;
using Array = std::vector<Value>;
// String-keyed map, kept sorted by key so equal maps encode to equal bytes.
using Map = std::vector<std::pair<std::string, Value>>;

class ASHLAR_API Value {
 public:
  Value() = default;  // null
  Value(std::nullptr_t) {}
  Value(bool v) : v_(v) {}
  template <typename I>
    requires(std::is_integral_v<I> && !std::is_same_v<I, bool>)
  Value(I v) : v_(static_cast<std::int64_t>(v)) {}
  Value(double v) : v_(v) {}
  Value(std::string v) : v_(std::move(v)) {}
  Value(std::string_view v) : v_(std::string(v)) {}
  Value(const char* v) : v_(std::string(v)) {}
  Value(Uuid v) : v_(v) {}
  Value(DateTime v) : v_(v) {}
  Value(Date v) : v_(v) {}
  Value(Atom v) : v_(std::move(v)) {}
  Value(Binary v) : v_(std::move(v)) {}
  Value(Map v);  // sorts by key; a later duplicate key replaces an earlier one
  Value(Array v) : v_(std::move(v)) {}
  Value(Forbidden v) : v_(v) {}
  // The value of a field the actor may not read (ashlar/model/policy.hpp, field policies).
  static Value forbidden() { return Value(Forbidden{}); }

  ValueKind kind() const { return static_cast<ValueKind>(v_.index()); }
  bool is_null() const { return kind() == ValueKind::null; }
  bool is_forbidden() const { return kind() == ValueKind::forbidden; }

  // Typed access; nullptr when the value holds another kind.
  const bool* as_bool() const { return std::get_if<bool>(&v_); }
  const std::int64_t* as_int() const { return std::get_if<std::int64_t>(&v_); }
  const double* as_float() const { return std::get_if<double>(&v_); }
  const std::string* as_string() const { return std::get_if<std::string>(&v_); }
  const Uuid* as_uuid() const { return std::get_if<Uuid>(&v_); }
  const DateTime* as_datetime() const { return std::get_if<DateTime>(&v_); }
  const Date* as_date() const { return std::get_if<Date>(&v_); }
  const Atom* as_atom() const { return std::get_if<Atom>(&v_); }
  const Binary* as_binary() const { return std::get_if<Binary>(&v_); }
  const Map* as_map() const { return std::get_if<Map>(&v_); }
  const Array* as_array() const { return std::get_if<Array>(&v_); }

  // A short human form: strings quoted, uuids and times canonical, maps as {k: v}.
  std::string str() const;

  bool operator==(const Value& other) const = default;

 private:
  std::variant<std::monostate, bool, std::int64_t, double, std::string, Uuid, DateTime, Date,
               Atom, Binary, Map, Array, Forbidden>
      v_;
};

// Named values: inputs, changes, record keys. Order is kept as given.
using Fields = std::vector<std::pair<std::string, Value>>;

// The value named `name` in `fields`, or nullptr.
ASHLAR_API const Value* find_field(const Fields& fields, std::string_view name);

}  // namespace ashlar
