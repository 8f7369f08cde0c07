#include <ashlar/eventlog/txn.hpp>

#include "reader_pool.hpp"

#include <fmt/format.h>
#include <lmdb.h>

#include <cerrno>

namespace ashlar {
namespace {
MDB_val val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
std::string_view view(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }
}  // namespace

Error lmdb_error(int rc, std::string_view what) {
  if (rc == MDB_MAP_FULL)
    return Error::unknown(fmt::format("{}: the store is full (its map size limit is reached; raise "
                                      "max_map_size)", what))
        .with_code(codes::kStoreFull);
  if (rc == ENOSPC) return Error::unknown(fmt::format("{}: the disk is full", what)).with_code(codes::kIoError);
  if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH)
    return Error::unknown(fmt::format("{}: the store is corrupted ({})", what, mdb_strerror(rc)))
        .with_code(codes::kStoreDamaged);
  if (rc == EIO) return Error::unknown(fmt::format("{}: {}", what, mdb_strerror(rc))).with_code(codes::kIoError);
  return Error::unknown(fmt::format("{}: {}", what, mdb_strerror(rc)));
}

Cursor::Cursor(Cursor&& o) noexcept
    : cursor_(std::exchange(o.cursor_, nullptr)), empty_(o.empty_), counters_(o.counters_), key_(o.key_),
      value_(o.value_) {}
Cursor& Cursor::operator=(Cursor&& o) noexcept {
  if (this != &o) {
    if (cursor_) mdb_cursor_close(cursor_);
    cursor_ = std::exchange(o.cursor_, nullptr);
    empty_ = o.empty_;
    counters_ = o.counters_;
    key_ = o.key_;
    value_ = o.value_;
  }
  return *this;
}
Cursor::~Cursor() {
  if (cursor_) mdb_cursor_close(cursor_);
}

Result<bool> Cursor::move(int op, std::string_view seek_key) {
  bool positions = op == MDB_SET_RANGE || op == MDB_SET_KEY || op == MDB_FIRST || op == MDB_LAST;
  if (positions && counters_) counters_->lookups.fetch_add(1, std::memory_order_relaxed);
  if (empty_) return false;
  MDB_val k = val(seek_key), v{};
  int rc = mdb_cursor_get(cursor_, &k, &v, static_cast<MDB_cursor_op>(op));
  if (rc == MDB_NOTFOUND) return false;
  if (rc != 0) return fail(lmdb_error(rc, "reading the store"));
  key_ = view(k);
  value_ = view(v);
  return true;
}

Result<bool> Cursor::first() { return move(MDB_FIRST); }
Result<bool> Cursor::last() { return move(MDB_LAST); }
Result<bool> Cursor::next() { return move(MDB_NEXT); }
Result<bool> Cursor::prev() { return move(MDB_PREV); }
Result<bool> Cursor::seek(std::string_view key) { return move(MDB_SET_RANGE, key); }
Result<bool> Cursor::find(std::string_view key) { return move(MDB_SET_KEY, key); }
Result<bool> Cursor::next_dup() { return move(MDB_NEXT_DUP); }

Txn::Txn(MDB_txn* txn, bool writable, std::shared_lock<std::shared_mutex> guard, StorageCounters* counters,
         ReaderPool* pool)
    : txn_(txn), writable_(writable), resize_guard_(std::move(guard)), counters_(counters), pool_(pool) {}

Txn::Txn(Txn&& o) noexcept
    : txn_(std::exchange(o.txn_, nullptr)), writable_(o.writable_), map_full_(o.map_full_),
      resize_guard_(std::move(o.resize_guard_)), counters_(o.counters_), pool_(o.pool_) {}

Txn& Txn::operator=(Txn&& o) noexcept {
  if (this != &o) {
    abort();
    txn_ = std::exchange(o.txn_, nullptr);
    writable_ = o.writable_;
    map_full_ = o.map_full_;
    resize_guard_ = std::move(o.resize_guard_);
    counters_ = o.counters_;
    pool_ = o.pool_;
  }
  return *this;
}

Txn::~Txn() { abort(); }

void Txn::abort() {
  if (!txn_) return;
  MDB_txn* txn = std::exchange(txn_, nullptr);
  if (pool_) pool_->give(txn);  // a read transaction, reset for the next read
  else mdb_txn_abort(txn);
}

Result<void> Txn::commit() {
  int rc = mdb_txn_commit(std::exchange(txn_, nullptr));
  if (rc == MDB_MAP_FULL) map_full_ = true;
  if (rc != 0) return fail(lmdb_error(rc, "committing"));
  return {};
}

Error Txn::lmdb_error(int rc, std::string_view what) const {
  if (rc == MDB_MAP_FULL) map_full_ = true;
  return ::ashlar::lmdb_error(rc, what);
}

Result<std::optional<std::string_view>> Txn::get(Db db, std::string_view key) const {
  if (counters_) counters_->lookups.fetch_add(1, std::memory_order_relaxed);
  if (!db.exists) return std::optional<std::string_view>{};
  MDB_val k = val(key), v{};
  int rc = mdb_get(txn_, db.handle, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<std::string_view>{};
  if (rc != 0) return fail(lmdb_error(rc, "reading the store"));
  return std::optional<std::string_view>{view(v)};
}

Result<void> Txn::put(Db db, std::string_view key, std::string_view value, PutMode mode) {
  if (key.size() > static_cast<std::size_t>(mdb_env_get_maxkeysize(mdb_txn_env(txn_))))
    return fail(Error::unknown(fmt::format("a key of {} bytes is longer than the store allows", key.size())));
  MDB_val k = val(key), v = val(value);
  unsigned flags = mode == PutMode::no_overwrite ? MDB_NOOVERWRITE
                   : mode == PutMode::append     ? MDB_APPEND
                   : mode == PutMode::append_dup ? MDB_APPENDDUP
                                                 : 0;
  int rc = mdb_put(txn_, db.handle, &k, &v, flags);
  if (rc == MDB_KEYEXIST) return fail(Error::conflict({}, "the key is already stored"));
  if (rc != 0) return fail(lmdb_error(rc, "writing the store"));
  return {};
}

Result<bool> Txn::del(Db db, std::string_view key) {
  MDB_val k = val(key);
  int rc = mdb_del(txn_, db.handle, &k, nullptr);
  if (rc == MDB_NOTFOUND) return false;
  if (rc != 0) return fail(lmdb_error(rc, "writing the store"));
  return true;
}

Result<bool> Txn::del(Db db, std::string_view key, std::string_view value) {
  MDB_val k = val(key), v = val(value);
  int rc = mdb_del(txn_, db.handle, &k, &v);
  if (rc == MDB_NOTFOUND) return false;
  if (rc != 0) return fail(lmdb_error(rc, "writing the store"));
  return true;
}

Result<Cursor> Txn::cursor(Db db) const {
  if (!db.exists) return Cursor(nullptr, true, counters_);
  MDB_cursor* c = nullptr;
  int rc = mdb_cursor_open(txn_, db.handle, &c);
  if (rc != 0) return fail(lmdb_error(rc, "opening a cursor"));
  return Cursor(c, false, counters_);
}

Result<std::uint64_t> Txn::count(Db db) const {
  if (!db.exists) return std::uint64_t{0};
  MDB_stat stat;
  int rc = mdb_stat(txn_, db.handle, &stat);
  if (rc != 0) return fail(lmdb_error(rc, "reading the store"));
  return std::uint64_t{stat.ms_entries};
}

Result<void> Txn::clear(Db db) {
  if (!db.exists) return {};
  int rc = mdb_drop(txn_, db.handle, 0);
  if (rc != 0) return fail(lmdb_error(rc, "clearing a database"));
  return {};
}

}  // namespace ashlar
