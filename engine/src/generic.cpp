// Generic actions: arguments cast as every action's are, then the run function, in a
// write transaction of its own when the action asks for one, its result checked against
// the action's `returns`.
#include <ashlar/generic.hpp>

#include "authorize.hpp"
#include "tenancy.hpp"
#include "user_code.hpp"
#include "changeset.hpp"
#include "impl.hpp"

#include <fmt/format.h>

#include <set>

namespace ashlar {

struct ActionInputAccess {
  static ActionInput make(Engine& engine, const Resource& r, const Action& a, Fields arguments,
                          std::shared_ptr<const CallOptions> call) {
    ActionInput input;
    input.engine_ = EngineAccess::slot(engine);
    input.resource_ = &r;
    input.action_ = &a;
    input.arguments_ = std::move(arguments);
    input.call_ = std::move(call);
    return input;
  }
};

const Value& ActionInput::argument(std::string_view name) const {
  static const Value kNil;
  const Value* v = find_field(arguments_, name);
  return v ? *v : kNil;
}

const Value& ActionInput::actor() const { return call_->actor; }
const Map& ActionInput::context() const { return call_->context; }

CallOptions ActionInput::to_opts() const {
  CallOptions opts;
  opts.actor = call_->actor;
  opts.tenant = call_->tenant;
  opts.correlation_id = call_->correlation_id;
  opts.authorize = call_->authorize;
  if (const Value* shared = find_field(call_->context, "shared")) opts.context = Map{{"shared", *shared}};
  return opts;
}

namespace {

// The caller's arguments and the system's private ones, checked and cast: every problem
// at once, as for the other kinds of action.
Result<Fields> generic_arguments(const Resource& r, const Action& a, const Fields& args, const CallOptions& call) {
  std::vector<FieldError> errors;
  std::set<std::string_view> seen;
  Fields given;
  for (const auto& [name, raw] : args) {
    const Argument* arg = a.argument(name);
    if (!seen.insert(name).second) {
      errors.push_back({name, "duplicate_input", "is given more than once"});
    } else if (!arg) {
      errors.push_back({name, "unknown_input", fmt::format("is not an argument of {}.{}", r.name(), a.name)});
    } else if (!arg->is_public) {
      errors.push_back({name, "not_accepted", fmt::format("is a private argument of {}.{}; only private_arguments set it",
                                                          r.name(), a.name)});
    } else {
      given.emplace_back(name, raw);
    }
  }
  for (const auto& [name, value] : call.private_arguments) {
    if (!a.argument(name)) errors.push_back({name, "unknown_input", fmt::format("is not an argument of {}.{}", r.name(), a.name)});
    else given.emplace_back(name, value);
  }
  Fields cast = runtime::cast_arguments_partly(r, a, given, errors);
  if (!errors.empty()) return fail(Error::invalid(r.name(), a.name, std::move(errors)));
  return cast;
}

// What run returned, as the action's `returns` type: a value that does not fit is a
// mistake in the run function, so a Framework error.
Result<Value> typed_result(const Resource& r, const Action& a, Value value) {
  if (!a.returns) return Value();
  auto framework = [&](std::string message) {
    Error e = Error::framework(std::move(message));
    e.resource = r.name();
    e.action = a.name;
    return e;
  };
  if (value.is_null())
    return fail(framework(fmt::format("the run function returned nil; {}.{} returns {}", r.name(), a.name, a.returns->name())));
  auto cast = cast_value(*a.returns, value);
  if (!cast.value)
    return fail(framework(fmt::format("the run function returned {}, which does not fit the return type {}: {}", value.str(),
                                      a.returns->name(), cast.error)));
  return std::move(*cast.value);
}

}  // namespace

Result<Value> Engine::run_action(std::string_view resource, std::string_view action, const Fields& args,
                                 const CallOptions& call) {
  ASHLAR_TRY(r, impl_->resource(resource));
  if (action.empty())
    return fail(Error::framework(fmt::format("run_action needs the name of a generic action of {}", (*r)->name())));
  ASHLAR_TRY(a, impl_->action(**r, ActionType::generic, action));
  const Resource& res = **r;
  const Action& act = **a;
  ASHLAR_TRY(arguments, generic_arguments(res, act, args, call));
  ASHLAR_TRY_VOID(runtime::tenant_value(res, act.name, call.tenant));  // as every call on a multitenant resource
  if (runtime::authorizing(res, call.authorize)) {  // before run: it has no record, so filter checks do not hold
    PolicyRequest request{&res, &act, call.actor, &*arguments, {}};
    ASHLAR_TRY_VOID(runtime::authorize_write(res, request, nullptr));
  }

  auto opts = std::make_shared<CallOptions>(call);
  if (opts->correlation_id.empty()) opts->correlation_id = Uuid::v4().str();
  opts->context = runtime::with_shared(call.context);
  ActionInput input = ActionInputAccess::make(*this, res, act, std::move(*arguments), opts);
  auto body = [&]() -> Result<Value> {
    auto value = runtime::guarded(res.name(), act.name, "run", [&] { return act.run(input); });
    if (!value) {
      Error e = value.error();
      if (e.resource.empty()) {  // the run function's own error: say whose it is
        e.resource = res.name();
        e.action = act.name;
      }
      return fail(std::move(e));
    }
    return typed_result(res, act, std::move(*value));
  };
  if (!act.transaction) return body();

  std::optional<Value> out;
  auto written = impl_->in_transaction(
      [&](Txn&) -> Result<void> {
        impl_->user_code_runs();
        ASHLAR_TRY(value, body());
        out = std::move(*value);
        return {};
      },
      opts->correlation_id);
  if (!written) return fail(written.error());
  return std::move(*out);
}

}  // namespace ashlar
