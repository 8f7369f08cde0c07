#pragma once
// Attribute types and constraints.

#include <ashlar/model/export.hpp>
#include <ashlar/model/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ashlar {

enum class TypeKind : std::uint8_t {
  string, integer, floating, boolean, uuid, utc_datetime, date, atom, binary, map, array,
};

struct ASHLAR_API Type {
  TypeKind kind = TypeKind::string;
  TypeKind element = TypeKind::string;  // the element type, when kind == array

  // "string", "integer", ..., "array(integer)": the names the stored model uses.
  std::string name() const;
  static std::optional<Type> parse(std::string_view name);
  bool operator==(const Type&) const = default;
};

namespace type {
inline constexpr Type string{TypeKind::string};
inline constexpr Type integer{TypeKind::integer};
inline constexpr Type floating{TypeKind::floating};
inline constexpr Type boolean{TypeKind::boolean};
inline constexpr Type uuid{TypeKind::uuid};
inline constexpr Type utc_datetime{TypeKind::utc_datetime};
inline constexpr Type date{TypeKind::date};
inline constexpr Type atom{TypeKind::atom};
inline constexpr Type binary{TypeKind::binary};
inline constexpr Type map{TypeKind::map};
constexpr Type array(Type element) { return Type{TypeKind::array, element.kind}; }
}  // namespace type

// Checked on every non-nil value (each element, for arrays).
struct ASHLAR_API Constraints {
  std::optional<std::size_t> min_length{};  // strings: characters (UTF-8 code points)
  std::optional<std::size_t> max_length{};
  std::optional<std::string> match{};     // strings: ECMAScript regex, must match the whole value
  std::optional<double> min{};            // integers and floats, inclusive
  std::optional<double> max{};
  std::vector<std::string> one_of{};      // atoms: the closed set of allowed values

  bool operator==(const Constraints&) const = default;
};

// Casts `input` to `type`, as Ash casts inputs: a string becomes a uuid, time, date or
// atom by parsing; an integer becomes a float. Returns nullopt (and a reason) when the
// value cannot be cast. Null stays null.
struct ASHLAR_API CastResult {
  std::optional<Value> value;
  std::string error;  // set when value is nullopt
};
ASHLAR_API CastResult cast_value(const Type& type, const Value& input);

// Why no stored value may be `value`, anywhere inside it (map keys included): text that is
// not valid UTF-8, a float that is not finite, or maps and arrays nested more than 16
// levels deep (the first is said as "nests maps and arrays more than 16 levels deep").
// nullopt when it may be stored. A field the actor may not read is not looked for: what
// holds one (an actor built from a read record) is recorded without it.
ASHLAR_API std::optional<std::string> unstorable(const Value& value);
// Whether `text` is well-formed UTF-8 (RFC 3629).
ASHLAR_API bool valid_utf8(std::string_view text);

// The first constraint `value` (already cast, not null) breaks, as (code, message), or
// nullopt when all hold.
ASHLAR_API std::optional<std::pair<std::string, std::string>> check_constraints(
    const Type& type, const Constraints& constraints, const Value& value);

}  // namespace ashlar
