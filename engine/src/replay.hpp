#pragma once
// What the engine keeps for replay and audit: the stored model's versions and the
// upcast they imply, custom projections, and the migration of projections when the
// model changes.

#include <ashlar/engine.hpp>
#include <ashlar/projections/projection_set.hpp>
#include <ashlar/projections/state.hpp>
#include <ashlar/projections/tenants.hpp>
#include <ashlar/projections/upcast.hpp>

#include <memory>

namespace ashlar::runtime {

// How a store takes its model.
struct ModelSource {
  // The model's JSON as the store keeps it; empty: domain_to_json(domain). A replica keeps
  // the primary's bytes.
  std::string json{};
  // Upcasters of model versions the store has not reached yet wait for it (a replica is
  // declared the primary's upcasters of today while it applies older versions); otherwise
  // they are invalid.
  bool later_upcasters_wait = false;
};

class Replay {
 public:
  // Before the state projection opens: checks `domain` against the stored model (an
  // incompatibility is allowed when a declared upcaster covers its resource) and that
  // every upcaster the store recorded is declared again; Framework listing every
  // problem at once. A changed model becomes a new version: at once when the
  // projections fit it, else in the transaction that swaps in their rebuild (open()).
  static Result<Replay> install_model(Log& log, const Domain& domain, const std::vector<Upcaster>& upcasters,
                                      const ModelSource& source = {});

  // After: opens the custom projections, then rebuilds every projection when the model
  // change needs it (new indexes or identities on stored resources, backfilled
  // defaults, new upcasters), resuming an interrupted migration; `extra` (the tenants'
  // tables, tenants.hpp) are rebuilt with them. When the rebuild fails (an identity the
  // stored records already share), the store keeps its model.
  Result<void> open(Log& log, const StateProjection& state, std::vector<std::shared_ptr<Projection>> projections,
                    std::vector<RebuildTarget> extra = {});
  // True from install_model() until open() when the model change needs a rebuild.
  bool migrating() const { return migrate_; }

  std::uint64_t model_version() const { return model_version_; }
  const Upcast& upcast() const { return upcast_; }

  // The engine's write path: in the append's transaction, and after each commit.
  Result<void> apply_inline(Txn& txn, const StoredEvent& event) {
    return projections_ ? projections_->apply_inline(txn, event) : Result<void>{};
  }
  void committed() {
    if (projections_) projections_->committed();
  }

  // Rebuilds the state and every custom projection, or only the custom one named; a
  // whole rebuild also the `extra` targets (the tenants' tables, tenants.hpp).
  Result<RebuildReport> rebuild(Log& log, const StateProjection& state, RebuildOptions options,
                                std::string_view only = {}, std::vector<RebuildTarget> extra = {});
  // The state's target, then every custom projection's.
  std::vector<RebuildTarget> targets(const StateProjection& state) const;
  ProjectionSet* projections() const { return projections_.get(); }

 private:
  std::uint64_t model_version_ = 1;
  Upcast upcast_;
  bool migrate_ = false;
  std::function<Result<void>(Txn&)> pending_;  // the model change a migration commits with its swap
  std::unique_ptr<ProjectionSet> projections_;
};

// A store opened for writing under a model: the model installed, the state and the
// tenants' tables open, the custom projections opened, and every projection migrated
// when the model change needs it (what Engine::open and a replica's model change do).
struct Installed {
  Replay replay;
  StateProjection state;
  std::shared_ptr<TenantTables> tenants;
};
Result<Installed> install(Log& log, const Domain& domain, const std::vector<Upcaster>& upcasters,
                          std::vector<std::shared_ptr<Projection>> projections, const ModelSource& source = {});

// Named databases a store needs open for this domain and these projections: the live
// tables, their staging copies for a rebuild, and the log's own.
unsigned max_databases(const Domain& domain, const std::vector<std::shared_ptr<Projection>>& projections);

}  // namespace ashlar::runtime
