// Field policies applied: what a read, a load or an action returns has each field the
// actor may not read replaced by Value::forbidden(), and a filter or sort that reaches
// such a field is refused, so neither a value nor a comparison with it reaches the caller.
#include "authorize.hpp"
#include "changeset.hpp"
#include "reader.hpp"
#include "record_access.hpp"

#include <ashlar/model/key.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace ashlar::runtime {
namespace {

constexpr int kMaxDepth = 16;

bool in_primary_key(const Resource& r, std::string_view field) {
  auto i = r.attribute_index(field);
  return i && std::find(r.primary_key().begin(), r.primary_key().end(), *i) != r.primary_key().end();
}

// The resource `path` (relationships) leads to from r; nullptr when it does not resolve
// (validation reports it).
const Resource* walk(const Domain& d, const Resource* r, const std::vector<std::string>& path, std::size_t count) {
  for (std::size_t i = 0; r && i < count; ++i) {
    const Relationship* rel = r->relationship(path[i]);
    r = rel ? d.resource(rel->destination) : nullptr;
  }
  return r;
}

// Whether the actor may read `field` of r on every record, and everything it is computed
// from: its field policies decided by simple checks to authorize; an aggregate's field
// and filter, a calculation's refs (a calculation in C++ code: every attribute) likewise.
// `read` is the action r's own fields are read through: the request's for the records it
// returns, the relationship's for loaded ones; nullptr (r's primary read) for records
// reached through a relationship path or an aggregate.
class Everywhere {
 public:
  Everywhere(const Domain& d, Value actor) : domain_(d), actor_(std::move(actor)) {}

  // nullopt: readable everywhere; otherwise "Resource.field", the field that is not.
  Result<std::optional<std::string>> field(const Resource& r, const std::string& name, int depth,
                                           const Action* read) {
    if (depth > kMaxDepth) return std::optional<std::string>(r.name() + "." + name);
    if (!in_primary_key(r, name) && !r.field_policies().empty()) {
      const Action* through = read ? read : r.primary_action(ActionType::read);
      ASHLAR_TRY(f, field_filter(r, name, PolicyRequest{&r, through, actor_, &no_args_, {}}));
      if (!(f->is_literal() && f->literal() == Value(true))) return std::optional<std::string>(r.name() + "." + name);
    }
    if (const Aggregate* a = r.aggregate(name)) return aggregate(r, *a, depth + 1, read);
    const CalculationDef* c = r.calculation(name);
    if (c && c->expr) return expr(r, *c->expr, {}, depth + 1, read);
    if (c) {
      for (const auto& attribute : r.attributes()) {
        ASHLAR_TRY(hidden, field(r, attribute.name, depth + 1, read));
        if (*hidden) return hidden;
      }
    }
    return std::optional<std::string>();
  }

  Result<std::optional<std::string>> path(const Resource& r, const std::vector<std::string>& p, int depth,
                                          const Action* read) {
    const Resource* end = walk(domain_, &r, p, p.size() - 1);
    if (!end) return std::optional<std::string>();
    return field(*end, p.back(), depth, p.size() == 1 ? read : nullptr);
  }

  // A record parent(...) may name: the resource, and the action it is read through.
  struct Frame {
    const Resource* resource;
    const Action* read;
  };

  // An aggregate of r's records (r read through `read`; `outer`: the records r's own
  // parent(...) names, innermost first): its related records are read through their
  // primary read; parent(...) in its filter is r's record, or one further out.
  Result<std::optional<std::string>> aggregate(const Resource& r, const Aggregate& a, int depth, const Action* read,
                                               const std::vector<Frame>& outer = {}) {
    const Resource* dest = walk(domain_, &r, a.path, a.path.size());
    if (!dest) return std::optional<std::string>();
    if (!a.field.empty()) {
      ASHLAR_TRY(hidden, field(*dest, a.field, depth, nullptr));
      if (*hidden) return hidden;
    }
    if (!a.filter) return std::optional<std::string>();
    std::vector<Frame> parents{Frame{&r, read}};
    parents.insert(parents.end(), outer.begin(), outer.end());
    return expr(*dest, *a.filter, parents, depth, nullptr);
  }

  // Refs and aggregates of `e` over r, read through `read`; parent(...) refs over the
  // records `parents` holds, innermost first. visit_refs tells that a ref is under
  // parent(...), not how many levels out, so such a ref is checked against every one of
  // them: one guarded on any refuses (a rare refusal too many, never a field let through).
  Result<std::optional<std::string>> expr(const Resource& r, const Expr& e, const std::vector<Frame>& parents,
                                          int depth, const Action* read) {
    std::optional<std::string> hidden;
    std::optional<Error> error;
    auto note = [&](Result<std::optional<std::string>> found) {
      if (!found) error = found.error();
      else if (*found && !hidden) hidden = *found;
    };
    visit_refs(e, [&](const std::vector<std::string>& p, bool under_parent) {
      if (p.empty()) return;
      if (!under_parent || parents.empty()) return note(path(r, p, depth, read));
      for (const auto& frame : parents) note(path(*frame.resource, p, depth, frame.read));
    });
    visit_aggregates(e, [&](const Aggregate& a, bool under_parent) {
      if (!under_parent || parents.empty()) return note(aggregate(r, a, depth, read, parents));
      for (std::size_t i = 0; i < parents.size(); ++i)
        note(aggregate(*parents[i].resource, a, depth, parents[i].read,
                       std::vector<Frame>(parents.begin() + static_cast<std::ptrdiff_t>(i) + 1, parents.end())));
    });
    if (error) return fail(*error);
    return hidden;
  }

 private:
  const Domain& domain_;
  Value actor_;
  const Fields no_args_;
};

Error not_filterable(const Resource& r, const std::string& action, const std::string& field) {
  return Error::forbidden(r.name(), action,
                          fmt::format("filtering or sorting on {} is forbidden: the actor may not read it on every record",
                                      field));
}

// The names each of rows was loaded with (aggregates and calculations), in first-seen order.
std::vector<std::string> extra_names(std::vector<Record>& rows) {
  std::vector<std::string> out;
  for (auto& row : rows)
    for (const auto& [name, value] : RecordAccess::extras(row))
      if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  return out;
}

// What a loaded aggregate or calculation of r is computed from: the record's own
// attributes, which hide it on the rows where they are hidden, and whether anything else
// (a relationship path, an aggregate) is not readable on every record, which hides it on all.
struct Depends {
  std::vector<std::string> own{};
  bool elsewhere = false;
};

Result<Depends> depends(Everywhere& everywhere, const Resource& r, const Action* read, const std::string& name) {
  Depends out;
  std::optional<Error> error;
  auto note = [&](Result<std::optional<std::string>> found) {
    if (!found) error = found.error();
    else out.elsewhere = out.elsewhere || found->has_value();
  };
  const CalculationDef* c = r.calculation(name);
  if (c && !c->expr) {
    for (const auto& attribute : r.attributes()) out.own.push_back(attribute.name);
  } else if (c) {
    visit_refs(*c->expr, [&](const std::vector<std::string>& p, bool) {
      if (p.size() == 1 && r.attribute(p[0])) out.own.push_back(p[0]);
      else note(everywhere.path(r, p, 0, read));
    });
    visit_aggregates(*c->expr, [&](const Aggregate& agg, bool) { note(everywhere.aggregate(r, agg, 0, read)); });
  } else if (const Aggregate* agg = r.aggregate(name)) {
    note(everywhere.aggregate(r, *agg, 0, read));
  }
  if (error) return fail(*error);
  return out;
}

// The first field of sort the actor may not read on every record, if any.
Result<std::optional<std::string>> first_guarded(Everywhere& everywhere, const Resource& r, const Action& a,
                                                 const std::vector<SortKey>& sort) {
  for (const auto& key : sort) {
    ASHLAR_TRY(hidden, everywhere.path(r, key.path(), 0, &a));
    if (*hidden) return hidden;
  }
  return std::optional<std::string>{};
}

// Whether any resource of the domain has field policies: reads of a domain without any
// neither walk their filters nor copy their loaded records.
bool guards_fields(const Domain& d) {
  return std::any_of(d.resources().begin(), d.resources().end(),
                     [](const Resource& r) { return !r.field_policies().empty(); });
}

}  // namespace

Result<void> Reader::check_filterable(const Resource& r, const Action& a, const Query& q, const Resource* parent,
                                      const Action* parent_action) {
  if (!authorize_ || !guards_fields(domain_)) return {};
  Everywhere everywhere(domain_, q.actor.is_null() ? base_.actor : q.actor);
  if (q.filter) {
    std::vector<Everywhere::Frame> parents;
    if (parent) parents.push_back({parent, parent_action});
    ASHLAR_TRY(hidden, everywhere.expr(r, *q.filter, parents, 0, &a));
    if (*hidden) return fail(not_filterable(r, a.name, **hidden));
  }
  ASHLAR_TRY(sorted_by, first_guarded(everywhere, r, a, q.sort));
  if (*sorted_by) return fail(not_filterable(r, a.name, **sorted_by));
  return check_loads_filterable(r, &a, q.load);
}

Result<void> Reader::check_loads_filterable(const Resource& r, const Action* a, const std::vector<Load>& loads) {
  if (!authorize_ || !guards_fields(domain_)) return {};
  for (const auto& load : loads) {
    const Relationship* rel = r.relationship(load.name);
    const Resource* dest = rel ? domain_.resource(rel->destination) : nullptr;
    if (!dest) continue;
    // The action the load's records come through; its filter's parent(...) is r's record.
    const Action* read = load_read_action(*dest, *rel, &load.query);
    if (read) ASHLAR_TRY_VOID(check_filterable(*dest, *read, load.query, &r, a));
  }
  return {};
}

Result<bool> Reader::sort_guarded(const Resource& r, const Action& a, const std::vector<SortKey>& sort,
                                  const Value& actor) {
  if (!authorize_ || !guards_fields(domain_)) return false;
  Everywhere everywhere(domain_, actor);
  ASHLAR_TRY(guarded, first_guarded(everywhere, r, a, sort));
  return guarded->has_value();
}

// Per row, the fields of r the actor may not read by r's field policies (`action` the
// request's), evaluated against the record as stored (a select or an earlier hiding
// leaves the values the checks need out).
Result<std::vector<std::set<std::string>>> Reader::hidden_fields(const Resource& r, const Action* action,
                                                                 std::vector<Record>& rows) {
  std::vector<std::set<std::string>> hidden(rows.size());
  const Action* a = action ? action : r.primary_action(ActionType::read);
  const Fields no_args;
  PolicyRequest request{&r, a, base_.actor, &no_args, {}};
  std::vector<Record> stored;
  auto per_record = [&](const std::string& name) -> Result<void> {
    ASHLAR_TRY(f, field_filter(r, name, request));
    if (f->is_literal() && f->literal() == Value(true)) return {};
    if (f->is_literal()) {
      for (auto& names : hidden) names.insert(name);
      return {};
    }
    if (stored.empty()) {
      for (const auto& row : rows) {
        std::vector<Value> key;
        for (auto i : r.primary_key()) key.push_back(row[r.attributes()[i].name]);
        ASHLAR_TRY(found, get(r, encode_key(key)));
        stored.push_back(*found ? std::move(**found) : row);  // a destroyed record: as it was returned
      }
    }
    EvalContext context = base_;
    context.args = &no_args;
    context.parent = nullptr;
    Reader reader(domain_, source_, context, depth_ + 1);
    reader.authorize_ = authorize_;
    RowSet set(reader, r, stored);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      ASHLAR_TRY(hit, matches(*f, set.context(i, reader.base())));
      if (!*hit) hidden[i].insert(name);
    }
    return {};
  };
  for (const auto& attribute : r.attributes())
    if (!r.field_policies().empty() && !in_primary_key(r, attribute.name)) ASHLAR_TRY_VOID(per_record(attribute.name));
  Everywhere everywhere(domain_, base_.actor);
  for (const auto& name : extra_names(rows)) {
    ASHLAR_TRY_VOID(per_record(name));
    ASHLAR_TRY(from, depends(everywhere, r, a, name));
    bool elsewhere = from->elsewhere;
    const auto& own = from->own;
    for (auto& names : hidden)
      if (elsewhere || std::any_of(own.begin(), own.end(), [&](const auto& n) { return names.count(n) > 0; }))
        names.insert(name);
  }
  return hidden;
}

Result<void> Reader::hide_fields(const Resource& r, const Action* action, std::vector<Record>& rows,
                                 const std::vector<Load>* loads) {
  if (!authorize_ || rows.empty() || !guards_fields(domain_)) return {};
  std::vector<std::string> loaded;
  for (auto& row : rows)
    for (const auto& [name, records] : RecordAccess::related(row))
      if (std::find(loaded.begin(), loaded.end(), name) == loaded.end()) loaded.push_back(name);
  for (const auto& name : loaded) {  // related records: as their destination's read returns them
    const Relationship* rel = r.relationship(name);
    if (!rel) continue;
    std::vector<Record> flat;
    for (auto& row : rows)
      for (auto& [n, records] : RecordAccess::related(row))
        if (n == name) flat.insert(flat.end(), records.begin(), records.end());
    const Resource& dest = resource(rel->destination);
    const Load* load = nullptr;
    if (loads)
      for (const auto& l : *loads)
        if (l.name == name) load = &l;
    ASHLAR_TRY_VOID(hide_fields(dest, load_read_action(dest, *rel, load ? &load->query : nullptr), flat,
                                load ? &load->query.load : nullptr));
    std::size_t next = 0;
    for (auto& row : rows)
      for (auto& [n, records] : RecordAccess::related(row))
        if (n == name)
          for (auto& record : records) record = std::move(flat[next++]);
  }
  // Without field policies of its own, r's aggregates and calculations may still be
  // computed from fields of other resources the actor may not read.
  if (r.field_policies().empty() && extra_names(rows).empty()) return {};
  ASHLAR_TRY(hidden, hidden_fields(r, action, rows));
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (const auto& name : (*hidden)[i]) {
      if (auto index = r.attribute_index(name)) RecordAccess::set_attribute(rows[i], *index, Value::forbidden());
      else if (find_field(RecordAccess::extras(rows[i]), name)) RecordAccess::set_extra(rows[i], name, Value::forbidden());
    }
  return {};
}

}  // namespace ashlar::runtime
