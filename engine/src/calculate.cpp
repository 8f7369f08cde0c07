// Calculations: their arguments cast (defaults filled in), then the values of a whole
// batch of records at once — an expression evaluated per record over one RowSet (so the
// relationships it reaches are loaded once for all), or the code called once.
#include <ashlar/calculation.hpp>

#include "reader.hpp"
#include "user_code.hpp"

#include <fmt/format.h>

namespace ashlar {

namespace {

class FnCalculation final : public Calculation {
 public:
  explicit FnCalculation(CalculateFn fn) : fn_(std::move(fn)) {}
  Result<std::vector<Value>> calculate(const std::vector<Record>& records,
                                       const CalculationContext& context) const override {
    return fn_(records, context);
  }

 private:
  CalculateFn fn_;
};

}  // namespace

std::shared_ptr<const Calculation> calculation(CalculateFn fn) { return std::make_shared<FnCalculation>(std::move(fn)); }

namespace runtime {
namespace {

constexpr int kMaxCalculationDepth = 32;

Error calculation_error(const Resource& r, std::string field, std::string code,
                        std::string message) {
  return Error::invalid(r.name(), {}, {{std::move(field), std::move(code), std::move(message)}});
}

// Every declared argument: given (cast to its type) or its default. An unknown, uncastable
// or missing required argument is Invalid, naming the calculation and the argument.
Result<Fields> calculation_arguments(const Resource& r, const CalculationDef& c, const Fields& given) {
  std::vector<FieldError> errors;
  for (const auto& [name, value] : given)
    if (!c.argument(name))
      errors.push_back({c.name + "." + name, "unknown_argument",
                        fmt::format("calculation {} has no argument {}", c.name, name)});
  Fields out;
  for (const auto& a : c.arguments) {
    const Value* v = find_field(given, a.name);
    Value value = v ? *v : a.default_value;
    if (v && !v->is_null()) {
      CastResult cast = cast_value(a.type, *v);
      if (!cast.value) {
        errors.push_back({c.name + "." + a.name, "invalid_argument",
                          fmt::format("calculation {}, argument {}: {}", c.name, a.name, cast.error)});
        continue;
      }
      value = std::move(*cast.value);
    }
    if (value.is_null() && !a.allow_nil)
      errors.push_back({c.name + "." + a.name, "required",
                        fmt::format("calculation {}, argument {}: is required", c.name, a.name)});
    out.emplace_back(a.name, std::move(value));
  }
  if (!errors.empty()) return fail(Error::invalid(r.name(), {}, std::move(errors)));
  return out;
}

}  // namespace

Result<std::vector<Value>> Reader::calculate(const Resource& r, const CalculationDef& c, const std::vector<Record>& rows,
                                             const Fields& given) {
  ASHLAR_TRY(args, calculation_arguments(r, c, given));
  if (rows.empty()) return std::vector<Value>{};
  if (calculation_depth_ >= kMaxCalculationDepth)
    return fail(Error::framework(fmt::format("calculation {}.{} nests more than {} calculations; do they reach "
                                             "each other through relationships?",
                                             r.name(), c.name, kMaxCalculationDepth)));
  std::vector<Value> out;
  if (c.expr) {
    EvalContext context = base_;
    context.args = &*args;
    context.parent = nullptr;
    Reader reader(domain_, source_, context, depth_);
    reader.calculation_depth_ = calculation_depth_ + 1;
    reader.authorize_ = authorize_;
    RowSet set(reader, r, rows);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      ASHLAR_TRY(v, evaluate(*c.expr, set.context(i, reader.base())));
      out.push_back(std::move(*v));
    }
  } else if (c.code) {
    CalculationContext context{r, c, *args, base_.actor, base_.now};
    auto computed = guarded(r.name(), "", fmt::format("calculation {}", c.name),
                            [&] { return c.code->calculate(rows, context); });
    if (!computed) {
      Error e = computed.error();
      if (e.resource.empty()) e.resource = r.name();
      return fail(std::move(e));
    }
    if (computed->size() != rows.size())
      return fail(Error::framework(fmt::format("calculation {}.{} returned {} values for {} records", r.name(), c.name,
                                               computed->size(), rows.size())));
    out = std::move(*computed);
  } else {
    return fail(Error::framework(fmt::format("{}.{} is a calculation in C++ code, which a stored model does not "
                                             "hold; compute it in the program that declares it",
                                             r.name(), c.name)));
  }
  for (auto& v : out) {
    if (v.is_null()) continue;
    // Text and maps computed from stored values are taken as they are: the checks on
    // input (UTF-8, nesting) are not re-run on what a store written before them holds.
    if ((c.type.kind == TypeKind::string && v.as_string()) || (c.type.kind == TypeKind::map && v.as_map())) continue;
    CastResult cast = cast_value(c.type, v);
    if (!cast.value)
      return fail(calculation_error(r, c.name, "invalid_value",
                                    fmt::format("calculation {}: {}", c.name, cast.error)));
    v = std::move(*cast.value);
  }
  return out;
}

}  // namespace runtime
}  // namespace ashlar
