// ashlar history DIR RESOURCE ID [--tenant TENANT] [--json]
#include "audit_store.hpp"
#include "commands.hpp"
#include "event_output.hpp"
#include "output.hpp"

#include <ashlar/model/key.hpp>
#include <ashlar/projections/time_travel.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <memory>

namespace ashlar::cli {
namespace {

struct HistoryArgs {
  std::string dir;
  std::string resource;
  std::string id;
  std::string tenant;  // empty: every event of the record
  bool json = false;
};

// parse_id gives a composite key as a map in key order.
std::string key_bytes(const Value& id) {
  std::vector<Value> key;
  if (const Map* m = id.as_map()) {
    for (const auto& [name, value] : *m) key.push_back(value);
  } else {
    key.push_back(id);
  }
  return encode_key(key);
}

// Every event of one record, oldest first, as `ashlar log` prints them: found through
// by_record, so it costs the record's own events, not the log's.
Result<void> run_history(const HistoryArgs& args) {
  ASHLAR_TRY(store, open_store(args.dir));
  const Resource* r = store->domain.resource(args.resource);
  if (!r)
    return fail(Error::framework(fmt::format("the model of {} has no resource named {}", args.dir, args.resource)));
  ASHLAR_TRY(id, parse_id(*r, args.id));
  std::string key = key_bytes(*id);
  ASHLAR_TRY(replay, replayable(*store));
  ASHLAR_TRY(txn, store->log->read());
  ASHLAR_TRY(events, record_history(*store->log, *txn, r->name(), key, 0, replay->upcast));
  if (!args.tenant.empty())  // another tenant's record has no history in this one
    std::erase_if(*events, [&](const StoredEvent& e) { return e.event.tenant != args.tenant; });
  if (events->empty())
    return fail(Error::not_found(r->name(), fmt::format("no {} with primary key {} has ever existed in {}", r->name(),
                                                        args.id, args.dir)));
  for (const auto& e : *events)
    ASHLAR_TRY_VOID(print_line(args.json ? json_line(event_to_json(e, store->domain))
                                         : event_to_text(e.event, store->domain)));
  return {};
}

}  // namespace

void add_history_command(CLI::App& app) {
  auto args = std::make_shared<HistoryArgs>();
  CLI::App* cmd = app.add_subcommand("history", "Print every event of one record, oldest first");
  cmd->add_option("DIR", args->dir, "The store's directory")->required();
  cmd->add_option("RESOURCE", args->resource, "The record's resource")->required();
  cmd->add_option("ID", args->id,
                  "Its primary key: the value, or a JSON object of the key attributes when the key is composite")
      ->required();
  cmd->add_option("--tenant", args->tenant, "Only the events of this tenant: another tenant's record has none")
      ->type_name("TENANT");
  cmd->add_flag("--json", args->json, "One JSON object per line, as ashlar log --json prints them");
  cmd->callback([args] { run_command([&] { return run_history(*args); }); });
}

}  // namespace ashlar::cli
