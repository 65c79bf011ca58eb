// dlopen of libvirt.so.0 and the symbol table of libvirt_api.h. Runs on any thread (loaded once).
#include "libvirt_api.h"

#include <dlfcn.h>

#include <mutex>

namespace kju {
namespace {

using virErrorFunc = void (*)(void* userData, virErrorHead* error);

void IgnoreError(void*, virErrorHead*) {}

#ifdef __APPLE__
const char* const kLibraryNames[] = {"libvirt.0.dylib", "/opt/homebrew/lib/libvirt.0.dylib", "/usr/local/lib/libvirt.0.dylib"};
#else
const char* const kLibraryNames[] = {"libvirt.so.0"};
#endif

LibvirtApi api;
std::string loadFailure;
bool loaded = false;

template <typename T>
bool Resolve(void* lib, const char* name, T* out, std::string* missing) {
  *out = reinterpret_cast<T>(dlsym(lib, name));
  if (*out == nullptr) *missing = name;
  return *out != nullptr;
}

void LoadOnce() {
  void* lib = nullptr;
  std::string errors;
  for (const char* name : kLibraryNames) {
    lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (lib != nullptr) {
      api.path = name;
      break;
    }
    const char* e = dlerror();
    if (!errors.empty()) errors += "; ";
    errors += e != nullptr ? e : name;
  }
  if (lib == nullptr) {
    loadFailure = errors;
    return;
  }
  std::string missing;
  int (*initialize)() = nullptr;
  int (*setErrorFunc)(void*, virErrorFunc) = nullptr;
  bool ok = Resolve(lib, "virInitialize", &initialize, &missing) && Resolve(lib, "virSetErrorFunc", &setErrorFunc, &missing) &&
            Resolve(lib, "virGetVersion", &api.virGetVersion, &missing) && Resolve(lib, "virGetLastError", &api.virGetLastError, &missing) &&
            Resolve(lib, "virConnectOpen", &api.virConnectOpen, &missing) && Resolve(lib, "virConnectRef", &api.virConnectRef, &missing) &&
            Resolve(lib, "virConnectClose", &api.virConnectClose, &missing) &&
            Resolve(lib, "virConnectListAllDomains", &api.virConnectListAllDomains, &missing) &&
            Resolve(lib, "virDomainLookupByName", &api.virDomainLookupByName, &missing) &&
            Resolve(lib, "virDomainGetName", &api.virDomainGetName, &missing) &&
            Resolve(lib, "virDomainGetUUIDString", &api.virDomainGetUUIDString, &missing) &&
            Resolve(lib, "virDomainGetID", &api.virDomainGetID, &missing) && Resolve(lib, "virDomainGetState", &api.virDomainGetState, &missing) &&
            Resolve(lib, "virDomainIsPersistent", &api.virDomainIsPersistent, &missing) &&
            Resolve(lib, "virDomainCreate", &api.virDomainCreate, &missing) && Resolve(lib, "virDomainShutdown", &api.virDomainShutdown, &missing) &&
            Resolve(lib, "virDomainDestroy", &api.virDomainDestroy, &missing) && Resolve(lib, "virDomainFree", &api.virDomainFree, &missing);
  if (!ok) {
    loadFailure = api.path + " has no " + missing + " (libvirt too old?)";
    dlclose(lib);
    return;
  }
  if (initialize() != 0) {
    loadFailure = "virInitialize failed";
    return;
  }
  setErrorFunc(nullptr, IgnoreError);
  loaded = true;
}

}  // namespace

const LibvirtApi* LoadLibvirt(std::string* why) {
  static std::once_flag once;
  std::call_once(once, LoadOnce);
  if (!loaded && why != nullptr) *why = loadFailure;
  return loaded ? &api : nullptr;
}

LibvirtFailure LastLibvirtFailure(const LibvirtApi& a, const char* call) {
  LibvirtFailure f;
  f.call = call;
  virErrorHead* e = a.virGetLastError();
  if (e != nullptr) {
    f.code = e->code;
    if (e->message != nullptr) f.message = e->message;
  }
  if (f.message.empty()) f.message = std::string(call) + " failed";
  return f;
}

}  // namespace kju
