#pragma once
// The route kinds' handlers: a request in, the JSON:API response out. Nothing here knows
// the HTTP library; server.cpp adapts it.

#include "params.hpp"

#include <ashlar/http/server.hpp>

#include <map>
#include <string>

namespace ashlar::http {

struct Reply {
  int status = 200;
  std::string body;  // a JSON:API document
  std::map<std::string, std::string> headers{};
};

// One request for one route of one resource, the actor already known.
struct Call {
  const ResourceRoutes& routes;
  const Route& route;
  const Resource& resource;
  const RequestInfo& info;
  const Params& params;
  const std::string& body;
  std::string id;  // the :id of the path, when the route has one
  Value actor;
  std::string tenant{};  // the X-Tenant header
};

struct Context {
  Engine& engine;
  const Api& api;
  const ServerOptions& options;
};

// Runs the call's action and writes its document; errors as error documents.
Reply handle(const Context& context, const Call& call);

// An error document's reply.
Reply reply(const Failure& failure);

}  // namespace ashlar::http
