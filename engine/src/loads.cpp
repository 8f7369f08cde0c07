// Relationship loads in batches: one lookup per distinct key, never one query per
// record; many-to-many through the join resource; nested loads level by level.
#include "authorize.hpp"
#include "changeset.hpp"
#include "user_code.hpp"
#include "reader.hpp"
#include "record_access.hpp"

#include <ashlar/model/key.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <unordered_map>

namespace ashlar::runtime {
namespace {

std::string value_key(const Value& v) {
  std::string out;
  append_key(out, v);
  return out;
}

// Distinct non-nil values of `attribute` across rows, in first-seen order.
std::vector<Value> distinct_values(const std::vector<Record>& rows, const std::string& attribute) {
  std::vector<Value> out;
  std::unordered_map<std::string, bool> seen;
  for (const auto& row : rows) {
    const Value& v = row[attribute];
    if (!v.is_null() && seen.emplace(value_key(v), true).second) out.push_back(v);
  }
  return out;
}

// Records grouped by the value of `attribute`.
std::unordered_map<std::string, std::vector<Record>> group_by(std::vector<Record> records, const std::string& attribute) {
  std::unordered_map<std::string, std::vector<Record>> out;
  for (auto& r : records) {
    std::string key = value_key(r[attribute]);
    out[key].push_back(std::move(r));
  }
  return out;
}

Error load_error(std::string message) { return Error::invalid({}, {}, {{"load", "unknown_relationship", std::move(message)}}); }

}  // namespace

Result<std::vector<Record>> Reader::readable_rows(const Resource& r, std::vector<Record> rows) {
  if (rows.empty()) return rows;
  std::vector<std::vector<Record>> one{std::move(rows)};
  ASHLAR_TRY_VOID(through_action(r, r.primary_action(ActionType::read), {}, "read", one));
  return std::move(one.front());
}

Result<std::vector<std::vector<Record>>> Reader::fetch_through(const Resource&, const Relationship& rel,
                                                               const std::vector<Record>& rows) {
  const Resource& join = resource(rel.through);
  const Resource& dest = resource(rel.destination);
  ASHLAR_TRY(found, by_values(join, rel.source_attribute_on_join_resource, distinct_values(rows, rel.source_attribute)));
  // As Ash reads the join with authorize?: a join record the actor may not read relates nothing.
  ASHLAR_TRY(links, readable_rows(join, std::move(*found)));
  ASHLAR_TRY(targets, by_values(dest, rel.destination_attribute,
                           distinct_values(*links, rel.destination_attribute_on_join_resource)));
  auto links_by_source = group_by(std::move(*links), rel.source_attribute_on_join_resource);
  auto targets_by_key = group_by(std::move(*targets), rel.destination_attribute);
  std::vector<std::vector<Record>> out;
  for (const auto& row : rows) {
    std::vector<Record> mine;
    auto it = links_by_source.find(value_key(row[rel.source_attribute]));
    if (it != links_by_source.end())
      for (const auto& link : it->second) {
        auto t = targets_by_key.find(value_key(link[rel.destination_attribute_on_join_resource]));
        if (t != targets_by_key.end()) mine.insert(mine.end(), t->second.begin(), t->second.end());
      }
    out.push_back(std::move(mine));
  }
  return out;
}

Result<std::vector<std::vector<Record>>> Reader::fetch_related(const Resource& r, const Relationship& rel,
                                                               const std::vector<Record>& rows, const Query* custom) {
  const Resource& dest = resource(rel.destination);
  if (rel.manual) {
    LoadContext context{[this](std::string_view name, const Query& q) -> Result<std::vector<Record>> {
                          const Resource* target = domain_.resource(name);
                          if (!target) return fail(Error::framework(fmt::format("no resource named {}", name)));
                          return run(*target, q);
                        },
                        base_.actor};
    auto loaded = runtime::guarded(r.name(), "", fmt::format("manual relationship {}", rel.name),
                                   [&] { return rel.manual->load(rows, custom ? *custom : Query{}, context); });
    if (!loaded) return fail(loaded.error());
    if (loaded->size() != rows.size())
      return fail(Error::framework(fmt::format("manual relationship {}.{} returned {} lists for {} records", r.name(),
                                               rel.name, loaded->size(), rows.size())));
    return loaded;
  }
  if (rel.no_attributes) {
    ASHLAR_TRY(all, scan(dest));
    return std::vector<std::vector<Record>>(rows.size(), *all);
  }
  if (rel.kind == RelationshipKind::many_to_many) return fetch_through(r, rel, rows);
  ASHLAR_TRY(found, by_values(dest, rel.destination_attribute, distinct_values(rows, rel.source_attribute)));
  auto groups = group_by(std::move(*found), rel.destination_attribute);
  std::vector<std::vector<Record>> out;
  for (const auto& row : rows) {
    const Value& v = row[rel.source_attribute];
    auto it = v.is_null() ? groups.end() : groups.find(value_key(v));
    out.push_back(it == groups.end() ? std::vector<Record>{} : it->second);
  }
  return out;
}

const Action* load_read_action(const Resource& dest, const Relationship& rel, const Query* custom) {
  if (custom && !custom->action.empty()) {
    // validate_loads refuses any other; were one to slip through, it would not read unguarded.
    const Action* named = dest.action(custom->action);
    if (named && named->type == ActionType::read) return named;
  }
  return rel.read_action.empty() ? dest.primary_action(ActionType::read) : dest.action(rel.read_action);
}

Result<std::vector<std::vector<Record>>> Reader::related(const Resource& r, const Relationship& rel,
                                                         const std::vector<Record>& rows, const Query* custom) {
  ASHLAR_TRY(per_row, fetch_related(r, rel, rows, custom));
  if (!rel.manual) ASHLAR_TRY_VOID(through_read_action(rel, *per_row, custom));
  const Resource& dest = resource(rel.destination);
  std::optional<Expr> filter = rel.filter;
  if (custom && custom->filter) filter = filter ? *filter && *custom->filter : *custom->filter;
  std::vector<SortKey> sort = rel.sort;
  if (custom) sort.insert(sort.end(), custom->sort.begin(), custom->sort.end());
  std::size_t offset = custom ? custom->offset : 0;
  std::size_t limit = custom && custom->limit ? *custom->limit : SIZE_MAX;
  if (rel.kind == RelationshipKind::has_one) limit = std::min<std::size_t>(limit, 1);
  bool refine_rows = filter || !sort.empty() || offset > 0 || limit != SIZE_MAX;
  RowSet parents(*this, r, rows);
  for (std::size_t i = 0; refine_rows && i < rows.size(); ++i) {
    EvalContext parent = parents.context(i, base_);
    ASHLAR_TRY(refined, refine(dest, std::move((*per_row)[i]), filter, sort, &parent));
    std::size_t from = std::min(offset, refined->size());
    std::size_t to = limit == SIZE_MAX ? refined->size() : std::min(refined->size(), from + limit);
    (*per_row)[i] = std::vector<Record>(std::make_move_iterator(refined->begin() + from),
                                        std::make_move_iterator(refined->begin() + to));
  }
  if (custom && (!custom->load.empty() || !custom->select.empty())) {
    std::vector<Record> flat;
    for (auto& records : *per_row) flat.insert(flat.end(), records.begin(), records.end());
    ASHLAR_TRY_VOID(load(dest, flat, custom->load));
    ASHLAR_TRY_VOID(apply_select(dest, flat, custom->select));
    std::size_t next = 0;
    for (auto& records : *per_row)
      for (auto& record : records) record = std::move(flat[next++]);
  }
  return per_row;
}

Result<void> Reader::load(const Resource& r, std::vector<Record>& rows, const std::vector<Load>& loads) {
  for (const auto& l : loads) {
    if (const Relationship* rel = r.relationship(l.name)) {
      ASHLAR_TRY(related_rows, related(r, *rel, rows, &l.query));
      for (std::size_t i = 0; i < rows.size(); ++i) RecordAccess::set_related(rows[i], l.name, std::move((*related_rows)[i]));
    } else if (const Aggregate* a = r.aggregate(l.name)) {
      RowSet set(*this, r, rows);
      std::vector<Value> values;
      for (std::size_t i = 0; i < rows.size(); ++i) {
        ASHLAR_TRY(v, set.aggregate(i, *a));
        values.push_back(std::move(*v));
      }
      for (std::size_t i = 0; i < rows.size(); ++i) RecordAccess::set_extra(rows[i], l.name, std::move(values[i]));
    } else if (const CalculationDef* c = r.calculation(l.name)) {
      ASHLAR_TRY(values, calculate(r, *c, rows, l.query.args));
      for (std::size_t i = 0; i < rows.size(); ++i) RecordAccess::set_extra(rows[i], l.name, std::move((*values)[i]));
    } else {
      return fail(load_error(fmt::format("{} has no relationship, aggregate or calculation named {}", r.name(), l.name)));
    }
  }
  return {};
}

Result<std::vector<Record>> Reader::refine(const Resource& r, std::vector<Record> rows, const std::optional<Expr>& filter,
                                           const std::vector<SortKey>& sort, const EvalContext* parent) {
  if (filter) {
    RowSet set(*this, r, rows);
    std::vector<Record> kept;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      ASHLAR_TRY(hit, matches(*filter, set.context(i, base_, parent)));
      if (*hit) kept.push_back(rows[i]);
    }
    rows = std::move(kept);
  }
  if (sort.empty()) return rows;
  RowSet set(*this, r, rows);
  ASHLAR_TRY(keys, sort_rows(set, rows, sort));
  return rows;
}

Result<void> apply_select(const Resource& r, std::vector<Record>& rows, const std::vector<std::string>& select) {
  if (select.empty()) return {};
  for (const auto& name : select)
    if (!r.attribute(name))
      return fail(Error::invalid(r.name(), {}, {{"select", "unknown_attribute", fmt::format("{} has no attribute {}", r.name(), name)}}));
  for (std::size_t i = 0; i < r.attributes().size(); ++i) {
    const Attribute& a = r.attributes()[i];
    if (a.primary_key || std::find(select.begin(), select.end(), a.name) != select.end()) continue;
    for (auto& row : rows) RecordAccess::clear_attribute(row, i);
  }
  return {};
}

Result<std::vector<std::vector<Value>>> sort_rows(RowSet& set, std::vector<Record>& rows,
                                                  const std::vector<SortKey>& keys) {
  if (rows.empty()) return std::vector<std::vector<Value>>{};
  const Resource& r = rows.front().resource();
  std::vector<std::vector<Value>> values(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    for (const auto& key : keys) {
      ASHLAR_TRY(v, set.ref(i, key.path()));
      values[i].push_back(std::move(*v));
    }
    for (auto k : r.primary_key()) values[i].push_back(rows[i][r.attributes()[k].name]);
  }
  std::optional<Error> error;
  auto cmp = [&](std::size_t a, std::size_t b) {
    int order = compare_sort_values(values[a], values[b], keys, &error);
    return order < 0;
  };
  std::vector<std::size_t> order(rows.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), cmp);
  if (error) return fail(*error);
  std::vector<Record> sorted;
  std::vector<std::vector<Value>> sorted_values;
  for (auto i : order) {
    sorted.push_back(std::move(rows[i]));
    sorted_values.push_back(std::move(values[i]));
  }
  rows = std::move(sorted);
  return sorted_values;
}

int compare_sort_values(const std::vector<Value>& a, const std::vector<Value>& b, const std::vector<SortKey>& keys,
                        std::optional<Error>* error) {
  for (std::size_t k = 0; k < a.size() && k < b.size(); ++k) {
    bool desc = k < keys.size() && keys[k].descending;
    bool nils_first = k < keys.size() && keys[k].nils_first;
    if (a[k].is_null() || b[k].is_null()) {
      if (a[k].is_null() && b[k].is_null()) continue;
      return a[k].is_null() == nils_first ? -1 : 1;
    }
    auto order = compare_values(a[k], b[k]);
    if (!order) {
      if (error && !*error) *error = order.error();
      return 0;
    }
    if (*order != 0) return desc ? -*order : *order;
  }
  return 0;
}

}  // namespace ashlar::runtime
