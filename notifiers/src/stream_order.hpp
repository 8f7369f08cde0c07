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
    take_held();
    return Offer::taken;
  }

  // Numbers up to `number` that have not arrived never will be delivered (a reply of one
  // tenant's events vouches that none of them is that tenant's): they count as taken,
  // and events held for them are dropped.
  void skip_to(std::uint64_t number) {
    if (number <= frontier_) return;
    learn(number);
    frontier_ = number;
    held_.erase(held_.begin(), held_.upper_bound(number));
    take_held();
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
  // The held events that now follow the frontier, in order.
  void take_held() {
    for (auto it = held_.begin(); it != held_.end() && it->first <= frontier_ + 1; it = held_.erase(it))
      if (it->first == frontier_ + 1) {
        ready_.push_back(std::move(it->second));
        ++frontier_;
      }
  }

  std::uint64_t frontier_;
  std::uint64_t known_;
  std::size_t max_held_;
  std::deque<T> ready_;
  std::map<std::uint64_t, T> held_;
};

}  // namespace ashlar
