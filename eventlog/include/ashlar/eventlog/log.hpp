#pragma once
// The event log: one LMDB environment holding the events, their hash chain, the
// per-resource and per-record indexes, the stored model, and the databases that
// projections open in it. See eventlog/FORMAT.md for the layout.

#include <ashlar/eventlog/event.hpp>
#include <ashlar/eventlog/txn.hpp>
#include <ashlar/model/export.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ashlar {

using Hash = std::array<std::uint8_t, 32>;
ASHLAR_API std::string to_hex(const Hash& hash);

enum class Durability {
  sync,          // fsync on every commit: a committed action survives a power loss (default)
  no_meta_sync,  // data flushed, meta page not: may lose the last commits on power loss, never corrupts
  no_sync,       // the OS flushes when it likes: fastest; a crash of the machine may lose recent commits
};

struct ASHLAR_API LogOptions {
  // The map starts at this size and doubles ahead of a write transaction whenever less
  // than map_headroom (and less than half the map) is free, so a transaction seldom fills
  // it; one that still does fails, and the map grows before the next one.
  std::size_t initial_map_size = std::size_t{16} << 20;
  std::size_t map_headroom = std::size_t{16} << 20;
  // Past this the write fails with a clear error and nothing is written.
  std::size_t max_map_size = std::size_t{64} << 30;
  Durability durability = Durability::sync;
  // Named databases the store may hold; each resource's projection uses a few.
  unsigned max_databases = 1024;
  // When set, the chain is keyed BLAKE2b (16 to 64 bytes); keep the key outside the store.
  // The first append refuses to go on a chain written with another key, or keyed when none
  // is given (or the other way round): Framework, code chain_key, nothing appended.
  std::string chain_key;
  // The format a new store is created in (eventlog/FORMAT.md): 2, the newest, keeps each
  // event's chain hash in its events entry; 1 keeps it in a table of its own, for programs
  // that read only version 1. An existing store keeps the format it was created in.
  std::uint32_t format_version = 2;
};

struct ASHLAR_API Head {
  std::uint64_t position = 0;  // 0 for an empty log
  Hash hash{};                 // 32 zero bytes for an empty log
};

// One version of the stored model.
struct ASHLAR_API StoredModel {
  std::uint64_t version = 0;
  std::uint64_t since = 0;  // the position of the first event written under it
  std::string json;
};

// An event as read from the log: decoded, with its exact bytes and chain hash.
struct ASHLAR_API StoredEvent {
  Event event;
  std::string bytes;
  Hash hash{};
};

struct ASHLAR_API LogCheckOptions {
  std::string chain_key{};  // the chain's key when it is keyed
  // Also prove h(expect_position) == expect_hash (0: no such check).
  std::uint64_t expect_position = 0;
  Hash expect_hash{};
  // Each event that decodes, in log order (to fold it into a replay in the same pass).
  std::function<void(const StoredEvent&)> visit{};
  // Every so often, with the position reached.
  std::function<void(std::uint64_t position)> progress{};
};

// What Log::check found; no problems when all holds.
struct ASHLAR_API LogCheck {
  Head head{};               // the stored head
  std::uint64_t events = 0;  // events read
  std::vector<std::string> problems{};  // each a sentence naming the position or entry
};

class ASHLAR_API Log {
 public:
  // The newest store format this build writes, and the oldest it reads and writes.
  static constexpr std::uint32_t kFormatVersion = 2;
  static constexpr std::uint32_t kOldestFormatVersion = 1;

  // Opens or creates the store in directory `path` for writing. A directory that is empty,
  // missing, or holds only what a first open killed early leaves (writer.lock, lock.mdb,
  // an empty data.mdb) gets a new store. Conflict (writer_locked) when another process (or
  // another Log in this one) writes it, also while that one is creating it; Framework when
  // `path` holds something that is not an ashlar store or a format version this build does
  // not know; store_damaged when data.mdb is shorter than its meta pages say ("DIR is
  // damaged: data.mdb is N bytes, the store needs M") or its meta pages are damaged.
  static Result<std::unique_ptr<Log>> open(const std::string& path, LogOptions options = {});
  // Opens an existing store for reading only; any number of readers may run beside the
  // writer. The errors of open, and Framework store_not_initialized when the directory is
  // a store whose first open for writing has not finished.
  static Result<std::unique_ptr<Log>> open_read_only(const std::string& path);
  ~Log();

  const std::string& path() const { return path_; }
  bool read_only() const { return read_only_; }

  // Runs fn in a write transaction, once, and commits it with the configured durability.
  // When fn fails, nothing it wrote is kept. The map grows ahead of the transaction (see
  // LogOptions::map_headroom); a transaction that fills it anyway is rolled back and the
  // map grown, and the error says so: code store_grew (run it again: it now fits), or
  // store_full at max_map_size. fn is never run twice: whether its work can be repeated
  // is the caller's to decide. after_commit runs once the commit is durable, before the
  // next write transaction begins, so what it observes is in log order.
  Result<void> write_once(const std::function<Result<void>(Txn&)>& fn,
                          const std::function<void()>& after_commit = {});
  // The same, run again after the map grew, so fn must derive everything from the
  // transaction and have no other effect (storage maintenance, rebuilds, tests).
  Result<void> write(const std::function<Result<void>(Txn&)>& fn,
                     const std::function<void()>& after_commit = {});
  // Runs fn in a transaction nested in `parent` (a write transaction of this log): what
  // fn writes is kept, as part of parent, only when fn succeeds.
  Result<void> nested(Txn& parent, const std::function<Result<void>(Txn&)>& fn);
  // A read transaction: a consistent snapshot; never waits for the writer.
  Result<Txn> read() const;

  // A named database, created on first use by a writer; dupsort keeps several sorted
  // values under one key (secondary indexes).
  Result<Db> database(const std::string& name, bool dupsort = false);

  // B-tree lookups made through this log's transactions since it opened.
  const StorageCounters& counters() const { return counters_; }

  // Appends `event` (position, sequence and, when zero, tx are assigned here) with its
  // chain hash and index entries. The caller sets the version. An event with an
  // idempotency key is indexed under (tenant, key): Conflict when that key is taken.
  Result<StoredEvent> append(Txn& txn, Event event);
  // The position of the event appended with this idempotency key for this tenant, or
  // nullopt (eventlog/src/idempotency.cpp).
  Result<std::optional<std::uint64_t>> idempotent_position(const Txn& txn, std::string_view tenant,
                                                           std::string_view key) const;
  // Idempotency keys are at most this long, so (tenant, key) fits an LMDB key.
  static constexpr std::size_t kMaxIdempotencyKey = 255;

  Result<Head> head(const Txn& txn) const;
  Result<Head> head() const;  // in a snapshot of its own
  // The last per-resource sequence (0 when the resource has no events).
  Result<std::uint64_t> last_sequence(const Txn& txn, std::string_view resource) const;
  // The last version of the record with this encoded key (0 when it has no events).
  Result<std::uint64_t> last_version(const Txn& txn, std::string_view resource,
                                     std::string_view key_bytes) const;
  // Visits events in log order from `from` (inclusive) until fn returns false. An event
  // that does not decode ends the scan with a decode_error naming its position ("event
  // at position 17 does not decode: ..."), after fn has seen every event before it; this
  // and the stream scans below fail so too.
  Result<void> scan(const Txn& txn, std::uint64_t from,
                    const std::function<bool(const StoredEvent&)>& fn) const;
  Result<std::optional<StoredEvent>> event_at(const Txn& txn, std::uint64_t position) const;

  // Streams (eventlog/src/streams.cpp). Visits one resource's events in sequence order
  // from `from_sequence` (inclusive) until fn returns false.
  Result<void> scan_resource(const Txn& txn, std::string_view resource, std::uint64_t from_sequence,
                             const std::function<bool(const StoredEvent&)>& fn) const;
  // The sequence of the resource's first event after global `position`; one past its
  // last sequence when it has none (a binary search over its stream).
  Result<std::uint64_t> first_sequence_after(const Txn& txn, std::string_view resource,
                                             std::uint64_t position) const;
  // Visits one record's events from `from_version` (inclusive) down to version 1, newest
  // first, until fn returns false: the record's values as of an earlier version.
  Result<void> scan_record_back(const Txn& txn, std::string_view resource, std::string_view key_bytes,
                                std::uint64_t from_version,
                                const std::function<bool(const StoredEvent&)>& fn) const;

  // Entries of `meta` other parts keep there (projection checkpoints, the rebuild
  // checkpoint, model versions; eventlog/FORMAT.md lists the keys).
  Result<std::optional<std::string>> get_meta(const Txn& txn, std::string_view key) const;
  Result<void> put_meta(Txn& txn, std::string_view key, std::string_view value);
  Result<bool> del_meta(Txn& txn, std::string_view key);
  // Visits the meta entries whose key starts with prefix, in key order, until fn returns false.
  Result<void> scan_meta(const Txn& txn, std::string_view prefix,
                         const std::function<bool(std::string_view key, std::string_view value)>& fn) const;

  // The stored model (JSON, written by the model library), or nullopt for a new store.
  Result<std::optional<std::string>> model(const Txn& txn) const;
  // Stores the current model. When it differs from the current one it becomes a new
  // version, whose events start after the head; the old versions are kept.
  Result<void> put_model(Txn& txn, std::string_view json);
  // Every model the store has had, oldest first: version 1, 2, ... and the position of
  // the first event written under each. Empty for a new store; a store written before
  // models were versioned reads as its one model, version 1 since position 1.
  Result<std::vector<StoredModel>> models(const Txn& txn) const;

  // Checks, in one pass over the snapshot: positions run 1..head without a gap, every
  // stored hash is h(n) recomputed from the bytes (the first bad position is named; the
  // rest of the chain is then not blamed), every event decodes, its per-resource
  // sequence follows the last, and by_resource and by_record hold exactly one entry per
  // event, pointing at it, and idem exactly one per event with an idempotency key
  // (eventlog/src/check.cpp).
  Result<LogCheck> check(const Txn& txn, const LogCheckOptions& options) const;

  // Reads every page of every database (every entry of each, and the free list) through
  // LMDB's cursors in a child process, since LMDB keeps no checksums: a damaged page can
  // make it assert or fault, which then ends only the child. store_damaged ("damaged
  // store: DIR: ...") naming what the child met; io_error when it cannot be started.
  // Costs a read of the whole file (eventlog/src/page_walk.cpp).
  Result<void> check_pages() const;

  // h(n) = BLAKE2b-256(h(n-1) ‖ bytes(n)), keyed when a key is given.
  static Hash chain(const Hash& previous, std::string_view bytes, std::string_view key = {});

  // Current map size in bytes, for stats and tests.
  std::size_t map_size() const;
  std::size_t max_map_size() const { return options_.max_map_size; }
  // The format this store is in (LogOptions::format_version).
  std::uint32_t format_version() const { return format_version_; }

 private:
  Log();
  Result<void> open_databases();
  // Framework (code chain_key) when the last event's hash is not what the chain key
  // given (or none) makes of it.
  Result<void> check_chain_key(const Txn& txn) const;
  Result<Txn> begin(bool writable) const;
  // Doubles the map (up to max_map_size); store_full when it is there already.
  Result<void> grow();
  // Grows the map until map_headroom and half of it are free (or it is at max_map_size).
  Result<void> grow_ahead();

  Result<void> put_idempotency_key(Txn& txn, const Event& event);

  std::string path_;
  LogOptions options_;
  bool read_only_ = false;
  std::size_t map_size_ = 0;
  Db events_, chain_, by_resource_, by_record_, meta_, idem_;  // chain_ only in format 1
  std::uint32_t format_version_ = kFormatVersion;
  bool chain_key_checked_ = false;  // by the first append (check_chain_key)
  mutable StorageCounters counters_;
  // The LMDB environment, the writer lock, the pool of read transactions and the locks
  // that guard them: eventlog/src/log.cpp's own.
  struct Handles;
  std::unique_ptr<Handles> h_;
};

}  // namespace ashlar
