/*
 * kju-vdagent: a minimal guest clipboard agent for kju's clipboard tests. It speaks the spice
 * vdagent protocol (VDIChunkHeader + VDAgentMessage framing, little endian, as spice-protocol's
 * vd_agent.h defines it) over the virtio port QEMU's qemu-vdagent chardev serves. Built static on
 * the host by scripts/build-demo-guest.sh.
 *
 * usage: kju-vdagent [-t seconds] get            wait for the host's grab, request its text and
 *                                                 write it to stdout, byte for byte
 *        kju-vdagent [-t seconds] set TEXT|-      grab the clipboard with TEXT (or stdin) and
 *                                                 answer the host's request for it
 *        kju-vdagent [-t seconds] garbage         malformed messages, a grab with 10,000 types,
 *                                                 then a text grab answered with invalid UTF-8
 * The port is PORT_PATH, or /dev/vportNpM whose sysfs name is com.redhat.spice.0 (no udev).
 * Announces clipboard-by-demand, clipboard-selection and grab serials (QEMU's D-Bus clipboard
 * forwards only grabs that carry a serial), once, in answer to QEMU's announcement: each
 * announcement makes QEMU reset serials, which drops an agent that announced earlier. Prints "kju-vdagent: ready" to stderr once QEMU's capabilities have
 * arrived (from then on a host grab reaches this agent). Exits 0 on success, 1 on error, 2 on
 * timeout (default 60 s).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#define PORT_PATH "/dev/virtio-ports/com.redhat.spice.0"
#define PROTOCOL 1
#define CHUNK_PORT_CLIENT 1
#define CHUNK_MAX 2048 /* spice's largest chunk payload */

enum {
  MSG_CLIPBOARD = 4,
  MSG_ANNOUNCE_CAPABILITIES = 6,
  MSG_CLIPBOARD_GRAB = 7,
  MSG_CLIPBOARD_REQUEST = 8,
  MSG_CLIPBOARD_RELEASE = 9,
};
enum { CAP_CLIPBOARD_BY_DEMAND = 5, CAP_CLIPBOARD_SELECTION = 6, CAP_CLIPBOARD_GRAB_SERIAL = 17 };
enum { TYPE_UTF8_TEXT = 1 };
#define SELECTION_CLIPBOARD 0
/* QEMU resets its serials when an agent announces itself; any serial from 0 up wins then */
#define GRAB_SERIAL 1
#define MSG_HEADER 20 /* protocol u32, type u32, opaque u64, size u32 */

static int port = -1;

static void die(const char *what) {
  fprintf(stderr, "kju-vdagent: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void on_alarm(int sig) {
  (void)sig;
  static const char m[] = "kju-vdagent: timed out\n";
  if (write(2, m, sizeof m - 1) < 0) _exit(2);
  _exit(2);
}

static void put32(uint8_t *p, uint32_t v) {
  p[0] = v;
  p[1] = v >> 8;
  p[2] = v >> 16;
  p[3] = v >> 24;
}

static uint32_t get32(const uint8_t *p) {
  return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void write_all(const void *buf, size_t len) {
  const uint8_t *p = buf;
  while (len) {
    ssize_t n = write(port, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("write");
    }
    p += n;
    len -= (size_t)n;
  }
}

static void read_all(void *buf, size_t len) {
  uint8_t *p = buf;
  while (len) {
    ssize_t n = read(port, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("read");
    }
    if (n == 0) {
      usleep(10000); /* the host side is not connected yet: a virtio port reads 0 */
      continue;
    }
    p += n;
    len -= (size_t)n;
  }
}

/* Sends raw bytes as one chunk (the garbage mode uses it to break the message framing). */
static void send_chunk(const uint8_t *data, uint32_t len) {
  uint8_t head[8];
  put32(head, CHUNK_PORT_CLIENT);
  put32(head + 4, len);
  write_all(head, 8);
  write_all(data, len);
}

/* Sends one message, split into chunks of at most CHUNK_MAX bytes. */
static void send_msg(uint32_t type, const uint8_t *body, uint32_t size) {
  uint8_t *msg = malloc(MSG_HEADER + (size_t)size);
  if (!msg) die("malloc");
  memset(msg, 0, MSG_HEADER);
  put32(msg, PROTOCOL);
  put32(msg + 4, type);
  put32(msg + 16, size);
  if (size) memcpy(msg + MSG_HEADER, body, size);
  size_t total = MSG_HEADER + (size_t)size;
  for (size_t off = 0; off < total;) {
    uint32_t n = total - off > CHUNK_MAX ? CHUNK_MAX : (uint32_t)(total - off);
    send_chunk(msg + off, n);
    off += n;
  }
  free(msg);
}

static void send_caps(int request) {
  uint8_t body[8];
  put32(body, request);
  put32(body + 4, 1u << CAP_CLIPBOARD_BY_DEMAND | 1u << CAP_CLIPBOARD_SELECTION | 1u << CAP_CLIPBOARD_GRAB_SERIAL);
  send_msg(MSG_ANNOUNCE_CAPABILITIES, body, sizeof body);
}

/* selection header (u8 selection, 3 reserved bytes) followed by u32 values */
static void send_selection_u32s(uint32_t type, const uint32_t *vals, uint32_t count) {
  uint8_t *body = calloc(1, 4 + 4 * (size_t)count);
  if (!body) die("malloc");
  body[0] = SELECTION_CLIPBOARD;
  for (uint32_t i = 0; i < count; i++) put32(body + 4 + 4 * i, vals[i]);
  send_msg(type, body, 4 + 4 * count);
  free(body);
}

static void send_text(const uint8_t *text, uint32_t len) {
  uint8_t *body = malloc(8 + (size_t)len);
  if (!body) die("malloc");
  memset(body, 0, 8);
  body[0] = SELECTION_CLIPBOARD;
  put32(body + 4, TYPE_UTF8_TEXT);
  if (len) memcpy(body + 8, text, len);
  send_msg(MSG_CLIPBOARD, body, 8 + len);
  free(body);
}

struct msg {
  uint32_t type;
  uint32_t size;
  uint8_t *data; /* malloc'd, size bytes */
};

/* Reads one whole message, reassembling it from as many chunks as it spans. */
static struct msg read_msg(void) {
  uint8_t head[8], mh[MSG_HEADER];
  size_t have = 0, want = MSG_HEADER;
  struct msg m = {0, 0, NULL};
  uint8_t *buf = NULL;
  for (;;) {
    read_all(head, 8);
    uint32_t clen = get32(head + 4);
    uint8_t *chunk = malloc(clen ? clen : 1);
    if (!chunk) die("malloc");
    read_all(chunk, clen);
    for (uint32_t i = 0; i < clen; i++) {
      if (have < MSG_HEADER) {
        mh[have++] = chunk[i];
        if (have == MSG_HEADER) {
          m.type = get32(mh + 4);
          m.size = get32(mh + 16);
          want = MSG_HEADER + (size_t)m.size;
          buf = malloc(m.size ? m.size : 1);
          if (!buf) die("malloc");
        }
      } else {
        buf[have++ - MSG_HEADER] = chunk[i];
      }
    }
    free(chunk);
    if (have >= want) break;
  }
  m.data = buf;
  return m;
}

static int ready = 0;

/* Handles what every mode must: QEMU's capability announcement. Returns 1 if it was one. */
static int common_msg(const struct msg *m) {
  if (m->type != MSG_ANNOUNCE_CAPABILITIES) return 0;
  if (m->size >= 4 && get32(m->data)) send_caps(0);
  if (!ready) {
    ready = 1;
    fprintf(stderr, "kju-vdagent: ready\n");
  }
  return 1;
}

static int offers_text(const struct msg *m) {
  for (uint32_t off = 8; off + 4 <= m->size; off += 4) /* after the selection and the serial */
    if (get32(m->data + off) == TYPE_UTF8_TEXT) return 1;
  return 0;
}

static int do_get(void) {
  for (;;) {
    struct msg m = read_msg();
    if (common_msg(&m)) {
    } else if (m.type == MSG_CLIPBOARD_GRAB && m.size >= 4 && m.data[0] == SELECTION_CLIPBOARD && offers_text(&m)) {
      uint32_t t = TYPE_UTF8_TEXT;
      send_selection_u32s(MSG_CLIPBOARD_REQUEST, &t, 1);
    } else if (m.type == MSG_CLIPBOARD && m.size >= 8 && m.data[0] == SELECTION_CLIPBOARD && get32(m.data + 4) == TYPE_UTF8_TEXT) {
      size_t n = m.size - 8;
      if (fwrite(m.data + 8, 1, n, stdout) != n || fflush(stdout) != 0) die("stdout");
      fprintf(stderr, "kju-vdagent: got %zu bytes\n", n);
      free(m.data);
      return 0;
    }
    free(m.data);
  }
}

/* Grabs the clipboard with text and answers requests until `answers` have been sent. */
static int serve_text(const uint8_t *text, uint32_t len, int answers) {
  uint32_t grab[2] = {GRAB_SERIAL, TYPE_UTF8_TEXT};
  int grabbed = ready;
  if (grabbed) send_selection_u32s(MSG_CLIPBOARD_GRAB, grab, 2);
  for (;;) {
    struct msg m = read_msg();
    if (common_msg(&m)) {
      if (!grabbed) {
        grabbed = 1;
        send_selection_u32s(MSG_CLIPBOARD_GRAB, grab, 2);
      }
    } else if (m.type == MSG_CLIPBOARD_REQUEST && m.size >= 8 && m.data[0] == SELECTION_CLIPBOARD) {
      send_text(text, len);
      fprintf(stderr, "kju-vdagent: sent %u bytes\n", len);
      if (--answers == 0) {
        free(m.data);
        return 0;
      }
    }
    free(m.data);
  }
}

static uint8_t *read_stdin(uint32_t *len) {
  size_t cap = 1 << 16, n = 0;
  uint8_t *buf = malloc(cap);
  if (!buf) die("malloc");
  for (;;) {
    if (n == cap) {
      cap *= 2;
      buf = realloc(buf, cap);
      if (!buf) die("realloc");
    }
    ssize_t r = read(0, buf + n, cap - n);
    if (r < 0) {
      if (errno == EINTR) continue;
      die("stdin");
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  *len = (uint32_t)n;
  return buf;
}

static int do_garbage(void) {
  /* Wait for QEMU's capabilities so the clipboard is live before the garbage. */
  while (!ready) {
    struct msg m = read_msg();
    common_msg(&m);
    free(m.data);
  }
  uint8_t junk[64];
  memset(junk, 0xA5, sizeof junk);
  send_chunk(junk, 10);                               /* a chunk shorter than a message header */
  send_msg(999, junk, 16);                            /* an unknown message type */
  send_msg(MSG_CLIPBOARD_GRAB, junk, 2);              /* a grab too short for its selection */
  send_msg(MSG_CLIPBOARD_REQUEST, junk, 4);           /* selection 0xA5, no type */
  uint32_t bogus = 77;
  send_selection_u32s(MSG_CLIPBOARD_REQUEST, &bogus, 1); /* a request for an unknown type */
  send_text((const uint8_t *)"not grabbed", 11);      /* data for a grab that never happened */
  uint32_t *many = malloc(10001 * sizeof *many);
  if (!many) die("malloc");
  for (uint32_t i = 1; i <= 10000; i++) many[i] = i % 7;
  many[0] = GRAB_SERIAL;
  many[1] = TYPE_UTF8_TEXT;
  send_selection_u32s(MSG_CLIPBOARD_GRAB, many, 10001); /* a serial and 10,000 types */
  free(many);
  fprintf(stderr, "kju-vdagent: garbage sent\n");
  /* Last, a real text grab whose data is not UTF-8: kju itself must refuse it. */
  static const uint8_t bad[] = {0xff, 0xfe, 'k', 'j', 'u', 0xc3};
  return serve_text(bad, sizeof bad, 1);
}

/* udev makes the /dev/virtio-ports/ name; without udev (busybox) find the port by its sysfs name. */
static int open_port(void) {
  int fd = open(PORT_PATH, O_RDWR | O_CLOEXEC);
  if (fd >= 0 || errno != ENOENT) return fd;
  DIR *d = opendir("/sys/class/virtio-ports");
  if (!d) return -1;
  struct dirent *e;
  char path[512], name[64];
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/name", e->d_name);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    int match = fgets(name, sizeof name, f) && strcmp(name, "com.redhat.spice.0\n") == 0;
    fclose(f);
    if (match) {
      snprintf(path, sizeof path, "/dev/%s", e->d_name);
      closedir(d);
      return open(path, O_RDWR | O_CLOEXEC);
    }
  }
  closedir(d);
  errno = ENOENT;
  return -1;
}

int main(int argc, char **argv) {
  int timeout = 60, i = 1;
  if (i + 1 < argc && strcmp(argv[i], "-t") == 0) {
    timeout = atoi(argv[i + 1]);
    i += 2;
  }
  if (i >= argc) goto usage;
  const char *mode = argv[i];
  signal(SIGALRM, on_alarm);
  alarm(timeout > 0 ? (unsigned)timeout : 60);
  uint8_t *text = NULL;
  uint32_t len = 0;
  if (strcmp(mode, "set") == 0) {
    if (i + 1 >= argc) goto usage;
    if (strcmp(argv[i + 1], "-") == 0) {
      text = read_stdin(&len);
    } else {
      text = (uint8_t *)argv[i + 1];
      len = (uint32_t)strlen(argv[i + 1]);
    }
  } else if (strcmp(mode, "get") != 0 && strcmp(mode, "garbage") != 0) {
    goto usage;
  }
  port = open_port();
  if (port < 0) die("open " PORT_PATH);
  if (strcmp(mode, "get") == 0) return do_get();
  if (strcmp(mode, "set") == 0) return serve_text(text, len, 1);
  return do_garbage();
usage:
  fprintf(stderr, "usage: kju-vdagent [-t seconds] get | set TEXT|- | garbage\n");
  return 1;
}
