// bench_mirror: the JetStream sink and a read replica, each against its floor, measured in
// the same run against one nats-server this benchmark starts (JetStream on, file storage,
// loopback, a temporary directory):
//
//   1. the sink mirroring a log of COUNT events (read from the log, published with
//      expected-last-sequence and a message id, acknowledged) vs raw js_PublishMsgAsync of
//      the very same messages (bytes, headers, message ids, expected last sequences, the
//      same cap on unacknowledged publishes) into a stream of the same settings, then
//      js_PublishAsyncComplete;
//   2. a replica applying the stream (ordered consumer, every hash checked, the state
//      projection folded) vs the primary's bulk_create of the same events, both no_sync.
//
//   bench_mirror [COUNT [BATCH]]     (defaults 20000, and JetStreamOptions::batch)

#include "bench_support.hpp"

#include <ashlar/ashlar.hpp>
#include <ashlar/replica.hpp>

#include <ashlar/notifiers/jetstream.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <nats/nats.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using ashlar::bench::TempDir;
using ashlar::bench::Timing;
using ashlar::bench::timed;

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("no free port");
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// nats-server -js on loopback, killed when this goes.
class Server {
 public:
  explicit Server(const std::string& dir) : port_(free_port()) {
    std::string binary;
    for (const char* candidate : {"/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"})
      if (::access(candidate, X_OK) == 0) binary = candidate;
    if (binary.empty()) throw std::runtime_error("nats-server is not installed (scripts/install-deps.sh installs it)");
    std::vector<std::string> argv{binary, "-js", "-a", "127.0.0.1", "-p", std::to_string(port_), "-sd", dir};
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t quiet;  // its log would drown the figures
    posix_spawn_file_actions_init(&quiet);
    posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&quiet, 2, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawn(&pid_, args[0], &quiet, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&quiet);
    if (rc != 0) throw std::runtime_error("cannot start nats-server");
    for (int i = 0; i < 500; ++i) {  // up to 10 s for it to listen
      natsConnection* nc = nullptr;
      if (natsConnection_ConnectTo(&nc, url().c_str()) == NATS_OK) {
        natsConnection_Destroy(nc);
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("nats-server did not start");
  }
  ~Server() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

 private:
  int port_;
  pid_t pid_ = -1;
};

void check(natsStatus s, const char* what) {
  if (s != NATS_OK) throw std::runtime_error(std::string(what) + ": " + natsStatus_GetText(s));
}

// What the sink sends for one event, prepared ahead: the baseline publishes the same.
struct Outgoing {
  std::string bytes, subject, position, hash, id;
};

// Raw js_PublishMsgAsync of the sink's very messages into a new stream RAW: the same
// bytes, subjects (under raw.), headers, message ids and expected last sequences, the
// same cap on publishes awaiting acknowledgement, an acknowledgement handler as the
// sink's; then waits for every acknowledgement. Only reading the log and formatting the
// headers' text are left out: that is what the sink is measured doing beyond it.
void publish_raw(const std::string& url, const std::vector<Outgoing>& messages, std::size_t batch) {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  check(natsConnection_ConnectTo(&nc, url.c_str()), "connect");
  std::atomic<std::uint64_t> acknowledged{0};
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.AckHandler = [](jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* error, void* closure) {
    auto* last = static_cast<std::atomic<std::uint64_t>*>(closure);
    if (ack && !error && ack->Sequence > *last) *last = ack->Sequence;
    natsMsg_Destroy(msg);
  };
  jo.PublishAsync.AckHandlerClosure = &acknowledged;
  jo.PublishAsync.MaxPending = static_cast<int>(std::max<std::size_t>(batch, 1));
  jo.PublishAsync.StallWait = 2000;
  check(natsConnection_JetStream(&js, nc, &jo), "jetstream");
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = "RAW";
  const char* subjects[] = {"raw.>"};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  jsStreamInfo* si = nullptr;
  check(js_AddStream(&si, js, &cfg, nullptr, nullptr), "add stream");
  jsStreamInfo_Destroy(si);
  std::uint64_t position = 0;
  for (const auto& m : messages) {
    ++position;
    natsMsg* msg = nullptr;
    check(natsMsg_Create(&msg, m.subject.c_str(), nullptr, m.bytes.data(), static_cast<int>(m.bytes.size())),
          "message");
    check(natsMsgHeader_Set(msg, ashlar::kHeaderDomain, "bench"), "header");
    check(natsMsgHeader_Set(msg, ashlar::kHeaderPosition, m.position.c_str()), "header");
    check(natsMsgHeader_Set(msg, ashlar::kHeaderHash, m.hash.c_str()), "header");
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = m.id.c_str();
    po.ExpectStream = "RAW";
    po.ExpectLastSeq = position - 1;
    natsStatus s = js_PublishMsgAsync(js, &msg, &po);
    natsMsg_Destroy(msg);  // null when the library took it
    check(s, "publish");
  }
  jsPubOptions wait;
  jsPubOptions_Init(&wait);
  wait.MaxWait = 60000;
  check(js_PublishAsyncComplete(js, &wait), "publish complete");
  if (acknowledged != messages.size()) throw std::runtime_error("the raw stream did not acknowledge every message");
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
}

double per_second(std::size_t n, double seconds) { return seconds > 0 ? static_cast<double>(n) / seconds : 0; }

void report(const char* what, std::size_t count, const Timing& ours, const char* baseline, const Timing& base) {
  std::printf("%-28s %9.0f events/s  wall %.3f s  cpu %.3f s\n", what, per_second(count, ours.wall), ours.wall,
              ours.cpu);
  std::printf("%-28s %9.0f events/s  wall %.3f s  cpu %.3f s\n", baseline, per_second(count, base.wall), base.wall,
              base.cpu);
  std::printf("%-28s %.2fx (wall)\n\n", "ratio", ours.wall > 0 ? base.wall / ours.wall : 0);
}

int run(std::size_t count, std::size_t batch) {
  TempDir dir;
  Server server(dir.sub("nats"));
  std::vector<ashlar::Fields> inputs;
  for (std::size_t i = 0; i < count; ++i) {
    std::string name = "user-" + std::to_string(i);
    inputs.push_back({{"name", name}, {"email", name + "@example.com"}});
  }
  auto domain = ashlar::bench::user_domain();
  std::vector<Outgoing> bytes;
  Timing primary;
  {
    auto engine = ashlar::Engine::open(dir.sub("primary"), domain, {.durability = ashlar::Durability::no_sync}).value();
    primary = timed([&] { engine.bulk_create("User", inputs, {.batch_size = 1000}).value(); });
    engine.log().scan(engine.log().read().value(), 1, [&](const ashlar::StoredEvent& e) {
                  std::string position = std::to_string(e.event.position);
                  bytes.push_back({e.bytes, "raw." + e.event.resource + "." + e.event.action, position,
                                   ashlar::to_hex(e.hash), "bench:" + position});
                  return true;
                })
        .value();
  }
  if (bytes.size() != count) throw std::runtime_error("the log does not hold the events just created");

  auto log = ashlar::Log::open_read_only(dir.sub("primary")).value();
  std::unique_ptr<ashlar::JetStreamSink> sink;
  Timing mirrored = timed([&] {
    sink = ashlar::JetStreamSink::start(*log, "bench", {.url = server.url(), .stream = "BENCH", .create = true,
                                                        .batch = batch})
               .value();
    if (!sink->wait_for(count, std::chrono::minutes(5))) throw std::runtime_error("the sink stopped: " + sink->error());
  });
  sink.reset();
  Timing raw = timed([&] { publish_raw(server.url(), bytes, batch); });

  std::unique_ptr<ashlar::Replica> replica;
  Timing applied = timed([&] {
    replica = ashlar::Replica::start(dir.sub("replica"), {.url = server.url(), .stream = "BENCH",
                                                          .durability = ashlar::Durability::no_sync})
                  .value();
    if (!replica->wait_for(count, std::chrono::minutes(5)))
      throw std::runtime_error("the replica stopped: " + replica->error());
  });

  std::printf("%zu events of %zu bytes on average, sink batch %zu, nats-server on loopback, file storage\n\n", count,
              [&] {
                std::size_t total = 0;
                for (const auto& b : bytes) total += b.bytes.size();
                return total / count;
              }(),
              batch);
  report("sink (exactly once)", count, mirrored, "raw js_PublishMsgAsync", raw);
  report("replica apply", count, applied, "primary bulk_create", primary);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t count = 20000, batch = ashlar::JetStreamOptions{}.batch;
  if (argc > 3 || (argc > 1 && !ashlar::bench::parse_count(argv[1], count)) ||
      (argc > 2 && !ashlar::bench::parse_count(argv[2], batch))) {
    std::fprintf(stderr, "usage: %s [COUNT [BATCH]]   (defaults 20000, and the sink's default batch)\n", argv[0]);
    return 2;
  }
  try {
    return run(count, batch);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_mirror: %s\n", e.what());
    return 1;
  }
}
