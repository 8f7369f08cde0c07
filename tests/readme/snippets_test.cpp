// The README's C++ blocks are compiled into this binary (extract_snippets.py writes one
// translation unit per block): that they build is the test. This case checks that every
// block the extractor found was compiled in, none dropped.
#include "prelude.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

namespace readme {

namespace {
std::vector<int>& lines() {
  static std::vector<int> compiled;
  return compiled;
}
}  // namespace

bool compiled(int readme_line) {
  lines().push_back(readme_line);
  return true;
}

const std::vector<int>& compiled_lines() { return lines(); }

}  // namespace readme

TEST_CASE("every C++ block of README.md compiles against the public headers") {
  std::vector<int> seen = readme::compiled_lines();
  std::sort(seen.begin(), seen.end());
  CHECK(std::adjacent_find(seen.begin(), seen.end()) == seen.end());
  CHECK(seen.size() == ASHLAR_README_SNIPPETS);
  INFO("compiled the blocks at README.md lines " << Catch::Detail::stringify(seen));
  CHECK(seen.size() >= 20);  // the README has this many at least: an extractor that finds none fails here
}
