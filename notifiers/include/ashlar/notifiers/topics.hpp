#pragma once
// Topics: the first frame of every published event, general to specific, so that a
// ZeroMQ prefix subscription selects a domain, a resource, or a resource and action.
//
//   blog.User.create.5f0c...      the default: <domain>.<Resource>.<action>.<id>
//   blog.User.created.5f0c...     a template: .publish("create", {"created", ":id"})
//   saas.Task.acme.created.5f0c... with the tenant: .publish("create", {":tenant", "created", ":id"})
//
// Subscribe with the trailing "." ("blog.User.") so that User does not also select
// UserProfile. Composite keys put each key value in turn: blog.Tag.create.<scope>.<name>.

#include <ashlar/eventlog/event.hpp>
#include <ashlar/model/export.hpp>
#include <ashlar/model/resource.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace ashlar {

// The topic of heartbeats, which carry the publisher's head (notifiers/PROTOCOL.md). It
// cannot begin a domain's topics: domain names are identifiers.
inline constexpr std::string_view kHeartbeatTopic = "@heartbeat";

// "blog.", "blog.User.", "blog.User.create." for a domain, a resource, a resource and action.
ASHLAR_API std::string topic_prefix(std::string_view domain, std::string_view resource = {}, std::string_view action = {});

// A value as a topic part: strings and atoms as they are, uuids, times and dates in their
// canonical text, numbers in decimal, booleans true/false, binaries in hex, nil empty.
ASHLAR_API std::string topic_text(const Value& value);

// The ":tenant" part of an event without a tenant: the topic keeps its shape, and
// "<domain>.<Resource>._." selects the events of calls without a tenant.
inline constexpr std::string_view kNoTenantTopicText = "_";

// The ":tenant" part of a topic: the tenant as it is, or kNoTenantTopicText for none.
ASHLAR_API std::string tenant_topic_text(std::string_view tenant);

// <domain>.<Resource>.<action>.<key values joined by ".">
ASHLAR_API std::string default_topic(const Event& event);
ASHLAR_API std::string default_topic(std::string_view domain, std::string_view resource, std::string_view action,
                          const Fields& key);

// The attributes, other than primary key attributes, whose values the action's templates
// use: what a publisher must look up beyond the event itself. Empty without templates.
ASHLAR_API std::vector<std::string> template_attributes(const Resource& resource, std::string_view action);

// The topics `event` is published under, without repeats: the default topic when its
// action declares no template; otherwise each template rendered with the record's values
// (and ":tenant" with the event's tenant)
// after the event and, for an update that changed them, before it too. `before` holds
// the record's values before an update or destroy for the template_attributes (an absent
// one is nil); the event's key and changes supply the rest.
ASHLAR_API std::vector<std::string> event_topics(const Resource& resource, const Event& event, const Fields& before);

}  // namespace ashlar
