// Secondary indexes (idx/<Resource>/<attribute>, dupsort: value → record keys) and
// identities (uniq/<Resource>/<identity>: values → record key), kept in step with the
// records in the transaction that appends each event.
#include <ashlar/projections/state.hpp>

#include <ashlar/model/key.hpp>

#include <fmt/format.h>
#include <sodium.h>

#include <algorithm>
#include <cmath>

namespace ashlar {
namespace {

// Long enough for typical values; short enough that prefix + hash fits 511 bytes.
constexpr std::size_t kInlineKey = 400;

const Value* attribute_value(const Fields* fields, std::string_view name) {
  if (!fields) return nullptr;
  const Value* v = find_field(*fields, name);
  return v && !v->is_null() ? v : nullptr;
}

// The identity's values, or nullopt when one of them is nil (nils are never taken).
std::optional<std::vector<Value>> identity_values(const Fields* fields, const Identity& identity) {
  if (!fields) return std::nullopt;
  std::vector<Value> values;
  for (const auto& a : identity.attributes) {
    const Value* v = attribute_value(fields, a);
    if (!v) return std::nullopt;
    values.push_back(*v);
  }
  return values;
}

}  // namespace

std::string index_key(std::span<const Value> values) {
  // -0.0 is 0.0 to filters, so to indexes and identities too (record keys keep the bits).
  auto negative_zero = [](const Value& v) { return v.as_float() && *v.as_float() == 0.0 && std::signbit(*v.as_float()); };
  if (std::any_of(values.begin(), values.end(), negative_zero)) {
    std::vector<Value> zeroed(values.begin(), values.end());
    for (auto& v : zeroed)
      if (negative_zero(v)) v = Value(0.0);
    return index_key(zeroed);
  }
  std::string key = encode_key(values);
  if (key.size() <= kInlineKey) return key;
  unsigned char hash[32];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(key.data()), key.size(), nullptr, 0);
  // A marker byte no value tag uses keeps hashed keys apart from inline ones.
  return key.substr(0, kInlineKey - 1) + '\xFE' + std::string(reinterpret_cast<const char*>(hash), sizeof hash);
}

Result<void> StateProjection::update_indexes(StateStore& store, const Tables& t, const Event& event,
                                             const std::string& key, const Fields* before,
                                             const Fields* after) const {
  for (const auto& index : t.indexes) {
    const Value* old_value = attribute_value(before, index.attribute);
    const Value* new_value = attribute_value(after, index.attribute);
    if (old_value && new_value && *old_value == *new_value) continue;
    if (old_value) {
      ASHLAR_TRY(d, store.del(index.table, index_key(std::span(old_value, 1)), key));
    }
    if (new_value) ASHLAR_TRY_VOID(store.put(index.table, index_key(std::span(new_value, 1)), key));
  }
  for (const auto& unique : t.identities) {
    auto old_values = identity_values(before, unique.identity);
    auto new_values = identity_values(after, unique.identity);
    if (old_values && new_values && *old_values == *new_values) continue;
    if (old_values) {
      ASHLAR_TRY(d, store.del(unique.table, index_key(*old_values)));
    }
    if (!new_values) continue;
    auto put = store.put(unique.table, index_key(*new_values), key, StateStore::Put::no_overwrite);
    if (!put && put.error().cls == ErrorClass::conflict)
      return fail(Error::conflict(event.resource, fmt::format("identity {} of {} is already taken",
                                                              unique.identity.name, event.resource)));
    if (!put) return put;
  }
  return {};
}

Result<std::vector<std::string>> StateProjection::lookup(const Txn& txn, std::string_view resource,
                                                         std::string_view attribute, const Value& value) const {
  return lookup(store(txn), resource, attribute, value);
}

Result<std::optional<std::string>> StateProjection::lookup_identity(const Txn& txn, std::string_view resource,
                                                                    std::string_view identity,
                                                                    const std::vector<Value>& values) const {
  return lookup_identity(store(txn), resource, identity, values);
}

Result<std::vector<std::string>> StateProjection::lookup(const StateStore& store, std::string_view resource,
                                                         std::string_view attribute, const Value& value) const {
  ASHLAR_TRY(t, tables(resource));
  auto it = std::find_if((*t)->indexes.begin(), (*t)->indexes.end(),
                         [&](const Index& i) { return i.attribute == attribute; });
  if (it == (*t)->indexes.end())
    return fail(Error::framework(fmt::format("{}.{} has no index", resource, attribute)));
  std::vector<std::string> keys;
  if (value.is_null()) return keys;
  auto visited = store.values(it->table, index_key(std::span(&value, 1)), [&](std::string_view key) {
    keys.emplace_back(key);
    return true;
  });
  if (!visited) return fail(visited.error());
  return keys;
}

Result<std::optional<std::string>> StateProjection::lookup_identity(const StateStore& store,
                                                                    std::string_view resource,
                                                                    std::string_view identity,
                                                                    const std::vector<Value>& values) const {
  ASHLAR_TRY(t, tables(resource));
  auto it = std::find_if((*t)->identities.begin(), (*t)->identities.end(),
                         [&](const UniqueKey& u) { return u.identity.name == identity; });
  if (it == (*t)->identities.end())
    return fail(Error::framework(fmt::format("{} has no identity {}", resource, identity)));
  ASHLAR_TRY(found, store.get(it->table, index_key(values)));
  if (!*found) return std::optional<std::string>{};
  return std::optional<std::string>{std::string(**found)};
}

}  // namespace ashlar
