#include "fhe/keyset.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>

#include "absl/strings/str_format.h"
#include "common/file.h"
#include "crypto/hash.h"
#include "fhe/keys.h"
#include "fhe/serialize.h"

namespace swarm::fhe {
namespace {

namespace fs = std::filesystem;

std::string PathOf(const std::string& dir, const char* name) { return (fs::path(dir) / name).string(); }

std::string Errno() { return std::strerror(errno); }

StatusOr<Bytes> ReadFileBytes(const std::string& path, size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(absl::StrCat("key set: cannot open ", path, ": ", Errno()));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat("key set: ", path, " is not a regular file"));
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat("key set: ", path, " is ", st.st_size,
                                                   " bytes, more than the limit of ", max_bytes));
  }
  Bytes out(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < out.size()) {
    ssize_t r = ::read(fd, out.data() + got, out.size() - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      ::close(fd);
      return absl::DataLossError(absl::StrCat("key set: reading ", path, " failed: ",
                                              r < 0 ? Errno() : std::string("file shrank")));
    }
    got += static_cast<size_t>(r);
  }
  ::close(fd);
  return out;
}

std::string DigestHex(ByteSpan data) {
  auto d = crypto::Sha3_256(data);
  return ToHex(ByteSpan(d.data(), d.size()));
}

struct Manifest {
  int version = 0;
  std::string scheme;
  size_t poly_degree = 0;
  std::string key_id_hex;
  std::string param_hash_hex;
  std::map<std::string, std::string> files;  // name -> sha3 hex
};

std::string FormatManifest(const Manifest& m) {
  std::ostringstream o;
  o << "swarm-fhe-keyset " << m.version << "\n";
  o << "scheme " << m.scheme << "\n";
  o << "poly_degree " << m.poly_degree << "\n";
  o << "key_id " << m.key_id_hex << "\n";
  o << "param_hash " << m.param_hash_hex << "\n";
  for (const auto& [name, digest] : m.files) o << "file " << name << " " << digest << "\n";
  return o.str();
}

bool KnownFile(const std::string& name) {
  return name == kParamsFile || name == kPublicKeyFile || name == kRelinKeyFile || name == kGaloisKeysFile;
}

StatusOr<Manifest> ParseManifest(const std::string& path, const std::string& text) {
  Manifest m;
  std::istringstream in(text);
  std::string line;
  size_t line_no = 0;
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("key set: ", path, " line ", line_no, ": ", why));
  };
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    std::istringstream ls(line);
    std::string key, a, b, extra;
    ls >> key >> a;
    std::getline(ls, b);
    if (!b.empty() && b[0] == ' ') b.erase(0, 1);
    if (line_no == 1) {
      if (key != "swarm-fhe-keyset") return bad(absl::StrCat("not a key set manifest (first word '", key, "')"));
      if (a != std::to_string(kKeySetFormatVersion))
        return bad(absl::StrCat("format version '", a, "' is not supported (expected ", kKeySetFormatVersion, ")"));
      m.version = kKeySetFormatVersion;
      continue;
    }
    if (key == "scheme") {
      m.scheme = a;
    } else if (key == "poly_degree") {
      try {
        m.poly_degree = std::stoull(a);
      } catch (...) {
        return bad(absl::StrCat("poly_degree '", a, "' is not a number"));
      }
    } else if (key == "key_id") {
      m.key_id_hex = a;
    } else if (key == "param_hash") {
      m.param_hash_hex = a;
    } else if (key == "file") {
      if (!KnownFile(a)) return bad(absl::StrCat("unknown file '", a, "'"));
      if (b.size() != 64) return bad(absl::StrCat("digest of ", a, " is not 64 hex characters"));
      m.files[a] = b;
    } else {
      return bad(absl::StrCat("unknown field '", key, "'"));
    }
  }
  if (m.version == 0) return absl::InvalidArgumentError(absl::StrCat("key set: ", path, " is empty"));
  if (m.key_id_hex.size() != 32) return bad("missing or malformed key_id (32 hex characters)");
  if (m.param_hash_hex.size() != 64) return bad("missing or malformed param_hash (64 hex characters)");
  if (!m.files.count(kParamsFile)) return bad("params.fhe is not listed");
  if (!m.files.count(kPublicKeyFile)) return bad("public.key is not listed");
  return m;
}

StatusOr<Manifest> ReadManifest(const std::string& dir) {
  std::string path = PathOf(dir, kManifestFile);
  if (!fs::is_directory(dir))
    return absl::NotFoundError(absl::StrCat("key set: '", dir, "' is not a directory"));
  SWARM_ASSIGN_OR_RETURN(Bytes raw, ReadFileBytes(path, kManifestBytesMax));
  return ParseManifest(path, std::string(raw.begin(), raw.end()));
}

// Reads a listed file and checks its digest.
StatusOr<Bytes> ReadListed(const std::string& dir, const Manifest& m, const char* name) {
  std::string path = PathOf(dir, name);
  SWARM_ASSIGN_OR_RETURN(Bytes raw, ReadFileBytes(path, kKeyFileBytesMax));
  std::string got = DigestHex(raw);
  if (got != m.files.at(name))
    return absl::InvalidArgumentError(absl::StrCat(
        "key set: ", path, " has SHA3-256 ", got, " but ", kManifestFile, " lists ", m.files.at(name),
        " (the file belongs to another key set or is corrupted)"));
  return raw;
}

Status CheckIds(const std::string& path, const KeyId& id, const ParamHash& ph, const Manifest& m) {
  if (KeyIdHex(id) != m.key_id_hex)
    return absl::InvalidArgumentError(absl::StrCat("key set: ", path, " has key id ", KeyIdHex(id), " but ",
                                                   kManifestFile, " lists ", m.key_id_hex));
  std::string h = ToHex(ByteSpan(ph.data(), ph.size()));
  if (h != m.param_hash_hex)
    return absl::InvalidArgumentError(absl::StrCat("key set: ", path, " has parameter hash ", h, " but ",
                                                   kManifestFile, " lists ", m.param_hash_hex));
  return absl::OkStatus();
}

Status WriteAll(const std::string& dir, const EvalKeys& keys, const SecretKey* sk, bool overwrite) {
  if (!keys.ctx || !keys.public_key)
    return absl::InvalidArgumentError("key set: parameters and public key are required");
  const Context& ctx = *keys.ctx;
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return absl::PermissionDeniedError(absl::StrCat("key set: cannot create '", dir, "': ", ec.message()));
    ::chmod(dir.c_str(), 0700);
  } else if (!fs::is_directory(dir, ec)) {
    return absl::InvalidArgumentError(absl::StrCat("key set: '", dir, "' exists and is not a directory"));
  }
  if (!overwrite && fs::exists(PathOf(dir, kManifestFile), ec))
    return absl::AlreadyExistsError(
        absl::StrCat("key set: '", dir, "' already holds a key set (", kManifestFile, "); refusing to overwrite"));
  auto check_key = [&](const char* what, const KeyId& id, const ParamHash& ph) -> Status {
    if (id != keys.key_id || ph != ctx.hash())
      return absl::InvalidArgumentError(absl::StrCat("key set: the ", what, " belongs to key id ", KeyIdHex(id),
                                                     ", not ", KeyIdHex(keys.key_id), " or other parameters"));
    return absl::OkStatus();
  };
  SWARM_RETURN_IF_ERROR(check_key("public key", keys.public_key->id, keys.public_key->param_hash));
  Manifest m;
  m.version = kKeySetFormatVersion;
  m.scheme = SchemeName(ctx.scheme());
  m.poly_degree = ctx.n();
  m.key_id_hex = KeyIdHex(keys.key_id);
  m.param_hash_hex = ToHex(ByteSpan(ctx.hash().data(), ctx.hash().size()));
  auto put = [&](const char* name, const Bytes& blob) -> Status {
    SWARM_RETURN_IF_ERROR(swarm::WriteFileAtomic(PathOf(dir, name), ByteSpan(blob), {.mode = 0644}));
    m.files[name] = DigestHex(blob);
    return absl::OkStatus();
  };
  SWARM_RETURN_IF_ERROR(put(kParamsFile, SerializeParams(ctx)));
  SWARM_RETURN_IF_ERROR(put(kPublicKeyFile, Serialize(ctx, *keys.public_key)));
  if (keys.relin_key) {
    SWARM_RETURN_IF_ERROR(check_key("relinearization key", keys.relin_key->id, keys.relin_key->param_hash));
    SWARM_RETURN_IF_ERROR(put(kRelinKeyFile, Serialize(ctx, *keys.relin_key)));
  } else {
    ::unlink(PathOf(dir, kRelinKeyFile).c_str());
  }
  if (keys.galois_keys) {
    SWARM_RETURN_IF_ERROR(check_key("Galois keys", keys.galois_keys->id, keys.galois_keys->param_hash));
    SWARM_RETURN_IF_ERROR(put(kGaloisKeysFile, Serialize(ctx, *keys.galois_keys)));
  } else {
    ::unlink(PathOf(dir, kGaloisKeysFile).c_str());
  }
  if (sk) {
    SWARM_RETURN_IF_ERROR(check_key("secret key", sk->id, sk->param_hash));
    Bytes blob = Serialize(ctx, *sk);
    Status s = swarm::WriteFileAtomic(PathOf(dir, kSecretKeyFile), ByteSpan(blob), {.mode = 0600});
    SecureZero(blob.data(), blob.size());
    SWARM_RETURN_IF_ERROR(s);
  }
  // The manifest last: a crash before this leaves no (or the old) manifest.
  std::string text = FormatManifest(m);
  return swarm::WriteFileAtomic(PathOf(dir, kManifestFile), AsBytes(text), {.mode = 0644});
}

}  // namespace

std::string KeyIdHex(const KeyId& id) { return ToHex(ByteSpan(id.data(), id.size())); }

std::vector<std::string> ShareableFiles() {
  return {kManifestFile, kParamsFile, kPublicKeyFile, kRelinKeyFile, kGaloisKeysFile};
}

StatusOr<KeySet> GenerateKeySet(const ParamSpec& spec, const KeyGenOptions& options) {
  SWARM_ASSIGN_OR_RETURN(ContextPtr ctx, Context::Create(spec));
  SWARM_ASSIGN_OR_RETURN(KeyGenerator kg, KeyGenerator::Create(ctx));
  auto sk = std::make_shared<SecretKey>(kg.GenerateSecretKey());
  KeySet ks;
  ks.eval.ctx = ctx;
  ks.eval.key_id = sk->id;
  SWARM_ASSIGN_OR_RETURN(PublicKey pk, kg.GeneratePublicKey(*sk));
  ks.eval.public_key = std::make_shared<const PublicKey>(std::move(pk));
  if (options.relin_key) {
    SWARM_ASSIGN_OR_RETURN(RelinKey rk, kg.GenerateRelinKey(*sk));
    ks.eval.relin_key = std::make_shared<const RelinKey>(std::move(rk));
  }
  if (options.galois_keys) {
    SWARM_ASSIGN_OR_RETURN(GaloisKeys gk, kg.GenerateGaloisKeys(*sk, options.rotations, options.conjugate));
    ks.eval.galois_keys = std::make_shared<const GaloisKeys>(std::move(gk));
  }
  ks.secret_key = std::move(sk);
  return ks;
}

Status SaveKeySet(const std::string& dir, const KeySet& keys, bool overwrite) {
  return WriteAll(dir, keys.eval, keys.secret_key.get(), overwrite);
}

Status SaveEvalKeys(const std::string& dir, const EvalKeys& keys, bool overwrite) {
  return WriteAll(dir, keys, nullptr, overwrite);
}

StatusOr<EvalKeys> LoadEvalKeys(const std::string& dir) {
  SWARM_ASSIGN_OR_RETURN(Manifest m, ReadManifest(dir));
  EvalKeys out;
  {
    SWARM_ASSIGN_OR_RETURN(Bytes raw, ReadListed(dir, m, kParamsFile));
    auto ctx = DeserializeParams(raw);
    if (!ctx.ok())
      return absl::InvalidArgumentError(absl::StrCat("key set: ", PathOf(dir, kParamsFile), ": ", ctx.status().message()));
    out.ctx = *ctx;
    std::string h = ToHex(ByteSpan(out.ctx->hash().data(), out.ctx->hash().size()));
    if (h != m.param_hash_hex)
      return absl::InvalidArgumentError(absl::StrCat("key set: ", PathOf(dir, kParamsFile), " has parameter hash ", h,
                                                     " but ", kManifestFile, " lists ", m.param_hash_hex));
  }
  const Context& ctx = *out.ctx;
  auto load = [&](const char* name, auto deserialize) -> StatusOr<std::decay_t<decltype(deserialize(ByteSpan{}).value())>> {
    SWARM_ASSIGN_OR_RETURN(Bytes raw, ReadListed(dir, m, name));
    auto v = deserialize(ByteSpan(raw));
    if (!v.ok())
      return absl::InvalidArgumentError(absl::StrCat("key set: ", PathOf(dir, name), ": ", v.status().message()));
    SWARM_RETURN_IF_ERROR(CheckIds(PathOf(dir, name), v->id, v->param_hash, m));
    return std::move(v).value();
  };
  {
    SWARM_ASSIGN_OR_RETURN(PublicKey pk, load(kPublicKeyFile, [&](ByteSpan b) { return DeserializePublicKey(ctx, b); }));
    out.key_id = pk.id;
    out.public_key = std::make_shared<const PublicKey>(std::move(pk));
  }
  if (m.files.count(kRelinKeyFile)) {
    SWARM_ASSIGN_OR_RETURN(RelinKey rk, load(kRelinKeyFile, [&](ByteSpan b) { return DeserializeRelinKey(ctx, b); }));
    out.relin_key = std::make_shared<const RelinKey>(std::move(rk));
  }
  if (m.files.count(kGaloisKeysFile)) {
    SWARM_ASSIGN_OR_RETURN(GaloisKeys gk,
                           load(kGaloisKeysFile, [&](ByteSpan b) { return DeserializeGaloisKeys(ctx, b); }));
    out.galois_keys = std::make_shared<const GaloisKeys>(std::move(gk));
  }
  return out;
}

StatusOr<std::shared_ptr<const SecretKey>> LoadSecretKey(const std::string& dir, const Context& ctx) {
  SWARM_ASSIGN_OR_RETURN(Manifest m, ReadManifest(dir));
  std::string path = PathOf(dir, kSecretKeyFile);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return absl::NotFoundError(absl::StrCat("key set: no secret key at ", path, " (", Errno(),
                                            "); this directory holds evaluation keys only"));
  if ((st.st_mode & 077) != 0)
    return absl::PermissionDeniedError(absl::StrFormat(
        "key set: %s has mode %04o; a secret key must be readable by its owner only (chmod 600)", path,
        static_cast<unsigned>(st.st_mode & 07777)));
  SWARM_ASSIGN_OR_RETURN(Bytes raw, ReadFileBytes(path, kKeyFileBytesMax));
  auto sk = DeserializeSecretKey(ctx, raw);
  SecureZero(raw.data(), raw.size());
  if (!sk.ok()) return absl::InvalidArgumentError(absl::StrCat("key set: ", path, ": ", sk.status().message()));
  SWARM_RETURN_IF_ERROR(CheckIds(path, sk->id, sk->param_hash, m));
  return std::shared_ptr<const SecretKey>(std::make_shared<SecretKey>(std::move(sk).value()));
}

StatusOr<KeySet> LoadKeySet(const std::string& dir) {
  KeySet ks;
  SWARM_ASSIGN_OR_RETURN(ks.eval, LoadEvalKeys(dir));
  SWARM_ASSIGN_OR_RETURN(ks.secret_key, LoadSecretKey(dir, *ks.eval.ctx));
  return ks;
}

}  // namespace swarm::fhe
