/*
 * kju-modeset: does for the demo guest what a desktop session does on a DRM hotplug event: every
 * connected connector of /dev/dri/card0 gets its preferred mode (virtio-gpu reports the host
 * window's size, sent by kju through Console.SetUIInfo, as the preferred mode), on a dumb buffer
 * filled with a known pattern. Built static on the host by scripts/build-demo-guest.sh; started
 * by the demo guest's init with the kernel switch kju.modeset (kju.modeset=all adds -a).
 *
 * Raw DRM ioctls, no libdrm: the uapi structs below are the kernel's stable ABI
 * (include/uapi/drm/drm.h, drm_mode.h), declared here because the host has no drm headers.
 * Hotplug is noticed by re-probing the connectors every interval (a probe of virtio-gpu is cheap
 * and needs no netlink parsing); the tool stays DRM master while it runs, so fbcon stays away.
 *
 * A preferred mode larger than MAX_SIDE a side is ignored with a log line (its dumb buffer would
 * not fit a small guest's memory); the head keeps its mode.
 *
 * usage: kju-modeset [-a] [-i ms] [-o]
 *   -a  also light up disconnected connectors, at connector 0's mode (enables a second head)
 *   -i  probe interval in ms (default 250)
 *   -o  set modes once and exit (fbcon takes the display back)
 * Pattern on head k: pixel (x, y) = 0x00RRGGBB, R = x & 255, G = y & 255, B = 40 + 80 * k.
 * Prints "kju-modeset: head K WxH" on stdout for each mode it sets, "head K off" when disabled.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

struct drm_mode_modeinfo {
  uint32_t clock;
  uint16_t hdisplay, hsync_start, hsync_end, htotal, hskew;
  uint16_t vdisplay, vsync_start, vsync_end, vtotal, vscan;
  uint32_t vrefresh, flags, type;
  char name[32];
};
struct drm_mode_card_res {
  uint64_t fb_id_ptr, crtc_id_ptr, connector_id_ptr, encoder_id_ptr;
  uint32_t count_fbs, count_crtcs, count_connectors, count_encoders;
  uint32_t min_width, max_width, min_height, max_height;
};
struct drm_mode_crtc {
  uint64_t set_connectors_ptr;
  uint32_t count_connectors, crtc_id, fb_id, x, y, gamma_size, mode_valid;
  struct drm_mode_modeinfo mode;
};
struct drm_mode_get_encoder {
  uint32_t encoder_id, encoder_type, crtc_id, possible_crtcs, possible_clones;
};
struct drm_mode_get_connector {
  uint64_t encoders_ptr, modes_ptr, props_ptr, prop_values_ptr;
  uint32_t count_modes, count_props, count_encoders;
  uint32_t encoder_id, connector_id, connector_type, connector_type_id;
  uint32_t connection, mm_width, mm_height, subpixel, pad;
};
struct drm_mode_fb_cmd {
  uint32_t fb_id, width, height, pitch, bpp, depth, handle;
};
struct drm_mode_fb_dirty_cmd {
  uint32_t fb_id, flags, color, num_clips;
  uint64_t clips_ptr;
};
struct drm_mode_create_dumb {
  uint32_t height, width, bpp, flags, handle, pitch;
  uint64_t size;
};
struct drm_mode_map_dumb {
  uint32_t handle, pad;
  uint64_t offset;
};
struct drm_mode_destroy_dumb {
  uint32_t handle;
};

#define DRM_IOWR_(nr, type) _IOWR('d', nr, type)
#define IOCTL_SET_MASTER _IO('d', 0x1e)
#define IOCTL_GETRESOURCES DRM_IOWR_(0xA0, struct drm_mode_card_res)
#define IOCTL_SETCRTC DRM_IOWR_(0xA2, struct drm_mode_crtc)
#define IOCTL_GETENCODER DRM_IOWR_(0xA6, struct drm_mode_get_encoder)
#define IOCTL_GETCONNECTOR DRM_IOWR_(0xA7, struct drm_mode_get_connector)
#define IOCTL_ADDFB DRM_IOWR_(0xAE, struct drm_mode_fb_cmd)
#define IOCTL_RMFB DRM_IOWR_(0xAF, unsigned int)
#define IOCTL_DIRTYFB DRM_IOWR_(0xB1, struct drm_mode_fb_dirty_cmd)
#define IOCTL_CREATE_DUMB DRM_IOWR_(0xB2, struct drm_mode_create_dumb)
#define IOCTL_MAP_DUMB DRM_IOWR_(0xB3, struct drm_mode_map_dumb)
#define IOCTL_DESTROY_DUMB DRM_IOWR_(0xB4, struct drm_mode_destroy_dumb)

#define CONNECTED 1
#define MODE_TYPE_PREFERRED (1 << 3)
#define MAX_HEADS 16
#define MAX_MODES 256
#define MAX_SIDE 4096

struct head {
  uint32_t connector, crtc;
  uint32_t width, height; /* 0: off */
  uint32_t fb, handle;
  uint64_t size;
};

static int fd;
static struct head heads[MAX_HEADS];
static unsigned nheads;

static int xioctl(unsigned long req, void *arg) {
  int r;
  do r = ioctl(fd, req, arg);
  while (r == -1 && (errno == EINTR || errno == EAGAIN));
  return r;
}

static void release_fb(struct head *h) {
  if (h->fb) xioctl(IOCTL_RMFB, &h->fb);
  if (h->handle) {
    struct drm_mode_destroy_dumb d = {.handle = h->handle};
    xioctl(IOCTL_DESTROY_DUMB, &d);
  }
  h->fb = h->handle = 0;
}

/* A new patterned buffer at the mode's size on head k's CRTC; the old buffer goes after the switch. */
static int set_mode(unsigned k, const struct drm_mode_modeinfo *mode) {
  struct head *h = &heads[k];
  struct drm_mode_create_dumb c = {.width = mode->hdisplay, .height = mode->vdisplay, .bpp = 32};
  if (xioctl(IOCTL_CREATE_DUMB, &c)) return perror("kju-modeset: CREATE_DUMB"), -1;
  struct drm_mode_map_dumb m = {.handle = c.handle};
  if (xioctl(IOCTL_MAP_DUMB, &m)) return perror("kju-modeset: MAP_DUMB"), -1;
  uint8_t *px = mmap(0, c.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, m.offset);
  if (px == MAP_FAILED) return perror("kju-modeset: mmap"), -1;
  for (uint32_t y = 0; y < c.height; y++) {
    uint32_t *row = (uint32_t *)(px + (size_t)y * c.pitch);
    for (uint32_t x = 0; x < c.width; x++) row[x] = ((x & 255) << 16) | ((y & 255) << 8) | (40 + 80 * k);
  }
  munmap(px, c.size);
  struct drm_mode_fb_cmd f = {.width = c.width, .height = c.height, .pitch = c.pitch, .bpp = 32, .depth = 24, .handle = c.handle};
  if (xioctl(IOCTL_ADDFB, &f)) return perror("kju-modeset: ADDFB"), -1;
  struct drm_mode_crtc s = {.set_connectors_ptr = (uintptr_t)&h->connector, .count_connectors = 1, .crtc_id = h->crtc, .fb_id = f.fb_id, .mode_valid = 1, .mode = *mode};
  if (xioctl(IOCTL_SETCRTC, &s)) {
    fprintf(stderr, "kju-modeset: SETCRTC head %u %ux%u: %s\n", k, c.width, c.height, strerror(errno));
    xioctl(IOCTL_RMFB, &f.fb_id);
    struct drm_mode_destroy_dumb d = {.handle = c.handle};
    xioctl(IOCTL_DESTROY_DUMB, &d);
    return -1;
  }
  struct drm_mode_fb_dirty_cmd dirty = {.fb_id = f.fb_id};
  xioctl(IOCTL_DIRTYFB, &dirty); /* virtio-gpu transfers the whole buffer to the host on this */
  release_fb(h);
  h->fb = f.fb_id;
  h->handle = c.handle;
  h->size = c.size;
  h->width = c.width;
  h->height = c.height;
  printf("kju-modeset: head %u %ux%u\n", k, h->width, h->height);
  fflush(stdout);
  return 0;
}

static void set_off(unsigned k) {
  struct head *h = &heads[k];
  struct drm_mode_crtc s = {.crtc_id = h->crtc};
  if (xioctl(IOCTL_SETCRTC, &s)) return perror("kju-modeset: SETCRTC off");
  release_fb(h);
  h->width = h->height = 0;
  printf("kju-modeset: head %u off\n", k);
  fflush(stdout);
}

/* Probes connector k; returns 1 with its preferred mode in *out, 0 when disconnected, -1 on error. */
static int probe(unsigned k, struct drm_mode_modeinfo *out) {
  static struct drm_mode_modeinfo modes[MAX_MODES];
  struct drm_mode_get_connector c = {.connector_id = heads[k].connector};
  if (xioctl(IOCTL_GETCONNECTOR, &c)) return -1; /* count_modes = 0: the kernel re-probes */
  if (c.connection != CONNECTED || c.count_modes == 0) return 0;
  unsigned n = c.count_modes > MAX_MODES ? MAX_MODES : c.count_modes;
  struct drm_mode_get_connector g = {.connector_id = heads[k].connector, .count_modes = n, .modes_ptr = (uintptr_t)modes};
  if (xioctl(IOCTL_GETCONNECTOR, &g)) return -1;
  if (g.count_modes < n) n = g.count_modes;
  if (n == 0) return 0;
  *out = modes[0];
  for (unsigned i = 0; i < n; i++)
    if (modes[i].type & MODE_TYPE_PREFERRED) {
      *out = modes[i];
      break;
    }
  return 1;
}

static int setup(void) {
  uint32_t crtcs[MAX_HEADS], connectors[MAX_HEADS], encoders[MAX_HEADS];
  struct drm_mode_card_res r = {0};
  if (xioctl(IOCTL_GETRESOURCES, &r)) return perror("kju-modeset: GETRESOURCES"), -1;
  if (r.count_crtcs > MAX_HEADS || r.count_connectors > MAX_HEADS || r.count_encoders > MAX_HEADS) return fprintf(stderr, "kju-modeset: too many heads\n"), -1;
  struct drm_mode_card_res g = {.crtc_id_ptr = (uintptr_t)crtcs, .connector_id_ptr = (uintptr_t)connectors, .encoder_id_ptr = (uintptr_t)encoders,
                                .count_crtcs = r.count_crtcs, .count_connectors = r.count_connectors, .count_encoders = r.count_encoders};
  if (xioctl(IOCTL_GETRESOURCES, &g)) return perror("kju-modeset: GETRESOURCES"), -1;
  nheads = g.count_connectors;
  for (unsigned k = 0; k < nheads; k++) {
    heads[k].connector = connectors[k];
    struct drm_mode_get_connector c = {.connector_id = connectors[k]};
    uint32_t enc = 0;
    struct drm_mode_get_connector e = {.connector_id = connectors[k], .count_encoders = 1, .encoders_ptr = (uintptr_t)&enc};
    if (xioctl(IOCTL_GETCONNECTOR, &c) || xioctl(IOCTL_GETCONNECTOR, &e)) return perror("kju-modeset: GETCONNECTOR"), -1;
    struct drm_mode_get_encoder en = {.encoder_id = enc};
    if (!enc || xioctl(IOCTL_GETENCODER, &en)) return fprintf(stderr, "kju-modeset: connector %u has no encoder\n", k), -1;
    /* virtio-gpu pairs connector k with CRTC k; take the lowest CRTC the encoder may drive */
    for (unsigned i = 0; i < g.count_crtcs; i++)
      if (en.possible_crtcs & (1u << i)) {
        heads[k].crtc = crtcs[i];
        break;
      }
  }
  return 0;
}

int main(int argc, char **argv) {
  int all = 0, once = 0, interval = 250, opt;
  while ((opt = getopt(argc, argv, "ai:o")) != -1) {
    if (opt == 'a') all = 1;
    else if (opt == 'i') interval = atoi(optarg);
    else if (opt == 'o') once = 1;
    else return fprintf(stderr, "usage: kju-modeset [-a] [-i ms] [-o]\n"), 2;
  }
  if (interval < 10) interval = 10;
  for (int tries = 0; tries < 50; tries++) { /* the driver may still be probing at boot */
    fd = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
    if (fd >= 0 || errno != ENOENT) break;
    usleep(100 * 1000);
  }
  if (fd < 0) return perror("kju-modeset: /dev/dri/card0"), 1;
  xioctl(IOCTL_SET_MASTER, 0); /* the first opener is master already; this only says so */
  if (setup()) return 1;
  for (;;) {
    struct drm_mode_modeinfo first = {0};
    int haveFirst = 0;
    for (unsigned k = 0; k < nheads; k++) {
      struct drm_mode_modeinfo mode;
      int p = probe(k, &mode);
      if (p < 0) continue;
      if (p == 1 && !haveFirst) first = mode, haveFirst = 1;
      if (p == 0 && all && haveFirst) mode = first, p = 1;
      if (p == 1 && (mode.hdisplay > MAX_SIDE || mode.vdisplay > MAX_SIDE)) {
        static uint32_t warned_w, warned_h;
        if (warned_w != mode.hdisplay || warned_h != mode.vdisplay) {
          printf("kju-modeset: head %u: preferred mode %ux%u is larger than %u a side, ignored\n", k, mode.hdisplay, mode.vdisplay, MAX_SIDE);
          fflush(stdout);
          warned_w = mode.hdisplay, warned_h = mode.vdisplay;
        }
        continue;
      }
      if (p == 1 && (mode.hdisplay != heads[k].width || mode.vdisplay != heads[k].height)) set_mode(k, &mode);
      else if (p == 0 && heads[k].width && k > 0) set_off(k);
    }
    if (once) return 0;
    usleep(interval * 1000);
  }
}
