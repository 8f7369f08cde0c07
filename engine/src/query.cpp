// Reads: the read action's filter and arguments, the plan (an index or key lookup where
// an equality or `in` on an indexed attribute allows, else a scan), sort, keyset and
// offset pagination, loads and select, all in one snapshot.
#include "authorize.hpp"
#include "user_code.hpp"
#include "changeset.hpp"
#include "query_checks.hpp"
#include "reader.hpp"
#include "record_access.hpp"
#include "tenancy.hpp"

#include <ashlar/model/json.hpp>

#include <fmt/format.h>

namespace ashlar::runtime {
namespace {

// Candidate records: from an index when a conjunct of the filter allows, else all.
Result<std::vector<Record>> candidates(Reader& reader, const Resource& r, const std::optional<Expr>& filter) {
  if (filter) {
    for (const auto& conjunct : conjuncts(*filter)) {
      auto term = index_term(conjunct);
      const Attribute* attribute = term ? r.attribute(term->attribute) : nullptr;
      if (!attribute) continue;
      auto wanted = evaluate(term->value, reader.base());
      if (!wanted) continue;  // the filter itself reports it
      std::vector<Value> values;
      const Array* list = term->in ? wanted->as_array() : nullptr;
      if (term->in && !list) continue;
      bool castable = true;
      for (const auto& v : list ? *list : Array{*wanted}) {
        auto cast = cast_value(attribute->type, v);
        if (!cast.value) castable = false;
        else values.push_back(std::move(*cast.value));
      }
      if (!castable) continue;
      ASHLAR_TRY(found, reader.by_attribute(r, *attribute, values));
      if (*found) return std::move(**found);
    }
  }
  return reader.scan(r);
}

std::string encode_cursor(const std::vector<Value>& values) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& v : values) j.push_back(value_to_json(v));
  return base64_encode(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::optional<std::vector<Value>> decode_cursor(const std::string& cursor) {
  auto text = base64_decode(cursor);
  if (!text) return std::nullopt;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_array()) return std::nullopt;
  std::vector<Value> out;
  for (const auto& item : j) out.push_back(value_from_json(item));
  return out;
}

// value_to_json writes bytes as base64 text, so a binary sort value comes back from a
// cursor as a string: it is bytes again where this query's rows hold bytes at its place
// (the first row with a value there says which).
void restore_binaries(std::vector<Value>& values, const std::vector<std::vector<Value>>& rows) {
  for (std::size_t k = 0; k < values.size(); ++k) {
    const std::string* text = values[k].as_string();
    if (!text) continue;
    for (const auto& row : rows) {
      if (k >= row.size() || row[k].is_null()) continue;
      if (row[k].as_binary())
        if (auto bytes = base64_decode(*text)) values[k] = Value(Binary{std::move(*bytes)});
      break;
    }
  }
}

}  // namespace

Result<void> Reader::check_loads(const Resource& r, const std::vector<Load>& loads) {
  ASHLAR_TRY_VOID(validate_loads(domain_, r, loads, false));
  // The records given were read through r's primary read, if it has one.
  return check_loads_filterable(r, r.primary_action(ActionType::read), loads);
}

Result<std::vector<Record>> Reader::run(const Resource& r, const Query& q) {
  const Action* a = q.action.empty() ? r.primary_action(ActionType::read) : r.action(q.action);
  if (!a && q.action.empty())
    return fail(Error::framework(fmt::format("{} has no primary read action; name one in Query::action or mark one primary", r.name())));
  if (!a) return fail(Error::framework(fmt::format("{} has no action named {}", r.name(), q.action)));
  if (a->type != ActionType::read)
    return fail(Error::framework(fmt::format("{}.{} is {}, not a read action", r.name(), a->name, an_action(a->type))));
  if (q.authorize) authorize_ = *q.authorize;
  if (!q.tenant.empty()) base_.tenant = q.tenant;
  ASHLAR_TRY(args, cast_arguments(r, *a, q.args));
  if (q.public_only) ASHLAR_TRY_VOID(validate(domain_, r, *a, q.filter, q.sort, true));  // before anything reads its names
  ASHLAR_TRY_VOID(validate_loads(domain_, r, q.load, q.public_only));
  ASHLAR_TRY_VOID(check_filterable(r, *a, q));  // the caller's filter and sort; the action's own are the resource's
  ASHLAR_TRY(prepared, prepare(r, *a, *args, q.actor.is_null() ? base_.actor : q.actor, q));
  if (!prepared->has_hooks()) {
    // What the preparations loaded names what exists too (the model's own: any field).
    if (!prepared->load.empty()) ASHLAR_TRY_VOID(validate_loads(domain_, r, prepared->load, false));
    ASHLAR_TRY(page, run_prepared(r, a, *args, *prepared));
    ASHLAR_TRY_VOID(hide(r, *a, *args, prepared->actor, *page, prepared->load));
    return page;
  }
  return run_hooked(r, *a, *args, *prepared);
}

// around_action (start) → before_action → the read → after_action → around_action (end),
// each kind in the order added (Query's hooks). Field policies hide fields last, by the
// loads the read ran with.
Result<std::vector<Record>> Reader::run_hooked(const Resource& r, const Action& a, const Fields& args, Query& top) {
  std::vector<Load> loaded;   // the loads the read ran with
  std::optional<std::size_t> started;  // top's around_action hooks started, once the read ran on top
  auto late = [&](const char* added, const char* by) {
    return fail(Error::framework(fmt::format("{}.{}: a {} hook added an {} hook after the around_action hooks had "
                                             "started; add it in a preparation",
                                             r.name(), a.name, by, added)));
  };
  // What the read was set up with before any hook ran (the reader, its source and the
  // cast arguments are made of it): a hook changing it is refused, not half obeyed.
  const Query settled{.action = top.action, .args = top.args, .actor = top.actor, .as_of = top.as_of,
                      .authorize = top.authorize, .tenant = top.tenant};
  auto changed = [&](const Query& q) -> const char* {
    if (q.action != settled.action) return "action";
    if (q.args != settled.args) return "arguments";
    if (q.actor != settled.actor) return "actor";
    if (q.tenant != settled.tenant) return "tenant";
    if (q.authorize != settled.authorize) return "authorize";
    if (q.as_of.has_value() != settled.as_of.has_value() ||
        (q.as_of && (q.as_of->position != settled.as_of->position ||
                     q.as_of->time.has_value() != settled.as_of->time.has_value() ||
                     (q.as_of->time && q.as_of->time->micros != settled.as_of->time->micros))))
      return "as_of";
    return nullptr;
  };
  auto read = [&](Query& q) -> Result<std::vector<Record>> {
    if (&q == &top) started = q.around_action.size();
    const std::size_t arounds = q.around_action.size();
    for (std::size_t i = 0; i < q.before_action.size(); ++i) {
      Query::Before hook = q.before_action[i];  // a copy: the hook may add hooks, moving the list
      ASHLAR_TRY_VOID(guarded(r.name(), a.name, "a before_action hook", [&] { return hook(q); }));
    }
    if (q.around_action.size() != arounds) return late("around_action", "before_action");
    if (const char* what = changed(q))
      return fail(Error::framework(fmt::format("{}.{}: a read hook changed the query's {}; its action, arguments, "
                                               "actor, tenant, authorize and as_of are settled once the "
                                               "preparations have run",
                                               r.name(), a.name, what)));
    // What preparations and hooks loaded names what exists too (the model's own: any field).
    if (!q.load.empty()) ASHLAR_TRY_VOID(validate_loads(domain_, r, q.load, false));
    ASHLAR_TRY(page, run_prepared(r, &a, args, q));
    for (std::size_t i = 0; i < q.after_action.size(); ++i) {
      Query::After hook = q.after_action[i];
      ASHLAR_TRY(next, guarded(r.name(), a.name, "an after_action hook", [&] { return hook(q, std::move(*page)); }));
      for (const auto& record : *next)
        if (record.resource().name() != r.name())
          return fail(Error::framework(fmt::format("{}.{}: an after_action hook returned a {} record; a read of {} "
                                                   "returns {} records",
                                                   r.name(), a.name, record.resource().name(), r.name(), r.name())));
      page = std::move(next);
    }
    loaded = q.load;
    return page;
  };
  std::function<Result<std::vector<Record>>(std::size_t, Query&)> chain = [&](std::size_t i, Query& q) {
    if (i >= q.around_action.size()) return read(q);
    Query::Around hook = q.around_action[i];
    Query::Next next = [&chain, i](Query& inner) { return chain(i + 1, inner); };
    return guarded(r.name(), a.name, "an around_action hook", [&] { return hook(q, next); });
  };
  ASHLAR_TRY(page, chain(0, top));
  if (started && top.around_action.size() > *started) return late("around_action", "around_action");
  ASHLAR_TRY_VOID(hide(r, a, args, settled.actor, *page, loaded));
  return page;
}

Result<void> Reader::hide(const Resource& r, const Action& a, const Fields& args, const Value& actor,
                          std::vector<Record>& page, const std::vector<Load>& loads) {
  EvalContext context = base_;  // as run_prepared reads
  context.args = &args;
  if (!actor.is_null()) context.actor = actor;
  Reader reader(domain_, source_, context);
  reader.authorize_ = authorize_;
  return reader.hide_fields(r, &a, page, &loads);
}

// The action's preparations, then the resource's, in the order declared, each on the
// query the previous one left. An error without a resource or action gets this read's.
Result<Query> Reader::prepare(const Resource& r, const Action& a, const Fields& args, const Value& actor,
                              Query q) const {
  PrepareContext context{r.name(), a.name, &args, &actor};
  auto run = [&](const ActionStep& step) -> Result<void> {
    auto done = runtime::guarded(r.name(), a.name, "a preparation", [&] { return step.preparation->prepare(q, context); });
    if (done) return {};
    Error e = done.error();
    if (e.resource.empty()) e.resource = r.name();
    if (e.action.empty()) e.action = a.name;
    return fail(std::move(e));
  };
  for (const auto& step : a.steps)
    if (step.preparation) ASHLAR_TRY_VOID(run(step));
  for (const auto& step : r.global_steps())
    if (step.preparation) ASHLAR_TRY_VOID(run(step));
  return q;
}

Result<void> Reader::through_read_action(const Relationship& rel, std::vector<std::vector<Record>>& per_row,
                                         const Query* custom) {
  const Resource& dest = resource(rel.destination);
  return through_action(dest, load_read_action(dest, rel, custom), custom ? custom->args : Fields{}, rel.name,
                        per_row);
}

Result<void> Reader::through_action(const Resource& dest, const Action* a, const Fields& given, std::string_view label,
                                    std::vector<std::vector<Record>>& per_row) {
  constexpr int kMaxDepth = 16;
  // Another tenant's records are never related (the relationship's own read action aside).
  ASHLAR_TRY(scope, tenant_filter(dest, a ? a->name : std::string(label), base_.tenant));
  if (!a && !*scope) return {};  // no read action: nothing hides records
  Fields no_args;
  Result<Fields> args = a ? cast_arguments(dest, *a, given) : Result<Fields>(no_args);
  if (!args) return fail(args.error());
  std::optional<Expr> filter = a ? a->filter : std::nullopt;
  if (a) {
    ASHLAR_TRY(prepared, prepare(dest, *a, *args, base_.actor, Query{}));
    if (prepared->filter) filter = filter ? *filter && *prepared->filter : *prepared->filter;
  }
  if (*scope) filter = filter ? **scope && *filter : **scope;
  if (a && authorizing(dest, authorize_)) {  // loads, aggregates and paths see what the actor may read
    ASHLAR_TRY(allowed, read_filter(dest, PolicyRequest{&dest, a, base_.actor, &*args, {}}));
    if (allowed->is_literal() && allowed->literal() == Value(false)) {
      for (auto& records : per_row) records.clear();
      return {};
    }
    if (!(allowed->is_literal() && allowed->literal() == Value(true)))
      filter = filter ? *allowed && *filter : *allowed;  // first: the read action's filter never runs on what is hidden
  }
  if (!filter) return {};
  if (depth_ >= kMaxDepth)
    return fail(Error::framework(fmt::format("reading {} through {}.{} nests more than {} read actions' filters; "
                                             "do they reach each other through relationships?",
                                             dest.name(), dest.name(), a ? a->name : std::string(label), kMaxDepth)));
  std::vector<Record> flat;
  for (const auto& records : per_row) flat.insert(flat.end(), records.begin(), records.end());
  if (flat.empty()) return {};
  EvalContext context = base_;
  context.args = &*args;
  context.parent = nullptr;
  Reader reader(domain_, source_, context, depth_ + 1);
  reader.authorize_ = authorize_;
  RowSet set(reader, dest, flat);
  std::size_t next = 0;
  for (auto& records : per_row) {
    std::vector<Record> kept;
    for (auto& record : records) {
      ASHLAR_TRY(hit, matches(*filter, set.context(next++, reader.base())));
      if (*hit) kept.push_back(std::move(record));
    }
    records = std::move(kept);
  }
  return {};
}

Result<std::vector<bool>> Reader::readable(const Resource& r, const std::vector<Record>& records) {
  const Action* a = r.primary_action(ActionType::read);
  ASHLAR_TRY(tenant, tenant_value(r, a ? a->name : std::string("read"), base_.tenant));
  std::vector<std::vector<Record>> per_row;  // one row per record: what the action keeps of it
  per_row.reserve(records.size());
  for (const auto& record : records)
    per_row.push_back(in_tenant(r, record, *tenant) ? std::vector<Record>{record} : std::vector<Record>{});
  ASHLAR_TRY_VOID(through_action(r, a, {}, "read", per_row));
  std::vector<bool> out;
  out.reserve(per_row.size());
  for (const auto& row : per_row) out.push_back(!row.empty());
  return out;
}

Result<std::vector<Record>> Reader::run_prepared(const Resource& r, const Action* a, const Fields& args,
                                                 const Query& q) {
  auto page = read_page(r, a, args, q);
  // What evaluating the filter or sort met (a value that compares with nothing) names
  // this read, as the checks before it do.
  if (!page && page.error().resource.empty()) {
    Error e = page.error();
    e.resource = r.name();
    if (e.action.empty()) e.action = a->name;
    return fail(std::move(e));
  }
  return page;
}

Result<std::vector<Record>> Reader::read_page(const Resource& r, const Action* a, const Fields& args,
                                              const Query& q) {
  std::optional<Expr> filter = a->filter;
  if (q.filter) filter = filter ? *filter && *q.filter : *q.filter;
  std::vector<SortKey> sort = a->sort;
  sort.insert(sort.end(), q.sort.begin(), q.sort.end());
  ASHLAR_TRY_VOID(validate(domain_, r, *a, filter, sort));
  // No cursors where they would carry what the reader may not see: a hidden attribute
  // (from outside), or a field a field policy keeps from the actor on some record (the
  // caller's own sort on one was refused above; the action's may have one).
  bool cursors = !(q.public_only && sort_hides(domain_, r, sort));
  if (cursors) {
    ASHLAR_TRY(guarded, sort_guarded(r, *a, sort, q.actor.is_null() ? base_.actor : q.actor));
    cursors = !*guarded;
  }
  ASHLAR_TRY(scope, tenant_filter(r, a->name, base_.tenant));  // another tenant's records are not there
  if (*scope) filter = filter ? *filter && **scope : **scope;
  if (authorizing(r, authorize_)) {  // what the actor may not read is left out, not an error
    ASHLAR_TRY(allowed, read_filter(r, PolicyRequest{&r, a, q.actor.is_null() ? base_.actor : q.actor, &args, {}}));
    if (allowed->is_literal() && allowed->literal() == Value(false)) return std::vector<Record>{};
    if (!(allowed->is_literal() && allowed->literal() == Value(true)))
      filter = filter ? *allowed && *filter : *allowed;  // first: the caller's filter never sees what is hidden
  }

  EvalContext context = base_;
  context.args = &args;
  if (!q.actor.is_null()) context.actor = q.actor;
  Reader reader(domain_, source_, context);
  reader.authorize_ = authorize_;
  ASHLAR_TRY(rows, candidates(reader, r, filter));
  ASHLAR_TRY(kept, reader.refine(r, std::move(*rows), filter, {}, nullptr));
  RowSet set(reader, r, *kept);
  ASHLAR_TRY(keys, sort_rows(set, *kept, sort));

  // A cursor holds one value per sort key and the primary key. One with another number of
  // values, or with values that do not compare with the rows' (which all have their keys'
  // types), is refused as not this query's, whatever it holds.
  auto not_a_cursor = [&](const char* field) {
    return fail(query_error(r, *a, field, "invalid_cursor", "is not a cursor this query returned"));
  };
  auto fits = [&](const std::optional<std::vector<Value>>& values) {
    return values && (kept->empty() || values->size() == keys->front().size());
  };
  if (!cursors && (!q.after.empty() || !q.before.empty())) return not_a_cursor(q.after.empty() ? "before" : "after");
  std::size_t from = 0;
  if (!q.after.empty()) {
    auto after = decode_cursor(q.after);
    if (!fits(after)) return not_a_cursor("after");
    restore_binaries(*after, *keys);
    std::optional<Error> error;
    while (from < kept->size() && compare_sort_values((*keys)[from], *after, sort, &error) <= 0 && !error) ++from;
    if (error) return not_a_cursor("after");
  }
  std::size_t to = kept->size();
  if (!q.before.empty()) {
    auto before = decode_cursor(q.before);
    if (!fits(before)) return not_a_cursor("before");
    restore_binaries(*before, *keys);
    std::optional<Error> error;
    to = from;
    while (to < kept->size() && compare_sort_values((*keys)[to], *before, sort, &error) < 0 && !error) ++to;
    if (error) return not_a_cursor("before");
  }
  std::optional<std::size_t> limit = q.limit ? q.limit : a->limit;
  if (q.before.empty()) {
    from += std::min(q.offset, kept->size() - from);
  } else {  // backwards from the cursor: the page ends right before it
    to = to - std::min(q.offset, to - from);
    if (limit && to - from > *limit) from = to - *limit;
  }
  std::vector<Record> page;
  for (std::size_t i = from; i < to && (!limit || page.size() < *limit); ++i) {
    if (cursors) RecordAccess::set_cursor((*kept)[i], encode_cursor((*keys)[i]));
    page.push_back(std::move((*kept)[i]));
  }
  ASHLAR_TRY_VOID(reader.load(r, page, q.load));
  ASHLAR_TRY_VOID(apply_select(r, page, q.select));
  return page;
}

}  // namespace ashlar::runtime

namespace ashlar {

std::vector<Load> parse_load_paths(std::string_view text) {
  std::vector<Load> out;
  for (std::size_t pos = 0; pos <= text.size();) {
    auto comma = std::min(text.find(',', pos), text.size());
    std::string_view path = text.substr(pos, comma - pos);
    pos = comma + 1;
    if (path.empty()) continue;
    std::vector<Load>* level = &out;
    for (const auto& segment : runtime::split_path(path)) {
      auto it = std::find_if(level->begin(), level->end(), [&](const Load& l) { return l.name == segment; });
      if (it == level->end()) it = level->insert(level->end(), Load(segment));
      level = &it->query.load;
    }
  }
  return out;
}

}  // namespace ashlar
