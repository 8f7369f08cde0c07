#pragma once
// A JSON:API over HTTP, derived from the resources and the routes declared for them (after
// AshJsonApi's `json_api do routes do ... end end`), served by the program that owns the
// Engine:
//
//   http::Api api;
//   api.resource("Ticket", "ticket", "/tickets")
//       .get("read").index("read").post("open").patch("update").destroy("destroy")
//       .related("representative", "read")
//       .route("POST", "/escalate_all", "escalate_all");
//   auto server = http::Server::start(engine, api, {.port = 8080}).value();

#include <ashlar/engine.hpp>
#include <ashlar/model/export.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace ashlar::http {

enum class RouteKind { get, index, post, patch, destroy, related, route };

// One route: what it answers and the action it runs.
struct ASHLAR_API Route {
  RouteKind kind = RouteKind::get;
  std::string action{};        // the action's name on the resource
  std::string relationship{};  // related: the relationship whose records it returns
  std::string method{};        // route: GET, POST, PATCH or DELETE
  std::string path{};          // route: below the resource's base path, e.g. "/escalate_all"
};

// The routes of one resource, under `base` ("/tickets"), its records typed `type`.
//   get      GET    base/:id         a read action, one record
//   index    GET    base             a read action: filter, sort, page, include, fields
//   post     POST   base             a create action
//   patch    PATCH  base/:id         an update action (If-Match: the expected version)
//   destroy  DELETE base/:id         a destroy action (If-Match as for patch)
//   related  GET    base/:id/NAME    the records of relationship NAME of the record that
//                                    `action` (a read action of this resource) finds
//   route    METHOD base/PATH        a generic action: `data` of the body are its
//                                    arguments, its result is the response's `data`
class ASHLAR_API ResourceRoutes {
 public:
  ResourceRoutes(std::string resource, std::string type, std::string base)
      : resource_(std::move(resource)), type_(std::move(type)), base_(std::move(base)) {}

  ResourceRoutes& get(std::string action) { return add({RouteKind::get, std::move(action)}); }
  ResourceRoutes& index(std::string action) { return add({RouteKind::index, std::move(action)}); }
  ResourceRoutes& post(std::string action) { return add({RouteKind::post, std::move(action)}); }
  ResourceRoutes& patch(std::string action) { return add({RouteKind::patch, std::move(action)}); }
  ResourceRoutes& destroy(std::string action) { return add({RouteKind::destroy, std::move(action)}); }
  ResourceRoutes& related(std::string relationship, std::string action) {
    return add({RouteKind::related, std::move(action), std::move(relationship)});
  }
  ResourceRoutes& route(std::string method, std::string path, std::string action) {
    return add({RouteKind::route, std::move(action), {}, std::move(method), std::move(path)});
  }

  const std::string& resource() const { return resource_; }
  const std::string& type() const { return type_; }
  const std::string& base() const { return base_; }
  const std::vector<Route>& routes() const { return routes_; }
  // The route of `kind` (for related: of that relationship), or nullptr.
  const Route* find(RouteKind kind, std::string_view relationship = {}) const;

 private:
  ResourceRoutes& add(Route route) {
    routes_.push_back(std::move(route));
    return *this;
  }
  std::string resource_, type_, base_;
  std::vector<Route> routes_;
};

// Every resource's routes. Server::start checks them against the domain.
class ASHLAR_API Api {
 public:
  // Declares the routes of `resource`; its records are typed `type` in documents.
  ResourceRoutes& resource(std::string resource, std::string type, std::string base);
  const std::vector<ResourceRoutes>& resources() const { return resources_; }
  // The routes of the resource named `resource` (or whose JSON:API type is `type`).
  const ResourceRoutes* by_resource(std::string_view resource) const;
  const ResourceRoutes* by_type(std::string_view type) const;

 private:
  std::vector<ResourceRoutes> resources_;
};

// What the authentication callback sees of a request.
struct ASHLAR_API RequestInfo {
  std::string method;
  std::string path;
  std::multimap<std::string, std::string> headers;  // names as sent; look up with header()
  // The first value of header `name` (case-insensitive), or "" when absent.
  std::string header(std::string_view name) const;
};

// Wakes the `GET /events` streams when events are committed: give the same object to the
// engine (Options::notifiers) and to the server (ServerOptions::events). notify() only
// records the newest position and wakes the waiting streams; each stream reads the events
// from the log on its own connection's thread, so a slow client never holds up a commit.
class ASHLAR_API EventSignal final : public Notifier {
 public:
  void notify(std::span<const StoredEvent> events) override;
  // Returns the newest committed position known once it is past `after`, or when `timeout`
  // has passed (then it may still be `after` or less).
  std::uint64_t wait(std::uint64_t after, std::chrono::milliseconds timeout);

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::uint64_t last_ = 0;
};

// Who a request is: the actor its actions run as (nil: anonymous), and its tenant when
// the authentication decides it (nullopt: the request's X-Tenant header, if any).
struct ASHLAR_API Principal {
  Principal() = default;
  Principal(Value actor, std::optional<std::string> tenant = std::nullopt)
      : actor(std::move(actor)), tenant(std::move(tenant)) {}
  Value actor{};
  std::optional<std::string> tenant{};
};

// Turns a request into its Principal, or into the actor alone (a callable returning
// Result<Value>: the tenant is then the X-Tenant header). An error of class Forbidden
// answers 403, any other error 401; the error's message is the response's detail.
// A principal's tenant is the request's tenant: a request whose X-Tenant header names
// another is refused with 403. A callback that leaves the tenant to the header and serves
// several tenants refuses, with Forbidden, a tenant its actor does not belong to.
class ASHLAR_API Authenticate {
 public:
  Authenticate() = default;
  template <typename F>
    requires std::is_invocable_r_v<Result<Principal>, const F&, const RequestInfo&>
  Authenticate(F callback) : callback_(std::move(callback)) {}
  template <typename F>
    requires(!std::is_invocable_r_v<Result<Principal>, const F&, const RequestInfo&> &&
             std::is_invocable_r_v<Result<Value>, const F&, const RequestInfo&>)
  Authenticate(F callback)
      : callback_([callback = std::move(callback)](const RequestInfo& request) -> Result<Principal> {
          Result<Value> actor = callback(request);
          if (!actor) return fail(actor.error());
          return Principal(std::move(*actor));
        }) {}

  explicit operator bool() const { return static_cast<bool>(callback_); }
  Result<Principal> operator()(const RequestInfo& request) const { return callback_(request); }

 private:
  std::function<Result<Principal>(const RequestInfo&)> callback_;
};

struct ASHLAR_API ServerOptions {
  std::string host = "127.0.0.1";  // the address to bind; "0.0.0.0" for every interface
  int port = 0;                    // 0: a free port, see Server::port()
  // Bodies larger than this are refused with 413 before they are read in full.
  std::size_t max_body = std::size_t{1} << 20;
  // Records per index page when the request names no page[limit]; at most max_page.
  std::size_t default_page = 50;
  std::size_t max_page = 1000;
  // Seconds a connection may take to send a request, or stay idle between two.
  int read_timeout = 10;
  // Requests one keep-alive connection may send before the server closes it (each open
  // connection holds one of the server's threads while it stays open).
  std::size_t keep_alive_requests = 1000;
  // Empty: every request is anonymous (a nil actor).
  Authenticate authenticate{};
  // GET /events: streams open at once; one more is refused with 503.
  std::size_t max_event_streams = 8;
  // GET /events: a comment line (": heartbeat") after this long without an event.
  std::chrono::milliseconds heartbeat{15000};
  // GET /events: woken by it when events are committed; without it (nullptr) each stream
  // looks at the log every `poll` instead.
  std::shared_ptr<EventSignal> events{};
  std::chrono::milliseconds poll{250};
};

// An HTTP server on its own threads (one per connection, from a pool), answering the
// routes of `api` with `engine`, which must outlive it, and GET /events: the log as
// Server-Sent Events (`?from=POS`, `Last-Event-ID`, `resource=`, `tenant=`), each event as
// `ashlar log --json` prints it, only those the request's actor may read (README, "HTTP API").
class ASHLAR_API Server {
 public:
  // Checks the routes against the engine's domain (Framework, naming the resource and
  // route, for an unknown resource, action or relationship, an action of the wrong type,
  // a duplicate type or base path) and binds host:port (Unknown, naming them, when that
  // fails), then serves until stop() or destruction.
  static Result<Server> start(Engine& engine, const Api& api, ServerOptions options = {});

  Server(Server&&) noexcept;
  Server& operator=(Server&&) noexcept;
  ~Server();  // stops

  // The bound port (the chosen one when options.port was 0).
  int port() const;
  // Stops accepting, finishes the requests in progress, and joins the threads. Idempotent.
  void stop();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ashlar::http
