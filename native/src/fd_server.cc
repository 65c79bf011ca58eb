// listenUnix and FdServerHandle: the listening half of kju's unix sockets (FdSocket is the
// connected half). Accepting is driven by a uv_poll on the creating env's loop, so a server lives
// on the thread that made it (main, a worker_thread, an Electron utility process). Everything
// runs on that env's JS thread; accept never blocks (the listening fd is non-blocking).
//
// JS side contract (index.ts):
//   listenUnix(path, backlog) -> fd    — bound (socket file mode 0600), listening, CLOEXEC, O_NONBLOCK
//   new FdServerHandle(fd, onAccept(err|null, fd|undefined))
//   start() / stop()                   — poll for pending connections; each accepted fd calls onAccept
//   close(), ref(), unref()
// An accept error other than "nothing pending" stops the poll and calls onAccept(err); JS decides
// when to start() again (EMFILE would otherwise wake the loop in a busy cycle).
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include <cstring>
#include <string>

#include "env_state.h"
#include "errors.h"
#include "exports.h"

namespace kju {
namespace {

constexpr int kMaxAcceptsPerWakeup = 32;  // fairness with the rest of the loop

int AcceptOne(int fd) {
#ifdef __linux__
  return accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
#else
  int c = accept(fd, nullptr, nullptr);
  if (c >= 0) fcntl(c, F_SETFD, FD_CLOEXEC);
  return c;
#endif
}

Napi::Value ListenUnix(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) ThrowType(env, "path must be a string");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int64_t backlog = ArgNonNegativeInt(info, 1, "backlog");
  if (backlog < 1 || backlog > 4096) ThrowRange(env, "backlog must be 1..4096");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) ThrowErrno(env, ENAMETOOLONG, "bind", path);
  std::memcpy(addr.sun_path, path.data(), path.size());
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) ThrowErrno(env, errno, "socket");
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    int err = errno;
    close(fd);
    ThrowErrno(env, err, "bind", path);
  }
  // umask is process-wide (threads!), so the mode is set after bind; the window between bind and
  // chmod is covered by the 0700 directory the socket lives in.
  const char* failed = nullptr;
  if (chmod(path.c_str(), 0600) != 0) failed = "chmod";
  else if (listen(fd, static_cast<int>(backlog)) != 0) failed = "listen";
  if (failed != nullptr) {
    int err = errno;
    close(fd);
    unlink(path.c_str());
    ThrowErrno(env, err, failed, path);
  }
  return Napi::Number::New(env, fd);
}

class FdServerHandle : public Napi::ObjectWrap<FdServerHandle>, public EnvResource {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "FdServerHandle",
                       {
                           InstanceMethod<&FdServerHandle::Start>("start"),
                           InstanceMethod<&FdServerHandle::Stop>("stop"),
                           InstanceMethod<&FdServerHandle::CloseJs>("close"),
                           InstanceMethod<&FdServerHandle::RefJs>("ref"),
                           InstanceMethod<&FdServerHandle::UnrefJs>("unref"),
                       });
  }

  explicit FdServerHandle(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<FdServerHandle>(info), asyncContext_(info.Env(), "KjuFdServer") {
    Napi::Env env = info.Env();
    int fd = ArgFd(info, 0);
    if (!info[1].IsFunction()) ThrowType(env, "onAccept must be a function");
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0) ThrowErrno(env, errno, "fcntl", "F_GETFL");
    if (fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) ThrowErrno(env, errno, "fcntl", "F_SETFL O_NONBLOCK");
    uv_loop_t* loop = nullptr;
    NAPI_THROW_IF_FAILED_VOID(env, napi_get_uv_event_loop(env, &loop));
    poll_ = new uv_poll_t;
    int rc = uv_poll_init(loop, poll_, fd);
    if (rc != 0) {
      delete poll_;
      poll_ = nullptr;
      ThrowErrno(env, -rc, "uv_poll_init");
    }
    fd_ = fd;  // owned from here on
    poll_->data = this;
    onAccept_ = Napi::Persistent(info[1].As<Napi::Function>());
    Ref();  // a listening server is a GC root while open (the poll calls back into it)
    selfRef_ = true;
    Track(env);
  }

  ~FdServerHandle() override { Close(); }

  void ReleaseForEnvExit() override { Close(); }

 private:
  Napi::Value Start(const Napi::CallbackInfo& info) {
    if (closed_) ThrowErrno(info.Env(), EBADF, "accept");
    if (!polling_) {
      int rc = uv_poll_start(poll_, UV_READABLE, OnPoll);
      if (rc != 0) ThrowErrno(info.Env(), -rc, "uv_poll_start");
      polling_ = true;
    }
    return info.Env().Undefined();
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    StopPoll();
    return info.Env().Undefined();
  }

  Napi::Value CloseJs(const Napi::CallbackInfo& info) {
    Close();
    return info.Env().Undefined();
  }

  Napi::Value RefJs(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  Napi::Value UnrefJs(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  void StopPoll() {
    if (polling_ && poll_ != nullptr) uv_poll_stop(poll_);
    polling_ = false;
  }

  static void OnPoll(uv_poll_t* handle, int status, int events) {
    auto* self = static_cast<FdServerHandle*>(handle->data);
    if (self != nullptr) self->HandlePoll(status);
  }

  // Whether this env may still run JS (a terminating worker's loop can still deliver polls).
  static bool CanCallIntoJs(napi_env env) {
    napi_value probe, undefined;
    if (napi_create_object(env, &probe) != napi_ok || napi_get_undefined(env, &undefined) != napi_ok) return false;
    return napi_set_named_property(env, probe, "p", undefined) == napi_ok;
  }

  // Returns whether the caller may go on (server still open, env alive).
  bool Call(Napi::Object self, napi_value err, napi_value fd) {
    napi_env env = Env();
    napi_value args[] = {err, fd};
    napi_value result;
    if (napi_make_callback(env, asyncContext_, self, onAccept_.Value(), 2, args, &result) != napi_ok) {
      bool pending = false;
      napi_value exception = nullptr;
      if (napi_is_exception_pending(env, &pending) == napi_ok && pending) napi_get_and_clear_last_exception(env, &exception);
      if (!CanCallIntoJs(env)) {
        StopPoll();
        return false;
      }
      if (exception != nullptr) napi_fatal_exception(env, exception);
    }
    return !closed_;
  }

  void HandlePoll(int status) {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (!CanCallIntoJs(env)) {
      StopPoll();
      return;
    }
    Napi::Object self = Value();
    try {
      if (status < 0) {
        StopPoll();
        Call(self, ErrnoError(env, -status, "uv_poll").Value(), env.Undefined());
        return;
      }
      for (int i = 0; i < kMaxAcceptsPerWakeup && polling_ && !closed_; i++) {
        int c = AcceptOne(fd_);
        if (c < 0) {
          int err = errno;
          if (err == EAGAIN || err == EWOULDBLOCK) return;
          if (err == EINTR || err == ECONNABORTED) continue;
          StopPoll();  // EMFILE, ENFILE, ENOBUFS, ENOMEM...: JS retries later
          Call(self, ErrnoError(env, err, "accept").Value(), env.Undefined());
          return;
        }
        napi_value fdValue;
        if (napi_create_int32(env, c, &fdValue) != napi_ok) {
          close(c);
          if (!CanCallIntoJs(env)) StopPoll();
          return;
        }
        // Ownership of c passes to JS with the call; if JS is gone, nobody else will close it.
        if (!Call(self, Napi::Env(env).Null(), fdValue)) {
          if (!CanCallIntoJs(env)) close(c);
          return;
        }
      }
    } catch (const Napi::Error& e) {
      if (!CanCallIntoJs(env)) StopPoll();
      else napi_fatal_exception(env, e.Value());
    }
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    polling_ = false;
    if (poll_ != nullptr) {
      uv_poll_stop(poll_);
      poll_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll_ = nullptr;
    }
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
    onAccept_.Reset();
    if (selfRef_) {
      selfRef_ = false;
      uint32_t count = 0;
      napi_ref ref = *this;
      napi_reference_unref(Env(), ref, &count);
    }
  }

  void Finalize(Napi::Env env) override { selfRef_ = false; }

  int fd_ = -1;
  uv_poll_t* poll_ = nullptr;
  bool polling_ = false;
  bool closed_ = false;
  bool selfRef_ = false;
  Napi::FunctionReference onAccept_;
  Napi::AsyncContext asyncContext_;
};

}  // namespace

void InitFdServer(Napi::Env env, Napi::Object exports) {
  exports.Set("listenUnix", Napi::Function::New(env, ListenUnix, "listenUnix"));
  exports.Set("FdServerHandle", FdServerHandle::Define(env));
}

}  // namespace kju
