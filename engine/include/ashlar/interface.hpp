#pragma once
// Code interfaces: Ash's `code_interface do define :top, args: [:user_id] end`, which
// lets a caller write `Helpdesk.Support.Ticket.top(user.id)` instead of building a query.
// They are declared on the resource, with the action they call and the names its
// positional arguments fill:
//
//   resource("Ticket")
//     .read("top", {.arguments = {argument("user_id", type::uuid, {.allow_nil = false})}, ...})
//     .define("top", {.args = {"user_id"}})                        // read :top
//     .define("get_ticket", {.action = "read", .get_by = {"id"}})  // one record or NotFound
//     .define("open", {.action = "create", .args = {"subject"}})
//
// and called in one of two shapes. By name, through the engine, for scripts and tools:
//
//   auto tickets = engine.interface("Ticket");
//   auto top = tickets.call("top", {rep.id()});               // Result<Reply>: top->records
//   Record t = tickets.call_or_throw("get_ticket", {id}).record();
//
// or — the shape to prefer — through a typed function the program declares once, next
// to its domain, which reads like the reference and lets the compiler check the types:
//
//   namespace ticket {
//   inline constexpr Interface<std::vector<Record>(Value)> top{"Ticket", "top"};
//   inline constexpr Interface<Record(Value)> get_ticket{"Ticket", "get_ticket"};
//   }
//   auto mine = ticket::top(engine, rep.id());         // Result<std::vector<Record>>
//   Record t = ticket::get_ticket.or_throw(engine, id);  // Ash's get_ticket!: throws
//   auto as_rita = ticket::top(engine, {.actor = rita_map}, rep.id());  // CallOptions first
//
// Why both: the typed form is what application code should use (one declaration, checked
// types, no strings at call sites); the by-name form serves code that does not know the
// domain at compile time (tools, scripting bridges) and is what the typed form calls.
//
// The positional values fill, in order: for a read, the get_by attributes and then the
// args; for an update or destroy, the record's primary key (a map when composite) and
// then the args; for a create or a generic action, the args. An arg names an argument
// of the action or an attribute it accepts. A wrong count or an unknown interface is a
// Framework error naming the resource and the interface; bad values are the action's
// own Invalid errors. The throwing forms throw ashlar::Exception carrying the Error.

#include <ashlar/engine.hpp>
#include <ashlar/generic.hpp>
#include <ashlar/model/export.hpp>

#include <string>
#include <type_traits>
#include <vector>

namespace ashlar {

// What a code interface returns, by the kind of its action: a read's records; the one
// record of a get (get_by), create, update or destroy; a generic action's value.
struct ASHLAR_API Reply {
  enum class Shape : std::uint8_t { records, record, value };
  Shape shape = Shape::records;
  std::vector<Record> records{};  // the read's records, or the one record
  Value value{};                  // a generic action's value
  // The one record. Framework error (thrown) when the reply holds none.
  const Record& record() const;
};

class ASHLAR_API ResourceInterface {
 public:
  ResourceInterface(Engine& engine, std::string resource);

  // Calls the interface `name` with positional `args` and, beside them, named `inputs`
  // (Ash's trailing params map), `call` giving the actor and the rest. Errors as above.
  Result<Reply> call(std::string_view name, const std::vector<Value>& args, const Fields& inputs = {},
                     const CallOptions& call = {}) const;
  // The same, throwing ashlar::Exception on error (Ash's `!` functions).
  Reply call_or_throw(std::string_view name, const std::vector<Value>& args, const Fields& inputs = {},
                      const CallOptions& call = {}) const {
    return this->call(name, args, inputs, call).value();
  }
  const std::string& resource() const { return resource_; }

 private:
  Engine* const* engine_;  // the engine's slot: it follows the Engine when moved
  std::string resource_;
};

namespace detail {
ASHLAR_API Error reply_shape_error(std::string_view resource, std::string_view name, Reply::Shape got, Reply::Shape wanted);
}

// A typed code interface: R is std::vector<Record> (a read), Record (a get, create,
// update or destroy) or Value (a generic action); Args are the positional arguments'
// C++ types, each convertible to Value. A mismatch between R and the interface's action
// is a Framework error at the call, naming both.
template <typename Signature>
class Interface;

template <typename R, typename... Args>
class Interface<R(Args...)> {
  static_assert(std::is_same_v<R, std::vector<Record>> || std::is_same_v<R, Record> || std::is_same_v<R, Value>,
                "an Interface returns std::vector<Record>, Record or Value");

 public:
  constexpr Interface(const char* resource, const char* name) : resource_(resource), name_(name) {}

  Result<R> operator()(Engine& engine, Args... args) const { return (*this)(engine, CallOptions{}, args...); }
  Result<R> operator()(Engine& engine, const CallOptions& call, Args... args) const {
    ASHLAR_TRY(reply, ResourceInterface(engine, resource_).call(name_, {Value(args)...}, {}, call));
    constexpr Reply::Shape wanted = std::is_same_v<R, Value>    ? Reply::Shape::value
                                    : std::is_same_v<R, Record> ? Reply::Shape::record
                                                                : Reply::Shape::records;
    if (reply->shape != wanted) return fail(detail::reply_shape_error(resource_, name_, reply->shape, wanted));
    if constexpr (std::is_same_v<R, Value>) return std::move(reply->value);
    else if constexpr (std::is_same_v<R, Record>) return std::move(reply->records.front());
    else return std::move(reply->records);
  }
  // Throws ashlar::Exception carrying the error (Ash's `top!`).
  R or_throw(Engine& engine, Args... args) const { return (*this)(engine, args...).value(); }
  R or_throw(Engine& engine, const CallOptions& call, Args... args) const { return (*this)(engine, call, args...).value(); }

  const char* resource() const { return resource_; }
  const char* name() const { return name_; }

 private:
  const char* resource_;
  const char* name_;
};

}  // namespace ashlar
