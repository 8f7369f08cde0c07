#pragma once
// Custom projections: user code fed every event in log order, keeping its own tables
// (LMDB databases "proj/<name>/<table>") and its own checkpoint (meta
// "projection/<name>": the last position it folded).
//
//   class Activity final : public ashlar::Projection {
//     std::string name() const override { return "activity"; }
//     std::vector<TableSpec> tables() const override { return {{"by_actor"}}; }
//     Result<void> apply(StateStore& t, const StoredEvent& e) override { ... t.put(0, key, value) ... }
//   };
//
// An in-transaction projection is folded in the transaction that appends each event:
// it is never behind, and its error rolls the action back. An asynchronous one is
// folded by a background thread after commits, in batches: actions never wait for it,
// it catches up after a restart from its checkpoint, and an error stops it (reported
// by ProjectionSet::catch_up) without touching the log. Either kind rebuilds from the
// log on its own (ashlar/projections/rebuild.hpp).

#include <ashlar/projections/rebuild.hpp>
#include <ashlar/projections/store.hpp>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace ashlar {

enum class ProjectionMode { in_transaction, asynchronous };

class Projection {
 public:
  virtual ~Projection() = default;
  // An identifier ([A-Za-z_][A-Za-z0-9_]*), stable across runs: it names the tables and
  // the checkpoint.
  virtual std::string name() const = 0;
  virtual ProjectionMode mode() const { return ProjectionMode::in_transaction; }
  // The tables, by short name; apply() and readers address them by index in this list.
  virtual std::vector<TableSpec> tables() const = 0;
  // Folds one event, in the current model's shape (upcast when it was written under an
  // older one). Depend on nothing but the tables and the event, so that a rebuild gives
  // the same bytes. May run on the background thread (asynchronous projections).
  virtual Result<void> apply(StateStore& tables, const StoredEvent& event) = 0;
};

class ProjectionSet {
 public:
  // Opens the projections' tables, folds into in-transaction projections what they
  // have not seen (a projection new to this store starts from position 1), and starts
  // the background thread for asynchronous ones. Framework for a bad or duplicate name.
  static Result<std::unique_ptr<ProjectionSet>> open(Log& log, std::vector<std::shared_ptr<Projection>> projections,
                                                     Upcast upcast = {});
  ~ProjectionSet();  // stops the background thread (its current batch commits first)

  // In the transaction that appended `event`: folds it into the in-transaction
  // projections and advances their checkpoints.
  Result<void> apply_inline(Txn& txn, const StoredEvent& event);
  // After a commit: wakes the background thread.
  void committed();
  // Folds into the asynchronous projections everything up to the current head, on the
  // calling thread; their first error, if one stopped them.
  Result<void> catch_up();
  // After a rebuild of the projections: an asynchronous projection an error stopped
  // starts again from its (rebuilt) checkpoint.
  void rebuilt();

  // A rebuild target per projection (all of them, or the one named).
  std::vector<RebuildTarget> targets() const;
  Result<RebuildTarget> target(std::string_view name) const;
  // Runs fn over a projection's tables in one read snapshot.
  Result<void> read(std::string_view name, const std::function<Result<void>(const StateStore&)>& fn) const;
  // The last position folded into the named projection.
  Result<std::uint64_t> checkpoint(std::string_view name) const;

  static std::string table_name(std::string_view projection, std::string_view table) {
    return "proj/" + std::string(projection) + "/" + std::string(table);
  }
  static std::string checkpoint_key(std::string_view projection) { return "projection/" + std::string(projection); }

 private:
  struct Entry {
    std::shared_ptr<Projection> projection;
    std::string name;
    std::vector<TableSpec> layout;  // full table names
    std::vector<Db> dbs;
  };
  ProjectionSet(Log& log, Upcast upcast) : log_(log), upcast_(std::move(upcast)) {}
  const Entry* find(std::string_view name) const;
  // One write transaction folding up to `batch` events into the entry; false at the head.
  Result<bool> advance(Entry& entry, std::size_t batch);
  void run_worker();

  Log& log_;
  Upcast upcast_;
  std::vector<Entry> entries_;
  std::mutex advance_mutex_;  // one catch-up at a time
  std::mutex mutex_;          // guards the fields below
  std::condition_variable wake_;
  bool pending_ = false, stopping_ = false;
  std::optional<Error> async_error_;
  std::thread worker_;
};

}  // namespace ashlar
