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
// by Engine::catch_up) without touching the log. Either kind rebuilds from the
// log on its own (ashlar/projections/rebuild.hpp).

#include <ashlar/model/export.hpp>
#include <ashlar/projections/rebuild.hpp>
#include <ashlar/projections/store.hpp>

#include <memory>

namespace ashlar {

enum class ProjectionMode { in_transaction, asynchronous };

class ASHLAR_API Projection {
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

}  // namespace ashlar
