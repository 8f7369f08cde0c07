// bench_publish: publishing committed events over ZeroMQ against raw ZeroMQ PUB/SUB of
// the very same messages (topic, event bytes), measured in the same run, on tcp loopback.
//
//   bench_publish [EVENTS [LATENCY_EVENTS [PER_CLIENT_EVENTS]]]   (defaults 200000, 5000, 20000)
//
// throughput  events from notify() to a SUB socket that counts them, against a PUB that
//             sends the same frames. "publisher" feeds already committed events one per
//             notify() (what the engine does per action); "bulk commit" also appends them,
//             1000 per transaction without a flush, so the disk barely shows.
// writer      engine creates (no_sync) with and without publishing to a subscriber: what
//             publishing costs the writer.
// latency     commit to delivery through ashlar::Subscriber, at a steady 2000 events/s,
//             against raw PUB to SUB of the same bytes at the same rate; and commit to a
//             plain SUB socket on the publisher's PUB, the publisher's share of it.
// CURVE       the publisher's throughput and the latency again with both sockets CURVE
//             servers (encrypted, any client knowing the server's key), against plain;
//             raw PUB/SUB over CURVE too, for what encryption costs ZeroMQ itself.
// per-client  4 clients on an allow-list (two of them one actor) each get the Notes its
//             actor owns (a filter-check read policy, a read as of each event) with the
//             pin withheld, caught up from a stored log and then followed live, against
//             the same clients on the plain path (replay and PUB, every event as stored)
//             and over CURVE without an allow-list (encrypted, no decisions).
//
// Both sides' high-water marks are unlimited, so nothing is dropped and every event is
// counted. Stores live in temporary directories, removed at exit.

#include "bench_support.hpp"

#include <ashlar/ashlar.hpp>
#include <ashlar/notifiers/subscriber.hpp>
#include <ashlar/notifiers/topics.hpp>

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using ashlar::bench::TempDir;

// A create event as the engine writes one for ashlar::bench::user_domain().
ashlar::Event user_event(std::size_t i) {
  ashlar::Event e;
  e.domain = "bench";
  e.resource = "User";
  e.action = "create";
  e.type = ashlar::ActionType::create;
  e.version = 1;
  ashlar::Value id(ashlar::Uuid::v4());
  std::string name = "user-" + std::to_string(i);
  e.key = {{"id", id}};
  e.changes = {{"id", id}, {"name", name}, {"email", name + "@example.com"}};
  e.inputs = {{"name", name}, {"email", name + "@example.com"}};
  e.correlation_id = ashlar::Uuid::v4().str();
  e.time_micros = ashlar::DateTime::now().micros;
  return e;
}

std::string free_endpoint() {
  zmq::context_t context;
  zmq::socket_t probe(context, zmq::socket_type::pub);
  probe.bind("tcp://127.0.0.1:*");
  return probe.get(zmq::sockopt::last_endpoint);  // closed at once; ZeroMQ rebinds with SO_REUSEADDR
}

// The server's key pair for the CURVE runs, and a client's.
struct CurveKeys {
  ashlar::CurveKeyPair server = ashlar::generate_key_pair().value();
  ashlar::CurveKeyPair client = ashlar::generate_key_pair().value();
};

// Makes `socket` a CURVE client of the server when `curve`, before it connects.
void curve_client(zmq::socket_t& socket, const CurveKeys* curve) {
  if (!curve) return;
  socket.set(zmq::sockopt::curve_serverkey, curve->server.public_key);
  socket.set(zmq::sockopt::curve_publickey, curve->client.public_key);
  socket.set(zmq::sockopt::curve_secretkey, curve->client.secret_key);
}

// A SUB socket in a thread of its own that counts event messages (not heartbeats) and
// notes when the count reaches `expected`; a CURVE client of the server when `curve`.
class Counter {
 public:
  Counter(const std::string& endpoint, std::size_t expected, const CurveKeys* curve = nullptr) : expected_(expected) {
    socket_.set(zmq::sockopt::rcvhwm, 0);
    curve_client(socket_, curve);
    socket_.set(zmq::sockopt::subscribe, "");
    socket_.connect(endpoint);
    thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
  }
  bool connected() const { return seen_any_.load(); }
  void reset() { count_ = 0; }
  // Seconds from `start` to the last expected message; throws when it never comes.
  double wait(Clock::time_point start) {
    auto deadline = Clock::now() + 120s;
    while (!done_.load()) {
      if (Clock::now() > deadline) throw std::runtime_error("the subscriber did not receive every message");
      std::this_thread::sleep_for(100us);
    }
    done_ = false;
    return std::chrono::duration<double>(done_at_ - start).count();
  }

 private:
  void run(std::stop_token stop) {
    while (!stop.stop_requested()) {
      zmq::pollitem_t items[] = {{socket_.handle(), 0, ZMQ_POLLIN, 0}};
      zmq::poll(items, 1, 10ms);
      std::vector<zmq::message_t> frames;
      while (zmq::recv_multipart(socket_, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
        seen_any_ = true;
        bool event = frames[0].to_string_view().rfind("bench.User.", 0) == 0;
        frames.clear();
        if (!event || ++count_ != expected_) continue;
        done_at_ = Clock::now();
        done_ = true;
      }
    }
  }
  zmq::context_t context_{1};
  zmq::socket_t socket_{context_, zmq::socket_type::sub};
  std::size_t expected_;
  std::size_t count_ = 0;
  std::atomic<bool> seen_any_{false}, done_{false};
  Clock::time_point done_at_;
  std::jthread thread_;
};

void wait_connected(const Counter& counter, const std::function<void()>& poke) {
  for (auto deadline = Clock::now() + 10s; !counter.connected(); std::this_thread::sleep_for(1ms)) {
    if (Clock::now() > deadline) throw std::runtime_error("the subscriber did not connect");
    poke();
  }
  std::this_thread::sleep_for(20ms);  // let stray warm-up messages arrive before counting
}

struct Throughput {
  double raw = 0, raw_curve = 0, publisher = 0, curve = 0, bulk = 0, bulk_alone = 0;  // events per second
  double notify_micros = 1e9;  // per event, in the caller's thread
};

// A PUB socket sending the same frames; a CURVE server when `curve`, as the publisher's is.
double raw_round(const std::vector<ashlar::StoredEvent>& events, const std::vector<std::string>& topics,
                 const CurveKeys* curve = nullptr) {
  std::string endpoint = free_endpoint();
  zmq::context_t context{1};
  zmq::socket_t pub(context, zmq::socket_type::pub);
  pub.set(zmq::sockopt::sndhwm, 0);
  if (curve) {
    pub.set(zmq::sockopt::curve_server, true);
    pub.set(zmq::sockopt::curve_secretkey, curve->server.secret_key);
  }
  pub.bind(endpoint);
  Counter counter(endpoint, events.size(), curve);
  wait_connected(counter, [&] {
    pub.send(zmq::str_buffer("warm-up"), zmq::send_flags::sndmore);
    pub.send(zmq::str_buffer(""));
  });
  counter.reset();
  auto start = Clock::now();
  for (std::size_t i = 0; i < events.size(); ++i) {
    pub.send(zmq::buffer(topics[i]), zmq::send_flags::sndmore);
    pub.send(zmq::buffer(events[i].bytes));
  }
  return static_cast<double>(events.size()) / counter.wait(start);
}

ashlar::PublishOptions unlimited(const std::string& endpoint, std::size_t events) {
  return {.endpoints = {endpoint}, .queue_events = events + 1, .queue_bytes = std::size_t{4} << 30,
          .send_high_water_mark = 0, .heartbeat = 5ms};
}

// Already committed events, one notify() each, as the engine calls it per action;
// `notify_seconds` is the time the caller spent in notify(), the writer's share. Over
// CURVE when `curve`.
double publisher_round(const ashlar::Log& log, const std::vector<ashlar::StoredEvent>& events,
                       double& notify_seconds, const CurveKeys* curve = nullptr) {
  std::string endpoint = free_endpoint();
  ashlar::PublishOptions options = unlimited(endpoint, events.size());
  if (curve) options.curve.keys = curve->server;
  auto publisher = ashlar::ZmqPublisher::start(log, ashlar::bench::user_domain(), options).value();
  Counter counter(endpoint, events.size(), curve);
  wait_connected(counter, [] {});  // the heartbeat arrives every 5 ms
  counter.reset();
  auto start = Clock::now();
  for (std::size_t i = 0; i < events.size(); ++i) publisher->notify(std::span(&events[i], 1));
  notify_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return static_cast<double>(events.size()) / counter.wait(start);
}

// Appends `count` events, 1000 per transaction without a flush, publishing each commit
// to a subscriber when `publish`; events per second until the subscriber has them all
// (or, without publishing, until the last commit).
double bulk_round(const std::string& dir, std::size_t count, bool publish, std::vector<ashlar::StoredEvent>& appended) {
  ashlar::LogOptions options;
  options.durability = ashlar::Durability::no_sync;
  options.initial_map_size = std::size_t{1} << 30;
  auto log = ashlar::Log::open(dir, options).value();
  std::string endpoint = free_endpoint();
  std::unique_ptr<ashlar::ZmqPublisher> publisher;
  std::optional<Counter> counter;
  if (publish) {
    publisher = ashlar::ZmqPublisher::start(*log, ashlar::bench::user_domain(), unlimited(endpoint, count)).value();
    counter.emplace(endpoint, count);
    wait_connected(*counter, [] {});
    counter->reset();
  }
  std::vector<ashlar::Event> drafts;
  for (std::size_t i = 0; i < count; ++i) drafts.push_back(user_event(i));
  std::vector<ashlar::StoredEvent> committed;
  auto start = Clock::now();
  for (std::size_t done = 0; done < count; done += 1000) {
    log->write(
           [&](ashlar::Txn& txn) -> ashlar::Result<void> {
             committed.clear();
             for (std::size_t i = done; i < std::min(done + 1000, count); ++i) {
               auto stored = log->append(txn, drafts[i]);
               if (!stored) return ashlar::fail(stored.error());
               committed.push_back(std::move(*stored));
             }
             return {};
           },
           [&] {
             if (publisher) publisher->notify(committed);
           })
        .value();
    appended.insert(appended.end(), committed.begin(), committed.end());
  }
  double seconds = counter ? counter->wait(start) : std::chrono::duration<double>(Clock::now() - start).count();
  publisher.reset();  // before the log it reads closes
  return static_cast<double>(count) / seconds;
}

Throughput throughput(std::size_t count) {
  TempDir dir;
  Throughput best;
  std::vector<ashlar::StoredEvent> events, ignored;
  best.bulk_alone = bulk_round(dir.sub("alone"), count, false, ignored);
  best.bulk = bulk_round(dir.sub("bulk"), count, true, events);
  auto log = ashlar::Log::open_read_only(dir.sub("bulk")).value();
  std::vector<std::string> topics;
  for (const auto& e : events) topics.push_back(ashlar::default_topic(e.event));
  CurveKeys keys;
  for (int turn = 0; turn < 3; ++turn) {  // alternating, best of three: the machine's noise hits all
    best.raw = std::max(best.raw, raw_round(events, topics));
    double notify_seconds = 0;
    best.publisher = std::max(best.publisher, publisher_round(*log, events, notify_seconds));
    best.notify_micros = std::min(best.notify_micros, notify_seconds * 1e6 / static_cast<double>(count));
    best.curve = std::max(best.curve, publisher_round(*log, events, notify_seconds, &keys));
    best.raw_curve = std::max(best.raw_curve, raw_round(events, topics, &keys));
  }
  return best;
}

// Engine creates per second: without publishing, publishing to nobody, or publishing to
// a subscriber (in this process) that takes everything.
double creates_per_second(std::size_t count, const std::string& endpoint, bool subscriber) {
  TempDir dir;
  ashlar::Options options{.durability = ashlar::Durability::no_sync};
  if (!endpoint.empty()) options.publish = unlimited(endpoint, count);
  auto engine = ashlar::Engine::open(dir.sub("store"), ashlar::bench::user_domain(), options).value();
  std::optional<Counter> counter;
  if (subscriber) {
    counter.emplace(endpoint, count);
    wait_connected(*counter, [] {});
    counter->reset();
  }
  auto start = Clock::now();
  for (std::size_t i = 0; i < count; ++i) {
    std::string name = "user-" + std::to_string(i);
    engine.create("User", {{"name", name}, {"email", name + "@example.com"}}).value();
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (counter) counter->wait(start);
  return static_cast<double>(count) / seconds;
}

// What publishing costs the writer: notify() only copies the events into a queue.
void writer_overhead() {
  constexpr std::size_t kCreates = 20000;
  double plain = 0, unheard = 0, publishing = 0;
  for (int turn = 0; turn < 3; ++turn) {
    plain = std::max(plain, creates_per_second(kCreates, {}, false));
    unheard = std::max(unheard, creates_per_second(kCreates, free_endpoint(), false));
    publishing = std::max(publishing, creates_per_second(kCreates, free_endpoint(), true));
  }
  std::printf("writer, %zu engine creates (no_sync, best of 3; %u hardware threads)\n", kCreates,
              std::thread::hardware_concurrency());
  std::printf("  %-34s %12.0f creates/s\n", "without publishing", plain);
  std::printf("  %-34s %12.0f creates/s   %.2fx without\n", "publishing, no subscriber", unheard, unheard / plain);
  std::printf("  %-34s %12.0f creates/s   %.2fx without\n", "publishing, subscriber in-process", publishing,
              publishing / plain);
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

struct Percentiles {
  double median = 0, p99 = 0, max = 0;  // microseconds
  std::uint64_t replayed = 0;            // events the subscriber took from the replay service
};

struct AshlarLatency {
  Percentiles subscriber;  // commit to ashlar::Subscriber::next
  Percentiles socket;      // commit to a plain SUB socket on the same PUB: the publisher's part
};

Percentiles percentiles(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v[std::min(v.size() - 1, v.size() * 99 / 100)], v.back()};
}

constexpr auto kLatencyInterval = 500us;  // 2000 events per second

// Commit (a notifier called right after it, before the publisher) to delivery by
// ashlar::Subscriber over tcp loopback; both sockets CURVE servers when `curve`. A SUB
// socket on the same PUB (a CURVE client too when `curve`) times the same events without
// the subscriber, so the two show which side a delay is on.
AshlarLatency ashlar_latency(std::size_t count, const CurveKeys* curve = nullptr) {
  TempDir dir;
  std::string pub = free_endpoint(), replay = free_endpoint();
  std::vector<std::atomic<std::int64_t>> committed_at(count + 1);
  auto stamp = std::make_shared<ashlar::CallbackNotifier>([&](const ashlar::StoredEvent& e) {
    if (e.event.position <= count) committed_at[e.event.position].store(now_ns(), std::memory_order_release);
  });
  ashlar::PublishOptions publish{.endpoints = {pub}, .replay = replay, .heartbeat = 20ms};
  ashlar::SubscriberOptions options{.publish = pub, .replay = replay, .start = ashlar::StartAt::now()};
  if (curve) {
    publish.curve.keys = curve->server;
    options.server_key = curve->server.public_key;
    options.client_keys = curve->client;
  }
  auto engine = ashlar::Engine::open(dir.sub("store"), ashlar::bench::user_domain(),
                                     {.durability = ashlar::Durability::no_sync, .notifiers = {stamp}, .publish = publish})
                    .value();
  auto sub = ashlar::Subscriber::connect(options).value();
  for (auto deadline = Clock::now() + 10s; sub->stats().heartbeats < 3;)  // the live stream flows
    if (sub->next(10ms).value() || Clock::now() > deadline) throw std::runtime_error("no heartbeat");
  std::vector<double> latencies, at_socket;
  zmq::context_t context{1};
  zmq::socket_t socket(context, zmq::socket_type::sub);
  curve_client(socket, curve);
  socket.set(zmq::sockopt::subscribe, "bench.");
  socket.connect(pub);
  std::this_thread::sleep_for(200ms);  // connected and subscribed before the first event
  std::jthread socket_reader([&] {
    for (auto deadline = Clock::now() + 120s; at_socket.size() < count && Clock::now() < deadline;) {
      zmq::pollitem_t items[] = {{socket.handle(), 0, ZMQ_POLLIN, 0}};
      zmq::poll(items, 1, 10ms);
      std::vector<zmq::message_t> frames;
      while (zmq::recv_multipart(socket, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
        auto e = ashlar::decode_event(frames[1].to_string_view()).value();
        std::int64_t at = committed_at[e.position].load(std::memory_order_acquire);
        at_socket.push_back(static_cast<double>(now_ns() - at) / 1000.0);
        frames.clear();
      }
    }
  });
  std::jthread reader([&] {
    for (auto deadline = Clock::now() + 120s; latencies.size() < count && Clock::now() < deadline;)
      if (auto e = sub->next(100ms).value()) {
        std::int64_t at = committed_at[e->event.position].load(std::memory_order_acquire);
        latencies.push_back(static_cast<double>(now_ns() - at) / 1000.0);
      }
  });
  auto start = Clock::now();
  for (std::size_t i = 0; i < count; ++i) {
    std::this_thread::sleep_until(start + i * kLatencyInterval);
    engine.create("User", {{"name", "user-" + std::to_string(i)}}).value();
  }
  reader.join();
  socket_reader.join();
  if (latencies.size() != count) throw std::runtime_error("the subscriber missed events");
  if (at_socket.size() != count) throw std::runtime_error("the SUB socket missed events");
  AshlarLatency result{percentiles(latencies), percentiles(at_socket)};
  result.subscriber.replayed = sub->stats().replayed;
  return result;
}

// Send to receipt of the same bytes over raw PUB/SUB, the receiver decoding each as the
// subscriber does.
Percentiles raw_latency(std::size_t count) {
  std::string endpoint = free_endpoint();
  zmq::context_t context{1};
  zmq::socket_t pub(context, zmq::socket_type::pub);
  pub.bind(endpoint);
  zmq::socket_t sub(context, zmq::socket_type::sub);
  sub.set(zmq::sockopt::subscribe, "");
  sub.connect(endpoint);
  std::vector<std::atomic<std::int64_t>> sent_at(count + 1);
  std::vector<std::string> bytes(count + 1), topics(count + 1);
  for (std::size_t i = 1; i <= count; ++i) {
    auto e = user_event(i);
    e.position = e.sequence = i;
    bytes[i] = ashlar::encode_event(e);
    topics[i] = ashlar::default_topic(e);
  }
  std::atomic<bool> connected{false};
  std::vector<double> latencies;
  std::jthread reader([&] {
    for (auto deadline = Clock::now() + 120s; latencies.size() < count && Clock::now() < deadline;) {
      zmq::pollitem_t items[] = {{sub.handle(), 0, ZMQ_POLLIN, 0}};
      zmq::poll(items, 1, 10ms);
      std::vector<zmq::message_t> frames;
      if (!zmq::recv_multipart(sub, std::back_inserter(frames), zmq::recv_flags::dontwait)) continue;
      connected = true;
      if (frames[0].to_string_view() == "warm-up") continue;
      auto e = ashlar::decode_event(frames[1].to_string_view()).value();
      latencies.push_back(static_cast<double>(now_ns() - sent_at[e.position].load(std::memory_order_acquire)) / 1000.0);
    }
  });
  for (auto deadline = Clock::now() + 10s; !connected; std::this_thread::sleep_for(1ms)) {
    if (Clock::now() > deadline) throw std::runtime_error("the raw subscriber did not connect");
    pub.send(zmq::str_buffer("warm-up"), zmq::send_flags::sndmore);
    pub.send(zmq::str_buffer(""));
  }
  std::this_thread::sleep_for(20ms);
  auto start = Clock::now();
  for (std::size_t i = 1; i <= count; ++i) {
    std::this_thread::sleep_until(start + (i - 1) * kLatencyInterval);
    sent_at[i].store(now_ns(), std::memory_order_release);
    pub.send(zmq::buffer(topics[i]), zmq::send_flags::sndmore);
    pub.send(zmq::buffer(bytes[i]));
  }
  reader.join();
  if (latencies.size() != count) throw std::runtime_error("the raw subscriber missed messages");
  return percentiles(latencies);
}

void latency(std::size_t count) {
  CurveKeys keys;
  auto raw = raw_latency(count);
  auto ours = ashlar_latency(count);
  auto curve = ashlar_latency(count, &keys);
  std::printf("latency, %zu events at 2000/s over tcp loopback, microseconds\n", count);
  std::printf("  %-34s median %7.1f   p99 %7.1f   max %8.1f\n", "raw PUB/SUB, send to receipt", raw.median,
              raw.p99, raw.max);
  auto row = [](const char* name, const Percentiles& p, const char* versus, double base) {
    std::printf("  %-34s median %7.1f   p99 %7.1f   max %8.1f   (median %.2fx %s)\n", name, p.median, p.p99, p.max,
                p.median / base, versus);
  };
  row("ashlar, commit to delivery", ours.subscriber, "raw", raw.median);
  row("  same events, at a SUB socket", ours.socket, "raw", raw.median);
  row("ashlar CURVE, commit to delivery", curve.subscriber, "plain", ours.subscriber.median);
  row("  same events, at a SUB socket", curve.socket, "plain", ours.socket.median);
  std::printf("  events the subscribers took from the replay service: %llu plain, %llu CURVE\n",
              static_cast<unsigned long long>(ours.subscriber.replayed),
              static_cast<unsigned long long>(curve.subscriber.replayed));
}

// ---- Per-client delivery -------------------------------------------------------------

constexpr std::size_t kClients = 4;

// A Note is read by its owner alone; its pin is sensitive.
ashlar::Domain notes_domain() {
  using namespace ashlar::dsl;
  return domain("bench")
      .resource(resource("Note")
                    .uuid_primary_key("id")
                    .attribute("owner", type::string)
                    .attribute("body", type::string)
                    .attribute("pin", type::string, {.sensitive = true})
                    .defaults({"read", "destroy", "create:*", "update:*"})
                    .policy(action_type(ashlar::ActionType::create), {authorize_if(always())})
                    .policy(action_type(ashlar::ActionType::read), {authorize_if(expr(ref("owner") == actor("id")))}))
      .build()
      .value();
}

// Notes owned in turn by alice, bob and dave (whom no client stands for).
void write_notes(ashlar::Engine& engine, std::size_t first, std::size_t count) {
  static const char* const kOwners[] = {"alice", "bob", "dave"};
  std::vector<ashlar::Fields> inputs;
  for (std::size_t i = first; i < first + count; ++i)
    inputs.push_back({{"owner", kOwners[i % 3]}, {"body", "note " + std::to_string(i)}, {"pin", "pin-" + std::to_string(i)}});
  auto done = engine.bulk_create("Note", inputs, {.batch_size = 100, .return_errors = false}).value();
  if (done.count != count) throw std::runtime_error("the notes were not all written");
}

enum class Path { plain, curve, per_client };

struct Delivery {
  double seconds = 0, cpu = 0;
  std::size_t delivered = 0;  // events, summed over the clients
};

// The store at `dir` (events already in it or not) opened with `path`'s options; the
// clients follow from the beginning while `write` (if any) commits more, until each has
// gone past position `target`.
Delivery deliver(const std::string& dir, Path path, std::uint64_t target, const std::function<void(ashlar::Engine&)>& write) {
  std::string pub = free_endpoint(), replay = free_endpoint();
  CurveKeys keys;
  std::vector<ashlar::CurveKeyPair> clients;
  for (std::size_t i = 0; i < kClients; ++i) clients.push_back(ashlar::generate_key_pair().value());
  ashlar::PublishOptions publish{.endpoints = {pub}, .replay = replay, .heartbeat = 20ms};
  if (path != Path::plain) publish.curve.keys = keys.server;
  if (path == Path::per_client) {
    ashlar::ClientList list{{clients[0].public_key, {"alice", ""}}, {clients[1].public_key, {"alice", ""}},
                            {clients[2].public_key, {"bob", ""}}, {clients[3].public_key, {"carol", ""}}};
    publish.curve.clients = std::make_shared<ashlar::ClientAllowList>(std::move(list));
  }
  auto engine =
      ashlar::Engine::open(dir, notes_domain(), {.durability = ashlar::Durability::no_sync, .publish = publish}).value();
  std::vector<std::unique_ptr<ashlar::Subscriber>> subs;
  for (const auto& client : clients) {
    ashlar::SubscriberOptions options{.publish = pub, .replay = replay, .start = ashlar::StartAt::beginning()};
    if (path != Path::plain) {
      options.server_key = keys.server.public_key;
      options.client_keys = client;
    }
    subs.push_back(ashlar::Subscriber::connect(options).value());
  }
  std::vector<std::size_t> delivered(kClients, 0);
  std::atomic<int> failed{0};
  Delivery out;
  auto timing = ashlar::bench::timed([&] {
    std::vector<std::jthread> readers;
    for (std::size_t i = 0; i < kClients; ++i)
      readers.emplace_back([&, i] {
        auto& sub = *subs[i];
        for (auto deadline = Clock::now() + 300s; !(sub.head() >= target && sub.caught_up());) {
          auto e = sub.next(5ms);
          if (!e || Clock::now() > deadline) return void(++failed);
          if (*e) ++delivered[i];
        }
      });
    if (write) write(engine);
  });
  if (failed) throw std::runtime_error("a per-client subscriber did not reach the head");
  out.seconds = timing.wall;
  out.cpu = timing.cpu;
  for (auto n : delivered) out.delivered += n;
  return out;
}

void per_client(std::size_t count) {
  Delivery best[2][3];  // [catch-up, live][path]
  for (auto& row : best)
    for (auto& d : row) d.seconds = d.cpu = 1e9;
  auto keep = [](Delivery& best, const Delivery& d) {
    best.delivered = d.delivered;
    best.seconds = std::min(best.seconds, d.seconds);
    best.cpu = std::min(best.cpu, d.cpu);
  };
  TempDir dir;
  {
    auto engine = ashlar::Engine::open(dir.sub("stored"), notes_domain(), {.durability = ashlar::Durability::no_sync}).value();
    write_notes(engine, 0, count);
  }
  for (int turn = 0; turn < 3; ++turn)
    for (Path path : {Path::plain, Path::curve, Path::per_client}) {
      int p = static_cast<int>(path);
      keep(best[0][p], deliver(dir.sub("stored"), path, count, {}));
      std::string live = dir.sub("live-" + std::to_string(turn) + "-" + std::to_string(p));
      keep(best[1][p], deliver(live, path, count, [&](ashlar::Engine& e) { write_notes(e, 0, count); }));
    }
  std::printf("per-client delivery, %zu clients (alice twice, bob, carol), %zu Notes owned by alice, bob, dave in turn "
              "(best of 3)\n", kClients, count);
  const char* names[] = {"plain (every event, as stored)", "CURVE, no allow-list", "per-client (allow-list)"};
  for (int mode = 0; mode < 2; ++mode) {
    std::printf("  %s\n", mode == 0 ? "catch-up from a stored log (replay)" : "live, committed in batches of 100");
    for (int p = 0; p < 3; ++p) {
      const Delivery& d = best[mode][p];
      double positions = static_cast<double>(count * kClients);
      std::printf("    %-32s %9.0f positions/s %9.0f events/s   wall %.2fx plain, CPU %.2fx plain\n", names[p],
                  positions / d.seconds, static_cast<double>(d.delivered) / d.seconds,
                  best[mode][0].seconds / d.seconds, best[mode][0].cpu / d.cpu);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t events = 200000, latency_events = 5000, per_client_events = 20000;
  if (argc > 1) events = std::strtoull(argv[1], nullptr, 10);
  if (argc > 2) latency_events = std::strtoull(argv[2], nullptr, 10);
  if (argc > 3) per_client_events = std::strtoull(argv[3], nullptr, 10);
  if (argc > 4 || events < 1000 || latency_events < 100 || per_client_events < 300) {
    std::fprintf(stderr, "usage: %s [EVENTS (>= 1000) [LATENCY_EVENTS (>= 100) [PER_CLIENT_EVENTS (>= 300)]]]\n",
                 argv[0]);
    return 2;
  }
  try {
    auto t = throughput(events);
    std::printf("throughput, %zu events over tcp loopback (best of 3; bulk commit once)\n", events);
    std::printf("  %-34s %12.0f events/s\n", "raw ZeroMQ PUB/SUB, same frames", t.raw);
    std::printf("  %-34s %12.0f events/s   %.2fx raw; notify() %.2f us per event\n",
                "ashlar publisher (notify per event)", t.publisher, t.publisher / t.raw, t.notify_micros);
    std::printf("  %-34s %12.0f events/s   %.2fx raw\n", "raw ZeroMQ PUB/SUB over CURVE", t.raw_curve,
                t.raw_curve / t.raw);
    std::printf("  %-34s %12.0f events/s   %.2fx plain publisher (raw ZeroMQ: %.2fx), %.2fx raw CURVE\n",
                "ashlar publisher over CURVE", t.curve, t.curve / t.publisher, t.raw_curve / t.raw,
                t.curve / t.raw_curve);
    std::printf("  %-34s %12.0f events/s   %.2fx raw, %.2fx commit alone (%.0f events/s)\n",
                "bulk commit (no_sync) + publish", t.bulk, t.bulk / t.raw, t.bulk / t.bulk_alone, t.bulk_alone);
    writer_overhead();
    latency(latency_events);
    per_client(per_client_events);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_publish: %s\n", e.what());
    return 1;
  }
  return 0;
}
