#pragma once
// Test stores: their options, and reading them back (the head and the events).

#include <ashlar/ashlar.hpp>

#include "support/log_contents.hpp"

#include <vector>

namespace ashlar::test {

// Options for a test store: no syncing, and the position of every event the engine
// publishes appended to `published` (which must outlive the engine).
inline Options recording_options(std::vector<std::uint64_t>& published) {
  return {.durability = Durability::no_sync,
          .notifiers = {std::make_shared<CallbackNotifier>(
              [&published](const StoredEvent& e) { published.push_back(e.event.position); })}};
}

}  // namespace ashlar::test
