#include "e2e/process.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <httplib.h>

namespace swarm::e2e {

std::string SwarmBinary() { return std::string(SWARM_BINARY_DIR) + "/swarm"; }

std::string TempDir(const std::string& tag) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base ? base : "/tmp") + "/swarm-e2e-" + tag + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  return mkdtemp(buf.data());
}

int FreePort() {
  std::mt19937 gen(std::random_device{}());
  for (int tries = 0; tries < 200; ++tries) {
    const int port = 30000 + static_cast<int>(gen() % 30000);
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    close(fd);
    if (ok) return port;
  }
  return 0;
}

static pid_t SpawnTo(const std::vector<std::string>& args, int out_fd, int err_fd) {
  const pid_t pid = fork();
  if (pid != 0) return pid;
  dup2(out_fd, STDOUT_FILENO);
  dup2(err_fd, STDERR_FILENO);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execv(argv[0], argv.data());
  _exit(127);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int WaitFor(pid_t pid, double timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

RunResult RunSwarm(const std::vector<std::string>& args, double timeout_s) {
  const std::string dir = TempDir("run");
  const int out = open((dir + "/out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int err = open((dir + "/err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const pid_t pid = SpawnTo(args, out, err);
  close(out);
  close(err);
  RunResult r;
  int status = WaitFor(pid, timeout_s);
  if (status == -1) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    r.exit_code = -1;
  } else {
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  r.out = ReadFile(dir + "/out");
  r.err = ReadFile(dir + "/err");
  std::filesystem::remove_all(dir);
  return r;
}

pid_t Spawn(const std::vector<std::string>& args, const std::string& log_path) {
  const int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const pid_t pid = SpawnTo(args, fd, fd);
  close(fd);
  return pid;
}

bool ProcessExists(pid_t pid) {
  if (kill(pid, 0) != 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const auto close_paren = line.rfind(')');
  if (close_paren == std::string::npos || close_paren + 2 >= line.size()) return false;
  return line[close_paren + 2] != 'Z';
}

std::pair<int, std::string> HttpGet(const std::string& host_port, const std::string& path) {
  return HttpGet(host_port, path, "");
}

std::pair<int, std::string> HttpGet(const std::string& host_port, const std::string& path,
                                    const std::string& bearer_token) {
  const auto colon = host_port.rfind(':');
  httplib::Client cli(host_port.substr(0, colon), std::stoi(host_port.substr(colon + 1)));
  cli.set_connection_timeout(1, 0);
  cli.set_read_timeout(2, 0);
  if (!bearer_token.empty()) cli.set_bearer_token_auth(bearer_token);
  auto res = cli.Get(path);
  if (!res) return {0, ""};
  return {res->status, res->body};
}

void UseRunCredentials(const std::string& run_dir) {
  ::setenv("SWARM_CREDENTIALS", (run_dir + "/admission").c_str(), 1);
}

}  // namespace swarm::e2e
