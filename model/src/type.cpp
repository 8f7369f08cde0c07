#include <ashlar/model/type.hpp>

#include <fmt/format.h>

#include "shown.hpp"

#include <algorithm>
#include <cmath>
#include <regex>

namespace ashlar {
namespace {

const char* kind_name(TypeKind kind) {
  switch (kind) {
    case TypeKind::string: return "string";
    case TypeKind::integer: return "integer";
    case TypeKind::floating: return "float";
    case TypeKind::boolean: return "boolean";
    case TypeKind::uuid: return "uuid";
    case TypeKind::utc_datetime: return "utc_datetime";
    case TypeKind::date: return "date";
    case TypeKind::atom: return "atom";
    case TypeKind::binary: return "binary";
    case TypeKind::map: return "map";
    case TypeKind::array: return "array";
  }
  return "?";
}

std::optional<TypeKind> parse_kind(std::string_view name) {
  for (int k = 0; k <= static_cast<int>(TypeKind::array); ++k)
    if (name == kind_name(static_cast<TypeKind>(k))) return static_cast<TypeKind>(k);
  return std::nullopt;
}

}  // namespace

// No stray continuation bytes, overlong forms, surrogates or code points past U+10FFFF.
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (len == 0 || c >= 0xF5 || c == 0xC0 || c == 0xC1 || i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    auto c1 = static_cast<unsigned char>(s[i + 1]);
    if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0) || (c == 0xF0 && c1 < 0x90) ||
        (c == 0xF4 && c1 >= 0x90))
      return false;
    i += len;
  }
  return true;
}

namespace {

// What a map value holds that no stored value may, anywhere inside it (keys included).
struct Inside {
  bool forbidden = false;  // a field the actor may not read (Value::forbidden())
  bool not_utf8 = false;
  bool not_finite = false;
};

void look_inside(const Value& v, Inside& found) {
  if (v.is_forbidden()) found.forbidden = true;
  if (const std::string* text = v.as_string(); text && !valid_utf8(*text)) found.not_utf8 = true;
  if (const Atom* atom = v.as_atom(); atom && !valid_utf8(atom->name)) found.not_utf8 = true;
  if (const double* f = v.as_float(); f && !std::isfinite(*f)) found.not_finite = true;
  if (const Map* m = v.as_map())
    for (const auto& [key, item] : *m) {
      if (!valid_utf8(key)) found.not_utf8 = true;
      look_inside(item, found);
    }
  if (const Array* a = v.as_array())
    for (const auto& item : *a) look_inside(item, found);
}

// How many levels of maps and arrays v nests, counting no deeper than `budget` levels
// (past it, a container counts as one more level: enough to tell it is too deep).
int nesting(const Value& v, int budget) {
  const Map* m = v.as_map();
  const Array* a = v.as_array();
  if (!m && !a) return 0;
  if (budget == 0) return 1;
  int deepest = 0;
  if (m)
    for (const auto& kv : *m) deepest = std::max(deepest, nesting(kv.second, budget - 1));
  else
    for (const auto& item : *a) deepest = std::max(deepest, nesting(item, budget - 1));
  return deepest + 1;
}

// As the log's limit (eventlog's kMaxValueNesting): no stored value nests deeper.
constexpr int kMaxNesting = 16;
const std::string kTooDeep = fmt::format("nests maps and arrays more than {} levels deep", kMaxNesting);

constexpr const char* kNotUtf8 = "is not valid UTF-8 text (a binary attribute holds any bytes)";

CastResult cast_scalar(TypeKind kind, const Value& in) {
  auto bad = [&](std::string why = {}) {
    if (why.empty()) why = fmt::format("expected {}, got {}", kind_name(kind), to_string(in.kind()));
    return CastResult{std::nullopt, std::move(why)};
  };
  const std::string* text = in.as_string();
  switch (kind) {
    case TypeKind::string:
      if (text) return valid_utf8(*text) ? CastResult{in, {}} : bad(kNotUtf8);
      if (auto a = in.as_atom()) return valid_utf8(a->name) ? CastResult{Value(a->name), {}} : bad(kNotUtf8);
      return bad();
    case TypeKind::integer:
      if (in.as_int()) return {in, {}};
      if (auto f = in.as_float(); f && std::isfinite(*f) && std::floor(*f) == *f &&
                                  std::fabs(*f) < 9.2e18)
        return {Value(static_cast<std::int64_t>(*f)), {}};
      return bad();
    case TypeKind::floating:
      if (auto f = in.as_float()) {
        if (!std::isfinite(*f)) return bad("expected a finite float");
        return {in, {}};
      }
      if (auto i = in.as_int()) return {Value(static_cast<double>(*i)), {}};
      return bad();
    case TypeKind::boolean:
      if (in.as_bool()) return {in, {}};
      return bad();
    case TypeKind::uuid:
      if (in.as_uuid()) return {in, {}};
      if (text) {
        if (auto u = Uuid::parse(*text)) return {Value(*u), {}};
        return bad(fmt::format("\"{}\" is not a uuid", shown(*text)));
      }
      return bad();
    case TypeKind::utc_datetime:
      if (in.as_datetime()) return {in, {}};
      if (text) {
        if (auto t = DateTime::parse(*text)) return {Value(*t), {}};
        return bad(fmt::format("\"{}\" is not an ISO 8601 date and time", shown(*text)));
      }
      return bad();
    case TypeKind::date:
      if (in.as_date()) return {in, {}};
      if (text) {
        if (auto d = Date::parse(*text)) return {Value(*d), {}};
        return bad(fmt::format("\"{}\" is not an ISO 8601 date", shown(*text)));
      }
      return bad();
    case TypeKind::atom:
      if (auto a = in.as_atom()) return valid_utf8(a->name) ? CastResult{in, {}} : bad(kNotUtf8);
      if (text && !text->empty()) return valid_utf8(*text) ? CastResult{Value(Atom{*text}), {}} : bad(kNotUtf8);
      return bad();
    case TypeKind::binary:
      if (in.as_binary()) return {in, {}};
      return bad();
    case TypeKind::map:
      if (in.as_map()) {
        if (nesting(in, kMaxNesting + 1) > kMaxNesting) return bad(kTooDeep);  // first: look_inside recurses
        Inside found;
        look_inside(in, found);
        if (found.forbidden) return bad("holds a field the actor may not read");
        if (found.not_utf8) return bad("holds text that is not valid UTF-8");
        if (found.not_finite) return bad("holds a float that is not finite");
        return {in, {}};
      }
      return bad();
    case TypeKind::array:
      return bad();
  }
  return bad();
}

std::size_t utf8_length(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string number(double v) { return fmt::format("{}", v); }

}  // namespace

std::optional<std::string> unstorable(const Value& value) {
  if (nesting(value, kMaxNesting + 1) > kMaxNesting) return kTooDeep;  // first: look_inside recurses
  Inside found;
  look_inside(value, found);
  if (found.not_utf8) return std::string("holds text that is not valid UTF-8");
  if (found.not_finite) return std::string("holds a float that is not finite");
  return std::nullopt;
}

std::string Type::name() const {
  if (kind == TypeKind::array) return fmt::format("array({})", kind_name(element));
  return kind_name(kind);
}

std::optional<Type> Type::parse(std::string_view name) {
  if (name.starts_with("array(") && name.ends_with(")")) {
    auto inner = parse_kind(name.substr(6, name.size() - 7));
    if (!inner || *inner == TypeKind::array) return std::nullopt;
    return Type{TypeKind::array, *inner};
  }
  auto k = parse_kind(name);
  if (!k || *k == TypeKind::array) return std::nullopt;
  return Type{*k};
}

CastResult cast_value(const Type& type, const Value& input) {
  if (input.is_null()) return {input, {}};
  if (input.is_forbidden()) return {std::nullopt, "is a field the actor may not read, not a value to write"};
  if (type.kind != TypeKind::array) return cast_scalar(type.kind, input);
  const Array* items = input.as_array();
  if (!items) return {std::nullopt, fmt::format("expected {}, got {}", type.name(), to_string(input.kind()))};
  if (type.element == TypeKind::map && nesting(input, kMaxNesting + 1) > kMaxNesting) return {std::nullopt, kTooDeep};
  Array out;
  out.reserve(items->size());
  for (std::size_t i = 0; i < items->size(); ++i) {
    if ((*items)[i].is_null()) return {std::nullopt, fmt::format("element {} is nil", i)};
    auto r = cast_scalar(type.element, (*items)[i]);
    if (!r.value) return {std::nullopt, fmt::format("element {}: {}", i, r.error)};
    out.push_back(std::move(*r.value));
  }
  return {Value(std::move(out)), {}};
}

std::optional<std::pair<std::string, std::string>> check_constraints(
    const Type& type, const Constraints& c, const Value& value) {
  if (type.kind == TypeKind::array) {
    for (const auto& item : *value.as_array())
      if (auto e = check_constraints(Type{type.element}, c, item)) return e;
    return std::nullopt;
  }
  if (const std::string* s = value.as_string()) {
    std::size_t n = utf8_length(*s);
    if (c.min_length && n < *c.min_length)
      return std::pair{"min_length", fmt::format("must be at least {} character{} long", *c.min_length,
                                                 *c.min_length == 1 ? "" : "s")};
    if (c.max_length && n > *c.max_length)
      return std::pair{"max_length", fmt::format("must be at most {} character{} long", *c.max_length,
                                                 *c.max_length == 1 ? "" : "s")};
    if (c.match) {
      // Validated at build time, so construction cannot throw here.
      std::regex re(*c.match, std::regex::ECMAScript);
      if (!std::regex_match(*s, re))
        return std::pair{"match", fmt::format("must match the pattern {}", *c.match)};
    }
  }
  double number_value = 0;
  bool is_number = false;
  if (auto i = value.as_int()) number_value = static_cast<double>(*i), is_number = true;
  if (auto f = value.as_float()) number_value = *f, is_number = true;
  if (is_number) {
    if (c.min && number_value < *c.min) return std::pair{"min", "must be at least " + number(*c.min)};
    if (c.max && number_value > *c.max) return std::pair{"max", "must be at most " + number(*c.max)};
  }
  if (const Atom* a = value.as_atom(); a && !c.one_of.empty()) {
    bool found = std::find(c.one_of.begin(), c.one_of.end(), a->name) != c.one_of.end();
    if (!found) {
      std::string list;
      for (const auto& o : c.one_of) list += (list.empty() ? ":" : ", :") + o;
      return std::pair{"one_of", fmt::format("must be one of {}, got :{}", list, shown(a->name))};
    }
  }
  return std::nullopt;
}

}  // namespace ashlar
