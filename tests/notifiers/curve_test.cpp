// CURVE on the publisher and the replay service, on tcp loopback: a client with the
// right keys catches up and follows; a plain client, one with a wrong server key and a
// stranger to the allow-list get nothing within a bounded time, and the stranger is
// logged once; the allow-list reloads while the service runs.
#include <ashlar/notifiers/curve.hpp>

#include "notify_helpers.hpp"

#include <filesystem>
#include <fstream>
#include <mutex>

using namespace ashlar;
using namespace ashlar::test;

namespace {

CurveKeyPair fresh_keys() { return generate_key_pair().value(); }

// The lines an allow-list logs, gathered from its callback (the ZAP handler's thread).
struct LogLines {
  std::mutex mutex;
  std::vector<std::string> lines;
  ClientAllowList::LogFn fn() {
    return [this](const std::string& line) {
      std::lock_guard lock(mutex);
      lines.push_back(line);
    };
  }
  std::vector<std::string> snapshot() {
    std::lock_guard lock(mutex);
    return lines;
  }
};

PublishOptions curve_publish(const CurveKeyPair& server, std::shared_ptr<ClientAllowList> clients) {
  return {.curve = {.keys = server, .clients = std::move(clients)}};
}

SubscriberOptions keyed(const Endpoints& e, const std::string& server_key, const CurveKeyPair& client,
                        std::chrono::milliseconds timeout = 5s) {
  return {.publish = e.publish, .replay = e.replay, .connect_timeout = timeout, .server_key = server_key,
          .client_keys = client};
}

std::string refused_line(const CurveKeyPair& keys) {
  return "refused a client whose key is not on the allow-list: " + keys.public_key;
}

std::string no_answer(const Endpoints& e, int ms, bool curve) {
  return "the replay service at " + e.replay + " did not answer within " + std::to_string(ms) + " ms" +
         (curve ? " (with CURVE: check the server's public key, and that this client's key is on its allow-list)"
                : "");
}

// Writes the allow-list file by renaming a new file over it, as an operator's tools do:
// the handler sees a new inode at the next handshake.
void write_clients(const std::string& path, const std::string& json) {
  std::string next = path + ".next";
  std::ofstream(next) << json;
  std::filesystem::rename(next, path);
}

std::string entry(const CurveKeyPair& keys, const std::string& id) {
  return "\"" + keys.public_key + "\": {\"id\": \"" + id + "\", \"role\": \"reader\"}";
}

}  // namespace

TEST_CASE("with CURVE, a client on the allow-list gets every event, replayed then live, each once, as its actor") {
  TempDir dir;
  auto endpoints = tcp_endpoints();
  auto server = fresh_keys(), client = fresh_keys();
  auto clients = std::make_shared<ClientAllowList>(ClientList{{client.public_key, {"reporting", "reader"}}});
  auto source = publishing_source(dir.sub("store"), endpoints, blog_domain(), curve_publish(server, clients));
  for (int i = 0; i < 100; ++i) create_user(source, i);

  auto sub = Subscriber::connect(keyed(endpoints, server.public_key, client)).value();
  CHECK(take(*sub, 100).back().event.position == 100);
  wait_until_live(*sub);
  for (int i = 100; i < 150; ++i) create_user(source, i);
  auto live = take(*sub, 50);
  CHECK(consecutive(live, 101));
  expect_quiet(*sub);
  CHECK(sub->stats().replayed >= 100);
  CHECK(sub->stats().live >= 50);
  CHECK(sub->stats().delivered == 150);
  REQUIRE(sub->actor().has_value());
  CHECK(*sub->actor() == ClientActor{"reporting", "reader"});
}

TEST_CASE("with CURVE and no allow-list, any client that knows the server's key is served, as no actor") {
  TempDir dir;
  auto endpoints = tcp_endpoints();
  auto server = fresh_keys();
  auto source = publishing_source(dir.sub("store"), endpoints, blog_domain(), curve_publish(server, nullptr));
  for (int i = 0; i < 10; ++i) create_user(source, i);
  auto sub = Subscriber::connect(keyed(endpoints, server.public_key, {})).value();  // a fresh client pair
  CHECK(consecutive(take(*sub, 10), 1));
  CHECK_FALSE(sub->actor().has_value());
}

TEST_CASE("a plain client and one with a wrong server key get nothing from a CURVE server, which serves others") {
  TempDir dir;
  auto endpoints = tcp_endpoints();
  auto server = fresh_keys(), client = fresh_keys();
  auto clients = std::make_shared<ClientAllowList>(ClientList{{client.public_key, {"reporting", ""}}});
  auto source = publishing_source(dir.sub("store"), endpoints, blog_domain(), curve_publish(server, clients));
  for (int i = 0; i < 10; ++i) create_user(source, i);

  auto plain = Subscriber::connect({.publish = endpoints.publish, .replay = endpoints.replay,
                                    .connect_timeout = 500ms});
  REQUIRE_FALSE(plain.has_value());
  CHECK(plain.error().cls == ErrorClass::unknown);
  CHECK(plain.error().message == no_answer(endpoints, 500, false));

  auto wrong = Subscriber::connect(keyed(endpoints, fresh_keys().public_key, client, 500ms));
  REQUIRE_FALSE(wrong.has_value());
  CHECK(wrong.error().message == no_answer(endpoints, 500, true));

  // A raw plain SUB socket on the live stream: not even a heartbeat in half a second.
  RawSubscriber raw(endpoints.publish, "");
  for (int i = 10; i < 20; ++i) create_user(source, i);
  CHECK(raw.receive(1, 500ms).empty());
  CHECK(raw.heartbeats.empty());

  auto good = Subscriber::connect(keyed(endpoints, server.public_key, client)).value();
  CHECK(consecutive(take(*good, 20), 1));
}

TEST_CASE("a stranger's key is refused at the handshake and logged once, however often it comes back") {
  TempDir dir;
  auto endpoints = tcp_endpoints();
  auto server = fresh_keys(), client = fresh_keys(), stranger = fresh_keys();
  LogLines log;
  auto clients = std::make_shared<ClientAllowList>(ClientList{{client.public_key, {"reporting", ""}}}, log.fn());
  auto source = publishing_source(dir.sub("store"), endpoints, blog_domain(), curve_publish(server, clients));
  create_user(source, 0);

  // Each attempt handshakes with both sockets, and ZeroMQ reconnects while it waits.
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto refused = Subscriber::connect(keyed(endpoints, server.public_key, stranger, 400ms));
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().message == no_answer(endpoints, 400, true));
  }
  CHECK(log.snapshot() == std::vector<std::string>{refused_line(stranger)});
  auto good = Subscriber::connect(keyed(endpoints, server.public_key, client)).value();
  CHECK(take(*good, 1).front().event.position == 1);
  CHECK(log.snapshot().size() == 1);
}

TEST_CASE("the allow-list file is read again when it changes: an added key connects, a removed one is refused") {
  TempDir dir;
  auto endpoints = tcp_endpoints();
  auto server = fresh_keys(), a = fresh_keys(), b = fresh_keys();
  std::string path = dir.sub("clients.json");
  write_clients(path, "{" + entry(a, "alice") + "}");
  LogLines log;
  auto clients = ClientAllowList::from_file(path, log.fn()).value();
  auto source = publishing_source(dir.sub("store"), endpoints, blog_domain(), curve_publish(server, clients));
  create_user(source, 0);

  CHECK_FALSE(Subscriber::connect(keyed(endpoints, server.public_key, b, 400ms)).has_value());
  write_clients(path, "{" + entry(b, "bob") + "}");
  auto bob = Subscriber::connect(keyed(endpoints, server.public_key, b)).value();
  CHECK(bob->actor()->id == "bob");
  CHECK(take(*bob, 1).front().event.position == 1);
  CHECK_FALSE(Subscriber::connect(keyed(endpoints, server.public_key, a, 400ms)).has_value());

  // A file that no longer parses keeps the list it replaced, and says so once.
  write_clients(path, "{\"not a key\": {}}");
  CHECK(Subscriber::connect(keyed(endpoints, server.public_key, b)).has_value());
  CHECK(Subscriber::connect(keyed(endpoints, server.public_key, b)).has_value());
  auto lines = log.snapshot();
  CHECK(std::count(lines.begin(), lines.end(),
                   "kept the previous client list: the client list's key \"not a key\" is not a CURVE public key "
                   "(40 characters of Z85) (" + path + ")") == 1);
  CHECK(std::count(lines.begin(), lines.end(), refused_line(a)) == 1);
  CHECK(std::count(lines.begin(), lines.end(), refused_line(b)) == 1);  // before bob was added
}

TEST_CASE("replace and reload change the allow-list of a running service, and a failed reload keeps the old one") {
  TempDir dir;
  auto endpoints = tcp_endpoints();
  auto server = fresh_keys(), a = fresh_keys();
  LogLines log;
  auto clients = std::make_shared<ClientAllowList>(ClientList{{a.public_key, {"alice", ""}}}, log.fn());
  auto source = publishing_source(dir.sub("store"), endpoints, blog_domain(), curve_publish(server, clients));
  create_user(source, 0);
  CHECK(Subscriber::connect(keyed(endpoints, server.public_key, a)).has_value());
  clients->replace({});
  CHECK_FALSE(Subscriber::connect(keyed(endpoints, server.public_key, a, 400ms)).has_value());
  CHECK(log.snapshot() == std::vector<std::string>{refused_line(a)});

  auto no_file = clients->reload();
  REQUIRE_FALSE(no_file.has_value());
  CHECK(no_file.error().message == "this client list has no file");

  std::string path = dir.sub("clients.json");
  write_clients(path, "{" + entry(a, "alice") + "}");
  auto from_file = ClientAllowList::from_file(path).value();
  write_clients(path, "[]");
  auto bad = from_file->reload();
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message == "the client list is not a JSON object of public keys (" + path + ")");
  CHECK(from_file->clients().size() == 1);  // kept
  write_clients(path, "{}");
  CHECK(from_file->reload().has_value());
  CHECK(from_file->clients().empty());
}

TEST_CASE("a client list that is not what it should be is refused, naming the problem") {
  auto message = [](std::string_view text) { return parse_client_list(text).error().message; };
  std::string key = fresh_keys().public_key;
  CHECK(message("{") == "the client list is not JSON");
  CHECK(message("[1]") == "the client list is not a JSON object of public keys");
  CHECK(message(R"({"abc": {"id": "x"}})") ==
        "the client list's key \"abc\" is not a CURVE public key (40 characters of Z85)");
  CHECK(message("{\"" + key + "\": {\"role\": \"x\"}}") == "the client list's entry for " + key + " has no \"id\" string");
  CHECK(message("{\"" + key + "\": {\"id\": \"x\", \"role\": 3}}") ==
        "the client list's entry for " + key + " has a \"role\" that is not a string");
  auto parsed = parse_client_list("{\"" + key + "\": {\"id\": \"x\"}}").value();
  CHECK(parsed == ClientList{{key, {"x", ""}}});

  auto missing = ClientAllowList::from_file("/nonexistent/clients.json");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().message ==
        "cannot read the client list /nonexistent/clients.json: No such file or directory");
}

TEST_CASE("bad CURVE keys stop a server from starting and a subscriber from connecting, naming the key") {
  TempDir dir;
  auto endpoints = tcp_endpoints();
  auto log = Log::open(dir.sub("store")).value();
  auto server = fresh_keys(), other = fresh_keys();
  auto start = [&](CurveKeyPair keys) {
    return PublishService::start(*log, blog_domain(),
                                 {.endpoints = {endpoints.publish}, .curve = {.keys = std::move(keys)}});
  };
  CHECK(start({"short", server.secret_key}).error().message ==
        "the publisher's CURVE keys are not 40 characters of Z85 each");
  CHECK(start({other.public_key, server.secret_key}).error().message ==
        "the publisher's CURVE public key is not its secret key's");
  auto replay = ReplayService::start(*log, {.endpoint = endpoints.replay, .curve = {.keys = {server.public_key, ""}}});
  CHECK(replay.error().message == "the replay service's CURVE keys are not 40 characters of Z85 each");

  auto sub = Subscriber::connect({.publish = endpoints.publish, .replay = endpoints.replay, .server_key = "nope"});
  REQUIRE_FALSE(sub.has_value());
  CHECK(sub.error().cls == ErrorClass::framework);
  CHECK(sub.error().message == "the server's public key is not a CURVE key (40 characters of Z85)");
  auto mismatched = Subscriber::connect({.publish = endpoints.publish, .replay = endpoints.replay,
                                         .server_key = server.public_key, .client_keys = {other.public_key,
                                                                                          server.secret_key}});
  CHECK(mismatched.error().message == "the client's CURVE public key is not its secret key's");
}

TEST_CASE("key files: the secret one mode 0600, read back as the pair, never overwritten") {
  TempDir dir;
  std::string path = dir.sub("server.key");
  auto keys = fresh_keys();
  REQUIRE(write_key_pair(path, keys).has_value());
  CHECK((std::filesystem::status(path).permissions() & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  auto read = read_key_pair(path).value();
  CHECK(read.public_key == keys.public_key);
  CHECK(read.secret_key == keys.secret_key);
  CHECK(read_public_key(path + ".pub").value() == keys.public_key);

  auto again = write_key_pair(path, fresh_keys());
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error().code == codes::kAlreadyExists);
  CHECK(again.error().message == path + " already exists; a key is never overwritten");
  CHECK(read_key_pair(path).value().secret_key == keys.secret_key);

  std::ofstream(dir.sub("junk")) << "not a key\n";
  CHECK(read_key_pair(dir.sub("junk")).error().message ==
        "the key file " + dir.sub("junk") + " does not hold a CURVE key (40 characters of Z85)");
  CHECK(read_public_key(dir.sub("absent")).error().message ==
        "cannot read the key file " + dir.sub("absent") + ": No such file or directory");
}

TEST_CASE("CURVE servers of one ZeroMQ context share its ZAP handler, which starts again after the last one stopped") {
  TempDir dir;
  auto context = std::make_shared<ZmqContext>();
  auto server = fresh_keys(), client = fresh_keys();
  auto clients = std::make_shared<ClientAllowList>(ClientList{{client.public_key, {"reporting", ""}}});
  for (int round = 0; round < 3; ++round) {
    auto endpoints = tcp_endpoints();
    PublishOptions options = curve_publish(server, clients);
    options.context = context;
    auto source = publishing_source(dir.sub("store" + std::to_string(round)), endpoints, blog_domain(), options);
    create_user(source, 0);
    auto sub = Subscriber::connect(keyed(endpoints, server.public_key, client)).value();
    CHECK(take(*sub, 1).front().event.position == 1);
  }
}
