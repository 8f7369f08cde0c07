#pragma once
// What the notifier tests share: a store whose commits are published (an EventSource, not
// the runtime), the socket helpers, and the blog domain.

#include <ashlar/notifiers/replay_service.hpp>

#include "event_source.hpp"
#include "support/blog_domain.hpp"
#include "support/log_contents.hpp"
#include "support/notify_sockets.hpp"

#include <string>

namespace ashlar::test {

// A store in `dir` that publishes each commit to `e` (an empty endpoint: none) with a
// fast heartbeat, as Engine::open would with these publish options.
inline EventSource publishing_source(const std::string& dir, const Endpoints& e, const Domain& domain = blog_domain(),
                                     PublishOptions extra = {}) {
  if (!e.publish.empty()) extra.endpoints = {e.publish};
  extra.replay = e.replay;
  if (extra.heartbeat == PublishOptions{}.heartbeat) extra.heartbeat = 100ms;
  return EventSource::open(dir, domain, extra);
}

inline Value create_user(EventSource& source, int i) {
  return source.create("User", {{"name", "user " + std::to_string(i)}});
}

}  // namespace ashlar::test
