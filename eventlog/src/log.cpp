#include <ashlar/eventlog/log.hpp>

#include <ashlar/model/key.hpp>

#include "entries.hpp"
#include "keys.hpp"
#include "reader_pool.hpp"
#include "store_files.hpp"

#include <fmt/format.h>
#include <lmdb.h>
#include <sodium.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace ashlar {
namespace fs = std::filesystem;

namespace {
constexpr const char* kFormatKey = "format";

std::string format_bytes(std::uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>((v >> (24 - 8 * i)) & 0xFF);
  return s;
}

Error not_a_store(const std::string& path, std::string_view why) {
  return Error::framework(fmt::format("{} is not an ashlar store: {}", path, why));
}

Error not_initialized(const std::string& path) {
  return Error::framework(fmt::format("{} is not initialized yet: its first open for writing has not finished "
                                      "(opening it for writing initializes it)",
                                      path))
      .with_code(codes::kStoreNotInitialized);
}

// Before the writer lock: a directory with anything foreign and no store in it is refused,
// and so is an empty data.mdb that no first open of ours left (it creates writer.lock first).
Result<void> check_for_writing(const std::string& path) {
  ASHLAR_TRY(listing, store_files::list(path));
  bool no_store = !listing->data || listing->data_size == 0;
  if (no_store && listing->foreign) return fail(not_a_store(path, "it holds other files; use a new or empty directory"));
  if (listing->data && listing->data_size == 0 && !listing->writer_lock)
    return fail(not_a_store(path, "data.mdb is empty, and no writer.lock shows that an ashlar first open left it; "
                                  "remove it to start a new store"));
  return {};
}

// Before a read-only open maps anything.
Result<void> check_for_reading(const std::string& path) {
  ASHLAR_TRY(listing, store_files::list(path));
  if (listing->writer_lock && store_files::uninitialized(*listing)) return fail(not_initialized(path));
  if (!listing->data) return fail(not_a_store(path, "it has no data.mdb"));
  if (listing->data_size == 0) return fail(not_a_store(path, "data.mdb is empty"));
  return store_files::check_size(path);
}
}  // namespace

std::string to_hex(const Hash& hash) {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (auto b : hash) s += {kHex[b >> 4], kHex[b & 0xF]};
  return s;
}

Hash Log::chain(const Hash& previous, std::string_view bytes, std::string_view key) {
  crypto_generichash_state state;
  crypto_generichash_init(&state, reinterpret_cast<const unsigned char*>(key.data()), key.size(), 32);
  crypto_generichash_update(&state, previous.data(), previous.size());
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  Hash out;
  crypto_generichash_final(&state, out.data(), out.size());
  return out;
}

// The log's head and the last sequence of each resource appended to, as the last append
// left them, so an append need not read back what the one before it wrote. This log is
// the store's only writer (the writer lock) and append its only writer of the chain and
// by_resource, so what a committed transaction left holds for the next one; a write
// transaction that does not commit empties it, and it is read from the store again. A
// child transaction takes a copy, which replaces its parent's when it commits and is
// dropped when it rolls back.
struct AppendCache {
  std::optional<Head> head;
  std::vector<std::pair<std::string, std::uint64_t>> sequences;
};

struct Log::Handles {
  MDB_env* env = nullptr;
  AppendCache append_cache;  // the write transaction's, or its innermost child's
  MDB_txn* append_txn = nullptr;  // the transaction append_cache describes
  int lock_fd = -1;
  std::unique_ptr<ReaderPool> readers = std::make_unique<ReaderPool>();  // emptied before env closes
  std::mutex db_mutex;                  // guards opening named databases
  std::mutex write_mutex;               // one write transaction at a time in this process
  mutable std::shared_mutex resize_mutex;  // readers share; a resize excludes them
};

Log::Log() : h_(std::make_unique<Handles>()) {}

Log::~Log() {
  h_->readers.reset();
  if (h_->env) mdb_env_close(h_->env);
  if (h_->lock_fd >= 0) ::close(h_->lock_fd);  // releases the writer lock
}

Result<std::unique_ptr<Log>> Log::open(const std::string& path, LogOptions options) {
  if (sodium_init() < 0) return fail(Error::unknown("libsodium failed to initialize"));
  if (!options.chain_key.empty() &&
      (options.chain_key.size() < crypto_generichash_KEYBYTES_MIN ||
       options.chain_key.size() > crypto_generichash_KEYBYTES_MAX))
    return fail(Error::framework(fmt::format("the chain key must be {} to {} bytes, not {}",
                                             crypto_generichash_KEYBYTES_MIN,
                                             crypto_generichash_KEYBYTES_MAX, options.chain_key.size())));
  if (options.format_version < kOldestFormatVersion || options.format_version > kFormatVersion)
    return fail(Error::framework(fmt::format("format_version {} is not one this build writes: {} to {}",
                                             options.format_version, kOldestFormatVersion, kFormatVersion)));
  std::error_code ec;
  if (fs::exists(path, ec) && !fs::is_directory(path, ec))
    return fail(not_a_store(path, "it is a file, not a directory"));
  fs::create_directories(path, ec);
  if (ec) return fail(Error::unknown(fmt::format("cannot create {}: {}", path, ec.message())));
  ASHLAR_TRY_VOID(check_for_writing(path));

  std::unique_ptr<Log> log(new Log());
  log->path_ = path;
  log->options_ = options;
  std::string lock_path = (fs::path(path) / "writer.lock").string();
  log->h_->lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (log->h_->lock_fd < 0)
    return fail(Error::unknown(fmt::format("cannot open {}: {}", lock_path, std::strerror(errno))));
  if (::flock(log->h_->lock_fd, LOCK_EX | LOCK_NB) != 0)
    return fail(Error::conflict({}, fmt::format("{} is already open for writing by another process "
                                                "or engine; one writer at a time (readers may open "
                                                "it read-only)",
                                                path))
                    .with_code(codes::kWriterLocked));
  // Under the lock nobody else writes data.mdb: a missing or empty one (a first open
  // killed before LMDB wrote its meta pages) is initialized by LMDB below.
  if (std::uintmax_t size = fs::file_size(fs::path(path) / "data.mdb", ec); !ec && size > 0)
    ASHLAR_TRY_VOID(store_files::check_size(path));

  int rc = mdb_env_create(&log->h_->env);
  if (rc != 0) return fail(lmdb_error(rc, "creating the environment"));
  mdb_env_set_maxdbs(log->h_->env, options.max_databases);
  mdb_env_set_mapsize(log->h_->env, std::min(options.initial_map_size, options.max_map_size));
  unsigned flags = MDB_NOTLS;
  if (options.durability == Durability::no_meta_sync) flags |= MDB_NOMETASYNC;
  if (options.durability == Durability::no_sync) flags |= MDB_NOSYNC;
  rc = mdb_env_open(log->h_->env, path.c_str(), flags, 0644);
  if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH)
    return fail(not_a_store(path, "data.mdb is not an LMDB file this build reads"));
  if (rc != 0) return fail(lmdb_error(rc, fmt::format("opening {}", path)));
  MDB_envinfo info;
  mdb_env_info(log->h_->env, &info);
  log->map_size_ = info.me_mapsize;
  ASHLAR_TRY_VOID(log->open_databases());
  return log;
}

// A chain continued under another key (or none) than it was written with breaks at the
// first event so appended, for good: the last event's hash, recomputed with the key given,
// tells before anything is. Checked at a log's first append (opening to rebuild the
// projections, which appends nothing, needs no key).
Result<void> Log::check_chain_key(const Txn& txn) const {
  ASHLAR_TRY(last, head(txn));
  if (last->position == 0) return {};
  entries::Tables tables{events_, chain_, format_version_ != 1};
  Hash previous{};
  if (last->position > 1) {
    ASHLAR_TRY(before, entries::get(txn, tables, keys::be64(last->position - 1)));
    if (!*before) return fail(Error::unknown(fmt::format("the store is corrupted: event {} is missing", last->position - 1)));
    ASHLAR_TRY(hash, entries::hash_of(**before, last->position - 1));
    previous = *hash;
  }
  ASHLAR_TRY(entry, entries::get(txn, tables, keys::be64(last->position)));
  if (!*entry) return fail(Error::unknown(fmt::format("the store is corrupted: event {} is missing", last->position)));
  if (chain(previous, (*entry)->bytes, options_.chain_key) == last->hash) return {};
  std::string why;
  if (!options_.chain_key.empty() && chain(previous, (*entry)->bytes) == last->hash)
    why = "its hash chain is not keyed: open it without a chain key";
  else if (options_.chain_key.empty())
    why = "its hash chain is keyed: open it with its chain key";
  else
    why = "its hash chain is keyed with another key than the one given";
  return fail(Error::framework(fmt::format("{}: {} (or its last event, {}, was changed: ashlar verify tells which); "
                                           "appending under another key would break the chain for good",
                                           path_, why, last->position))
                  .with_code(codes::kChainKey));
}

Result<std::unique_ptr<Log>> Log::open_read_only(const std::string& path) {
  if (sodium_init() < 0) return fail(Error::unknown("libsodium failed to initialize"));
  std::error_code ec;
  if (fs::exists(path, ec) && !fs::is_directory(path, ec))
    return fail(not_a_store(path, "it is a file, not a directory"));
  if (!fs::is_directory(path, ec)) return fail(not_a_store(path, "no such directory"));
  ASHLAR_TRY_VOID(check_for_reading(path));
  std::unique_ptr<Log> log(new Log());
  log->path_ = path;
  log->read_only_ = true;
  int rc = mdb_env_create(&log->h_->env);
  if (rc != 0) return fail(lmdb_error(rc, "creating the environment"));
  mdb_env_set_maxdbs(log->h_->env, 1024);
  rc = mdb_env_open(log->h_->env, path.c_str(), MDB_RDONLY | MDB_NOTLS, 0644);
  if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH)
    return fail(not_a_store(path, "data.mdb is not an LMDB file this build reads"));
  if (rc != 0) return fail(lmdb_error(rc, fmt::format("opening {}", path)));
  MDB_envinfo info;
  mdb_env_info(log->h_->env, &info);
  log->map_size_ = info.me_mapsize;
  ASHLAR_TRY_VOID(log->open_databases());
  return log;
}

Result<void> Log::open_databases() {
  struct Named {
    const char* name;
    Db* db;
  };
  for (Named n : {Named{"events", &events_}, Named{"by_resource", &by_resource_}, Named{"by_record", &by_record_},
                  Named{"meta", &meta_}, Named{"idem", &idem_}}) {
    ASHLAR_TRY(db, database(n.name));
    *n.db = *db;
  }
  std::optional<std::string> format;
  {
    ASHLAR_TRY(txn, read());
    ASHLAR_TRY(stored, txn->get(meta_, kFormatKey));
    if (*stored) format = std::string(**stored);
  }  // the snapshot ends before any write: a write may need to resize the map
  if (!format) {
    if (read_only_ && fs::exists(fs::path(path_) / "writer.lock")) return fail(not_initialized(path_));
    if (read_only_) return fail(not_a_store(path_, "it has no format version"));
    format_version_ = options_.format_version;
    ASHLAR_TRY_VOID(write([this](Txn& w) { return w.put(meta_, kFormatKey, format_bytes(format_version_)); }));
  } else {
    std::uint32_t v = 0;
    for (unsigned char c : *format) v = (v << 8) | c;
    if (format->size() != 4 || v < kOldestFormatVersion || v > kFormatVersion)
      return fail(Error::framework(fmt::format("{} has format version {}; this build reads versions {} to {}",
                                               path_, v, kOldestFormatVersion, kFormatVersion)));
    format_version_ = v;
  }
  if (format_version_ == 1) {
    ASHLAR_TRY(db, database("chain"));
    chain_ = *db;
  }
  return {};
}

Result<Db> Log::database(const std::string& name, bool dupsort) {
  std::lock_guard lock(h_->db_mutex);
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(h_->env, nullptr, read_only_ ? MDB_RDONLY : 0, &txn);
  if (rc != 0) return fail(lmdb_error(rc, "opening database " + name));
  MDB_dbi dbi = 0;
  unsigned flags = (read_only_ ? 0 : MDB_CREATE) | (dupsort ? MDB_DUPSORT : 0);
  rc = mdb_dbi_open(txn, name.c_str(), flags, &dbi);
  if (rc == MDB_NOTFOUND && read_only_) {
    mdb_txn_abort(txn);
    return Db{0, false};
  }
  if (rc != 0) {
    mdb_txn_abort(txn);
    return fail(lmdb_error(rc, "opening database " + name));
  }
  rc = mdb_txn_commit(txn);
  if (rc != 0) return fail(lmdb_error(rc, "opening database " + name));
  return Db{dbi, true};
}

Result<Txn> Log::begin(bool writable) const {
  for (;;) {
    std::shared_lock guard(h_->resize_mutex, std::defer_lock);
    if (!writable) guard.lock();
    if (!writable) {
      if (MDB_txn* idle = h_->readers->take()) {
        if (mdb_txn_renew(idle) == 0) return Txn(idle, false, std::move(guard), &counters_, h_->readers.get());
        mdb_txn_abort(idle);  // e.g. the map was resized by another process: begin afresh below
      }
    }
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(h_->env, nullptr, writable ? 0 : MDB_RDONLY, &txn);
    if (rc == MDB_MAP_RESIZED) {  // another process grew the map: adopt its size
      if (guard.owns_lock()) guard.unlock();
      std::unique_lock exclusive(h_->resize_mutex);
      rc = mdb_env_set_mapsize(h_->env, 0);
      if (rc != 0) return fail(lmdb_error(rc, "adopting the new map size"));
      continue;
    }
    if (rc != 0) return fail(lmdb_error(rc, "beginning a transaction"));
    return Txn(txn, writable, std::move(guard), &counters_, writable ? nullptr : h_->readers.get());
  }
}

Result<Txn> Log::read() const { return begin(false); }

Result<void> Log::grow() {
  if (map_size_ >= options_.max_map_size)
    return fail(Error::unknown(fmt::format("the store is full: it reached its size limit of {} MiB "
                                           "(max_map_size); nothing was written",
                                           options_.max_map_size >> 20))
                    .with_code(codes::kStoreFull));
  std::size_t next = std::min(map_size_ * 2, options_.max_map_size);
  std::unique_lock exclusive(h_->resize_mutex);  // waits for this process's readers
  int rc = mdb_env_set_mapsize(h_->env, next);
  if (rc != 0) return fail(lmdb_error(rc, "growing the store"));
  map_size_ = next;
  return {};
}

Result<void> Log::grow_ahead() {
  for (;;) {
    MDB_envinfo info;
    MDB_stat stat;
    mdb_env_info(h_->env, &info);
    mdb_env_stat(h_->env, &stat);
    std::size_t used = (info.me_last_pgno + 1) * std::size_t{stat.ms_psize};
    std::size_t free = map_size_ > used ? map_size_ - used : 0;
    if ((free >= options_.map_headroom && free >= map_size_ / 2) || map_size_ >= options_.max_map_size) return {};
    ASHLAR_TRY_VOID(grow());
  }
}

Result<void> Log::write_once(const std::function<Result<void>(Txn&)>& fn, const std::function<void()>& after_commit) {
  if (read_only_) return fail(Error::framework(fmt::format("{} is open read-only", path_)));
  std::lock_guard lock(h_->write_mutex);
  ASHLAR_TRY_VOID(grow_ahead());
  bool map_full = false;
  {
    ASHLAR_TRY(txn, begin(true));
    struct Appending {  // the cache describes this transaction while it runs
      Handles& h;
      bool committed = false;
      ~Appending() {
        h.append_txn = nullptr;
        if (!committed) h.append_cache = {};
      }
    } appending{*h_};
    h_->append_txn = txn->txn_;
    auto result = fn(*txn);
    if (result) result = txn->commit();
    appending.committed = result.has_value();
    if (result) {
      if (after_commit) after_commit();
      return {};
    }
    map_full = txn->map_full();
    if (!map_full) return result;
  }  // the transaction is aborted here, before the map may change
  // It wrote more than the room grown ahead: grow by more than one step, so that a
  // second try is likely to fit.
  ASHLAR_TRY_VOID(grow());
  if (map_size_ < options_.max_map_size) ASHLAR_TRY_VOID(grow());
  return fail(Error::unknown(fmt::format("the store had to grow while the transaction ran, and nothing "
                                         "was written; it has grown to {} MiB: run it again",
                                         map_size_ >> 20))
                  .with_code(codes::kStoreGrew));
}

Result<void> Log::write(const std::function<Result<void>(Txn&)>& fn, const std::function<void()>& after_commit) {
  for (;;) {
    auto written = write_once(fn, after_commit);
    if (written || written.error().code != codes::kStoreGrew) return written;
  }
}

std::size_t Log::map_size() const { return map_size_; }

Result<void> Log::nested(Txn& parent, const std::function<Result<void>(Txn&)>& fn) {
  MDB_txn* child = nullptr;
  int rc = mdb_txn_begin(h_->env, parent.txn_, 0, &child);
  if (rc != 0) return fail(parent.lmdb_error(rc, "beginning a nested transaction"));
  Txn txn(child, true, std::shared_lock<std::shared_mutex>(), &counters_);
  // The child starts from what its parent appended; its own appends are kept with it.
  bool cached = h_->append_txn == parent.txn_;
  AppendCache saved;
  if (cached) {
    saved = h_->append_cache;
    h_->append_txn = child;
  }
  auto result = fn(txn);
  if (result) result = txn.commit();
  if (cached) {
    if (!result) h_->append_cache = std::move(saved);
    h_->append_txn = parent.txn_;
  }
  // A full map anywhere fails the outer transaction, which grows the map and retries.
  if (txn.map_full()) parent.map_full_ = true;
  return result;
}

Result<StoredEvent> Log::append(Txn& txn, Event event) {
  if (!chain_key_checked_) {
    ASHLAR_TRY_VOID(check_chain_key(txn));
    chain_key_checked_ = true;
  }
  // The head and sequences are those the last append left (see AppendCache); each is read
  // from the store when not known (and always in a transaction write_once did not begin).
  AppendCache* cache = h_->append_txn == txn.txn_ ? &h_->append_cache : nullptr;
  Head previous;
  if (cache && cache->head) {
    previous = *cache->head;
  } else {
    ASHLAR_TRY(h, head(txn));
    previous = *h;
  }
  std::uint64_t* cached_sequence = nullptr;
  if (cache)
    for (auto& [resource, sequence] : cache->sequences)
      if (resource == event.resource) cached_sequence = &sequence;
  if (cached_sequence) {
    event.sequence = *cached_sequence + 1;
  } else {
    ASHLAR_TRY(seq, last_sequence(txn, event.resource));
    event.sequence = *seq + 1;
  }
  event.position = previous.position + 1;
  if (event.tx == 0) event.tx = event.position;

  std::string record_key = keys::resource_prefix(event.resource);
  for (const auto& field : event.key) append_key(record_key, field.second);
  record_key += keys::be64(event.version);
  if (record_key.size() > keys::kMaxKeySize)
    return fail(Error::invalid(event.resource, event.action,
                               {{"", "key_too_long",
                                 fmt::format("the primary key takes {} bytes; at most {} fit an index key",
                                             record_key.size(), keys::kMaxKeySize)}}));

  ASHLAR_TRY_VOID(check_nesting(event));
  StoredEvent stored{std::move(event), {}, {}};
  stored.bytes = encode_event(stored.event);
  stored.hash = chain(previous.hash, stored.bytes, options_.chain_key);
  std::string pos = keys::be64(stored.event.position);
  if (format_version_ == 1) {
    ASHLAR_TRY_VOID(txn.put(events_, pos, stored.bytes, Txn::PutMode::append));
    std::string_view hash(reinterpret_cast<const char*>(stored.hash.data()), stored.hash.size());
    ASHLAR_TRY_VOID(txn.put(chain_, pos, hash, Txn::PutMode::append));
  } else {
    ASHLAR_TRY_VOID(txn.put(events_, pos, entries::join(stored.hash, stored.bytes), Txn::PutMode::append));
  }
  ASHLAR_TRY_VOID(txn.put(by_resource_, keys::resource_prefix(stored.event.resource) + keys::be64(stored.event.sequence), pos,
                          Txn::PutMode::no_overwrite));
  auto put = txn.put(by_record_, record_key, pos, Txn::PutMode::no_overwrite);
  if (!put && put.error().cls == ErrorClass::conflict)
    return fail(Error::conflict(stored.event.resource,
                                fmt::format("version {} of this record is already in the log", stored.event.version)));
  if (!put) return fail(put.error());
  ASHLAR_TRY_VOID(put_idempotency_key(txn, stored.event));
  if (cache) {
    cache->head = Head{stored.event.position, stored.hash};
    if (cached_sequence) *cached_sequence = stored.event.sequence;
    else cache->sequences.emplace_back(stored.event.resource, stored.event.sequence);
  }
  return stored;
}

Result<Head> Log::head(const Txn& txn) const {
  ASHLAR_TRY(c, txn.cursor(format_version_ == 1 ? chain_ : events_));
  ASHLAR_TRY(found, c->last());
  Head h;
  if (!*found) return h;
  std::string_view hash = format_version_ == 1 ? c->value() : entries::split(c->value()).hash;
  if (c->key().size() != 8 || hash.size() != entries::kHashSize)
    return fail(Error::unknown(format_version_ == 1 ? "the store is corrupted: a malformed chain entry"
                                                    : "the store is corrupted: the last event has no chain hash"));
  h.position = keys::read_be64(c->key());
  std::memcpy(h.hash.data(), hash.data(), entries::kHashSize);
  return h;
}

Result<void> Log::check_pages() const { return store_files::walk_pages(path_); }

Result<Head> Log::head() const {
  ASHLAR_TRY(txn, read());
  return head(*txn);
}

Result<std::uint64_t> Log::last_sequence(const Txn& txn, std::string_view resource) const {
  return keys::last_under(txn, by_resource_, keys::resource_prefix(resource));
}

Result<std::uint64_t> Log::last_version(const Txn& txn, std::string_view resource,
                                        std::string_view key_bytes) const {
  return keys::last_under(txn, by_record_, keys::record_prefix(resource, key_bytes));
}

Result<std::optional<StoredEvent>> Log::event_at(const Txn& txn, std::uint64_t position) const {
  std::optional<StoredEvent> out;
  auto r = scan(txn, position, [&](const StoredEvent& e) {
    if (e.event.position == position) out = e;
    return false;
  });
  if (!r) return fail(r.error());
  return out;
}

Result<void> Log::scan(const Txn& txn, std::uint64_t from,
                       const std::function<bool(const StoredEvent&)>& fn) const {
  ASHLAR_TRY(events, txn.cursor(events_));
  std::optional<Cursor> hashes;  // format 1: walked beside events
  std::string start = keys::be64(std::max<std::uint64_t>(from, 1));
  auto e = events->seek(start);
  Result<bool> h = false;
  if (format_version_ == 1) {
    ASHLAR_TRY(c, txn.cursor(chain_));
    hashes.emplace(std::move(*c));
    h = hashes->seek(start);
  }
  StoredEvent stored;  // one for the whole scan: its bytes' buffer is reused
  for (;;) {
    if (!e) return fail(e.error());
    if (!h) return fail(h.error());
    if (!*e) return {};
    std::uint64_t position = keys::read_be64(events->key());
    entries::Entry entry = entries::split(events->value());
    if (hashes) entry = {events->value(), *h && hashes->key() == events->key() ? hashes->value() : std::string_view{}};
    ASHLAR_TRY(hash, entries::hash_of(entry, position));
    ASHLAR_TRY(decoded, decode_event(entry.bytes, position));
    stored.event = std::move(*decoded);
    stored.bytes.assign(entry.bytes);
    stored.hash = *hash;
    if (!fn(stored)) return {};
    e = events->next();
    if (hashes) h = hashes->next();
  }
}

Result<std::optional<std::string>> Log::get_meta(const Txn& txn, std::string_view key) const {
  ASHLAR_TRY(v, txn.get(meta_, key));
  if (!*v) return std::optional<std::string>{};
  return std::optional<std::string>{std::string(**v)};
}

Result<void> Log::put_meta(Txn& txn, std::string_view key, std::string_view value) {
  return txn.put(meta_, key, value);
}

Result<bool> Log::del_meta(Txn& txn, std::string_view key) { return txn.del(meta_, key); }

Result<void> Log::scan_meta(const Txn& txn, std::string_view prefix,
                            const std::function<bool(std::string_view, std::string_view)>& fn) const {
  ASHLAR_TRY(c, txn.cursor(meta_));
  for (auto found = c->seek(prefix);; found = c->next()) {
    if (!found) return fail(found.error());
    if (!*found || c->key().substr(0, prefix.size()) != prefix) return {};
    if (!fn(c->key(), c->value())) return {};
  }
}

}  // namespace ashlar
