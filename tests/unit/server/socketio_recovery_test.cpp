#include "server/socketio_recovery.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/wall_clock.hpp"
#include "server/socketio_runtime.hpp"

namespace relay::socketio::detail {
namespace {

using names = std::vector<std::string>;

constexpr uint64_t kMax = 10'000;  // max_disconnection_ms unless a test says otherwise

// Who a broadcast goes to.
struct target {
  std::vector<std::string> rooms = {};
  std::vector<std::string> except = {};
  std::string nsp = "/";
  const namespace_config* parent = nullptr;
  bool local = false;
  unsigned origin_loop = 0;
};

// A stamped broadcast, ready to be recorded on any loop.
struct event {
  uint64_t id = 0;
  uint64_t emitted_ms = 0;
  std::shared_ptr<const broadcast_spec> spec;
  std::shared_ptr<const broadcast_packet> packet;
};

event emit(recovery_store& store, const std::string& name, uint64_t emitted_ms, target t = {}) {
  auto spec = std::make_shared<broadcast_spec>();
  spec->nsp = t.nsp;
  spec->parent = t.parent;
  spec->rooms = std::move(t.rooms);
  spec->except = std::move(t.except);
  spec->local = t.local;
  spec->origin_loop = t.origin_loop;
  auto packet = std::make_shared<broadcast_packet>();
  packet->raw.type = packet_type::event;
  packet->raw.nsp = spec->nsp;
  json::value data(json::array{json::value(name), json::value("payload")});
  packet->recovery_id = store.stamp(data);
  packet->raw.data = std::move(data);
  packet->emitted_ms = emitted_ms;
  return event{packet->recovery_id, emitted_ms, std::move(spec), std::move(packet)};
}

void deliver(recovery_store& store, unsigned loop, const std::vector<const event*>& in_order) {
  for (const event* e : in_order) store.record(loop, e->spec, e->packet, e->id, e->emitted_ms);
}

persisted_session session(std::string pid, unsigned loop, uint64_t last_sent_id,
                          std::vector<std::string> rooms = {}, std::string nsp = "/") {
  persisted_session s;
  s.sid = "sid-" + pid;
  s.pid = std::move(pid);
  s.nsp = std::move(nsp);
  s.rooms = std::move(rooms);
  s.loop = loop;
  s.last_sent_id = last_sent_id;
  return s;
}

// What the client sends back: the last argument of the last event it received.
std::string offset_of(const event& e) { return e.packet->raw.data->as_array().back().as_string(); }

// The event names of what a restore replays, in order.
names replayed(const restored_session& r) {
  names out;
  for (const missed_packet& m : r.missed) out.push_back(m.data[0].as_string());
  return out;
}

TEST(RecoveryStore, StampAppendsSequentialIdsAsBase36Strings) {
  recovery_store store(kMax, 1);
  std::vector<std::string> offsets;
  for (uint64_t expected = 1; expected <= 37; ++expected) {
    json::value data(json::array{json::value("ev"), json::value(7)});
    EXPECT_EQ(store.stamp(data), expected);
    ASSERT_EQ(data.size(), 3u);
    EXPECT_EQ(data[0], json::value("ev"));
    EXPECT_EQ(data[1], json::value(7));
    ASSERT_TRUE(data[2].is_string());
    offsets.push_back(data[2].as_string());
  }
  EXPECT_EQ(offsets[0], "1");
  EXPECT_EQ(offsets[9], "a");
  EXPECT_EQ(offsets[34], "z");
  EXPECT_EQ(offsets[35], "10");
  EXPECT_EQ(offsets[36], "11");
}

TEST(RecoveryStore, ConcurrentStampsGiveDistinctIds) {
  recovery_store store(kMax, 1);
  std::vector<std::vector<uint64_t>> ids(4);
  std::vector<std::thread> threads;
  for (auto& mine : ids) {
    threads.emplace_back([&store, &mine] {
      for (int i = 0; i < 2000; ++i) {
        json::value data(json::array{});
        mine.push_back(store.stamp(data));
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<uint64_t> all;
  for (const auto& mine : ids) all.insert(mine.begin(), mine.end());
  EXPECT_EQ(all.size(), 8000u);
  EXPECT_EQ(*all.begin(), 1u);
  EXPECT_EQ(*all.rbegin(), 8000u);
}

TEST(RecoveryStore, SameLoopReplaysWhatFollowsTheLastIdInOrderFilteredByRoomsExceptAndNsp) {
  recovery_store store(kMax, 1);
  const event seen = emit(store, "seen", 100);
  const event before = emit(store, "before", 101, {.rooms = {"a"}});
  const event last = emit(store, "last", 102);
  const event to_all = emit(store, "to_all", 103);
  const event room_a = emit(store, "room_a", 104, {.rooms = {"a"}});
  const event room_b = emit(store, "room_b", 105, {.rooms = {"b"}});
  const event except_a = emit(store, "except_a", 106, {.except = {"a"}});
  const event except_c = emit(store, "except_c", 107, {.except = {"c"}});
  const event other_nsp = emit(store, "other_nsp", 108, {.nsp = "/admin"});
  const event rooms_b_a = emit(store, "rooms_b_a", 109, {.rooms = {"b", "a"}});
  const event room_a_except_me =
      emit(store, "a_except_me", 110, {.rooms = {"a"}, .except = {"me"}});
  const event to_all_2 = emit(store, "to_all_2", 111);
  deliver(store, 0,
          {&seen, &before, &last, &to_all, &room_a, &room_b, &except_a, &except_c, &other_nsp,
           &rooms_b_a, &room_a_except_me, &to_all_2});

  persisted_session s = session("p", 0, last.id, {"me", "a"});
  s.data = json::value(json::object{{"user", json::value("alice")}});
  store.persist(s, 200);
  std::optional<restored_session> r = store.restore("p", offset_of(last), 0, 200);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(replayed(*r), (names{"to_all", "room_a", "except_c", "rooms_b_a", "to_all_2"}));
  EXPECT_EQ(r->last_id, to_all_2.id);
  EXPECT_FALSE(r->session.loaded);
  EXPECT_EQ(r->session.sid, "sid-p");
  EXPECT_EQ(r->session.pid, "p");
  EXPECT_EQ(r->session.nsp, "/");
  EXPECT_EQ(r->session.rooms, (std::vector<std::string>{"me", "a"}));
  EXPECT_EQ(r->session.data, s.data);
  EXPECT_EQ(r->session.loop, 0u);
  EXPECT_EQ(r->session.disconnected_ms, 200u);
  // The packets are replayed as stamped (the id is their last argument), with their recipients.
  ASSERT_EQ(r->missed.size(), 5u);
  EXPECT_EQ(r->missed[0].data, *to_all.packet->raw.data);
  EXPECT_EQ(r->missed[1].data, *room_a.packet->raw.data);
  EXPECT_EQ(r->missed[1].rooms, (std::vector<std::string>{"a"}));
  EXPECT_TRUE(r->missed[1].except.empty());
  EXPECT_EQ(r->missed[2].except, (std::vector<std::string>{"c"}));
  EXPECT_EQ(r->missed[3].rooms, (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(r->missed[4].data.as_array().back(), json::value(offset_of(to_all_2)));
}

TEST(RecoveryStore, SameLoopWithNothingMissedKeepsTheClientsLastId) {
  recovery_store store(kMax, 1);
  const event a = emit(store, "a", 1);
  const event b = emit(store, "b", 2, {.rooms = {"elsewhere"}});
  deliver(store, 0, {&a, &b});
  store.persist(session("p", 0, a.id, {"me"}), 10);
  std::optional<restored_session> r = store.restore("p", offset_of(a), 0, 10);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(replayed(*r), names{});
  EXPECT_EQ(r->last_id, a.id);
}

TEST(RecoveryStore, SessionWithoutRoomsGetsOnlyNamespaceWideBroadcasts) {
  recovery_store store(kMax, 1);
  const event last = emit(store, "last", 1);
  const event room = emit(store, "room", 2, {.rooms = {"a"}});
  const event all = emit(store, "all", 3, {.except = {"a"}});
  deliver(store, 0, {&last, &room, &all});
  store.persist(session("p", 0, last.id), 10);
  std::optional<restored_session> r = store.restore("p", offset_of(last), 0, 10);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(replayed(*r), names{"all"});
}

TEST(RecoveryStore, DynamicParentBroadcastsReachItsChildrenOnly) {
  recovery_store store(kMax, 1);
  const namespace_config parent;
  const namespace_config other_parent;
  const event last = emit(store, "last", 1, {.nsp = "/dyn-1"});
  const event to_parent = emit(store, "to_parent", 2, {.nsp = "/dyn-*", .parent = &parent});
  const event to_other = emit(store, "to_other", 3, {.nsp = "/dyn-1", .parent = &other_parent});
  const event to_child = emit(store, "to_child", 4, {.nsp = "/dyn-1"});
  const event to_sibling = emit(store, "to_sibling", 5, {.nsp = "/dyn-2"});
  deliver(store, 0, {&last, &to_parent, &to_other, &to_child, &to_sibling});
  persisted_session s = session("p", 0, last.id, {}, "/dyn-1");
  s.parent = &parent;
  store.persist(s, 10);
  std::optional<restored_session> r = store.restore("p", offset_of(last), 0, 10);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(replayed(*r), (names{"to_parent", "to_child"}));
}

// ids 1, 2, 3 delivered on loop 0 as 1, 3, 2 and on loop 1 as 2, 1, 3; the client was on loop
// 0 and last saw 3 (it had 1 and 3).
TEST(RecoveryStore, LoopsWithDifferentDeliveryOrdersReplayExactlyWhatWasMissed) {
  recovery_store store(kMax, 2);
  const event e1 = emit(store, "e1", 10);
  const event e2 = emit(store, "e2", 11);
  const event e3 = emit(store, "e3", 12);
  ASSERT_EQ(e1.id, 1u);
  ASSERT_EQ(e2.id, 2u);
  ASSERT_EQ(e3.id, 3u);
  deliver(store, 0, {&e1, &e3, &e2});
  deliver(store, 1, {&e2, &e1, &e3});
  store.persist(session("to-loop-1", 0, e3.id), 20);
  store.persist(session("to-loop-0", 0, e3.id), 20);

  std::optional<restored_session> there = store.restore("to-loop-1", "3", 1, 20);
  ASSERT_TRUE(there.has_value());
  EXPECT_EQ(replayed(*there), names{"e2"});
  EXPECT_EQ(there->last_id, e2.id);

  std::optional<restored_session> back = store.restore("to-loop-0", "3", 0, 20);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(replayed(*back), names{"e2"});
  EXPECT_EQ(back->last_id, e2.id);
}

TEST(RecoveryStore, ClientWhoSawEverythingOnItsLoopGetsNothingElsewhere) {
  recovery_store store(kMax, 2);
  const event e1 = emit(store, "e1", 10);
  const event e2 = emit(store, "e2", 11);
  const event e3 = emit(store, "e3", 12);
  deliver(store, 0, {&e1, &e3, &e2});
  deliver(store, 1, {&e2, &e1, &e3});
  store.persist(session("p", 0, e2.id), 20);  // e2 is loop 0's last: it had all three
  std::optional<restored_session> r = store.restore("p", offset_of(e2), 1, 20);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(replayed(*r), names{});
  EXPECT_EQ(r->last_id, e2.id);
}

TEST(RecoveryStore, EventTheOldLoopHasNotDeliveredYetIsReplayedFromTheNewLoop) {
  recovery_store store(kMax, 2);
  const event e1 = emit(store, "e1", 10);
  const event e2 = emit(store, "e2", 11);
  const event e3 = emit(store, "e3", 12);
  const event e4 = emit(store, "e4", 13);
  deliver(store, 0, {&e1, &e2});            // e3, e4 still on their way to loop 0
  deliver(store, 1, {&e3, &e1, &e4, &e2});  // loop 1 has them all
  store.persist(session("p", 0, e2.id), 20);
  std::optional<restored_session> r = store.restore("p", offset_of(e2), 1, 20);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(replayed(*r), (names{"e3", "e4"}));
  EXPECT_EQ(r->last_id, e4.id);
}

TEST(RecoveryStore, EventTheNewLoopHasNotDeliveredYetIsNotReplayed) {
  recovery_store store(kMax, 2);
  const event e1 = emit(store, "e1", 10);
  const event e2 = emit(store, "e2", 11);
  const event e3 = emit(store, "e3", 12);
  deliver(store, 0, {&e1, &e2, &e3});
  deliver(store, 1, {&e1, &e2});  // e3 reaches the socket live, once loop 1 delivers it
  store.persist(session("p", 0, e1.id), 20);
  std::optional<restored_session> r = store.restore("p", offset_of(e1), 1, 20);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(replayed(*r), names{"e2"});
}

TEST(RecoveryStore, RestoreConsumesTheSession) {
  recovery_store store(kMax, 1);
  const event e1 = emit(store, "e1", 10);
  const event e2 = emit(store, "e2", 11);
  deliver(store, 0, {&e1, &e2});
  store.persist(session("p", 0, e1.id), 20);
  std::optional<restored_session> first = store.restore("p", offset_of(e1), 0, 20);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(replayed(*first), names{"e2"});
  EXPECT_FALSE(store.restore("p", offset_of(e1), 0, 20).has_value());
}

TEST(RecoveryStore, UnknownPidOrOffsetGivesNothingAndConsumesTheSession) {
  recovery_store store(kMax, 2);
  const event e1 = emit(store, "e1", 10);
  const event e2 = emit(store, "e2", 11);
  const event only_on_1 = emit(store, "only_on_1", 12);
  deliver(store, 0, {&e1, &e2});
  deliver(store, 1, {&e1, &e2, &only_on_1});
  store.persist(session("p1", 0, e1.id), 20);
  store.persist(session("p2", 0, e1.id), 20);
  store.persist(session("p3", 0, e1.id), 20);
  store.persist(session("p4", 0, e1.id), 20);

  EXPECT_FALSE(store.restore("nobody", offset_of(e1), 0, 20).has_value());
  // Never stamped.
  EXPECT_FALSE(store.restore("p1", "zz", 0, 20).has_value());
  EXPECT_FALSE(store.restore("p1", offset_of(e1), 0, 20).has_value());  // consumed
  // Not an offset at all.
  EXPECT_FALSE(store.restore("p2", "not an offset", 0, 20).has_value());
  EXPECT_FALSE(store.restore("p2", offset_of(e1), 0, 20).has_value());
  EXPECT_FALSE(store.restore("p3", "", 0, 20).has_value());
  // Stamped, but not in the old loop's journal.
  EXPECT_FALSE(store.restore("p4", offset_of(only_on_1), 1, 20).has_value());
}

TEST(RecoveryStore, ExpiredSessionGivesNothing) {
  recovery_store store(5'000, 1);
  const event e1 = emit(store, "e1", 900);
  const event e2 = emit(store, "e2", 950);
  deliver(store, 0, {&e1, &e2});
  store.persist(session("late", 0, e1.id), 1'000);
  store.persist(session("just-in-time", 0, e1.id), 1'000);
  EXPECT_FALSE(store.restore("late", offset_of(e1), 0, 6'001).has_value());
  std::optional<restored_session> r = store.restore("just-in-time", offset_of(e1), 0, 6'000);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(replayed(*r), names{"e2"});
}

TEST(RecoveryStore, PersistDropsExpiredSessions) {
  recovery_store store(5'000, 1);
  const event e1 = emit(store, "e1", 900);
  deliver(store, 0, {&e1});
  store.persist(session("old", 0, e1.id), 1'000);
  store.persist(session("new", 0, e1.id), 6'001);  // "old" expired by now
  EXPECT_FALSE(store.restore("old", offset_of(e1), 0, 1'000).has_value());
  EXPECT_TRUE(store.restore("new", offset_of(e1), 0, 6'001).has_value());
}

TEST(RecoveryStore, EntriesOlderThanMaxDisconnectionAreTrimmedWhenANewerOneIsRecorded) {
  recovery_store store(1'000, 1);
  const event e1 = emit(store, "e1", 0);
  const event e2 = emit(store, "e2", 500);
  const event e3 = emit(store, "e3", 1'000);  // e1 is exactly max old: kept
  const event e4 = emit(store, "e4", 1'001);  // e1 is now older than max: trimmed
  deliver(store, 0, {&e1, &e2, &e3});
  store.persist(session("before-trim", 0, e1.id), 1'000);
  std::optional<restored_session> r = store.restore("before-trim", offset_of(e1), 0, 1'000);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(replayed(*r), (names{"e2", "e3"}));

  deliver(store, 0, {&e4});
  store.persist(session("from-e1", 0, e1.id), 1'001);
  store.persist(session("from-e2", 0, e2.id), 1'001);
  EXPECT_FALSE(store.restore("from-e1", offset_of(e1), 0, 1'001).has_value());
  std::optional<restored_session> from_e2 = store.restore("from-e2", offset_of(e2), 0, 1'001);
  ASSERT_TRUE(from_e2.has_value());
  EXPECT_EQ(replayed(*from_e2), (names{"e3", "e4"}));
}

TEST(RecoveryStore, EntryTrimmedOnTheOldLoopButPresentOnTheNewOneIsNotReplayed) {
  recovery_store store(1'000, 2);
  const event old = emit(store, "old", 0);
  const event last = emit(store, "last", 1'500);
  const event fresh = emit(store, "fresh", 1'600);
  deliver(store, 0, {&old, &last});  // `last` trims `old` on loop 0
  // Loop 1 got `old` late, after `last`: its own age does not trim it there.
  deliver(store, 1, {&last, &old, &fresh});
  store.persist(session("p", 0, last.id), 1'700);
  std::optional<restored_session> r = store.restore("p", offset_of(last), 1, 1'700);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(replayed(*r), names{"fresh"});
}

TEST(RecoveryStore, LocalBroadcastsAreReplayedOnlyToTheirOwnLoopsSessions) {
  recovery_store store(kMax, 2);
  const event start = emit(store, "start", 10);
  const event local0 = emit(store, "local0", 11, {.local = true, .origin_loop = 0});
  const event local1 = emit(store, "local1", 12, {.local = true, .origin_loop = 1});
  const event global = emit(store, "global", 13);
  deliver(store, 0, {&start, &local0, &global});
  deliver(store, 1, {&start, &local1, &global});
  store.persist(session("from-0-to-1", 0, start.id), 20);
  store.persist(session("from-0-to-0", 0, start.id), 20);
  store.persist(session("from-1-to-1", 1, start.id), 20);

  std::optional<restored_session> r = store.restore("from-0-to-1", offset_of(start), 1, 20);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(replayed(*r), names{"global"});
  r = store.restore("from-0-to-0", offset_of(start), 0, 20);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(replayed(*r), (names{"local0", "global"}));
  r = store.restore("from-1-to-1", offset_of(start), 1, 20);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(replayed(*r), (names{"local1", "global"}));
}

socketio::saved_session saved_of(std::string pid, std::string last_offset, int64_t away_ms) {
  socketio::saved_session s;
  s.sid = "sid-" + pid;
  s.pid = std::move(pid);
  s.nsp = "/chat";
  s.rooms = {"sid-" + s.pid, "lobby"};
  s.data = json::value(json::object{{"user", json::value("bob")}});
  s.last_offset = std::move(last_offset);
  s.disconnected_unix_ms = core::wall_clock_ms() - away_ms;
  return s;
}

TEST(RecoveryStore, LoadedSessionRestoresOnlyWithItsLastOffsetAndReplaysNothing) {
  recovery_store store(60'000, 2);
  const event e1 = emit(store, "e1", 999'000);
  deliver(store, 0, {&e1});
  deliver(store, 1, {&e1});
  store.load({saved_of("exact", "1z", 1'000), saved_of("wrong", "1z", 1'000)}, 1'000'000);

  EXPECT_FALSE(store.restore("wrong", "1y", 0, 1'000'000).has_value());
  EXPECT_FALSE(store.restore("wrong", "1z", 0, 1'000'000).has_value());  // consumed

  std::optional<restored_session> r = store.restore("exact", "1z", 1, 1'000'000);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->session.loaded);
  EXPECT_TRUE(r->missed.empty());  // the application's replay_saved gives them
  EXPECT_EQ(r->last_id, 71u);      // "1z" in base 36
  EXPECT_EQ(r->session.last_sent_id, 71u);
  EXPECT_EQ(r->session.sid, "sid-exact");
  EXPECT_EQ(r->session.nsp, "/chat");
  EXPECT_EQ(r->session.rooms, (std::vector<std::string>{"sid-exact", "lobby"}));
  EXPECT_EQ(r->session.data, json::value(json::object{{"user", json::value("bob")}}));
  EXPECT_EQ(r->session.parent, nullptr);
  EXPECT_FALSE(store.restore("exact", "1z", 1, 1'000'000).has_value());
}

TEST(RecoveryStore, LoadSkipsExpiredSessionsAndThoseWithoutAnOffset) {
  recovery_store store(60'000, 1);
  store.load(
      {saved_of("expired", "5", 61'000), saved_of("no-offset", "", 1'000),
       saved_of("bad-offset", "!", 1'000), saved_of("", "5", 1'000), saved_of("fine", "5", 1'000)},
      1'000'000);
  EXPECT_FALSE(store.restore("expired", "5", 0, 1'000'000).has_value());
  EXPECT_FALSE(store.restore("no-offset", "", 0, 1'000'000).has_value());
  EXPECT_FALSE(store.restore("bad-offset", "!", 0, 1'000'000).has_value());
  EXPECT_FALSE(store.restore("", "5", 0, 1'000'000).has_value());
  std::vector<socketio::saved_session> left = store.saved(1'000'000);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].pid, "fine");
}

TEST(RecoveryStore, LoadedSessionExpiresMaxDisconnectionAfterItsOriginalDisconnection) {
  recovery_store store(60'000, 1);
  // Away for 1 s when loaded at steady time 1'000'000: it expires around 1'059'000.
  store.load({saved_of("late", "5", 1'000), saved_of("in-time", "5", 1'000)}, 1'000'000);
  EXPECT_FALSE(store.restore("late", "5", 0, 1'059'500).has_value());
  std::optional<restored_session> r = store.restore("in-time", "5", 0, 1'058'500);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->session.loaded);
}

TEST(RecoveryStore, SavedGivesLiveSessionsWithTheirLastOffsetInBase36) {
  recovery_store store(5'000, 2);
  persisted_session a = session("a", 1, 71, {"sid-a", "r"});
  a.data = json::value(json::object{{"k", json::value(1)}});
  store.persist(a, 1'000);
  store.persist(session("b", 0, 36), 2'000);
  store.persist(session("none", 0, 0), 2'000);  // never had an event
  persisted_session dyn = session("dyn", 0, 5, {}, "/dyn-1");
  const namespace_config parent;
  dyn.parent = &parent;
  store.persist(dyn, 2'000);  // a dynamic namespace's: stays in this process

  const int64_t before = core::wall_clock_ms();
  std::vector<socketio::saved_session> out = store.saved(6'000);
  std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) { return x.pid < y.pid; });
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].pid, "a");
  EXPECT_EQ(out[0].sid, "sid-a");
  EXPECT_EQ(out[0].nsp, "/");
  EXPECT_EQ(out[0].rooms, (std::vector<std::string>{"sid-a", "r"}));
  EXPECT_EQ(out[0].data, a.data);
  EXPECT_EQ(out[0].last_offset, "1z");
  EXPECT_GT(out[0].disconnected_unix_ms, before - 60'000);
  EXPECT_LE(out[0].disconnected_unix_ms, before);
  EXPECT_EQ(out[1].pid, "b");
  EXPECT_EQ(out[1].last_offset, "10");
  EXPECT_EQ(out[2].pid, "none");
  EXPECT_EQ(out[2].last_offset, "");

  // saved() does not consume; at 6'001 "a" (disconnected at 1'000) has expired.
  out = store.saved(6'001);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_NE(out[0].pid, "a");
  EXPECT_NE(out[1].pid, "a");
}

TEST(RecoveryStore, SavedSessionsSurviveARestartThroughLoad) {
  recovery_store before(60'000, 1);
  const event e1 = emit(before, "e1", 10);
  deliver(before, 0, {&e1});
  before.persist(session("p", 0, e1.id, {"sid-p", "room"}), 20);
  std::vector<socketio::saved_session> saved = before.saved(20);
  ASSERT_EQ(saved.size(), 1u);

  recovery_store after(60'000, 1);
  after.load(saved, 5);
  std::optional<restored_session> r = after.restore("p", saved[0].last_offset, 0, 5);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->session.loaded);
  EXPECT_EQ(r->last_id, e1.id);
  EXPECT_EQ(r->session.rooms, (std::vector<std::string>{"sid-p", "room"}));
  EXPECT_TRUE(r->missed.empty());
}

// After a restore on another loop the client has its old loop's prefix plus the replayed
// entries, and its last id is the last replayed one: not a prefix of its new loop's journal.
// The restored session says where it stands there (restore_point, base_id), and the runtime
// persists that again: a second disconnection before any newer event replays nothing twice.
TEST(RecoveryStore, SecondRestoreAfterACrossLoopRestoreReplaysNothingTwice) {
  recovery_store store(kMax, 2);
  const event e1 = emit(store, "e1", 10);
  const event e2 = emit(store, "e2", 11);
  const event e3 = emit(store, "e3", 12);
  deliver(store, 0, {&e1, &e3, &e2});
  deliver(store, 1, {&e2, &e1, &e3});
  store.persist(session("p", 0, e3.id), 20);
  std::optional<restored_session> first = store.restore("p", offset_of(e3), 1, 20);
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(replayed(*first), names{"e2"});  // the client now has e1, e3, e2: everything
  ASSERT_EQ(first->last_id, e2.id);
  // What socket_state::close persists for it on loop 1 (last_sent_id = restored last_id), and
  // the offset socket.io-client sends back: the last argument of the last packet it got, e2's.
  const std::string offset = first->missed.back().data.as_array().back().as_string();
  ASSERT_EQ(offset, offset_of(e2));
  auto where_it_stands = [&](std::string pid) {
    persisted_session s = session(std::move(pid), 1, first->last_id);
    s.restore_point = first->session.restore_point;
    s.already = first->session.already;
    s.base_id = first->session.base_id;
    return s;
  };
  EXPECT_EQ(first->session.base_id, e2.id);
  store.persist(where_it_stands("p"), 30);
  std::optional<restored_session> again = store.restore("p", offset, 1, 30);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(replayed(*again), names{});

  store.persist(where_it_stands("q"), 30);  // the same, coming back to loop 0
  std::optional<restored_session> other = store.restore("q", offset, 0, 30);
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(replayed(*other), names{});

  // A later event on loop 1 is missed either way.
  const event e4 = emit(store, "e4", 40);
  deliver(store, 1, {&e4});
  store.persist(where_it_stands("r"), 41);
  std::optional<restored_session> later = store.restore("r", offset, 1, 41);
  ASSERT_TRUE(later.has_value());
  EXPECT_EQ(replayed(*later), names{"e4"});
}

// Loop 0 delivered e1, e2 and the client had both; loop 1 has delivered only e1 when the client
// comes back there. Nothing is replayed, and e2 is marked as had: loop 1 must not send it live
// when it gets to it.
TEST(RecoveryStore, WhatTheNewLoopHasNotDeliveredYetButTheClientHadIsNeverSentAgain) {
  recovery_store store(kMax, 2);
  const event e1 = emit(store, "e1", 10);
  const event e2 = emit(store, "e2", 11);
  deliver(store, 0, {&e1, &e2});
  deliver(store, 1, {&e1});
  store.persist(session("p", 0, e2.id), 20);
  std::optional<restored_session> r = store.restore("p", offset_of(e2), 1, 20);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(replayed(*r), names{});
  EXPECT_EQ(r->session.already, std::vector<uint64_t>{e2.id});
  EXPECT_EQ(r->session.base_id, e2.id);
  // Loop 1 gets to e2 and skips it for this socket; the client drops again, still at e2: a
  // third event delivered since is all it missed.
  deliver(store, 1, {&e2});
  const event e3 = emit(store, "e3", 30);
  deliver(store, 1, {&e3});
  persisted_session again = session("p", 1, e2.id);
  again.restore_point = r->session.restore_point;
  again.already = r->session.already;
  again.base_id = r->session.base_id;
  store.persist(std::move(again), 31);
  std::optional<restored_session> second = store.restore("p", offset_of(e2), 0, 31);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(replayed(*second), names{});  // loop 0 has not delivered e3 yet: it comes live
  EXPECT_EQ(second->session.already, std::vector<uint64_t>{});
}

// The loop a client comes back to may have trimmed what it missed while its old loop still
// has it: the restore must not succeed without it.
TEST(RecoveryStore, CrossLoopRestoreDoesNotSilentlyDropWhatTheNewLoopTrimmed) {
  recovery_store store(1'000, 2);
  const event e1 = emit(store, "e1", 0);
  const event e2 = emit(store, "e2", 100);
  deliver(store, 0, {&e1, &e2});
  deliver(store, 1, {&e1, &e2});
  // e2 was written to a dead connection: the client last saw e1; the loss is noticed at 600.
  store.persist(session("p", 0, e1.id), 600);
  // Loop 0 is quiet; loop 1 delivers a local broadcast, which trims e1 and e2 there.
  const event local = emit(store, "local", 1'200, {.local = true, .origin_loop = 1});
  deliver(store, 1, {&local});
  store.persist(session("control", 0, e1.id), 600);
  std::optional<restored_session> on_loop_0 = store.restore("control", offset_of(e1), 0, 1'300);
  ASSERT_TRUE(on_loop_0.has_value());
  EXPECT_EQ(replayed(*on_loop_0), names{"e2"});
  std::optional<restored_session> r = store.restore("p", offset_of(e1), 1, 1'300);
  // Either the restore fails (the client knows it is a new session) or it replays e2. It
  // succeeds with nothing: e2 is lost without a trace (on loop 0 it is replayed).
  if (r.has_value()) {
    EXPECT_EQ(replayed(*r), names{"e2"});
  }
}

}  // namespace
}  // namespace relay::socketio::detail
