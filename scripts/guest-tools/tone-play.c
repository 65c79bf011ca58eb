/*
 * tone-play: plays sine tones through the guest's first sound card with raw ALSA PCM ioctls (no
 * alsa-lib in the demo guest): s16le, stereo, 48 kHz, each frequency for a while in turn. A guest
 * tool for kju's sound tests; built static on the host by scripts/build-demo-guest.sh.
 *
 * usage: tone-play [-d /dev/snd/pcmC0D0p] [-s seconds_each] [-a amplitude] FREQ [FREQ...]
 * Prints "tone-play: start <freq>" before each tone's first write, "tone-play: underrun" on each
 * xrun (it recovers and goes on), and "tone-play: done" after the drain.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <sound/asound.h>

#define RATE 48000
#define CHANNELS 2
#define PERIOD_FRAMES 480
#define PERIODS 8

static struct snd_mask *mask(struct snd_pcm_hw_params *p, int param) {
  return &p->masks[param - SNDRV_PCM_HW_PARAM_FIRST_MASK];
}

static struct snd_interval *interval(struct snd_pcm_hw_params *p, int param) {
  return &p->intervals[param - SNDRV_PCM_HW_PARAM_FIRST_INTERVAL];
}

static void set_mask(struct snd_pcm_hw_params *p, int param, unsigned bit) {
  struct snd_mask *m = mask(p, param);
  memset(m->bits, 0, sizeof m->bits);
  m->bits[bit >> 5] |= 1u << (bit & 31);
}

static void set_int(struct snd_pcm_hw_params *p, int param, unsigned value) {
  struct snd_interval *i = interval(p, param);
  i->min = i->max = value;
  i->integer = 1;
}

static void die(const char *what) {
  fprintf(stderr, "tone-play: %s: %s\n", what, strerror(errno));
  exit(1);
}

int main(int argc, char **argv) {
  const char *dev = "/dev/snd/pcmC0D0p";
  double seconds = 1.5, amplitude = 0.5;
  int opt;
  while ((opt = getopt(argc, argv, "d:s:a:")) != -1) {
    if (opt == 'd') dev = optarg;
    else if (opt == 's') seconds = atof(optarg);
    else if (opt == 'a') amplitude = atof(optarg);
    else return fprintf(stderr, "usage: tone-play [-d dev] [-s seconds] [-a amplitude] FREQ...\n"), 2;
  }
  if (optind >= argc) return fprintf(stderr, "usage: tone-play [-d dev] [-s seconds] [-a amplitude] FREQ...\n"), 2;

  int fd = open(dev, O_RDWR);
  if (fd < 0) die(dev);

  struct snd_pcm_hw_params hw;
  memset(&hw, 0, sizeof hw);
  for (int m = SNDRV_PCM_HW_PARAM_FIRST_MASK; m <= SNDRV_PCM_HW_PARAM_LAST_MASK; m++) memset(mask(&hw, m)->bits, 0xff, sizeof mask(&hw, m)->bits);
  for (int i = SNDRV_PCM_HW_PARAM_FIRST_INTERVAL; i <= SNDRV_PCM_HW_PARAM_LAST_INTERVAL; i++) interval(&hw, i)->max = UINT_MAX;
  hw.rmask = ~0u;
  hw.info = ~0u;
  set_mask(&hw, SNDRV_PCM_HW_PARAM_ACCESS, SNDRV_PCM_ACCESS_RW_INTERLEAVED);
  set_mask(&hw, SNDRV_PCM_HW_PARAM_FORMAT, SNDRV_PCM_FORMAT_S16_LE);
  set_mask(&hw, SNDRV_PCM_HW_PARAM_SUBFORMAT, SNDRV_PCM_SUBFORMAT_STD);
  set_int(&hw, SNDRV_PCM_HW_PARAM_SAMPLE_BITS, 16);
  set_int(&hw, SNDRV_PCM_HW_PARAM_FRAME_BITS, 16 * CHANNELS);
  set_int(&hw, SNDRV_PCM_HW_PARAM_CHANNELS, CHANNELS);
  set_int(&hw, SNDRV_PCM_HW_PARAM_RATE, RATE);
  set_int(&hw, SNDRV_PCM_HW_PARAM_PERIOD_SIZE, PERIOD_FRAMES);
  set_int(&hw, SNDRV_PCM_HW_PARAM_PERIODS, PERIODS);
  if (ioctl(fd, SNDRV_PCM_IOCTL_HW_PARAMS, &hw) < 0) die("HW_PARAMS");
  unsigned period = interval(&hw, SNDRV_PCM_HW_PARAM_PERIOD_SIZE)->min;
  unsigned buffer = interval(&hw, SNDRV_PCM_HW_PARAM_BUFFER_SIZE)->min;

  struct snd_pcm_sw_params sw;
  memset(&sw, 0, sizeof sw);
  sw.period_step = 1;
  sw.avail_min = period;
  sw.start_threshold = period * 2;
  sw.stop_threshold = buffer;
  sw.boundary = buffer;
  while (sw.boundary * 2 <= LONG_MAX - buffer) sw.boundary *= 2;
  if (ioctl(fd, SNDRV_PCM_IOCTL_SW_PARAMS, &sw) < 0) die("SW_PARAMS");
  if (ioctl(fd, SNDRV_PCM_IOCTL_PREPARE) < 0) die("PREPARE");
  fprintf(stderr, "tone-play: %s period %u buffer %u frames\n", dev, period, buffer);

  short *buf = malloc(sizeof(short) * CHANNELS * period);
  double phase = 0;
  for (int t = optind; t < argc; t++) {
    double freq = atof(argv[t]);
    long frames_left = (long)(seconds * RATE);
    printf("tone-play: start %g\n", freq);
    fflush(stdout);
    while (frames_left > 0) {
      unsigned n = frames_left < (long)period ? (unsigned)frames_left : period;
      for (unsigned i = 0; i < n; i++) {
        short v = (short)lrint(amplitude * 32767 * sin(phase));
        phase += 2 * M_PI * freq / RATE;
        if (phase > 2 * M_PI) phase -= 2 * M_PI;
        for (int c = 0; c < CHANNELS; c++) buf[i * CHANNELS + c] = v;
      }
      struct snd_xferi x = { .result = 0, .buf = buf, .frames = n };
      while (ioctl(fd, SNDRV_PCM_IOCTL_WRITEI_FRAMES, &x) < 0) {
        if (errno == EPIPE) {
          printf("tone-play: underrun\n");
          fflush(stdout);
          if (ioctl(fd, SNDRV_PCM_IOCTL_PREPARE) < 0) die("PREPARE after underrun");
        } else if (errno != EINTR && errno != EAGAIN) {
          die("WRITEI_FRAMES");
        }
      }
      frames_left -= x.result;
    }
  }
  ioctl(fd, SNDRV_PCM_IOCTL_DRAIN);
  close(fd);
  printf("tone-play: done\n");
  return 0;
}
