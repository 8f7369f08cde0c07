#pragma once
// Transactions and cursors over the store's named databases. Move-only owners of LMDB
// handles; a transaction aborts unless it was committed.

#include <ashlar/model/export.hpp>
#include <ashlar/model/result.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

struct MDB_txn;
struct MDB_cursor;

namespace ashlar {

class ReaderPool;  // read transactions kept reset for reuse (eventlog/src/reader_pool.hpp)

// Counts of B-tree lookups (gets and cursor positionings; not steps to a neighbour), so
// tests can prove that loads are batched and that filters use indexes.
struct ASHLAR_API StorageCounters {
  std::atomic<std::uint64_t> lookups{0};
};

// A named database's handle, valid for the life of the store.
struct ASHLAR_API Db {
  unsigned handle = 0;
  bool exists = true;  // false: opened read-only and not (yet) created by a writer
};

class ASHLAR_API Cursor {
 public:
  Cursor(Cursor&&) noexcept;
  Cursor& operator=(Cursor&&) noexcept;
  ~Cursor();

  // Each moves the cursor and returns false when there is no such entry.
  Result<bool> first();
  Result<bool> last();
  Result<bool> next();
  Result<bool> prev();
  Result<bool> seek(std::string_view key);  // the first key >= key
  Result<bool> find(std::string_view key);  // exactly key (its first value, in a dupsort db)
  Result<bool> next_dup();                  // the next value under the same key (dupsort)
  // Valid after a move that returned true, until the next write in the transaction.
  std::string_view key() const { return key_; }
  std::string_view value() const { return value_; }

 private:
  friend class Txn;
  Cursor(MDB_cursor* cursor, bool empty, StorageCounters* counters)
      : cursor_(cursor), empty_(empty), counters_(counters) {}
  Result<bool> move(int op, std::string_view seek_key = {});
  MDB_cursor* cursor_ = nullptr;
  bool empty_ = false;  // a database that does not exist: every move finds nothing
  StorageCounters* counters_ = nullptr;
  std::string_view key_, value_;
};

class ASHLAR_API Txn {
 public:
  Txn(Txn&&) noexcept;
  Txn& operator=(Txn&&) noexcept;
  ~Txn();  // aborts unless committed

  bool writable() const { return writable_; }

  // The value stored under key (valid until the next write in this transaction).
  Result<std::optional<std::string_view>> get(Db db, std::string_view key) const;
  // Conflict when mode is no_overwrite and the key exists; append requires a key past
  // the last one; append_dup (dupsort databases) a value past the last one under the
  // last key.
  enum class PutMode { upsert, no_overwrite, append, append_dup };
  Result<void> put(Db db, std::string_view key, std::string_view value, PutMode mode = PutMode::upsert);
  // False when the key was not there.
  Result<bool> del(Db db, std::string_view key);
  // Deletes one value under key in a dupsort database; false when it was not there.
  Result<bool> del(Db db, std::string_view key, std::string_view value);
  Result<Cursor> cursor(Db db) const;
  // Number of entries in db (in a dupsort database, every value counts).
  Result<std::uint64_t> count(Db db) const;
  // Deletes every entry of db; the database itself stays (its handle remains valid).
  Result<void> clear(Db db);

  // Opens a named database in this transaction (eventlog/src/txn_databases.cpp): a write
  // transaction creates it when `create`; nullopt when it does not exist. A handle opened
  // so serves other transactions only once this one (and every parent) commits, and is
  // gone when it aborts. Opening must not race with another opening in the process: the
  // write transaction's thread is the only one that opens. Code store_full when the store
  // has as many named databases open as it may (LogOptions::max_databases).
  Result<std::optional<Db>> open_database(const std::string& name, bool dupsort, bool create) const;
  // The names of the store's named databases that start with prefix, in key order.
  Result<std::vector<std::string>> database_names(std::string_view prefix) const;

  // True once an operation failed because the map is full; the store grows and retries.
  bool map_full() const { return map_full_; }

 private:
  friend class Log;
  Txn(MDB_txn* txn, bool writable, std::shared_lock<std::shared_mutex> resize_guard,
      StorageCounters* counters, ReaderPool* pool = nullptr);
  Result<void> commit();
  void abort();
  Error lmdb_error(int rc, std::string_view what) const;

  MDB_txn* txn_ = nullptr;
  bool writable_ = false;
  mutable bool map_full_ = false;
  std::shared_lock<std::shared_mutex> resize_guard_;  // the map is not resized under us
  StorageCounters* counters_ = nullptr;
  ReaderPool* pool_ = nullptr;  // a read transaction goes back to it, reset, when done
};

// One function turns LMDB codes into errors.
ASHLAR_API Error lmdb_error(int rc, std::string_view what);

}  // namespace ashlar
