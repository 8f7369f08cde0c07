#pragma once
// Events an attacker crafts: real encode_event bytes, rewritten word by word so that a
// list claims far more elements than the bytes hold. Cap'n Proto lets a list of
// zero-sized structs claim up to 2^29 elements with no data behind them; a decoder that
// trusts the count reserves memory for all of them.

#include <ashlar/eventlog/event.hpp>
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace ashlar::test {

// A single-segment Cap'n Proto message (what encode_event writes) as little-endian words:
// word 0 is the segment table, the root pointer is word 1.
class MessageWords {
 public:
  explicit MessageWords(const std::string& bytes) : words_(bytes.size() / 8) {
    REQUIRE(bytes.size() % 8 == 0);
    std::memcpy(words_.data(), bytes.data(), bytes.size());
    REQUIRE((words_[0] & 0xFFFFFFFF) == 0);  // one segment
  }

  // Where the struct a pointer at word `at` points to begins, with its section sizes.
  struct Struct {
    std::size_t data;  // first word of the data section
    std::size_t data_words;
    std::size_t pointers;
  };
  Struct follow(std::size_t at) const {
    std::uint64_t p = words_.at(at);
    REQUIRE((p & 3) == 0);  // a struct pointer
    auto offset = static_cast<std::int32_t>(static_cast<std::uint32_t>(p) & ~3u) >> 2;
    return {at + 1 + static_cast<std::size_t>(offset), (p >> 32) & 0xFFFF, (p >> 48) & 0xFFFF};
  }
  Struct root() const { return follow(1); }
  // The word holding pointer `i` of struct `s`.
  static std::size_t pointer(const Struct& s, std::size_t i) {
    REQUIRE(i < s.pointers);
    return s.data + s.data_words + i;
  }

  // Points the pointer at word `at` to a new list of `count` zero-sized structs: one tag
  // word appended to the segment, no element data.
  void claim_empty_structs(std::size_t at, std::uint32_t count) {
    REQUIRE(count < (1u << 30));
    std::size_t tag = words_.size();
    words_.push_back(std::uint64_t{count} << 2);  // struct kind, 0 data words, 0 pointers
    auto offset = static_cast<std::uint32_t>(tag - (at + 1));
    words_[at] = 1 | (std::uint64_t{offset} << 2) | (std::uint64_t{7} << 32);  // inline composite, 0 words
    words_[0] += std::uint64_t{1} << 32;  // the segment grew by the tag word
  }

  std::string bytes() const { return std::string(reinterpret_cast<const char*>(words_.data()), words_.size() * 8); }

 private:
  std::vector<std::uint64_t> words_;
};

// Pointer numbers in struct Event (eventlog/schema/event.capnp): domain, resource and
// action come first, then key, changes, inputs and actor.
inline constexpr std::size_t kEventChangesPointer = 4;
inline constexpr std::size_t kEventActorPointer = 6;

// `event`'s bytes with its changes list claiming `count` fields that are not there.
inline std::string event_with_huge_changes(const Event& event, std::uint32_t count) {
  MessageWords m(encode_event(event));
  m.claim_empty_structs(MessageWords::pointer(m.root(), kEventChangesPointer), count);
  return m.bytes();
}

// `event`'s bytes with its actor a map claiming `count` entries that are not there
// (`event`'s actor must be a map, whose list pointer this replaces).
inline std::string event_with_huge_actor_map(const Event& event, std::uint32_t count) {
  MessageWords m(encode_event(event));
  MessageWords::Struct actor = m.follow(MessageWords::pointer(m.root(), kEventActorPointer));
  m.claim_empty_structs(MessageWords::pointer(actor, 0), count);
  return m.bytes();
}

}  // namespace ashlar::test
