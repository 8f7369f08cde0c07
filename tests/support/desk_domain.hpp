#pragma once
// A helpdesk with every kind of action beyond the four basic ones: generic actions,
// upserts on an identity, and code interfaces, for the tests of issue 4's action kinds.

#include <ashlar/ashlar.hpp>

#include <fmt/format.h>

namespace ashlar::test {

// Raises the priority of a representative's tickets of at least min_severity, in
// reference order; stops with an error before the fail_after'th when that is given.
inline Result<Value> escalate(ActionInput& input) {
  using namespace ashlar::dsl;
  auto tickets = input.engine().read(
      "Ticket", {.filter = ref("representative_id") == Expr(input.argument("representative_id")) &&
                           ref("severity") >= Expr(input.argument("min_severity")),
                 .sort = {SortKey::asc("reference")}});
  if (!tickets) return fail(tickets.error());
  std::int64_t escalated = 0;
  for (const auto& t : *tickets) {
    if (input.argument("fail_after") == Value(escalated))
      return fail(Error::invalid("", "", {{"fail_after", "stopped", fmt::format("stopped after {} tickets", escalated)}}));
    auto raised = input.engine().update("Ticket", t.id(), {{"priority", "high"}}, input.to_opts());
    if (!raised) return fail(raised.error());
    ++escalated;
  }
  return Value(escalated);
}

inline std::vector<Argument> escalate_arguments() {
  return {argument("representative_id", type::uuid, {.allow_nil = false}),
          argument("min_severity", type::integer, {.default_value = 2, .constraints = {.min = 1, .max = 5}}),
          argument("fail_after", type::integer),
          argument("requested_by", type::string, {.is_public = false})};
}

inline Domain desk_domain() {
  using namespace ashlar::dsl;
  return domain("desk")
      .resource(resource("Representative")
                    .uuid_primary_key("id")
                    .attribute("name", type::string, {.allow_nil = false})
                    .has_many("tickets", "Ticket")
                    .defaults({"read", "destroy", "create:*", "update:*"}))
      .resource(
          resource("Ticket")
              .uuid_primary_key("id")
              .attribute("reference", type::string, {.allow_nil = false})
              .attribute("subject", type::string, {.allow_nil = false})
              .attribute("status", type::atom, {.default_value = Atom{"open"}, .constraints = {.one_of = {"open", "closed"}}})
              .attribute("priority", type::atom,
                         {.default_value = Atom{"low"}, .constraints = {.one_of = {"low", "medium", "high"}}})
              .attribute("severity", type::integer, {.default_value = 1})
              .create_timestamp("opened_at")
              .update_timestamp("updated_at")
              .belongs_to("representative", "Representative")
              .identity("unique_reference", {"reference"})
              .defaults({"read", "destroy", "create:*", "update:*"})
              .read("top", {.arguments = {argument("user_id", type::uuid, {.allow_nil = false})},
                            .filter = ref("priority").in({Atom{"medium"}, Atom{"high"}}) &&
                                      ref("representative_id") == arg("user_id") && ref("status") == Atom{"open"},
                            .sort = "reference",
                            .limit = 10})
              .update("close", {.accept = AcceptList::none(), .steps = {changes::set_attribute("status", Atom{"closed"})}})
              // Upserts: only subject and priority change on a known reference...
              .create("import", {.accept = {"reference", "subject", "priority", "severity"},
                                 .upsert = true,
                                 .upsert_identity = "unique_reference",
                                 .upsert_fields = {"subject", "priority"}})
              // ...every accepted attribute but the identity's (the default)...
              .create("sync", {.accept = {"reference", "subject", "severity"}, .upsert = true, .upsert_identity = "unique_reference"})
              // ...and only while the stored ticket is open.
              .create("reopen", {.accept = {"reference", "subject"},
                                 .upsert = true,
                                 .upsert_identity = "unique_reference",
                                 .upsert_condition = ref("status") == Atom{"open"}})
              .action("escalate_all", {.returns = type::integer, .arguments = escalate_arguments(), .transaction = true,
                                       .run = escalate})
              .action("escalate_loosely", {.returns = type::integer, .arguments = escalate_arguments(), .run = escalate})
              // Returns its argument: a wrong type or nil is the run function's mistake.
              .action("echo", {.returns = type::integer,
                               .arguments = {argument("answer", type::floating)},
                               .transaction = true,
                               .run = [](ActionInput& input) -> Result<Value> {
                                 auto r = input.engine().create("Representative", {{"name", "Echo"}}, input.to_opts());
                                 if (!r) return fail(r.error());
                                 return input.argument("answer");
                               }})
              // Opens a ticket, then counts the tickets it can read.
              .action("open_and_count", {.returns = type::integer,
                                         .arguments = {argument("reference", type::string, {.allow_nil = false})},
                                         .transaction = true,
                                         .run = [](ActionInput& input) -> Result<Value> {
                                           auto t = input.engine().create(
                                               "Ticket", {{"reference", input.argument("reference")}, {"subject", "new"}},
                                               input.to_opts());
                                           if (!t) return fail(t.error());
                                           auto all = input.engine().read("Ticket");
                                           if (!all) return fail(all.error());
                                           return Value(all->size());
                                         }})
              .action("whoami", {.returns = type::map,
                                 .arguments = {argument("requested_by", type::string, {.is_public = false})},
                                 .run = [](ActionInput& input) -> Result<Value> {
                                   return Value(Map{{"actor", input.actor()},
                                                    {"requested_by", input.argument("requested_by")},
                                                    {"locale", find_field(input.context(), "locale")
                                                                   ? *find_field(input.context(), "locale")
                                                                   : Value()}});
                                 }})
              // Code interfaces.
              .define("top", {.args = {"user_id"}})
              .define("top_one", {.action = "top", .args = {"user_id"}, .get = true})
              .define("get_ticket", {.action = "read", .get_by = {"id"}})
              .define("by_reference", {.action = "read", .get_by = {"reference"}})
              .define("open", {.action = "create", .args = {"reference", "subject"}})
              .define("close", {})
              .define("remove", {.action = "destroy"})
              .define("escalate", {.action = "escalate_all", .args = {"representative_id"}}))
      .build()
      .value();
}

}  // namespace ashlar::test
