#include "crdt/sync_message.h"

#include <cmath>
#include <cstring>

namespace swarm::crdt {
namespace {

constexpr uint8_t kVersion = 1;

void PutU16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v));
  b.push_back(static_cast<uint8_t>(v >> 8));
}
void PutU32(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void PutU64(Bytes& b, uint64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void PutHash(Bytes& b, const Hash& h) { b.insert(b.end(), h.begin(), h.end()); }

class Reader {
 public:
  explicit Reader(ByteSpan d) : d_(d) {}
  bool Need(size_t n) const { return d_.size() - pos_ >= n; }
  size_t remaining() const { return d_.size() - pos_; }
  uint8_t U8() { return d_[pos_++]; }
  uint16_t U16() {
    uint16_t v = static_cast<uint16_t>(d_[pos_] | (d_[pos_ + 1] << 8));
    pos_ += 2;
    return v;
  }
  uint32_t U32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(d_[pos_ + i]) << (8 * i);
    pos_ += 4;
    return v;
  }
  uint64_t U64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(d_[pos_ + i]) << (8 * i);
    pos_ += 8;
    return v;
  }
  Hash H() {
    Hash h;
    std::memcpy(h.data(), d_.data() + pos_, h.size());
    pos_ += h.size();
    return h;
  }
  Bytes Take(size_t n) {
    Bytes b(d_.begin() + pos_, d_.begin() + pos_ + n);
    pos_ += n;
    return b;
  }

 private:
  ByteSpan d_;
  size_t pos_ = 0;
};

Status Bad(const std::string& s) { return absl::InvalidArgumentError("sync message: " + s); }

}  // namespace

Bytes EncodeSyncMessage(const SyncMessage& m) {
  Bytes b = {'S', 'A', kVersion, static_cast<uint8_t>(m.type)};
  switch (m.type) {
    case SyncMessage::Type::kRoot:
      PutHash(b, m.root);
      break;
    case SyncMessage::Type::kNodes:
      b.push_back(m.depth);
      b.push_back(m.prefix);
      for (const auto& h : m.children) PutHash(b, h);
      break;
    case SyncMessage::Type::kEntries:
      b.push_back(m.bucket);
      b.push_back(m.reply_wanted ? 1 : 0);
      PutU16(b, static_cast<uint16_t>(m.entries.size()));
      for (const auto& e : m.entries) {
        PutHash(b, e.id);
        uint64_t bits;
        std::memcpy(&bits, &e.fitness, sizeof bits);
        PutU64(b, bits);
        PutU32(b, static_cast<uint32_t>(e.payload.size()));
        b.insert(b.end(), e.payload.begin(), e.payload.end());
      }
      break;
  }
  return b;
}

StatusOr<SyncMessage> DecodeSyncMessage(ByteSpan data, const SyncLimits& lim) {
  if (data.size() > lim.message_bytes_max) {
    return Bad(absl::StrCat("size ", data.size(), " exceeds message_bytes_max ",
                            lim.message_bytes_max));
  }
  Reader r(data);
  if (!r.Need(4)) return Bad(absl::StrCat("only ", data.size(), " bytes, header needs 4"));
  if (r.U8() != 'S' || r.U8() != 'A') return Bad("bad magic (expected 'SA')");
  if (const uint8_t v = r.U8(); v != kVersion) return Bad(absl::StrCat("version ", v, " unsupported"));
  SyncMessage m;
  const uint8_t type = r.U8();
  switch (type) {
    case 1:
      m.type = SyncMessage::Type::kRoot;
      if (!r.Need(32)) return Bad("root: truncated hash");
      m.root = r.H();
      break;
    case 2:
      m.type = SyncMessage::Type::kNodes;
      if (!r.Need(2 + 32 * kFanout)) return Bad("nodes: truncated");
      m.depth = r.U8();
      m.prefix = r.U8();
      if (m.depth > 1) return Bad(absl::StrCat("nodes: depth ", m.depth, " is not 0 or 1"));
      if (m.prefix >= kFanout || (m.depth == 0 && m.prefix != 0)) {
        return Bad(absl::StrCat("nodes: prefix ", m.prefix, " invalid at depth ", m.depth));
      }
      for (auto& h : m.children) h = r.H();
      break;
    case 3: {
      m.type = SyncMessage::Type::kEntries;
      if (!r.Need(4)) return Bad("entries: truncated header");
      m.bucket = r.U8();
      const uint8_t reply = r.U8();
      if (reply > 1) return Bad(absl::StrCat("entries: reply_wanted = ", reply));
      m.reply_wanted = reply == 1;
      const uint16_t count = r.U16();
      if (count > lim.entries_per_message_max) {
        return Bad(absl::StrCat("entries: count ", count, " exceeds entries_per_message_max ",
                                lim.entries_per_message_max));
      }
      for (uint16_t i = 0; i < count; ++i) {
        if (!r.Need(32 + 8 + 4)) return Bad(absl::StrCat("entries[", i, "]: truncated"));
        ArchiveEntry e;
        e.id = r.H();
        const uint64_t bits = r.U64();
        std::memcpy(&e.fitness, &bits, sizeof bits);
        const uint32_t len = r.U32();
        if (!std::isfinite(e.fitness)) {
          return Bad(absl::StrCat("entries[", i, "].fitness ", e.fitness, " is not finite"));
        }
        if (len > lim.payload_bytes_max) {
          return Bad(absl::StrCat("entries[", i, "].payload_len ", len, " exceeds ",
                                  lim.payload_bytes_max));
        }
        if (!r.Need(len)) return Bad(absl::StrCat("entries[", i, "]: payload truncated"));
        e.payload = r.Take(len);
        if (EntryIdOf(e.payload) != e.id) {
          return Bad(absl::StrCat("entries[", i, "].id is not SHA3-256 of its payload"));
        }
        if (e.id[0] != m.bucket) {
          return Bad(absl::StrCat("entries[", i, "] belongs to bucket ", e.id[0], ", not ",
                                  m.bucket));
        }
        if (e.fitness == 0) e.fitness = 0.0;
        m.entries.push_back(std::move(e));
      }
      break;
    }
    default:
      return Bad(absl::StrCat("unknown type ", type));
  }
  if (r.remaining() != 0) return Bad(absl::StrCat(r.remaining(), " trailing bytes"));
  return m;
}

}  // namespace swarm::crdt
