#pragma once
// GET /openapi.json: an OpenAPI 3.0.3 document of the API, generated from the domain and
// the declared routes.

#include <ashlar/http/server.hpp>

#include <nlohmann/json.hpp>

namespace ashlar::http {

// The document: a schema per resource (its attributes' types, nil-ability and
// constraints, its aggregates and calculations, its relationships' linkage), each
// route's path, parameters, request body and responses (the JSON:API error document for
// every error status the route answers), GET /events and GET /openapi.json itself.
// info.version is the stored model's version.
nlohmann::ordered_json openapi_document(const Domain& domain, const Api& api, const ServerOptions& options,
                                        std::uint64_t model_version);

}  // namespace ashlar::http
