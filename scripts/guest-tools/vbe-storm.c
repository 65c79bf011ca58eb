/*
 * vbe-storm: switches the Bochs VBE display (QEMU -vga std) between sizes at a given rate, then
 * settles on a final size whose framebuffer it fills with a known pattern. A guest tool for kju's
 * resolution-storm test; built static on the host by scripts/build-demo-guest.sh.
 *
 * Needs root and no DRM driver on the device (boot the demo guest with kju.nodrm): it writes the
 * VBE registers directly (index port 0x1CE, data port 0x1CF) and maps the linear framebuffer
 * through sysfs (BAR 0 of the PCI display device 1234:1111).
 *
 * usage: vbe-storm [-n switches] [-r per_second] [-s WxH,WxH,...] [-f WxH] [-t]
 *   -n  number of mode switches before the final one (default 200)
 *   -r  switches per second (default 100)
 *   -s  sizes to cycle through (default 640x480,800x600,1024x768,320x240,720x400)
 *   -f  final size (default 800x600); its framebuffer gets the pattern below
 *   -t  only disable VBE and exit (the legacy VGA registers keep the graphics mode that VBE
 *       set, so this is not a way back to text mode)
 * Pattern at the final size: pixel (x, y) = 0x00RRGGBB with R = x & 255, G = y & 255,
 * B = (x >> 8) * 16 + (y >> 8) * 64 + 7, written as 32 bpp little endian.
 * Prints "vbe-storm: done <switches> switches in <ms> ms, final WxH" on success.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define VBE_INDEX 0x1CE
#define VBE_DATA 0x1CF
enum { VBE_ID = 0, VBE_XRES = 1, VBE_YRES = 2, VBE_BPP = 3, VBE_ENABLE = 4, VBE_VIRT_WIDTH = 6 };
#define VBE_ENABLED 0x01
#define VBE_LFB 0x40

struct size { unsigned w, h; };

static void vbe_write(uint16_t index, uint16_t value) {
  outw(index, VBE_INDEX);
  outw(value, VBE_DATA);
}

static uint16_t vbe_read(uint16_t index) {
  outw(index, VBE_INDEX);
  return inw(VBE_DATA);
}

static void set_mode(struct size s) {
  vbe_write(VBE_ENABLE, 0);
  vbe_write(VBE_XRES, (uint16_t)s.w);
  vbe_write(VBE_YRES, (uint16_t)s.h);
  vbe_write(VBE_BPP, 32);
  vbe_write(VBE_ENABLE, VBE_ENABLED | VBE_LFB);
}

static int parse_size(const char *text, struct size *out) {
  char *end;
  unsigned long w = strtoul(text, &end, 10);
  if (*end != 'x') return -1;
  unsigned long h = strtoul(end + 1, &end, 10);
  if ((*end && *end != ',') || w < 16 || h < 16 || w > 2560 || h > 1600 || w % 8) return -1;
  out->w = (unsigned)w;
  out->h = (unsigned)h;
  return 0;
}

/* sysfs path of BAR 0 of the first 1234:1111 (QEMU stdvga) device. */
static int find_lfb(char *path, size_t len) {
  DIR *d = opendir("/sys/bus/pci/devices");
  if (!d) return -1;
  struct dirent *e;
  int found = -1;
  while ((e = readdir(d)) && found) {
    if (e->d_name[0] == '.') continue;
    char p[512], buf[32];
    unsigned vendor = 0, device = 0;
    snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/vendor", e->d_name);
    FILE *f = fopen(p, "r");
    if (!f) continue;
    if (fgets(buf, sizeof buf, f)) vendor = (unsigned)strtoul(buf, NULL, 16);
    fclose(f);
    snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/device", e->d_name);
    f = fopen(p, "r");
    if (!f) continue;
    if (fgets(buf, sizeof buf, f)) device = (unsigned)strtoul(buf, NULL, 16);
    fclose(f);
    if (vendor == 0x1234 && device == 0x1111) {
      snprintf(path, len, "/sys/bus/pci/devices/%s/resource0", e->d_name);
      found = 0;
    }
  }
  closedir(d);
  return found;
}

static int paint(struct size s) {
  char path[600];
  if (find_lfb(path, sizeof path)) {
    fprintf(stderr, "vbe-storm: no 1234:1111 display device\n");
    return -1;
  }
  int fd = open(path, O_RDWR | O_SYNC);
  if (fd < 0) {
    fprintf(stderr, "vbe-storm: %s: %s\n", path, strerror(errno));
    return -1;
  }
  size_t bytes = (size_t)s.w * s.h * 4;
  uint32_t *fb = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (fb == MAP_FAILED) {
    fprintf(stderr, "vbe-storm: mmap %s: %s\n", path, strerror(errno));
    return -1;
  }
  for (unsigned y = 0; y < s.h; y++)
    for (unsigned x = 0; x < s.w; x++)
      fb[(size_t)y * s.w + x] = ((x & 255u) << 16) | ((y & 255u) << 8) | (((x >> 8) * 16 + (y >> 8) * 64 + 7) & 255u);
  munmap(fb, bytes);
  return 0;
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  long count = 200, rate = 100;
  struct size sizes[16] = { { 640, 480 }, { 800, 600 }, { 1024, 768 }, { 320, 240 }, { 720, 400 } };
  unsigned nsizes = 5;
  struct size final = { 800, 600 };
  int text = 0, opt;
  while ((opt = getopt(argc, argv, "n:r:s:f:t")) != -1) {
    switch (opt) {
      case 'n': count = strtol(optarg, NULL, 10); break;
      case 'r': rate = strtol(optarg, NULL, 10); break;
      case 's': {
        nsizes = 0;
        for (const char *p = optarg; p && *p && nsizes < 16; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
          if (parse_size(p, &sizes[nsizes++])) { fprintf(stderr, "vbe-storm: bad size list %s\n", optarg); return 2; }
        break;
      }
      case 'f':
        if (parse_size(optarg, &final)) { fprintf(stderr, "vbe-storm: bad final size %s\n", optarg); return 2; }
        break;
      case 't': text = 1; break;
      default:
        fprintf(stderr, "usage: vbe-storm [-n switches] [-r per_second] [-s WxH,...] [-f WxH] [-t]\n");
        return 2;
    }
  }
  if (count < 0 || rate < 1 || rate > 10000 || nsizes == 0) { fprintf(stderr, "vbe-storm: bad arguments\n"); return 2; }
  /* A 16-bit access to the data port 0x1CF also touches 0x1D0: allow 0x1CE..0x1D0. */
  if (ioperm(VBE_INDEX, 3, 1)) { fprintf(stderr, "vbe-storm: ioperm: %s\n", strerror(errno)); return 1; }
  uint16_t id = vbe_read(VBE_ID);
  if (id < 0xB0C0 || id > 0xB0CF) { fprintf(stderr, "vbe-storm: no Bochs VBE here (id %#x)\n", id); return 1; }
  if (text) {
    vbe_write(VBE_ENABLE, 0);
    printf("vbe-storm: text mode\n");
    return 0;
  }
  double start = now_ms(), period = 1000.0 / (double)rate;
  for (long i = 0; i < count; i++) {
    set_mode(sizes[i % nsizes]);
    double next = start + (double)(i + 1) * period, wait = next - now_ms();
    if (wait > 0) usleep((useconds_t)(wait * 1000));
  }
  set_mode(final);
  if (vbe_read(VBE_XRES) != final.w || vbe_read(VBE_YRES) != final.h) {
    fprintf(stderr, "vbe-storm: the device did not take %ux%u\n", final.w, final.h);
    return 1;
  }
  if (paint(final)) return 1;
  printf("vbe-storm: done %ld switches in %.0f ms, final %ux%u\n", count, now_ms() - start, final.w, final.h);
  return 0;
}
