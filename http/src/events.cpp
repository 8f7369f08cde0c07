#include "events.hpp"

#include <ashlar/eventlog/event_json.hpp>

#include <charconv>
#include <thread>

namespace ashlar::http {

void EventSignal::notify(std::span<const StoredEvent> events) {
  if (events.empty()) return;
  {
    std::lock_guard lock(mutex_);
    last_ = std::max(last_, events.back().event.position);
  }
  changed_.notify_all();
}

std::uint64_t EventSignal::wait(std::uint64_t after, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return last_ > after; });
  return last_;
}

namespace {

// How long a stream waits at most before it looks at the server's stopping flag again.
constexpr std::chrono::milliseconds kStopCheck{200};
// Events read from the log per snapshot, so that no read transaction stays open long.
constexpr std::size_t kBatch = 256;

std::optional<std::uint64_t> parse_position(const std::string& text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string param(const std::multimap<std::string, std::string>& params, const char* name) {
  auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

// The primary key of an event as history takes it: the value, or a map when composite.
Value key_value(const Fields& key) {
  if (key.size() == 1) return key.front().second;
  Map map;
  for (const auto& [name, value] : key) map.emplace_back(name, value);
  return Value(std::move(map));
}

// An event as `ashlar log --json` prints it (sensitive values redacted), without the
// private attributes, which the documents leave out: neither their values nor that an
// action changed them.
std::string event_line(const StoredEvent& stored, const Domain& domain) {
  auto json = event_to_json(stored, domain);
  if (const Resource* r = domain.resource(stored.event.resource))
    for (const char* part : {"changes", "inputs"})
      for (auto it = json[part].begin(); it != json[part].end();) {
        const Attribute* a = r->attribute(it.key());
        if (a && !a->primary_key && !a->is_public) it = json[part].erase(it);
        else ++it;
      }
  return json_line(json);
}

}  // namespace

std::variant<EventQuery, Failure> parse_event_query(const Engine& engine,
                                                    const std::multimap<std::string, std::string>& params,
                                                    const std::string& last_event_id) {
  EventQuery query;
  if (!last_event_id.empty()) {
    auto last = parse_position(last_event_id);
    if (!last) return failure(400, codes::kInvalidInput, "Last-Event-ID is not a log position", {.header = "Last-Event-ID"});
    query.from = *last + 1;
  } else if (params.count("from")) {
    auto from = parse_position(param(params, "from"));
    if (!from || *from == 0)
      return failure(400, codes::kInvalidInput, "from is not a log position (1 or more)", {.parameter = "from"});
    query.from = *from;
  } else {
    auto head = engine.log().head();
    if (!head) return failure(500, codes::kUnknown, "the server could not complete the request");
    query.from = head->position + 1;
  }
  if (params.count("resource")) {
    query.resource = param(params, "resource");
    if (!engine.domain().resource(query.resource))
      return failure(400, codes::kInvalidInput, "no resource \"" + query.resource + "\"", {.parameter = "resource"});
  }
  if (params.count("tenant")) query.tenant = param(params, "tenant");
  return query;
}

EventStream::EventStream(const Engine& engine, const ServerOptions& options, EventQuery query,
                         const std::atomic<bool>& stopping)
    : engine_(engine), options_(options), query_(std::move(query)), stopping_(stopping),
      last_write_(std::chrono::steady_clock::now()) {}

// The resource's tenancy and policies decide, as a read of the record would: another
// tenant's record (or one of a multitenant resource when the request names no tenant) is
// not shown, nor one the policies keep from the actor (history answers NotFound then).
bool EventStream::visible(const Event& e, std::map<std::string, bool>& decided) const {
  if (!query_.resource.empty() && e.resource != query_.resource) return false;
  if (query_.tenant && e.tenant != *query_.tenant) return false;
  const Resource* resource = engine_.domain().resource(e.resource);
  if (!resource) return false;
  if (resource->tenant_attribute()) {
    if (query_.request_tenant.empty() ? !resource->multitenancy().global : e.tenant != query_.request_tenant)
      return false;
  }
  if (resource->policies().empty()) return true;
  Value id = key_value(e.key);
  auto [it, fresh] = decided.try_emplace(e.resource + "\n" + id.str(), false);
  if (fresh)
    it->second = engine_.history(e.resource, id, CallOptions{.actor = query_.actor, .tenant = query_.request_tenant})
                     .has_value();
  return it->second;
}

std::optional<std::uint64_t> EventStream::head() const {
  auto head = engine_.log().head();
  if (!head) return std::nullopt;
  return head->position;
}

bool EventStream::next(const std::function<bool(const std::string&)>& write) {
  if (stopping_) return false;
  auto now = std::chrono::steady_clock::now();
  auto until_heartbeat = std::chrono::duration_cast<std::chrono::milliseconds>(last_write_ + options_.heartbeat - now);
  auto pause = std::clamp(until_heartbeat, std::chrono::milliseconds(1), std::min(kStopCheck, options_.poll));
  auto last = head();
  if (!last) return false;
  if (*last < query_.from) {
    if (options_.events) options_.events->wait(query_.from - 1, pause);
    else std::this_thread::sleep_for(pause);
    if (stopping_) return false;
    last = head();
    if (!last) return false;
  }
  std::vector<std::string> out;
  if (*last >= query_.from) {
    auto txn = engine_.log().read();
    if (!txn) return false;
    std::map<std::string, bool> decided;
    std::uint64_t next = query_.from;
    auto scanned = engine_.log().scan(*txn, query_.from, [&](const StoredEvent& stored) {
      next = stored.event.position + 1;
      if (visible(stored.event, decided))
        out.push_back("id: " + std::to_string(stored.event.position) + "\ndata: " +
                      event_line(stored, engine_.domain()) + "\n\n");
      return next - query_.from < kBatch;
    });
    if (!scanned) return false;
    query_.from = next;
  }
  for (const auto& message : out)
    if (!write(message)) return false;
  if (!out.empty()) {
    last_write_ = std::chrono::steady_clock::now();
  } else if (std::chrono::steady_clock::now() - last_write_ >= options_.heartbeat) {
    if (!write(": heartbeat\n\n")) return false;
    last_write_ = std::chrono::steady_clock::now();
  }
  return true;
}

}  // namespace ashlar::http
