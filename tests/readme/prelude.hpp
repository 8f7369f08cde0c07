#pragma once
// What the README's C++ snippets assume and do not show: the public headers, the using
// directives of its first snippet, and the names they use without declaring them. Each
// snippet compiles (extract_snippets.py) as the body of a member function of a struct
// deriving from Assumed, so these members are in scope there and a snippet's own
// declarations hide them. The snippets are compiled, never run.

#include <ashlar/ashlar.hpp>

#include <fmt/format.h>

#include <cassert>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

using namespace ashlar;
using namespace ashlar::dsl;

namespace readme {

struct Assumed {
  Engine& engine;
  Domain blog;     // the Quick start's domain
  Domain shop_v2;  // the schema evolution example's next model
  std::string dir;
  Value id, id1, id2;  // primary keys
  Record rep, rita;    // Representatives of the helpdesk
  std::vector<Record> records;
  std::vector<Fields> rows;
  std::string request_id;
  std::uint64_t saved_checkpoint = 0;
  bool running = false;
};

// Each snippet's translation unit registers the README line of its block, so the test
// sees that none was dropped.
bool compiled(int readme_line);
const std::vector<int>& compiled_lines();

}  // namespace readme

// What the snippets call on the reader's side.
inline std::string hash(const std::string& password) { return password; }
template <typename T>
void handle(const T&) {}
inline void save_checkpoint(std::uint64_t) {}
