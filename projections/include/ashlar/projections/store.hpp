#pragma once
// The bytes a projection is made of: a few tables of sorted keys and values. The same
// fold writes them into LMDB (the live projection, or the staging copy a rebuild fills)
// or into memory (a replay that verify compares, a past state for time travel), so
// "a replay equals the live state" can be checked entry by entry.

#include <ashlar/eventlog/txn.hpp>
#include <ashlar/model/export.hpp>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace ashlar {

// One table: an LMDB database's name and whether it keeps several sorted values per key.
struct ASHLAR_API TableSpec {
  std::string name{};
  bool dupsort = false;
  bool operator==(const TableSpec&) const = default;
};

// Tables are addressed by their index in the layout the store was made with.
class ASHLAR_API StateStore {
 public:
  virtual ~StateStore() = default;

  enum class Put { upsert, no_overwrite };
  using Visit = std::function<bool(std::string_view key, std::string_view value)>;

  virtual bool dupsort(std::size_t table) const = 0;
  // The value under key (the first one, in a dupsort table); valid until the next write.
  virtual Result<std::optional<std::string_view>> get(std::size_t table, std::string_view key) const = 0;
  // In a dupsort table, adds value under key (a value already there stays once).
  // Conflict when mode is no_overwrite and the key exists.
  virtual Result<void> put(std::size_t table, std::string_view key, std::string_view value,
                           Put mode = Put::upsert) = 0;
  // Deletes the key (all its values); false when it was not there.
  virtual Result<bool> del(std::size_t table, std::string_view key) = 0;
  // Deletes one value under key in a dupsort table; false when it was not there.
  virtual Result<bool> del(std::size_t table, std::string_view key, std::string_view value) = 0;
  // Visits entries from the first key >= from in key order (in a dupsort table, each
  // value of a key in value order) until fn returns false.
  virtual Result<void> scan(std::size_t table, std::string_view from, const Visit& fn) const = 0;
  // Visits the values under exactly key, in order, until fn returns false.
  virtual Result<void> values(std::size_t table, std::string_view key,
                              const std::function<bool(std::string_view)>& fn) const = 0;
  // Entries in the table (every value of a dupsort table counts).
  virtual Result<std::uint64_t> count(std::size_t table) const = 0;

  // True when the table holds exactly this key and value.
  Result<bool> contains(std::size_t table, std::string_view key, std::string_view value) const;
};

// Tables in an LMDB transaction: `dbs` aligned with the layout. Writes need a write
// transaction (the Txn& constructor); the const one reads.
class ASHLAR_API LmdbStore final : public StateStore {
 public:
  LmdbStore(Txn& txn, const std::vector<Db>& dbs, const std::vector<TableSpec>& layout)
      : txn_(&txn), writable_(&txn), dbs_(&dbs), layout_(&layout) {}
  LmdbStore(const Txn& txn, const std::vector<Db>& dbs, const std::vector<TableSpec>& layout)
      : txn_(&txn), dbs_(&dbs), layout_(&layout) {}

  bool dupsort(std::size_t table) const override { return (*layout_)[table].dupsort; }
  Result<std::optional<std::string_view>> get(std::size_t table, std::string_view key) const override;
  Result<void> put(std::size_t table, std::string_view key, std::string_view value, Put mode) override;
  Result<bool> del(std::size_t table, std::string_view key) override;
  Result<bool> del(std::size_t table, std::string_view key, std::string_view value) override;
  Result<void> scan(std::size_t table, std::string_view from, const Visit& fn) const override;
  Result<void> values(std::size_t table, std::string_view key,
                      const std::function<bool(std::string_view)>& fn) const override;
  Result<std::uint64_t> count(std::size_t table) const override;

  const Txn& txn() const { return *txn_; }

 private:
  Result<Txn*> writer() const;
  const Txn* txn_;
  Txn* writable_ = nullptr;
  const std::vector<Db>* dbs_;
  const std::vector<TableSpec>* layout_;
};

// Tables in memory, ordered as LMDB orders them (memcmp, shorter first). Keys are hashed,
// so a fold's gets and puts cost no ordered search; the key order a scan needs is sorted
// once after keys were added or removed, on the first scan that needs it. A scan's `fn`
// must not write to the store.
class ASHLAR_API MemoryStore final : public StateStore {
 public:
  explicit MemoryStore(std::vector<TableSpec> layout);

  bool dupsort(std::size_t table) const override { return layout_[table].dupsort; }
  Result<std::optional<std::string_view>> get(std::size_t table, std::string_view key) const override;
  Result<void> put(std::size_t table, std::string_view key, std::string_view value, Put mode) override;
  Result<bool> del(std::size_t table, std::string_view key) override;
  Result<bool> del(std::size_t table, std::string_view key, std::string_view value) override;
  Result<void> scan(std::size_t table, std::string_view from, const Visit& fn) const override;
  Result<void> values(std::size_t table, std::string_view key,
                      const std::function<bool(std::string_view)>& fn) const override;
  Result<std::uint64_t> count(std::size_t table) const override;

  const std::vector<TableSpec>& layout() const { return layout_; }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  // The values of one key of a dupsort table, hashed too, and sorted when read in order.
  struct Dups {
    std::unordered_set<std::string, Hash, std::equal_to<>> values{};
    mutable std::vector<const std::string*> order{};
    mutable bool ordered = true;
  };
  // A plain table keeps one value per key (`one`); a dupsort one a set of them.
  struct Row {
    std::string one{};
    std::unique_ptr<Dups> many{};
  };
  using Rows = std::unordered_map<std::string, Row, Hash, std::equal_to<>>;
  struct Table {
    Rows rows{};
    mutable std::vector<const Rows::value_type*> order{};  // rows in key order, when `ordered`
    mutable bool ordered = true;
  };
  const std::vector<const Rows::value_type*>& in_order(std::size_t table) const;
  const std::vector<const std::string*>& in_order(const Dups& dups) const;

  std::vector<TableSpec> layout_;
  std::vector<Table> tables_;
  std::unique_ptr<std::mutex> order_mutex_ = std::make_unique<std::mutex>();  // concurrent scans sort once
};

// The first difference between the same table in two stores, or nullopt when they hold
// the same entries byte for byte.
struct ASHLAR_API TableDifference {
  std::string key{};
  std::optional<std::string> left{};   // the left store's value under key, nullopt when absent
  std::optional<std::string> right{};  // the right store's
};
ASHLAR_API Result<std::optional<TableDifference>> compare_table(const StateStore& left, std::size_t left_table,
                                                     const StateStore& right, std::size_t right_table);

}  // namespace ashlar
