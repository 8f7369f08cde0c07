// The helpdesk served over HTTP: its representatives and tickets as a JSON:API, with the
// routes AshJsonApi would declare for them. A new store gets two representatives and a
// few tickets to read.
//
//   build/bin/helpdesk_api ./helpdesk-data --port 8080
//   curl -s 'http://127.0.0.1:8080/tickets?sort=-severity&include=representative'
//
// Reads are open to anyone; writes need `Authorization: Bearer NAME` (NAME is the actor
// the events record), and the bearer "guest" may only read.

#include "domain.hpp"

#include <ashlar/http/server.hpp>

#include <csignal>
#include <cstring>
#include <iostream>
#include <string>

namespace {

using namespace ashlar;

http::Api helpdesk_routes() {
  http::Api api;
  api.resource("Ticket", "ticket", "/tickets")
      .get("read")
      .index("read")
      .post("open")
      .patch("update")
      .destroy("destroy")
      .related("representative", "read")
      .route("POST", "/escalate_all", "escalate_all");
  api.resource("Representative", "representative", "/representatives")
      .get("read")
      .index("read")
      .post("create")
      .patch("update")
      .destroy("destroy")
      .related("tickets", "read")
      .related("tickets_above_threshold", "read");
  return api;
}

Result<Value> authenticate(const http::RequestInfo& request) {
  std::string authorization = request.header("Authorization");
  bool writes = request.method != "GET";
  if (authorization.empty()) {
    if (!writes) return Value();
    return fail(Error::unknown("send Authorization: Bearer NAME to change the helpdesk"));
  }
  if (!authorization.starts_with("Bearer ") || authorization.size() == 7)
    return fail(Error::unknown("Authorization must be \"Bearer NAME\""));
  std::string name = authorization.substr(7);
  if (writes && name == "guest") return fail(Error::forbidden({}, {}, "guest may only read"));
  return Value(name);
}

// A new store's representatives and tickets.
void seed(Engine& engine) {
  if (!engine.read("Representative", {.limit = 1}).value().empty()) return;
  const CallOptions as_desk{.actor = "helpdesk-api"};
  auto rita = engine.create("Representative", {{"name", "Rita"}}, as_desk).value();
  auto sam = engine.create("Representative", {{"name", "Sam"}, {"severity_threshold", 3}}, as_desk).value();
  struct Row {
    const char* reference;
    const char* subject;
    const char* priority;
    int severity;
    const Record& rep;
  };
  for (const Row& row : {Row{"HD-1001", "Printer on fire", "high", 4, rita},
                         Row{"HD-1002", "Password reset", "low", 1, rita},
                         Row{"HD-1003", "VPN drops every hour", "medium", 3, rita},
                         Row{"HD-1004", "Laptop will not boot", "high", 3, sam},
                         Row{"HD-1005", "New monitor", "low", 2, sam}})
    engine
        .create("Ticket",
                {{"reference", row.reference}, {"subject", row.subject}, {"priority", row.priority},
                 {"severity", row.severity}, {"representative_id", row.rep.id()}},
                {.action = "open", .actor = as_desk.actor})
        .value();
}

int usage(const char* program) {
  std::cerr << "usage: " << program << " DIR [--port N] [--host ADDRESS]\n"
            << "  serves the helpdesk in DIR (created if missing) as a JSON:API; port 0 (the\n"
            << "  default) picks a free one. Stops on SIGINT or SIGTERM.\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') return usage(argv[0]);
  // The engine wakes the GET /events streams when it commits.
  auto signal = std::make_shared<http::EventSignal>();
  http::ServerOptions options{.authenticate = authenticate, .events = signal};
  for (int i = 2; i < argc; i += 2) {
    if (i + 1 >= argc) return usage(argv[0]);
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--host") options.host = value;
    else if (flag == "--port" && value.find_first_not_of("0123456789") == std::string::npos && value.size() <= 5)
      options.port = std::stoi(value);
    else return usage(argv[0]);
  }
  // Blocked before the server's threads start, so only sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto engine = Engine::open(argv[1], helpdesk::helpdesk_domain(), {.notifiers = {signal}});
  if (!engine) {
    std::cerr << "helpdesk_api: " << engine.error().describe() << "\n";
    return 1;
  }
  try {
    seed(*engine);
  } catch (const std::exception& e) {
    std::cerr << "helpdesk_api: " << e.what() << "\n";
    return 1;
  }
  auto server = http::Server::start(*engine, helpdesk_routes(), options);
  if (!server) {
    std::cerr << "helpdesk_api: " << server.error().describe() << "\n";
    return 1;
  }
  std::cout << "helpdesk_api listening on http://" << options.host << ":" << server->port() << std::endl;
  int received = 0;
  sigwait(&stop_signals, &received);
  server->stop();
  std::cout << "helpdesk_api stopped (" << strsignal(received) << ")" << std::endl;
  return 0;
}
