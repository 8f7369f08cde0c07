// ashlar rebuild DIR [--batch N]
#include "audit_store.hpp"
#include "commands.hpp"
#include "output.hpp"
#include "progress.hpp"

#include <ashlar/projections/state.hpp>
#include <ashlar/projections/tenants.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <memory>

namespace ashlar::cli {
namespace {

std::atomic<bool> interrupted{false};
void on_interrupt(int) { interrupted = true; }

struct RebuildArgs {
  std::string dir;
  std::size_t batch = 20000;
};

// Rebuilds what the stored model describes, resumably (ashlar/projections/rebuild.hpp):
// on SIGINT or SIGTERM it stops after the current batch, leaving the live projections
// as they were and a checkpoint the next run resumes from.
Result<void> run_rebuild(const RebuildArgs& args) {
  ASHLAR_TRY(store, open_store_for_writing(args.dir));
  ASHLAR_TRY(replay, replayable(*store));
  if (!replay->upcasters.empty())
    return fail(Error::framework(fmt::format(
        "{} declares upcasters {}: they are C++ code, so only the program that declares them can rebuild its "
        "projections (Engine::rebuild); nothing was changed",
        args.dir, fmt::join(replay->upcasters, ", "))));
  ASHLAR_TRY(state, StateProjection::open(*store->log, store->domain));
  ASHLAR_TRY(known, TenantTables::open(*store->log, store->domain));
  ASHLAR_TRY(tenants, tenant_targets(*store->log, store->domain, known->get()));
  std::vector<RebuildTarget> targets{state->target()};
  for (auto& t : tenants->targets) targets.push_back(std::move(t));
  ASHLAR_TRY(head, store->log->head());

  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  std::optional<Progress> bar;
  RebuildOptions options{.batch_events = args.batch,
                         .progress = [&](const RebuildProgress& p) {
                           if (!bar) bar.emplace("rebuild", p.resumed_from, p.head);
                           bar->update(p.position, p.head);
                           return !interrupted.load();
                         },
                         .upcast = replay->upcast,
                         .fingerprint = fmt::format("model {}", replay->model_version)};
  auto report = rebuild(*store->log, targets, options);
  bar.reset();
  if (!report) return fail(report.error());
  if (!report->complete)
    return fail(Error::unknown(fmt::format("interrupted at position {} of {}: the live projections are as they "
                                           "were; run ashlar rebuild {} again to resume",
                                           report->position, head->position, args.dir)));
  head = store->log->head();
  if (!head) return fail(head.error());
  std::string resumed = report->resumed_from ? fmt::format(", resumed at position {}", report->resumed_from) : "";
  ASHLAR_TRY_VOID(print_line(fmt::format("rebuilt the records, indexes and identities of {} resources from {} "
                                         "events{}; head {} {}",
                                         store->domain.resources().size(), report->position, resumed,
                                         head->position, to_hex(head->hash))));
  if (auto skipped = skipped_projections(*replay); !skipped.empty())
    ASHLAR_TRY_VOID(print_line("skipped: " + skipped));
  return {};
}

}  // namespace

void add_rebuild_command(CLI::App& app) {
  auto args = std::make_shared<RebuildArgs>();
  CLI::App* cmd = app.add_subcommand(
      "rebuild", "Rebuild the state projection (records, indexes, identities) from the log; needs the writer lock");
  cmd->add_option("DIR", args->dir, "The store's directory")->required();
  cmd->add_option("--batch", args->batch, "Events per transaction, each followed by a checkpoint (default 20000)")
      ->check(CLI::PositiveNumber);
  cmd->callback([args] { run_command([&] { return run_rebuild(*args); }); });
}

}  // namespace ashlar::cli
