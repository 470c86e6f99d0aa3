#include "consensus/client_table.h"

namespace swarm::consensus {
namespace {

void PutU64(Bytes& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

bool GetU64(ByteSpan d, size_t& pos, uint64_t& v) {
  if (d.size() < 8 || pos > d.size() - 8) return false;
  v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(d[pos + i]) << (8 * i);
  pos += 8;
  return true;
}

}  // namespace

bool ClientTable::Contains(uint64_t client, uint64_t client_seq) const {
  auto it = clients_.find(client);
  if (it == clients_.end()) return false;
  return client_seq <= it->second.low || it->second.above.count(client_seq) > 0;
}

bool ClientTable::Insert(uint64_t client, uint64_t client_seq) {
  if (Contains(client, client_seq)) return false;
  Entry& e = clients_[client];
  e.above.insert(client_seq);
  while (!e.above.empty() && *e.above.begin() == e.low + 1) {
    e.low = *e.above.begin();
    e.above.erase(e.above.begin());
  }
  while (e.above.size() > kAboveMax) {
    e.low = *e.above.begin();
    e.above.erase(e.above.begin());
  }
  return true;
}

void ClientTable::Encode(Bytes& out) const {
  PutU64(out, clients_.size());
  for (const auto& [c, e] : clients_) {
    PutU64(out, c);
    PutU64(out, e.low);
    PutU64(out, e.above.size());
    for (uint64_t s : e.above) PutU64(out, s);
  }
}

Status ClientTable::Decode(ByteSpan d, size_t& pos) {
  clients_.clear();
  uint64_t count = 0;
  if (!GetU64(d, pos, count) || count > kClientsMax) {
    return absl::InvalidArgumentError(absl::StrCat("state: client count ", count, " unreadable or above ", kClientsMax));
  }
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t c = 0, low = 0, n = 0;
    if (!GetU64(d, pos, c) || !GetU64(d, pos, low) || !GetU64(d, pos, n) || n > kAboveMax) {
      return absl::InvalidArgumentError(absl::StrCat("state: client entry ", i, " truncated or too large"));
    }
    Entry& e = clients_[c];
    e.low = low;
    for (uint64_t j = 0; j < n; ++j) {
      uint64_t s = 0;
      if (!GetU64(d, pos, s) || s <= low) {
        return absl::InvalidArgumentError(absl::StrCat("state: client ", c, " seq entry ", j, " truncated or <= low mark"));
      }
      e.above.insert(s);
    }
  }
  return absl::OkStatus();
}

Bytes EncodeState(ByteSpan app_snapshot, const ClientTable& table) {
  Bytes out;
  PutU64(out, app_snapshot.size());
  out.insert(out.end(), app_snapshot.begin(), app_snapshot.end());
  table.Encode(out);
  return out;
}

Status DecodeState(ByteSpan state, Bytes& app_snapshot, ClientTable& table) {
  size_t pos = 0;
  uint64_t len = 0;
  if (!GetU64(state, pos, len) || len > state.size() - pos) {
    return absl::InvalidArgumentError(absl::StrCat("state: snapshot length ", len, " exceeds ", state.size(), " bytes"));
  }
  app_snapshot.assign(state.begin() + pos, state.begin() + pos + len);
  pos += len;
  SWARM_RETURN_IF_ERROR(table.Decode(state, pos));
  if (pos != state.size()) {
    return absl::InvalidArgumentError(absl::StrCat("state: ", state.size() - pos, " trailing bytes"));
  }
  return absl::OkStatus();
}

}  // namespace swarm::consensus
