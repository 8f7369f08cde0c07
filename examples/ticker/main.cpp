// The ticker: a writer for demos and load. It attempts N actions on a small market —
// accounts, orders and quotes: creates, updates, destroys, and some that fail
// validation — publishing every commit over ZeroMQ, then keeps serving replay.
//
//   build/bin/ticker DIR --publish tcp://127.0.0.1:5556 --replay tcp://127.0.0.1:5557
//                    --count 1000 [--rate 200] [--linger 30]
//
// Watch it from another terminal with
//   build/bin/ashlar subscribe --pub tcp://127.0.0.1:5556 --replay tcp://127.0.0.1:5557 --from 1
//
// With --server-key (a key file of `ashlar keygen`) both sockets are CURVE servers; with
// --clients too (an allow-list, notifiers/PROTOCOL.md) only the clients listed connect.
//
// With --nats URL --stream NAME it also mirrors the log into that JetStream stream
// (created when missing), and after the last action waits, up to --linger seconds, until
// the stream holds every event, printing "mirrored: N".
//
// "done: C committed, R rejected" follows the last action. Orders publish their updates under
// templated topics (market.Order.status.<status>.<id>), so a status change goes out under
// the old and the new status. Commits are not flushed unless --sync is given.

#include <ashlar/ashlar.hpp>

#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::atomic<bool> interrupted{false};
void on_signal(int) { interrupted = true; }

ashlar::Domain market() {
  using namespace ashlar::dsl;
  return domain("market")
      .resource(resource("Account")
                    .uuid_primary_key("id")
                    .attribute("owner", type::string, {.allow_nil = false, .constraints = {.min_length = 1}})
                    .attribute("balance", type::integer, {.default_value = 0, .constraints = {.min = 0}})
                    .defaults({"read", "destroy", "create:*", "update:*"}))
      .resource(resource("Order")
                    .uuid_primary_key("id")
                    .attribute("account_id", type::uuid, {.allow_nil = false})
                    .attribute("symbol", type::atom,
                               {.allow_nil = false, .constraints = {.one_of = {"ACME", "GLOBEX", "INITECH"}}})
                    .attribute("quantity", type::integer, {.allow_nil = false, .constraints = {.min = 1}})
                    .attribute("status", type::atom,
                               {.default_value = ashlar::Atom{"open"},
                                .constraints = {.one_of = {"open", "filled", "cancelled"}}})
                    .defaults({"read", "destroy", "create:*", "update:*"})
                    .publish("update", {"status", ":status", ":id"}))
      .resource(resource("Quote")
                    .attribute("symbol", type::atom, {.primary_key = true})
                    .attribute("price", type::floating, {.allow_nil = false, .constraints = {.min = 0}})
                    .defaults({"read", "create:*", "update:*"}))
      .build()
      .value();
}

// One attempted action per call, chosen at random (with a fixed seed, so a run repeats).
class Market {
 public:
  Market(ashlar::Engine& engine, unsigned seed) : engine_(engine), random_(seed) {}

  // True when the action committed; false when it was rejected.
  bool step() {
    int dice = pick(100);
    if (accounts_.empty() || dice < 15) return account();
    if (dice < 40) return order();
    if (dice < 60) return fill_or_cancel();
    if (dice < 75) return deposit();
    if (dice < 90) return quote();
    return destroy();
  }

 private:
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(random_); }
  template <typename T>
  const T& any(const std::vector<T>& from) { return from[pick(static_cast<int>(from.size()))]; }
  bool invalid_now() { return pick(100) < 5; }  // about one action in twenty breaks a rule

  bool account() {
    std::string owner = invalid_now() ? "" : "owner " + std::to_string(++accounts_made_);
    auto made = engine_.create("Account", {{"owner", owner}, {"balance", pick(1000)}});
    if (made) accounts_.push_back(made->id());
    return made.has_value();
  }
  bool order() {
    static const char* kSymbols[] = {"ACME", "GLOBEX", "INITECH"};
    auto made = engine_.create("Order", {{"account_id", any(accounts_)},
                                         {"symbol", ashlar::Atom{kSymbols[pick(3)]}},
                                         {"quantity", invalid_now() ? 0 : 1 + pick(100)}});
    if (made) orders_.push_back(made->id());
    return made.has_value();
  }
  bool fill_or_cancel() {
    if (orders_.empty()) return order();
    return engine_.update("Order", any(orders_), {{"status", ashlar::Atom{pick(2) ? "filled" : "cancelled"}}})
        .has_value();
  }
  bool deposit() {
    return engine_.update("Account", any(accounts_), {{"balance", invalid_now() ? -1 : pick(10000)}}).has_value();
  }
  bool quote() {
    static const char* kSymbols[] = {"ACME", "GLOBEX", "INITECH"};
    ashlar::Atom symbol{kSymbols[pick(3)]};
    double price = invalid_now() ? -1.0 : 10.0 + pick(10000) / 100.0;
    if (engine_.get("Quote", symbol)) return engine_.update("Quote", symbol, {{"price", price}}).has_value();
    return engine_.create("Quote", {{"symbol", symbol}, {"price", price}}).has_value();
  }
  bool destroy() {
    std::vector<ashlar::Value>& from = !orders_.empty() && pick(2) ? orders_ : accounts_;
    std::size_t i = static_cast<std::size_t>(pick(static_cast<int>(from.size())));
    bool resource_is_order = &from == &orders_;
    auto gone = engine_.destroy(resource_is_order ? "Order" : "Account", from[i]);
    from.erase(from.begin() + static_cast<std::ptrdiff_t>(i));
    return gone.has_value();
  }

  ashlar::Engine& engine_;
  std::mt19937 random_;
  std::vector<ashlar::Value> accounts_, orders_;
  int accounts_made_ = 0;
};

struct Args {
  std::string dir, publish, replay;
  std::string nats, stream;  // empty: no JetStream mirror
  std::string server_key, clients;  // key file and allow-list file; empty: none
  long count = 0;
  double rate = 0;  // 0: as fast as it can
  double linger = 0;
  unsigned seed = 1;
  bool sync = false;
};

// CURVE on both sockets as the arguments ask; an error names the file that is wrong.
ashlar::Result<ashlar::CurveServerOptions> curve(const Args& args) {
  ashlar::CurveServerOptions curve;
  if (args.server_key.empty()) return curve;
  ASHLAR_TRY(keys, ashlar::read_key_pair(args.server_key));
  curve.keys = std::move(*keys);
  if (args.clients.empty()) return curve;
  ASHLAR_TRY(clients, ashlar::ClientAllowList::from_file(args.clients));
  curve.clients = std::move(*clients);
  return curve;
}

int run(const Args& args) {
  auto secured = curve(args);
  if (!secured) {
    std::fprintf(stderr, "ticker: %s\n", secured.error().describe().c_str());
    return 1;
  }
  ashlar::Options options{.durability = args.sync ? ashlar::Durability::sync : ashlar::Durability::no_sync,
                          .publish = {.replay = args.replay, .curve = *secured},
                          .jetstream = {.url = args.nats, .stream = args.stream, .create = true}};
  if (!args.publish.empty()) options.publish.endpoints = {args.publish};
  auto engine = ashlar::Engine::open(args.dir, market(), options);
  if (!engine) {
    std::fprintf(stderr, "ticker: %s\n", engine.error().describe().c_str());
    return 1;
  }
  if (!args.publish.empty())
    std::printf("publishing on %s, replay on %s\n", args.publish.c_str(), args.replay.c_str());
  if (!args.nats.empty()) std::printf("mirroring into %s on %s\n", args.stream.c_str(), args.nats.c_str());
  std::fflush(stdout);
  Market market(*engine, args.seed);
  long committed = 0, rejected = 0;
  auto start = Clock::now();
  for (long i = 0; i < args.count && !interrupted; ++i) {
    if (args.rate > 0) std::this_thread::sleep_until(start + std::chrono::duration<double>(i / args.rate));
    (market.step() ? committed : rejected) += 1;
  }
  std::printf("done: %ld committed, %ld rejected\n", committed, rejected);
  std::fflush(stdout);
  auto until = Clock::now() + std::chrono::duration<double>(args.linger);
  if (const ashlar::JetStreamSink* sink = engine->jetstream()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    sink->wait_for(sink->mirrored() + sink->lag(), left);
    std::printf("mirrored: %llu\n", static_cast<unsigned long long>(sink->mirrored()));
    if (!sink->error().empty()) std::fprintf(stderr, "ticker: %s\n", sink->error().c_str());
    return sink->lag() == 0 && sink->error().empty() ? 0 : 1;
  }
  while (!interrupted && Clock::now() < until) std::this_thread::sleep_for(20ms);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  CLI::App app{"ticker: attempts N actions on a small market, publishing each commit"};
  app.add_option("DIR", args.dir, "The store's directory (created if new)")->required();
  auto* publish = app.add_option("--publish", args.publish, "The PUB endpoint to bind");
  app.add_option("--replay", args.replay, "The replay service's endpoint to bind")->needs(publish);
  auto* nats = app.add_option("--nats", args.nats, "Mirror the log into JetStream on this NATS server");
  app.add_option("--stream", args.stream, "The JetStream stream to mirror into")->needs(nats);
  nats->needs(app.get_option("--stream"));
  app.add_option("--count", args.count, "Actions to attempt")->required()->check(CLI::NonNegativeNumber);
  app.add_option("--rate", args.rate, "Actions per second (default: as fast as it can)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--linger", args.linger, "Seconds to keep serving replay after the last action")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--seed", args.seed, "Seed of the random choices (default 1)");
  app.add_option("--server-key", args.server_key, "Secure both sockets with CURVE, with this key file's pair");
  auto* clients = app.add_option("--clients", args.clients, "Admit only the clients of this allow-list (JSON)");
  clients->needs(app.get_option("--server-key"));
  app.add_flag("--sync", args.sync, "Flush every commit (default: leave it to the OS)");
  CLI11_PARSE(app, argc, argv);
  if (args.publish.empty() && args.nats.empty()) {
    std::fprintf(stderr, "ticker: give --publish, --nats, or both\n");
    return 2;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  return run(args);
}
