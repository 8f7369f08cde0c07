#include <ashlar/eventlog/event.hpp>

#include "support/crafted_event.hpp"
#include "support/within_limits.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <random>

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

TEST_CASE("text with NUL bytes round-trips whole: values, names, atoms, tenant, ids and keys") {
  Event e = sample();
  const std::string nul("a\0b", 3);
  e.changes = {{"name", nul}, {"role", Atom{nul}}, {nul, Map{{nul, nul}}}};
  e.tenant = nul;
  e.correlation_id = nul;
  e.causation_id = nul;
  e.idempotency_key = nul;
  auto back = decode_event(encode_event(e));
  REQUIRE(back.has_value());
  CHECK(*back == e);
  CHECK(back->changes.at(0).second.as_string()->size() == 3);
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

// A decode_error whose message starts with `prefix` and then names the part that failed:
// one of the Event's fields, or the message's framing.
void check_decode_error(const Result<Event>& r, const std::string& prefix) {
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().cls == ErrorClass::unknown);
  CHECK(r.error().code == codes::kDecodeError);
  const std::string& m = r.error().message;
  INFO(m);
  REQUIRE(m.rfind(prefix, 0) == 0);
  static const std::vector<std::string> parts = {
      "root: ", "domain: ", "resource: ", "action: ", "actionType: ", "key: ", "changes: ", "inputs: ", "actor: ",
      "correlationId: ", "causationId: ", "tenant: ", "idempotencyKey: ", "its segment table claims "};
  bool named = false;
  for (const auto& part : parts) named = named || m.compare(prefix.size(), part.size(), part) == 0;
  CHECK(named);
}

TEST_CASE("malformed bytes are a decode_error naming what failed, never a crash") {
  CHECK(decode_event("").error().message == "event does not decode: 0 bytes is not a whole message");
  CHECK(decode_event("abc").error().message == "event does not decode: 3 bytes is not a whole message");
  CHECK(decode_event("abc").error().code == codes::kDecodeError);
  auto garbage = decode_event(std::string(64, '\xff'), 9);
  check_decode_error(garbage, "event at position 9 does not decode: ");
  CHECK(garbage.error().message ==
        "event at position 9 does not decode: its segment table claims more than its 64 bytes hold");

  std::string bytes = encode_event(sample());
  for (std::size_t n = 8; n < bytes.size(); n += 8) {
    INFO("cut to " << n << " bytes");
    check_decode_error(decode_event(bytes.substr(0, n)), "event does not decode: ");
  }
  // Every single-byte corruption either decodes or fails so.
  int failed = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::string flipped = bytes;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x5a);
    INFO("byte " << i << " changed");
    auto r = decode_event(flipped, 3);
    if (r) continue;
    ++failed;
    check_decode_error(r, "event at position 3 does not decode: ");
  }
  CHECK(failed > 0);  // the corruptions reached the pointers, not only text
}

TEST_CASE("a list claiming hundreds of millions of elements is a decode_error at once, allocating nothing") {
  Event e = sample();
  struct Case {
    std::string bytes, part;
  };
  std::vector<Case> cases = {{test::event_with_huge_changes(e, 300'000'000), "changes"},
                             {test::event_with_huge_actor_map(e, 300'000'000), "actor"}};
  for (const auto& c : cases) {
    INFO(c.part);
    auto started = std::chrono::steady_clock::now();
    Result<Event> r = Event{};
    {
      // Decoding allocates in proportion to the bytes; reserving for the claim would not fit.
      test::AddressSpaceLimit limit(std::size_t{256} << 20);
      REQUIRE_NOTHROW(r = decode_event(c.bytes, 17));
    }
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == codes::kDecodeError);
    CHECK(r.error().message == fmt::format("event at position 17 does not decode: {}: the message claims more data "
                                           "than its {} bytes hold",
                                           c.part, c.bytes.size()));
  }
  // The same pointers claiming what is there decode.
  CHECK(decode_event(test::event_with_huge_changes(e, 3)).value().changes ==
        Fields{{"", Value()}, {"", Value()}, {"", Value()}});
}

TEST_CASE("bit-flipped and overwritten events never throw: they decode or are a decode_error") {
  std::string bytes = encode_event(sample());
  test::AddressSpaceLimit limit(std::size_t{256} << 20);
  int failed = 0;
  auto started = std::chrono::steady_clock::now();
  auto check = [&](const std::string& corrupted) {
    Result<Event> r = Event{};
    REQUIRE_NOTHROW(r = decode_event(corrupted, 5));
    if (r) return;
    ++failed;
    check_decode_error(r, "event at position 5 does not decode: ");
  };
  SECTION("random bits flipped") {
    std::mt19937_64 random(20261202);
    for (int seed = 0; seed < 20'000; ++seed) {
      std::string flipped = bytes;
      int flips = 1 + static_cast<int>(random() % 4);
      for (int i = 0; i < flips; ++i) {
        std::size_t bit = random() % (bytes.size() * 8);
        flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
      }
      INFO("seed " << seed);
      check(flipped);
    }
  }
  SECTION("every word overwritten with pointers that claim the most") {
    const std::uint64_t claims[] = {
        0,                      // a null pointer
        ~std::uint64_t{0},      // every bit set
        0x00000000FFFFFFFCull,  // a struct tag (or pointer): 2^30 - 1 elements of no size
        0xFFFFFFF800000001ull,  // a list of 2^29 - 1 voids: structs of no size
        0xFFFFFFFF00000001ull,  // a list of structs claiming 2^29 - 1 words
        0x0000FFFF00000000ull,  // a struct of 65535 data words
        0xFFFF000000000000ull,  // a struct of 65535 pointers
    };
    for (std::size_t word = 0; word < bytes.size() / 8; ++word)
      for (std::uint64_t claim : claims) {
        std::string overwritten = bytes;
        std::memcpy(overwritten.data() + word * 8, &claim, 8);
        INFO("word " << word << " set to " << std::hex << claim);
        check(overwritten);
      }
  }
  CHECK(failed > 0);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(60));
}

TEST_CASE("values nested past Cap'n Proto's limit are a decode_error, not a deep recursion") {
  Value deep = 1;
  for (int i = 0; i < 200; ++i) deep = Array{deep};  // past the limit, within any stack
  Event e = sample();
  e.actor = deep;
  auto r = decode_event(encode_event(e));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == codes::kDecodeError);
  CHECK(r.error().message == "event does not decode: actor: structs and lists nest more than 64 deep");
  Value shallow = 1;
  for (int i = 0; i < 30; ++i) shallow = Array{shallow};
  e.actor = shallow;
  CHECK(decode_event(encode_event(e)).value().actor == shallow);
}

TEST_CASE("records round-trip") {
  StoredRecord r{3, 42, {{"name", "Alice"}, {"tags", Array{"x"}}}};
  auto back = decode_record(encode_record(r));
  REQUIRE(back.has_value());
  CHECK(*back == r);
  auto bad = decode_record(std::string(64, '\xff'));
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == codes::kDecodeError);
  CHECK(bad.error().message == "record does not decode: its segment table claims more than its 64 bytes hold");
}
