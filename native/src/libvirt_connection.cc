// LibvirtConnectionHandle: one libvirt connection (virConnectPtr) for JS. Every call that may wait
// on libvirtd (open, list, start, shutdown, destroy) runs on the libuv thread pool and returns a
// Promise; each such job holds its own reference on the connection, so close() during a job is safe.
// libvirtVersion() loads the library and says which; errors carry libvirt's own message and code.
#include <napi.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "env_state.h"
#include "errors.h"
#include "exports.h"
#include "libvirt_api.h"

namespace kju {
namespace {

const LibvirtApi& RequireLibvirt(Napi::Env env) {
  std::string why;
  const LibvirtApi* api = LoadLibvirt(&why);
  if (api == nullptr) throw MakeNativeError(env, "libvirt is not installed here: " + why, "ENOLIBVIRT", "dlopen");
  return *api;
}

Napi::Error LibvirtError(Napi::Env env, const LibvirtFailure& f) {
  Napi::Error e = MakeNativeError(env, f.message, "ELIBVIRT", f.call);
  e.Set("libvirtCode", Napi::Number::New(env, f.code));
  return e;
}

struct DomainRow {
  std::string name;
  std::string uuid;
  int state = 0;
  int reason = 0;
  int64_t id = -1;
  bool persistent = false;
};

// A job on the thread pool: `work` runs there and returns false on a libvirt failure, which it reads
// into `failure` at once (libvirt keeps the last error per thread, and the next call resets it);
// `result` builds the resolved value on the JS thread.
class LibvirtJob : public Napi::AsyncWorker {
 public:
  LibvirtJob(Napi::Env env, const char* call, std::function<bool(LibvirtFailure&)> work, std::function<Napi::Value(Napi::Env)> result)
      : Napi::AsyncWorker(env, call), deferred_(Napi::Promise::Deferred::New(env)), work_(std::move(work)), result_(std::move(result)) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    failed_ = !work_(failure_);
  }
  void OnOK() override {
    Napi::Env env = Env();
    if (failed_) {
      deferred_.Reject(LibvirtError(env, failure_).Value());
      return;
    }
    try {
      deferred_.Resolve(result_ ? result_(env) : env.Undefined());
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::function<bool(LibvirtFailure&)> work_;
  std::function<Napi::Value(Napi::Env)> result_;
  bool failed_ = false;
  LibvirtFailure failure_;
};

class LibvirtConnectionHandle : public Napi::ObjectWrap<LibvirtConnectionHandle>, public EnvResource {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "LibvirtConnectionHandle",
                       {InstanceMethod("open", &LibvirtConnectionHandle::Open), InstanceMethod("listDomains", &LibvirtConnectionHandle::ListDomains),
                        InstanceMethod("domainAction", &LibvirtConnectionHandle::DomainAction), InstanceMethod("close", &LibvirtConnectionHandle::Close)});
  }

  explicit LibvirtConnectionHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<LibvirtConnectionHandle>(info), api_(RequireLibvirt(info.Env())) {
    Track(info.Env());
  }
  ~LibvirtConnectionHandle() override { Drop(); }
  void ReleaseForEnvExit() override { Drop(); }

 private:
  void Drop() {
    if (conn_ != nullptr) api_.virConnectClose(conn_);
    conn_ = nullptr;
  }

  // open(uri): Promise<void>. Once per handle.
  Napi::Value Open(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString()) ThrowType(env, "uri must be a string");
    if (opened_) throw MakeNativeError(env, "this connection was opened already", "EISCONN", "virConnectOpen");
    opened_ = true;
    auto uri = std::make_shared<std::string>(info[0].As<Napi::String>().Utf8Value());
    auto conn = std::make_shared<virConnectPtr>(nullptr);
    auto self = std::make_shared<Napi::ObjectReference>(Napi::Persistent(info.This().As<Napi::Object>()));
    auto* job = new LibvirtJob(
        env, "virConnectOpen", [lv = &api_, uri, conn](LibvirtFailure& failure) {
          const LibvirtApi& api = *lv;  // the process-wide table (LoadLibvirt): outlives every job
          *conn = api.virConnectOpen(uri->c_str());
          if (*conn == nullptr) failure = LastLibvirtFailure(api, "virConnectOpen");
          return *conn != nullptr;
        },
        [this, self, conn](Napi::Env e) -> Napi::Value {
          if (closed_) api_.virConnectClose(*conn);  // closed while opening: nobody will use it
          else conn_ = *conn;
          return e.Undefined();
        });
    job->Queue();
    return job->Promise();
  }

  // The connection for a job, with a reference the job drops when done.
  virConnectPtr TakeRef(Napi::Env env, const char* call) {
    if (conn_ == nullptr) throw MakeNativeError(env, closed_ ? "the libvirt connection is closed" : "the libvirt connection is not open", "ENOTCONN", call);
    api_.virConnectRef(conn_);
    return conn_;
  }

  // listDomains(): Promise<{ name, uuid, state, reason, id, persistent }[]>, every domain, active or not.
  Napi::Value ListDomains(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    virConnectPtr conn = TakeRef(env, "virConnectListAllDomains");
    auto rows = std::make_shared<std::vector<DomainRow>>();
    auto* job = new LibvirtJob(
        env, "virConnectListAllDomains",
        [lv = &api_, conn, rows](LibvirtFailure& failure) {
          const LibvirtApi& api = *lv;
          virDomainPtr* domains = nullptr;
          int n = api.virConnectListAllDomains(conn, &domains, 0);
          bool ok = n >= 0;
          if (!ok) failure = LastLibvirtFailure(api, "virConnectListAllDomains");
          for (int i = 0; i < n; i++) {
            DomainRow r;
            const char* name = api.virDomainGetName(domains[i]);
            r.name = name != nullptr ? name : "";
            char uuid[kUuidStringBufLen] = {0};
            if (api.virDomainGetUUIDString(domains[i], uuid) == 0) r.uuid = uuid;
            // a domain undefined meanwhile has no state: it is left out, not an error
            bool present = api.virDomainGetState(domains[i], &r.state, &r.reason, 0) == 0;
            unsigned int id = api.virDomainGetID(domains[i]);
            r.id = id == static_cast<unsigned int>(-1) ? -1 : static_cast<int64_t>(id);
            r.persistent = api.virDomainIsPersistent(domains[i]) == 1;
            if (present) rows->push_back(std::move(r));
            api.virDomainFree(domains[i]);
          }
          free(domains);
          api.virConnectClose(conn);
          return ok;
        },
        [rows](Napi::Env e) -> Napi::Value {
          Napi::Array out = Napi::Array::New(e, rows->size());
          for (size_t i = 0; i < rows->size(); i++) {
            const DomainRow& r = (*rows)[i];
            Napi::Object o = Napi::Object::New(e);
            o.Set("name", r.name);
            o.Set("uuid", r.uuid);
            o.Set("state", r.state);
            o.Set("reason", r.reason);
            o.Set("id", Napi::Number::New(e, static_cast<double>(r.id)));
            o.Set("persistent", r.persistent);
            out.Set(static_cast<uint32_t>(i), o);
          }
          return out;
        });
    job->Queue();
    return job->Promise();
  }

  // domainAction(name, 'start' | 'shutdown' | 'destroy'): Promise<void>. virDomainCreate,
  // virDomainShutdown (asks the guest; returns before it is off) or virDomainDestroy (pulls the plug).
  Napi::Value DomainAction(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString() || !info[1].IsString()) ThrowType(env, "domainAction(name, action) takes two strings");
    std::string action = info[1].As<Napi::String>().Utf8Value();
    int (*LibvirtApi::*op)(virDomainPtr) = nullptr;
    const char* call = nullptr;
    if (action == "start") op = &LibvirtApi::virDomainCreate, call = "virDomainCreate";
    else if (action == "shutdown") op = &LibvirtApi::virDomainShutdown, call = "virDomainShutdown";
    else if (action == "destroy") op = &LibvirtApi::virDomainDestroy, call = "virDomainDestroy";
    else ThrowRange(env, "action must be start, shutdown or destroy");
    auto name = std::make_shared<std::string>(info[0].As<Napi::String>().Utf8Value());
    virConnectPtr conn = TakeRef(env, call);
    auto* job = new LibvirtJob(
        env, call,
        [lv = &api_, conn, name, op, call](LibvirtFailure& failure) {
          const LibvirtApi& api = *lv;
          virDomainPtr dom = api.virDomainLookupByName(conn, name->c_str());
          bool ok = dom != nullptr && (api.*op)(dom) == 0;
          if (!ok) failure = LastLibvirtFailure(api, dom == nullptr ? "virDomainLookupByName" : call);
          if (dom != nullptr) api.virDomainFree(dom);
          api.virConnectClose(conn);
          return ok;
        },
        nullptr);
    job->Queue();
    return job->Promise();
  }

  // close(): drops this handle's reference; jobs still running keep theirs. Idempotent.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    closed_ = true;
    Drop();
    return info.Env().Undefined();
  }

  const LibvirtApi& api_;
  virConnectPtr conn_ = nullptr;
  bool opened_ = false;
  bool closed_ = false;
};

// libvirtVersion(): { version: "11.3.0", library: "libvirt.so.0" }; throws ENOLIBVIRT when absent.
Napi::Value LibvirtVersion(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const LibvirtApi& api = RequireLibvirt(env);
  unsigned long v = 0;
  if (api.virGetVersion(&v, nullptr, nullptr) != 0) throw LibvirtError(env, LastLibvirtFailure(api, "virGetVersion"));
  Napi::Object out = Napi::Object::New(env);
  out.Set("version", std::to_string(v / 1000000) + "." + std::to_string(v / 1000 % 1000) + "." + std::to_string(v % 1000));
  out.Set("library", api.path);
  return out;
}

}  // namespace

void InitLibvirt(Napi::Env env, Napi::Object exports) {
  exports.Set("LibvirtConnectionHandle", LibvirtConnectionHandle::Define(env));
  exports.Set("libvirtVersion", Napi::Function::New(env, LibvirtVersion, "libvirtVersion"));
}

}  // namespace kju
