#include "nats_util.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

namespace ashlar::nats {

std::string status_text(natsStatus s, jsErrCode code) {
  std::string text = natsStatus_GetText(s);
  const char* last = nats_GetLastError(nullptr);
  if (last && *last && text.find(last) == std::string::npos) text = fmt::format("{}: {}", text, last);
  if (code != 0) text += fmt::format(" (JetStream error {})", static_cast<int>(code));
  return text;
}

std::unique_ptr<Connection> Connection::open(const Settings& settings, std::string& error) {
  std::unique_ptr<Connection> c(new Connection());
  c->timeout_ = settings.timeout;
  natsOptions* opts = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  // "a,b,c": the servers of a cluster, each tried in turn.
  std::vector<std::string> urls;
  for (std::size_t from = 0; from <= settings.url.size();) {
    std::size_t comma = std::min(settings.url.find(',', from), settings.url.size());
    if (comma > from) urls.push_back(settings.url.substr(from, comma - from));
    from = comma + 1;
  }
  std::vector<const char*> servers;
  for (const auto& u : urls) servers.push_back(u.c_str());
  if (s == NATS_OK) s = natsOptions_SetServers(opts, servers.data(), static_cast<int>(servers.size()));
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, 100);
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts, settings.timeout.count());
  // With a callback the first connect does not block: it goes on in the background.
  auto connected = [](natsConnection*, void*) {};
  if (s == NATS_OK) s = natsOptions_SetRetryOnFailedConnect(opts, true, connected, nullptr);
  if (s == NATS_OK) {
    s = natsConnection_Connect(&c->nc_, opts);
    if (s == NATS_NOT_YET_CONNECTED) s = NATS_OK;  // it keeps trying in the background
  }
  if (s != NATS_OK) error = fmt::format("cannot connect to NATS at {}: {}", settings.url, status_text(s));
  natsOptions_Destroy(opts);
  if (s != NATS_OK) return nullptr;
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = settings.timeout.count();
  jo.PublishAsync.AckHandler = settings.on_publish_ack;
  jo.PublishAsync.AckHandlerClosure = settings.closure;
  if (settings.max_pending > 0) jo.PublishAsync.MaxPending = settings.max_pending;
  jo.PublishAsync.StallWait = settings.timeout.count();
  s = natsConnection_JetStream(&c->js_, c->nc_, &jo);
  if (s != NATS_OK) {
    error = fmt::format("cannot use JetStream at {}: {}", settings.url, status_text(s));
    return nullptr;
  }
  return c;
}

Connection::~Connection() {
  if (js_) jsCtx_Destroy(js_);
  if (nc_) {
    natsConnection_Close(nc_);
    natsConnection_Destroy(nc_);
  }
}

bool Connection::connected() const { return nc_ && natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED; }

jsOptions Connection::options() const {
  jsOptions o;
  jsOptions_Init(&o);
  o.Wait = timeout_.count();
  return o;
}

std::string header(natsMsg* msg, const char* key) {
  const char* value = nullptr;
  if (natsMsgHeader_Get(msg, key, &value) != NATS_OK || !value) return {};
  return value;
}

std::vector<std::string> header_values(natsMsg* msg, const char* key) {
  const char** values = nullptr;
  int count = 0;
  std::vector<std::string> out;
  if (natsMsgHeader_Values(msg, key, &values, &count) != NATS_OK || !values) return out;
  for (int i = 0; i < count; ++i)
    if (values[i]) out.emplace_back(values[i]);
  free(static_cast<void*>(values));  // the array is the caller's, its strings the message's
  return out;
}

}  // namespace ashlar::nats
