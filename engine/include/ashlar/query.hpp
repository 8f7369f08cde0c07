#pragma once
// Queries: which records a read returns, in what order, with which relationships loaded.
//
//   engine.read("Ticket", {.action = "top", .args = {{"user_id", rep.id()}},
//                          .filter = ref("opened_at") > dsl::ago(10, TimeUnit::minute)});
//   engine.get("User", id, {.load = {"comments", Load("followers", {.load = {"tweets"}})}});

#include <ashlar/model/export.hpp>
#include <ashlar/model/expr.hpp>
#include <ashlar/model/result.hpp>
#include <ashlar/model/sort.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ashlar {

struct Load;
class Record;  // ashlar/record.hpp

// A point in the log's history, inclusive: the state right after the event at
// `position`, or right after the last event at or before `time`.
//   engine.get("Ticket", id, {.as_of = AsOf{.position = 12}});
//   engine.read("Ticket", {.as_of = AsOf{.time = DateTime::parse("2026-01-01T00:00:00Z")}});
struct ASHLAR_API AsOf {
  std::uint64_t position = 0;
  std::optional<DateTime> time{};  // wins over position when set
};

struct ASHLAR_API Query {
  std::string action{};  // the read action; empty: the primary read
  Fields args{};         // the action's arguments
  std::optional<Expr> filter{};  // and-ed with the action's own filter
  // Appended to the action's sort (`prepare build(sort: ...)`); the primary key ends
  // every sort, so the order is total and keyset pagination exact.
  std::vector<SortKey> sort{};
  std::optional<std::size_t> limit{};  // replaces the action's limit
  std::size_t offset = 0;
  std::string after{};  // keyset pagination: a Record::cursor() from the previous page
  // Keyset pagination backwards: the records right before this cursor, in the same order
  // (with a limit, the last `limit` of them; offset skips that many more backwards).
  std::string before{};
  // Attributes to return; empty for all. The primary key is always returned.
  std::vector<std::string> select{};
  // Relationships and aggregates to load. (clang with libstdc++ cannot default-initialize
  // a vector of Load here, where Load is incomplete; without `{}` g++ warns about
  // designated initializers that omit it. Either way it starts empty.)
#ifdef __clang__
  std::vector<Load> load;
#else
  std::vector<Load> load{};
#endif
  Value actor{};
  // Read the domain as it stood then: filters, sorts and loads all see that state (a
  // load's own as_of is ignored). Nullopt: now. Costs: ashlar/projections/time_travel.hpp.
  std::optional<AsOf> as_of{};
  // Apply the read policies (ashlar/model/policy.hpp) of this resource and of every
  // resource a load, aggregate or relationship path reaches: nullopt or true when they
  // have some; records the actor may not read are left out. false reads everything.
  std::optional<bool> authorize{};
  // The tenant (see CallOptions::tenant): a read of a multitenant resource returns that
  // tenant's records only, and its loads, aggregates and relationship paths read theirs.
  // Empty: no tenant (Invalid, code tenant_required, unless the resource is global).
  std::string tenant{};
  // The filter and sort come from outside (an API request), as Ash's filter_input and
  // sort_input: they may name public attributes only, and not sensitive ones, directly or
  // through a relationship path or an aggregate; any other is unknown to them ("User has
  // no attribute password"). The read action's own filter and sort are the model's and
  // may name any. Records get no cursor when the whole sort has such an attribute: a
  // cursor carries its sort values.
  bool public_only = false;

  // Hooks around the read itself (Ash's Query.before_action/after_action/around_action),
  // usually added by a preparation. After the preparations they run in this order:
  //   around_action (start) → before_action → the read → after_action → around_action (end)
  // each kind in the order added, a hook added by one of its own kind included.
  // before_action may change the query (filter, sort, limit, offset, paging, select,
  // loads) or fail the read; its action, arguments, actor, tenant, authorize and as_of are
  // settled once the preparations have run (a hook changing one fails the read);
  // after_action gets the page the read found (loads and select done; field policies hide
  // fields after it) and returns the records the read returns; an around_action hook calls
  // `next` with the query or a changed copy, on which the rest of the chain then runs (or
  // does not call it, returning records of its own). The end of around_action
  // and after_action run only when what they wrap succeeded. The first error fails the
  // read; one without a resource or action names the read's. A before_action hook may not
  // add an around_action hook (they have started): that fails the read. They run for the
  // query given to Engine::read/get/get_by, code interfaces, bulk actions' queries and
  // HTTP reads, not for a Load's query nor when a load goes through a read action.
  using Records = std::vector<Record>;
  using Next = std::function<Result<Records>(Query&)>;
  using Before = std::function<Result<void>(Query&)>;
  using After = std::function<Result<Records>(const Query&, Records)>;
  using Around = std::function<Result<Records>(Query&, const Next&)>;
  std::vector<Before> before_action{};
  std::vector<After> after_action{};
  std::vector<Around> around_action{};

  bool has_hooks() const { return !before_action.empty() || !after_action.empty() || !around_action.empty(); }
};

// A relationship, named aggregate or calculation to load, with an optional query
// customizing it: for a relationship, a filter on the related records, their sort, a
// limit and offset per parent record, a select (a strict load), and nested loads; for a
// calculation, its arguments in `args`:
//   Load("greeting", {.args = {{"prefix", "Dr."}}})
struct ASHLAR_API Load {
  Load(const char* name) : name(name) {}
  Load(std::string name, Query query = {}) : name(std::move(name)), query(std::move(query)) {}
  std::string name;
  Query query;
};

// "comments.user,followers" → nested loads, as the command line takes them.
ASHLAR_API std::vector<Load> parse_load_paths(std::string_view text);

}  // namespace ashlar
