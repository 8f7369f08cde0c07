#include <ashlar/notifiers/publisher.hpp>

#include <ashlar/model/key.hpp>
#include <ashlar/notifiers/replay_service.hpp>
#include <ashlar/notifiers/topics.hpp>

#include "curve_sockets.hpp"
#include "protocol.hpp"
#include "zmq_util.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace ashlar {
namespace {

// One committed event waiting for the publisher thread: what its topic needs, and its
// bytes. Or a marker standing for the events the full queue turned away, so that the
// heartbeat never claims a head beyond what was published or dropped in order.
struct Queued {
  std::string bytes;
  std::uint64_t position = 0;
  std::uint64_t sequence = 0;
  std::string resource;
  std::string action;
  Fields key;
  bool marker = false;
  protocol::Heads dropped;  // marker only: the heads after the dropped events
};

Queued copy_for_queue(const StoredEvent& s) {
  const Event& e = s.event;
  Queued q;
  q.bytes = s.bytes;
  q.position = e.position;
  q.sequence = e.sequence;
  q.resource = e.resource;
  q.action = e.action;
  q.key = e.key;
  return q;
}

}  // namespace

struct ZmqPublisher::Impl {
  Impl(const Log& l, Domain d, PublishOptions o)
      : log(l), domain(std::move(d)), options(std::move(o)), context(zmq_util::context_or_new(options.context)),
        socket(zmq_util::native(context), zmq::socket_type::pub) {}

  const Log& log;
  Domain domain;
  PublishOptions options;
  std::shared_ptr<ZmqContext> context;
  std::unique_ptr<curve::ServerGate> gate;  // closes after the socket
  zmq::socket_t socket;  // used by the thread only, once it runs
  std::vector<std::string> endpoints;

  std::mutex mutex;
  std::condition_variable wake;
  std::deque<Queued> queue;
  std::size_t queued_bytes = 0;
  bool stopping = false;
  bool sleeping = false;  // past its nap: the writer wakes it

  std::atomic<std::uint64_t> published{0}, messages{0}, dropped{0}, heartbeats{0}, failures{0};
  protocol::Heads heads;  // the thread's: every event up to here was published or dropped
  std::thread thread;

  using Clock = std::chrono::steady_clock;
  void enqueue(const StoredEvent& s);
  void wait_for_events(std::unique_lock<std::mutex>& lock, Clock::time_point next_beat);
  void run();
  void publish(const Queued& q);
  Result<std::vector<std::string>> topics(const Queued& q) const;
  Result<Fields> values_before(const Event& e, const std::vector<std::string>& attributes) const;
  void send(std::string_view topic, std::string_view body);
};

// Called with the mutex held.
void ZmqPublisher::Impl::enqueue(const StoredEvent& s) {
  if (queue.size() < options.queue_events && queued_bytes + s.bytes.size() <= options.queue_bytes) {
    queue.push_back(copy_for_queue(s));
    queued_bytes += s.bytes.size();
    return;
  }
  dropped.fetch_add(1, std::memory_order_relaxed);
  if (queue.empty() || !queue.back().marker) {
    queue.emplace_back();
    queue.back().marker = true;
  }
  queue.back().dropped.advance(s.event.resource, s.event.position, s.event.sequence);
}

// Returns when events are queued, a stop is asked or the heartbeat is due. First a nap
// of options.coalesce that the writer does not cut short: under a steady stream the
// thread picks events up in batches and the writer makes no wake-up call (a syscall of
// a few microseconds, the whole of what publishing cost it). Then a sleep it does end.
void ZmqPublisher::Impl::wait_for_events(std::unique_lock<std::mutex>& lock, Clock::time_point next_beat) {
  auto ready = [&] { return stopping || !queue.empty(); };
  if (ready()) return;
  wake.wait_until(lock, std::min(Clock::now() + options.coalesce, next_beat), ready);
  if (ready() || Clock::now() >= next_beat) return;
  sleeping = true;
  wake.wait_until(lock, next_beat, ready);
  sleeping = false;
}

void ZmqPublisher::Impl::run() {
  auto next_beat = Clock::now() + options.heartbeat;
  std::unique_lock lock(mutex);
  for (;;) {
    wait_for_events(lock, next_beat);
    std::deque<Queued> batch;
    batch.swap(queue);
    queued_bytes = 0;
    bool stop = stopping;
    lock.unlock();
    for (const auto& q : batch) publish(q);
    // Per-client streams send no event here: the heartbeat tells each client to ask.
    bool nudge = options.access && !batch.empty();
    if (nudge || Clock::now() >= next_beat) {
      try {
        send(kHeartbeatTopic, protocol::heartbeat(domain.name(), heads));
        heartbeats.fetch_add(1, std::memory_order_relaxed);
      } catch (const std::exception&) {
        // The next one will do: a heartbeat only repeats what is already true.
      }
      next_beat = Clock::now() + options.heartbeat;
    }
    lock.lock();
    if (stop && queue.empty()) return;
  }
}

void ZmqPublisher::Impl::publish(const Queued& q) {
  if (q.marker) {
    for (const auto& [resource, sequence] : q.dropped.sequences) heads.advance(resource, q.dropped.position, sequence);
    return;
  }
  heads.advance(q.resource, q.position, q.sequence);
  if (options.access) return;
  try {
    auto names = topics(q);
    if (!names) {
      failures.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    for (const auto& topic : *names) send(topic, q.bytes);
    published.fetch_add(1, std::memory_order_relaxed);
    messages.fetch_add(names->size(), std::memory_order_relaxed);
  } catch (const std::exception&) {
    // Subscribers recover the event from the replay service; the store is untouched.
    failures.fetch_add(1, std::memory_order_relaxed);
  }
}

void ZmqPublisher::Impl::send(std::string_view topic, std::string_view body) {
  // PUB never blocks: ZeroMQ drops a message a subscriber's queue has no room for.
  socket.send(zmq::buffer(topic), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
  socket.send(zmq::buffer(body), zmq::send_flags::dontwait);
}

Result<std::vector<std::string>> ZmqPublisher::Impl::topics(const Queued& q) const {
  const Resource* resource = domain.resource(q.resource);
  bool templated = resource && std::any_of(resource->topics().begin(), resource->topics().end(),
                                           [&](const TopicTemplate& t) { return t.action == q.action; });
  if (!templated) return std::vector<std::string>{default_topic(domain.name(), q.resource, q.action, q.key)};
  auto event = decode_event(q.bytes);  // the changes, which the queue does not copy
  if (!event) return fail(event.error());
  ASHLAR_TRY(before, values_before(*event, template_attributes(*resource, event->action)));
  return event_topics(*resource, *event, *before);
}

// The record's values before `e` for `attributes`: the newest value each had in the
// record's earlier events, walking back to its create (which carries every non-nil one).
Result<Fields> ZmqPublisher::Impl::values_before(const Event& e, const std::vector<std::string>& attributes) const {
  Fields found;
  if (attributes.empty() || e.type == ActionType::create || e.version <= 1) return found;
  std::vector<std::string> missing = attributes;
  std::vector<Value> key;
  for (const auto& [name, value] : e.key) key.push_back(value);
  ASHLAR_TRY(txn, log.read());
  auto walked = log.scan_record_back(*txn, e.resource, encode_key(key), e.version - 1, [&](const StoredEvent& s) {
    for (auto it = missing.begin(); it != missing.end();) {
      if (const Value* v = find_field(s.event.changes, *it)) {
        found.emplace_back(*it, *v);
        it = missing.erase(it);
      } else {
        ++it;
      }
    }
    return !missing.empty() && s.event.type != ActionType::create;
  });
  if (!walked) return fail(walked.error());
  return found;
}

Result<std::unique_ptr<ZmqPublisher>> ZmqPublisher::start(const Log& log, const Domain& domain,
                                                         const PublishOptions& options) {
  auto impl = std::make_unique<Impl>(log, domain, options);
  impl->options.heartbeat = std::max(impl->options.heartbeat, std::chrono::milliseconds(1));
  impl->socket.set(zmq::sockopt::sndhwm, options.send_high_water_mark);
  impl->socket.set(zmq::sockopt::linger, 200);  // a moment for the last events at close
  ASHLAR_TRY(gate, curve::secure_server(impl->socket, impl->context, options.curve, "publisher"));
  impl->gate = std::move(*gate);
  for (const auto& endpoint : options.endpoints) {
    ASHLAR_TRY(bound, zmq_util::bind(impl->socket, endpoint, "publisher"));
    impl->endpoints.push_back(std::move(*bound));
  }
  std::vector<std::string> names;
  for (const auto& r : domain.resources()) names.push_back(r.name());
  ASHLAR_TRY(txn, log.read());
  ASHLAR_TRY(heads, protocol::read_heads(log, *txn, names));
  impl->heads = std::move(*heads);
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->run(); });
  return std::unique_ptr<ZmqPublisher>(new ZmqPublisher(std::move(impl)));
}

ZmqPublisher::ZmqPublisher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ZmqPublisher::~ZmqPublisher() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_one();
  impl_->thread.join();
}

void ZmqPublisher::notify(std::span<const StoredEvent> events) noexcept {
  bool wake = false;
  try {
    std::lock_guard lock(impl_->mutex);
    for (const auto& s : events) impl_->enqueue(s);
    wake = impl_->sleeping;  // busy or napping, it comes back for the queue by itself
  } catch (...) {
    // Out of memory: these events are not published; subscribers replay them.
    impl_->dropped.fetch_add(events.size(), std::memory_order_relaxed);
  }
  if (wake) impl_->wake.notify_one();
}

ZmqPublisher::Stats ZmqPublisher::stats() const {
  return {impl_->published.load(), impl_->messages.load(), impl_->dropped.load(), impl_->heartbeats.load(),
          impl_->failures.load()};
}

const std::vector<std::string>& ZmqPublisher::endpoints() const { return impl_->endpoints; }

Result<std::unique_ptr<PublishService>> PublishService::start(const Log& log, const Domain& domain,
                                                             const PublishOptions& options) {
  if (options.endpoints.empty() && options.replay.empty()) return std::unique_ptr<PublishService>();
  std::unique_ptr<PublishService> service(new PublishService());
  PublishOptions shared = options;
  shared.context = zmq_util::context_or_new(options.context);  // inproc replay and PUB in one context
  if (!options.endpoints.empty()) {
    ASHLAR_TRY(publisher, ZmqPublisher::start(log, domain, shared));
    service->publisher_ = std::move(*publisher);
  }
  if (!options.replay.empty()) {
    ASHLAR_TRY(replay, ReplayService::start(log, {.endpoint = options.replay, .context = shared.context,
                                             .batch = options.replay_batch, .curve = options.curve,
                                             .access = options.access,
                                             .decision_memory = options.decision_memory}));
    service->replay_ = std::move(*replay);
  }
  return service;
}

PublishService::~PublishService() = default;

void PublishService::notify(std::span<const StoredEvent> events) noexcept {
  if (publisher_) publisher_->notify(events);
}

}  // namespace ashlar
