#pragma once
// Manual relationships: related records computed by your code, as Ash's
// `has_many :x, Y do manual Impl end`.

#include <ashlar/model/export.hpp>
#include <ashlar/model/resource.hpp>
#include <ashlar/query.hpp>
#include <ashlar/record.hpp>

#include <functional>
#include <vector>

namespace ashlar {

struct ASHLAR_API LoadContext {
  // Reads in the same snapshot as the load that called you.
  std::function<Result<std::vector<Record>>(std::string_view resource, const Query& query)> read;
  Value actor;
};

class ASHLAR_API ManualRelationship {
 public:
  virtual ~ManualRelationship() = default;
  // The related records of each of `records`, aligned with them (one vector per record).
  // `query` is the load's customization (filter, sort, limit are applied afterwards too).
  virtual Result<std::vector<std::vector<Record>>> load(const std::vector<Record>& records, const Query& query,
                                                        const LoadContext& context) const = 0;
};

}  // namespace ashlar
