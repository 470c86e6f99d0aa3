#include "chunks/manifest.h"

#include <algorithm>
#include <map>

namespace swarm::chunks {
namespace {

constexpr char kMagic[4] = {'S', 'W', 'C', 'K'};
constexpr size_t kChunkEntryBytes = 32 + 4;
constexpr size_t kBlobFixedBytes = 2 + 8 + 4 + 32;  // without name and refs

void PutU16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void PutU32(Bytes& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
}
void PutU64(Bytes& b, uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
}
void PutBytes(Bytes& b, ByteSpan s) { b.insert(b.end(), s.begin(), s.end()); }
void PutString16(Bytes& b, const std::string& s) {
  PutU16(b, static_cast<uint16_t>(s.size()));
  PutBytes(b, AsBytes(s));
}

Status Bad(const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("checkpoint manifest: ", what));
}

std::string ShortHex(const ChunkId& id) { return ToHex(ByteSpan(id.data(), 8)); }

bool NameChar(char c, bool blob) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  if (c == '.' || c == '_' || c == '-') return true;
  return blob && (c == ':' || c == '@' || c == '+');
}

Status CheckName(const char* field, const std::string& s, size_t max, bool blob) {
  if (s.empty() || s.size() > max) {
    return Bad(absl::StrCat("field '", field, "' must be 1..", max, " bytes, got ", s.size()));
  }
  if (s[0] == '.') return Bad(absl::StrCat("field '", field, "' = '", s, "' starts with '.'"));
  for (size_t i = 0; i < s.size(); ++i) {
    if (!NameChar(s[i], blob)) {
      return Bad(absl::StrCat("field '", field, "' has byte 0x",
                              absl::Hex(static_cast<unsigned char>(s[i])), " at position ", i,
                              blob ? " (allowed: A-Z a-z 0-9 . _ - : @ +)"
                                   : " (allowed: A-Z a-z 0-9 . _ -)"));
    }
  }
  return absl::OkStatus();
}

Bytes EncodeHeader(const Manifest& m) {
  Bytes b;
  PutBytes(b, AsBytes(std::string_view(kMagic, 4)));
  PutU32(b, kManifestVersion);
  PutString16(b, m.job);
  PutString16(b, m.label);
  PutU64(b, m.step);
  PutU64(b, m.created_unix_ms);
  return b;
}

crypto::MerkleHash BlobLeaf(const BlobEntry& blob) {
  Bytes b;
  PutString16(b, blob.name);
  PutU64(b, blob.size);
  PutBytes(b, blob.root);
  return crypto::MerkleLeafHash(b);
}

// Bounds-checked big-endian reader; errors name the field and offset.
class Reader {
 public:
  explicit Reader(ByteSpan b) : b_(b) {}
  size_t pos() const { return pos_; }
  size_t left() const { return b_.size() - pos_; }
  Status Need(const char* field, size_t n) const {
    if (left() >= n) return absl::OkStatus();
    return Bad(absl::StrCat("truncated in field '", field, "' at offset ", pos_, ": need ", n,
                            " bytes, have ", left()));
  }
  StatusOr<uint64_t> Uint(const char* field, int bytes) {
    SWARM_RETURN_IF_ERROR(Need(field, static_cast<size_t>(bytes)));
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = v << 8 | b_[pos_++];
    return v;
  }
  StatusOr<ByteSpan> Take(const char* field, size_t n) {
    SWARM_RETURN_IF_ERROR(Need(field, n));
    ByteSpan s = b_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  StatusOr<std::string> String16(const char* field) {
    SWARM_ASSIGN_OR_RETURN(const uint64_t n, Uint(field, 2));
    SWARM_ASSIGN_OR_RETURN(ByteSpan s, Take(field, n));
    return std::string(s.begin(), s.end());
  }
  template <size_t N>
  StatusOr<std::array<uint8_t, N>> Fixed(const char* field) {
    SWARM_ASSIGN_OR_RETURN(ByteSpan s, Take(field, N));
    std::array<uint8_t, N> a;
    std::copy(s.begin(), s.end(), a.begin());
    return a;
  }

 private:
  ByteSpan b_;
  size_t pos_ = 0;
};

}  // namespace

Status ValidateLabel(const std::string& label) { return CheckName("label", label, kLabelBytesMax, false); }
Status ValidateBlobName(const std::string& name) {
  return CheckName("blob name", name, kBlobNameBytesMax, true);
}
Status ValidateJob(const std::string& job) {
  if (job.size() > kJobBytesMax) {
    return Bad(absl::StrCat("field 'job' must be 0..", kJobBytesMax, " bytes, got ", job.size()));
  }
  for (size_t i = 0; i < job.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(job[i]);
    if (c < 0x21 || c > 0x7e) {
      return Bad(absl::StrCat("field 'job' has a non-printable or space byte 0x", absl::Hex(c),
                              " at position ", i));
    }
  }
  return absl::OkStatus();
}

crypto::MerkleHash BlobRoot(std::span<const ChunkId> ids_in_order) {
  std::vector<crypto::MerkleHash> leaves;
  leaves.reserve(ids_in_order.size());
  for (const ChunkId& id : ids_in_order) leaves.push_back(crypto::MerkleLeafHash(id));
  return crypto::MerkleRoot(leaves);
}

std::vector<ChunkId> BlobChunkIds(const Manifest& m, const BlobEntry& blob) {
  std::vector<ChunkId> ids;
  ids.reserve(blob.refs.size());
  for (uint32_t r : blob.refs) {
    SWARM_ASSERT(r < m.chunks.size());
    ids.push_back(m.chunks[r].id);
  }
  return ids;
}

crypto::MerkleHash ManifestRoot(const Manifest& m) {
  std::vector<crypto::MerkleHash> leaves;
  leaves.reserve(m.blobs.size() + 1);
  leaves.push_back(crypto::MerkleLeafHash(EncodeHeader(m)));
  for (const BlobEntry& b : m.blobs) leaves.push_back(BlobLeaf(b));
  return crypto::MerkleRoot(leaves);
}

Status ValidateManifest(const Manifest& m) {
  SWARM_RETURN_IF_ERROR(ValidateJob(m.job));
  SWARM_RETURN_IF_ERROR(ValidateLabel(m.label));
  if (m.chunks.size() > kManifestChunksMax) {
    return Bad(absl::StrCat("field 'n_chunks' = ", m.chunks.size(), " exceeds ", kManifestChunksMax));
  }
  if (m.blobs.size() > kManifestBlobsMax) {
    return Bad(absl::StrCat("field 'n_blobs' = ", m.blobs.size(), " exceeds ", kManifestBlobsMax));
  }
  for (size_t i = 0; i < m.chunks.size(); ++i) {
    const ChunkEntry& c = m.chunks[i];
    if (c.raw_bytes == 0 || c.raw_bytes > kChunkBytesMax) {
      return Bad(absl::StrCat("chunk ", i, " (", ShortHex(c.id), ") field 'raw_bytes' = ",
                              c.raw_bytes, ", must be 1..", kChunkBytesMax));
    }
    if (i > 0 && !(m.chunks[i - 1].id < c.id)) {
      return Bad(m.chunks[i - 1].id == c.id
                     ? absl::StrCat("chunk ", ShortHex(c.id), " is named twice (entries ", i - 1,
                                    " and ", i, ")")
                     : absl::StrCat("chunk ids not in ascending order at entry ", i));
    }
  }
  std::vector<bool> used(m.chunks.size(), false);
  size_t refs_total = 0;
  for (size_t bi = 0; bi < m.blobs.size(); ++bi) {
    const BlobEntry& b = m.blobs[bi];
    SWARM_RETURN_IF_ERROR(ValidateBlobName(b.name));
    if (bi > 0 && !(m.blobs[bi - 1].name < b.name)) {
      return Bad(m.blobs[bi - 1].name == b.name
                     ? absl::StrCat("blob '", b.name, "' is listed twice")
                     : absl::StrCat("blob names not in ascending order at '", b.name, "'"));
    }
    refs_total += b.refs.size();
    if (refs_total > kManifestRefsMax) {
      return Bad(absl::StrCat("chunk references exceed ", kManifestRefsMax, " at blob '", b.name, "'"));
    }
    uint64_t sum = 0;
    for (size_t k = 0; k < b.refs.size(); ++k) {
      const uint32_t r = b.refs[k];
      if (r >= m.chunks.size()) {
        return Bad(absl::StrCat("blob '", b.name, "' chunk ", k, " refers to table entry ", r,
                                " of ", m.chunks.size()));
      }
      used[r] = true;
      sum += m.chunks[r].raw_bytes;
    }
    if (sum != b.size) {
      return Bad(absl::StrCat("blob '", b.name, "' field 'size' = ", b.size,
                              " but its chunks hold ", sum, " bytes"));
    }
    const auto root = BlobRoot(BlobChunkIds(m, b));
    if (root != b.root) {
      return Bad(absl::StrCat("blob '", b.name, "' root ", ToHex(b.root), " does not match its chunks (",
                              ToHex(root), ")"));
    }
  }
  for (size_t i = 0; i < used.size(); ++i) {
    if (!used[i]) return Bad(absl::StrCat("chunk ", ShortHex(m.chunks[i].id), " (entry ", i, ") is used by no blob"));
  }
  return absl::OkStatus();
}

StatusOr<Manifest> BuildManifest(std::string job, std::string label, uint64_t step,
                                 uint64_t created_unix_ms, std::vector<BlobChunks> blobs) {
  Manifest m;
  m.job = std::move(job);
  m.label = std::move(label);
  m.step = step;
  m.created_unix_ms = created_unix_ms;
  std::map<ChunkId, uint32_t> sizes;
  for (const BlobChunks& b : blobs) {
    for (const ChunkEntry& c : b.chunks) {
      auto [it, fresh] = sizes.emplace(c.id, c.raw_bytes);
      if (!fresh && it->second != c.raw_bytes) {
        return Bad(absl::StrCat("chunk ", ShortHex(c.id), " given with sizes ", it->second, " and ",
                                c.raw_bytes));
      }
    }
  }
  if (sizes.size() > kManifestChunksMax) {
    return Bad(absl::StrCat("field 'n_chunks' = ", sizes.size(), " exceeds ", kManifestChunksMax));
  }
  std::map<ChunkId, uint32_t> index;
  for (const auto& [id, size] : sizes) {
    index.emplace(id, static_cast<uint32_t>(m.chunks.size()));
    m.chunks.push_back({id, size});
  }
  std::sort(blobs.begin(), blobs.end(),
            [](const BlobChunks& a, const BlobChunks& b) { return a.name < b.name; });
  for (BlobChunks& b : blobs) {
    BlobEntry e;
    e.name = std::move(b.name);
    std::vector<ChunkId> ids;
    ids.reserve(b.chunks.size());
    for (const ChunkEntry& c : b.chunks) {
      e.refs.push_back(index.at(c.id));
      e.size += c.raw_bytes;
      ids.push_back(c.id);
    }
    e.root = BlobRoot(ids);
    m.blobs.push_back(std::move(e));
  }
  SWARM_RETURN_IF_ERROR(ValidateManifest(m));
  return m;
}

StatusOr<Bytes> EncodeManifest(const Manifest& m) {
  SWARM_RETURN_IF_ERROR(ValidateManifest(m));
  Bytes b = EncodeHeader(m);
  PutU32(b, static_cast<uint32_t>(m.chunks.size()));
  for (const ChunkEntry& c : m.chunks) {
    PutBytes(b, c.id);
    PutU32(b, c.raw_bytes);
  }
  PutU32(b, static_cast<uint32_t>(m.blobs.size()));
  for (const BlobEntry& e : m.blobs) {
    PutString16(b, e.name);
    PutU64(b, e.size);
    PutU32(b, static_cast<uint32_t>(e.refs.size()));
    for (uint32_t r : e.refs) PutU32(b, r);
    PutBytes(b, e.root);
  }
  PutBytes(b, ManifestRoot(m));
  if (b.size() > kManifestBytesMax) {
    return Bad(absl::StrCat("encoded size ", b.size(), " bytes exceeds ", kManifestBytesMax));
  }
  return b;
}

StatusOr<Manifest> DecodeManifest(ByteSpan bytes) {
  if (bytes.size() > kManifestBytesMax) {
    return Bad(absl::StrCat("size ", bytes.size(), " bytes exceeds ", kManifestBytesMax));
  }
  Reader rd(bytes);
  SWARM_ASSIGN_OR_RETURN(ByteSpan magic, rd.Take("magic", 4));
  if (!std::equal(magic.begin(), magic.end(), kMagic)) {
    return Bad("bad magic (not a swarm checkpoint manifest; expected \"SWCK\")");
  }
  SWARM_ASSIGN_OR_RETURN(const uint64_t version, rd.Uint("version", 4));
  if (version != kManifestVersion) {
    return Bad(absl::StrCat("unknown field 'version' = ", version, " (this build reads version ",
                            kManifestVersion, ")"));
  }
  Manifest m;
  SWARM_ASSIGN_OR_RETURN(m.job, rd.String16("job"));
  SWARM_RETURN_IF_ERROR(ValidateJob(m.job));
  SWARM_ASSIGN_OR_RETURN(m.label, rd.String16("label"));
  SWARM_RETURN_IF_ERROR(ValidateLabel(m.label));
  SWARM_ASSIGN_OR_RETURN(m.step, rd.Uint("step", 8));
  SWARM_ASSIGN_OR_RETURN(m.created_unix_ms, rd.Uint("created_unix_ms", 8));

  SWARM_ASSIGN_OR_RETURN(const uint64_t n_chunks, rd.Uint("n_chunks", 4));
  if (n_chunks > kManifestChunksMax) {
    return Bad(absl::StrCat("field 'n_chunks' = ", n_chunks, " exceeds ", kManifestChunksMax));
  }
  SWARM_RETURN_IF_ERROR(rd.Need("chunks", n_chunks * kChunkEntryBytes));
  m.chunks.resize(n_chunks);
  for (ChunkEntry& c : m.chunks) {
    SWARM_ASSIGN_OR_RETURN(c.id, rd.Fixed<32>("chunk id"));
    SWARM_ASSIGN_OR_RETURN(const uint64_t raw, rd.Uint("raw_bytes", 4));
    c.raw_bytes = static_cast<uint32_t>(raw);
  }
  SWARM_ASSIGN_OR_RETURN(const uint64_t n_blobs, rd.Uint("n_blobs", 4));
  if (n_blobs > kManifestBlobsMax) {
    return Bad(absl::StrCat("field 'n_blobs' = ", n_blobs, " exceeds ", kManifestBlobsMax));
  }
  SWARM_RETURN_IF_ERROR(rd.Need("blobs", n_blobs * kBlobFixedBytes));
  m.blobs.resize(n_blobs);
  size_t refs_total = 0;
  for (BlobEntry& e : m.blobs) {
    SWARM_ASSIGN_OR_RETURN(e.name, rd.String16("blob name"));
    SWARM_ASSIGN_OR_RETURN(e.size, rd.Uint("blob size", 8));
    SWARM_ASSIGN_OR_RETURN(const uint64_t n_refs, rd.Uint("n_refs", 4));
    refs_total += n_refs;
    if (refs_total > kManifestRefsMax) {
      return Bad(absl::StrCat("chunk references exceed ", kManifestRefsMax, " at blob '", e.name, "'"));
    }
    SWARM_RETURN_IF_ERROR(rd.Need("refs", n_refs * 4));
    e.refs.resize(n_refs);
    for (uint32_t& r : e.refs) {
      SWARM_ASSIGN_OR_RETURN(const uint64_t v, rd.Uint("chunk index", 4));
      r = static_cast<uint32_t>(v);
    }
    SWARM_ASSIGN_OR_RETURN(e.root, rd.Fixed<32>("blob root"));
  }
  SWARM_ASSIGN_OR_RETURN(const crypto::MerkleHash stored_root, rd.Fixed<32>("manifest root"));
  if (rd.left() != 0) {
    return Bad(absl::StrCat(rd.left(), " trailing bytes after the manifest root at offset ", rd.pos()));
  }
  SWARM_RETURN_IF_ERROR(ValidateManifest(m));
  const crypto::MerkleHash root = ManifestRoot(m);
  if (root != stored_root) {
    return Bad(absl::StrCat("field 'manifest root' = ", ToHex(stored_root), " does not match the content (",
                            ToHex(root), ")"));
  }
  return m;
}

}  // namespace swarm::chunks
