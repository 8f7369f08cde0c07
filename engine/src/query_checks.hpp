#pragma once
// What a query may name and compare, checked before anything is read (query_checks.cpp).

#include <ashlar/engine.hpp>

#include <optional>
#include <string>
#include <vector>

namespace ashlar::runtime {

// Invalid naming the read and one field.
Error query_error(const Resource& r, const Action& a, std::string field, std::string code, std::string message);

// A read's filter and sort name what r has, and compare its attributes with literals they
// can compare with. With public_only (Query::public_only: the query's own filter and
// sort, checked in one pass before anything else looks at them — field policies,
// preparations), hidden attributes read as missing ones.
Result<void> validate(const Domain& d, const Resource& r, const Action& a, const std::optional<Expr>& filter,
                      const std::vector<SortKey>& sort, bool public_only = false);

// The same for every load's own filter and sort, and its loads', recursively.
Result<void> validate_loads(const Domain& d, const Resource& r, const std::vector<Load>& loads, bool public_only);

// Whether a cursor of this sort would carry a hidden attribute's values.
bool sort_hides(const Domain& d, const Resource& r, const std::vector<SortKey>& sort);

}  // namespace ashlar::runtime
