// What a query may name and compare, checked before anything is read: names that
// resolve (and, from outside, are not hidden), and comparisons of attributes with literals
// that could succeed on some stored value.
#include "query_checks.hpp"
#include "reader.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace ashlar::runtime {
namespace {

// An attribute a query from outside may not name (Query::public_only). The primary key
// is every record's id, shown wherever the record is.
bool hidden(const Attribute* a) { return a && !a->primary_key && (!a->is_public || a->sensitive); }

// Why a query may not name `path` from `at`: it does not resolve, or, from outside, ends
// at a hidden attribute, which reads exactly as a name the resource does not have.
std::optional<std::string> input_problem(const Domain& d, const Resource& at, const std::vector<std::string>& path,
                                         bool public_only = true) {
  if (auto problem = ref_problem(d, at, path)) return problem;
  if (!public_only) return std::nullopt;
  auto end = resolve_path(d, at, path);
  if (end && hidden(end->attribute)) return fmt::format("{} has no attribute {}", end->resource->name(), path.back());
  return std::nullopt;
}

// The names a client's filter may not use, in the order they appear: each ref from the
// record it is evaluated against — the query's, an aggregate's related record, or under
// parent(...) the record one level out — and each aggregate's relationships and field.
// parent(...) at the top, where there is no record further out, is refused whatever it
// names. `records`: the filter's record's resource last, the records it is loaded for (a
// load's filter) before it.
void input_problems(const Domain& d, std::vector<const Resource*> records, const Expr& filter,
                    std::vector<FieldError>& errors, bool public_only = true) {
  struct Frame {
    const Expr* e;
    std::vector<const Resource*> records;  // the record's resource last, its parents before it
  };
  std::vector<Frame> pending{{&filter, std::move(records)}};
  bool parentless = false;
  while (!pending.empty()) {
    Frame frame = std::move(pending.back());
    pending.pop_back();
    const Expr& e = *frame.e;
    const Resource& at = *frame.records.back();
    if (e.kind() == ExprKind::ref) {
      if (auto problem = input_problem(d, at, e.path(), public_only))
        errors.push_back({"filter", "unknown_attribute", *problem});
      continue;
    }
    if (e.kind() == ExprKind::parent) {
      if (frame.records.size() < 2) {
        parentless = true;
        continue;
      }
      frame.records.pop_back();
      pending.push_back({&e.operands()[0], std::move(frame.records)});
      continue;
    }
    if (e.kind() == ExprKind::aggregate) {
      const Aggregate& agg = e.aggregate();
      const Resource* dest = &at;
      for (const auto& name : agg.path) {
        const Relationship* rel = dest->relationship(name);
        const Resource* next = rel ? d.resource(rel->destination) : nullptr;
        if (!next) {
          errors.push_back(
              {"filter", "unknown_relationship", fmt::format("{} has no relationship {}", dest->name(), name)});
          dest = nullptr;
          break;
        }
        dest = next;
      }
      if (!dest) continue;
      if (!agg.field.empty()) {
        if (!dest->attribute(agg.field))  // an aggregate's field is an attribute, as validate has it
          errors.push_back({"filter", "unknown_attribute", fmt::format("{} has no attribute {}", dest->name(), agg.field)});
        else if (auto problem = input_problem(d, *dest, {agg.field}, public_only))
          errors.push_back({"filter", "unknown_attribute", *problem});
      }
      if (agg.filter) {
        frame.records.push_back(dest);
        pending.push_back({&*agg.filter, std::move(frame.records)});
      }
      continue;
    }
    const auto& operands = e.operands();
    for (auto it = operands.rbegin(); it != operands.rend(); ++it) pending.push_back({&*it, frame.records});
  }
  if (parentless)
    errors.push_back({"filter", "invalid", "parent(...) refers to the parent record of a relationship filter"});
}

// A value of an attribute's type, to try a comparison with a literal on before any record
// is read; nullopt where what a comparison does depends on the stored value (a map, an
// array).
std::optional<Value> sample_of(const Type& type) {
  switch (type.kind) {
    case TypeKind::string: return Value(std::string());
    case TypeKind::integer: return Value(0);
    case TypeKind::floating: return Value(0.0);
    case TypeKind::boolean: return Value(false);
    case TypeKind::uuid: return Value(Uuid{});
    case TypeKind::utc_datetime: return Value(DateTime{0});
    case TypeKind::date: return Value(Date{0});
    case TypeKind::atom: return Value(Atom{""});
    case TypeKind::binary: return Value(Binary{});
    case TypeKind::map:
    case TypeKind::array: break;
  }
  return std::nullopt;
}

// Comparisons of an attribute with a literal that fail on any stored value: NaN, which
// compares with nothing, and a literal of a kind the attribute's values never compare
// with ("qty" == "abc"). Refused before anything is read, so whether they are errors does
// not depend on what is stored (evaluation meets them only on a record with a value).
// A string attribute compared with a uuid, date or time literal is left to evaluation:
// whether the text parses as one depends on the record.
void literal_problems(const Domain& d, const Resource& r, const Expr& filter, std::vector<FieldError>& errors) {
  auto attribute_type = [&](const Expr& ref) -> std::optional<Type> {
    if (ref.kind() != ExprKind::ref) return std::nullopt;
    auto end = resolve_path(d, r, ref.path());
    if (!end || !end->attribute) return std::nullopt;
    return end->attribute->type;
  };
  // The failure evaluation would meet comparing the attribute's values with `literal`, or
  // nullopt when they compare.
  auto try_compare = [&](const Type& type, const Value& literal, bool ref_first) -> std::optional<Error> {
    if (literal.is_null()) return std::nullopt;
    auto sample = sample_of(type);
    if (!sample) return std::nullopt;
    if (type.kind == TypeKind::string && (literal.as_uuid() || literal.as_datetime() || literal.as_date()))
      return std::nullopt;
    auto c = ref_first ? compare_values(*sample, literal) : compare_values(literal, *sample);
    if (c) return std::nullopt;
    return c.error();
  };
  auto report = [&](const Error& error, const Expr& at) {
    FieldError f = error.fields.empty() ? FieldError{"filter", "type_mismatch", error.message} : error.fields[0];
    f.field = "filter";
    f.message += " in `" + describe_expr(at) + "`";
    errors.push_back(std::move(f));
  };
  // Without recursion (a filter built in C++ may be of any depth), the first problem only.
  std::vector<const Expr*> pending{&filter};
  while (!pending.empty()) {
    const Expr& e = *pending.back();
    pending.pop_back();
    if (e.kind() == ExprKind::parent || e.kind() == ExprKind::aggregate) continue;  // other records' refs
    const auto& ops = e.operands();
    if (e.kind() == ExprKind::compare) {
      for (int side = 0; side < 2; ++side) {
        auto type = attribute_type(ops[side]);
        const Expr& other = ops[1 - side];
        if (!type || other.kind() != ExprKind::literal) continue;
        if (auto error = try_compare(*type, other.literal(), side == 0)) return report(*error, e);
      }
    } else if (e.kind() == ExprKind::in) {
      auto type = attribute_type(ops[0]);
      if (type && ops[1].kind() == ExprKind::literal && !ops[1].literal().is_null()) {
        const Array* items = ops[1].literal().as_array();
        if (!items)
          return report(Error::invalid({}, {}, {{"filter", "type_mismatch",
                                                 fmt::format("in needs a list, got {}",
                                                             to_string(ops[1].literal().kind()))}}),
                        e);
        for (const auto& item : *items)
          if (auto error = try_compare(*type, item, true)) return report(*error, e);
      }
    }
    for (auto it = ops.rbegin(); it != ops.rend(); ++it) pending.push_back(&*it);
  }
}

// What in a filter and sort does not name something that exists, each name from the record
// it is evaluated on (`records` as input_problems takes them); with public_only, a hidden
// attribute too, reported as a missing one, with the same errors, as many.
std::vector<FieldError> name_problems(const Domain& d, std::vector<const Resource*> records,
                                      const std::optional<Expr>& filter, const std::vector<SortKey>& sort,
                                      bool public_only) {
  const Resource& at = *records.back();
  std::vector<FieldError> errors;
  if (filter) input_problems(d, records, *filter, errors, public_only);
  if (filter && errors.empty()) literal_problems(d, at, *filter, errors);
  for (const auto& key : sort)
    if (auto problem = input_problem(d, at, key.path(), public_only))
      errors.push_back({"sort", "unknown_attribute", *problem});
  return errors;
}

}  // namespace

Error query_error(const Resource& r, const Action& a, std::string field, std::string code, std::string message) {
  return Error::invalid(r.name(), a.name, {{std::move(field), std::move(code), std::move(message)}});
}

// A read's filter and sort name what r has. With public_only (Query::public_only: the
// query's own filter and sort, checked in one pass before anything else looks at them —
// field policies, preparations), hidden attributes read as missing ones.
Result<void> validate(const Domain& d, const Resource& r, const Action& a, const std::optional<Expr>& filter,
                      const std::vector<SortKey>& sort, bool public_only) {
  auto errors = name_problems(d, {&r}, filter, sort, public_only);
  if (!errors.empty()) return fail(Error::invalid(r.name(), a.name, std::move(errors)));
  return {};
}

// Every load's own filter and sort (and its loads', recursively) name what the loaded
// resource has — under parent(...), what the record it is loaded for has — and, from
// outside, nothing hidden; checked before anything is read, so that whether a load is
// refused does not depend on there being records to load it for. An error names the
// loaded resource and the read action its records come through.
Result<void> validate_loads(const Domain& d, const Resource& r, const std::vector<Load>& loads, bool public_only) {
  for (const auto& load : loads) {
    if (load.query.has_hooks())  // a load filters what it relates; it is not a read of its own
      return fail(Error::framework(fmt::format("load {}: a load's query takes no before_action, after_action or "
                                               "around_action hooks; they run on reads",
                                               load.name)));
    const Relationship* rel = r.relationship(load.name);
    const Resource* dest = rel ? d.resource(rel->destination) : nullptr;
    if (!dest) continue;  // an aggregate, a calculation, or a name the load itself reports
    if (!load.query.action.empty()) {  // Ash's load(rel: Ash.Query.for_read(Dest, :action))
      const Action* named = dest->action(load.query.action);
      if (!named || named->type != ActionType::read)
        return fail(Error::framework(fmt::format("load {}: {} has no read action named {}", load.name, dest->name(),
                                                 load.query.action)));
    }
    auto errors = name_problems(d, {&r, dest}, load.query.filter, load.query.sort, public_only);
    if (!errors.empty()) {
      const Action* read = load_read_action(*dest, *rel, &load.query);
      return fail(Error::invalid(dest->name(), read ? read->name : std::string("read"), std::move(errors)));
    }
    ASHLAR_TRY_VOID(validate_loads(d, *dest, load.query.load, public_only));
  }
  return {};
}

// Whether a cursor of this sort would carry a hidden attribute's values.
bool sort_hides(const Domain& d, const Resource& r, const std::vector<SortKey>& sort) {
  return std::any_of(sort.begin(), sort.end(), [&](const SortKey& key) {
    auto end = resolve_path(d, r, key.path());
    return end && hidden(end->attribute);
  });
}

}  // namespace ashlar::runtime
