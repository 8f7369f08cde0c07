#include <ashlar/model/dsl.hpp>
#include <ashlar/model/json.hpp>
#include <ashlar/model/key.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

using namespace ashlar;

TEST_CASE("uuids parse, print canonically and v4 sets version and variant") {
  auto u = Uuid::parse("8BA0AB56-C6E3-4AB0-9C9C-DF70E9945281");
  REQUIRE(u);
  CHECK(u->str() == "8ba0ab56-c6e3-4ab0-9c9c-df70e9945281");
  CHECK_FALSE(Uuid::parse("8ba0ab56c6e34ab09c9cdf70e9945281"));
  CHECK_FALSE(Uuid::parse("8ba0ab56-c6e3-4ab0-9c9c-df70e994528g"));
  auto v4 = Uuid::v4();
  CHECK((v4.bytes[6] >> 4) == 4);
  CHECK((v4.bytes[8] & 0xC0) == 0x80);
  CHECK(Uuid::v4() != v4);
}

TEST_CASE("v7 uuids carry the time in milliseconds and increase on one thread, also within a millisecond") {
  auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  std::vector<Uuid> ids;
  for (int i = 0; i < 5000; ++i) ids.push_back(Uuid::v7());  // many share a millisecond
  auto after = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch()).count();
  for (const auto& u : ids) {
    CHECK((u.bytes[6] >> 4) == 7);
    CHECK((u.bytes[8] & 0xC0) == 0x80);
  }
  for (std::size_t i = 1; i < ids.size(); ++i) REQUIRE(ids[i - 1] < ids[i]);
  auto millis = [](const Uuid& u) {
    std::int64_t m = 0;
    for (int i = 0; i < 6; ++i) m = m << 8 | u.bytes[static_cast<std::size_t>(i)];
    return m;
  };
  CHECK(millis(ids.front()) >= before);
  // A counter that runs out within a millisecond borrows the next one: never far ahead.
  CHECK(millis(ids.back()) <= after + 2);
  // Ordered as bytes, so as index keys: the key encoding keeps the creation order.
  CHECK(encode_key(std::vector<Value>{Value(ids[0])}) < encode_key(std::vector<Value>{Value(ids[1])}));
}

TEST_CASE("times parse from ISO 8601 and print in UTC with microseconds") {
  auto t = DateTime::parse("2026-11-21T23:28:16.123456Z");
  REQUIRE(t);
  CHECK(t->str() == "2026-11-21T23:28:16.123456Z");
  CHECK(DateTime::parse("2026-11-22T00:28:16.123456+01:00") == t);
  CHECK(DateTime::parse("1970-01-01T00:00:00Z")->micros == 0);
  CHECK(DateTime::parse("1969-12-31T23:59:59.5Z")->str() == "1969-12-31T23:59:59.500000Z");
  CHECK_FALSE(DateTime::parse("2026-02-30T00:00:00Z"));
  CHECK_FALSE(DateTime::parse("2026-11-21 23:28"));
  CHECK_FALSE(DateTime::parse("2026-11-21T23:28:16"));  // no zone: ambiguous
  CHECK(Date::parse("2024-02-29")->str() == "2024-02-29");
  CHECK_FALSE(Date::parse("2023-02-29"));
}

TEST_CASE("inputs cast to attribute types as Ash casts them") {
  CHECK(*cast_value(type::uuid, "8ba0ab56-c6e3-4ab0-9c9c-df70e9945281").value ==
        Value(*Uuid::parse("8ba0ab56-c6e3-4ab0-9c9c-df70e9945281")));
  CHECK(cast_value(type::uuid, "nope").error == "\"nope\" is not a uuid");
  CHECK(*cast_value(type::floating, 3).value == Value(3.0));
  CHECK(*cast_value(type::integer, 3.0).value == Value(3));
  CHECK(cast_value(type::integer, 3.5).error == "expected integer, got float");
  CHECK(cast_value(type::integer, "3").error == "expected integer, got string");
  CHECK(*cast_value(type::atom, "open").value == Value(Atom{"open"}));
  CHECK(*cast_value(type::utc_datetime, "2026-01-01T00:00:00Z").value == Value(*DateTime::parse("2026-01-01T00:00:00Z")));
  CHECK(*cast_value(type::array(type::integer), Array{1, 2}).value == Value(Array{1, 2}));
  CHECK(cast_value(type::array(type::integer), Array{1, "x"}).error == "element 1: expected integer, got string");
  CHECK(cast_value(type::binary, "text").error == "expected binary, got string");
  CHECK(cast_value(type::string, Value()).value->is_null());
}

TEST_CASE("constraints report the first broken rule with a message a user can act on") {
  Constraints len{.min_length = 2, .max_length = 3};
  CHECK(check_constraints(type::string, len, "a")->second == "must be at least 2 characters long");
  CHECK(check_constraints(type::string, len, "abcd")->first == "max_length");
  CHECK_FALSE(check_constraints(type::string, len, "héé"));  // code points, not bytes
  Constraints range{.min = 0, .max = 10};
  CHECK(check_constraints(type::integer, range, -1)->second == "must be at least 0");
  CHECK(check_constraints(type::floating, range, 10.5)->second == "must be at most 10");
  Constraints one_of{.one_of = {"low", "high"}};
  CHECK(check_constraints(type::atom, one_of, Atom{"mid"})->second == "must be one of :low, :high, got :mid");
  Constraints match{.match = "[a-z]+"};
  CHECK(check_constraints(type::string, match, "abc1")->first == "match");
  CHECK(check_constraints(type::array(type::string), match, Array{"ok", "NO"})->first == "match");
}

TEST_CASE("maps are kept sorted by key so equal maps are equal values") {
  Value a(Map{{"b", 1}, {"a", 2}});
  Value b(Map{{"a", 2}, {"b", 1}});
  CHECK(a == b);
  CHECK(a.str() == "{a: 2, b: 1}");
}

TEST_CASE("key encoding orders like the values and is self-delimiting") {
  auto less = [](const Value& x, const Value& y) {
    std::vector<Value> a{x}, b{y};
    return encode_key(a) < encode_key(b);
  };
  CHECK(less(-5, 3));
  CHECK(less(3, 300));
  CHECK(less(-2.5, -1.0));
  CHECK(less(-1.0, 0.5));
  CHECK(less("ab", "abc"));
  CHECK(less(std::string("a\0b", 3), "ab"));
  CHECK(less(DateTime{-1}, DateTime{1}));
  // ("a", "bc") and ("ab", "c") must not collide.
  std::vector<Value> k1{"a", "bc"}, k2{"ab", "c"};
  CHECK(encode_key(k1) != encode_key(k2));
}

TEST_CASE("a forked child's uuids are not the ones its parent has buffered") {
  Uuid::v4();  // the parent's buffer now holds the next uuids
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::string child = Uuid::v4().str();
    ssize_t n = ::write(fds[1], child.data(), child.size());
    _exit(n == static_cast<ssize_t>(child.size()) ? 0 : 1);
  }
  ::close(fds[1]);
  std::string child(36, '\0');
  ssize_t n = ::read(fds[0], child.data(), child.size());
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(n == 36);
  CHECK(child != Uuid::v4().str());  // the parent's next one
}
