#include "netrelay/relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter_ipv4.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <spdlog/spdlog.h>

#include "absl/strings/numbers.h"
#include "net/address.h"
#include "netrelay/delay_line.h"

namespace swarm::netrelay {
namespace {

constexpr int64_t kDelayMsMax = 60'000;
constexpr size_t kReadChunkBytes = 64 * 1024;

int64_t NowUs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

std::string Errno(int e) { return std::strerror(e); }

std::string Ipv4(uint32_t host_order) {
  in_addr a{htonl(host_order)};
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

std::string Describe(const sockaddr_in& a) {
  return Ipv4(ntohl(a.sin_addr.s_addr)) + ":" + std::to_string(ntohs(a.sin_port));
}

StatusOr<sockaddr_in> ResolveIpv4(const std::string& flag, const std::string& text, bool allow_port_zero) {
  auto addr = net::ParseAddress(text, allow_port_zero);
  if (!addr.ok()) return absl::InvalidArgumentError(absl::StrCat(flag, ": ", addr.status().message()));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(addr->port);
  if (inet_pton(AF_INET, addr->host.c_str(), &sa.sin_addr) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " '", text, "': host '", addr->host, "' is not an IPv4 address"));
  }
  return sa;
}

void SetNoDelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

}  // namespace

StatusOr<Route> ParseRoute(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("--route '", std::string(text), "': ", why,
                                                   " (expected CIDR=DELAY_MS[:JITTER_MS], e.g. 10.77.1.0/24=40:5)"));
  };
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos) return bad("has no '='");
  const std::string cidr(text.substr(0, eq));
  const std::string timing(text.substr(eq + 1));
  Route r;
  const size_t slash = cidr.find('/');
  const std::string ip = cidr.substr(0, slash);
  in_addr a{};
  if (inet_pton(AF_INET, ip.c_str(), &a) != 1) return bad("'" + ip + "' is not an IPv4 address");
  r.prefix_len = 32;
  if (slash != std::string::npos) {
    int len = -1;
    if (!absl::SimpleAtoi(cidr.substr(slash + 1), &len) || len < 0 || len > 32) {
      return bad("prefix length '" + cidr.substr(slash + 1) + "' is not in [0, 32]");
    }
    r.prefix_len = len;
  }
  const uint32_t mask = r.prefix_len == 0 ? 0 : ~uint32_t{0} << (32 - r.prefix_len);
  r.network = ntohl(a.s_addr) & mask;
  const size_t colon = timing.find(':');
  const std::string delay = timing.substr(0, colon);
  const std::string jitter = colon == std::string::npos ? "0" : timing.substr(colon + 1);
  if (!absl::SimpleAtoi(delay, &r.delay_ms) || r.delay_ms < 0 || r.delay_ms > kDelayMsMax) {
    return bad("delay '" + delay + "' is not a whole number of ms in [0, " + std::to_string(kDelayMsMax) + "]");
  }
  if (!absl::SimpleAtoi(jitter, &r.jitter_ms) || r.jitter_ms < 0 || r.jitter_ms > r.delay_ms) {
    return bad("jitter '" + jitter + "' is not a whole number of ms in [0, delay " +
               std::to_string(r.delay_ms) + "]");
  }
  return r;
}

const Route* MatchRoute(const std::vector<Route>& routes, uint32_t ip) {
  const Route* best = nullptr;
  for (const Route& r : routes) {
    const uint32_t mask = r.prefix_len == 0 ? 0 : ~uint32_t{0} << (32 - r.prefix_len);
    if ((ip & mask) == r.network && (best == nullptr || r.prefix_len > best->prefix_len)) best = &r;
  }
  return best;
}

struct Relay::Conn {
  Conn(uint64_t id_, const Route* route, size_t bytes_max, uint64_t seed)
      : id(id_),
        up(route ? route->delay_ms * 1000 : 0, route ? route->jitter_ms * 1000 : 0, bytes_max, seed * 2),
        down(route ? route->delay_ms * 1000 : 0, route ? route->jitter_ms * 1000 : 0, bytes_max,
             seed * 2 + 1) {}
  uint64_t id;
  int fd[2] = {-1, -1};  // 0: the client (accepted), 1: upstream
  bool connecting = true;
  int64_t connect_deadline_us = 0;
  bool read_eof[2] = {false, false};
  bool write_shut[2] = {false, false};
  uint32_t watched[2] = {0, 0};  // current epoll interest; 0 = not registered
  DelayLine up;    // client -> upstream
  DelayLine down;  // upstream -> client
  std::string dest;
  DelayLine& into(int side) { return side == 0 ? up : down; }     // what side's reads fill
  DelayLine& out_to(int side) { return side == 0 ? down : up; }   // what is written to side
};

Relay::Relay(const RelayOptions& options) : options_(options) {}

StatusOr<std::unique_ptr<Relay>> Relay::Create(const RelayOptions& o) {
  if (o.buffer_bytes_max < 1024 || o.buffer_bytes_max > (1u << 30)) {
    return absl::InvalidArgumentError(absl::StrCat("--buffer-bytes-max ", o.buffer_bytes_max,
                                                   " is out of range [1024, 1073741824]"));
  }
  if (o.connections_max < 1 || o.connections_max > 65536) {
    return absl::InvalidArgumentError(
        absl::StrCat("--connections-max ", o.connections_max, " is out of range [1, 65536]"));
  }
  if (o.connect_timeout_ms < 1 || o.connect_timeout_ms > 600000) {
    return absl::InvalidArgumentError(
        absl::StrCat("--connect-timeout-ms ", o.connect_timeout_ms, " is out of range [1, 600000]"));
  }
  std::unique_ptr<Relay> r(new Relay(o));
  SWARM_ASSIGN_OR_RETURN(sockaddr_in listen, ResolveIpv4("--listen", o.listen, true));
  if (!o.to.empty()) {
    SWARM_ASSIGN_OR_RETURN(r->fixed_, ResolveIpv4("--to", o.to, false));
  }
  r->listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (r->listen_fd_ < 0) return absl::InternalError("socket: " + Errno(errno));
  int one = 1;
  setsockopt(r->listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(r->listen_fd_, reinterpret_cast<sockaddr*>(&listen), sizeof listen) != 0) {
    const int e = errno;
    return (e == EADDRINUSE ? absl::AlreadyExistsError : absl::InvalidArgumentError)(
        absl::StrCat("--listen '", o.listen, "': cannot bind: ", Errno(e)));
  }
  if (::listen(r->listen_fd_, 512) != 0) return absl::InternalError("listen: " + Errno(errno));
  sockaddr_in bound{};
  socklen_t len = sizeof bound;
  getsockname(r->listen_fd_, reinterpret_cast<sockaddr*>(&bound), &len);
  r->port_ = ntohs(bound.sin_port);
  r->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (r->epoll_fd_ < 0) return absl::InternalError("epoll_create1: " + Errno(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0;  // connection ids start at 1
  if (epoll_ctl(r->epoll_fd_, EPOLL_CTL_ADD, r->listen_fd_, &ev) != 0) {
    return absl::InternalError("epoll_ctl: " + Errno(errno));
  }
  return r;
}

Relay::~Relay() {
  for (auto& [id, c] : conns_) {
    for (int fd : c->fd) {
      if (fd >= 0) close(fd);
    }
  }
  if (listen_fd_ >= 0) close(listen_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

void Relay::Accept(int64_t now_us) {
  for (;;) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EINTR) spdlog::warn("netrelay: accept: {}", Errno(errno));
      return;
    }
    if (static_cast<int>(conns_.size()) >= options_.connections_max) {
      ++stats_.refused_over_limit;
      spdlog::warn("netrelay: connections_max {} reached; connection closed", options_.connections_max);
      close(fd);
      continue;
    }
    sockaddr_in dst = fixed_;
    if (options_.to.empty()) {
      socklen_t len = sizeof dst;
      if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &dst, &len) != 0) {
        spdlog::warn("netrelay: connection without an original destination ({}); is the nft redirect "
                     "rule in place? closed",
                     Errno(errno));
        close(fd);
        continue;
      }
      sockaddr_in self{};
      len = sizeof self;
      getsockname(fd, reinterpret_cast<sockaddr*>(&self), &len);
      if (dst.sin_addr.s_addr == self.sin_addr.s_addr && dst.sin_port == self.sin_port) {
        spdlog::warn("netrelay: connection addressed to the relay itself ({}); closed", Describe(dst));
        close(fd);
        continue;
      }
    }
    const int up = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (up < 0) {
      spdlog::warn("netrelay: socket: {}", Errno(errno));
      close(fd);
      continue;
    }
    if (options_.to.empty() && options_.mark != 0 &&
        setsockopt(up, SOL_SOCKET, SO_MARK, &options_.mark, sizeof options_.mark) != 0) {
      spdlog::error("netrelay: SO_MARK: {} (needs CAP_NET_ADMIN); connection closed", Errno(errno));
      close(up);
      close(fd);
      continue;
    }
    SetNoDelay(fd);
    SetNoDelay(up);
    const uint64_t id = next_id_++;
    auto c = std::make_unique<Conn>(id, MatchRoute(options_.routes, ntohl(dst.sin_addr.s_addr)),
                                    options_.buffer_bytes_max, options_.seed ^ (id * 0x9E3779B97F4A7C15ull));
    c->fd[0] = fd;
    c->fd[1] = up;
    c->dest = Describe(dst);
    c->connect_deadline_us = now_us + int64_t{options_.connect_timeout_ms} * 1000;
    ++stats_.accepted;
    Conn& ref = *c;
    conns_.emplace(id, std::move(c));
    if (connect(up, reinterpret_cast<const sockaddr*>(&dst), sizeof dst) != 0 && errno != EINPROGRESS) {
      ++stats_.connect_failures;
      spdlog::info("netrelay: connect to {}: {}", ref.dest, Errno(errno));
      Close(ref, true);
      continue;
    }
    Pump(ref, now_us);
  }
}

void Relay::Close(Conn& c, bool reset) {
  for (int& fd : c.fd) {
    if (fd < 0) continue;
    if (reset) {
      linger l{1, 0};  // RST: the other side sees the failure, not a clean end
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    close(fd);  // also leaves the epoll set
    fd = -1;
  }
  conns_.erase(c.id);  // c is gone after this line
}

void Relay::Watch(Conn& c, int side) {
  uint32_t want = 0;
  const int fd = c.fd[side];
  if (side == 1 && c.connecting) {
    want = EPOLLOUT;
  } else {
    if (!c.read_eof[side] && c.into(side).room() > 0) want |= EPOLLIN;
    // Data still due after a write hit EAGAIN.
    if (!c.out_to(side).DueBytes(NowUs()).empty()) want |= EPOLLOUT;
  }
  if (want == c.watched[side]) return;
  epoll_event ev{};
  ev.events = want;
  ev.data.u64 = (c.id << 1) | static_cast<uint64_t>(side);
  // An fd with nothing to wait for leaves the set (else EPOLLHUP, reported
  // whatever the interest, would spin the loop while its reads are paused).
  if (want == 0) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  } else if (c.watched[side] == 0) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  } else {
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
  }
  c.watched[side] = want;
}

void Relay::OnEvent(Conn& c, int side, uint32_t events, int64_t now_us) {
  if (side == 1 && c.connecting) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c.fd[1], SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      ++stats_.connect_failures;
      spdlog::info("netrelay: connect to {}: {}", c.dest, Errno(err));
      Close(c, true);
      return;
    }
    if (!(events & EPOLLOUT)) return;
    c.connecting = false;
  }
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
    DelayLine& line = c.into(side);
    char buf[kReadChunkBytes];
    while (!c.read_eof[side] && line.room() > 0) {
      const ssize_t n = recv(c.fd[side], buf, std::min(sizeof buf, line.room()), 0);
      if (n > 0) {
        line.Push(now_us, std::string_view(buf, static_cast<size_t>(n)));
      } else if (n == 0) {
        c.read_eof[side] = true;
        line.PushEnd(now_us);
      } else if (errno == EAGAIN || errno == EINTR) {
        break;
      } else {
        spdlog::debug("netrelay: {} side of connection to {}: {}", side == 0 ? "client" : "upstream",
                      c.dest, Errno(errno));
        Close(c, true);
        return;
      }
    }
  }
  Pump(c, now_us);
}

void Relay::Pump(Conn& c, int64_t now_us) {
  if (c.connecting && now_us > c.connect_deadline_us) {
    ++stats_.connect_failures;
    spdlog::info("netrelay: connect to {}: timed out after {} ms", c.dest, options_.connect_timeout_ms);
    Close(c, true);
    return;
  }
  for (int side = 0; side < 2; ++side) {
    if (side == 1 && c.connecting) continue;
    DelayLine& line = c.out_to(side);
    for (;;) {
      const std::string_view due = line.DueBytes(now_us);
      if (due.empty()) break;
      const ssize_t n = send(c.fd[side], due.data(), due.size(), MSG_NOSIGNAL);
      if (n > 0) {
        line.Consume(static_cast<size_t>(n));
        stats_.bytes_forwarded += static_cast<uint64_t>(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        break;
      } else {
        spdlog::debug("netrelay: writing to {} side of connection to {}: {}", side == 0 ? "client" : "upstream",
                      c.dest, Errno(errno));
        Close(c, true);
        return;
      }
    }
    if (!c.write_shut[side] && line.TakeDueEnd(now_us)) {
      shutdown(c.fd[side], SHUT_WR);
      c.write_shut[side] = true;
    }
  }
  if (c.write_shut[0] && c.write_shut[1]) {
    Close(c, false);
    return;
  }
  Watch(c, 0);
  Watch(c, 1);
}

Status Relay::Run(const std::atomic<bool>* stop) {
  epoll_event events[64];
  while (!stop->load()) {
    int64_t now = NowUs();
    int64_t next = now + 200'000;
    for (auto& [id, c] : conns_) {
      for (const DelayLine* line : {&c->up, &c->down}) {
        if (auto due = line->NextDueUs()) next = std::min(next, *due);
      }
      if (c->connecting) next = std::min(next, c->connect_deadline_us + 1);
    }
    const int timeout_ms = static_cast<int>(std::max<int64_t>(0, (next - now + 999) / 1000));
    const int n = epoll_wait(epoll_fd_, events, 64, timeout_ms);
    if (n < 0 && errno != EINTR) return absl::InternalError("epoll_wait: " + Errno(errno));
    now = NowUs();
    for (int i = 0; i < n; ++i) {
      const uint64_t key = events[i].data.u64;
      if (key == 0) {
        Accept(now);
        continue;
      }
      auto it = conns_.find(key >> 1);
      if (it == conns_.end()) continue;  // closed earlier in this batch
      OnEvent(*it->second, static_cast<int>(key & 1), events[i].events, now);
    }
    // Release whatever came due (Pump may close and erase: collect ids first).
    std::vector<uint64_t> ids;
    ids.reserve(conns_.size());
    for (auto& [id, c] : conns_) ids.push_back(id);
    for (uint64_t id : ids) {
      auto it = conns_.find(id);
      if (it != conns_.end()) Pump(*it->second, now);
    }
    stats_.open = static_cast<int>(conns_.size());
  }
  return absl::OkStatus();
}

}  // namespace swarm::netrelay
