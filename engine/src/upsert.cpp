// Upserts (Ash's `upsert? true`): inside the write transaction, a create whose identity
// (or primary key) a stored record already holds becomes an update of that record —
// only its upsert fields that the call set (and update timestamps) change, and its event is an update
// event on the existing record's key and history.
#include "changeset.hpp"
#include "impl.hpp"
#include "tenancy.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace ashlar {
namespace {

EvalContext stored_record_context(const Record& existing, const Changeset& cs) {
  EvalContext c;
  c.ref = [&existing](const std::vector<std::string>& path) -> Result<Value> {
    if (path.size() != 1)
      return fail(Error::framework("an upsert condition may refer to the stored record's own attributes only"));
    return existing[path[0]];
  };
  c.args = &cs.arguments();
  c.actor = cs.actor();
  c.now = cs.now();
  return c;
}

}  // namespace

Result<void> EngineImpl::prepare_upsert(const Txn& txn, Changeset& cs) const {
  const Resource& r = cs.resource();
  const Action& a = cs.action();
  std::vector<std::string> matched_on;  // the attributes that found the record
  if (const Identity* identity = r.identity(a.upsert_identity)) {
    matched_on = identity->attributes;
  } else {
    for (auto i : r.primary_key()) matched_on.push_back(r.attributes()[i].name);
  }
  std::vector<Value> values;
  for (const auto& name : matched_on) values.push_back(cs.attribute(name));
  if (std::any_of(values.begin(), values.end(), [](const Value& v) { return v.is_null(); })) return {};

  std::optional<StoredRecord> stored;
  if (a.upsert_identity.empty()) {
    ASHLAR_TRY(found, current(txn, r, values, ChangesetAccess::call(cs).tenant));
    stored = std::move(*found);
  } else {
    ASHLAR_TRY(tables, state_for(txn, r, ChangesetAccess::call(cs).tenant));
    if (!*tables) return {};  // the tenant has no records yet
    ASHLAR_TRY(holder, (*tables)->lookup_identity(txn, r.name(), a.upsert_identity, values));
    if (!*holder) return {};
    ASHLAR_TRY(found, (*tables)->get(txn, r.name(), **holder));
    stored = std::move(*found);
  }
  if (!stored) return {};  // nobody holds it: an ordinary create
  Record existing = to_record(r, *stored);
  // Another tenant's record (found by primary key) is not upserted: the create goes on,
  // and fails on the taken key as any create does.
  if (const Attribute* tenant = r.tenant_attribute();
      tenant && !cs.attribute(tenant->name).is_null() && existing[tenant->name] != cs.attribute(tenant->name))
    return {};

  if (a.upsert_condition) {
    ASHLAR_TRY(held, matches(*a.upsert_condition, stored_record_context(existing, cs)));
    if (!*held) {
      std::string what = a.upsert_identity.empty() ? "primary key" : a.upsert_identity;
      const Identity* identity = r.identity(a.upsert_identity);
      std::vector<Value> asked;  // neither the tenant the call was made in nor a sensitive value
      std::vector<FieldError> fields;
      for (std::size_t i = 0; i < matched_on.size(); ++i) {
        if (identity && tenant_part(r, *identity, matched_on[i])) continue;
        const Attribute* attribute = r.attribute(matched_on[i]);
        asked.push_back(attribute && attribute->sensitive ? Value(std::string("**redacted**")) : values[i]);
        fields.push_back({matched_on[i], "stale_record", "the stored record does not meet the upsert condition"});
      }
      Error e = Error::conflict(r.name(), fmt::format("a {} with {} {} exists, and the upsert condition does not hold for it",
                                                      r.name(), what, describe_key(asked)));
      e.action = a.name;
      e.fields = std::move(fields);
      return fail(std::move(e));
    }
  }

  auto& assigned = ChangesetAccess::assigned(cs);
  for (std::size_t i = 0; i < r.attributes().size(); ++i) {
    const Attribute& attr = r.attributes()[i];
    // A create's defaults do not overwrite what is stored: only what the call set does.
    bool upserted = attr.timestamp == Timestamp::update ||
                    (!ChangesetAccess::defaulted(cs, i) &&
                     std::find(a.upsert_fields.begin(), a.upsert_fields.end(), attr.name) != a.upsert_fields.end());
    if (attr.primary_key) assigned[i] = existing[attr.name];
    else if (!upserted) assigned[i].reset();
  }
  ChangesetAccess::set_data(cs, std::move(existing));
  return {};
}

}  // namespace ashlar
