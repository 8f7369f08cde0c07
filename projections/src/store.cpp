#include <ashlar/projections/store.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace ashlar {

Result<bool> StateStore::contains(std::size_t table, std::string_view key, std::string_view value) const {
  if (!dupsort(table)) {
    ASHLAR_TRY(found, get(table, key));
    return *found && **found == value;
  }
  bool hit = false;
  auto scanned = values(table, key, [&](std::string_view v) {
    hit = v == value;
    return !hit && v < value;  // values are sorted: stop once past it
  });
  if (!scanned) return fail(scanned.error());
  return hit;
}

// ---- LmdbStore ---------------------------------------------------------------------------

Result<Txn*> LmdbStore::writer() const {
  if (!writable_) return fail(Error::framework("a projection store opened for reading was written"));
  return writable_;
}

Result<std::optional<std::string_view>> LmdbStore::get(std::size_t table, std::string_view key) const {
  return txn_->get((*dbs_)[table], key);
}

Result<void> LmdbStore::put(std::size_t table, std::string_view key, std::string_view value, Put mode) {
  ASHLAR_TRY(w, writer());
  return (*w)->put((*dbs_)[table], key, value,
                   mode == Put::no_overwrite ? Txn::PutMode::no_overwrite : Txn::PutMode::upsert);
}

Result<bool> LmdbStore::del(std::size_t table, std::string_view key) {
  ASHLAR_TRY(w, writer());
  return (*w)->del((*dbs_)[table], key);
}

Result<bool> LmdbStore::del(std::size_t table, std::string_view key, std::string_view value) {
  ASHLAR_TRY(w, writer());
  return (*w)->del((*dbs_)[table], key, value);
}

Result<void> LmdbStore::scan(std::size_t table, std::string_view from, const Visit& fn) const {
  ASHLAR_TRY(c, txn_->cursor((*dbs_)[table]));
  for (auto found = from.empty() ? c->first() : c->seek(from);; found = c->next()) {
    if (!found) return fail(found.error());
    if (!*found || !fn(c->key(), c->value())) return {};
  }
}

Result<void> LmdbStore::values(std::size_t table, std::string_view key,
                               const std::function<bool(std::string_view)>& fn) const {
  ASHLAR_TRY(c, txn_->cursor((*dbs_)[table]));
  for (auto found = c->find(key);; found = c->next_dup()) {
    if (!found) return fail(found.error());
    if (!*found || !fn(c->value())) return {};
  }
}

Result<std::uint64_t> LmdbStore::count(std::size_t table) const { return txn_->count((*dbs_)[table]); }

// ---- MemoryStore -------------------------------------------------------------------------

MemoryStore::MemoryStore(std::vector<TableSpec> layout) : layout_(std::move(layout)), tables_(layout_.size()) {}

Result<std::optional<std::string_view>> MemoryStore::get(std::size_t table, std::string_view key) const {
  const auto& rows = tables_[table].rows;
  auto it = rows.find(key);
  if (it == rows.end()) return std::optional<std::string_view>{};
  if (!layout_[table].dupsort) return std::optional<std::string_view>{it->second.one};
  const Dups& dups = *it->second.many;  // never empty
  std::lock_guard lock(*order_mutex_);
  if (dups.ordered) return std::optional<std::string_view>{*dups.order.front()};
  return std::optional<std::string_view>{*std::min_element(dups.values.begin(), dups.values.end())};
}

Result<void> MemoryStore::put(std::size_t table, std::string_view key, std::string_view value, Put mode) {
  auto& t = tables_[table];
  auto it = t.rows.find(key);
  if (it != t.rows.end() && mode == Put::no_overwrite) return fail(Error::conflict({}, "the key is already stored"));
  if (it == t.rows.end()) {
    it = t.rows.emplace(std::string(key), Row{}).first;
    t.ordered = false;
  }
  if (!layout_[table].dupsort) {
    it->second.one.assign(value);
    return {};
  }
  auto& many = it->second.many;
  if (!many) many = std::make_unique<Dups>();
  if (many->values.emplace(value).second) many->ordered = false;
  return {};
}

Result<bool> MemoryStore::del(std::size_t table, std::string_view key) {
  auto& t = tables_[table];
  auto it = t.rows.find(key);
  if (it == t.rows.end()) return false;
  t.rows.erase(it);
  t.ordered = false;
  return true;
}

Result<bool> MemoryStore::del(std::size_t table, std::string_view key, std::string_view value) {
  auto& t = tables_[table];
  auto it = t.rows.find(key);
  if (it == t.rows.end()) return false;
  if (!layout_[table].dupsort) {
    if (it->second.one != value) return false;
    t.rows.erase(it);
    t.ordered = false;
    return true;
  }
  auto& many = it->second.many->values;
  auto v = many.find(value);
  if (v == many.end()) return false;
  many.erase(v);
  it->second.many->ordered = false;
  if (many.empty()) {
    t.rows.erase(it);
    t.ordered = false;
  }
  return true;
}

const std::vector<const MemoryStore::Rows::value_type*>& MemoryStore::in_order(std::size_t table) const {
  std::lock_guard lock(*order_mutex_);
  const Table& t = tables_[table];
  if (!t.ordered) {
    t.order.clear();
    t.order.reserve(t.rows.size());
    for (const auto& row : t.rows) t.order.push_back(&row);
    std::sort(t.order.begin(), t.order.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
    t.ordered = true;
  }
  return t.order;
}

const std::vector<const std::string*>& MemoryStore::in_order(const Dups& dups) const {
  std::lock_guard lock(*order_mutex_);
  if (!dups.ordered) {
    dups.order.clear();
    dups.order.reserve(dups.values.size());
    for (const auto& value : dups.values) dups.order.push_back(&value);
    std::sort(dups.order.begin(), dups.order.end(), [](const auto* a, const auto* b) { return *a < *b; });
    dups.ordered = true;
  }
  return dups.order;
}

Result<void> MemoryStore::scan(std::size_t table, std::string_view from, const Visit& fn) const {
  const auto& order = in_order(table);
  bool dupsort = layout_[table].dupsort;
  auto it = std::lower_bound(order.begin(), order.end(), from,
                             [](const Rows::value_type* row, std::string_view k) { return row->first < k; });
  for (; it != order.end(); ++it) {
    const auto& [key, row] = **it;
    if (!dupsort) {
      if (!fn(key, row.one)) return {};
      continue;
    }
    for (const auto* value : in_order(*row.many))
      if (!fn(key, *value)) return {};
  }
  return {};
}

Result<void> MemoryStore::values(std::size_t table, std::string_view key,
                                 const std::function<bool(std::string_view)>& fn) const {
  const auto& rows = tables_[table].rows;
  auto it = rows.find(key);
  if (it == rows.end()) return {};
  if (!layout_[table].dupsort) {
    fn(it->second.one);
    return {};
  }
  for (const auto* value : in_order(*it->second.many))
    if (!fn(*value)) return {};
  return {};
}

Result<std::uint64_t> MemoryStore::count(std::size_t table) const {
  if (!layout_[table].dupsort) return static_cast<std::uint64_t>(tables_[table].rows.size());
  std::uint64_t n = 0;
  for (const auto& [key, row] : tables_[table].rows) n += row.many->values.size();
  return n;
}

// ---- comparing ---------------------------------------------------------------------------

namespace {

// The first entry of `from` that `to` lacks.
Result<std::optional<TableDifference>> first_missing(const StateStore& from, std::size_t from_table,
                                                     const StateStore& to, std::size_t to_table, bool from_is_left) {
  std::optional<TableDifference> diff;
  std::optional<Error> error;
  auto scanned = from.scan(from_table, {}, [&](std::string_view key, std::string_view value) {
    auto there = to.contains(to_table, key, value);
    if (!there) error = there.error();
    if (!there || *there) return there.has_value();
    auto other = to.get(to_table, key);
    if (!other) {
      error = other.error();
      return false;
    }
    std::optional<std::string> other_value;
    if (*other) other_value = std::string(**other);
    diff = from_is_left ? TableDifference{std::string(key), std::string(value), other_value}
                        : TableDifference{std::string(key), other_value, std::string(value)};
    return false;
  });
  if (!scanned) return fail(scanned.error());
  if (error) return fail(*error);
  return diff;
}

}  // namespace

Result<std::optional<TableDifference>> compare_table(const StateStore& left, std::size_t left_table,
                                                     const StateStore& right, std::size_t right_table) {
  auto missing_right = first_missing(left, left_table, right, right_table, true);
  if (!missing_right || *missing_right) return missing_right;
  return first_missing(right, right_table, left, left_table, false);
}

}  // namespace ashlar
