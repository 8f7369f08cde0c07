#pragma once
// GET /events: the log's events as Server-Sent Events, caught up from a position and then
// followed live, as the requesting actor may read them. Nothing here knows the HTTP
// library; server.cpp adapts it.

#include "errors.hpp"

#include <ashlar/http/server.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>

namespace ashlar::http {

// What a stream sends: the events from `from` on, of `resource` (empty: every one) and of
// `tenant` (nullopt: every one) that `actor`, in `request_tenant`, may read.
struct EventQuery {
  std::uint64_t from = 1;
  std::string resource{};
  std::optional<std::string> tenant{};
  Value actor{};
  std::string request_tenant{};
};

// Reads the query parameters `from`, `resource`, `tenant` and the Last-Event-ID header
// (which wins over `from`: the stream resumes after it). Without either, the stream starts
// after the newest event. A 400 pointing at the parameter (or header) when one is not a
// position or names no resource of the domain.
std::variant<EventQuery, Failure> parse_event_query(const Engine& engine,
                                                    const std::multimap<std::string, std::string>& params,
                                                    const std::string& last_event_id);

// One stream's state, advanced by next() on the connection's own thread.
class EventStream {
 public:
  EventStream(const Engine& engine, const ServerOptions& options, EventQuery query,
              const std::atomic<bool>& stopping);

  // Writes what is due (new events, or a heartbeat comment when none came for
  // options.heartbeat), waiting a short while for events first. False when the stream
  // ends: `write` failed (the client left or is too slow), the log could not be read,
  // or the server is stopping.
  bool next(const std::function<bool(const std::string&)>& write);

 private:
  bool visible(const Event& event, std::map<std::string, bool>& decided) const;
  std::optional<std::uint64_t> head() const;

  const Engine& engine_;
  const ServerOptions& options_;
  EventQuery query_;
  const std::atomic<bool>& stopping_;
  std::chrono::steady_clock::time_point last_write_;
};

}  // namespace ashlar::http
