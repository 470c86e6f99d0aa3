#include "crypto/identity.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_format.h"

#include "crypto/hash.h"

namespace swarm::crypto {
namespace {

constexpr char kMagic[8] = {'S', 'W', 'A', 'R', 'M', 'K', 'E', 'Y'};
constexpr uint8_t kVersion = 1;
constexpr size_t kHeaderBytes = 8 + 1 + 1 + 4 + 4;
constexpr size_t kCheckBytes = 32;
constexpr std::string_view kPeerIdTag = "swarm-peer-id/v1";

void PutU32(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
uint32_t GetU32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

Status FileError(const std::string& source, std::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("key file '", source, "': ", std::string(problem)));
}

std::string Errno() { return std::strerror(errno); }

Status WriteAll(int fd, ByteSpan data, const std::string& path) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return absl::InternalError(absl::StrCat("writing '", path, "': ", Errno()));
    off += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace

PeerIdBytes PeerIdOf(SignatureScheme scheme, ByteSpan public_key) {
  const std::string name = SchemeName(scheme);
  const uint8_t zero = 0;
  return Sha3_256({AsBytes(kPeerIdTag), ByteSpan(&zero, 1), AsBytes(name), ByteSpan(&zero, 1),
                   public_key});
}

std::string PeerIdHexOf(SignatureScheme scheme, ByteSpan public_key) {
  const PeerIdBytes id = PeerIdOf(scheme, public_key);
  return ToHex(ByteSpan(id).first(kPeerIdHexChars / 2));
}

Identity::Identity(std::unique_ptr<Signer> signer)
    : signer_(std::move(signer)),
      peer_id_(PeerIdOf(signer_->scheme(), signer_->public_key())) {}

std::string Identity::PeerIdHex() const {
  return ToHex(ByteSpan(peer_id_).first(kPeerIdHexChars / 2));
}

StatusOr<Identity> Identity::Generate(SignatureScheme scheme) {
  SWARM_ASSIGN_OR_RETURN(std::unique_ptr<Signer> s, GenerateSigner(scheme));
  return Identity(std::move(s));
}

StatusOr<Identity> Identity::FromKeys(SignatureScheme scheme, ByteSpan pk, ByteSpan sk) {
  SWARM_ASSIGN_OR_RETURN(std::unique_ptr<Signer> s, SignerFromKeys(scheme, pk, sk));
  return Identity(std::move(s));
}

Bytes Identity::Serialize() const {
  Bytes sk = signer_->ExportSecretKey();
  const Bytes& pk = signer_->public_key();
  Bytes out(kMagic, kMagic + sizeof(kMagic));
  out.reserve(kHeaderBytes + pk.size() + sk.size() + kCheckBytes);
  out.push_back(kVersion);
  out.push_back(static_cast<uint8_t>(scheme()));
  PutU32(out, static_cast<uint32_t>(pk.size()));
  PutU32(out, static_cast<uint32_t>(sk.size()));
  out.insert(out.end(), pk.begin(), pk.end());
  out.insert(out.end(), sk.begin(), sk.end());
  SecureZero(sk.data(), sk.size());
  const Digest256 check = Sha3_256(ByteSpan(out));
  out.insert(out.end(), check.begin(), check.end());
  return out;
}

StatusOr<Identity> Identity::Parse(ByteSpan in, const std::string& source) {
  if (in.size() > kKeyFileBytesMax) {
    return FileError(source, absl::StrCat("is ", in.size(), " bytes, more than the limit ",
                                          kKeyFileBytesMax));
  }
  if (in.size() < kHeaderBytes) {
    return FileError(source, absl::StrCat("truncated: ", in.size(),
                                          " bytes, the header alone needs ", kHeaderBytes));
  }
  if (std::memcmp(in.data(), kMagic, sizeof(kMagic)) != 0)
    return FileError(source, "not a swarm key file (magic 'SWARMKEY' missing)");
  if (in[8] != kVersion) {
    return FileError(source, absl::StrCat("unsupported version ", static_cast<int>(in[8]),
                                          " (this build reads version ", kVersion, ")"));
  }
  auto scheme = SchemeFromId(in[9]);
  if (!scheme.ok()) return FileError(source, std::string(scheme.status().message()));
  const uint64_t pk_len = GetU32(in.data() + 10);
  const uint64_t sk_len = GetU32(in.data() + 14);
  const SchemeSizes sizes = SchemeSizesOf(*scheme);
  if (pk_len != sizes.public_key) {
    return FileError(source, absl::StrCat("wrong public key length ", pk_len, " for ",
                                          SchemeName(*scheme), " (expected ",
                                          sizes.public_key, ")"));
  }
  if (sk_len != sizes.secret_key) {
    return FileError(source, absl::StrCat("wrong secret key length ", sk_len, " for ",
                                          SchemeName(*scheme), " (expected ",
                                          sizes.secret_key, ")"));
  }
  const uint64_t want = kHeaderBytes + pk_len + sk_len + kCheckBytes;
  if (in.size() < want) {
    return FileError(source, absl::StrCat("truncated: ", in.size(), " bytes, a ",
                                          SchemeName(*scheme), " key file has ", want));
  }
  if (in.size() > want) {
    return FileError(source, absl::StrCat(in.size() - want, " trailing bytes after the ",
                                          want, "-byte key file"));
  }
  const size_t body = static_cast<size_t>(want - kCheckBytes);
  const Digest256 check = Sha3_256(in.first(body));
  if (std::memcmp(check.data(), in.data() + body, kCheckBytes) != 0)
    return FileError(source, "checksum mismatch (the file is corrupt)");
  auto id = FromKeys(*scheme, in.subspan(kHeaderBytes, pk_len),
                     in.subspan(kHeaderBytes + pk_len, sk_len));
  if (!id.ok()) return FileError(source, std::string(id.status().message()));
  return id;
}

StatusOr<Identity> Identity::Load(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(absl::StrCat("key file '", path, "': cannot open: ", Errno()));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return FileError(path, "is not a regular file");
  }
  // The file holds the secret key: like the FHE secret-key loader, refuse one
  // that the group or others may read or write.
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    return absl::PermissionDeniedError(absl::StrFormat(
        "key file '%s' has mode %04o; a secret key file must be readable by its owner only "
        "(chmod 600 '%s')",
        path, static_cast<unsigned>(st.st_mode & 07777), path));
  }
  if (static_cast<uint64_t>(st.st_size) > kKeyFileBytesMax) {
    ::close(fd);
    return FileError(path, absl::StrCat("is ", st.st_size, " bytes, more than the limit ",
                                        kKeyFileBytesMax));
  }
  Bytes data(static_cast<size_t>(st.st_size) + 1);  // +1 notices growth while reading
  size_t got = 0;
  while (got < data.size()) {
    const ssize_t n = ::read(fd, data.data() + got, data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      SecureZero(data.data(), data.size());
      return FileError(path, absl::StrCat("read failed: ", Errno()));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  auto id = Parse(ByteSpan(data).first(got), path);
  SecureZero(data.data(), data.size());
  return id;
}

Status Identity::Save(const std::string& path, bool force) const {
  if (path.empty()) return absl::InvalidArgumentError("key file path is empty");
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return FileError(path, "is a directory");
    if (!force) {
      return absl::AlreadyExistsError(absl::StrCat(
          "key file '", path, "' already exists; refusing to overwrite it without force"));
    }
  }
  const std::string tmp = absl::StrCat(path, ".tmp.", ::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("key file '", path, "': cannot create '", tmp, "': ", Errno()));
  }
  Bytes data = Serialize();
  Status s = WriteAll(fd, data, tmp);
  SecureZero(data.data(), data.size());
  if (s.ok() && ::fchmod(fd, 0600) != 0) s = absl::InternalError(absl::StrCat("chmod: ", Errno()));
  if (s.ok() && ::fsync(fd) != 0) s = absl::InternalError(absl::StrCat("fsync: ", Errno()));
  ::close(fd);
  if (s.ok()) {
    if (force) {
      if (::rename(tmp.c_str(), path.c_str()) != 0)
        s = absl::InternalError(absl::StrCat("key file '", path, "': rename: ", Errno()));
    } else if (::link(tmp.c_str(), path.c_str()) != 0) {
      // link() never replaces: an existing file (even one created since the
      // check above) makes it fail with EEXIST.
      s = errno == EEXIST
              ? absl::AlreadyExistsError(absl::StrCat(
                    "key file '", path, "' already exists; refusing to overwrite it without force"))
              : absl::InternalError(absl::StrCat("key file '", path, "': link: ", Errno()));
    }
  }
  ::unlink(tmp.c_str());  // after rename this fails harmlessly (ENOENT)
  return s;
}

}  // namespace swarm::crypto
