#include <ashlar/eventlog/event.hpp>

#include <catch2/catch.hpp>

using namespace ashlar;

namespace {

Event sample() {
  Event e;
  e.position = 42;
  e.sequence = 7;
  e.version = 3;
  e.tx = 41;
  e.domain = "blog";
  e.resource = "User";
  e.action = "rename";
  e.type = ActionType::update;
  e.key = {{"id", *Uuid::parse("8ba0ab56-c6e3-4ab0-9c9c-df70e9945281")}};
  e.changes = {{"name", "Alicia"},
               {"age", -3},
               {"score", 2.5},
               {"admin", true},
               {"born", *Date::parse("1990-05-17")},
               {"seen", *DateTime::parse("2026-11-21T23:28:16.123456Z")},
               {"role", Atom{"admin"}},
               {"avatar", Binary{std::string("\0\xff\x10", 3)}},
               {"prefs", Map{{"theme", "dark"}, {"size", Array{1, 2}}}},
               {"tags", Array{"a", Value(), Map{}}},
               {"gone", Value()}};
  e.inputs = {{"name", "Alicia"}};
  e.actor = Map{{"id", 7}, {"role", Atom{"admin"}}};
  e.correlation_id = "req-1";
  e.causation_id = "evt-0";
  e.tenant = "acme";
  e.time_micros = 1'795'000'000'123'456;
  return e;
}

}  // namespace

TEST_CASE("events round-trip through the Cap'n Proto schema with every value kind") {
  Event e = sample();
  std::string bytes = encode_event(e);
  CHECK(bytes.size() % 8 == 0);
  auto back = decode_event(bytes);
  REQUIRE(back.has_value());
  CHECK(*back == e);
  // Deterministic: the hash chain depends on it.
  CHECK(encode_event(*back) == bytes);
}

TEST_CASE("the idempotency key round-trips, without one it reads as empty") {
  Event e = sample();
  std::string without = encode_event(e);
  e.idempotency_key = "pay-1";
  std::string with = encode_event(e);
  CHECK(decode_event(with).value().idempotency_key == "pay-1");
  CHECK(decode_event(without).value().idempotency_key.empty());
  CHECK(with.size() > without.size());  // unset, the key costs no text object
}

TEST_CASE("bytes at any alignment decode (LMDB values are only 2-byte aligned)") {
  std::string bytes = encode_event(sample());
  std::string shifted = "x" + bytes;
  auto back = decode_event(std::string_view(shifted).substr(1));
  REQUIRE(back.has_value());
  CHECK(back->resource == "User");
}

TEST_CASE("malformed bytes are an error, never a crash") {
  std::string bytes = encode_event(sample());
  CHECK(decode_event("").error().message == "event does not decode: 0 bytes is not a whole message");
  CHECK(decode_event("abc").error().message == "event does not decode: 3 bytes is not a whole message");
  std::string garbage(64, '\xff');
  auto r = decode_event(garbage);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().cls == ErrorClass::unknown);
  CHECK_THAT(r.error().message, Catch::StartsWith("event does not decode: "));
  // Every truncation and every single-byte corruption either decodes or fails cleanly.
  for (std::size_t n = 8; n < bytes.size(); n += 8) (void)decode_event(bytes.substr(0, n));
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::string flipped = bytes;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x5a);
    (void)decode_event(flipped);
  }
}

TEST_CASE("records round-trip") {
  StoredRecord r{3, 42, {{"name", "Alice"}, {"tags", Array{"x"}}}};
  auto back = decode_record(encode_record(r));
  REQUIRE(back.has_value());
  CHECK(*back == r);
  CHECK_FALSE(decode_record(std::string(64, '\xff')).has_value());
}
