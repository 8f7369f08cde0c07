#pragma once
// Test stores: their options, and reading them back (the head and the events).

#include <ashlar/ashlar.hpp>

#include <vector>

namespace ashlar::test {

inline std::uint64_t log_length(const Log& log) { return log.head().value().position; }

inline std::vector<StoredEvent> all_events(const Log& log, std::uint64_t from = 1) {
  std::vector<StoredEvent> out;
  auto txn = log.read().value();
  log.scan(txn, from, [&](const StoredEvent& e) {
       out.push_back(e);
       return true;
     }).value();
  return out;
}

// Options for a test store: no syncing, and the position of every event the engine
// publishes appended to `published` (which must outlive the engine).
inline Options recording_options(std::vector<std::uint64_t>& published) {
  return {.durability = Durability::no_sync,
          .notifiers = {std::make_shared<CallbackNotifier>(
              [&published](const StoredEvent& e) { published.push_back(e.event.position); })}};
}

}  // namespace ashlar::test
