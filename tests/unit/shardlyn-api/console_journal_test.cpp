#include "tunnel/console_journal.hpp"

#include <catch2/catch.hpp>

#include <string>

using shardlyn::ConsoleJournal;
using shardlyn::LineThrottle;

TEST_CASE("console lines get increasing seqs and a reconnect replays what was missed") {
  ConsoleJournal journal(8);
  CHECK(journal.last_seq() == 0);
  CHECK(journal.since(0).lines.empty());
  for (int i = 1; i <= 5; ++i) CHECK(journal.append("line " + std::to_string(i)) == static_cast<std::uint64_t>(i));
  auto replay = journal.since(3);
  REQUIRE(replay.lines.size() == 2);
  CHECK(replay.lines[0].seq == 4);
  CHECK(replay.lines[0].text == "line 4");
  CHECK(replay.lines[1].seq == 5);
  CHECK(replay.missed == 0);
  CHECK(journal.since(5).lines.empty());
  CHECK(journal.since(0).lines.size() == 5);
}

TEST_CASE("the ring keeps the newest lines and says how many a late viewer lost") {
  ConsoleJournal journal(3);
  for (int i = 1; i <= 10; ++i) journal.append(std::to_string(i));
  CHECK(journal.last_seq() == 10);
  auto replay = journal.since(2);
  REQUIRE(replay.lines.size() == 3);
  CHECK(replay.lines.front().seq == 8);
  CHECK(replay.lines.back().text == "10");
  CHECK(replay.missed == 5);  // seqs 3..7
  CHECK(journal.since(7).missed == 0);
}

TEST_CASE("a flood is throttled with one notice per throttled stretch") {
  LineThrottle throttle(10, 2);
  using V = LineThrottle::Verdict;
  CHECK(throttle.admit(0) == V::Send);
  CHECK(throttle.admit(0) == V::Send);
  CHECK(throttle.admit(0) == V::DropWithNotice);
  CHECK(throttle.admit(0) == V::Drop);
  CHECK(throttle.admit(0.1) == V::Send);  // one line refilled
  CHECK(throttle.admit(0.1) == V::DropWithNotice);
  CHECK(throttle.admit(10) == V::Send);  // refill is capped at the burst
  CHECK(throttle.admit(10) == V::Send);
  CHECK(throttle.admit(10) == V::DropWithNotice);
}

TEST_CASE("a page of the history starts after the asked seq; clear keeps the seqs growing") {
  ConsoleJournal journal(4);
  for (int i = 1; i <= 6; ++i) journal.append("line " + std::to_string(i));
  auto first = journal.page(0, 2);  // lines 1 and 2 are gone from the ring
  REQUIRE(first.size() == 2);
  CHECK(first[0].seq == 3);
  CHECK(first[1].text == "line 4");
  auto rest = journal.page(first.back().seq, 10);
  REQUIRE(rest.size() == 2);
  CHECK(rest.back().seq == 6);
  CHECK(journal.page(6, 10).empty());
  journal.clear();
  CHECK(journal.page(0, 10).empty());
  CHECK(journal.last_seq() == 6);
  CHECK(journal.append("after") == 7);
}
