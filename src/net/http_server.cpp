#include "net/http_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include <httplib.h>

#include "absl/strings/str_cat.h"

namespace swarm::net {
namespace {

using SteadyClock = std::chrono::steady_clock;

int64_t MsUntil(SteadyClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t - SteadyClock::now()).count();
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // Length is not secret (the token is a config value of a fixed length).
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

void Address(const sockaddr_storage& ss, std::string& ip, int& port) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, buf, sizeof(buf));
    port = ntohs(a->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof(buf));
    port = ntohs(a->sin6_port);
  }
  ip = buf;
}

}  // namespace

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  in_addr a{};
  const std::string h(host);
  if (inet_pton(AF_INET, h.c_str(), &a) == 1) return (ntohl(a.s_addr) >> 24) == 127;
  return false;
}

// Exposes httplib's per-request parser/dispatcher; we own the connection loop.
class HttpServer::Engine : public httplib::Server {
 public:
  using httplib::Server::process_request;
};

namespace {

// One connection: buffered reads with the header-phase budget (time and
// bytes), the connection deadline, and per-operation I/O timeouts.
class ConnStream : public httplib::Stream {
 public:
  ConnStream(int fd, const HttpLimits& limits)
      : fd_(fd),
        limits_(limits),
        connection_deadline_(SteadyClock::now() + std::chrono::milliseconds(limits.connection_ms_max)) {}

  // Starts reading a new request: its line and headers get a fresh budget.
  void BeginRequest() {
    header_phase_ = true;
    header_bytes_ = 0;
    header_deadline_ = SteadyClock::now() + std::chrono::milliseconds(limits_.header_timeout_ms);
  }
  void EndHeaders() { header_phase_ = false; }

  // Waits up to `ms` for the first byte of a next request.
  bool WaitForRequest(int64_t ms) {
    if (pos_ < len_) return true;
    return Poll(POLLIN, std::min(ms, MsUntil(connection_deadline_)));
  }

  // Why the stream failed, or "" (peer closed, or an ordinary error).
  const std::string& failure() const { return failure_; }
  bool close_after = false;  // set by a refusal: do not parse what follows

  bool is_readable() const override {
    return pos_ < len_ || Poll(POLLIN, std::min(limits_.io_timeout_ms, MsUntil(connection_deadline_)));
  }
  bool is_writable() const override {
    return Poll(POLLOUT, std::min(limits_.io_timeout_ms, MsUntil(connection_deadline_)));
  }

  ssize_t read(char* ptr, size_t size) override {
    if (pos_ == len_ && !Fill()) return -1;
    size_t n = std::min(size, len_ - pos_);
    if (header_phase_) {
      header_bytes_ += static_cast<int64_t>(n);
      if (header_bytes_ > limits_.header_bytes_max) {
        failure_ = "oversized";
        return -1;
      }
    }
    std::memcpy(ptr, buf_ + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    size_t done = 0;
    while (done < size) {
      if (!Poll(POLLOUT, std::min(limits_.io_timeout_ms, MsUntil(connection_deadline_)))) {
        if (failure_.empty()) failure_ = "connection_timeout";
        return -1;
      }
      const ssize_t n = ::send(fd_, ptr + done, size - done, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        return -1;
      }
      done += static_cast<size_t>(n);
    }
    return static_cast<ssize_t>(done);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    if (getpeername(fd_, reinterpret_cast<sockaddr*>(&ss), &len) == 0) Address(ss, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    if (getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) == 0) Address(ss, ip, port);
  }
  socket_t socket() const override { return fd_; }

 private:
  bool Poll(short events, int64_t ms) const {
    if (ms <= 0) return false;
    pollfd p{fd_, events, 0};
    for (;;) {
      const int r = ::poll(&p, 1, static_cast<int>(ms));
      if (r < 0 && errno == EINTR) continue;
      return r > 0 && (p.revents & (events | POLLHUP | POLLERR)) != 0;
    }
  }

  bool Fill() {
    auto deadline = connection_deadline_;
    const char* reason = header_phase_ ? "header_timeout" : "connection_timeout";
    if (header_phase_ && header_deadline_ < deadline) deadline = header_deadline_;
    if (!Poll(POLLIN, std::min(limits_.io_timeout_ms, MsUntil(deadline)))) {
      failure_ = reason;  // silent past the I/O timeout or the deadline
      return false;
    }
    const ssize_t n = ::recv(fd_, buf_, sizeof(buf_), 0);
    if (n <= 0) return false;
    pos_ = 0;
    len_ = static_cast<size_t>(n);
    return true;
  }

  int fd_;
  const HttpLimits& limits_;
  SteadyClock::time_point connection_deadline_;
  SteadyClock::time_point header_deadline_;
  bool header_phase_ = false;
  int64_t header_bytes_ = 0;
  char buf_[4096];
  size_t pos_ = 0, len_ = 0;
  std::string failure_;
};

thread_local ConnStream* t_stream = nullptr;

}  // namespace

HttpServer::HttpServer(HttpLimits limits, RefusalFn on_refused)
    : limits_(std::move(limits)), on_refused_(std::move(on_refused)), engine_(std::make_unique<Engine>()) {
  // Runs after the request line and headers, before any body byte is read.
  auto check = [this](const httplib::Request& req, httplib::Response& res) -> bool {
    const bool chunked = req.has_header("Transfer-Encoding");
    const uint64_t length =
        req.has_header("Content-Length") ? req.get_header_value<uint64_t>("Content-Length") : 0;
    if (chunked || length > 0) {
      if (t_stream) t_stream->close_after = true;  // the unread body must not be parsed
    }
    auto refuse = [&](int status, std::string_view reason, std::string line) {
      if (t_stream) t_stream->close_after = true;
      res.status = status;
      res.set_header("Connection", "close");
      res.set_content(absl::StrCat("refused (", std::string(reason), "): ", line, "\n"), "text/plain");
      Refuse(reason);
      return false;
    };
    if (chunked) {
      return refuse(413, "oversized", "chunked request bodies are not accepted");
    }
    if (length > static_cast<uint64_t>(limits_.body_bytes_max)) {
      return refuse(413, "oversized",
                    absl::StrCat("Content-Length ", length, " exceeds http.body_bytes_max = ",
                                 limits_.body_bytes_max));
    }
    if (req.method != "GET" && req.method != "HEAD") {
      return refuse(405, "method_not_allowed",
                    absl::StrCat("method ", req.method, " (the HTTP endpoints are read-only)"));
    }
    if (!limits_.token.empty() && req.path != "/healthz") {
      const std::string auth = req.get_header_value("Authorization");
      const std::string expected = "Bearer " + limits_.token;
      if (!ConstantTimeEquals(auth, expected)) {
        res.set_header("WWW-Authenticate", "Bearer");
        return refuse(401, "unauthenticated",
                      auth.empty() ? "missing Authorization: Bearer <http.token>"
                                   : "wrong bearer token");
      }
    }
    return true;
  };
  engine_->set_expect_100_continue_handler(
      [check](const httplib::Request& req, httplib::Response& res) { return check(req, res) ? 100 : res.status; });
  engine_->set_pre_routing_handler([check](const httplib::Request& req, httplib::Response& res) {
    return check(req, res) ? httplib::Server::HandlerResponse::Unhandled
                           : httplib::Server::HandlerResponse::Handled;
  });
  engine_->set_payload_max_length(static_cast<size_t>(limits_.body_bytes_max));
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Get(const std::string& path, Handler handler) {
  SWARM_ASSERT(listen_fd_ < 0);
  engine_->Get(path, std::move(handler));
}

Status HttpServer::Listen(const std::string& host, int port) {
  SWARM_ASSERT(listen_fd_ < 0);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string h = host.size() > 2 && host.front() == '[' ? host.substr(1, host.size() - 2) : host;
  const std::string where = absl::StrCat(host, ":", port);
  if (getaddrinfo(h.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || !res) {
    return absl::UnavailableError(absl::StrCat("cannot listen for HTTP on ", where, ": unknown host"));
  }
  int fd = -1;
  for (addrinfo* ai = res; ai && fd < 0; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, 128) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen for HTTP on ", where, ": ",
                                               std::strerror(errno)));
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  std::string ip;
  Address(ss, ip, port_);
  listen_fd_ = fd;
  for (int64_t i = 0; i < limits_.threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
  acceptor_ = std::thread([this] { AcceptLoop(); });
  return absl::OkStatus();
}

void HttpServer::Stop() {
  if (stopping_.exchange(true)) return;
  if (acceptor_.joinable()) acceptor_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : open_) ::shutdown(fd, SHUT_RDWR);
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
  for (int fd : pending_) ::close(fd);
  pending_.clear();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

uint64_t HttpServer::refused(std::string_view reason) const {
  std::lock_guard<std::mutex> lock(counts_mu_);
  for (const auto& [r, n] : counts_) {
    if (r == reason) return n;
  }
  return 0;
}

void HttpServer::Refuse(std::string_view reason) {
  {
    std::lock_guard<std::mutex> lock(counts_mu_);
    auto it = std::find_if(counts_.begin(), counts_.end(), [&](const auto& p) { return p.first == reason; });
    if (it == counts_.end()) {
      counts_.emplace_back(std::string(reason), 1);
    } else {
      ++it->second;
    }
  }
  if (on_refused_) on_refused_(reason);
}

void HttpServer::AcceptLoop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    int yes = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
    bool queued = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (static_cast<int64_t>(pending_.size() + open_.size()) < limits_.connections_max) {
        pending_.push_back(fd);
        queued = true;
      }
    }
    if (queued) {
      cv_.notify_one();
    } else {
      Refuse("too_many_connections");  // counted before the client can see the answer
      static constexpr char kBusy[] =
          "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
      (void)::send(fd, kBusy, sizeof(kBusy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      ::close(fd);
    }
  }
}

void HttpServer::WorkerLoop() {
  for (;;) {
    int fd = -1;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
      if (stopping_) return;
      fd = pending_.front();
      pending_.pop_front();
      open_.insert(fd);
    }
    Serve(fd);
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_.erase(fd);
    }
    ::close(fd);
  }
}

void HttpServer::Serve(int fd) {
  ConnStream stream(fd, limits_);
  t_stream = &stream;
  for (int64_t served = 0; served < limits_.keep_alive_requests_max && !stopping_; ++served) {
    if (served > 0 && !stream.WaitForRequest(limits_.keep_alive_timeout_ms)) break;
    stream.BeginRequest();
    bool closed = false;
    const bool last = served + 1 == limits_.keep_alive_requests_max;
    const bool ok = engine_->process_request(stream, last, closed, [&](httplib::Request&) { stream.EndHeaders(); });
    if (!ok || closed || stream.close_after) break;
  }
  if (!stream.failure().empty()) Refuse(stream.failure());
  t_stream = nullptr;
  if (stream.close_after) Linger(fd);
}

// After refusing a request whose body is still arriving: send FIN, then read
// and discard for a short, bounded while, so the client reads the refusal
// instead of a reset; then the caller closes (a reset if more keeps coming).
void HttpServer::Linger(int fd) {
  ::shutdown(fd, SHUT_WR);
  constexpr int64_t kLingerMs = 500;
  constexpr size_t kLingerBytesMax = 256 * 1024;
  const auto until = SteadyClock::now() + std::chrono::milliseconds(kLingerMs);
  char buf[4096];
  size_t drained = 0;
  while (drained < kLingerBytesMax && !stopping_) {
    const int64_t left = MsUntil(until);
    if (left <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) break;
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    drained += static_cast<size_t>(n);
  }
}

}  // namespace swarm::net
