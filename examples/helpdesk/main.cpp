// The helpdesk example: representatives and their tickets, after the Helpdesk of the Ash
// guides — the `top` read action and code interface of "Actions", an `open` action with
// an argument and validations, an `escalate_all` generic action, and the
// tickets-above-threshold manual relationship of "Relationships" — read back with
// filters, sorts, loads, aggregates, an identity and keyset pagination.
//
//   build/bin/helpdesk ./helpdesk-data
//   build/bin/ashlar query ./helpdesk-data Ticket --sort -severity --load representative

#include "domain.hpp"

#include <ashlar/ashlar.hpp>

#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace ashlar;
using namespace ashlar::dsl;
using helpdesk::helpdesk_domain;

// The Ticket code interfaces, typed: ticket::top(engine, rep_id) is the reference's
// Helpdesk.Support.Ticket.top(user.id); or_throw is its top!.
namespace ticket {
inline constexpr Interface<std::vector<Record>(Value)> top{"Ticket", "top"};
inline constexpr Interface<Record(std::string)> by_reference{"Ticket", "by_reference"};
inline constexpr Interface<Value(Value)> escalate_all{"Ticket", "escalate_all"};
}  // namespace ticket

// Strings and atoms as plain text; anything else in its canonical form.
std::string text(const Value& value) {
  if (const auto* s = value.as_string()) return *s;
  if (const auto* a = value.as_atom()) return a->name;
  return value.str();
}

// "HD-1003 [medium, severity 3, open] VPN drops every hour"
std::string ticket_line(const Record& t) {
  return text(t["reference"]) + " [" + text(t["priority"]) + ", severity " + text(t["severity"]) + ", " +
         text(t["status"]) + "] " + text(t["subject"]);
}

void print_tickets(const std::string& title, const std::vector<Record>& tickets) {
  std::cout << title << "\n";
  if (tickets.empty()) std::cout << "    (none)\n";
  for (const auto& t : tickets) {
    std::cout << "    " << ticket_line(t);
    if (const Record* rep = t.one("representative")) std::cout << "  -> " << text((*rep)["name"]);
    std::cout << "\n";
  }
}

struct Story {
  Record rita, sam;
};

Story fill(Engine& engine) {
  const CallOptions as_desk{.actor = "helpdesk-example"};
  auto rita = engine.create("Representative", {{"name", "Rita"}}, as_desk).value();  // threshold 2
  auto sam = engine.create("Representative", {{"name", "Sam"}, {"severity_threshold", 3}}, as_desk).value();
  struct Row {
    const char* reference;
    const char* subject;
    const char* priority;
    int severity;
    const Record& rep;
  };
  for (const Row& row : {Row{"HD-1001", "Printer on fire", "high", 4, rita},
                         Row{"HD-1002", "Password reset", "low", 1, rita},
                         Row{"HD-1003", "VPN drops every hour", "medium", 3, rita},
                         Row{"HD-1004", "Laptop will not boot", "high", 3, sam},
                         Row{"HD-1005", "New monitor", "low", 2, sam},
                         Row{"HD-1006", "Email bounces", "medium", 2, rita}}) {
    // The `open` code interface by name: positional reference and subject, the rest named.
    auto t = engine.interface("Ticket")
                 .call_or_throw("open", {row.reference, row.subject},
                                {{"priority", row.priority}, {"severity", row.severity}, {"representative_id", row.rep.id()}},
                                as_desk)
                 .record();
    std::cout << "opened " << ticket_line(t) << " for " << text(row.rep["name"]) << "\n";
  }
  // The validations of `open` report every bad field at once; nothing is appended.
  auto sloppy = engine.interface("Ticket").call("open", {"1007", "Hi"}, {}, as_desk);
  if (sloppy) throw std::runtime_error("a sloppy ticket was accepted");
  std::cout << "refused a sloppy ticket: " << sloppy.error().describe() << "\n";
  auto bounced = ticket::by_reference.or_throw(engine, "HD-1006");
  engine.update("Ticket", bounced.id(), {{"status", "closed"}, {"closed_at", DateTime::now()}}, as_desk).value();
  std::cout << "closed HD-1006\n";
  // Reassigned to Sam through the relationship: the representative is looked up by id.
  auto moved = engine.update("Ticket", bounced.id(), {{"assignee", sam.id()}}, {.action = "assign", .actor = as_desk.actor})
                   .value();
  std::cout << "assigned HD-1006 to " << text((*moved.one("representative"))["name"]) << "\n";
  auto nobody = engine.update("Ticket", bounced.id(), {{"assignee", Uuid::v4()}}, {.action = "assign"});
  if (nobody) throw std::runtime_error("a ticket was assigned to nobody");
  std::cout << "refused an unknown assignee: " << nobody.error().describe() << "\n";
  // The identity refuses a second HD-1001: a Conflict naming it, nothing appended.
  auto twice = engine.create("Ticket", {{"reference", "HD-1001"}, {"subject", "Printer still on fire"}}, as_desk);
  if (twice) throw std::runtime_error("a second HD-1001 was accepted");
  std::cout << "refused a second HD-1001: " << twice.error().describe() << "\n";
  return {rita, sam};
}

void escalate(Engine& engine, const Story& s) {
  // The generic action through its code interface: Ticket.escalate_all(rita.id), on
  // behalf of an actor that the updates it runs record.
  Value raised = ticket::escalate_all.or_throw(engine, {.actor = "helpdesk-example"}, s.rita.id());
  std::cout << "\nescalate_all for Rita (severity 3 and up) raised " << text(raised) << " ticket(s) to high\n";
  // Its arguments are cast and checked like any action's: a Value or an error, never a throw.
  auto too_much = engine.run_action("Ticket", "escalate_all", {{"representative_id", s.sam.id()}, {"min_severity", 9}});
  if (too_much) throw std::runtime_error("min_severity 9 was accepted");
  std::cout << "escalate_all with min_severity 9: " << too_much.error().describe() << "\n";
}

void read_tickets(Engine& engine, const Story& s) {
  // Ticket.top(rita.id): open medium/high tickets, newest first, at most 10.
  print_tickets("\nRita's top tickets (code interface ticket::top(engine, rita.id())):",
                ticket::top.or_throw(engine, s.rita.id()));

  // for_read(:top, ...) |> filter(opened_at > ago(10, :minute)): the caller's filter is and-ed.
  print_tickets("\n...of those, opened in the last 10 minutes and of severity 4 or more:",
                engine.read("Ticket", {.action = "top",
                                       .args = {{"user_id", s.rita.id()}},
                                       .filter = ref("opened_at") > ago(10, TimeUnit::minute) && ref("severity") >= 4})
                    .value());

  // The text form, as `ashlar query --filter` takes it; a path through belongs_to.
  auto above = parse_expr("status == :open and representative.severity_threshold < severity").value();
  print_tickets("\nopen tickets above their representative's threshold, worst first (loaded: representative):",
                engine.read("Ticket", {.filter = above, .sort = parse_sort("-severity,reference").value(),
                                       .load = {"representative"}})
                    .value());

  // An identity is an index lookup (here with a load, which the code interface lacks).
  auto laptop = engine.get_by("Ticket", "unique_reference", {{"reference", "HD-1004"}}, {.load = {"representative"}});
  print_tickets("\nget_by unique_reference HD-1004:", {laptop.value()});

  // Keyset pagination: each page starts after the previous page's last cursor.
  std::cout << "\nevery ticket by reference, two per page:\n";
  std::string after;
  for (int page = 1;; ++page) {
    auto rows = engine.read("Ticket", {.sort = {SortKey::asc("reference")}, .limit = 2, .after = after}).value();
    if (rows.empty()) break;
    std::cout << "  page " << page << ":";
    for (const auto& t : rows) std::cout << " " << text(t["reference"]);
    std::cout << "\n";
    after = rows.back().cursor();
  }
}

void read_representatives(const Engine& engine) {
  // Aggregates (count, max) sort and load like attributes; the manual relationship loads
  // through TicketsAboveThreshold, its query customized (sorted, and strict: a select).
  auto reps = engine.read("Representative",
                          {.sort = {SortKey::desc("ticket_count")},
                           .load = {"ticket_count", "worst_severity",
                                    Load("tickets_above_threshold",
                                         {.sort = parse_sort("-severity").value(),
                                          .select = {"reference", "subject", "severity", "priority", "status"}})}})
                  .value();
  std::cout << "\nrepresentatives, busiest first (loaded: ticket_count, worst_severity, tickets_above_threshold):\n";
  for (const auto& rep : reps) {
    std::cout << "  " << text(rep["name"]) << ": " << text(rep["ticket_count"]) << " tickets, worst severity "
              << text(rep["worst_severity"]) << ", threshold " << text(rep["severity_threshold"]) << "\n";
    for (const auto& t : rep.related("tickets_above_threshold")) std::cout << "    above: " << ticket_line(t) << "\n";
  }

  // A filter on an attribute the model does not have is an error value naming it.
  auto typo = engine.read("Ticket", {.filter = parse_expr("colour == \"red\"").value()});
  if (typo) throw std::runtime_error("a filter on an unknown attribute was accepted");
  std::cout << "\na filter on an unknown attribute: " << typo.error().describe() << "\n";
}

int run(const std::string& dir) {
  auto engine = Engine::open(dir, helpdesk_domain()).value();
  std::cout << "the helpdesk in " << dir << "\n\n";
  Story story = fill(engine);
  escalate(engine, story);
  read_tickets(engine, story);
  read_representatives(engine);
  std::cout << "\nfrom the shell, with the model stored in the log:\n"
            << "  ashlar query " << dir << " Ticket --action top --arg user_id=" << story.rita.id().str()
            << " --load representative\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " DIR\n"
              << "  runs the helpdesk story against the ashlar store in DIR (created if missing)\n";
    return 2;
  }
  try {
    return run(argv[1]);
  } catch (const std::exception& e) {  // a .value() on an error: a failure of the example
    std::cerr << "helpdesk: " << e.what() << "\n";
    return 1;
  }
}
