#pragma once
// What the replay service remembers of its per-client decisions for a moment: each
// (actor, event) decision, and each redaction of an event, so that clients of one actor
// asking for the same events — every client after a commit, several catching up at
// once — cost one decision and one re-encoding between them.

#include <ashlar/notifiers/curve.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace ashlar::notifiers_detail {

class AccessMemo {
 public:
  using Clock = std::chrono::steady_clock;
  using Bytes = std::shared_ptr<const std::string>;

  // What a client gets of an event: nothing, the stored bytes (null `bytes`), or these.
  struct Wire {
    bool visible = true;
    Bytes bytes{};
  };

  // Entries live `lifetime` (zero: nothing is remembered), and take at most about
  // `budget` bytes: their keys, re-encoded events and kEntryCost each.
  explicit AccessMemo(std::chrono::milliseconds lifetime, std::size_t budget = std::size_t{64} << 20)
      : lifetime_(lifetime), budget_(budget) {}

  std::optional<Wire> decision(const ClientActor& actor, std::uint64_t position, Clock::time_point now) {
    return find(decision_key(actor, position), now);
  }
  void keep_decision(const ClientActor& actor, std::uint64_t position, Wire wire, Clock::time_point now) {
    keep(decision_key(actor, position), std::move(wire), now);
  }
  Bytes redaction(std::uint64_t position, const std::vector<std::string>& names, Clock::time_point now) {
    auto found = find(redaction_key(position, names), now);
    return found ? found->bytes : nullptr;
  }
  void keep_redaction(std::uint64_t position, const std::vector<std::string>& names, Bytes bytes,
                      Clock::time_point now) {
    keep(redaction_key(position, names), Wire{true, std::move(bytes)}, now);
  }
  std::size_t size() const { return entries_.size(); }

 private:
  // Keys start with the position's 8 bytes, then the kind: no actor id or attribute
  // name makes one key equal another's.
  static std::string position_bytes(std::uint64_t position) {
    return std::string(reinterpret_cast<const char*>(&position), sizeof position);
  }
  static std::string decision_key(const ClientActor& actor, std::uint64_t position) {
    std::string key = position_bytes(position) + 'd';
    key += std::to_string(actor.id.size()) + ':' + actor.id;
    key += actor.role;
    return key;
  }
  static std::string redaction_key(std::uint64_t position, const std::vector<std::string>& names) {
    std::string key = position_bytes(position) + 'r';
    for (const auto& name : names) key += std::to_string(name.size()) + ':' + name;
    return key;
  }

  std::optional<Wire> find(const std::string& key, Clock::time_point now) {
    if (lifetime_.count() <= 0) return std::nullopt;
    expire(now);
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    return it->second;
  }

  void keep(std::string key, Wire wire, Clock::time_point now) {
    if (lifetime_.count() <= 0) return;
    std::size_t size = key.size() + kEntryCost + (wire.bytes ? wire.bytes->size() : 0);
    auto [it, added] = entries_.try_emplace(key, std::move(wire));
    if (!added) return;
    bytes_ += size;
    order_.push_back({now, std::move(key), size});
    expire(now);
  }

  // Drops entries older than the lifetime, and the oldest past the byte budget.
  void expire(Clock::time_point now) {
    while (!order_.empty() && (order_.front().at + lifetime_ <= now || bytes_ > budget_)) {
      bytes_ -= order_.front().size;
      entries_.erase(order_.front().key);
      order_.pop_front();
    }
  }

  static constexpr std::size_t kEntryCost = 96;  // the map's node, the queue's record

  struct Kept {
    Clock::time_point at;
    std::string key;
    std::size_t size;
  };
  std::chrono::milliseconds lifetime_;
  std::size_t budget_;
  std::size_t bytes_ = 0;
  std::unordered_map<std::string, Wire> entries_;
  std::deque<Kept> order_;
};

}  // namespace ashlar::notifiers_detail
