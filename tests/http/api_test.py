#!/usr/bin/env python3
"""Drives examples/helpdesk_api over HTTP with Python's standard library alone: the OpenAPI
document (checked by a validator from npm too), every route kind, filters, sorts,
includes, sparse fieldsets, keyset paging both ways, each error status with its pointer,
If-Match conflicts and idempotent retries.

    api_test.py --server build/bin/helpdesk_api \
        --openapi-validator /usr/local/lib/ashlar-npm/node_modules/.bin/validate-api
"""

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request

JSON_API = "application/vnd.api+json"
TIMEOUT = 10  # seconds, for every request and wait


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Api:
    def __init__(self, base):
        self.base = base

    def call(self, method, path, body=None, headers=None, raw=None):
        """(status, headers, document) of one request; document is None for an empty body."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", JSON_API)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                status, head, text = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, head, text = error.code, error.headers, error.read()
        return status, head, json.loads(text) if text else None

    def get(self, path, **params):
        query = urllib.parse.urlencode(params)
        return self.call("GET", path + ("?" + query if query else ""))

    def write(self, method, path, body=None, who="ann", headers=None, raw=None):
        headers = dict(headers or {})
        if who:
            headers["Authorization"] = "Bearer " + who
        return self.call(method, path, body, headers, raw)


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def expect_ok(result, status=200):
    got, _, doc = result
    expect(got == status, "status %s, not %s: %s" % (got, status, doc))
    return doc


def expect_errors(result, status, expected):
    """The error document of `result` is exactly `expected`: (code, detail, source) each."""
    got, head, doc = result
    expect(got == status, "status %s, not %s: %s" % (got, status, doc))
    expect(head.get("Content-Type", "").startswith(JSON_API), "content type %s" % head.get("Content-Type"))
    errors = [(e["code"], e.get("detail"), e.get("source")) for e in doc["errors"]]
    expect(all(e["status"] == str(status) for e in doc["errors"]), "statuses in %s" % doc)
    expect(errors == expected, "errors %s, not %s" % (errors, expected))


def refs(doc):
    return [r["attributes"]["reference"] for r in doc["data"]]


def ticket(api, reference):
    doc = expect_ok(api.get("/tickets", filter='reference == "%s"' % reference))
    expect(len(doc["data"]) == 1, "one ticket %s: %s" % (reference, doc))
    return doc["data"][0]


def rep(api, name):
    doc = expect_ok(api.get("/representatives", filter='name == "%s"' % name))
    return doc["data"][0]


def new_ticket(reference, subject, **more):
    attributes = {"reference": reference, "subject": subject, **more}
    return {"data": {"type": "ticket", "attributes": attributes}}


# ---- reads: the seeded helpdesk, before any write ----

def check_index_and_get(api):
    doc = expect_ok(api.get("/tickets", sort="reference"))
    expect(refs(doc) == ["HD-1001", "HD-1002", "HD-1003", "HD-1004", "HD-1005"], refs(doc))
    first = doc["data"][0]
    expect(first["type"] == "ticket" and first["links"]["self"] == "/tickets/" + first["id"], first)
    expect("id" not in first["attributes"], "the primary key is the id, not an attribute")
    status, head, one = api.get("/tickets/" + first["id"])
    expect(status == 200 and one["data"] == first, "get returns the index's object: %s" % one)
    expect(head["ETag"] == '"1"', "ETag %s" % head["ETag"])
    linkage = one["data"]["relationships"]["representative"]
    expect(linkage["data"]["type"] == "representative", linkage)
    expect(linkage["links"]["related"] == "/tickets/%s/representative" % first["id"], linkage)


def check_filter_and_sort(api):
    doc = expect_ok(api.get("/tickets", filter="severity >= 3 and status == :open", sort="reference"))
    expect(refs(doc) == ["HD-1001", "HD-1003", "HD-1004"], refs(doc))
    doc = expect_ok(api.get("/tickets", sort="-severity,reference"))
    expect(refs(doc) == ["HD-1001", "HD-1003", "HD-1004", "HD-1005", "HD-1002"], refs(doc))
    doc = expect_ok(api.get("/tickets", filter="representative.name == \"Sam\"", sort="-priority,reference"))
    expect(refs(doc) == ["HD-1005", "HD-1004"], "atoms sort by name: %s" % refs(doc))


def check_include_and_fields(api):
    printer = ticket(api, "HD-1001")
    doc = expect_ok(api.get("/tickets/" + printer["id"], include="representative.tickets"))
    included = sorted((r["type"], r["attributes"].get("name") or r["attributes"]["reference"]) for r in doc["included"])
    expect(included == [("representative", "Rita"), ("ticket", "HD-1002"), ("ticket", "HD-1003")],
           "the primary record is not included again: %s" % included)
    doc = expect_ok(api.get("/tickets", sort="reference", **{"fields[ticket]": "reference,severity"}))
    expect(all(set(r["attributes"]) == {"reference", "severity"} for r in doc["data"]), doc["data"][0])
    rita = rep(api, "Rita")
    doc = expect_ok(api.get("/representatives/" + rita["id"], include="tickets",
                            **{"fields[representative]": "name,ticket_count", "fields[ticket]": "reference"}))
    expect(doc["data"]["attributes"] == {"name": "Rita", "ticket_count": 3}, doc["data"]["attributes"])
    expect(sorted(r["attributes"]["reference"] for r in doc["included"]) == ["HD-1001", "HD-1002", "HD-1003"],
           doc["included"])
    expect(len(doc["data"]["relationships"]["tickets"]["data"]) == 3, doc["data"]["relationships"])


def check_paging(api):
    seen, sizes, path = [], [], "/tickets?" + urllib.parse.urlencode({"sort": "reference", "page[limit]": 2})
    for _ in range(10):
        doc = expect_ok(api.call("GET", path))
        seen += refs(doc)
        sizes.append(len(doc["data"]))
        if "next" not in doc["links"]:
            break
        path = doc["links"]["next"]
    expect(seen == ["HD-1001", "HD-1002", "HD-1003", "HD-1004", "HD-1005"], seen)
    expect(sizes == [2, 2, 1], "pages of %s" % sizes)
    expect("prev" in doc["links"], "the last page links back: %s" % doc["links"])
    # Back from the last page with links.prev (page[before]): the same pages, in order.
    back = []
    for _ in range(10):
        path = doc["links"]["prev"]
        expect("page%5Bbefore%5D=" in path and "page%5Bafter%5D" not in path, path)
        doc = expect_ok(api.call("GET", path))
        back = refs(doc) + back
        if "prev" not in doc["links"]:
            break
    expect(back == ["HD-1001", "HD-1002", "HD-1003", "HD-1004"], back)
    expect(len(doc["data"]) == 2 and "next" in doc["links"], "the first page again: %s" % doc)
    first = expect_ok(api.get("/tickets", sort="reference", **{"page[limit]": 2}))
    expect("prev" not in first["links"], "nothing before the first page: %s" % first["links"])


def check_related(api):
    laptop = ticket(api, "HD-1004")
    doc = expect_ok(api.get("/tickets/%s/representative" % laptop["id"]))
    expect(doc["data"]["attributes"]["name"] == "Sam", doc)
    sam = rep(api, "Sam")
    doc = expect_ok(api.get("/representatives/%s/tickets" % sam["id"], include="representative"))
    expect(sorted(refs(doc)) == ["HD-1004", "HD-1005"], refs(doc))
    expect([r["id"] for r in doc["included"]] == [sam["id"]], doc["included"])
    doc = expect_ok(api.get("/representatives/%s/tickets_above_threshold" % rep(api, "Rita")["id"]))
    expect(sorted(refs(doc)) == ["HD-1001", "HD-1003"], "severity above 2: %s" % refs(doc))


def check_read_errors(api):
    expect_errors(api.get("/tickets", filter="severity >="), 400,
                  [("invalid_input", 'at column 12: expected a value after ">=", found end of input',
                    {"parameter": "filter"})])
    expect_errors(api.get("/tickets", filter='colour == "red"'), 400,
                  [("unknown_attribute", "filter: Ticket has no attribute colour", {"parameter": "filter"})])
    expect_errors(api.get("/tickets", sort=",x"), 400,
                  [("invalid_input", 'at column 1: expected a field name, found ","', {"parameter": "sort"})])
    expect_errors(api.get("/tickets", **{"page[limit]": "0"}), 400,
                  [("invalid_input", "must be a count from 1 to 1000", {"parameter": "page[limit]"})])
    expect_errors(api.get("/tickets", **{"page[offset]": "-1"}), 400,
                  [("invalid_input", "must be a count of records to skip", {"parameter": "page[offset]"})])
    expect_errors(api.get("/tickets", **{"page[after]": "garbage"}), 400,
                  [("invalid_cursor", "after: is not a cursor this query returned", {"parameter": "page[after]"})])
    expect_errors(api.get("/tickets", **{"page[before]": "garbage"}), 400,
                  [("invalid_cursor", "before: is not a cursor this query returned", {"parameter": "page[before]"})])
    expect_errors(api.get("/tickets", **{"fields[widget]": "x"}), 400,
                  [("invalid_input", 'no resource has the type "widget"', {"parameter": "fields[widget]"})])
    expect_errors(api.get("/tickets", **{"fields[ticket]": "colour"}), 400,
                  [("invalid_input", 'Ticket has no attribute, aggregate or calculation "colour"',
                    {"parameter": "fields[ticket]"})])
    expect_errors(api.get("/tickets", include="representative..tickets"), 400,
                  [("invalid_input", '"representative..tickets" has an empty relationship name',
                    {"parameter": "include"})])
    expect_errors(api.get("/tickets", colour="red"), 400,
                  [("invalid_input", "is not a parameter of this route", {"parameter": "colour"})])
    expect_errors(api.get("/tickets/not-a-uuid"), 404,
                  [("not_found", 'no Ticket has the id "not-a-uuid"', None)])
    missing = "00000000-0000-0000-0000-000000000000"
    expect_errors(api.get("/tickets/" + missing), 404,
                  [("not_found", "no Ticket with primary key " + missing, None)])
    expect_errors(api.get("/widgets"), 404, [("not_found", "no route answers this method and path", None)])
    expect_errors(api.get("/tickets", filter="(" * 9000), 414,
                  [("too_large", "the URI is longer than the server accepts", None)])


# ---- writes ----

def check_create(api):
    sam = rep(api, "Sam")
    body = new_ticket("HD-2001", "Screen flickers", severity=2)
    body["data"]["relationships"] = {"representative": {"data": {"type": "representative", "id": sam["id"]}}}
    status, head, doc = api.write("POST", "/tickets", body)
    expect(status == 201, "status %s: %s" % (status, doc))
    created = doc["data"]
    expect(head["Location"] == "/tickets/" + created["id"] and head["ETag"] == '"1"', dict(head))
    expect(created["attributes"]["representative_id"] == sam["id"], created)
    expect(created["attributes"]["priority"] == "low" and created["attributes"]["status"] == "open", created)
    expect(expect_ok(api.get(head["Location"]))["data"] == created, "the Location reads the record back")


def check_create_errors(api):
    expect_errors(api.write("POST", "/tickets", new_ticket("1007", "Hi")), 422,
                  [("match", "reference: must look like HD-1234", {"pointer": "/data/attributes/reference"}),
                   ("min_length", "subject: must be at least 3 characters long",
                    {"pointer": "/data/attributes/subject"})])
    expect_errors(api.write("POST", "/tickets", new_ticket("HD-2002", "Cables", colour="red")), 422,
                  [("unknown_input", "colour: is not an attribute or argument of Ticket.open",
                    {"pointer": "/data/attributes/colour"})])
    unknown_rep = new_ticket("HD-2002", "Cables")
    unknown_rep["data"]["relationships"] = {"representative": {"data": {"type": "representative", "id": "x"}}}
    expect_errors(api.write("POST", "/tickets", unknown_rep), 422,
                  [("invalid_type", 'representative_id: "x" is not a uuid', {"pointer": "/data/relationships/representative"})])
    unknown_rep["data"]["relationships"] = {"representative": {"data": {"type": "representative"}}}
    expect_errors(api.write("POST", "/tickets", unknown_rep), 400,
                  [("malformed", 'must be a resource identifier: {"type", "id"}, or null',
                    {"pointer": "/data/relationships/representative/data"})])
    expect_errors(api.write("POST", "/tickets", new_ticket("HD-1001", "Printer still on fire")), 409,
                  [("identity_taken", "reference: has already been taken", {"pointer": "/data/attributes/reference"})])
    expect_errors(api.write("POST", "/tickets", {"data": {"type": "representative", "attributes": {}}}), 409,
                  [("type_mismatch", 'is not "ticket", the type of this route', {"pointer": "/data/type"})])
    expect_errors(api.write("POST", "/tickets", raw=b'{"data":'), 400, [("malformed", "the body is not JSON", None)])
    # A key given twice is an input given twice, as the C++ API has it; elsewhere, a malformed body.
    twice = (b'{"data": {"type": "ticket", "attributes": {"reference": "HD-2002", "subject": "Cables", '
             b'"subject": "Cords"}}}')
    expect_errors(api.write("POST", "/tickets", raw=twice), 422,
                  [("duplicate_input", "is given more than once", {"pointer": "/data/attributes/subject"})])
    expect_errors(api.write("POST", "/tickets", raw=b'{"data": {"type": "ticket", "type": "ticket"}}'), 400,
                  [("malformed", 'an object in the body repeats the key "type"', None)])
    expect_errors(api.write("POST", "/tickets", raw=b'{"data": {"type": "ticket"}, "meta": {"a": 1, "a": 2}}'), 400,
                  [("malformed", 'an object in the body repeats the key "a"', None)])
    # A relationship the action does not take is refused where it was sent.
    stranger = new_ticket("HD-2002", "Cables")
    stranger["data"]["relationships"] = {"owner": {"data": {"type": "representative", "id": "x"}}}
    expect_errors(api.write("POST", "/tickets", stranger), 422,
                  [("unknown_input", "owner: is not an attribute or argument of Ticket.open",
                    {"pointer": "/data/relationships/owner"})])
    expect_errors(api.write("POST", "/tickets", {"data": []}), 400, [("malformed", "must be an object", {"pointer": "/data"})])
    expect_errors(api.write("POST", "/tickets", raw=b"x" * (2 << 20)), 413,
                  [("too_large", "the body is larger than the server accepts", None)])
    status, _, doc = api.call("POST", "/tickets", None, {"Authorization": "Bearer ann", "Content-Type": "text/plain"})
    expect(status == 415 and doc["errors"][0]["source"] == {"header": "Content-Type"}, "%s %s" % (status, doc))
    expect(len(expect_ok(api.get("/tickets"))["data"]) == 6, "none of the refused writes was stored")


def check_authentication(api):
    expect_errors(api.write("POST", "/tickets", new_ticket("HD-2003", "Mouse"), who=None), 401,
                  [("unauthenticated", "send Authorization: Bearer NAME to change the helpdesk", None)])
    expect_errors(api.call("GET", "/tickets", headers={"Authorization": "Basic abc"}), 401,
                  [("unauthenticated", 'Authorization must be "Bearer NAME"', None)])
    expect_errors(api.write("POST", "/tickets", new_ticket("HD-2003", "Mouse"), who="guest"), 403,
                  [("forbidden", "guest may only read", None)])
    expect_ok(api.call("GET", "/tickets", headers={"Authorization": "Bearer guest"}))


def check_update_and_if_match(api):
    target = ticket(api, "HD-1002")
    path = "/tickets/" + target["id"]
    body = {"data": {"type": "ticket", "id": target["id"], "attributes": {"severity": 2}}}
    status, head, doc = api.write("PATCH", path, body, headers={"If-Match": '"1"'})
    expect(status == 200 and head["ETag"] == '"2"' and doc["data"]["attributes"]["severity"] == 2, doc)
    expect_errors(api.write("PATCH", path, body, headers={"If-Match": '"1"'}), 409,
                  [("stale_version", "Ticket %s: expected version 1, but it is at version 2" % target["id"], None)])
    expect_errors(api.write("PATCH", path, body, headers={"If-Match": "1"}), 400,
                  [("invalid_input", 'must be a record\'s version in quotes, as its ETag: "3"', {"header": "If-Match"})])
    other = dict(body["data"], id=ticket(api, "HD-1003")["id"])
    expect_errors(api.write("PATCH", path, {"data": other}), 409,
                  [("id_mismatch", "is not the id in the URL", {"pointer": "/data/id"})])
    expect_errors(api.write("PATCH", path, {"data": {"type": "ticket", "attributes": {"priority": "urgent"}}}), 422,
                  [("one_of", "priority: must be one of :low, :medium, :high, got :urgent",
                    {"pointer": "/data/attributes/priority"})])
    expect(api.get(path)[1]["ETag"] == '"2"', "the refused updates wrote nothing")


def check_idempotent_retry(api):
    before = len(expect_ok(api.get("/tickets"))["data"])
    body, key = new_ticket("HD-2004", "Keyboard sticks"), {"Idempotency-Key": "order-2004"}
    first = expect_ok(api.write("POST", "/tickets", body, headers=key), 201)
    again = expect_ok(api.write("POST", "/tickets", body, headers=key), 201)
    expect(again["data"] == first["data"], "the retry returns the first call's record")
    expect(len(expect_ok(api.get("/tickets"))["data"]) == before + 1, "the retry appended nothing")
    differs = "differs from the call that first used this idempotency key"
    expect_errors(api.write("POST", "/tickets", new_ticket("HD-2005", "Keyboard sticks"), headers=key), 409,
                  [("idempotency_mismatch", "reference: " + differs, {"pointer": "/data/attributes/reference"})])
    # A key too long to keep is a malformed header.
    expect_errors(api.write("POST", "/tickets", new_ticket("HD-2005", "Keyboard sticks"),
                            headers={"Idempotency-Key": "k" * 300}), 400,
                  [("too_long", "idempotency_key: is 300 bytes; an idempotency key is at most 255",
                    {"header": "Idempotency-Key"})])


def check_generic_route(api):
    rita = rep(api, "Rita")
    doc = expect_ok(api.write("POST", "/tickets/escalate_all", {"data": {"representative_id": rita["id"]}}))
    expect(doc == {"data": 1}, "HD-1003 (medium, severity 3) raised: %s" % doc)
    expect(ticket(api, "HD-1003")["attributes"]["priority"] == "high", "escalated")
    expect_errors(api.write("POST", "/tickets/escalate_all", {"data": {"representative_id": rita["id"], "min_severity": 9}}),
                  422, [("max", "min_severity: must be at most 5", {"pointer": "/data/min_severity"})])
    twice = ('{"data": {"representative_id": "%s", "representative_id": "%s"}}' % (rita["id"], rita["id"])).encode()
    expect_errors(api.write("POST", "/tickets/escalate_all", raw=twice), 422,
                  [("duplicate_input", "is given more than once", {"pointer": "/data/representative_id"})])


def check_destroy(api):
    target = ticket(api, "HD-1005")
    path = "/tickets/" + target["id"]
    expect_errors(api.write("DELETE", path, headers={"If-Match": '"7"'}), 409,
                  [("stale_version", "Ticket %s: expected version 7, but it is at version 1" % target["id"], None)])
    doc = expect_ok(api.write("DELETE", path, headers={"If-Match": '"1"'}))
    expect(doc["data"]["attributes"]["reference"] == "HD-1005", "the record as it was: %s" % doc)
    expect(api.get(path)[0] == 404, "destroyed")
    expect(api.write("DELETE", path)[0] == 404, "a second delete finds nothing")


class EventStream:
    """GET /events read line by line over http.client, every read bounded by TIMEOUT."""

    def __init__(self, base, path, headers=None):
        host, port = urllib.parse.urlsplit(base).netloc.split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=TIMEOUT)
        self.connection.request("GET", path, headers=headers or {})
        self.response = self.connection.getresponse()

    def next_event(self):
        """(id, data) of the next event; heartbeat comments are skipped."""
        fields = {}
        for _ in range(1000):
            line = self.response.readline().decode()
            if not line:
                raise AssertionError("the stream ended")
            line = line.rstrip("\n")
            if line == "" and "id" in fields:
                return int(fields["id"]), json.loads(fields["data"])
            if line and not line.startswith(":"):
                name, _, value = line.partition(": ")
                fields[name] = value
        raise AssertionError("no event in 1000 lines")

    def close(self):
        self.connection.close()


def check_events(api):
    stream = EventStream(api.base, "/events?from=1")
    expect(stream.response.status == 200 and stream.response.getheader("Content-Type") == "text/event-stream",
           "%s %s" % (stream.response.status, stream.response.getheaders()))
    first = [stream.next_event() for _ in range(3)]
    stream.close()
    expect([position for position, _ in first] == [1, 2, 3], first)
    expect(all(event["position"] == position for position, event in first), "id: is the event's position")
    expect(set(first[0][1]) >= {"position", "sequence", "tx", "time", "resource", "action", "type", "id", "version",
                                "changes", "inputs", "actor", "correlation_id", "hash"}, first[0][1])
    resumed = EventStream(api.base, "/events?from=1", {"Last-Event-ID": "2"})
    expect(resumed.next_event() == first[2], "resumed after event 2 without missing or repeating one")
    resumed.close()
    live = EventStream(api.base, "/events?resource=Ticket")
    created = expect_ok(api.write("POST", "/tickets", new_ticket("HD-3001", "Printer jams")), 201)["data"]
    position, event = live.next_event()
    live.close()
    expect(event["resource"] == "Ticket" and event["type"] == "create" and event["id"] == created["id"], event)
    expect(event["actor"] == "ann" and position == event["position"], event)
    expect_errors(api.get("/events", resource="Widget"), 400,
                  [("invalid_input", 'no resource "Widget"', {"parameter": "resource"})])


def check_openapi(api, validator):
    request = urllib.request.Request(api.base + "/openapi.json")
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        expect(response.headers.get("Content-Type", "").startswith("application/json"), dict(response.headers))
        text = response.read()
    doc = json.loads(text)
    expect(doc["openapi"] == "3.0.3" and doc["info"]["title"] == "helpdesk", doc["info"])
    schemas, paths = doc["components"]["schemas"], doc["paths"]
    # Attribute types, nil-ability and constraints from the model.
    ticket_attributes = schemas["ticket_attributes"]["properties"]
    expect(ticket_attributes["priority"] == {"type": "string", "nullable": True, "enum": ["low", "medium", "high"]},
           ticket_attributes["priority"])
    expect(ticket_attributes["reference"] == {"type": "string"}, ticket_attributes["reference"])
    expect(ticket_attributes["opened_at"]["format"] == "date-time", ticket_attributes["opened_at"])
    expect("id" not in ticket_attributes, "the primary key is the id")
    rep_attributes = schemas["representative_attributes"]["properties"]
    expect(rep_attributes["ticket_count"]["type"] == "integer" and rep_attributes["ticket_count"]["readOnly"],
           rep_attributes["ticket_count"])
    expect(rep_attributes["worst_severity"]["type"] == "integer", "max of an integer: %s" % rep_attributes["worst_severity"])
    # Each route: its path, parameters, body and responses.
    expect(sorted(paths) == ["/events", "/openapi.json", "/representatives", "/representatives/{id}",
                             "/representatives/{id}/tickets", "/representatives/{id}/tickets_above_threshold",
                             "/tickets", "/tickets/escalate_all", "/tickets/{id}", "/tickets/{id}/representative"],
           sorted(paths))
    expect(sorted(paths["/tickets/{id}"]) == ["delete", "get", "patch"], sorted(paths["/tickets/{id}"]))
    index = paths["/tickets"]["get"]
    names = [p["$ref"].rsplit("/", 1)[1] for p in index["parameters"]]
    expect(names == ["include", "fields_representative", "fields_ticket", "filter", "sort", "page_limit",
                     "page_offset", "page_after", "page_before"], names)
    parameters = doc["components"]["parameters"]
    expect(parameters["page_before"]["name"] == "page[before]" and parameters["page_limit"]["schema"]["maximum"] == 1000,
           parameters["page_limit"])
    post = paths["/tickets"]["post"]
    attributes = post["requestBody"]["content"]["application/vnd.api+json"]["schema"]["properties"]["data"]["properties"]["attributes"]
    expect(attributes["required"] == ["reference", "subject"], attributes.get("required"))
    expect(sorted(attributes["properties"]) == ["priority", "reference", "representative_id", "severity", "subject",
                                                "urgent"], sorted(attributes["properties"]))
    expect(sorted(post["responses"]) == ["201", "400", "401", "403", "409", "413", "415", "422", "503"],
           sorted(post["responses"]))
    unprocessable = doc["components"]["responses"]["error_422"]["content"]["application/vnd.api+json"]["schema"]
    expect(unprocessable == {"$ref": "#/components/schemas/errors"}, unprocessable)
    error = schemas["errors"]["properties"]["errors"]["items"]["properties"]
    expect(sorted(error["source"]["properties"]) == ["header", "parameter", "pointer"], error["source"])
    escalate = paths["/tickets/escalate_all"]["post"]["requestBody"]["content"]["application/vnd.api+json"]["schema"]
    severity = escalate["properties"]["data"]["properties"]["min_severity"]
    expect(severity["minimum"] == 1 and severity["maximum"] == 5, severity)
    expect(paths["/tickets/{id}/representative"]["get"]["responses"]["200"]["content"]["application/vnd.api+json"]
           ["schema"]["properties"]["data"] == {"anyOf": [{"$ref": "#/components/schemas/representative"},
                                                          {"type": "object", "nullable": True, "enum": [None]}]},
           "a to-one relationship's data: the record or null")
    # A standard validator accepts it.
    with tempfile.NamedTemporaryFile("wb", suffix=".json") as file:
        file.write(text)
        file.flush()
        run = subprocess.run([validator, file.name], capture_output=True, text=True, timeout=60)
    expect(run.returncode == 0, "the validator refused the document:\n%s%s" % (run.stdout, run.stderr))
    # Responses match the schemas the document gives them.
    printer, rita = ticket(api, "HD-1001"), rep(api, "Rita")
    cases = [
        ("GET /tickets", "/tickets", {"include": "representative", "sort": "reference", "page[limit]": 2}),
        ("GET /tickets/{id}", "/tickets/{id}", {"include": "representative.tickets"}),
        ("GET /representatives/{id}", "/representatives/{id}",
         {"fields[representative]": "name,ticket_count,worst_severity"}),
        ("GET /tickets/{id}/representative", "/tickets/{id}/representative", {}),
        ("GET /representatives/{id}/tickets", "/representatives/{id}/tickets", {}),
    ]
    checked = []
    for name, path, params in cases:
        concrete = path.replace("{id}", rita["id"] if path.startswith("/representatives") else printer["id"])
        body = expect_ok(api.get(concrete, **params))
        checked.append({"name": name, "schema": response_schema(path, "get", "200"), "instance": body})
    _, _, bad = api.get("/tickets", filter="severity >=")
    checked.append({"name": "400", "schema": response_schema("/tickets", "get", "400"), "instance": bad})
    _, _, missing = api.get("/tickets/00000000-0000-0000-0000-000000000000")
    checked.append({"name": "404", "schema": response_schema("/tickets/{id}", "get", "404"), "instance": missing})
    modules = os.path.dirname(os.path.dirname(validator))
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check_responses.mjs")
    with tempfile.NamedTemporaryFile("wb", suffix=".json") as document, \
            tempfile.NamedTemporaryFile("w", suffix=".json") as instances:
        document.write(text)
        document.flush()
        json.dump(checked, instances)
        instances.flush()
        run = subprocess.run(["node", script, modules, document.name, instances.name],
                             capture_output=True, text=True, timeout=60)
    expect(run.returncode == 0, "responses that do not match their schemas:\n%s%s" % (run.stdout, run.stderr))


def response_schema(path, method, status):
    """The JSON pointer of a response's schema in the OpenAPI document."""
    escaped = path.replace("~", "~0").replace("/", "~1")
    content = "/content/application~1vnd.api+json/schema"
    if status == "200":
        return "/paths/%s/%s/responses/200%s" % (escaped, method, content)
    return "/components/responses/error_%s%s" % (status, content)


CHECKS = [check_index_and_get, check_filter_and_sort, check_include_and_fields, check_paging, check_related,
          check_read_errors, check_create, check_create_errors, check_authentication, check_update_and_if_match,
          check_idempotent_retry, check_generic_route, check_destroy, check_events]


def wait_listening(server):
    """The server's first line, read on a thread so that the wait is bounded."""
    line = {}
    reader = threading.Thread(target=lambda: line.setdefault("text", server.stdout.readline()), daemon=True)
    reader.start()
    reader.join(TIMEOUT)
    return line.get("text", "")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--openapi-validator", required=True)
    args = parser.parse_args()
    if not os.access(args.server, os.X_OK):
        print("FAIL: no server binary at %s (build the helpdesk_api target)" % args.server)
        return 1
    if not os.access(args.openapi_validator, os.X_OK):
        print("FAIL: no OpenAPI validator at %s (scripts/install-deps.sh installs it from npm)" % args.openapi_validator)
        return 1
    port = free_port()
    failures = []
    with tempfile.TemporaryDirectory(prefix="ashlar-http-") as tmp:
        server = subprocess.Popen([args.server, tmp + "/store", "--port", str(port)],
                                  stdout=subprocess.PIPE, text=True)
        try:
            line = wait_listening(server)
            if line.strip() != "helpdesk_api listening on http://127.0.0.1:%d" % port:
                failures.append("the server did not start: %r" % line)
            else:
                api = Api("http://127.0.0.1:%d" % port)
                checks = [lambda api: check_openapi(api, args.openapi_validator)] + CHECKS
                for check, name in zip(checks, ["check_openapi"] + [c.__name__ for c in CHECKS]):
                    try:
                        check(api)
                        print("ok   %s" % name)
                    except Exception as error:  # one failed check does not hide the next
                        failures.append("%s: %s" % (name, error))
                        print("FAIL %s: %s" % (name, error))
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                code = server.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                server.kill()
                code = server.wait(timeout=TIMEOUT)
    if code != 0:
        failures.append("the server exited with %s on SIGTERM" % code)
    for failure in failures:
        print("FAIL: " + failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
