#include <ashlar/notifiers/notifier.hpp>

#include <catch2/catch.hpp>

#include <stdexcept>

using namespace ashlar;

TEST_CASE("the callback notifier delivers each event in order, past a throwing callback") {
  std::vector<std::uint64_t> seen;
  CallbackNotifier n([&](const StoredEvent& e) {
    seen.push_back(e.event.position);
    if (e.event.position == 2) throw std::runtime_error("subscriber bug");
  });
  std::vector<StoredEvent> events(3);
  for (std::size_t i = 0; i < events.size(); ++i) events[i].event.position = i + 1;
  n.notify(events);
  CHECK(seen == std::vector<std::uint64_t>{1, 2, 3});
}
