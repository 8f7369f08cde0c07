#include <ashlar/model/json.hpp>

#include <sodium.h>

#include <cstdint>

namespace ashlar {

std::string base64_encode(std::string_view bytes) {
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  std::size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0)
    return std::nullopt;
  out.resize(len);
  return out;
}

nlohmann::json value_to_json(const Value& v) {
  using nlohmann::json;
  switch (v.kind()) {
    case ValueKind::null: return nullptr;
    case ValueKind::boolean: return *v.as_bool();
    case ValueKind::integer: return *v.as_int();
    case ValueKind::floating: return *v.as_float();
    case ValueKind::string: return *v.as_string();
    case ValueKind::uuid: return v.as_uuid()->str();
    case ValueKind::datetime: return v.as_datetime()->str();
    case ValueKind::date: return v.as_date()->str();
    case ValueKind::atom: return v.as_atom()->name;
    case ValueKind::binary: return base64_encode(v.as_binary()->bytes);
    case ValueKind::map: {
      json out = json::object();
      for (const auto& [k, item] : *v.as_map()) out[k] = value_to_json(item);
      return out;
    }
    case ValueKind::array: {
      json out = json::array();
      for (const auto& item : *v.as_array()) out.push_back(value_to_json(item));
      return out;
    }
    case ValueKind::forbidden: return json{{"$forbidden", true}};
  }
  return nullptr;
}

namespace {

// Deeper than this, what remains is cut (see json.hpp): converting it would only recurse
// toward the end of the stack, and nothing accepts a value that deep anyway.
constexpr int kMaxJsonNesting = 64;

Value from_json(const nlohmann::json& j, int depth) {
  if (j.is_null()) return Value();
  if (j.is_boolean()) return Value(j.get<bool>());
  if (j.is_number_unsigned() && j.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
    return Value(j.get<double>());  // past int64: a float, as a number past 2^64 already is
  if (j.is_number_integer()) return Value(j.get<std::int64_t>());
  if (j.is_number()) return Value(j.get<double>());
  if (j.is_string()) return Value(j.get<std::string>());
  if (j.is_object()) {
    Map m;
    if (depth < kMaxJsonNesting)
      for (auto it = j.begin(); it != j.end(); ++it) m.emplace_back(it.key(), from_json(it.value(), depth + 1));
    return Value(std::move(m));
  }
  Array a;
  if (depth < kMaxJsonNesting)
    for (const auto& item : j) a.push_back(from_json(item, depth + 1));
  return Value(std::move(a));
}

}  // namespace

Value value_from_json(const nlohmann::json& j) { return from_json(j, 1); }

CastResult cast_json(const Type& type, const nlohmann::json& j) {
  if (j.is_string() && (type.kind == TypeKind::binary)) {
    auto bytes = base64_decode(j.get<std::string>());
    if (!bytes) return {std::nullopt, "expected base64 for a binary value"};
    return {Value(Binary{*bytes}), {}};
  }
  return cast_value(type, value_from_json(j));
}

}  // namespace ashlar
