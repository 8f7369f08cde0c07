#pragma once
// Generic actions: Ash's `action :name, returns: type do run fn input, context -> ... end`.
// An action that is neither a create, read, update nor destroy: typed arguments (cast,
// defaulted and checked as every action's are) and a run function that returns a value,
// typed by `returns`. It has no record of its own; what it writes, it writes by calling
// other actions, so the log holds their events and nothing else.
//
//   .action("escalate_all", {
//      .returns = type::integer,
//      .arguments = {argument("representative_id", type::uuid, {.allow_nil = false})},
//      .transaction = true,
//      .run = [](ActionInput& input) -> Result<Value> {
//        auto mine = input.engine().read("Ticket", {.filter = ref("representative_id") ==
//                                                       Expr(input.argument("representative_id"))});
//        if (!mine) return fail(mine.error());
//        for (const auto& t : *mine)
//          if (auto r = input.engine().update("Ticket", t.id(), {{"priority", "high"}}, input.to_opts()); !r)
//            return fail(r.error());
//        return Value(mine->size());
//      }})
//
//   auto count = engine.run_action("Ticket", "escalate_all", {{"representative_id", rep.id()}});
//
// With `.transaction = true` (Ash's `transaction? true`) the run function executes inside
// one write transaction and every action it calls joins it: their events share one
// transaction id and one correlation id, and if run returns an error (or a value that
// does not fit `returns`) nothing it wrote is kept, projected or published. Without it,
// each action run calls commits on its own, as Ash's generic actions do by default; they
// still share the call's correlation id when run passes input.to_opts().
//
// Inside a transactional run, reads through the engine (read, get, and the actions it
// calls) see what the run has written so far, as in a database transaction.

#include <ashlar/model/export.hpp>
#include <ashlar/model/resource.hpp>

#include <memory>
#include <string>

namespace ashlar {

class Engine;
struct CallOptions;

class ASHLAR_API ActionInput {
 public:
  const Resource& resource() const { return *resource_; }
  const Action& action() const { return *action_; }
  // An argument's value as cast (its default when not given; nil when it has none).
  const Value& argument(std::string_view name) const;
  const Fields& arguments() const { return arguments_; }
  const Value& actor() const;
  const Map& context() const;
  // Options for the actions run calls (Ash's Ash.Context.to_opts): the actor, tenant,
  // shared context, and this call's correlation id.
  CallOptions to_opts() const;
  // The engine running the action: call other actions through it.
  Engine& engine() const { return **engine_; }

 private:
  friend struct ActionInputAccess;
  Engine* const* engine_ = nullptr;  // the engine's slot: it follows the Engine when moved
  const Resource* resource_ = nullptr;
  const Action* action_ = nullptr;
  Fields arguments_;
  std::shared_ptr<const CallOptions> call_;  // actor, tenant, context, correlation id
};

}  // namespace ashlar
