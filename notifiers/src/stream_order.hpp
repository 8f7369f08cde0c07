#pragma once
// The heart of the catch-up subscriber, without sockets: events of one stream, numbered
// 1, 2, 3, ... (global positions, or one resource's sequences), arrive from the live
// stream and from replies in any order and any number of times; they leave in order,
// each number once. What is missing is what a replay must fill.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <utility>

namespace ashlar {

template <typename T>
class StreamOrder {
 public:
  enum class Offer { taken, held, duplicate, dropped };

  // Numbers up to `taken` were delivered before; at most `max_held` events wait for a gap.
  StreamOrder(std::uint64_t taken, std::size_t max_held) : frontier_(taken), known_(taken), max_held_(max_held) {}

  Offer offer(std::uint64_t number, T item) {
    learn(number);
    if (number <= frontier_) return Offer::duplicate;
    if (number != frontier_ + 1) {
      if (held_.size() >= max_held_) return Offer::dropped;  // a replay brings it back
      return held_.emplace(number, std::move(item)).second ? Offer::held : Offer::duplicate;
    }
    ready_.push_back(std::move(item));
    ++frontier_;
    for (auto it = held_.begin(); it != held_.end() && it->first <= frontier_ + 1; it = held_.erase(it))
      if (it->first == frontier_ + 1) {
        ready_.push_back(std::move(it->second));
        ++frontier_;
      }
    return Offer::taken;
  }

  // The stream has at least `last` events (a heartbeat's head, a reply's last).
  void learn(std::uint64_t last) { known_ = std::max(known_, last); }

  // The next event in order, if it is here.
  std::optional<T> pop() {
    if (ready_.empty()) return std::nullopt;
    std::optional<T> out(std::move(ready_.front()));
    ready_.pop_front();
    return out;
  }

  // Events known to exist are not here: number frontier() + 1 must be replayed.
  bool missing() const { return known_ > frontier_; }
  // The last number taken in order (ready or already popped).
  std::uint64_t frontier() const { return frontier_; }
  std::uint64_t known() const { return known_; }
  bool drained() const { return ready_.empty(); }

 private:
  std::uint64_t frontier_;
  std::uint64_t known_;
  std::size_t max_held_;
  std::deque<T> ready_;
  std::map<std::uint64_t, T> held_;
};

}  // namespace ashlar
