// Small fd utilities Node lacks: socketpair, unix connect returning a raw fd, memfd, fstat size, flock.
// All run synchronously on the calling JS thread; none of them can block for long.
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/mman.h>
#include <sys/xattr.h>
#endif

#include <cstring>
#include <string>

#include "errors.h"
#include "exports.h"

namespace kju {
namespace {

void SetCloexec(int fd) {
  int flags = fcntl(fd, F_GETFD);
  if (flags >= 0) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

Napi::Value Socketpair(const Napi::CallbackInfo& info) {
  int sv[2];
#ifdef SOCK_CLOEXEC
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) ThrowErrno(info.Env(), errno, "socketpair");
#else
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) ThrowErrno(info.Env(), errno, "socketpair");
  SetCloexec(sv[0]);
  SetCloexec(sv[1]);
#endif
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  out.Set(0u, sv[0]);
  out.Set(1u, sv[1]);
  return out;
}

Napi::Value ConnectUnix(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) ThrowType(env, "path must be a string");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) ThrowErrno(env, ENAMETOOLONG, "connect", path);
  std::memcpy(addr.sun_path, path.data(), path.size());
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) ThrowErrno(env, errno, "socket");
  SetCloexec(fd);
  // Non-blocking so a full listen backlog gives EAGAIN instead of stalling the JS thread.
  int fl = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, fl | O_NONBLOCK);
  int rc;
  do {
    rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    int err = errno;
    close(fd);
    ThrowErrno(env, err, "connect", path);
  }
  fcntl(fd, F_SETFL, fl);
  return Napi::Number::New(env, fd);
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  // EINTR after close still released the fd on Linux; retrying could close someone else's.
  if (close(fd) != 0 && errno != EINTR) ThrowErrno(info.Env(), errno, "close");
  return info.Env().Undefined();
}

Napi::Value DupCloexec(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (d < 0) ThrowErrno(info.Env(), errno, "fcntl", "F_DUPFD_CLOEXEC");
  return Napi::Number::New(info.Env(), d);
}

Napi::Value MemfdCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) ThrowType(env, "name must be a string");
  std::string name = info[0].As<Napi::String>().Utf8Value();
  int64_t size = ArgNonNegativeInt(info, 1, "size");
#ifdef __linux__
  int fd = memfd_create(name.c_str(), MFD_CLOEXEC);
  if (fd < 0) ThrowErrno(env, errno, "memfd_create", name);
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
    int err = errno;
    close(fd);
    ThrowErrno(env, err, "ftruncate", name);
  }
  return Napi::Number::New(env, fd);
#else
  (void)size;
  ThrowErrno(env, ENOSYS, "memfd_create", name);
#endif
}

Napi::Value FileSize(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  struct stat st;
  if (fstat(fd, &st) != 0) ThrowErrno(info.Env(), errno, "fstat");
  return Napi::Number::New(info.Env(), static_cast<double>(st.st_size));
}

// flock(LOCK_EX | LOCK_NB): true when taken, false when another open file description holds it.
// The kernel drops the lock when the last fd of the description closes, including on kill -9.
Napi::Value FlockExclusive(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  int rc;
  do {
    rc = flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc == 0) return Napi::Boolean::New(info.Env(), true);
  if (errno == EWOULDBLOCK) return Napi::Boolean::New(info.Env(), false);
  ThrowErrno(info.Env(), errno, "flock");
}

// Whether the file system holding path keeps user.* extended attributes, decided by reading one
// that does not exist (nothing is written, so it works on read-only folders too): ENODATA means
// the file system has them (QEMU's 9p mapped-xattr can store the guest's owners and modes there),
// EOPNOTSUPP means it has none (vfat, ramfs, some network file systems).
Napi::Value UserXattrSupported(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) ThrowType(env, "path must be a string");
  std::string path = info[0].As<Napi::String>().Utf8Value();
#ifdef __linux__
  ssize_t n = getxattr(path.c_str(), "user.kju.probe", nullptr, 0);
  if (n >= 0 || errno == ENODATA || errno == ERANGE) return Napi::Boolean::New(env, true);
  if (errno == EOPNOTSUPP) return Napi::Boolean::New(env, false);
  ThrowErrno(env, errno, "getxattr", path);
#else
  ThrowErrno(env, ENOSYS, "getxattr", path);
#endif
}

}  // namespace

void InitMisc(Napi::Env env, Napi::Object exports) {
  exports.Set("socketpair", Napi::Function::New(env, Socketpair, "socketpair"));
  exports.Set("connectUnix", Napi::Function::New(env, ConnectUnix, "connectUnix"));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd, "closeFd"));
  exports.Set("dupCloexec", Napi::Function::New(env, DupCloexec, "dupCloexec"));
  exports.Set("memfdCreate", Napi::Function::New(env, MemfdCreate, "memfdCreate"));
  exports.Set("fileSize", Napi::Function::New(env, FileSize, "fileSize"));
  exports.Set("flockExclusive", Napi::Function::New(env, FlockExclusive, "flockExclusive"));
  exports.Set("userXattrSupported", Napi::Function::New(env, UserXattrSupported, "userXattrSupported"));
  exports.Set("pageSize", Napi::Number::New(env, static_cast<double>(sysconf(_SC_PAGESIZE))));
}

}  // namespace kju
