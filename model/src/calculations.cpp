// The checks DomainBuilder::build makes of calculations: names, and that each
// expression's refs, aggregates and arguments resolve.
#include "access.hpp"

#include <fmt/format.h>

#include <set>

namespace ashlar {
namespace {

// The names of the ^arg(...)s in `e`, aggregate filters included (an explicit stack:
// expressions can be long chains).
std::set<std::string> argument_names(const Expr& e) {
  std::set<std::string> out;
  std::vector<const Expr*> pending{&e};
  while (!pending.empty()) {
    const Expr* next = pending.back();
    pending.pop_back();
    if (next->kind() == ExprKind::arg) out.insert(next->name());
    if (next->kind() == ExprKind::aggregate && next->aggregate().filter) pending.push_back(&*next->aggregate().filter);
    for (const auto& operand : next->operands()) pending.push_back(&operand);
  }
  return out;
}

void check_expression(const std::vector<Resource>& all, const Resource& r, std::size_t index,
                      std::vector<FieldError>& problems) {
  const CalculationDef& c = r.calculations()[index];
  std::string where = r.name() + "." + c.name;
  visit_refs(*c.expr, [&](const std::vector<std::string>& path, bool under_parent) {
    if (under_parent) {
      problems.push_back({where, "invalid", "parent(...) has no parent record in a calculation"});
      return;
    }
    if (auto p = path_problem_in(all, r, path)) {
      problems.push_back({where, "unknown_attribute", *p});
      return;
    }
    // Only earlier calculations, so no calculation reaches itself.
    for (std::size_t k = index; path.size() == 1 && k < r.calculations().size(); ++k)
      if (r.calculations()[k].name == path[0] && !r.attribute(path[0]) && !r.aggregate(path[0]))
        problems.push_back({where, "invalid_calculation",
                            fmt::format("uses calculation {}, which is not declared before it", path[0])});
  });
  visit_aggregates(*c.expr, [&](const Aggregate& a, bool under_parent) {
    if (under_parent) {
      problems.push_back({where, "invalid", "parent(...) has no parent record in a calculation"});
      return;
    }
    auto dest = aggregate_destination(all, r, a);
    if (!dest) problems.push_back({where, "unknown_attribute", dest.error().message});
  });
  for (const auto& name : argument_names(*c.expr))
    if (!c.argument(name))
      problems.push_back({where, "unknown_argument",
                          fmt::format("uses ^arg(:{}), which is not an argument of the calculation", name)});
}

}  // namespace

void check_calculations(const DomainData& data, std::vector<FieldError>& problems, bool stored) {
  for (const auto& r : data.resources) {
    std::set<std::string> names;
    for (std::size_t i = 0; i < r.calculations().size(); ++i) {
      const CalculationDef& c = r.calculations()[i];
      std::string where = r.name() + "." + c.name;
      if (!names.insert(c.name).second) problems.push_back({where, "duplicate_name", "is declared more than once"});
      if (r.attribute(c.name) || r.relationship(c.name) || r.aggregate(c.name))
        problems.push_back({where, "duplicate_name",
                            "a calculation has the name of an attribute, relationship or aggregate"});
      std::set<std::string> arguments;
      for (const auto& a : c.arguments)
        if (!arguments.insert(a.name).second)
          problems.push_back({where, "duplicate_argument", fmt::format("argument {} is declared more than once", a.name)});
      if (!c.computable() && !stored)
        problems.push_back({where, "invalid_calculation", "has neither an expression nor code"});
      else if (c.expr)
        check_expression(data.resources, r, i, problems);
    }
  }
}

}  // namespace ashlar
