// common/event_hub.hpp: SSE formatting, replay after Last-Event-ID, type filters, bounded
// backlog for slow subscribers, cancellation.
#include "common/event_hub.hpp"

#include <catch2/catch.hpp>
#include <optional>
#include <string>

using common::EventHub;

namespace {

// Collects what one next() call delivers (synchronously, when data is ready).
struct Pull {
  std::optional<std::string> chunk;
  bool last = false;
  bool called = false;
};

Pull pull(common::ResponseStream& s) {
  Pull p;
  s.next([&p](std::string chunk, bool last) {
    p.called = true;
    p.chunk = std::move(chunk);
    p.last = last;
  });
  return p;
}

}  // namespace

TEST_CASE("event hub: sse_event formats id, event and one data line per line", "[common][event_hub]") {
  CHECK(common::sse_event(7, "x", "{\"a\":1}") == "id: 7\nevent: x\ndata: {\"a\":1}\n\n");
  CHECK(common::sse_event(8, "y", "a\nb") == "id: 8\nevent: y\ndata: a\ndata: b\n\n");
}

TEST_CASE("event hub: a subscriber gets retry, connected, then live events in order", "[common][event_hub]") {
  EventHub hub;
  auto s = hub.subscribe(std::nullopt, {}, "{}");
  auto first = pull(*s);
  REQUIRE(first.called);
  CHECK(first.chunk->starts_with("retry: 3000\n\n"));
  CHECK(first.chunk->find("event: connected\n") != std::string::npos);

  // Nothing queued: next() waits until something is published.
  Pull waiting;
  s->next([&waiting](std::string chunk, bool last) {
    waiting.called = true;
    waiting.chunk = std::move(chunk);
    waiting.last = last;
  });
  CHECK_FALSE(waiting.called);
  auto id = hub.publish("agent_online", "{\"n\":1}");
  REQUIRE(waiting.called);
  CHECK(*waiting.chunk == common::sse_event(id, "agent_online", "{\"n\":1}"));
  CHECK_FALSE(waiting.last);

  auto id2 = hub.publish("a", "1");
  auto id3 = hub.publish("b", "2");
  CHECK(id3 == id2 + 1);
  auto both = pull(*s);
  CHECK(*both.chunk == common::sse_event(id2, "a", "1") + common::sse_event(id3, "b", "2"));
}

TEST_CASE("event hub: Last-Event-ID replays later buffered events, filtered by type", "[common][event_hub]") {
  EventHub hub(EventHub::Limits{.replay_events = 3});
  auto a = hub.publish("t1", "a");
  hub.publish("t2", "b");
  auto c = hub.publish("t1", "c");
  auto d = hub.publish("t1", "d");  // the buffer now holds b, c, d

  auto s = hub.subscribe(a, {"t1"}, "{}");
  auto first = *pull(*s).chunk;
  CHECK(first.find(common::sse_event(c, "t1", "c")) != std::string::npos);
  CHECK(first.find(common::sse_event(d, "t1", "d")) != std::string::npos);
  CHECK(first.find("data: b") == std::string::npos);  // filtered out by type
  CHECK(first.find("data: a") == std::string::npos);  // not after Last-Event-ID

  hub.publish("t2", "ignored");
  Pull p;
  s->next([&p](std::string chunk, bool last) {
    p.called = true;
    p.chunk = std::move(chunk);
    p.last = last;
  });
  CHECK_FALSE(p.called);  // t2 is not subscribed
}

TEST_CASE("event hub: a subscriber that falls behind is dropped, not buffered", "[common][event_hub]") {
  EventHub hub(EventHub::Limits{.subscriber_backlog = 4096});
  auto s = hub.subscribe(std::nullopt, {}, "{}");
  (void)pull(*s);  // drain the greeting; from now on the client "stops reading"
  std::string payload(200, 'x');
  for (int i = 0; i < 100; ++i) hub.publish("e", payload);  // ~25 KB > 4 KiB backlog
  auto after = pull(*s);
  REQUIRE(after.called);
  CHECK(after.last);  // the stream ends; the client reconnects and replays
  CHECK(after.chunk->empty());
}

TEST_CASE("event hub: cancel ends a waiting stream and later next() calls", "[common][event_hub]") {
  EventHub hub;
  auto s = hub.subscribe(std::nullopt, {}, "{}");
  (void)pull(*s);
  Pull waiting;
  s->next([&waiting](std::string chunk, bool last) {
    waiting.called = true;
    waiting.chunk = std::move(chunk);
    waiting.last = last;
  });
  s->cancel();
  REQUIRE(waiting.called);
  CHECK(waiting.last);
  CHECK(pull(*s).last);
  s->cancel();  // idempotent
  CHECK(hub.subscribers() == 1);
  s.reset();
  CHECK(hub.subscribers() == 0);
}

TEST_CASE("event hub: keepalive and close_all reach every subscriber", "[common][event_hub]") {
  EventHub hub;
  auto a = hub.subscribe(std::nullopt, {}, "{}");
  auto b = hub.subscribe(std::nullopt, {"only"}, "{}");
  (void)pull(*a);
  (void)pull(*b);
  hub.keepalive();
  CHECK(*pull(*a).chunk == ": keep-alive\n\n");
  CHECK(*pull(*b).chunk == ": keep-alive\n\n");
  hub.close_all();
  CHECK(pull(*a).last);
  CHECK(pull(*b).last);
}
