// ashlar state DIR RESOURCE ID [--as-of POS|TIME] [--load REL,...] [--tenant TENANT] [--json]
#include "audit_store.hpp"
#include "commands.hpp"
#include "event_output.hpp"
#include "output.hpp"
#include "record_output.hpp"

#include <ashlar/projections/upcast.hpp>
#include <ashlar/store_reader.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <memory>

namespace ashlar::cli {
namespace {

struct StateArgs {
  std::string dir;
  std::string resource;
  std::string id;
  std::string as_of;  // a position or an ISO 8601 time; empty: now
  std::string load;
  std::string tenant;
  bool json = false;
};

std::optional<AsOf> parse_as_of(const std::string& text) {
  if (auto position = parse_position(text)) return AsOf{.position = *position};
  if (auto time = DateTime::parse(text)) return AsOf{.time = *time};
  return std::nullopt;
}

// A past state folds the events; upcasters that reshape them are code this program lacks.
Result<void> refuse_upcasters(const StoreReader& store, const std::string& dir) {
  ASHLAR_TRY(txn, store.log().read());
  ASHLAR_TRY(declared, store.log().get_meta(*txn, kUpcastersKey));
  if (!*declared || upcasters_from_json(**declared).empty()) return {};
  return fail(Error::framework(fmt::format("{} declares upcasters: they are C++ code, so only the program that "
                                           "declares them reads its past states (Engine::get with as_of)",
                                           dir)));
}

// One record as it stands, or stood then, with what --load names.
Result<void> run_state(const StateArgs& args) {
  ASHLAR_TRY(store, StoreReader::open(args.dir));
  const Resource* r = store->domain().resource(args.resource);
  if (!r)
    return fail(Error::framework(fmt::format("the model of {} has no resource named {}", args.dir, args.resource)));
  ASHLAR_TRY(id, parse_id(*r, args.id));
  Query query{.load = parse_load_paths(args.load)};
  query.tenant = args.tenant;
  if (!args.as_of.empty()) {
    query.as_of = parse_as_of(args.as_of);
    if (!query.as_of)
      return fail(Error::framework(fmt::format("--as-of takes a position (1, 2, ...) or an ISO 8601 time, not {}",
                                               args.as_of)));
    ASHLAR_TRY_VOID(refuse_upcasters(*store, args.dir));
  }
  auto record = store->get(r->name(), *id, query);
  // The library's message says why, as of then ("... as of position 1: it was created at
  // position 2"); the resource and action before it add nothing here.
  if (!record && record.error().cls == ErrorClass::not_found)
    return fail(Error::not_found({}, record.error().message));
  if (!record) return fail(record.error());
  if (args.json) return print_line(json_line(record_to_json(*record, query.load)));
  for (const auto& text : record_to_text(*record, query.load)) ASHLAR_TRY_VOID(print_line(text));
  return {};
}

}  // namespace

void add_state_command(CLI::App& app) {
  auto args = std::make_shared<StateArgs>();
  CLI::App* cmd = app.add_subcommand("state", "Print one record as it stands now, or as it stood at a position or time");
  cmd->add_option("DIR", args->dir, "The store's directory")->required();
  cmd->add_option("RESOURCE", args->resource, "The record's resource")->required();
  cmd->add_option("ID", args->id,
                  "Its primary key: the value, or a JSON object of the key attributes when the key is composite")
      ->required();
  cmd->add_option("--as-of", args->as_of,
                  "A position (the state right after that event) or an ISO 8601 time (after the last event then)")
      ->type_name("POS|TIME");
  cmd->add_option("--load", args->load, "Relationships and aggregates to load, as they stood: comments.user,followers")
      ->type_name("REL,...");
  cmd->add_option("--tenant", args->tenant, "The tenant: a multitenant resource's records of that tenant only (required unless the resource is global)")->type_name("TENANT");
  cmd->add_flag("--json", args->json, "One JSON object, as ashlar query --json prints a record");
  cmd->callback([args] { run_command([&] { return run_state(*args); }); });
}

}  // namespace ashlar::cli
