// ashlar query DIR RESOURCE [--action A --arg NAME=VALUE ...] [--filter EXPR] [--sort KEYS]
//                           [--limit N] [--offset N] [--after CURSOR | --before CURSOR]
//                           [--load PATH,...] [--tenant TENANT] [--json [--cursor]]
#include "commands.hpp"
#include "event_output.hpp"
#include "output.hpp"
#include "record_output.hpp"

#include <ashlar/model/json.hpp>
#include <ashlar/store_reader.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <charconv>
#include <cstdio>
#include <memory>

namespace ashlar::cli {
namespace {

struct QueryArgs {
  std::string dir;
  std::string resource;
  std::string action;
  std::vector<std::string> args;  // NAME=VALUE, checked by the option's validator
  std::string filter;
  std::string sort;
  std::optional<std::size_t> limit;
  std::size_t offset = 0;
  std::string after, before;  // keyset cursors, as --cursor printed them
  std::string load;
  std::string tenant;
  bool json = false;
  bool cursor = false;  // each JSON line leads with "$cursor"
};

// A query's own mistake (exit kExitUsage) or the store's (kExitFailure).
struct Failure {
  Error error;
  int code = kExitFailure;
};

Failure usage(std::string message) { return {Error{ErrorClass::invalid, {}, {}, std::move(message), {}}, kExitUsage}; }

// A parser's error ("at column 11: expected ...") under the option that gave the text.
Failure syntax(std::string_view option, const Error& error) {
  std::string detail;
  for (const auto& f : error.fields) detail += (detail.empty() ? "" : "; ") + f.message;
  return usage(fmt::format("{}: {}", option, detail.empty() ? error.message : detail));
}

// Digits only: CLI11 would read "-1" as 2^64-1.
std::optional<std::size_t> parse_count(std::string_view text) {
  std::size_t value = 0;
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

template <typename T>
std::optional<T> parse_number(std::string_view text) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// An argument's text as the value its type casts from: numbers, booleans and JSON for
// maps and arrays; strings otherwise (cast_value turns them into uuids, atoms, times).
// Text that does not fit stays a string, so the action reports the argument's real type.
Value typed_input(const Argument* argument, const std::string& text) {
  if (!argument) return Value(text);  // not an argument: the read says so
  switch (argument->type.kind) {
    case TypeKind::integer:
    case TypeKind::floating:
      if (auto i = parse_number<std::int64_t>(text)) return Value(*i);
      if (auto f = parse_number<double>(text)) return Value(*f);
      break;
    case TypeKind::boolean:
      if (text == "true" || text == "false") return Value(text == "true");
      break;
    case TypeKind::map:
    case TypeKind::array: {
      auto json = nlohmann::json::parse(text, nullptr, false);
      if (!json.is_discarded()) {
        auto cast = cast_json(argument->type, json);
        if (cast.value) return std::move(*cast.value);
      }
      break;
    }
    default: break;
  }
  return Value(text);
}

std::optional<Failure> parse_args(const StoreReader& store, const QueryArgs& args, Fields& out) {
  const Resource* r = store.domain().resource(args.resource);
  if (!r) return std::nullopt;  // the read names the unknown resource
  const Action* action = args.action.empty() ? r->primary_action(ActionType::read) : r->action(args.action);
  for (const auto& given : args.args) {
    auto eq = given.find('=');
    std::string name = given.substr(0, eq), text = given.substr(eq + 1);
    if (find_field(out, name)) return usage(fmt::format("--arg: {} is given twice", name));
    out.emplace_back(name, typed_input(action ? action->argument(name) : nullptr, text));
  }
  return std::nullopt;
}

// The first comma-separated path of `load` with an empty segment ("comments..user");
// parse_load_paths would ask for a relationship named "". Empty paths are skipped.
std::optional<std::string> empty_segment(std::string_view load) {
  for (std::size_t pos = 0; pos <= load.size();) {
    std::size_t comma = std::min(load.find(',', pos), load.size());
    std::string_view path = load.substr(pos, comma - pos);
    pos = comma + 1;
    if (!path.empty() && (path.front() == '.' || path.back() == '.' || path.find("..") != std::string_view::npos))
      return std::string(path);
  }
  return std::nullopt;
}

std::optional<Failure> build_query(const StoreReader& store, const QueryArgs& args, Query& q) {
  q.action = args.action;
  q.tenant = args.tenant;
  if (auto failed = parse_args(store, args, q.args)) return failed;
  if (!args.filter.empty()) {
    auto filter = parse_expr(args.filter);
    if (!filter) return syntax("--filter", filter.error());
    q.filter = std::move(*filter);
  }
  auto sort = parse_sort(args.sort);
  if (!sort) return syntax("--sort", sort.error());
  q.sort = std::move(*sort);
  q.limit = args.limit;
  q.offset = args.offset;
  q.after = args.after;
  q.before = args.before;
  if (auto bad = empty_segment(args.load)) return usage(fmt::format("--load: \"{}\" has an empty name", *bad));
  q.load = parse_load_paths(args.load);
  return std::nullopt;
}

// The sensitive attribute a sort key names, through to-one relationships, if any: a
// cursor carries the sort values of its record, so --cursor would print that value.
std::optional<std::string> sensitive_sort_field(const Domain& domain, const Resource& resource,
                                                const std::vector<SortKey>& keys) {
  for (const auto& key : keys) {
    auto end = resolve_path(domain, resource, key.path());
    if (end && end->attribute && end->attribute->sensitive) return key.field;
  }
  return std::nullopt;
}

std::optional<Failure> run_query(const QueryArgs& args) {
  auto store = StoreReader::open(args.dir);
  if (!store) return Failure{store.error()};
  Query q;
  if (auto failed = build_query(*store, args, q)) return failed;
  if (args.cursor) {
    if (const Resource* r = store->domain().resource(args.resource)) {
      const Action* a = args.action.empty() ? r->primary_action(ActionType::read) : r->action(args.action);
      std::vector<SortKey> keys = a ? a->sort : std::vector<SortKey>{};
      keys.insert(keys.end(), q.sort.begin(), q.sort.end());
      if (auto field = sensitive_sort_field(store->domain(), *r, keys))
        return usage(fmt::format("--cursor: the sort has {}, which is sensitive; a cursor would carry its values",
                                 *field));
    }
  }
  auto records = store->read(args.resource, q);
  if (!records) {
    // Unknown names and bad inputs are the query's fault; storage errors the store's.
    bool query_error = records.error().cls == ErrorClass::invalid || records.error().cls == ErrorClass::framework;
    return Failure{records.error(), query_error ? kExitUsage : kExitFailure};
  }
  for (const auto& record : *records) {
    std::vector<std::string> lines;
    if (args.json) {
      nlohmann::ordered_json line = nlohmann::ordered_json::object();
      if (args.cursor) line["$cursor"] = record.cursor();
      line.update(record_to_json(record, q.load));
      lines.push_back(json_line(line));
    } else {
      lines = record_to_text(record, q.load);
    }
    for (const auto& line : lines)
      if (auto printed = print_line(line); !printed) return Failure{printed.error()};
  }
  return std::nullopt;
}

// run_command's contract (one line on stderr, "ashlar: ..."), with the exit code saying
// whose fault it was.
void run(const QueryArgs& args) {
  auto failed = run_query(args);
  if (!failed) return;
  std::fflush(stdout);
  std::fprintf(stderr, "ashlar: %s\n", one_line(failed->error).c_str());
  std::fflush(stderr);
  throw CLI::RuntimeError(failed->code);
}

CLI::Validator count_validator() {
  return CLI::Validator(
      [](std::string& text) { return parse_count(text) ? std::string() : "must be a count: 0, 1, ... (got " + text + ")"; },
      "");
}

}  // namespace

void add_query_command(CLI::App& app) {
  auto args = std::make_shared<QueryArgs>();
  CLI::App* cmd = app.add_subcommand(
      "query", "Read records through a read action, filtered, sorted, paged and loaded, decoded with the stored model");
  cmd->add_option("DIR", args->dir, "The store's directory")->required();
  cmd->add_option("RESOURCE", args->resource, "The resource to read")->required();
  cmd->add_option("--action", args->action, "The read action (default: the primary read)")->type_name("NAME");
  cmd->add_option("--arg", args->args, "An argument of the read action; repeat for several")
      ->type_name("NAME=VALUE")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->check(CLI::Validator(
          [](std::string& text) {
            auto eq = text.find('=');
            return eq != std::string::npos && eq > 0 ? std::string() : "must be NAME=VALUE (got " + text + ")";
          },
          ""));
  cmd->add_option("--filter", args->filter, "Ash expression syntax: 'status == :open and priority in [:medium, :high]'")
      ->type_name("EXPR");
  cmd->add_option("--sort", args->sort, "Ash sort input: '-opened_at,priority' (- descending)")->type_name("KEYS");
  cmd->add_option_function<std::string>(
         "--limit", [args](const std::string& text) { args->limit = parse_count(text); }, "At most N records")
      ->type_name("N")
      ->check(count_validator());
  cmd->add_option_function<std::string>(
         "--offset", [args](const std::string& text) { args->offset = *parse_count(text); }, "Skip the first N records")
      ->type_name("N")
      ->check(count_validator());
  auto after = cmd->add_option("--after", args->after,
                               "Keyset paging: the records after this cursor (a \"$cursor\" of --cursor), same sort")
                   ->type_name("CURSOR");
  cmd->add_option("--before", args->before,
                  "Keyset paging backwards: the records right before this cursor, same sort (with --limit, the last N)")
      ->type_name("CURSOR")
      ->excludes(after);
  cmd->add_option("--load", args->load, "Relationships, aggregates and calculations to load: 'comments.user,followers,full_name'")
      ->type_name("PATH,...");
  cmd->add_option("--tenant", args->tenant, "The tenant: a multitenant resource's records of that tenant only (required unless the resource is global)")->type_name("TENANT");
  cmd->add_flag("--json", args->json,
                "One JSON object per record: attributes and loaded aggregates by name, each loaded relationship "
                "nested under its name (an object or null when to-one, an array when to-many)");
  cmd->add_flag("--cursor", args->cursor,
                "With --json: each line leads with \"$cursor\", the record's keyset cursor for --after and --before")
      ->needs("--json");
  cmd->callback([args] { run(*args); });
}

}  // namespace ashlar::cli
