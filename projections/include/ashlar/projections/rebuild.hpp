#pragma once
// Rebuilding projections from the log alone.
//
// A rebuild folds the log into staging databases ("stage/<table>") in batches, one
// write transaction each, and after each batch stores a checkpoint (meta "rebuild": the
// last position folded and a fingerprint of what is being rebuilt). Until the last
// batch the live tables are untouched, so readers and the engine go on using them. The
// last batch, in the same transaction, folds whatever the log gained meanwhile, clears
// the live tables, copies the staging ones into them and clears those: readers see the
// old projections or the new ones, never a mix. An interrupted rebuild (a stop asked by
// the progress callback, a crash, a kill) leaves its checkpoint, and the next rebuild of
// the same projections resumes there; a rebuild of anything else starts over.

#include <ashlar/eventlog/log.hpp>
#include <ashlar/model/export.hpp>
#include <ashlar/projections/store.hpp>

#include <functional>
#include <string>
#include <vector>

namespace ashlar {

// Reshapes an event written under an older model into the current model's shape, in
// place (see ashlar/projections/upcast.hpp). Empty: events are folded as stored.
using Upcast = std::function<Result<void>(Event&)>;

// One projection to rebuild: its live tables and its fold over a store of them.
struct ASHLAR_API RebuildTarget {
  std::string name{};  // for messages: "state", a custom projection's name
  std::vector<TableSpec> tables{};
  std::function<Result<void>(StateStore& tables, const StoredEvent& event)> apply{};
  // A meta key set to the head when the rebuilt tables go live (a custom projection's
  // checkpoint); empty for none.
  std::string checkpoint_key{};
};

struct ASHLAR_API RebuildProgress {
  std::uint64_t position = 0;  // folded up to here
  std::uint64_t head = 0;      // the log's head when the batch ran
  std::uint64_t resumed_from = 0;  // the checkpoint this run started from (0: from scratch)
};

struct ASHLAR_API RebuildOptions {
  // Events per write transaction: a checkpoint after each. Larger batches are faster
  // and lose more work to an interruption.
  std::size_t batch_events = 20000;
  // Called after each batch; returning false stops the rebuild there (resumable).
  std::function<bool(const RebuildProgress&)> progress{};
  Upcast upcast{};
  // Mixed into the checkpoint's fingerprint: a rebuild resumes only a checkpoint made
  // with the same targets and the same fingerprint (say, the model's version).
  std::string fingerprint{};
  // Runs in the transaction that swaps the rebuilt tables in: what must change with
  // them, or not at all (a new model version whose projections these are).
  std::function<Result<void>(Txn&)> on_swap{};
};

struct ASHLAR_API RebuildReport {
  bool complete = false;       // false: stopped by the progress callback; rerun to finish
  std::uint64_t position = 0;  // folded up to here (the head, when complete)
  std::uint64_t resumed_from = 0;
  std::uint64_t events = 0;    // folded by this run
};

// Rebuilds the targets' tables from the log (see above). Needs a log open for writing.
// On an error nothing of the failing batch is kept, the live tables are untouched and
// the checkpoint of the last good batch stays. Unknown naming the position when an
// event does not fold (the log and the model disagree).
Result<RebuildReport> rebuild(Log& log, const std::vector<RebuildTarget>& targets,
                              const RebuildOptions& options = {});

// The checkpoint an interrupted rebuild left, or nullopt.
ASHLAR_API Result<std::optional<std::uint64_t>> rebuild_checkpoint(const Log& log, const Txn& txn);

// Folds events [from, to] (0: to the head) into stores, one per target, in log order,
// upcast first. For replays into memory (verify, time travel).
Result<std::uint64_t> fold(const Log& log, const Txn& txn, std::uint64_t from, std::uint64_t to,
                           const std::vector<const RebuildTarget*>& targets, const std::vector<StateStore*>& stores,
                           const Upcast& upcast = {});

// The name a table takes while it is rebuilt.
inline std::string staging_name(std::string_view table) { return "stage/" + std::string(table); }

}  // namespace ashlar
