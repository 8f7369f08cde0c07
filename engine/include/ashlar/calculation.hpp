#pragma once
// Calculations computed by C++ code, after Ash's `calculate :x, :type, MyCalculation`:
// the code sees a whole batch of records at once (every record a read or load returns),
// so it can look related data up once for all of them.
//
//   class Initials final : public ashlar::Calculation {
//    public:
//     ashlar::Result<std::vector<ashlar::Value>> calculate(const std::vector<ashlar::Record>& records,
//                                                          const ashlar::CalculationContext&) const override {
//       std::vector<ashlar::Value> out;
//       for (const auto& r : records) out.push_back(r["name"].as_string()->substr(0, 1));
//       return out;
//     }
//   };
//   resource("User").calculate("initial", type::string, std::make_shared<Initials>())

#include <ashlar/model/export.hpp>
#include <ashlar/model/resource.hpp>
#include <ashlar/record.hpp>

#include <functional>
#include <vector>

namespace ashlar {

struct ASHLAR_API CalculationContext {
  const Resource& resource;
  const CalculationDef& calculation;
  const Fields& arguments;  // every declared argument: the load's, cast, or its default
  Value actor;              // the reader's actor; nil when there is none
  DateTime now;             // the read's now(), the same for every record
};

class ASHLAR_API Calculation {
 public:
  virtual ~Calculation() = default;
  // The value for each of `records`, aligned with them. An error fails the read (an error
  // without a resource gets the calculation's); a list of another length, or a value
  // that does not cast to the calculation's type, is an error naming the calculation.
  // Called once per batch: once for a read's page, once per level of a load.
  virtual Result<std::vector<Value>> calculate(const std::vector<Record>& records,
                                               const CalculationContext& context) const = 0;
};

// A Calculation from a function, for short ones.
using CalculateFn = std::function<Result<std::vector<Value>>(const std::vector<Record>&, const CalculationContext&)>;
ASHLAR_API std::shared_ptr<const Calculation> calculation(CalculateFn fn);

}  // namespace ashlar
