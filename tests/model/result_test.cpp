#include <ashlar/model/result.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

using namespace ashlar;

namespace {

// What an rvalue Result hands out: the value itself, never a reference into the temporary.
static_assert(std::is_same_v<decltype(std::declval<Result<std::string>>().value()), std::string>);
static_assert(std::is_same_v<decltype(*std::declval<Result<std::string>>()), std::string>);
static_assert(std::is_same_v<decltype(std::declval<Result<std::string>>().value_or("")), std::string>);
static_assert(std::is_same_v<decltype(std::declval<Result<std::string>>().error()), Error>);
static_assert(std::is_same_v<decltype(std::declval<Result<void>>().error()), Error>);
// An lvalue keeps handing out references: no copy to look at a stored result.
static_assert(std::is_same_v<decltype(std::declval<Result<std::string>&>().value()), std::string&>);
static_assert(std::is_same_v<decltype(std::declval<const Result<std::string>&>().value()), const std::string&>);
static_assert(std::is_same_v<decltype(*std::declval<Result<std::string>&>()), std::string&>);
static_assert(std::is_same_v<decltype(std::declval<const Result<std::string>&>().error()), const Error&>);

// Counts copies and moves, to tell which one an accessor made.
struct Counted {
  static inline int copies = 0;
  static inline int moves = 0;
  std::string text;
  explicit Counted(std::string t) : text(std::move(t)) {}
  Counted(const Counted& other) : text(other.text) { ++copies; }
  Counted(Counted&& other) noexcept : text(std::move(other.text)) { ++moves; }
  Counted& operator=(const Counted&) = default;
  Counted& operator=(Counted&&) = default;
  static void reset() { copies = moves = 0; }
};

Result<Counted> counted(std::string text) { return Counted(std::move(text)); }
Result<Counted> counted_failure() { return fail(Error::not_found("Ticket", "no Ticket with primary key 7")); }

// A range that knows whether it is still alive when it is iterated: the live set holds the
// addresses of the objects not yet destroyed, so the check reads nothing of a dead one.
std::set<const void*>& live() {
  static std::set<const void*> objects;
  return objects;
}
struct Tracked {
  std::array<int, 3> items{1, 2, 3};
  Tracked() { live().insert(this); }
  Tracked(const Tracked& other) : items(other.items) { live().insert(this); }
  Tracked(Tracked&& other) noexcept : items(other.items) { live().insert(this); }
  ~Tracked() { live().erase(this); }
  bool alive() const { return live().count(this) == 1; }
  const int* begin() const { return alive() ? items.data() : nullptr; }
  const int* end() const { return alive() ? items.data() + items.size() : nullptr; }
};

Result<Tracked> tracked() { return Tracked(); }

}  // namespace

TEST_CASE("iterating a call's result in place iterates a live value") {
  int sum = 0;
  int steps = 0;
  for (const int& i : tracked().value()) {
    sum += i;
    if (++steps > 3) break;
  }
  CHECK(sum == 6);

  sum = 0;
  for (const int& i : *tracked()) sum += i;
  CHECK(sum == 6);
  CHECK(live().empty());  // and nothing outlives the loop
}

TEST_CASE("the rvalue forms move the value out, the lvalue forms copy only when asked") {
  Counted::reset();
  Counted moved = counted("a").value();
  CHECK(moved.text == "a");
  CHECK(Counted::copies == 0);

  Counted::reset();
  Counted star = *counted("b");
  CHECK(star.text == "b");
  CHECK(Counted::copies == 0);

  Counted::reset();
  Counted or_value = counted("c").value_or(Counted("fallback"));
  CHECK(or_value.text == "c");
  CHECK(Counted::copies == 0);

  Counted::reset();
  Counted or_fallback = counted_failure().value_or(Counted("fallback"));
  CHECK(or_fallback.text == "fallback");
  CHECK(Counted::copies == 0);

  // A named result keeps its value: value_or and value() on it copy, and leave it intact.
  Result<Counted> kept = counted("d");
  Counted::reset();
  Counted copy = kept.value_or(Counted("fallback"));
  const Counted& ref = kept.value();
  CHECK(Counted::copies == 1);
  CHECK(copy.text == "d");
  CHECK(ref.text == "d");
  CHECK(&ref == &*kept);

  // std::move on a named result moves out of it.
  Counted::reset();
  Counted taken = std::move(kept).value();
  CHECK(taken.text == "d");
  CHECK(Counted::copies == 0);
}

TEST_CASE("the error of a failed call's result outlives the call") {
  Error e = counted_failure().error();
  CHECK(e.cls == ErrorClass::not_found);
  CHECK(e.message == "no Ticket with primary key 7");
  CHECK(e.code == codes::kNotFound);

  std::vector<std::string> fields;
  auto invalid = []() -> Result<void> {
    return fail(Error::invalid("User", "create", {{"name", "required", "is required"}, {"age", "min", "must be at least 0"}}));
  };
  for (const auto& f : invalid().error().fields) fields.push_back(f.field + ": " + f.message);
  CHECK(fields == std::vector<std::string>{"name: is required", "age: must be at least 0"});

  Result<void> failed = invalid();
  CHECK(failed.error().describe() == "invalid: User.create: 2 invalid inputs: name: is required; age: must be at least 0");
}

TEST_CASE("value() on a failed result throws the error from an lvalue and from an rvalue") {
  try {
    (void)counted_failure().value();
    FAIL("value() did not throw");
  } catch (const Exception& e) {
    CHECK(e.error().message == "no Ticket with primary key 7");
    CHECK(e.error().cls == ErrorClass::not_found);
  }
  Result<Counted> failed = counted_failure();
  CHECK_THROWS_AS(failed.value(), Exception);
  CHECK_THROWS_WITH(std::as_const(failed).value(), Catch::Contains("no Ticket with primary key 7"));
}
