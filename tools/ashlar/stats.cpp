// ashlar stats DIR [--json]
#include "commands.hpp"
#include "event_output.hpp"
#include "output.hpp"
#include "store.hpp"

#include <ashlar/projections/state.hpp>
#include <ashlar/projections/tenants.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <memory>

namespace ashlar::cli {
namespace {

struct StatsArgs {
  std::string dir;
  bool json = false;
};

struct ResourceStats {
  std::string name;
  std::uint64_t events = 0;
  std::uint64_t records = 0;
};

struct Stats {
  std::string domain;
  Head head;
  std::uintmax_t size = 0;
  std::uint32_t format = 0;  // the store's format version (eventlog/FORMAT.md)
  std::vector<ResourceStats> resources;
};

// Everything from one snapshot, without decoding an event: per-resource sequences are
// gapless, so the last one is the resource's event count.
Result<Stats> collect(Store& store) {
  ASHLAR_TRY(state, StateProjection::open(*store.log, store.domain));
  ASHLAR_TRY(tenants, TenantTables::open(*store.log, store.domain));
  ASHLAR_TRY(txn, store.log->read());
  Stats stats;
  stats.domain = store.domain.name();
  stats.format = store.log->format_version();
  ASHLAR_TRY(head, store.log->head(*txn));
  stats.head = *head;
  for (const auto& r : store.domain.resources()) {
    ASHLAR_TRY(events, store.log->last_sequence(*txn, r.name()));
    std::uint64_t records = 0;
    if (state->tenanted(r.name())) {  // context multitenancy: every tenant's tables
      for (const auto& tenant : (*tenants)->known(r.name())) {
        ASHLAR_TRY(tables, (*tenants)->find(*txn, r.name(), tenant));
        ASHLAR_TRY(n, (*tables)->count(*txn, r.name()));
        records += *n;
      }
    } else {
      ASHLAR_TRY(n, state->count(*txn, r.name()));
      records = *n;
    }
    stats.resources.push_back({r.name(), *events, records});
  }
  std::error_code ec;
  stats.size = std::filesystem::file_size(std::filesystem::path(store.path) / "data.mdb", ec);
  if (ec) return fail(Error::unknown(fmt::format("{}: cannot read the size of data.mdb: {}", store.path, ec.message())));
  return stats;
}

std::string stats_json(const Stats& s) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  out["domain"] = s.domain;
  out["head"] = {{"position", s.head.position}, {"hash", to_hex(s.head.hash)}};
  out["size"] = s.size;
  out["format"] = s.format;
  out["resources"] = nlohmann::ordered_json::object();
  for (const auto& r : s.resources) out["resources"][r.name] = {{"events", r.events}, {"records", r.records}};
  return json_line(out);
}

Result<void> print_text(const Stats& s) {
  std::size_t width = std::string_view("resource").size();
  for (const auto& r : s.resources) width = std::max(width, r.name.size());
  std::vector<std::string> lines = {
      fmt::format("domain   {}", s.domain),
      fmt::format("head     {} {}", s.head.position, to_hex(s.head.hash)),
      fmt::format("size     {} bytes", s.size),
      fmt::format("format   {}", s.format),
      "",
      fmt::format("{:<{}}  {:>10}  {:>10}", "resource", width, "events", "records"),
  };
  for (const auto& r : s.resources)
    lines.push_back(fmt::format("{:<{}}  {:>10}  {:>10}", r.name, width, r.events, r.records));
  for (const auto& line : lines) ASHLAR_TRY_VOID(print_line(line));
  return {};
}

Result<void> run_stats(const StatsArgs& args) {
  ASHLAR_TRY(store, open_store(args.dir));
  ASHLAR_TRY(stats, collect(*store));
  if (args.json) return print_line(stats_json(*stats));
  return print_text(*stats);
}

}  // namespace

void add_stats_command(CLI::App& app) {
  auto args = std::make_shared<StatsArgs>();
  CLI::App* cmd = app.add_subcommand("stats", "Print events and live records per resource, the head and the size");
  cmd->add_option("DIR", args->dir, "The store's directory")->required();
  cmd->add_flag("--json", args->json,
                "One JSON object: domain, head {position, hash}, size, resources {name: {events, records}}");
  cmd->callback([args] { run_command([&] { return run_stats(*args); }); });
}

}  // namespace ashlar::cli
