// The part of libvirt's C API kju uses, declared here and resolved from libvirt.so.0 at run time
// (dlopen), so the addon builds without libvirt's headers and kju starts where libvirt is absent.
// Declarations follow libvirt's public headers (stable ABI since 1.0; virError's first fields).
#pragma once

#include <string>

namespace kju {

struct virConnect;
struct virDomain;
using virConnectPtr = virConnect*;
using virDomainPtr = virDomain*;

// libvirt's virError: only the leading fields are read (code, domain, message).
struct virErrorHead {
  int code;
  int domain;
  char* message;
};

struct LibvirtApi {
  int (*virGetVersion)(unsigned long* libVer, const char* type, unsigned long* typeVer);
  virErrorHead* (*virGetLastError)();
  virConnectPtr (*virConnectOpen)(const char* uri);
  int (*virConnectRef)(virConnectPtr conn);
  int (*virConnectClose)(virConnectPtr conn);
  int (*virConnectListAllDomains)(virConnectPtr conn, virDomainPtr** domains, unsigned int flags);
  virDomainPtr (*virDomainLookupByName)(virConnectPtr conn, const char* name);
  const char* (*virDomainGetName)(virDomainPtr dom);
  int (*virDomainGetUUIDString)(virDomainPtr dom, char* buf);
  unsigned int (*virDomainGetID)(virDomainPtr dom);
  int (*virDomainGetState)(virDomainPtr dom, int* state, int* reason, unsigned int flags);
  int (*virDomainIsPersistent)(virDomainPtr dom);
  int (*virDomainCreate)(virDomainPtr dom);
  int (*virDomainShutdown)(virDomainPtr dom);
  int (*virDomainDestroy)(virDomainPtr dom);
  int (*virDomainFree)(virDomainPtr dom);
  std::string path;  // the file dlopen loaded
};

// VIR_UUID_STRING_BUFLEN
constexpr int kUuidStringBufLen = 37;

// Loads libvirt once per process (thread-safe); nullptr and `why` (dlerror's text) when it cannot.
// On success libvirt is initialized and its default error printer (to stderr) is silenced:
// kju reports errors itself.
const LibvirtApi* LoadLibvirt(std::string* why);

// The calling thread's last libvirt error (libvirt keeps it per thread): its code and message.
struct LibvirtFailure {
  const char* call = "";  // the libvirt function that failed
  int code = 0;
  std::string message;
};
LibvirtFailure LastLibvirtFailure(const LibvirtApi& api, const char* call);

}  // namespace kju
