// The subscriber's ordering without sockets: out of order and repeated arrivals leave in
// order, once each, and what is missing is known.
#include "stream_order.hpp"

#include <catch2/catch.hpp>

#include <vector>

using ashlar::StreamOrder;
using Offer = StreamOrder<int>::Offer;

namespace {

std::vector<int> drain(StreamOrder<int>& order) {
  std::vector<int> out;
  while (auto v = order.pop()) out.push_back(*v);
  return out;
}

}  // namespace

TEST_CASE("events leave in order, each number once, whatever order and how often they arrive") {
  StreamOrder<int> order(0, 100);
  CHECK(order.offer(1, 1) == Offer::taken);
  CHECK(order.offer(1, 1) == Offer::duplicate);  // the same event under a second topic
  CHECK(order.offer(3, 3) == Offer::held);
  CHECK(order.offer(3, 3) == Offer::duplicate);
  CHECK(order.missing());  // 2 is known to exist and is not here
  CHECK(order.frontier() == 1);
  CHECK(drain(order) == std::vector<int>{1});
  CHECK(order.offer(2, 2) == Offer::taken);  // the gap filled: 3 follows at once
  CHECK(order.frontier() == 3);
  CHECK_FALSE(order.missing());
  CHECK(drain(order) == std::vector<int>{2, 3});
  CHECK(order.offer(2, 2) == Offer::duplicate);
}

TEST_CASE("a heartbeat's head beyond the last number seen is a gap, and a checkpoint skips what came before") {
  StreamOrder<int> order(10, 100);
  CHECK(order.offer(7, 7) == Offer::duplicate);  // delivered before the restart
  CHECK_FALSE(order.missing());
  order.learn(12);  // the tail of a burst was lost: nothing else would tell
  CHECK(order.missing());
  CHECK(order.offer(11, 11) == Offer::taken);
  CHECK(order.offer(12, 12) == Offer::taken);
  CHECK_FALSE(order.missing());
  order.learn(5);  // an older head changes nothing
  CHECK(order.known() == 12);
}

TEST_CASE("past max_held, events ahead of a gap are dropped, to be replayed") {
  StreamOrder<int> order(0, 2);
  CHECK(order.offer(3, 3) == Offer::held);
  CHECK(order.offer(4, 4) == Offer::held);
  CHECK(order.offer(5, 5) == Offer::dropped);
  CHECK(order.known() == 5);
  CHECK(order.offer(1, 1) == Offer::taken);
  CHECK(order.offer(2, 2) == Offer::taken);
  CHECK(drain(order) == std::vector<int>{1, 2, 3, 4});
  CHECK(order.missing());  // 5 still has to come
}

TEST_CASE("a reply of one tenant's events skips the numbers between them, dropping what was held for them") {
  StreamOrder<int> order(0, 100);
  CHECK(order.offer(4, 4) == Offer::held);  // live: another tenant's, ahead of a gap
  CHECK(order.offer(7, 7) == Offer::held);  // live: past the reply's range
  order.skip_to(1);                         // the reply: 2 is the tenant's, 1 is not
  CHECK(order.offer(2, 2) == Offer::taken);
  order.skip_to(5);                         // it looked through 5: 3, 4 and 5 are not the tenant's
  CHECK(order.frontier() == 5);
  CHECK(drain(order) == std::vector<int>{2});  // 4 was dropped, not delivered
  CHECK(order.missing());  // 6 is known (7 arrived) and is not here
  order.skip_to(3);        // behind the frontier: changes nothing
  CHECK(order.frontier() == 5);
  order.skip_to(6);
  CHECK(order.frontier() == 7);  // 7 was held, and follows
  CHECK(drain(order) == std::vector<int>{7});
  CHECK_FALSE(order.missing());
  order.skip_to(9);  // a reply that ran to the stream's end vouches for what no heartbeat told
  CHECK(order.known() == 9);
  CHECK_FALSE(order.missing());
}
