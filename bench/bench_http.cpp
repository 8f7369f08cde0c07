// bench_http: the helpdesk's JSON:API under load from wrk (keep-alive connections), against
// the same HTTP library configured the same way answering a constant body of the same
// size, in the same run; and POST /tickets against the engine's own durable create rate
// from as many callers as wrk has connections (group commit).
//
//   bench_http [SECONDS [CONNECTIONS]]     (defaults 3 and 8)
//
// Needs wrk (scripts/install-deps.sh bench). Durability is the engine's default: sync.

#include "bench_support.hpp"
#include "domain.hpp"

#include <ashlar/http/server.hpp>

#include <httplib.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using ashlar::bench::parse_count;
using ashlar::bench::TempDir;

// POST bodies: a new reference per request (the reference is an identity), per wrk thread.
const char* kPostScript = R"lua(
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
local n = 0
function request()
  n = n + 1
  local body = string.format(
    '{"data":{"type":"ticket","attributes":{"reference":"W-%d-%d","subject":"Benchmark ticket","severity":2}}}',
    tid, n)
  return wrk.format("POST", "/tickets", {["Content-Type"] = "application/vnd.api+json"}, body)
end
)lua";

// Requests per second wrk measured, from its "Requests/sec:" line; throws when it failed.
double wrk(const std::string& url, int seconds, std::size_t connections, const std::string& script = {}) {
  std::string command = "wrk -t2 -c" + std::to_string(connections) + " -d" + std::to_string(seconds) + "s " +
                        (script.empty() ? "" : "-s " + script + " ") + url + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run wrk");
  std::string output;
  char buffer[512];
  while (fgets(buffer, sizeof buffer, pipe)) output += buffer;
  int status = pclose(pipe);
  auto at = output.find("Requests/sec:");
  if (status != 0 || at == std::string::npos) throw std::runtime_error("wrk failed: " + command + "\n" + output);
  if (output.find("Non-2xx") != std::string::npos) throw std::runtime_error("the server refused requests:\n" + output);
  return std::stod(output.substr(at + 13));
}

// The constant server: cpp-httplib as ashlar::http::Server sets it up (keep-alive, pool,
// timeouts), each route answering a fixed body of the given size.
class ConstantServer {
 public:
  ConstantServer(std::size_t get_size, std::size_t post_size, std::size_t threads)
      : get_body_(get_size, 'x'), post_body_(post_size, 'x') {
    server_.set_keep_alive_max_count(1000);
    server_.set_tcp_nodelay(true);
    server_.set_keep_alive_timeout(10);
    server_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    server_.Get("/tickets/([^/]+)", [this](const httplib::Request&, httplib::Response& res) {
      res.set_header("ETag", "\"1\"");
      res.set_content(get_body_, "application/vnd.api+json");
    });
    server_.Post("/tickets", [this](const httplib::Request&, httplib::Response& res) {
      res.status = 201;
      res.set_header("ETag", "\"1\"");
      res.set_header("Location", "/tickets/00000000-0000-0000-0000-000000000000");
      res.set_content(post_body_, "application/vnd.api+json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~ConstantServer() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }

 private:
  std::string get_body_, post_body_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

// Durable creates straight through the engine from `callers` threads for `seconds`.
double engine_creates(ashlar::Engine& engine, int seconds, std::size_t callers) {
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> done{0};
  std::vector<std::thread> threads;
  auto start = std::chrono::steady_clock::now();
  for (std::size_t t = 0; t < callers; ++t)
    threads.emplace_back([&, t] {
      for (std::size_t i = 0; !stop; ++i) {
        std::string reference = "E-" + std::to_string(t) + "-" + std::to_string(i);
        engine.create("Ticket", {{"reference", reference}, {"subject", "Benchmark ticket"}, {"severity", 2}}).value();
        ++done;
      }
    });
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  return static_cast<double>(done) / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t seconds = 3, connections = 8;
  if (argc > 3 || (argc > 1 && !parse_count(argv[1], seconds)) || (argc > 2 && !parse_count(argv[2], connections))) {
    std::fprintf(stderr, "usage: %s [SECONDS [CONNECTIONS]]\n  wrk against the helpdesk's JSON:API (defaults 3, 8)\n",
                 argv[0]);
    return 2;
  }
  if (std::system("command -v wrk >/dev/null 2>&1") != 0) {
    std::fprintf(stderr, "bench_http: wrk is not installed (scripts/install-deps.sh bench installs it)\n");
    return 1;
  }
  try {
    TempDir dir;
    auto engine = ashlar::Engine::open(dir.path(), helpdesk::helpdesk_domain()).value();
    auto rep = engine.create("Representative", {{"name", "Rita"}}).value();
    auto ticket = engine
                      .create("Ticket", {{"reference", "HD-1001"}, {"subject", "Printer on fire"},
                                         {"severity", 4}, {"representative_id", rep.id()}})
                      .value();
    // The example's routes for tickets; POST runs the default create action (the example's
    // `open` takes only HD-dddd references: 10,000 of them).
    ashlar::http::Api api;
    api.resource("Ticket", "ticket", "/tickets").get("read").index("read").post("create");
    api.resource("Representative", "representative", "/representatives").get("read");
    ashlar::http::ServerOptions options;
    auto server = ashlar::http::Server::start(engine, api, options).value();
    std::string base = "http://127.0.0.1:" + std::to_string(server.port());
    std::string get_path = "/tickets/" + ticket.id().as_uuid()->str();

    httplib::Client client("127.0.0.1", server.port());
    auto got = client.Get(get_path);
    auto posted = client.Post("/tickets", R"({"data":{"type":"ticket","attributes":{"reference":"S-1","subject":"Sizing"}}})",
                              "application/vnd.api+json");
    if (!got || got->status != 200 || !posted || posted->status != 201)
      throw std::runtime_error("the server did not answer the sizing requests");
    ConstantServer constant(got->body.size(), posted->body.size(), CPPHTTPLIB_THREAD_POOL_COUNT + options.max_event_streams);
    std::string constant_base = "http://127.0.0.1:" + std::to_string(constant.port());

    std::string script = dir.sub("post.lua");
    std::ofstream(script) << kPostScript;
    int s = static_cast<int>(seconds);
    std::printf("bench_http: wrk -t2 -c%zu -d%ds, keep-alive; bodies GET %zu bytes, POST %zu bytes\n", connections, s,
                got->body.size(), posted->body.size());
    double constant_get = wrk(constant_base + get_path, s, connections);
    double api_get = wrk(base + get_path, s, connections);
    std::printf("GET /tickets/:id   %10.0f req/s   constant body %10.0f req/s   ratio %.2fx\n", api_get, constant_get,
                api_get / constant_get);
    double constant_post = wrk(constant_base + "/tickets", s, connections, script);
    double api_post = wrk(base + "/tickets", s, connections, script);
    double direct = engine_creates(engine, s, connections);
    std::printf("POST /tickets      %10.0f req/s   constant body %10.0f req/s   ratio %.2fx\n", api_post, constant_post,
                api_post / constant_post);
    std::printf("POST /tickets      %10.0f req/s   engine.create from %zu threads (durable) %10.0f /s   ratio %.2fx\n",
                api_post, connections, direct, api_post / direct);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_http: %s\n", e.what());
    return 1;
  }
  return 0;
}
