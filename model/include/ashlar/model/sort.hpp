#pragma once
// Sort keys, and Ash's sort-input text form: "-opened_at,priority".

#include <ashlar/model/export.hpp>
#include <ashlar/model/result.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace ashlar {

struct ASHLAR_API SortKey {
  std::string field;  // an attribute, or a dotted path through to-one relationships
  bool descending = false;
  bool nils_first = false;

  // Ash's (and Postgres's) defaults: nils last ascending, nils first descending.
  static SortKey asc(std::string field) { return {std::move(field), false, false}; }
  static SortKey desc(std::string field) { return {std::move(field), true, true}; }
  bool operator==(const SortKey&) const = default;
  // The field's names: "author.name" -> {"author", "name"}.
  std::vector<std::string> path() const;
};

// What parse_sort accepts; a sort rarely needs more than a few keys.
inline constexpr std::size_t kMaxSortText = 4096;  // bytes of sort text
inline constexpr std::size_t kMaxSortKeys = 64;

// Comma-separated keys: `x` or `+x` ascending, `-x` descending, `++x` ascending with nils
// first, `--x` descending with nils last; spaces around keys are ignored, and an empty
// input is no sort. Fails with an Invalid error, field "sort", code "syntax", naming the
// 1-based column and what was found there:
//   at column 3: expected a field name, found ","
// Input past a limit above fails with an Invalid error whose code and field error's code
// are codes::kTooComplex ("too_complex"), naming the limit:
//   too long: 5000 bytes, more than the limit of 4096
//   at column 130: too complex: more than the limit of 64 keys
[[nodiscard]] ASHLAR_API Result<std::vector<SortKey>> parse_sort(std::string_view text);

// The same form; parse_sort(to_string(keys)) == keys.
ASHLAR_API std::string to_string(const std::vector<SortKey>& keys);

}  // namespace ashlar
