#pragma once
// Domains the tests share.

#include <ashlar/ashlar.hpp>

#include "support/blog_domain.hpp"

#include <ashlar/manual.hpp>

namespace ashlar::test {

// The reference's manual relationship: a representative's tickets whose severity is
// above the representative's threshold, read with one query for all representatives.
class TicketsAboveThreshold final : public ManualRelationship {
 public:
  Result<std::vector<std::vector<Record>>> load(const std::vector<Record>& reps, const Query& query,
                                                const LoadContext& context) const override {
    using namespace ashlar::dsl;
    Array rep_ids;
    for (const auto& r : reps) rep_ids.push_back(r.id());
    Query q = query;
    q.select.clear();  // ensure_selected: representative_id groups the results
    q.filter = ref("representative_id").in(Expr(Value(rep_ids))) &&
               ref("severity") > ref("representative.severity_threshold");
    auto tickets = context.read("Ticket", q);
    if (!tickets) return fail(tickets.error());
    std::vector<std::vector<Record>> out(reps.size());
    for (auto& t : *tickets)
      for (std::size_t i = 0; i < reps.size(); ++i)
        if (t["representative_id"] == reps[i].id()) out[i].push_back(t);
    return out;
  }
};

// Representative and Ticket, after the reference's helpdesk.
inline Domain helpdesk_domain() {
  using namespace ashlar::dsl;
  return domain("helpdesk")
      .resource(resource("Representative")
                    .uuid_primary_key("id")
                    .attribute("name", type::string, {.allow_nil = false})
                    .attribute("severity_threshold", type::integer, {.default_value = 2})
                    .has_many("tickets", "Ticket")
                    .has_many("tickets_above_threshold", "Ticket",
                              {.manual = std::make_shared<TicketsAboveThreshold>()})
                    .aggregate("ticket_count", AggregateKind::count, "tickets")
                    .defaults({"read", "destroy", "create:*", "update:*"}))
      .resource(resource("Ticket")
                    .uuid_primary_key("id")
                    .attribute("subject", type::string, {.allow_nil = false})
                    .attribute("reference", type::string)
                    .attribute("status", type::atom,
                               {.default_value = Atom{"open"}, .constraints = {.one_of = {"open", "closed"}}})
                    .attribute("priority", type::atom,
                               {.default_value = Atom{"low"}, .constraints = {.one_of = {"low", "medium", "high"}}})
                    .attribute("severity", type::integer, {.default_value = 1})
                    .attribute("opened_at", type::utc_datetime, {.default_fn = [] { return Value(DateTime::now()); }})
                    .attribute("closed_at", type::utc_datetime)
                    .belongs_to("representative", "Representative")
                    .has_many("more_severe_tickets", "Ticket",
                              {.filter = ref("severity") > parent(ref("severity")), .no_attributes = true})
                    .identity("unique_reference", {"reference"})
                    .defaults({"read", "destroy", "create:*", "update:*"})
                    .read("top", {.arguments = {argument("user_id", type::uuid, {.allow_nil = false})},
                                  .filter = ref("priority").in({Atom{"medium"}, Atom{"high"}}) &&
                                            ref("representative_id") == arg("user_id") &&
                                            ref("status") == Atom{"open"},
                                  .sort = "-opened_at",
                                  .limit = 10}))
      .build()
      .value();
}

// Users who tweet, follow each other and tag tweets: every kind of relationship.
inline Domain social_domain() {
  using namespace ashlar::dsl;
  return domain("social")
      .resource(resource("User")
                    .uuid_primary_key("id")
                    .attribute("name", type::string, {.allow_nil = false})
                    .attribute("follower_count", type::integer, {.default_value = 0})
                    .has_many("tweets", "Tweet")
                    .has_one("latest_tweet", "Tweet", {.sort = "-inserted_at"})
                    .many_to_many("followers", "User",
                                  {.through = "Follow",
                                   .source_attribute_on_join_resource = "followee_id",
                                   .destination_attribute_on_join_resource = "follower_id"})
                    .aggregate("tweet_count", AggregateKind::count, "tweets")
                    .aggregate("total_likes", AggregateKind::sum, "tweets", "likes")
                    .identity("unique_name", {"name"})
                    .defaults({"read", "destroy", "create:*", "update:*"}))
      .resource(resource("Tweet")
                    .uuid_primary_key("id")
                    .attribute("body", type::string, {.allow_nil = false})
                    .attribute("likes", type::integer, {.default_value = 0})
                    .create_timestamp("inserted_at")
                    .belongs_to("user", "User", {.allow_nil = false})
                    .many_to_many("hashtags", "Hashtag", {.through = "TweetHashtag"})
                    .defaults({"read", "destroy", "create:*", "update:*"}))
      .resource(resource("Hashtag")
                    .uuid_primary_key("id")
                    .attribute("name", type::string, {.allow_nil = false})
                    .many_to_many("tweets", "Tweet", {.through = "TweetHashtag"})
                    .identity("unique_name", {"name"})
                    .defaults({"read", "destroy", "create:*", "update:*"}))
      .resource(resource("TweetHashtag")
                    .belongs_to("tweet", "Tweet", {.primary_key = true})
                    .belongs_to("hashtag", "Hashtag", {.primary_key = true})
                    .defaults({"read", "destroy", "create:*"}))
      .resource(resource("Follow")
                    .belongs_to("follower", "User", {.primary_key = true})
                    .belongs_to("followee", "User", {.primary_key = true})
                    .defaults({"read", "destroy", "create:*"}))
      .build()
      .value();
}

}  // namespace ashlar::test
