#pragma once
// The helpdesk domain, after the Helpdesk of the Ash guides: representatives and their
// tickets. The helpdesk example runs its story against it; helpdesk_api serves it over HTTP.

#include <ashlar/ashlar.hpp>

namespace helpdesk {

using namespace ashlar;
using namespace ashlar::dsl;

// A representative's tickets whose severity is above the representative's threshold,
// as the guide's TicketsAboveThreshold: one read for all representatives, grouped by
// representative_id. (The guide compares priority with priority_threshold; here
// priorities are atoms for `top`, so thresholds are on the numeric severity.)
class TicketsAboveThreshold final : public ManualRelationship {
 public:
  Result<std::vector<std::vector<Record>>> load(const std::vector<Record>& reps, const Query& query,
                                                const LoadContext& context) const override {
    Array rep_ids;
    for (const auto& rep : reps) rep_ids.push_back(rep.id());
    Query q = query;
    q.select.clear();  // ensure_selected: representative_id groups the results
    q.limit.reset();   // a load's limit and offset count per representative: the engine
    q.offset = 0;      // applies them after grouping
    Expr mine = ref("representative_id").in(Expr(Value(rep_ids))) &&
                ref("severity") > ref("representative.severity_threshold");
    q.filter = q.filter ? *q.filter && mine : mine;
    ASHLAR_TRY(tickets, context.read("Ticket", q));
    std::vector<std::vector<Record>> out(reps.size());
    for (auto& ticket : *tickets)
      for (std::size_t i = 0; i < reps.size(); ++i)
        if (ticket["representative_id"] == reps[i].id()) out[i].push_back(ticket);
    return out;
  }
};

// Raises every open ticket of a representative at or above min_severity to high
// priority; returns how many it raised. The updates join the action's transaction.
inline Result<Value> escalate_all(ActionInput& input) {
  ASHLAR_TRY(tickets, input.engine().read(
      "Ticket", {.filter = ref("representative_id") == Expr(input.argument("representative_id")) &&
                           ref("status") == Atom{"open"} && ref("priority") != Atom{"high"} &&
                           ref("severity") >= Expr(input.argument("min_severity"))}));
  for (const auto& t : *tickets)
    if (auto raised = input.engine().update("Ticket", t.id(), {{"priority", "high"}}, input.to_opts()); !raised)
      return fail(raised.error());
  return Value(tickets->size());
}

inline Domain helpdesk_domain() {
  return domain("helpdesk")
      .resource(resource("Representative")
                    .uuid_primary_key("id")
                    .attribute("name", type::string, {.allow_nil = false})
                    .attribute("severity_threshold", type::integer, {.default_value = 2})
                    .has_many("tickets", "Ticket")  // Ticket.representative_id
                    .has_many("tickets_above_threshold", "Ticket",
                              {.manual = std::make_shared<TicketsAboveThreshold>()})
                    .aggregate("ticket_count", AggregateKind::count, "tickets")
                    .aggregate("worst_severity", AggregateKind::max, "tickets", "severity")
                    .defaults({"read", "destroy", "create:*", "update:*"}))
      .resource(resource("Ticket")
                    .uuid_primary_key("id")
                    .attribute("reference", type::string, {.allow_nil = false})
                    .attribute("subject", type::string, {.allow_nil = false})
                    .attribute("status", type::atom,
                               {.default_value = Atom{"open"}, .constraints = {.one_of = {"open", "closed"}}})
                    .attribute("priority", type::atom,
                               {.default_value = Atom{"low"}, .constraints = {.one_of = {"low", "medium", "high"}}})
                    .attribute("severity", type::integer, {.default_value = 1})
                    .create_timestamp("opened_at")
                    .attribute("closed_at", type::utc_datetime)
                    .belongs_to("representative", "Representative")  // defines representative_id
                    .identity("unique_reference", {"reference"})
                    .defaults({"read", "destroy", "create:*", "update:*"})
                    // A named create: an argument beside the accepted attributes, and
                    // validations whose errors are all reported at once.
                    .create("open", {.accept = {"reference", "subject", "priority", "severity", "representative_id"},
                                     .arguments = {argument("urgent", type::boolean, {.default_value = false})},
                                     .steps = {validations::match("reference", "HD-[0-9]{4}")
                                                   .with_message("must look like HD-1234"),
                                               validations::string_length("subject", 3, 120),
                                               changes::change([](Changeset& cs) -> Result<void> {
                                                 if (cs.argument("urgent") == Value(true))
                                                   cs.force_change("priority", Atom{"high"});
                                                 return {};
                                               })}})
                    // The guide's assign_reviewer: a representative given by id, related
                    // through the belongs_to (an unknown id is an error on `assignee`).
                    .update("assign", {.arguments = {argument("assignee", type::uuid)},
                                       .steps = {changes::manage_relationship(
                                           "assignee", "representative", {.type = manage::Type::append_and_remove})}})
                    // A generic action: typed arguments, a run function that calls
                    // other actions, all in one transaction, and a typed result.
                    .action("escalate_all", {.returns = type::integer,
                                             .arguments = {argument("representative_id", type::uuid, {.allow_nil = false}),
                                                           argument("min_severity", type::integer,
                                                                    {.default_value = 3, .constraints = {.min = 1, .max = 5}})},
                                             .transaction = true,
                                             .run = escalate_all})
                    // Code interfaces (see namespace ticket below).
                    .define("top", {.args = {"user_id"}})
                    .define("by_reference", {.action = "read", .get_by = {"reference"}})
                    .define("open", {.args = {"reference", "subject"}})
                    .define("escalate_all", {.args = {"representative_id"}})
                    // The guide's `read :top`: an argument, a filter that uses it, and
                    // prepare build(limit: 10, sort: [opened_at: :desc]).
                    .read("top", {.arguments = {argument("user_id", type::uuid, {.allow_nil = false})},
                                  .filter = ref("priority").in({Atom{"medium"}, Atom{"high"}}) &&
                                            ref("representative_id") == arg("user_id") &&
                                            ref("status") == Atom{"open"},
                                  .sort = "-opened_at",
                                  .limit = 10}))
      .build()
      .value();
}

}  // namespace helpdesk
