#pragma once
// Reading a test store back with the event log alone: its length and its events.

#include <ashlar/eventlog/log.hpp>

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

}  // namespace ashlar::test
