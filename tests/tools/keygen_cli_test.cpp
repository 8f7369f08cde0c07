// ashlar keygen, and ashlar subscribe speaking CURVE with the keys it writes, against an
// engine that publishes on tcp loopback.
#include <ashlar/engine.hpp>

#include "support/blog_domain.hpp"
#include "support/run_cli.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

namespace {

using namespace ashlar;
using nlohmann::json;
using test::TempDir;
namespace fs = std::filesystem;

std::string trimmed(std::string text) {
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

fs::perms mode(const std::string& path) { return fs::status(path).permissions() & fs::perms::all; }

std::string free_endpoint() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return "tcp://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
}

}  // namespace

TEST_CASE("ashlar keygen writes the secret key mode 0600 and PATH.pub, and prints the public key") {
  TempDir dir;
  std::string path = dir.sub("client.key");
  auto run = test::run_ashlar({"keygen", path});
  INFO(run.err);
  REQUIRE(run.code == 0);
  CHECK(run.err.empty());
  REQUIRE(run.out_lines.size() == 1);
  CHECK(run.out_lines[0].size() == 40);
  CHECK(trimmed(test::read_file(path + ".pub")) == run.out_lines[0]);
  CHECK(trimmed(test::read_file(path)).size() == 40);
  CHECK(trimmed(test::read_file(path)) != run.out_lines[0]);
  CHECK(mode(path) == (fs::perms::owner_read | fs::perms::owner_write));
  CHECK(read_key_pair(path).value().public_key == run.out_lines[0]);
}

TEST_CASE("ashlar keygen never overwrites a key file, secret or public") {
  TempDir dir;
  std::string path = dir.sub("server.key");
  REQUIRE(test::run_ashlar({"keygen", path}).code == 0);
  std::string secret = test::read_file(path), pub = test::read_file(path + ".pub");
  auto again = test::run_ashlar({"keygen", path});
  CHECK(again.code == 1);
  CHECK(again.out.empty());
  CHECK(again.err_lines == std::vector<std::string>{"ashlar: " + path + " already exists; a key is never overwritten"});
  CHECK(test::read_file(path) == secret);
  CHECK(test::read_file(path + ".pub") == pub);

  // Only the public half there: nothing written either.
  std::string other = dir.sub("other.key");
  { std::ofstream(other + ".pub") << "x\n"; }
  auto half = test::run_ashlar({"keygen", other});
  CHECK(half.code == 1);
  CHECK(half.err_lines ==
        std::vector<std::string>{"ashlar: " + other + ".pub already exists; a key is never overwritten"});
  CHECK_FALSE(fs::exists(other));
}

TEST_CASE("ashlar subscribe --server-key --client-key reads a CURVE engine's stream, and without the keys gets nothing") {
  TempDir dir;
  REQUIRE(test::run_ashlar({"keygen", dir.sub("server.key")}).code == 0);
  auto client = test::run_ashlar({"keygen", dir.sub("client.key")});
  REQUIRE(client.code == 0);
  { std::ofstream(dir.sub("clients.json")) << json{{client.out_lines[0], {{"id", "cli"}}}}.dump(); }
  std::string pub = free_endpoint(), replay = free_endpoint();
  auto engine = Engine::open(dir.sub("store"), test::blog_domain(),
                             {.publish = {.endpoints = {pub},
                                          .replay = replay,
                                          .curve = {.keys = read_key_pair(dir.sub("server.key")).value(),
                                                    .clients = ClientAllowList::from_file(dir.sub("clients.json"))
                                                                   .value()}}})
                    .value();
  for (int i = 0; i < 3; ++i) engine.create("User", {{"name", "user " + std::to_string(i)}}).value();

  auto keyed = test::run_ashlar({"subscribe", "--pub", pub, "--replay", replay, "--from", "1", "--count", "3", "--json",
                                 "--server-key", dir.sub("server.key.pub"), "--client-key", dir.sub("client.key")});
  INFO(keyed.err);
  REQUIRE(keyed.code == 0);
  REQUIRE(keyed.out_lines.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) CHECK(json::parse(keyed.out_lines[i])["position"] == i + 1);

  auto plain = test::run_ashlar(
      {"subscribe", "--pub", pub, "--replay", replay, "--from", "1", "--count", "3", "--connect-timeout", "300"});
  CHECK(plain.code == 1);
  CHECK(plain.out.empty());
  CHECK(plain.err_lines ==
        std::vector<std::string>{"ashlar: the replay service at " + replay + " did not answer within 300 ms"});

  // A fresh client key, which the allow-list does not hold.
  auto stranger = test::run_ashlar({"subscribe", "--pub", pub, "--replay", replay, "--from", "1", "--count", "3",
                                    "--connect-timeout", "300", "--server-key", dir.sub("server.key.pub")});
  CHECK(stranger.code == 1);
  CHECK(stranger.err_lines ==
        std::vector<std::string>{"ashlar: the replay service at " + replay +
                                 " did not answer within 300 ms (with CURVE: check the server's public key, and "
                                 "that this client's key is on its allow-list)"});

  auto no_server_key = test::run_ashlar(
      {"subscribe", "--pub", pub, "--replay", replay, "--client-key", dir.sub("client.key")});
  CHECK(no_server_key.code == 2);
  CHECK(no_server_key.err_lines ==
        std::vector<std::string>{"ashlar: --client-key requires --server-key (see ashlar --help)"});

  auto missing = test::run_ashlar(
      {"subscribe", "--pub", pub, "--replay", replay, "--server-key", dir.sub("absent.pub")});
  CHECK(missing.code == 1);
  CHECK(missing.err_lines == std::vector<std::string>{"ashlar: cannot read the key file " + dir.sub("absent.pub") +
                                                      ": No such file or directory"});
}
