// manage_relationship (ashlar/manage.hpp): the input's items matched against the records
// related now (loaded once), the rest looked up once per distinct key, then each item
// related, created, updated or unrelated, and the records no item names handled, all
// through nested actions that join the parent's write transaction.
#include <ashlar/changes.hpp>
#include <ashlar/model/key.hpp>

#include "changeset.hpp"
#include "impl.hpp"
#include "manage_plan.hpp"
#include "reader.hpp"
#include "record_access.hpp"

#include <fmt/format.h>

#include <map>
#include <set>

namespace ashlar {
namespace runtime {
namespace {

// The records related now, and for many_to_many the join records that relate them (by
// the encoded value of their destination attribute).
struct Related {
  std::vector<Record> records;
  std::map<std::string, std::vector<Record>> joins;
};

std::vector<Value> keys_of(const Record& r) {
  std::vector<Value> key;
  for (auto i : r.resource().primary_key()) key.push_back(r[r.resource().attributes()[i].name]);
  return key;
}

std::string encoded_key(const Record& r) { return encode_key(keys_of(r)); }

std::string encoded(const Value& v) {
  std::vector<Value> one{v};
  return encode_key(one);
}

// One pass of a manage_relationship over one parent.
class Manager {
 public:
  Manager(Changeset& cs, const ManagePlan& plan, Reader& reader)
      : cs_(cs), plan_(plan), reader_(reader), impl_(EngineAccess::impl(cs.engine())) {}

  // has_one, has_many, many_to_many: after the parent is written (or destroyed).
  Result<void> after(const Record& parent) {
    source_value_ = parent[plan_.rel->source_attribute];
    ASHLAR_TRY(related, load_related(parent));
    return run(std::move(*related));
  }

  // belongs_to in before_action: the source attribute is set on the changeset itself.
  Result<void> before() {
    Related related;
    Value current = cs_.attribute(plan_.rel->source_attribute);
    if (!current.is_null()) {
      ASHLAR_TRY(found, values_of(*plan_.dest, *plan_.dest->attribute(plan_.rel->destination_attribute), {current}));
      related.records = std::move(*found);
    }
    return run(std::move(related));
  }

  // The records related once the items are handled, as the nested actions left them, in
  // primary key order: what a load of the relationship reads, known without reading it
  // again. nullopt where a read could differ (a to-one relationship, one that filters,
  // sorts or relates by filter alone, Records the caller gave, a many_to_many ordered by
  // a destination attribute other than the key): the caller loads it then.
  std::optional<std::vector<Record>> outcome() const {
    const Relationship& rel = *plan_.rel;
    if (rel.to_one() || rel.filter || !rel.sort.empty() || rel.no_attributes || plan_.has_records) return std::nullopt;
    const auto& pk = plan_.dest->primary_key();
    if (pk.size() != 1 || plan_.dest->attributes()[pk[0]].name != rel.destination_attribute) {
      if (rel.kind == RelationshipKind::many_to_many) return std::nullopt;
    }
    std::map<std::string, Record> out;
    for (const auto& r : current_.records) out.insert_or_assign(encoded_key(r), r);
    for (const auto& key : removed_) out.erase(key);
    for (const auto& r : now_related_) out.insert_or_assign(encoded_key(r), r);
    std::vector<Record> records;
    for (auto& [key, r] : out) records.push_back(r);
    return records;
  }

 private:
  Result<Related> load_related(const Record& parent) {
    Related out;
    ASHLAR_TRY(rows, reader_.related(*plan_.source, *plan_.rel, {parent}, nullptr));
    out.records = std::move(rows->front());
    if (plan_.join && !source_value_.is_null()) {
      const Attribute* a = plan_.join->attribute(plan_.rel->source_attribute_on_join_resource);
      ASHLAR_TRY(joins, values_of(*plan_.join, *a, {source_value_}));
      for (auto& j : *joins)
        out.joins[encoded(j[plan_.rel->destination_attribute_on_join_resource])].push_back(std::move(j));
    }
    return out;
  }

  // Records of r whose attribute a has one of `values`: by index where there is one
  // (one lookup per distinct value), else by one scan.
  Result<std::vector<Record>> values_of(const Resource& r, const Attribute& a, const std::vector<Value>& values) {
    ASHLAR_TRY(indexed, reader_.by_attribute(r, a, values));
    if (*indexed) return std::move(**indexed);
    std::set<std::string> wanted;
    for (const auto& v : values) wanted.insert(encoded(v));
    ASHLAR_TRY(all, reader_.scan(r));
    std::vector<Record> out;
    for (auto& rec : *all)
      if (wanted.count(encoded(rec[a.name]))) out.push_back(std::move(rec));
    return out;
  }

  Result<void> run(Related related) {
    current_ = std::move(related);
    matched_.assign(current_.records.size(), false);
    ASHLAR_TRY_VOID(match_items());
    ASHLAR_TRY_VOID(look_up_items());
    find_repeats();
    // A to-one relationship lets the record it replaces go first (an identity on the
    // destination attribute would refuse the new one while the old one holds it); a
    // to-many one handles the items, then what they left out, as Ash does.
    if (plan_.rel->to_one()) ASHLAR_TRY_VOID(handle_missing());
    for (std::size_t i = 0; i < plan_.items.size(); ++i) {
      if (repeats_[i]) continue;  // the first item reaching a record decides for it
      ASHLAR_TRY_VOID(handle_item(i));
    }
    if (!plan_.rel->to_one()) ASHLAR_TRY_VOID(handle_missing());
    if (!errors_.empty())
      return fail(Error::invalid(cs_.resource().name(), cs_.action().name, std::move(errors_)));
    return {};
  }

  // Which record related now each item names, by the key it carries: the records related
  // now indexed once per key the items use.
  Result<void> match_items() {
    match_.assign(plan_.items.size(), std::nullopt);
    std::map<const ManageKeyDef*, std::multimap<std::string, std::size_t>> index;
    for (std::size_t i = 0; i < plan_.items.size(); ++i) {
      const auto& key = plan_.items[i].key;
      if (!key) continue;
      auto [at, fresh] = index.try_emplace(key->definition);
      if (fresh) {
        for (std::size_t c = 0; c < current_.records.size(); ++c) {
          std::vector<Value> values;
          for (auto a : key->definition->attributes)
            values.push_back(current_.records[c][plan_.dest->attributes()[a].name]);
          at->second.emplace(encode_key(values), c);
        }
      }
      auto [first, last] = at->second.equal_range(encode_key(key->values));
      for (auto it = first; it != last; ++it) {
        if (matched_[it->second]) continue;
        match_[i] = it->second;
        matched_[it->second] = true;
        break;
      }
    }
    return {};
  }

  // The items not related now that on_lookup relates: one index lookup per distinct key
  // (the primary key, or the identity), for the whole input.
  Result<void> look_up_items() {
    found_.assign(plan_.items.size(), std::nullopt);
    std::map<std::pair<const ManageKeyDef*, std::string>, std::optional<Record>> looked_up;
    std::vector<std::optional<Record>*> fresh_found;  // looked up now: readable is decided for all at once
    std::vector<std::pair<std::size_t, const std::optional<Record>*>> by_key;  // item → its lookup
    for (std::size_t i = 0; i < plan_.items.size(); ++i) {
      const ManageItem& item = plan_.items[i];
      if (match_[i]) continue;
      if (item.record) {
        found_[i] = *item.record;
        continue;
      }
      if (!item.key || plan_.on_lookup.kind != manage::Lookup::relate) continue;
      auto [at, fresh] = looked_up.try_emplace({item.key->definition, encode_key(item.key->values)});
      if (fresh) {
        if (item.key->definition->name == "_primary_key") {
          ASHLAR_TRY(got, reader_.get(*plan_.dest, at->first.second));
          at->second = std::move(*got);
        } else {
          ASHLAR_TRY(got, reader_.by_identity(*plan_.dest, item.key->definition->name, item.key->values));
          at->second = std::move(*got);
        }
        if (at->second) fresh_found.push_back(&at->second);
      }
      by_key.emplace_back(i, &at->second);  // a map's elements stay where they are
    }
    // Looked up as the primary read finds them for the actor: one it does not return
    // (another tenant's, filtered out, not the actor's to read) is not found.
    std::vector<Record> records;
    for (auto* found : fresh_found) records.push_back(**found);
    if (!records.empty()) {
      ASHLAR_TRY(readable, reader_.readable(*plan_.dest, records));
      for (std::size_t k = 0; k < fresh_found.size(); ++k)
        if (!(*readable)[k]) fresh_found[k]->reset();
    }
    for (const auto& [i, found] : by_key) found_[i] = *found;
    return {};
  }

  // An item is a repeat when an earlier one reaches the same record (matched or found,
  // whichever key each carries), or carries the same key when neither reaches one.
  void find_repeats() {
    repeats_.assign(plan_.items.size(), false);
    std::set<std::string> reached;
    std::set<std::pair<const ManageKeyDef*, std::string>> keys;
    for (std::size_t i = 0; i < plan_.items.size(); ++i) {
      const Record* target = match_[i] ? &current_.records[*match_[i]] : found_[i] ? &*found_[i] : nullptr;
      if (target) repeats_[i] = !reached.insert(encoded_key(*target)).second;
      else if (const auto& key = plan_.items[i].key)
        repeats_[i] = !keys.emplace(key->definition, encode_key(key->values)).second;
    }
  }

  Result<void> handle_item(std::size_t i) {
    const ManageItem& item = plan_.items[i];
    if (match_[i]) {
      const Record& current = current_.records[*match_[i]];
      switch (plan_.on_match.kind) {
        case manage::Match::ignore: return {};
        case manage::Match::update: return update(i, current);
        case manage::Match::unrelate: return unrelate(current, item.path);
        case manage::Match::error:
          errors_.push_back({item.path, "already_related",
                             fmt::format("{} {} is already related", plan_.dest->name(), describe_key(keys_of(current)))});
          return {};
      }
    }
    if (found_[i]) return relate(*found_[i], item, plan_.on_lookup.action);
    switch (plan_.on_no_match.kind) {
      case manage::NoMatch::ignore: return {};
      case manage::NoMatch::create: return create(i);
      case manage::NoMatch::error:
        if (item.key && plan_.on_lookup.kind == manage::Lookup::relate)
          errors_.push_back({item.path, "not_found", fmt::format("no {} with {}", plan_.dest->name(), item.key->describe())});
        else
          errors_.push_back({item.path, "no_match", fmt::format("matches no {} related through {}", plan_.dest->name(),
                                                                plan_.rel->name)});
        return {};
    }
    return {};
  }

  // What happens to the records related now that no item names. A has_one relates one
  // record: one that an item replaces is unrelated even when on_missing ignores it.
  Result<void> handle_missing() {
    manage::Missing what = plan_.on_missing.kind;
    if (what == manage::Missing::ignore && plan_.rel->kind == RelationshipKind::has_one && replaces_current())
      what = manage::Missing::unrelate;
    for (std::size_t c = 0; c < current_.records.size(); ++c) {
      if (matched_[c]) continue;
      const Record& missing = current_.records[c];
      std::string path = fmt::format("{} ({} {})", plan_.path, plan_.dest->name(), describe_key(keys_of(missing)));
      switch (what) {
        case manage::Missing::ignore: break;
        case manage::Missing::unrelate: ASHLAR_TRY_VOID(unrelate(missing, path)); break;
        case manage::Missing::destroy: ASHLAR_TRY_VOID(destroy(missing, path)); break;
      }
    }
    return {};
  }

  // Whether an item will relate or create a record other than those related now.
  bool replaces_current() const {
    for (std::size_t i = 0; i < plan_.items.size(); ++i) {
      if (match_[i] || repeats_[i]) continue;
      if (found_[i] || plan_.on_no_match.kind == manage::NoMatch::create) return true;
    }
    return false;
  }

  // --- the nested actions ---

  // Runs `type` on r (with the record `target` for updates and destroys) as a nested
  // action of the parent. Errors about its input (Invalid, and Conflicts such as an
  // identity taken) are kept under `path` — the parent goes on, to report every bad item
  // at once — and nullopt returned; other errors end the parent.
  Result<std::optional<Record>> nested(const Resource& r, ActionType type, const std::string& action,
                                       const Record* target, const Fields& inputs, const Fields& forced,
                                       const std::string& path) {
    CallOptions opts = cs_.to_opts();
    opts.action = action;
    opts.causation_id = ChangesetAccess::call(cs_).causation_id;
    ASHLAR_TRY(a, impl_.action(r, type, action));
    std::optional<Record> data;
    if (target) {
      ASHLAR_TRY(stored, impl_.find(r, keys_of(*target), ChangesetAccess::call(cs_).tenant));  // as stored now, in this transaction
      if (!*stored) return std::optional<Record>{};  // already gone: nothing to do
      data = std::move(**stored);
    }
    Changeset c = ChangesetAccess::build(cs_.engine(), r, **a, inputs, opts, std::move(data), forced);
    auto done = cs_.engine().run(std::move(c));
    if (done) return std::optional<Record>{std::move(*done)};
    const Error& e = done.error();
    if (e.cls != ErrorClass::invalid && e.cls != ErrorClass::conflict) return fail(e);
    for (const auto& f : e.fields)
      errors_.push_back({f.field.empty() ? path : path + "." + f.field, f.code, f.message});
    if (e.fields.empty()) errors_.push_back({path, e.code, e.message});
    return std::optional<Record>{};
  }

  // The item's fields, without those written elsewhere (join keys on the join record) or,
  // for the update of a record the item matched, those only used to find it (key
  // attributes the action does not accept). A record created gets every field: a key it
  // cannot take is refused, not dropped — the item named a record, and a new one under
  // another key is not that record.
  Fields inputs_for(const ManageItem& item, const Action* action) const {
    Fields out;
    for (const auto& [name, value] : item.fields) {
      if (std::find(plan_.join_keys.begin(), plan_.join_keys.end(), name) != plan_.join_keys.end()) continue;
      if (action && item.key && item.key->names(name) && !action->accepts(name) && !action->argument(name)) continue;
      out.emplace_back(name, value);
    }
    return out;
  }

  Fields join_inputs(const ManageItem& item) const {
    Fields out;
    for (const auto& [name, value] : item.fields)
      if (std::find(plan_.join_keys.begin(), plan_.join_keys.end(), name) != plan_.join_keys.end())
        out.emplace_back(name, value);
    return out;
  }

  Result<void> create(std::size_t i) {
    const ManageItem& item = plan_.items[i];
    const Relationship& rel = *plan_.rel;
    Fields forced;
    bool sets_destination = rel.kind == RelationshipKind::has_many || rel.kind == RelationshipKind::has_one;
    if (sets_destination && !rel.no_attributes) forced.emplace_back(rel.destination_attribute, source_value_);
    ASHLAR_TRY(created, nested(*plan_.dest, ActionType::create, plan_.on_no_match.action, nullptr,
                               inputs_for(item, nullptr), forced, item.path));
    if (!*created) return {};
    if (rel.kind == RelationshipKind::belongs_to || rel.kind == RelationshipKind::many_to_many)
      return relate(**created, item, plan_.on_lookup.action);
    now_related_.push_back(std::move(**created));
    return {};
  }

  Result<void> update(std::size_t i, const Record& current) {
    const ManageItem& item = plan_.items[i];
    const Relationship& rel = *plan_.rel;
    ASHLAR_TRY(a, impl_.action(*plan_.dest, ActionType::update, plan_.on_match.action));
    ASHLAR_TRY(updated, nested(*plan_.dest, ActionType::update, plan_.on_match.action, &current,
                               inputs_for(item, *a), {}, item.path));
    if (*updated) {
      // An update that moved the record to another parent took it out of this one.
      bool moved = (rel.kind == RelationshipKind::has_many || rel.kind == RelationshipKind::has_one) && !rel.no_attributes &&
                   (**updated)[rel.destination_attribute] != source_value_;
      if (moved) removed_.push_back(encoded_key(**updated));
      else now_related_.push_back(**updated);
    }
    if (!plan_.join || plan_.join_keys.empty()) return {};
    Fields join_values = join_inputs(item);
    if (join_values.empty()) return {};
    for (const auto& join : joins_to(current))
      ASHLAR_TRY_VOID(nested(*plan_.join, ActionType::update, "", &join, join_values, {}, item.path));
    return {};
  }

  Result<void> relate(const Record& record, const ManageItem& item, const std::string& action) {
    const Relationship& rel = *plan_.rel;
    if (rel.no_attributes) return {};  // nothing to set: relating has no effect
    switch (rel.kind) {
      case RelationshipKind::belongs_to:
        if (cs_.action().type == ActionType::destroy) return {};
        cs_.force_change(rel.source_attribute, record[rel.destination_attribute]);
        return {};
      case RelationshipKind::has_one:
      case RelationshipKind::has_many: {
        // As stored now (a Record the caller gave may be older), already related or not.
        ASHLAR_TRY(stored, impl_.find(*plan_.dest, keys_of(record), ChangesetAccess::call(cs_).tenant));
        if (!*stored) {
          errors_.push_back({item.path, "not_found", fmt::format("no {} with primary key {}", plan_.dest->name(),
                                                                 describe_key(keys_of(record)))});
          return {};
        }
        if ((**stored)[rel.destination_attribute] == source_value_) {
          now_related_.push_back(std::move(**stored));
          return {};
        }
        Fields forced{{rel.destination_attribute, source_value_}};
        ASHLAR_TRY(moved, nested(*plan_.dest, ActionType::update, action, &**stored, {}, forced, item.path));
        if (*moved) now_related_.push_back(std::move(**moved));
        return {};
      }
      case RelationshipKind::many_to_many: {
        if (!joins_to(record).empty()) return {};  // related already
        Fields forced{{rel.source_attribute_on_join_resource, source_value_},
                      {rel.destination_attribute_on_join_resource, record[rel.destination_attribute]}};
        ASHLAR_TRY(join, nested(*plan_.join, ActionType::create, action, nullptr, join_inputs(item), forced, item.path));
        if (*join) {
          current_.joins[encoded(record[rel.destination_attribute])].push_back(std::move(**join));
          now_related_.push_back(record);
        }
        return {};
      }
    }
    return {};
  }

  // The join records that relate the parent to `record`.
  const std::vector<Record>& joins_to(const Record& record) const {
    static const std::vector<Record> none;
    auto it = current_.joins.find(encoded(record[plan_.rel->destination_attribute]));
    return it == current_.joins.end() ? none : it->second;
  }

  Result<void> unrelate(const Record& record, const std::string& path) {
    const Relationship& rel = *plan_.rel;
    if (rel.no_attributes) return {};  // nothing to clear: unrelating has no effect
    removed_.push_back(encoded_key(record));
    switch (rel.kind) {
      case RelationshipKind::belongs_to:
        if (cs_.action().type == ActionType::destroy) return {};
        cs_.force_change(rel.source_attribute, Value());
        return {};
      case RelationshipKind::has_one:
      case RelationshipKind::has_many: {
        Fields forced{{rel.destination_attribute, Value()}};
        ASHLAR_TRY_VOID(nested(*plan_.dest, ActionType::update, "", &record, {}, forced, path));
        return {};
      }
      case RelationshipKind::many_to_many:
        for (const auto& join : joins_to(record))
          ASHLAR_TRY_VOID(nested(*plan_.join, ActionType::destroy, "", &join, {}, {}, path));
        return {};
    }
    return {};
  }

  Result<void> destroy(const Record& record, const std::string& path) {
    removed_.push_back(encoded_key(record));
    if (plan_.rel->kind == RelationshipKind::belongs_to && cs_.action().type != ActionType::destroy)
      cs_.force_change(plan_.rel->source_attribute, Value());
    if (plan_.join)
      for (const auto& join : joins_to(record))
        ASHLAR_TRY_VOID(nested(*plan_.join, ActionType::destroy, "", &join, {}, {}, path));
    ASHLAR_TRY_VOID(nested(*plan_.dest, ActionType::destroy, plan_.on_missing.action, &record, {}, {}, path));
    return {};
  }

  Changeset& cs_;
  const ManagePlan& plan_;
  Reader& reader_;
  EngineImpl& impl_;
  Value source_value_;
  Related current_;
  std::vector<bool> matched_;                      // per record related now
  std::vector<std::optional<std::size_t>> match_;  // per item: the record related now it names
  std::vector<std::optional<Record>> found_;       // per item: the record its lookup found
  std::vector<bool> repeats_;                      // per item: an earlier one reaches the same record
  std::vector<Record> now_related_;                // related, created or updated by this pass, as written
  std::vector<std::string> removed_;               // encoded keys of the records it unrelated or destroyed
  std::vector<FieldError> errors_;
};

// Runs the plan; after the parent is written, returns the records now related when they
// are known without a read (Manager::outcome).
Result<std::optional<std::vector<Record>>> manage_with(Changeset& cs, const ManagePlan& plan, const Record* parent) {
  EngineImpl& impl = EngineAccess::impl(cs.engine());
  const Txn* txn = impl.open_txn();
  if (!txn) return fail(Error::framework("manage_relationship runs inside the action's write transaction only"));
  EvalContext base;
  base.actor = cs.actor();
  base.tenant = ChangesetAccess::call(cs).tenant;
  Reader reader(impl.domain, *impl.log, impl.state, impl.tenants.get(), *txn, base);
  reader.set_authorize(ChangesetAccess::call(cs).authorize.value_or(true));
  Manager manager(cs, plan, reader);
  if (parent) {
    ASHLAR_TRY_VOID(manager.after(*parent));
    return manager.outcome();
  }
  // A required belongs_to attribute left empty is checked after every before_action hook.
  ASHLAR_TRY_VOID(manager.before());
  return std::optional<std::vector<Record>>{};
}

// The parent as returned, with the managed relationship loaded as it now stands.
Result<Record> with_loaded(Changeset& cs, const ManagePlan& plan, Record record) {
  EngineImpl& impl = EngineAccess::impl(cs.engine());
  const Txn* txn = impl.open_txn();
  if (!txn || cs.action().type == ActionType::destroy) return record;
  EvalContext base;
  base.actor = cs.actor();
  base.tenant = ChangesetAccess::call(cs).tenant;
  Reader reader(impl.domain, *impl.log, impl.state, impl.tenants.get(), *txn, base);
  reader.set_authorize(ChangesetAccess::call(cs).authorize.value_or(true));
  ASHLAR_TRY(rows, reader.related(cs.resource(), *plan.rel, {record}, nullptr));
  RecordAccess::set_related(record, plan.rel->name, std::move(rows->front()));
  return record;
}

}  // namespace

Result<void> schedule_manage(Changeset& cs, std::shared_ptr<const ManagePlan> plan) {
  bool before = plan->rel->kind == RelationshipKind::belongs_to && cs.action().type != ActionType::destroy;
  if (before) {
    if (auto i = cs.resource().attribute_index(plan->rel->source_attribute)) ChangesetAccess::managed(cs).push_back(*i);
    cs.before_action([plan](Changeset& c) -> Result<void> {
      ASHLAR_TRY_VOID(manage_with(c, *plan, nullptr));
      return {};
    });
    cs.after_action([plan](Changeset& c, Record record) { return with_loaded(c, *plan, std::move(record)); });
    return {};
  }
  cs.after_action([plan](Changeset& c, Record record) -> Result<Record> {
    ASHLAR_TRY(outcome, manage_with(c, *plan, &record));
    if (!*outcome) return with_loaded(c, *plan, std::move(record));
    if (c.action().type != ActionType::destroy) RecordAccess::set_related(record, plan->rel->name, std::move(**outcome));
    return record;
  });
  return {};
}

}  // namespace runtime
}  // namespace ashlar
