#include "reader.hpp"
#include "tenancy.hpp"

#include <ashlar/model/key.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

namespace ashlar::runtime {

Record make_record(const Domain& domain, const Resource& r, const StoredRecord& stored) {
  const auto& attributes = r.attributes();
  std::vector<Value> values(attributes.size());
  std::size_t next = 0;  // stored attributes come in declaration order (nil ones left out)
  for (const auto& [name, value] : stored.attributes) {
    while (next < attributes.size() && attributes[next].name != name) ++next;
    if (next < attributes.size()) values[next++] = value;
    else if (auto i = r.attribute_index(name)) values[*i] = value;  // out of order: a stored model's
  }
  return Record(domain, r, std::move(values), stored.version);
}

// Dotted paths split as a sort key's field does.
std::vector<std::string> split_path(std::string_view dotted) { return SortKey{std::string(dotted)}.path(); }

namespace {

Error filter_error(std::string message) { return Error::invalid({}, {}, {{"filter", "invalid", std::move(message)}}); }

}  // namespace

// ---- RowSet ----------------------------------------------------------------------------

Result<const std::vector<std::vector<Record>>*> RowSet::follow(const std::vector<std::string>& path,
                                                               const Resource** end) {
  std::string memo_key;
  for (const auto& s : path) memo_key += s + ".";
  if (auto it = followed_.find(memo_key); it != followed_.end()) {
    *end = it->second->resource;
    return &it->second->per_row;
  }
  auto level = std::make_unique<Level>();
  if (path.empty()) {
    level->resource = &resource_;
    for (const auto& row : rows_) level->per_row.push_back({row});
  } else {
    const Resource* at = nullptr;
    ASHLAR_TRY(previous, follow({path.begin(), path.end() - 1}, &at));
    const Relationship* rel = at->relationship(path.back());
    if (!rel) return fail(filter_error(fmt::format("{} has no relationship {}", at->name(), path.back())));
    std::vector<Record> flat;
    for (const auto& records : **previous) flat.insert(flat.end(), records.begin(), records.end());
    ASHLAR_TRY(related, reader_.related(*at, *rel, flat, nullptr));
    level->resource = &reader_.resource(rel->destination);
    std::size_t next = 0;
    for (const auto& records : **previous) {
      std::vector<Record> mine;
      for (std::size_t k = 0; k < records.size(); ++k, ++next)
        mine.insert(mine.end(), (*related)[next].begin(), (*related)[next].end());
      level->per_row.push_back(std::move(mine));
    }
  }
  *end = level->resource;
  auto* out = &level->per_row;
  followed_[memo_key] = std::move(level);
  return out;
}

Result<Value> RowSet::ref(std::size_t row, const std::vector<std::string>& path) {
  if (path.size() == 1) {
    if (resource_.attribute(path[0])) return rows_[row][path[0]];
    if (const Aggregate* a = resource_.aggregate(path[0])) return aggregate(row, *a);
    if (const CalculationDef* c = resource_.calculation(path[0])) {
      auto it = calculated_.find(c->name);
      if (it == calculated_.end()) {
        ASHLAR_TRY(values, reader_.calculate(resource_, *c, rows_, {}));
        it = calculated_.emplace(c->name, std::move(*values)).first;
      }
      return it->second[row];
    }
    return fail(filter_error(fmt::format("{} has no attribute {}", resource_.name(), path[0])));
  }
  const Resource* end = nullptr;
  ASHLAR_TRY(level, follow({path.begin(), path.end() - 1}, &end));
  const Aggregate* a = end->aggregate(path.back());
  const CalculationDef* c = end->calculation(path.back());
  if (!a && !c && !end->attribute(path.back()))
    return fail(filter_error(fmt::format("{} has no attribute {}", end->name(), path.back())));
  const auto& records = (**level)[row];
  if (records.empty()) return Value();
  if (a) {
    std::vector<Record> one{records.front()};
    RowSet nested(reader_, *end, one);
    return nested.aggregate(0, *a);
  }
  if (c) {
    std::vector<Record> one{records.front()};
    RowSet nested(reader_, *end, one);
    return nested.ref(0, {c->name});
  }
  return records.front()[path.back()];
}

Result<Value> RowSet::aggregate(std::size_t row, const Aggregate& a, const EvalContext* parent) {
  const Resource* end = nullptr;
  ASHLAR_TRY(level, follow(a.path, &end));
  bool counts = a.kind == AggregateKind::count || a.kind == AggregateKind::exists;
  if (!counts && !end->attribute(a.field))
    return fail(filter_error(fmt::format("{} has no attribute {}", end->name(), a.field)));
  // The related records the aggregate covers: those its filter matches, with this row
  // as their parent(...), or all of them.
  const auto& all = (**level)[row];
  if (!a.filter && a.kind == AggregateKind::count) return Value(static_cast<std::int64_t>(all.size()));
  if (!a.filter && a.kind == AggregateKind::exists) return Value(!all.empty());
  std::vector<const Record*> records;
  records.reserve(all.size());
  if (a.filter) {
    RowSet related(reader_, *end, all);
    EvalContext mine = context(row, reader_.base(), parent);
    // The first match decides exists, and first's first match with a value.
    auto decided = [&] {
      if (records.empty()) return false;
      return a.kind == AggregateKind::exists || (a.kind == AggregateKind::first && !(*records.back())[a.field].is_null());
    };
    for (std::size_t i = 0; i < all.size() && !decided(); ++i) {
      ASHLAR_TRY(hit, matches(*a.filter, related.context(i, reader_.base(), &mine)));
      if (*hit) records.push_back(&all[i]);
    }
  } else {
    for (const auto& r : all) records.push_back(&r);
  }
  switch (a.kind) {
    case AggregateKind::count: return Value(static_cast<std::int64_t>(records.size()));
    case AggregateKind::exists: return Value(!records.empty());
    case AggregateKind::first:  // as Ash's (include_nil? false): the first value that is not nil
      for (const Record* r : records)
        if (!(*r)[a.field].is_null()) return (*r)[a.field];
      return Value();
    case AggregateKind::list: {
      Array values;
      for (const Record* r : records)
        if (!(*r)[a.field].is_null()) values.push_back((*r)[a.field]);
      return Value(std::move(values));
    }
    case AggregateKind::sum:
    case AggregateKind::min:
    case AggregateKind::max: break;
  }
  Value acc;
  for (const Record* r : records) {
    const Value& v = (*r)[a.field];
    if (v.is_null()) continue;
    if (acc.is_null()) {
      acc = v;
      continue;
    }
    if (a.kind == AggregateKind::sum) {
      ASHLAR_TRY(sum, evaluate(Expr(acc) + Expr(v), reader_.base()));
      acc = *sum;
    } else {
      ASHLAR_TRY(order, compare_values(v, acc));
      if ((a.kind == AggregateKind::min && *order < 0) || (a.kind == AggregateKind::max && *order > 0)) acc = v;
    }
  }
  if (acc.is_null() && a.kind == AggregateKind::sum) return Value(0);
  return acc;
}

EvalContext RowSet::context(std::size_t row, const EvalContext& base, const EvalContext* parent) {
  EvalContext c = base;
  c.ref = [this, row](const std::vector<std::string>& path) { return ref(row, path); };
  c.aggregate = [this, row, parent](const Aggregate& a) { return aggregate(row, a, parent); };
  c.parent = parent;
  return c;
}

// ---- Reader: records --------------------------------------------------------------------

Result<const StateSource*> LiveState::tenant(std::string_view resource, const std::string& tenant) const {
  if (!tenants_) return fail(Error::framework(fmt::format("{} keeps no records per tenant", resource)));
  std::string name = std::string(resource) + '\0' + tenant;
  auto it = by_tenant_.find(name);
  if (it == by_tenant_.end()) {
    ASHLAR_TRY(tables, tenants_->find(txn_, resource, tenant));
    Tenant t{std::move(*tables), nullptr};
    if (t.tables) t.state = std::make_unique<LiveState>(*t.tables, nullptr, txn_);
    it = by_tenant_.emplace(std::move(name), std::move(t)).first;
  }
  if (!it->second.state) return &empty_;
  return it->second.state.get();
}

Reader::Reader(const Domain& domain, const Log&, const StateProjection& state, const TenantTables* tenants,
               const Txn& txn, EvalContext base)
    : domain_(domain),
      live_state_(std::make_unique<LiveState>(state, tenants, txn)),
      source_(*live_state_),
      base_(std::move(base)) {}

Result<const StateSource*> Reader::source(const Resource& r) const {
  if (r.multitenancy().strategy != Multitenancy::context) return &source_;
  ASHLAR_TRY(checked, tenant_value(r, "read", base_.tenant));
  return source_.tenant(r.name(), base_.tenant);
}

Result<std::optional<Record>> Reader::get(const Resource& r, std::string_view key_bytes) {
  ASHLAR_TRY(src, source(r));
  ASHLAR_TRY(stored, (*src)->get(r.name(), key_bytes));
  if (!*stored) return std::optional<Record>{};
  return std::optional<Record>{make_record(domain_, r, **stored)};
}

Result<std::vector<Record>> Reader::scan(const Resource& r) {
  std::vector<Record> out;
  ASHLAR_TRY(src, source(r));
  auto scanned = (*src)->scan(r.name(), [&](const StoredRecord& s) {
    out.push_back(make_record(domain_, r, s));
    return true;
  });
  if (!scanned) return fail(scanned.error());
  return out;
}

Result<std::optional<Record>> Reader::by_identity(const Resource& r, const std::string& identity,
                                                  const std::vector<Value>& values) {
  ASHLAR_TRY(src, source(r));
  ASHLAR_TRY(key, (*src)->lookup_identity(r.name(), identity, values));
  if (!*key) return std::optional<Record>{};
  return get(r, **key);
}

Result<std::optional<std::vector<Record>>> Reader::by_attribute(const Resource& r, const Attribute& attribute,
                                                                const std::vector<Value>& values) {
  bool single_key = r.primary_key().size() == 1 && r.attributes()[r.primary_key()[0]].name == attribute.name;
  const Identity* identity = nullptr;
  for (const auto& id : r.identities())
    if (id.attributes.size() == 1 && id.attributes[0] == attribute.name) identity = &id;
  if (!single_key && !identity && !r.indexed(attribute.name)) return std::optional<std::vector<Record>>{};
  std::vector<Record> out;
  std::set<std::string> seen;
  ASHLAR_TRY(src, source(r));
  for (const auto& value : values) {
    if (value.is_null()) continue;
    std::vector<std::string> keys;
    std::vector<Value> one{value};
    if (single_key) {
      keys.push_back(encode_key(one));
      if (const double* f = value.as_float(); f && *f == 0.0) {  // the other zero is this value too
        std::vector<Value> other{Value(std::signbit(*f) ? 0.0 : -0.0)};
        keys.push_back(encode_key(other));
      }
    } else if (identity) {
      ASHLAR_TRY(key, (*src)->lookup_identity(r.name(), identity->name, one));
      if (*key) keys.push_back(**key);
    } else {
      ASHLAR_TRY(found, (*src)->lookup(r.name(), attribute.name, value));
      keys = std::move(*found);
    }
    for (const auto& key : keys) {
      if (!seen.insert(key).second) continue;
      ASHLAR_TRY(record, get(r, key));
      // Long values are indexed by prefix and hash: check the record itself.
      if (*record && (**record)[attribute.name] == value) out.push_back(std::move(**record));
    }
  }
  return std::optional<std::vector<Record>>{std::move(out)};
}

Result<std::vector<Record>> Reader::by_values(const Resource& dest, const std::string& attribute,
                                              const std::vector<Value>& values) {
  const Attribute* a = dest.attribute(attribute);
  ASHLAR_TRY(found, by_attribute(dest, *a, values));
  if (*found) return std::move(**found);
  // Not indexed (relationships index what they use, so only stored models from older
  // builds get here): one scan for all values.
  ASHLAR_TRY(all, scan(dest));
  std::vector<Record> out;
  for (auto& record : *all)
    if (std::find(values.begin(), values.end(), record[attribute]) != values.end()) out.push_back(std::move(record));
  return out;
}

}  // namespace ashlar::runtime
