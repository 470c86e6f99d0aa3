#include <gtest/gtest.h>

#include "crdt/sync_message.h"

namespace swarm::crdt {
namespace {

SyncMessage EntriesMsg() {
  SyncMessage m;
  m.type = SyncMessage::Type::kEntries;
  auto e = *MakeEntry(2.5, {1, 2, 3, 4});
  m.bucket = e.id[0];
  m.reply_wanted = true;
  m.entries.push_back(e);
  return m;
}

TEST(SyncMessage, RoundTrip) {
  SyncMessage root;
  root.root[3] = 7;
  SyncMessage nodes;
  nodes.type = SyncMessage::Type::kNodes;
  nodes.depth = 1;
  nodes.prefix = 15;
  nodes.children[15][0] = 1;
  for (const auto& m : {root, nodes, EntriesMsg()}) {
    auto d = DecodeSyncMessage(EncodeSyncMessage(m));
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_EQ(*d, m);
  }
}

void ExpectRejected(Bytes b, const std::string& part) {
  auto d = DecodeSyncMessage(b);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(std::string(d.status().message()).find(part), std::string::npos) << d.status();
}

TEST(SyncMessage, RejectsMalformed) {
  Bytes good = EncodeSyncMessage(EntriesMsg());
  ExpectRejected({}, "header");
  ExpectRejected({'X', 'A', 1, 1}, "magic");
  ExpectRejected({'S', 'A', 9, 1}, "version");
  ExpectRejected({'S', 'A', 1, 7}, "unknown type");
  Bytes trunc(good.begin(), good.end() - 1);
  ExpectRejected(trunc, "truncated");
  Bytes trailing = good;
  trailing.push_back(0);
  ExpectRejected(trailing, "trailing");
  Bytes wrong_id = good;
  wrong_id[8] ^= 1;  // inside the id
  ExpectRejected(wrong_id, "SHA3");
  Bytes wrong_bucket = good;
  wrong_bucket[4] ^= 1;
  ExpectRejected(wrong_bucket, "bucket");
  SyncMessage nan = EntriesMsg();
  nan.entries[0].fitness = std::nan("");
  ExpectRejected(EncodeSyncMessage(nan), "not finite");
  SyncMessage nodes;
  nodes.type = SyncMessage::Type::kNodes;
  nodes.depth = 2;
  ExpectRejected(EncodeSyncMessage(nodes), "depth");
  SyncLimits small;
  small.entries_per_message_max = 0;
  EXPECT_FALSE(DecodeSyncMessage(good, small).ok());
}

}  // namespace
}  // namespace swarm::crdt
