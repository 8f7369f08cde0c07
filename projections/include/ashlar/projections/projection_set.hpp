#pragma once
// The machinery behind custom projections (ashlar/projections/custom.hpp): folding them in
// the append's transaction, the background thread of the asynchronous ones, their
// checkpoints and rebuilds. The runtime's and the command line's, not an embedder's: the
// Engine header does not include it.

#include <ashlar/model/export.hpp>
#include <ashlar/projections/custom.hpp>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace ashlar {

class ASHLAR_API ProjectionSet {
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
