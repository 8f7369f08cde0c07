#include <ashlar/notifiers/notifier.hpp>

namespace ashlar {

void CallbackNotifier::notify(std::span<const StoredEvent> events) {
  for (const auto& e : events) {
    try {
      fn_(e);
    } catch (...) {
      // A failing subscriber must not affect the committed action or later events.
    }
  }
}

}  // namespace ashlar
