// FdSocketHandle: the native half of FdSocket. Owns one non-blocking unix stream socket fd and a
// uv_poll on the creating env's loop. Everything here runs on that env's JS thread; reads happen
// only when the poll says the socket is readable, so nothing blocks.
//
// JS side contract (index.ts):
//   new FdSocketHandle(fd, onRead(err|null, fds|undefined, chunk|undefined), onWritable())
//   readStart() / readStop()     — poll for readability; each recvmsg chunk calls onRead
//   send(data, fds?) -> bytes    — one sendmsg; -1 means EAGAIN (nothing sent): call waitWritable()
//   waitWritable()               — one onWritable() call when the socket can take more
//   shutdownWrite(), close(), ref(), unref()
// onRead(null, undefined, undefined) means EOF.
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <uv.h>

#include <cstring>
#include <vector>

#include "env_state.h"
#include "errors.h"
#include "exports.h"

namespace kju {
namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr int kMaxFdsPerMessage = 253;       // Linux SCM_MAX_FD
constexpr int kMaxReadsPerWakeup = 32;       // fairness with the rest of the loop

#ifdef MSG_NOSIGNAL
constexpr int kSendFlags = MSG_NOSIGNAL;
#else
constexpr int kSendFlags = 0;
#endif
#ifdef MSG_CMSG_CLOEXEC
constexpr int kRecvFlags = MSG_CMSG_CLOEXEC;
#else
constexpr int kRecvFlags = 0;
#endif

class FdSocketHandle : public Napi::ObjectWrap<FdSocketHandle>, public EnvResource {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "FdSocketHandle",
                       {
                           InstanceMethod<&FdSocketHandle::ReadStart>("readStart"),
                           InstanceMethod<&FdSocketHandle::ReadStop>("readStop"),
                           InstanceMethod<&FdSocketHandle::Send>("send"),
                           InstanceMethod<&FdSocketHandle::WaitWritable>("waitWritable"),
                           InstanceMethod<&FdSocketHandle::ShutdownWrite>("shutdownWrite"),
                           InstanceMethod<&FdSocketHandle::CloseJs>("close"),
                           InstanceMethod<&FdSocketHandle::RefJs>("ref"),
                           InstanceMethod<&FdSocketHandle::UnrefJs>("unref"),
                       });
  }

  explicit FdSocketHandle(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<FdSocketHandle>(info), asyncContext_(info.Env(), "KjuFdSocket") {
    Napi::Env env = info.Env();
    fd_ = ArgFd(info, 0);
    if (!info[1].IsFunction() || !info[2].IsFunction()) ThrowType(env, "onRead and onWritable must be functions");
    int fl = fcntl(fd_, F_GETFL);
    if (fl < 0) ThrowErrno(env, errno, "fcntl", "F_GETFL");
    if (fcntl(fd_, F_SETFL, fl | O_NONBLOCK) != 0) ThrowErrno(env, errno, "fcntl", "F_SETFL O_NONBLOCK");
    uv_loop_t* loop = nullptr;
    NAPI_THROW_IF_FAILED_VOID(env, napi_get_uv_event_loop(env, &loop));
    poll_ = new uv_poll_t;
    int rc = uv_poll_init(loop, poll_, fd_);
    if (rc != 0) {
      delete poll_;
      poll_ = nullptr;
      ThrowErrno(env, -rc, "uv_poll_init");
    }
    poll_->data = this;
    onRead_ = Napi::Persistent(info[1].As<Napi::Function>());
    onWritable_ = Napi::Persistent(info[2].As<Napi::Function>());
    // Open sockets are GC roots (like net.Socket): the uv callbacks need this object.
    Ref();
    selfRef_ = true;
    Track(env);
  }

  ~FdSocketHandle() override { Close(); }

  void ReleaseForEnvExit() override { Close(); }

 private:
  Napi::Value ReadStart(const Napi::CallbackInfo& info) {
    reading_ = true;
    UpdatePoll(info.Env());
    return info.Env().Undefined();
  }

  Napi::Value ReadStop(const Napi::CallbackInfo& info) {
    reading_ = false;
    UpdatePoll(info.Env());
    return info.Env().Undefined();
  }

  Napi::Value WaitWritable(const Napi::CallbackInfo& info) {
    wantWritable_ = true;
    UpdatePoll(info.Env());
    return info.Env().Undefined();
  }

  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_) ThrowErrno(env, EBADF, "sendmsg");
    if (!info[0].IsTypedArray()) ThrowType(env, "data must be a Uint8Array");
    Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
    if (ta.TypedArrayType() != napi_uint8_array) ThrowType(env, "data must be a Uint8Array");
    Napi::Uint8Array data = ta.As<Napi::Uint8Array>();

    std::vector<int> fds;
    if (info.Length() > 1 && info[1].IsArray()) {
      Napi::Array arr = info[1].As<Napi::Array>();
      for (uint32_t i = 0; i < arr.Length(); i++) {
        Napi::Value v = arr.Get(i);
        if (!v.IsNumber()) ThrowType(env, "fds must be numbers");
        double d = v.As<Napi::Number>().DoubleValue();
        if (d < 0 || d > 0x7fffffff || d != static_cast<int>(d)) ThrowRange(env, "fd out of range");
        fds.push_back(static_cast<int>(d));
      }
    }
    if (fds.size() > static_cast<size_t>(kMaxFdsPerMessage)) ThrowRange(env, "too many fds in one message (max 253)");
    if (!fds.empty() && data.ByteLength() == 0) ThrowRange(env, "fds need at least one byte of data to travel with");

    iovec iov{data.Data(), data.ByteLength()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    std::vector<char> control;
    if (!fds.empty()) {
      control.assign(CMSG_SPACE(sizeof(int) * fds.size()), 0);
      msg.msg_control = control.data();
      msg.msg_controllen = control.size();
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
      std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    if (data.ByteLength() == 0) return Napi::Number::New(env, 0);
    ssize_t n;
    do {
      n = sendmsg(fd_, &msg, kSendFlags);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return Napi::Number::New(env, -1);
      ThrowErrno(env, errno, "sendmsg");
    }
    return Napi::Number::New(env, static_cast<double>(n));
  }

  Napi::Value ShutdownWrite(const Napi::CallbackInfo& info) {
    if (!closed_ && shutdown(fd_, SHUT_WR) != 0 && errno != ENOTCONN) ThrowErrno(info.Env(), errno, "shutdown");
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

  void UpdatePoll(Napi::Env env) {
    if (closed_ || poll_ == nullptr) return;
    int events = (reading_ ? (UV_READABLE | UV_DISCONNECT) : 0) | (wantWritable_ ? UV_WRITABLE : 0);
    if (events == pollEvents_) return;
    int rc = events == 0 ? uv_poll_stop(poll_) : uv_poll_start(poll_, events, OnPoll);
    if (rc != 0) ThrowErrno(env, -rc, "uv_poll_start");
    pollEvents_ = events;
  }

  static void OnPoll(uv_poll_t* handle, int status, int events) {
    auto* self = static_cast<FdSocketHandle*>(handle->data);
    if (self != nullptr) self->HandlePoll(status, events);
  }

  // Whether this env may still run JS (a terminating worker's loop can still deliver polls).
  static bool CanCallIntoJs(napi_env env) {
    napi_value probe, undefined;
    if (napi_create_object(env, &probe) != napi_ok || napi_get_undefined(env, &undefined) != napi_ok) return false;
    return napi_set_named_property(env, probe, "p", undefined) == napi_ok;  // fails once JS is off
  }

  // The env is going away: stop polling; the cleanup hook closes the fd.
  void Quiesce() {
    if (poll_ != nullptr && pollEvents_ != 0) uv_poll_stop(poll_);
    pollEvents_ = 0;
    reading_ = wantWritable_ = false;
  }

  // Calls a JS callback from a uv callback; a throwing callback becomes an uncaught exception.
  // Returns whether the caller may go on (socket still open, env alive).
  bool Call(Napi::FunctionReference& fn, Napi::Object self, std::initializer_list<napi_value> args) {
    if (fn.IsEmpty()) return false;
    napi_env env = Env();
    napi_value result;
    napi_status status = napi_make_callback(env, asyncContext_, self, fn.Value(), args.size(), args.begin(), &result);
    if (status != napi_ok) {
      bool pending = false;
      napi_value exception = nullptr;
      if (napi_is_exception_pending(env, &pending) == napi_ok && pending)
        napi_get_and_clear_last_exception(env, &exception);
      if (!CanCallIntoJs(env)) {
        Quiesce();
        return false;
      }
      if (exception != nullptr) napi_fatal_exception(env, exception);
    }
    return !closed_;
  }

  void HandlePoll(int status, int events) {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (!CanCallIntoJs(env)) {
      Quiesce();
      return;
    }
    try {
      HandlePollEvents(env, status, events);
    } catch (const Napi::Error& e) {
      // Building arguments failed: the env is stopping, or out of memory.
      if (!CanCallIntoJs(env)) Quiesce();
      else napi_fatal_exception(env, e.Value());
    }
  }

  void HandlePollEvents(Napi::Env env, int status, int events) {
    Napi::Object self = Value();  // keeps the wrapper alive while JS runs below
    if (status < 0) {
      // Let recvmsg report the real error if we are reading; otherwise report the poll error.
      if (!reading_) {
        Call(onRead_, self, {ErrnoError(env, -status, "uv_poll").Value(), env.Undefined(), env.Undefined()});
        return;
      }
      events |= UV_READABLE;
    }
    if ((events & UV_WRITABLE) && wantWritable_) {
      wantWritable_ = false;
      UpdatePoll(env);
      if (!Call(onWritable_, self, {})) return;
    }
    if ((events & (UV_READABLE | UV_DISCONNECT)) == 0) return;
    for (int i = 0; i < kMaxReadsPerWakeup && reading_ && !closed_; i++) {
      if (!ReadOnce(env, self)) break;
    }
  }

  // One recvmsg; returns false when there is nothing more to read now.
  bool ReadOnce(Napi::Env env, Napi::Object self) {
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
    iovec iov{readBuf_, sizeof(readBuf_)};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    ssize_t n;
    do {
      n = recvmsg(fd_, &msg, kRecvFlags);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
      int err = errno;
      Call(onRead_, self, {ErrnoError(env, err, "recvmsg").Value(), env.Undefined(), env.Undefined()});
      return false;
    }
    std::vector<int> fds;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      const unsigned char* p = CMSG_DATA(c);
      for (size_t k = 0; k < count; k++) {
        int fd;
        std::memcpy(&fd, p + k * sizeof(int), sizeof(int));
#ifndef MSG_CMSG_CLOEXEC
        fcntl(fd, F_SETFD, FD_CLOEXEC);
#endif
        fds.push_back(fd);
      }
    }
    if (msg.msg_flags & MSG_CTRUNC) {
      for (int fd : fds) close(fd);
      Call(onRead_, self,
           {MakeNativeError(env, "recvmsg: more file descriptors arrived than fit (control data truncated)",
                            "ECTRUNC", "recvmsg")
                .Value(),
            env.Undefined(), env.Undefined()});
      return false;
    }
    Napi::Value fdsValue = env.Undefined();
    if (!fds.empty()) {
      Napi::Array arr = Napi::Array::New(env, fds.size());
      for (size_t k = 0; k < fds.size(); k++) arr.Set(static_cast<uint32_t>(k), fds[k]);
      fdsValue = arr;
    }
    if (n == 0) {
      // EOF (fds cannot travel without a byte, so fdsValue is undefined here)
      Call(onRead_, self, {env.Null(), fdsValue, env.Undefined()});
      return false;
    }
    Napi::Buffer<uint8_t> chunk = Napi::Buffer<uint8_t>::Copy(env, readBuf_, static_cast<size_t>(n));
    return Call(onRead_, self, {env.Null(), fdsValue, chunk});
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    reading_ = wantWritable_ = false;
    if (poll_ != nullptr) {
      uv_poll_stop(poll_);
      poll_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll_ = nullptr;
    }
    close(fd_);
    fd_ = -1;
    onRead_.Reset();
    onWritable_.Reset();
    if (selfRef_) {
      selfRef_ = false;
      uint32_t count = 0;
      napi_ref ref = *this;
      napi_reference_unref(Env(), ref, &count);
    }
  }

  // Being finalized means the self-reference is already gone.
  void Finalize(Napi::Env env) override { selfRef_ = false; }

  int fd_ = -1;
  uv_poll_t* poll_ = nullptr;
  int pollEvents_ = 0;
  bool reading_ = false;
  bool wantWritable_ = false;
  bool closed_ = false;
  bool selfRef_ = false;
  Napi::FunctionReference onRead_;
  Napi::FunctionReference onWritable_;
  Napi::AsyncContext asyncContext_;
  uint8_t readBuf_[kReadChunk];
};

}  // namespace

void InitFdSocket(Napi::Env env, Napi::Object exports) {
  exports.Set("FdSocketHandle", FdSocketHandle::Define(env));
}

}  // namespace kju
