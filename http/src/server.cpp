#include "events.hpp"
#include "handlers.hpp"
#include "openapi.hpp"

#include <ashlar/http/server.hpp>

#include <httplib.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <regex>
#include <set>
#include <strings.h>
#include <thread>

namespace ashlar::http {

const Route* ResourceRoutes::find(RouteKind kind, std::string_view relationship) const {
  for (const auto& route : routes_)
    if (route.kind == kind && (kind != RouteKind::related || route.relationship == relationship)) return &route;
  return nullptr;
}

ResourceRoutes& Api::resource(std::string resource, std::string type, std::string base) {
  return resources_.emplace_back(std::move(resource), std::move(type), std::move(base));
}

const ResourceRoutes* Api::by_resource(std::string_view resource) const {
  for (const auto& r : resources_)
    if (r.resource() == resource) return &r;
  return nullptr;
}

const ResourceRoutes* Api::by_type(std::string_view type) const {
  for (const auto& r : resources_)
    if (r.type() == type) return &r;
  return nullptr;
}

std::string RequestInfo::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (key.size() == name.size() && strncasecmp(key.data(), name.data(), name.size()) == 0) return value;
  return {};
}

namespace {

const char* kJsonApi = "application/vnd.api+json";

ActionType action_type(RouteKind kind) {
  switch (kind) {
    case RouteKind::post: return ActionType::create;
    case RouteKind::patch: return ActionType::update;
    case RouteKind::destroy: return ActionType::destroy;
    case RouteKind::route: return ActionType::generic;
    default: return ActionType::read;
  }
}

bool valid_path(const std::string& path) {
  static const std::regex pattern("(/[A-Za-z0-9_-]+)+");
  return std::regex_match(path, pattern);
}

Result<void> check_route(const Resource& resource, const Route& route) {
  std::string where = "routes of " + resource.name() + ": ";
  const Action* action = resource.action(route.action);
  if (!action) return fail(Error::framework(where + "no action \"" + route.action + "\""));
  if (action->type != action_type(route.kind))
    return fail(Error::framework(where + "action \"" + route.action + "\" is not a " +
                                 to_string(action_type(route.kind)) + " action"));
  if (route.kind == RouteKind::related && !resource.relationship(route.relationship))
    return fail(Error::framework(where + "no relationship \"" + route.relationship + "\""));
  if (route.kind == RouteKind::route) {
    static const std::set<std::string> methods{"GET", "POST", "PATCH", "DELETE"};
    if (!methods.count(route.method)) return fail(Error::framework(where + "method \"" + route.method + "\""));
    if (!valid_path(route.path)) return fail(Error::framework(where + "path \"" + route.path + "\""));
  }
  return {};
}

Result<void> check_api(const Domain& domain, const Api& api) {
  std::set<std::string> types, bases;
  for (const auto& routes : api.resources()) {
    const Resource* resource = domain.resource(routes.resource());
    if (!resource) return fail(Error::framework("routes of an unknown resource \"" + routes.resource() + "\""));
    std::string where = "routes of " + resource->name() + ": ";
    if (resource->primary_key().size() != 1)
      return fail(Error::framework(where + "a composite primary key has no JSON:API id"));
    if (routes.type().empty() || !types.insert(routes.type()).second)
      return fail(Error::framework(where + "type \"" + routes.type() + "\" is empty or taken"));
    if (!valid_path(routes.base()) || !bases.insert(routes.base()).second)
      return fail(Error::framework(where + "base path \"" + routes.base() + "\" is not /name[/name...] or is taken"));
    for (const auto& route : routes.routes()) ASHLAR_TRY_VOID(check_route(*resource, route));
  }
  return {};
}

void send(httplib::Response& res, const Reply& reply) {
  res.status = reply.status;
  for (const auto& [name, value] : reply.headers) res.set_header(name, value);
  res.set_content(reply.body, kJsonApi);
}

void send(httplib::Response& res, const Failure& failure) { send(res, reply(failure)); }

bool json_body(const httplib::Request& req) {
  std::string type = req.get_header_value("Content-Type");
  return type.starts_with(kJsonApi) || type.starts_with("application/json");
}

}  // namespace

struct Server::Impl {
  Engine& engine;
  Api api;
  ServerOptions options;
  httplib::Server http;
  std::thread thread;
  std::atomic<bool> done{false};  // listen_after_bind returned
  std::atomic<bool> stopping{false};  // ends the event streams
  std::atomic<std::size_t> streams{0};  // event streams open
  int port = 0;
  std::string openapi;  // GET /openapi.json, made once at start

  Impl(Engine& engine, Api api, ServerOptions options)
      : engine(engine), api(std::move(api)), options(std::move(options)) {}

  // The actor and tenant of the request, or the 401/403 the authentication answered.
  std::optional<Failure> authenticate(const RequestInfo& info, Value& actor, std::string& tenant) const {
    tenant = info.header("X-Tenant");
    if (!options.authenticate) return std::nullopt;
    auto result = options.authenticate(info);
    if (!result) {
      if (result.error().cls == ErrorClass::forbidden) return failure(403, codes::kForbidden, result.error().message);
      return failure(401, "unauthenticated", result.error().message);
    }
    actor = std::move(result->actor);
    if (result->tenant) {
      if (!tenant.empty() && tenant != *result->tenant)
        return failure(403, codes::kForbidden, "names a tenant other than the one the request is authenticated for",
                       {.header = "X-Tenant"});
      tenant = std::move(*result->tenant);
    }
    return std::nullopt;
  }

  void serve(const ResourceRoutes& routes, const Route& route, const httplib::Request& req,
             httplib::Response& res) const {
    RequestInfo info{req.method, req.path, {req.headers.begin(), req.headers.end()}};
    Value actor;
    std::string tenant;
    if (auto failed = authenticate(info, actor, tenant)) return send(res, *failed);
    bool writes = route.kind == RouteKind::post || route.kind == RouteKind::patch ||
                  ((route.kind == RouteKind::route || route.kind == RouteKind::destroy) && !req.body.empty());
    if (writes && !json_body(req))
      return send(res, failure(415, "unsupported_media_type", std::string("send the body as ") + kJsonApi,
                               {.header = "Content-Type"}));
    const Resource& resource = *engine.domain().resource(routes.resource());
    Call call{routes, route, resource, info, req.params, req.body,
              req.matches.size() > 1 ? req.matches[1].str() : std::string(), std::move(actor),
              std::move(tenant)};
    send(res, handle(Context{engine, api, options}, call));
  }

  // GET /events: one stream per connection, on that connection's thread, at most
  // options.max_event_streams at once.
  void serve_events(const httplib::Request& req, httplib::Response& res) {
    RequestInfo info{req.method, req.path, {req.headers.begin(), req.headers.end()}};
    Value actor;
    std::string tenant;
    if (auto failed = authenticate(info, actor, tenant)) return send(res, *failed);
    auto parsed = parse_event_query(engine, req.params, info.header("Last-Event-ID"));
    if (auto* failed = std::get_if<Failure>(&parsed)) return send(res, *failed);
    EventQuery query = std::get<EventQuery>(std::move(parsed));
    query.actor = std::move(actor);
    query.request_tenant = std::move(tenant);
    if (++streams > options.max_event_streams) {
      --streams;
      return send(res, failure(503, "too_many_streams", "the server has as many event streams open as it serves"));
    }
    auto stream = std::make_shared<EventStream>(engine, options, std::move(query), stopping);
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [stream](std::size_t, httplib::DataSink& sink) {
          return stream->next([&sink](const std::string& text) { return sink.write(text.data(), text.size()); });
        },
        [this](bool) { --streams; });
  }

  void add(const std::string& method, const std::string& pattern, const ResourceRoutes& routes, const Route& route) {
    auto handler = [this, &routes, &route](const httplib::Request& req, httplib::Response& res) {
      serve(routes, route, req, res);
    };
    if (method == "GET") http.Get(pattern, handler);
    else if (method == "POST") http.Post(pattern, handler);
    else if (method == "PATCH") http.Patch(pattern, handler);
    else http.Delete(pattern, handler);
  }

  // Generic routes first: "/tickets/escalate_all" is not the record "escalate_all".
  void add_routes() {
    for (const auto& routes : api.resources())
      for (const auto& route : routes.routes())
        if (route.kind == RouteKind::route) add(route.method, routes.base() + route.path, routes, route);
    for (const auto& routes : api.resources()) {
      const std::string& base = routes.base();
      for (const auto& route : routes.routes()) {
        switch (route.kind) {
          case RouteKind::index: add("GET", base, routes, route); break;
          case RouteKind::post: add("POST", base, routes, route); break;
          case RouteKind::related: add("GET", base + "/([^/]+)/" + route.relationship, routes, route); break;
          case RouteKind::get: add("GET", base + "/([^/]+)", routes, route); break;
          case RouteKind::patch: add("PATCH", base + "/([^/]+)", routes, route); break;
          case RouteKind::destroy: add("DELETE", base + "/([^/]+)", routes, route); break;
          case RouteKind::route: break;
        }
      }
    }
  }

  void configure() {
    // SO_REUSEADDR alone: httplib's default adds SO_REUSEPORT, which lets a second server
    // bind the same port and take a share of its connections instead of failing.
    http.set_socket_options([](socket_t sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    http.set_payload_max_length(options.max_body);
    http.set_read_timeout(options.read_timeout);
    http.set_write_timeout(options.read_timeout);
    http.set_keep_alive_timeout(options.read_timeout);
    http.set_keep_alive_max_count(options.keep_alive_requests);
    // A response goes out in more than one write: without TCP_NODELAY, Nagle's algorithm
    // holds the last one until the client's delayed ACK, some 40 ms per request.
    http.set_tcp_nodelay(true);
    // httplib's own answers (no such route, a body past max_body) as error documents.
    http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
      if (!res.body.empty()) return;
      const char* detail = res.status == 404   ? "no route answers this method and path"
                           : res.status == 413 ? "the body is larger than the server accepts"
                           : res.status == 414 ? "the URI is longer than the server accepts"
                                               : "the request could not be read";
      const char* code = res.status == 404                        ? codes::kNotFound
                         : res.status == 413 || res.status == 414 ? "too_large"
                                                                  : "malformed";
      send(res, failure(res.status, code, detail));
    });
    http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
      send(res, failure(500, codes::kUnknown, "the server could not complete the request"));
    });
    // Each event stream holds a thread while it is open: enough for them and the rest.
    http.new_task_queue = [n = options.max_event_streams] { return new httplib::ThreadPool(CPPHTTPLIB_THREAD_POOL_COUNT + n); };
    http.Get("/openapi.json", [this](const httplib::Request& req, httplib::Response& res) {
      RequestInfo info{req.method, req.path, {req.headers.begin(), req.headers.end()}};
      Value actor;
      std::string tenant;
      if (auto failed = authenticate(info, actor, tenant)) return send(res, *failed);
      res.set_content(openapi, "application/json");
    });
    http.Get("/events", [this](const httplib::Request& req, httplib::Response& res) { serve_events(req, res); });
    add_routes();
  }
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::Server(Server&&) noexcept = default;
Server& Server::operator=(Server&& other) noexcept {
  if (this != &other) {
    stop();
    impl_ = std::move(other.impl_);
  }
  return *this;
}
Server::~Server() { stop(); }

Result<Server> Server::start(Engine& engine, const Api& api, ServerOptions options) {
  ASHLAR_TRY_VOID(check_api(engine.domain(), api));
  auto impl = std::make_unique<Impl>(engine, api, std::move(options));
  impl->openapi = openapi_document(engine.domain(), impl->api, impl->options, engine.model_version()).dump();
  impl->configure();
  const std::string& host = impl->options.host;
  int port = impl->options.port;
  errno = 0;
  if (port == 0) port = impl->http.bind_to_any_port(host);
  else if (!impl->http.bind_to_port(host, port)) port = -1;
  if (port <= 0)
    return fail(Error::unknown("cannot listen on " + host + ":" + std::to_string(impl->options.port) +
                               (errno ? std::string(": ") + std::strerror(errno) : std::string())));
  impl->port = port;
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] {
    raw->http.listen_after_bind();
    raw->done = true;
  });
  return Server(std::move(impl));
}

int Server::port() const { return impl_ ? impl_->port : 0; }

void Server::stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  impl_->stopping = true;
  // httplib's stop() does nothing until its loop has started: wait for that (or its end).
  while (!impl_->done) {
    if (impl_->http.is_running()) {
      impl_->http.stop();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl_->thread.join();
}

}  // namespace ashlar::http
